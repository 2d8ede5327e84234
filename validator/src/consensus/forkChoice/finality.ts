// Casper-FFG finality over per-slot checkpoints, with a second vote inside the slot (docs/consensus.md,
// "Justification", "Finalization" and "Finality within the slot").
//
//   justified(A)                       the anchor is justified.
//   justified(S) and votes S -> T      T is justified once validators whose counted vote for T's slot has a
//   with >= 2/3 of the weight          justified source and target T weigh >= 2/3 of the total (sources may differ).
//   justified(S) and link S -> T with  S is finalized ("k = 1" rule), where T.slot = S.slot + 1 and T is on S's
//   >= 2/3 of the weight               chain. T exists even when slot S.slot + 1 is empty (its root is then S.root).
//   justified(S) and finalize votes    S is finalized in its own slot ("fast" finality): validators vote to finalize
//   for S with >= 2/3 of the weight    S once they saw it justified.
//
// Each validator counts at most once per target slot, and once per slot for finalize votes (its first valid vote; a
// second one is a double vote, left to the slashing index). Weights are those of the last finalized block: the
// tracker asks `weightsAt` for the new table each time finality moves (the safety argument holds one table between
// two finalized checkpoints). Pure: votes and weights go in, checkpoints come out through getters and callbacks.
import {
  type AttestationData,
  attestationDataEquals,
  type BlockTreeView,
  type Checkpoint,
  checkpointEquals,
  checkpointKey,
  type IndexedAttestation,
  type IndexedFinalizeVote,
  isCheckpointAncestor,
  isRoot,
  isSlot,
  isSupermajority,
  type WeightTable,
} from "./checkpoint.ts";
import { FinalityError } from "./errors.ts";

export interface FinalityTrackerOptions {
  /** The first justified and finalized checkpoint: genesis, or a trusted weak-subjectivity checkpoint. */
  readonly anchor: Checkpoint;
  /** Voting weight per validator (stake x AI score) at the anchor. Replace it with `setWeights`. */
  readonly weights: WeightTable;
}

/** How a checkpoint was finalized, and by whom: what a finality certificate must prove. */
export type Finalization =
  | {
      readonly kind: "link";
      /** The previous finalized checkpoint: the weights were its block's. */
      readonly parent: Checkpoint;
      readonly target: Checkpoint;
      readonly voters: ReadonlySet<number>;
    }
  | { readonly kind: "fast"; readonly parent: Checkpoint; readonly voters: ReadonlySet<number> }
  /** Finality learned from a verified finality certificate (sync), which is the proof. */
  | { readonly kind: "certificate"; readonly parent: Checkpoint; readonly certificate: Uint8Array };

export interface FinalityTrackerModules {
  /** Block ancestry, normally the node's `ForkChoice`. */
  readonly blocks: BlockTreeView;
  readonly onJustified?: (checkpoint: Checkpoint) => void;
  readonly onFinalized?: (checkpoint: Checkpoint, how: Finalization) => void;
  /**
   * The weight table at a newly finalized checkpoint's block, used from then on; undefined keeps the current one
   * (e.g. the block's weights are not known). Called synchronously when finality moves.
   */
  readonly weightsAt?: (checkpoint: Checkpoint) => WeightTable | undefined;
  /**
   * The rules produced a finalization that conflicts with the finalized checkpoint. This needs >= 1/3 of the weight
   * to have equivocated (accountable safety); finality does not move, and operators must intervene.
   */
  readonly onFinalityConflict?: (conflict: FinalityConflict) => void;
}

export interface FinalityConflict {
  readonly finalized: Checkpoint;
  readonly candidate: Checkpoint;
}

/**
 * What happened to a vote:
 * - counted: its source is justified and it was added to its target's tally;
 * - pending: its source is not (yet) justified; it counts if the source becomes justified before finalization
 *   passes its target;
 * - duplicate: the same vote was already received;
 * - conflicting: the validator already has a different vote for this target slot (a double vote; not counted);
 * - stale: its target slot is at or before the finalized slot, or its source is before the finalized slot.
 */
export type VoteStatus = "counted" | "pending" | "duplicate" | "conflicting" | "stale";

interface LinkTally {
  readonly source: Checkpoint;
  readonly voters: Set<number>;
  weight: bigint;
}

