// LMD-GHOST fork choice over the block tree (docs/consensus.md, "Fork choice"). Pure: blocks, votes, weights and
// checkpoints go in as plain values, the head comes out; the caller persists nothing through it.
import {
  type BlockTreeView,
  type Checkpoint,
  isCheckpointAncestor,
  isRoot,
  isSlot,
  type Root,
  type WeightTable,
} from "./checkpoint.ts";
import { ForkChoiceError } from "./errors.ts";
import { ProtoArray } from "./protoArray.ts";

export interface ForkChoiceOptions {
  /**
   * The block fork choice starts from: genesis, or a trusted (weak-subjectivity) checkpoint block. It is the first
   * finalized and justified checkpoint.
   */
  readonly anchor: Checkpoint;
  /** Initial weights; replace them with `setWeights`. */
  readonly weights?: WeightTable;
}

interface LatestMessage {
  /** The block this vote's weight currently sits on in the tree (undefined before the first application). */
  current: Root | undefined;
  /** The block of the newest vote; moved to `current` at the next head computation. */
  next: Root;
  /** Slot of the newest vote: only a vote from a later slot replaces it (latest message driven). */
  nextSlot: number;
}

export class ForkChoice implements BlockTreeView {
  private readonly tree: ProtoArray;
  private readonly votes = new Map<number, LatestMessage>();
  private weights = new Map<number, bigint>();
  /** Weight each validator's vote currently contributes to the tree. */
  private readonly appliedWeights = new Map<number, bigint>();
  private readonly equivocating = new Set<number>();
  private dirty = false;
  private finalizedCp: Checkpoint;
  private justifiedCp: Checkpoint;

  constructor(opts: ForkChoiceOptions) {
    assertRoot(opts.anchor.root);
    assertSlot(opts.anchor.slot);
    this.tree = new ProtoArray(opts.anchor.root, opts.anchor.slot);
    this.finalizedCp = { slot: opts.anchor.slot, root: opts.anchor.root };
    this.justifiedCp = this.finalizedCp;
    if (opts.weights) this.setWeights(opts.weights);
  }

  get finalized(): Checkpoint {
    return this.finalizedCp;
  }

  get justified(): Checkpoint {
    return this.justifiedCp;
  }

  /** Number of blocks held. */
  get size(): number {
    return this.tree.size;
  }