interface TargetTally {
  readonly target: Checkpoint;
  /** Validators whose vote for this target has a justified source. */
  readonly voters: Set<number>;
  weight: bigint;
  readonly links: Map<string, LinkTally>;
}

interface Vote {
  readonly validatorIndex: number;
  readonly data: AttestationData;
}

interface FinalizeTally {
  readonly checkpoint: Checkpoint;
  readonly voters: Set<number>;
  weight: bigint;
}

export class FinalityTracker {
  private readonly blocks: BlockTreeView;
  private readonly hooks: Omit<FinalityTrackerModules, "blocks">;
  private weights = new Map<number, bigint>();
  private total = 0n;
  private finalizedCp: Checkpoint;
  private justifiedCp: Checkpoint;
  private readonly finalizedLog: Checkpoint[] = [];
  private readonly conflictLog: FinalityConflict[] = [];
  private readonly justifiedSet = new Map<string, Checkpoint>();
  /** The vote counted (or pending) for each validator, per target slot. */
  private readonly votesBySlot = new Map<number, Map<number, AttestationData>>();
  private readonly tallies = new Map<string, TargetTally>();
  /** Votes waiting for their source to be justified, by source checkpoint key. */
  private readonly pending = new Map<string, Vote[]>();
  /** Links already checked against the block tree, by "source|target" key, so an aggregate's votes check it once. */
  private readonly validLinks = new Set<string>();
  /** Newly justified checkpoints whose pending votes still have to be counted. */
  private readonly toRelease: string[] = [];
  /** The finalize vote counted (or pending) for each validator, per slot. */
  private readonly finalizeVotesBySlot = new Map<number, Map<number, Checkpoint>>();
  /** Finalize votes for justified checkpoints, by checkpoint key. */
  private readonly finalizeTallies = new Map<string, FinalizeTally>();
  /** Finalize votes waiting for their checkpoint to be justified, by checkpoint key. */
  private readonly finalizePending = new Map<string, number[]>();
  /** A weight table to switch to once the current update is done (finality moved). */
  private nextWeights: WeightTable | undefined;

  constructor(opts: FinalityTrackerOptions, modules: FinalityTrackerModules) {
    if (!isRoot(opts.anchor.root) || !isSlot(opts.anchor.slot)) {
      throw new FinalityError({ code: "FINALITY_INVALID_ANCHOR" });
    }
    this.blocks = modules.blocks;
    this.hooks = modules;
    const anchor = { slot: opts.anchor.slot, root: opts.anchor.root };
    this.finalizedCp = anchor;
    this.justifiedCp = anchor;
    this.finalizedLog.push(anchor);
    this.justifiedSet.set(checkpointKey(anchor), anchor);
    this.replaceWeights(opts.weights);
  }

  /** The latest finalized checkpoint. */
  get finalized(): Checkpoint {
    return this.finalizedCp;
  }

  /**
   * The justified checkpoint with the highest slot among those on the finalized checkpoint's chain: the source an
   * honest validator puts in its next attestation and the root fork choice starts from.
   */
  get justified(): Checkpoint {
    return this.justifiedCp;
  }

  /** Every checkpoint this tracker finalized, in order, starting with the anchor. */
  get finalizedHistory(): readonly Checkpoint[] {
    return this.finalizedLog;
  }

  /** Finalizations the rules produced that conflicted with the finalized checkpoint (empty unless >= 1/3 cheated). */
  get conflicts(): readonly FinalityConflict[] {
    return this.conflictLog;
  }

  get totalWeight(): bigint {
    return this.total;
  }

  /**
   * Marks justified a checkpoint this node saw justified before a restart. The votes that justified it may only ever
   * have been gossiped, never carried in a block, so replaying blocks cannot rebuild it; yet validators may already
   * have used it as their source, and slashing protection then refuses any older one. Only a checkpoint after the
   * finalized one and on its chain is taken. Returns whether it was.
   */
  restoreJustified(cp: Checkpoint): boolean {
    if (!isRoot(cp.root) || !isSlot(cp.slot) || cp.slot <= this.finalizedCp.slot) return false;
    if (!isCheckpointAncestor(this.blocks, this.finalizedCp, cp)) return false;
    if (!this.justifiedSet.has(checkpointKey(cp))) {
      this.justify({ slot: cp.slot, root: cp.root });
      this.settle();
    }
    return true;
  }

  /** Whether `cp` is justified; checkpoints before the finalized slot are forgotten and report false. */
  isJustified(cp: Checkpoint): boolean {
    return this.justifiedSet.has(checkpointKey(cp));
  }

  /** Weight of the votes with a justified source counted for target `cp` (0 once pruned by finalization). */
  getTargetWeight(cp: Checkpoint): bigint {
    return this.tallies.get(checkpointKey(cp))?.weight ?? 0n;
  }

  /** Weight of the counted votes on the link source -> target. */
  getLinkWeight(source: Checkpoint, target: Checkpoint): bigint {
    return this.tallies.get(checkpointKey(target))?.links.get(checkpointKey(source))?.weight ?? 0n;
  }

  /**
   * Applies one validator's FFG vote. Throws FinalityError when the vote is malformed or not a valid link (never
   * countable) or names an unknown block (countable later); otherwise returns what happened to it.
   */
  onAttestation(attestation: IndexedAttestation): VoteStatus {
    const { validatorIndex } = attestation;
    checkShape(validatorIndex, attestation.data);
    // Own copy: checkpoints from votes become `justified` / `finalized`, which callers must not be able to mutate.
    const d = attestation.data;
    const source = { slot: d.source.slot, root: d.source.root };
    const target = { slot: d.target.slot, root: d.target.root };
    const data: AttestationData = { slot: d.slot, headRoot: d.headRoot, source, target };
    if (target.slot !== data.slot) {
      throw new FinalityError({ code: "FINALITY_INVALID_LINK", reason: "target slot is not the attestation slot" });
    }
    if (source.slot >= target.slot) {
      throw new FinalityError({ code: "FINALITY_INVALID_LINK", reason: "source slot not before target slot" });
    }
    // Nothing at or before the finalized slot can change; sources before it belong to a history already settled.
    if (target.slot <= this.finalizedCp.slot || source.slot < this.finalizedCp.slot) return "stale";
    const prior = this.votesBySlot.get(target.slot)?.get(validatorIndex);
    if (prior !== undefined) return attestationDataEquals(prior, data) ? "duplicate" : "conflicting";
    this.checkLink(source, target);

    let slotVotes = this.votesBySlot.get(target.slot);
    if (slotVotes === undefined) {
      slotVotes = new Map();
      this.votesBySlot.set(target.slot, slotVotes);
    }
    slotVotes.set(validatorIndex, data);
    const vote = { validatorIndex, data };
    const sourceKey = checkpointKey(source);
    if (!this.justifiedSet.has(sourceKey)) {
      const waiting = this.pending.get(sourceKey);
      if (waiting === undefined) this.pending.set(sourceKey, [vote]);
      else waiting.push(vote);
      return "pending";
    }
    this.count(vote);
    this.settle();
    return "counted";
  }

  /**
   * Applies one validator's finalize vote for `checkpoint`. Throws FinalityError when malformed or when the checkpoint
   * names an unknown block (countable later) or a block after its slot; otherwise returns what happened to it. A vote
   * for a checkpoint not (yet) justified waits, and counts once it is.
   */
  onFinalizeVote(vote: IndexedFinalizeVote): VoteStatus {
    const { validatorIndex } = vote;
    const bad = (reason: string) => new FinalityError({ code: "FINALITY_MALFORMED_ATTESTATION", reason });
    if (!isSlot(validatorIndex)) throw bad("validator index");
    const c = vote.checkpoint;
    if (typeof c !== "object" || c === null || !isSlot(c.slot) || !isRoot(c.root)) throw bad("finalize checkpoint");
    const cp = { slot: c.slot, root: c.root };
    if (cp.slot <= this.finalizedCp.slot) return "stale";
    const prior = this.finalizeVotesBySlot.get(cp.slot)?.get(validatorIndex);
    if (prior !== undefined) return checkpointEquals(prior, cp) ? "duplicate" : "conflicting";
    const blockSlot = this.blocks.getBlockSlot(cp.root);
    if (blockSlot === undefined) throw new FinalityError({ code: "FINALITY_UNKNOWN_BLOCK", root: cp.root });
    if (blockSlot > cp.slot) {
      throw new FinalityError({ code: "FINALITY_INVALID_LINK", reason: "checkpoint block is after its slot" });
    }
    // A checkpoint off the finalized chain can never be finalized.
    if (!isCheckpointAncestor(this.blocks, this.finalizedCp, cp)) return "stale";
    let slotVotes = this.finalizeVotesBySlot.get(cp.slot);
    if (slotVotes === undefined) {
      slotVotes = new Map();
      this.finalizeVotesBySlot.set(cp.slot, slotVotes);
    }
    slotVotes.set(validatorIndex, cp);
    const key = checkpointKey(cp);
    if (!this.justifiedSet.has(key)) {
      const waiting = this.finalizePending.get(key);
      if (waiting === undefined) this.finalizePending.set(key, [validatorIndex]);
      else waiting.push(validatorIndex);
      return "pending";
    }
    this.countFinalize(cp, validatorIndex);
    this.settle();
    return "counted";
  }