  /**
   * Adds a block. Its parent must be known, its slot after the parent's, and it must be on a chain through the
   * finalized checkpoint (so its slot is after the finalized slot). Adding a known block again is a no-op.
   */
  onBlock(root: Root, parentRoot: Root, slot: number): void {
    assertRoot(root);
    assertRoot(parentRoot);
    assertSlot(slot);
    const known = this.tree.getNode(root);
    if (known !== undefined) {
      if (known.parentRoot === parentRoot && known.slot === slot) return;
      throw new ForkChoiceError({ code: "FORK_CHOICE_BLOCK_ROOT_REUSED", root });
    }
    const parent = this.tree.getNode(parentRoot);
    if (parent === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_PARENT", root, parentRoot });
    const fin = this.finalizedCp;
    if (slot <= fin.slot || this.tree.ancestorAtSlot(parentRoot, fin.slot) !== fin.root) {
      throw new ForkChoiceError({ code: "FORK_CHOICE_NOT_DESCENDANT_OF_FINALIZED", root });
    }
    this.tree.addBlock(root, parentRoot, slot);
  }

  /**
   * Records validator `validatorIndex`'s head vote for `headRoot`, cast in `slot`. Only a vote from a later slot than
   * the validator's latest replaces it; returns whether this vote became the latest message. Votes of validators
   * known to equivocate are ignored.
   */
  onAttestation(validatorIndex: number, headRoot: Root, slot: number): boolean {
    assertValidatorIndex(validatorIndex);
    assertRoot(headRoot);
    assertSlot(slot);
    const block = this.tree.getNode(headRoot);
    if (block === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_BLOCK", root: headRoot });
    if (slot < block.slot) {
      throw new ForkChoiceError({
        code: "FORK_CHOICE_VOTE_BEFORE_BLOCK",
        root: headRoot,
        blockSlot: block.slot,
        voteSlot: slot,
      });
    }
    if (this.equivocating.has(validatorIndex)) return false;
    const vote = this.votes.get(validatorIndex);
    if (vote === undefined) {
      this.votes.set(validatorIndex, { current: undefined, next: headRoot, nextSlot: slot });
    } else {
      if (slot <= vote.nextSlot) return false;
      vote.next = headRoot;
      vote.nextSlot = slot;
    }
    this.dirty = true;
    return true;
  }

  /** Replaces the whole weight table (e.g. at a slot or epoch boundary). Missing validators weigh 0. */
  setWeights(weights: WeightTable): void {
    const copy = new Map<number, bigint>();
    for (const [index, weight] of weights) {
      assertValidatorIndex(index);
      if (typeof weight !== "bigint" || weight < 0n) {
        throw new ForkChoiceError({ code: "FORK_CHOICE_INVALID_WEIGHT", validatorIndex: index });
      }
      copy.set(index, weight);
    }
    this.weights = copy;
    this.dirty = true;
  }

  /** Removes a validator's weight from fork choice for good, once it is proven to have equivocated. */
  onEquivocation(validatorIndex: number): void {
    assertValidatorIndex(validatorIndex);
    if (this.equivocating.has(validatorIndex)) return;
    this.equivocating.add(validatorIndex);
    this.dirty = true;
  }

  /**
   * Moves the checkpoints, normally to the finality tracker's latest justified and finalized ones. The finalized
   * checkpoint may only move forward along its chain, and the justified one must descend from it.
   */
  updateCheckpoints(justified: Checkpoint, finalized: Checkpoint): void {
    for (const cp of [justified, finalized]) {
      assertRoot(cp.root);
      assertSlot(cp.slot);
      const block = this.tree.getNode(cp.root);
      if (block === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_BLOCK", root: cp.root });
      if (block.slot > cp.slot) {
        throw new ForkChoiceError({
          code: "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
          reason: "block after checkpoint slot",
        });
      }
    }
    if (!isCheckpointAncestor(this, this.finalizedCp, finalized)) {
      throw new ForkChoiceError({
        code: "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
        reason: "finalized checkpoint does not descend from the current one",
      });
    }
    if (!isCheckpointAncestor(this, finalized, justified)) {
      throw new ForkChoiceError({
        code: "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
        reason: "justified checkpoint does not descend from the finalized one",
      });
    }
    this.finalizedCp = { slot: finalized.slot, root: finalized.root };
    this.justifiedCp = { slot: justified.slot, root: justified.root };
  }

  /**
   * LMD-GHOST: from the justified checkpoint (which descends from the finalized one; both are the anchor until the
   * finality tracker reports more), repeatedly pick the child whose subtree carries the most latest-message weight,
   * ties to the lexicographically greatest root.
   */
  getHead(): Root {
    this.applyVotes();
    return this.tree.findHead(this.justifiedCp.root, this.justifiedCp.slot);
  }

  /** Subtree weight of a block (its votes plus its descendants'); undefined if unknown. */
  getWeight(root: Root): bigint | undefined {
    this.applyVotes();
    return this.tree.getNode(root)?.weight;
  }

  /**
   * Drops every block not on a chain through the finalized checkpoint (its ancestors and competing forks). Returns the
   * removed roots so the caller can drop them from its caches.
   */
  pruneBelowFinalized(): Root[] {
    const removed = this.tree.prune(this.finalizedCp.root, this.finalizedCp.slot);
    if (removed.length > 0) {
      // Votes on pruned blocks no longer count anywhere; rebuild subtree weights from the surviving votes.
      this.tree.resetWeights();
      const deltas = new Map<Root, bigint>();
      for (const [index, vote] of this.votes) {
        const w = this.appliedWeights.get(index) ?? 0n;
        if (vote.current !== undefined && w !== 0n) deltas.set(vote.current, (deltas.get(vote.current) ?? 0n) + w);
      }
      this.tree.applyDeltas(deltas);
    }
    return removed;
  }

  hasBlock(root: Root): boolean {
    return this.tree.has(root);
  }

  getBlockSlot(root: Root): number | undefined {
    return this.tree.getNode(root)?.slot;
  }

  getParentRoot(root: Root): Root | undefined {
    return this.tree.getNode(root)?.parentRoot;
  }

  getAncestorAtSlot(root: Root, slot: number): Root | undefined {
    return this.tree.ancestorAtSlot(root, slot);
  }

  /** True when `descendantRoot` is `ancestorRoot` or has it on its chain; false if either block is unknown. */
  isDescendant(ancestorRoot: Root, descendantRoot: Root): boolean {
    return this.tree.isDescendant(ancestorRoot, descendantRoot);
  }

  /** The latest message of a validator: the block and slot of its newest head vote. */
  getLatestMessage(validatorIndex: number): { root: Root; slot: number } | undefined {
    const vote = this.votes.get(validatorIndex);
    return vote === undefined ? undefined : { root: vote.next, slot: vote.nextSlot };
  }

  /** Moves each changed vote's weight from its old block to its new one (Lodestar's computeDeltas). */
  private applyVotes(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const deltas = new Map<Root, bigint>();
    const add = (root: Root, d: bigint) => deltas.set(root, (deltas.get(root) ?? 0n) + d);
    for (const [index, vote] of this.votes) {
      const oldWeight = this.appliedWeights.get(index) ?? 0n;
      const newWeight = this.equivocating.has(index) ? 0n : (this.weights.get(index) ?? 0n);
      if (vote.current === vote.next && oldWeight === newWeight) continue;
      if (vote.current !== undefined && oldWeight !== 0n) add(vote.current, -oldWeight);
      if (newWeight !== 0n) add(vote.next, newWeight);
      vote.current = vote.next;
      this.appliedWeights.set(index, newWeight);
    }
    this.tree.applyDeltas(deltas);
  }
}

function assertRoot(value: unknown): asserts value is Root {
  if (!isRoot(value))
    throw new ForkChoiceError({ code: "FORK_CHOICE_INVALID_ROOT", value: String(value).slice(0, 80) });
}

function assertSlot(value: unknown): asserts value is number {
  if (!isSlot(value)) throw new ForkChoiceError({ code: "FORK_CHOICE_INVALID_SLOT", value: Number(value) });
}

function assertValidatorIndex(value: unknown): asserts value is number {
  if (!isSlot(value)) throw new ForkChoiceError({ code: "FORK_CHOICE_INVALID_VALIDATOR_INDEX", value: Number(value) });
}