  /**
   * Finalizes `cp` on the word of a verified finality certificate (a node that missed the votes: they may only ever
   * have been gossiped). Only a checkpoint after the finalized one and on its chain is taken; it is justified and
   * finalized as if its votes had been counted. Returns undefined when it was, or why not.
   */
  adoptFinalized(
    cp: Checkpoint,
    certificate: Uint8Array,
  ): undefined | "malformed" | "not_after_finalized" | "unknown_block" | "conflicts_with_finalized" | "pending" {
    if (!isRoot(cp.root) || !isSlot(cp.slot)) return "malformed";
    if (cp.slot <= this.finalizedCp.slot) return "not_after_finalized";
    const blockSlot = this.blocks.getBlockSlot(cp.root);
    if (blockSlot === undefined || blockSlot > cp.slot) return "unknown_block";
    if (!isCheckpointAncestor(this.blocks, this.finalizedCp, cp)) return "conflicts_with_finalized";
    const checkpoint = { slot: cp.slot, root: cp.root };
    if (!this.justifiedSet.has(checkpointKey(checkpoint))) this.justify(checkpoint);
    this.finalize(checkpoint, { kind: "certificate", parent: this.finalizedCp, certificate });
    this.settle();
    return this.finalizedCp.slot === cp.slot && this.finalizedCp.root === cp.root ? undefined : "pending";
  }

  /** Weight of the finalize votes counted for `cp` (0 once pruned by finalization, or while `cp` is not justified). */
  getFinalizeWeight(cp: Checkpoint): bigint {
    return this.finalizeTallies.get(checkpointKey(cp))?.weight ?? 0n;
  }

  /** The weight table in use (the last finalized block's). */
  get weightTable(): WeightTable {
    return this.weights;
  }

  /**
   * Replaces the weight table and re-evaluates every open tally with it. Justification and finalization already
   * reached are never undone. The safety argument assumes the table changes only at finalized checkpoints.
   */
  setWeights(weights: WeightTable): void {
    this.nextWeights = weights;
    this.settle();
  }

  /**
   * Runs what an update set in motion until nothing changes: votes released by new justifications are counted, and a
   * weight table due to a finalization replaces the current one and re-evaluates every open tally (which may justify
   * or finalize more).
   */
  private settle(): void {
    for (;;) {
      this.releasePending();
      const weights = this.nextWeights;
      if (weights === undefined) return;
      this.nextWeights = undefined;
      this.replaceWeights(weights);
      const tallies = [...this.tallies.values()].sort((a, b) => a.target.slot - b.target.slot);
      for (const tally of tallies) {
        tally.weight = this.sum(tally.voters);
        for (const link of tally.links.values()) link.weight = this.sum(link.voters);
      }
      const finalizeTallies = [...this.finalizeTallies.values()].sort((a, b) => a.checkpoint.slot - b.checkpoint.slot);
      for (const t of finalizeTallies) t.weight = this.sum(t.voters);
      for (const tally of tallies) {
        if (this.tallies.get(checkpointKey(tally.target)) !== tally) continue; // pruned by a finalization meanwhile
        this.evaluate(tally, [...tally.links.values()]);
      }
      for (const t of finalizeTallies) {
        if (this.finalizeTallies.get(checkpointKey(t.checkpoint)) !== t) continue;
        this.evaluateFinalize(t);
      }
    }
  }

  private replaceWeights(weights: WeightTable): void {
    const copy = new Map<number, bigint>();
    let total = 0n;
    for (const [index, weight] of weights) {
      if (!isSlot(index) || typeof weight !== "bigint" || weight < 0n) {
        throw new FinalityError({ code: "FINALITY_INVALID_WEIGHTS", reason: `validator ${index}` });
      }
      copy.set(index, weight);
      total += weight;
    }
    this.weights = copy;
    this.total = total;
  }

  private sum(voters: Iterable<number>): bigint {
    let s = 0n;
    for (const v of voters) s += this.weights.get(v) ?? 0n;
    return s;
  }

  /** A link is valid when both checkpoints' blocks are known, sit at or before their slots, and target descends from source. */
  private checkLink(source: Checkpoint, target: Checkpoint): void {
    const key = `${checkpointKey(source)}|${checkpointKey(target)}`;
    if (this.validLinks.has(key)) return;
    for (const cp of [source, target]) {
      const blockSlot = this.blocks.getBlockSlot(cp.root);
      if (blockSlot === undefined) throw new FinalityError({ code: "FINALITY_UNKNOWN_BLOCK", root: cp.root });
      if (blockSlot > cp.slot) {
        throw new FinalityError({ code: "FINALITY_INVALID_LINK", reason: "checkpoint block is after its slot" });
      }
    }
    if (!isCheckpointAncestor(this.blocks, source, target)) {
      throw new FinalityError({ code: "FINALITY_INVALID_LINK", reason: "target does not descend from source" });
    }
    this.validLinks.add(key);
  }

  private count(vote: Vote): void {
    const { validatorIndex, data } = vote;
    const targetKey = checkpointKey(data.target);
    let tally = this.tallies.get(targetKey);
    if (tally === undefined) {
      tally = { target: data.target, voters: new Set(), weight: 0n, links: new Map() };
      this.tallies.set(targetKey, tally);
    }
    if (tally.voters.has(validatorIndex)) return;
    const weight = this.weights.get(validatorIndex) ?? 0n;
    tally.voters.add(validatorIndex);
    tally.weight += weight;
    const sourceKey = checkpointKey(data.source);
    let link = tally.links.get(sourceKey);
    if (link === undefined) {
      link = { source: data.source, voters: new Set(), weight: 0n };
      tally.links.set(sourceKey, link);
    }
    link.voters.add(validatorIndex);
    link.weight += weight;
    this.evaluate(tally, [link]);
  }

  private evaluate(tally: TargetTally, links: readonly LinkTally[]): void {
    const key = checkpointKey(tally.target);
    if (!this.justifiedSet.has(key) && isSupermajority(tally.weight, this.total)) this.justify(tally.target);
    for (const link of links) {
      // k = 1 finalization: a supermajority link from a justified checkpoint to the checkpoint of the next slot.
      if (link.source.slot + 1 === tally.target.slot && isSupermajority(link.weight, this.total)) {
        this.finalize(link.source, {
          kind: "link",
          parent: this.finalizedCp,
          target: tally.target,
          voters: link.voters,
        });
      }
    }
  }

  private countFinalize(cp: Checkpoint, validatorIndex: number): void {
    const key = checkpointKey(cp);
    let tally = this.finalizeTallies.get(key);
    if (tally === undefined) {
      tally = { checkpoint: cp, voters: new Set(), weight: 0n };
      this.finalizeTallies.set(key, tally);
    }
    if (tally.voters.has(validatorIndex)) return;
    tally.voters.add(validatorIndex);
    tally.weight += this.weights.get(validatorIndex) ?? 0n;
    this.evaluateFinalize(tally);
  }

  /** Fast finality: a justified checkpoint with finalize votes from >= 2/3 of the weight is finalized. */
  private evaluateFinalize(tally: FinalizeTally): void {
    if (isSupermajority(tally.weight, this.total)) {
      this.finalize(tally.checkpoint, { kind: "fast", parent: this.finalizedCp, voters: tally.voters });
    }
  }

  private justify(cp: Checkpoint): void {
    const key = checkpointKey(cp);
    this.justifiedSet.set(key, cp);
    if (cp.slot > this.justifiedCp.slot && isCheckpointAncestor(this.blocks, this.finalizedCp, cp)) {
      this.justifiedCp = cp;
    }
    if (this.pending.has(key) || this.finalizePending.has(key)) this.toRelease.push(key);
    this.hooks.onJustified?.(cp);
  }

  /** Counts votes that were waiting for a source that has just been justified (which may justify more). */
  private releasePending(): void {
    for (let key = this.toRelease.pop(); key !== undefined; key = this.toRelease.pop()) {
      const votes = this.pending.get(key);
      this.pending.delete(key);
      for (const vote of votes ?? []) {
        if (vote.data.target.slot > this.finalizedCp.slot) this.count(vote);
      }
      const finalizers = this.finalizePending.get(key);
      this.finalizePending.delete(key);
      const cp = this.justifiedSet.get(key);
      if (finalizers === undefined || cp === undefined || cp.slot <= this.finalizedCp.slot) continue;
      for (const v of finalizers) this.countFinalize(cp, v);
    }
  }

  private finalize(cp: Checkpoint, how: Finalization): void {
    const fin = this.finalizedCp;
    if (cp.slot <= fin.slot) {
      if (!isCheckpointAncestor(this.blocks, cp, fin)) this.recordConflict(cp);
      return;
    }
    // Finality moved already in this update: the next checkpoint is judged under the new finalized block's weights,
    // once settle() has switched to them (it re-evaluates every open tally).
    if (this.nextWeights !== undefined) return;
    if (!isCheckpointAncestor(this.blocks, fin, cp)) {
      this.recordConflict(cp);
      return;
    }
    this.finalizedCp = cp;
    this.finalizedLog.push(cp);
    // Voter sets are live tallies that pruning drops: hand out copies.
    const proof: Finalization = how.kind === "certificate" ? how : { ...how, voters: new Set(how.voters) };
    this.pruneBefore(cp);
    // From now on votes weigh as at the new finalized block (applied by settle(), after this update).
    const next = this.hooks.weightsAt?.(cp);
    if (next !== undefined) this.nextWeights = next;
    this.hooks.onFinalized?.(cp, proof);
  }

  private recordConflict(candidate: Checkpoint): void {
    const conflict = { finalized: this.finalizedCp, candidate };
    this.conflictLog.push(conflict);
    this.hooks.onFinalityConflict?.(conflict);
  }

  /** Forgets what finalization at `fin` settled: votes and tallies up to its slot, justifications before it. */
  private pruneBefore(fin: Checkpoint): void {
    for (const slot of this.votesBySlot.keys()) if (slot <= fin.slot) this.votesBySlot.delete(slot);
    for (const [key, tally] of this.tallies) if (tally.target.slot <= fin.slot) this.tallies.delete(key);
    for (const [key, cp] of this.justifiedSet) if (cp.slot < fin.slot) this.justifiedSet.delete(key);
    for (const slot of this.finalizeVotesBySlot.keys()) if (slot <= fin.slot) this.finalizeVotesBySlot.delete(slot);
    for (const [key, t] of this.finalizeTallies) if (t.checkpoint.slot <= fin.slot) this.finalizeTallies.delete(key);
    for (const key of this.finalizePending.keys()) {
      const slot = Number(key.slice(0, key.indexOf(":")));
      if (slot <= fin.slot) this.finalizePending.delete(key);
    }
    this.validLinks.clear(); // the block view may prune forks now; check links against it afresh
    for (const [key, votes] of this.pending) {
      const live = votes.filter((v) => v.data.source.slot >= fin.slot && v.data.target.slot > fin.slot);
      if (live.length === 0) this.pending.delete(key);
      else this.pending.set(key, live);
    }
    // The latest justified checkpoint must lie on the new finalized chain; normally it already does.
    let best = fin;
    for (const cp of this.justifiedSet.values()) {
      if (cp.slot > best.slot && isCheckpointAncestor(this.blocks, fin, cp)) best = cp;
    }
    if (!isCheckpointAncestor(this.blocks, fin, this.justifiedCp) || best.slot > this.justifiedCp.slot) {
      this.justifiedCp = best;
    }
  }
}

function checkShape(validatorIndex: unknown, data: AttestationData | undefined): void {
  const bad = (reason: string) => new FinalityError({ code: "FINALITY_MALFORMED_ATTESTATION", reason });
  if (!isSlot(validatorIndex)) throw bad("validator index");
  if (typeof data !== "object" || data === null) throw bad("data");
  if (!isSlot(data.slot)) throw bad("slot");
  if (!isRoot(data.headRoot)) throw bad("head root");
  for (const [name, cp] of [
    ["source", data.source],
    ["target", data.target],
  ] as const) {
    if (typeof cp !== "object" || cp === null || !isSlot(cp.slot) || !isRoot(cp.root)) throw bad(name);
  }
}
