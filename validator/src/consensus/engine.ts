// The consensus engine: runs the slot clock and wires the pure consensus rules (forkChoice/, election/, messages/,
// ai/) to the chain, the network and the validator's key. Per slot (docs/consensus.md, "Slot timing"):
//   t = 0          an elected validator proposes (a fallback proposer waits fallbackDelayMs for an elected block);
//   t = slot / 3   every validator attests to its fork-choice head (after slashing protection recorded it);
//   t = slot / 2   the head is recomputed from the votes and the chain's head follows it.
// Gossip validation for blocks, attestations, evidence and AI proofs lives here too: each returns accept, or throws a
// GossipValidationError (IGNORE or REJECT, which lowers the sender's score).
import type { PeerId } from "@libp2p/interface";
import {
  type Block,
  type BlockExtras,
  type BlockHeader,
  blake3,
  blockHash,
  blsSign,
  bytesToBigint,
  bytesToHex,
  ChainError,
  concatBytes,
  decodeBlock,
  encodeBlock,
  hexToBytes,
  RustChainError,
} from "@rustchain/shared";
import type { Logger } from "pino";
import type { BlockProducer } from "../chain/blockProducer.ts";
import { type BlockContext, blockSigningRoot, type Chain, type ConsensusHooks } from "../chain/chain.ts";
import { BlockError } from "../chain/errors.ts";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, u256 } from "../chain/validatorRegistry.ts";
import { Bucket, type Database, WriteBatch } from "../db/database.ts";
import { GossipValidationError } from "../network/errors.ts";
import type { Network } from "../network/network.ts";
import type { WorldState } from "../state/stateDb.ts";
import { type AiProof, decodeAiProof, encodeAiProof, verifyAiProof } from "./ai/proof.ts";
import { aiTaskInput } from "./ai/task.ts";
import { ChainView, encodeVrfClaim, parseVrfClaim } from "./chainView.ts";
import {
  computeVrf,
  ElectionError,
  fallbackProposer,
  isEligible,
  totalWeight,
  verifyProposerElection,
} from "./election/vrfElection.ts";
import {
  type AttestationData,
  buildAttestationData,
  type Checkpoint,
  EquivocationIndex,
  FinalityError,
  FinalityTracker,
  ForkChoice,
  ForkChoiceError,
  type IndexedAttestation,
  type ProposalHeader,
  type Root,
  slotTiming,
} from "./forkChoice/index.ts";
import {
  AttestationPool,
  aggregateParticipants,
  attestationSigningRoot,
  decodeAggregateAttestation,
  decodeEvidence,
  decodeSignedAttestation,
  type Evidence,
  encodeAggregateAttestation,
  encodeEvidence,
  encodeSignedAttestation,
  evidenceId,
  type SignedAttestation,
  signAttestation,
  verifyAggregate,
  verifyEvidence,
  verifySignedAttestation,
} from "./messages/index.ts";
import type { SlashingProtection } from "./validatorDuties/slashingProtection.ts";

export interface ConsensusOptions {
  /** How long into its slot a fallback proposer waits for an elected block (default: a quarter slot). */
  fallbackDelayMs: number;
  /** Blocks and attestations up to this many slots ahead of our clock are ignored rather than rejected. */
  futureSlotTolerance: number;
  /** Attestations older than this many slots are ignored. */
  attestationWindowSlots: number;
  /** Blocks carry aggregates from at most this many slots back. */
  inclusionWindowSlots: number;
  maxAttestationsPerBlock: number;
  maxEvidencePerBlock: number;
  maxAiProofsPerBlock: number;
  /** Compute and submit the epoch's Proof-of-AI task (needs the circuit's prover artefacts). */
  miner?: { address: Uint8Array; artefacts: { wasm: string; zkey: string } };
  /** TEST ONLY: sign a second, conflicting block and attestation each slot (for slashing tests). Never in production. */
  byzantine?: boolean;
}

export function defaultConsensusOptions(slotMs: number): ConsensusOptions {
  return {
    fallbackDelayMs: Math.floor(slotMs / 4),
    futureSlotTolerance: 1,
    attestationWindowSlots: 32,
    inclusionWindowSlots: 8,
    maxAttestationsPerBlock: 128,
    maxEvidencePerBlock: 16,
    maxAiProofsPerBlock: 32,
  };
}

export interface LocalValidator {
  index: number;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  protection: SlashingProtection;
  producer: BlockProducer;
}

export interface ConsensusMetrics {
  onFinalized(slot: number, lagSlots: number): void;
  onJustified(slot: number): void;
  onEvidence(): void;
}

export interface FinalityStatus {
  headSlot: number;
  justified: Checkpoint & { number: bigint };
  finalized: Checkpoint & { number: bigint };
  currentSlot: number;
}

const META_FINALIZED = new TextEncoder().encode("consensus-finalized");
const META_JUSTIFIED = new TextEncoder().encode("consensus-justified");

function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const value = new Uint8Array(40);
  Buffer.from(value.buffer).writeBigUInt64BE(BigInt(cp.slot), 0);
  value.set(fromRoot(cp.root), 8);
  return value;
}

function decodeCheckpoint(value: Uint8Array | undefined): Checkpoint | undefined {
  if (value?.length !== 40) return undefined;
  return { slot: Number(Buffer.from(value.subarray(0, 8)).readBigUInt64BE()), root: toRoot(value.subarray(8, 40)) };
}
/** Finality this many slots behind the clock is logged (and again every as many slots). */
const STALL_WARN_SLOTS = 8;
/** Import refusals of our own block that only mean the proposal came too late (e.g. under start-up load). */
const LATE_DUTY = new Set(["BLOCK_BEFORE_FINALIZED", "BLOCK_ALREADY_KNOWN"]);
/** Bounds on what gossip can make us hold (valid messages only reach the pools; these cap even those). */
const MAX_POOLED_EVIDENCE = 1024;
const MAX_POOLED_AI_PROOFS = 4096;
const AI_USED_DOMAIN = new TextEncoder().encode("RUSTCHAIN_AI_USED_V1");
const MAX_AI_SCORE_BPS = 10_000;

function rule(reason: string): never {
  throw new BlockError({ code: "BLOCK_INVALID_CONSENSUS", reason }, `BLOCK_INVALID_CONSENSUS: ${reason}`);
}

const toRoot = (b: Uint8Array): Root => bytesToHex(b);
const fromRoot = (r: Root): Uint8Array => hexToBytes(r);

type EquivAttestation = IndexedAttestation & { signed: SignedAttestation };
type EquivHeader = ProposalHeader & { header: BlockHeader };

export class ConsensusEngine {
  readonly view: ChainView;
  forkChoice!: ForkChoice;
  finality!: FinalityTracker;
  readonly pool: AttestationPool;
  private readonly equivocations = new EquivocationIndex<EquivAttestation, EquivHeader>();
  /** Verified evidence not yet included on our head chain, by evidence id. */
  private readonly evidencePool = new Map<string, Evidence>();
  /** Verified AI proofs waiting for inclusion, by miner:epoch. */
  private readonly aiPool = new Map<string, { proof: AiProof; encoded: Uint8Array }>();
  /** Aggregates whose signature already verified (blocks re-include recent aggregates). */
  private readonly verifiedAggregates = new Set<string>();
  /** Slots in which we saw a valid block (for the fallback proposer's wait). */
  private readonly slotsWithBlocks = new Set<bigint>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = true;
  private lastSlotHandled = -1n;
  private minedEpoch = -1n;
  private readonly log: Logger;
  /** Block numbers of the justified (`safe`) and finalized checkpoints, for RPC block tags. */
  justifiedNumber = 0n;
  finalizedNumber = 0n;
  /** Writes of the justified checkpoint, in order (see onJustified). */
  private justifiedWrites: Promise<void> = Promise.resolve();

  constructor(
    readonly opts: ConsensusOptions,
    private readonly modules: {
      chain: Chain;
      db: Database;
      state: import("../state/stateDb.ts").StateDb;
      logger: Logger;
      network?: Network;
      validator?: LocalValidator;
      metrics?: ConsensusMetrics;
    },
  ) {
    this.view = new ChainView(modules.chain, modules.state);
    this.log = modules.logger;
    this.pool = new AttestationPool(
      { maxSlotsKept: opts.attestationWindowSlots, maxDataPerSlot: 64 },
      { validatorCount: () => modules.chain.genesis.validators.length },
    );
  }

  private get chain(): Chain {
    return this.modules.chain;
  }

  private get slotMs(): number {
    return this.chain.genesis.params.slotMs;
  }

  currentSlot(now = Date.now()): bigint {
    const g = Number(this.chain.genesis.timestamp) * 1000;
    return BigInt(Math.max(0, Math.floor((now - g) / this.slotMs)));
  }

  private slotStartMs(slot: bigint): number {
    return Number(this.chain.genesis.timestamp) * 1000 + Number(slot) * this.slotMs;
  }

  // ---------------------------------------------------------------- start-up

  /**
   * Rebuild fork choice and finality from the database: the anchor is the persisted finalized checkpoint (genesis on
   * first start), then every canonical block after it. Then install the chain hooks.
   */
  async init(): Promise<void> {
    const { chain, db } = this.modules;
    let anchor: Checkpoint = { slot: 0, root: toRoot(chain.genesisHash) };
    let anchorBlockSlot = 0;
    let anchorNumber = 0n;
    const stored = decodeCheckpoint(await db.get(Bucket.meta, META_FINALIZED));
    const storedHeader = stored && (await chain.getHeader(fromRoot(stored.root)));
    if (stored && storedHeader) {
      anchor = stored;
      anchorBlockSlot = Number(storedHeader.slot);
      anchorNumber = storedHeader.number;
    }
    // Fork choice holds the anchor block at its own slot (the checkpoint's slot can be later, after empty slots), so
    // votes cast for it in those empty slots still count; its checkpoints are then set to the finalized checkpoint.
    this.forkChoice = new ForkChoice({ anchor: { slot: anchorBlockSlot, root: anchor.root } });
    this.forkChoice.updateCheckpoints(anchor, anchor);
    this.finality = new FinalityTracker(
      { anchor, weights: new Map() },
      {
        blocks: this.forkChoice,
        onJustified: (cp) => this.onJustified(cp),
        onFinalized: (cp) => void this.onFinalized(cp),
        onFinalityConflict: (c) => this.log.error({ c }, "Conflicting finalization: >= 1/3 of the weight equivocated"),
      },
    );
    const replay: Uint8Array[] = [];
    for (let n = anchorNumber + 1n; n <= chain.head.number; n++) {
      const hash = await chain.canonicalHash(n);
      const h = hash && (await this.view.header(hash));
      if (!hash || !h) break;
      this.forkChoice.onBlock(toRoot(hash), toRoot(h.parentHash), Number(h.slot));
      replay.push(hash);
    }
    await this.refreshWeights();
    // The votes carried by those blocks (verified when they were imported) rebuild justification above the anchor.
    for (const hash of replay) {
      const block = await chain.getBlock(hash);
      for (const enc of block?.attestations ?? []) {
        const agg = decodeAggregateAttestation(enc);
        for (const v of aggregateParticipants(agg)) this.countVote({ validatorIndex: v, data: agg.data });
      }
    }
    // The latest justified checkpoint seen before the stop: its votes may never have reached a block, and our
    // validator may already have used it as a source (slashing protection would then refuse anything older).
    const justified = decodeCheckpoint(await db.get(Bucket.meta, META_JUSTIFIED));
    if (justified && justified.slot > this.finality.justified.slot && this.finality.restoreJustified(justified)) {
      this.log.info({ justified }, "Restored the justified checkpoint from before the stop");
    }
    this.syncCheckpoints();
    await this.refreshNumbers();
    chain.setConsensusHooks(this.hooks);
    this.log.info(
      { finalized: this.finality.finalized, justified: this.finality.justified, head: Number(chain.head.number) },
      "Consensus state restored",
    );
  }

  /** Finality weights: stakes at the finalized block (docs/consensus.md, "Weights"). */
  private async refreshWeights(): Promise<void> {
    const header = await this.view.header(fromRoot(this.finality.finalized.root));
    if (!header) return;
    const set = await this.view.validatorsAt(header);
    const weights = new Map(set.map((v, i) => [i, v.stake] as [number, bigint]));
    this.finality.setWeights(weights);
    this.forkChoice.setWeights(weights);
  }

  start(): void {
    this.stopped = false;
    const net = this.modules.network;
    if (net) {
      net.setValidator("blocks", (_t, data, from) => this.validateGossipBlock(data, from));
      net.setValidator("attestations", (_t, data) => this.validateGossipAttestation(data));
      net.setValidator("slashings", (_t, data) => this.validateGossipEvidence(data));
      net.setValidator("ai_proofs", (_t, data) => this.validateGossipAiProof(data));
      for (const t of ["blocks", "attestations", "slashings", "ai_proofs"] as const) net.subscribe(t);
    }
    this.scheduleNextSlot();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Waits for pending checkpoint writes; the node calls it last, before closing the database. */
  async flush(): Promise<void> {
    await this.justifiedWrites;
  }

  private at(ms: number, fn: () => Promise<void> | void): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (this.stopped) return;
        Promise.resolve()
          .then(fn)
          .catch((e: unknown) => {
            // A duty that ran too late (its slot finalized meanwhile, or the block already arrived) lost a race; only
            // anything else is a fault.
            if (e instanceof BlockError && LATE_DUTY.has(e.type.code)) {
              this.log.warn({ code: e.type.code }, "Consensus duty came too late; skipped");
            } else {
              this.log.error({ err: e }, "Consensus duty failed");
            }
          });
      },
      Math.max(0, ms - Date.now()),
    );
    this.timers.add(t);
  }

  private scheduleNextSlot(): void {
    const next = this.currentSlot() + 1n;
    this.at(this.slotStartMs(next), () => {
      this.scheduleNextSlot();
      return this.onSlot(this.currentSlot());
    });
  }

  // ---------------------------------------------------------------- slot duties

  private async onSlot(slot: bigint): Promise<void> {
    if (slot <= this.lastSlotHandled) return;
    this.lastSlotHandled = slot;
    const timing = slotTiming(this.slotMs);
    const start = this.slotStartMs(slot);
    this.at(start + timing.attestationDueMs, () => this.attest(slot));
    this.at(start + timing.aggregationDueMs, () => this.updateHead());
    this.prune(slot);
    this.warnIfFinalityStalls(slot);
    await this.pruneEvidence();
    if (this.modules.validator) await this.maybePropose(slot);
    if (this.opts.miner) void this.mine(slot);
  }

  /**
   * Finality normally trails the clock by 1-2 slots. Once it is 8 slots behind, say so every 8 slots with what an
   * operator needs to see why: the checkpoints, the head and the peers.
   */
  private warnIfFinalityStalls(slot: bigint): void {
    const lag = Number(slot) - this.finality.finalized.slot;
    if (lag < STALL_WARN_SLOTS || lag % STALL_WARN_SLOTS !== 0) return;
    this.log.warn(
      {
        lagSlots: lag,
        finalized: this.finality.finalized,
        justified: this.finality.justified,
        head: { number: Number(this.chain.head.number), slot: Number(this.chain.head.slot) },
        peers: this.modules.network?.peers().length ?? 0,
        totalWeight: String(this.finality.totalWeight),
      },
      "Finality is not advancing",
    );
  }

  private prune(slot: bigint): void {
    const keep = BigInt(this.opts.attestationWindowSlots);
    if (slot > keep) {
      const min = Number(slot - keep);
      this.pool.prune(min);
      this.equivocations.prune(min);
      for (const s of this.slotsWithBlocks) if (s < slot - keep) this.slotsWithBlocks.delete(s);
    }
    // AI proofs are includable in their epoch and the next one only.
    const epoch = this.view.epochOf(slot);
    for (const [k, p] of this.aiPool) if (p.proof.epoch + 1n < epoch) this.aiPool.delete(k);
  }

  /** Evidence against validators already slashed on the head chain has done its work. */
  private async pruneEvidence(): Promise<void> {
    if (this.evidencePool.size === 0) return;
    const validators = await this.view.validatorsAt(this.chain.head);
    for (const [id, ev] of this.evidencePool) {
      const offender = this.offenderOf(ev);
      if (offender === undefined || validators[offender]?.record.slashed) this.evidencePool.delete(id);
    }
  }

  /** The chain's head follows fork choice. */
  async updateHead(): Promise<void> {
    const head = fromRoot(this.forkChoice.getHead());
    if (Buffer.compare(head, this.chain.headHash) !== 0) await this.chain.setHead(head);
  }

  private async electionFor(slot: bigint) {
    const parentHash = this.chain.headHash;
    const parent = this.chain.head;
    const seed = await this.view.seed(this.view.epochOf(slot), parentHash);
    const validators = await this.view.validatorsAt(parent);
    return { parentHash, parent, seed, validators, weights: validators.map((v) => v.weight) };
  }

  private async maybePropose(slot: bigint): Promise<void> {
    const v = this.modules.validator as LocalValidator;
    await this.proposing;
    await this.updateHead();
    if (this.chain.head.slot >= slot) return;
    const { chainId } = this.chain;
    const e = await this.electionFor(slot);
    const me = e.validators[v.index];
    const total = totalWeight(e.weights);
    if (!me || me.weight === 0n || total === 0n) return;
    const vrf = computeVrf(v.secretKey, chainId, e.seed, slot);
    if (isEligible(vrf.output, me.weight, total, this.chain.genesis.params.expectedLeadersPerSlot)) {
      await this.propose(slot, encodeVrfClaim(vrf.proof, false));
      return;
    }
    if (fallbackProposer(chainId, e.seed, slot, e.weights) !== v.index) return;
    this.at(this.slotStartMs(slot) + this.opts.fallbackDelayMs, async () => {
      if (this.slotsWithBlocks.has(slot) || this.currentSlot() !== slot) return;
      await this.updateHead();
      if (this.chain.head.slot >= slot) return;
      await this.propose(slot, encodeVrfClaim(vrf.proof, true));
    });
  }

  /** Evidence, attestations and AI proofs for a block on the current head. */
  private async extrasFor(slot: bigint): Promise<BlockExtras> {
    const head = this.chain.head;
    const validators = await this.view.validatorsAt(head);
    const evidence: Uint8Array[] = [];
    // One piece of evidence per offender: the first slashes it, a second would make the block invalid.
    const offenders = new Set<number>();
    for (const [id, ev] of this.evidencePool) {
      if (evidence.length >= this.opts.maxEvidencePerBlock) break;
      const offender = this.offenderOf(ev);
      if (offender === undefined || validators[offender]?.record.slashed) {
        this.evidencePool.delete(id);
        continue;
      }
      if (offenders.has(offender)) continue;
      offenders.add(offender);
      evidence.push(encodeEvidence(ev));
    }
    const attestations = this.pool
      .forBlock(
        Number(slot),
        this.opts.maxAttestationsPerBlock,
        (d) => d.slot + this.opts.inclusionWindowSlots >= Number(slot) && this.forkChoice.hasBlock(d.target.root),
      )
      .map((a) => encodeAggregateAttestation(a));
    const aiProofs: Uint8Array[] = [];
    const epoch = this.view.epochOf(slot);
    for (const [k, p] of this.aiPool) {
      if (aiProofs.length >= this.opts.maxAiProofsPerBlock) break;
      if (p.proof.epoch + 1n < epoch) {
        this.aiPool.delete(k);
        continue;
      }
      const used = await this.modules.state.storageAt(
        head.stateRoot,
        REGISTRY_ADDRESS,
        aiUsedSlot(p.proof.miner, p.proof.epoch),
      );
      if (bytesToBigint(used) !== 0n || !(await this.aiProofValidOn(p.proof, this.chain.headHash))) {
        this.aiPool.delete(k);
        continue;
      }
      aiProofs.push(p.encoded);
    }
    return { attestations, aiProofs, evidence };
  }

  /** Verify an AI proof against the epoch seed of the chain ending at `tip`; throws AiProofError. */
  private async verifyAiOn(proof: AiProof, tip: Uint8Array): Promise<void> {
    const ai = this.chain.genesis.ai;
    if (!ai) throw new GossipValidationError("IGNORE", { code: "AI_DISABLED" });
    const seed = await this.view.seed(proof.epoch, tip);
    verifyAiProof(proof, {
      chainId: this.chain.chainId,
      model: ai.model,
      verifyingKey: ai.verifyingKey,
      seed,
      epoch: proof.epoch,
    });
  }

  /** Whether a pooled proof still verifies on the chain ending at `tip` (its epoch seed can differ across forks). */
  private async aiProofValidOn(proof: AiProof, tip: Uint8Array): Promise<boolean> {
    try {
      await this.verifyAiOn(proof, tip);
      return true;
    } catch (e) {
      this.log.info(
        { err: (e as Error).message, epoch: Number(proof.epoch) },
        "Dropping an AI proof that does not verify on the head chain",
      );
      return false;
    }
  }

  private offenderOf(ev: Evidence): number | undefined {
    try {
      return verifyEvidence(ev, { chainId: this.chain.chainId, pubkeyOf: (i) => this.pubkeyOf(i) }).offender;
    } catch {
      return undefined;
    }
  }

  private pubkeyOf(i: number): Uint8Array | undefined {
    return this.chain.genesis.validators[i]?.blsPublicKey;
  }

  /** One proposal at a time: a slow one must land before the next slot builds on the head. */
  private proposing: Promise<void> = Promise.resolve();

  private propose(slot: bigint, vrfProof: Uint8Array): Promise<void> {
    const run = this.proposing.then(() => this.proposeNow(slot, vrfProof));
    this.proposing = run.catch(() => undefined);
    return run;
  }

  private async proposeNow(slot: bigint, vrfProof: Uint8Array): Promise<void> {
    if (this.chain.head.slot >= slot) return;
    const v = this.modules.validator as LocalValidator;
    const extras = await this.extrasFor(slot);
    const imported = await v.producer.produce({
      slot,
      vrfProof,
      extras,
      sign: async (s, hash) => {
        const root = blockSigningRoot(this.chain.chainId, hash);
        await v.protection.checkAndRecordBlock(v.publicKey, s, root);
        return blsSign(v.secretKey, root);
      },
    });
    await this.modules.network
      ?.publish("blocks", encodeBlock(imported.block))
      .catch((e) => this.log.debug({ err: (e as Error).message }, "Block publish failed"));
    if (this.opts.byzantine) await this.equivocateProposal(imported.block);
  }

  private async attest(slot: bigint): Promise<void> {
    const v = this.modules.validator;
    if (!v) return;
    // Our own block of this slot is still being built: vote after it lands, not for its parent.
    await this.proposing;
    await this.updateHead();
    let data: AttestationData;
    try {
      data = buildAttestationData(Number(slot), this.forkChoice, this.finality.justified);
    } catch (e) {
      // An honest validator that cannot vote is worth seeing: finality needs its weight.
      this.log.warn({ err: (e as Error).message, slot: Number(slot) }, "No attestation this slot");
      return;
    }
    const signingRoot = attestationSigningRoot(this.chain.chainId, data);
    // The source must be on disk before we sign with it, or a restart could leave us unable to vote again.
    await this.justifiedWrites;
    try {
      await v.protection.checkAndRecordAttestation(v.publicKey, {
        sourceSlot: BigInt(data.source.slot),
        targetSlot: BigInt(data.target.slot),
        signingRoot,
      });
    } catch (e) {
      this.log.warn({ err: (e as Error).message, slot: Number(slot) }, "Slashing protection refused an attestation");
      return;
    }
    const att = signAttestation(v.secretKey, this.chain.chainId, v.index, data);
    this.onVerifiedAttestation(att);
    await this.modules.network
      ?.publish("attestations", encodeSignedAttestation(att))
      .catch((e) => this.log.debug({ err: (e as Error).message }, "Attestation publish failed"));
    if (this.opts.byzantine) await this.equivocateVote(att);
  }

  // ---------------------------------------------------------------- byzantine test mode

  /** TEST ONLY: a second block for the same slot with different contents (a double proposal). */
  private async equivocateProposal(block: Block): Promise<void> {
    const v = this.modules.validator as LocalValidator;
    const h = { ...block.header, extraData: new TextEncoder().encode("equivocation") };
    h.signature = blsSign(v.secretKey, blockSigningRoot(this.chain.chainId, blockHash(h)));
    const twin: Block = { ...block, header: h };
    this.log.warn({ slot: Number(h.slot) }, "BYZANTINE TEST MODE: publishing a conflicting block");
    await this.modules.network?.publish("blocks", encodeBlock(twin)).catch(() => {});
  }

  /** TEST ONLY: a second attestation for the same target slot with another head (a double vote). */
  private async equivocateVote(att: SignedAttestation): Promise<void> {
    const v = this.modules.validator as LocalValidator;
    const data = { ...att.data, headRoot: toRoot(blake3(concatBytes(fromRoot(att.data.headRoot), Uint8Array.of(1)))) };
    const twin = signAttestation(v.secretKey, this.chain.chainId, v.index, data);
    this.log.warn({ slot: data.slot }, "BYZANTINE TEST MODE: publishing a conflicting attestation");
    await this.modules.network?.publish("attestations", encodeSignedAttestation(twin)).catch(() => {});
  }

  // ---------------------------------------------------------------- attestations

  /** A signature-checked attestation (ours, gossiped, or from a block): fork choice, finality, pool, slashing. */
  private onVerifiedAttestation(att: SignedAttestation): void {
    const evidence = this.equivocations.ingestAttestation({
      validatorIndex: att.validatorIndex,
      data: att.data,
      signed: att,
    });
    for (const ev of evidence) {
      this.addEvidence({ kind: "attester", a1: ev.attestation1.signed, a2: ev.attestation2.signed });
      this.forkChoice.onEquivocation(att.validatorIndex);
    }
    if (evidence.length > 0) return;
    this.countVote({ validatorIndex: att.validatorIndex, data: att.data });
    this.pool.add(att);
  }

  private countVote(vote: IndexedAttestation): void {
    if (this.forkChoice.hasBlock(vote.data.headRoot)) {
      try {
        this.forkChoice.onAttestation(vote.validatorIndex, vote.data.headRoot, vote.data.slot);
      } catch (e) {
        // A head vote fork choice cannot place (e.g. older than its anchor) still counts for finality below.
        if (!(e instanceof ForkChoiceError)) throw e;
      }
    }
    try {
      this.finality.onAttestation(vote);
    } catch (e) {
      if (!(e instanceof FinalityError)) throw e;
    }
  }

  private onJustified(cp: Checkpoint): void {
    this.modules.metrics?.onJustified(cp.slot);
    this.syncCheckpoints();
    void this.refreshNumbers();
    const latest = this.finality.justified;
    if (latest.slot === cp.slot && latest.root === cp.root) {
      // Written before any vote can use it as a source: attest() waits for this chain of writes.
      const value = encodeCheckpoint(latest);
      this.justifiedWrites = this.justifiedWrites
        .then(() => this.modules.db.write(new WriteBatch().put(Bucket.meta, META_JUSTIFIED, value)))
        .catch((e: unknown) => this.log.error({ err: e }, "Could not persist the justified checkpoint"));
    }
  }

  private async refreshNumbers(): Promise<void> {
    const j = await this.view.header(fromRoot(this.finality.justified.root));
    const f = await this.view.header(fromRoot(this.finality.finalized.root));
    if (j) this.justifiedNumber = j.number;
    if (f) this.finalizedNumber = f.number;
  }

  private syncCheckpoints(): void {
    try {
      this.forkChoice.updateCheckpoints(this.finality.justified, this.finality.finalized);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "Fork choice refused checkpoints");
    }
  }

  private async onFinalized(cp: Checkpoint): Promise<void> {
    this.syncCheckpoints();
    // Blocks not descending from the finalized checkpoint can never be head again.
    this.forkChoice.pruneBelowFinalized();
    const lag = Number(this.currentSlot()) - cp.slot;
    this.modules.metrics?.onFinalized(cp.slot, lag);
    await this.modules.db.write(new WriteBatch().put(Bucket.meta, META_FINALIZED, encodeCheckpoint(cp)));
    this.log.debug({ slot: cp.slot, root: cp.root, lag }, "Finalized");
    await this.refreshNumbers();
    await this.refreshWeights();
  }

  /** Finality status for RPC (`safe` = justified, `finalized`) and the `rustchain_` namespace. */
  async status(): Promise<FinalityStatus> {
    const num = async (cp: Checkpoint) => (await this.view.header(fromRoot(cp.root)))?.number ?? 0n;
    const j = this.finality.justified;
    const f = this.finality.finalized;
    return {
      headSlot: Number(this.chain.head.slot),
      justified: { ...j, number: await num(j) },
      finalized: { ...f, number: await num(f) },
      currentSlot: Number(this.currentSlot()),
    };
  }

  async rpcFinalityStatus(): Promise<unknown> {
    const s = await this.status();
    const q = (n: bigint | number) => `0x${n.toString(16)}`;
    return {
      currentSlot: q(s.currentSlot),
      headSlot: q(s.headSlot),
      headNumber: q(this.chain.head.number),
      headHash: bytesToHex(this.chain.headHash),
      justified: { slot: q(s.justified.slot), number: q(s.justified.number), hash: s.justified.root },
      finalized: { slot: q(s.finalized.slot), number: q(s.finalized.number), hash: s.finalized.root },
      finalityLagSlots: s.currentSlot - s.finalized.slot,
    };
  }

  async rpcValidators(): Promise<unknown> {
    const set = await this.view.validatorsAt(this.chain.head);
    return set.map((v, i) => ({
      index: i,
      publicKey: bytesToHex(v.pubkey),
      feeRecipient: bytesToHex(this.chain.genesis.validators[i]!.feeRecipient),
      stake: `0x${v.record.stake.toString(16)}`,
      aiScoreBps: v.record.aiScoreBps,
      slashed: v.record.slashed,
      proposerWeight: `0x${v.weight.toString(16)}`,
    }));
  }

  async rpcAiScores(): Promise<unknown> {
    const set = await this.view.validatorsAt(this.chain.head);
    return {
      enabled: this.chain.genesis.ai !== undefined,
      epoch: `0x${this.view.epochOf(this.currentSlot()).toString(16)}`,
      validators: set.map((v, i) => ({
        index: i,
        feeRecipient: bytesToHex(this.chain.genesis.validators[i]!.feeRecipient),
        aiScoreBps: v.record.aiScoreBps,
      })),
    };
  }

  // ---------------------------------------------------------------- evidence

  private addEvidence(ev: Evidence): void {
    const id = evidenceId(ev);
    if (this.evidencePool.has(id)) return;
    this.evidencePool.set(id, ev);
    this.modules.metrics?.onEvidence();
    this.log.warn({ kind: ev.kind, offender: this.offenderOf(ev) }, "Slashable offence detected");
    void this.modules.network?.publish("slashings", encodeEvidence(ev)).catch(() => {});
  }

  // ---------------------------------------------------------------- chain hooks

  readonly hooks: ConsensusHooks = {
    validateHeader: (header, parent) => this.validateHeader(header, parent),
    applyExtras: (ws, extras, ctx) => this.applyExtras(ws, extras, ctx),
    onBlock: (hash, header) => this.onBlock(hash, header),
    head: () => fromRoot(this.forkChoice.getHead()),
  };

  private async validateHeader(h: BlockHeader, parent: BlockHeader): Promise<void> {
    const fin = this.finality.finalized;
    if (Number(h.slot) <= fin.slot) throw new BlockError({ code: "BLOCK_BEFORE_FINALIZED", slot: h.slot });
    if (!this.forkChoice.hasBlock(toRoot(h.parentHash))) rule("parent is not on the finalized chain");
    const claim = parseVrfClaim(h.vrfProof);
    if (!claim) rule("malformed VRF proof");
    const seed = await this.view.seed(this.view.epochOf(h.slot), h.parentHash);
    const validators = await this.view.validatorsAt(parent);
    try {
      verifyProposerElection(
        { proposerIndex: Number(h.proposerIndex), vrfProof: claim.proof, fallback: claim.fallback },
        {
          chainId: this.chain.chainId,
          seed,
          slot: h.slot,
          validators: validators.map((v) => ({ pubkey: v.pubkey, weight: v.weight })),
          expectedLeadersPerSlot: this.chain.genesis.params.expectedLeadersPerSlot,
        },
      );
    } catch (e) {
      if (e instanceof ElectionError) rule(`proposer not elected: ${e.type.code}`);
      throw e;
    }
  }

  private onBlock(hash: Uint8Array, h: BlockHeader): void {
    const root = toRoot(hash);
    try {
      this.forkChoice.onBlock(root, toRoot(h.parentHash), Number(h.slot));
    } catch (e) {
      if (e instanceof ForkChoiceError) throw new BlockError({ code: "BLOCK_BEFORE_FINALIZED", slot: h.slot });
      throw e;
    }
    this.slotsWithBlocks.add(h.slot);
    const evidence = this.equivocations.ingestProposal({
      slot: Number(h.slot),
      proposerIndex: Number(h.proposerIndex),
      root,
      header: h,
    });
    for (const ev of evidence) {
      this.addEvidence({ kind: "double_proposal", header1: ev.header1.header, header2: ev.header2.header });
    }
  }

  private async applyExtras(ws: WorldState, extras: BlockExtras, ctx: BlockContext): Promise<void> {
    const { chainId, genesis } = this.chain;
    if (extras.attestations.length > this.opts.maxAttestationsPerBlock) rule("too many attestations");
    if (extras.evidence.length > this.opts.maxEvidencePerBlock) rule("too many slashings");
    if (extras.aiProofs.length > this.opts.maxAiProofsPerBlock) rule("too many AI proofs");
    const pubkeys = genesis.validators.map((v) => v.blsPublicKey);
    const votes: IndexedAttestation[] = [];
    for (const enc of extras.attestations) {
      const agg = decodeOr(() => decodeAggregateAttestation(enc), "attestation");
      if (BigInt(agg.data.slot) >= ctx.slot) rule("attestation not from an earlier slot");
      const id = bytesToHex(blake3(enc));
      if (!this.verifiedAggregates.has(id)) {
        if (!verifyAggregate(agg, chainId, pubkeys)) rule("attestation signature invalid");
        if (this.verifiedAggregates.size >= 4096) this.verifiedAggregates.clear();
        this.verifiedAggregates.add(id);
      }
      for (const v of aggregateParticipants(agg)) votes.push({ validatorIndex: v, data: agg.data });
    }
    const seen = new Set<string>();
    for (const enc of extras.evidence) {
      const ev = decodeOr(() => decodeEvidence(enc), "evidence");
      const id = evidenceId(ev);
      if (seen.has(id)) rule("duplicate evidence");
      seen.add(id);
      let offender: number;
      try {
        offender = verifyEvidence(ev, { chainId, pubkeyOf: (i) => pubkeys[i] }).offender;
      } catch (e) {
        rule(`invalid evidence: ${(e as Error).message}`);
      }
      const slashedSlot = registrySlot(offender, RegistryField.slashed);
      if (bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, slashedSlot)) !== 0n) rule("offender already slashed");
      // Rule: a slashed validator loses half its stake (burned) and all its weight.
      const stakeSlot = registrySlot(offender, RegistryField.stake);
      const stake = bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, stakeSlot));
      await ws.setStorage(REGISTRY_ADDRESS, stakeSlot, u256(stake / 2n));
      await ws.setStorage(REGISTRY_ADDRESS, slashedSlot, u256(1n));
    }
    if (extras.aiProofs.length > 0) await this.applyAiProofs(ws, extras.aiProofs, ctx);
    // Votes carried by blocks count toward fork choice and finality (a node that missed the gossip still finalizes).
    for (const vote of votes) this.countVote(vote);
  }

  private async applyAiProofs(ws: WorldState, encoded: Uint8Array[], ctx: BlockContext): Promise<void> {
    const { chainId, genesis } = this.chain;
    const ai = genesis.ai;
    if (!ai) rule("this chain has no Proof-of-AI task");
    const epoch = this.view.epochOf(ctx.slot);
    for (const enc of encoded) {
      const proof = decodeOr(() => decodeAiProof(enc), "AI proof");
      if (proof.epoch !== epoch && proof.epoch + 1n !== epoch) rule("AI proof for another epoch");
      const seed = await this.view.seed(proof.epoch, ctx.parentHash);
      try {
        verifyAiProof(proof, { chainId, model: ai.model, verifyingKey: ai.verifyingKey, seed, epoch: proof.epoch });
      } catch (e) {
        rule(`invalid AI proof: ${(e as Error).message}`);
      }
      const used = aiUsedSlot(proof.miner, proof.epoch);
      if (bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, used)) !== 0n) rule("AI proof already rewarded");
      await ws.setStorage(REGISTRY_ADDRESS, used, u256(1n));
      const miner = await ws.getAccount(proof.miner);
      miner.balance += ai.reward;
      ws.setAccount(proof.miner, miner);
      for (const [i, v] of genesis.validators.entries()) {
        if (Buffer.compare(v.feeRecipient, proof.miner) !== 0) continue;
        const slot = registrySlot(i, RegistryField.aiScoreBps);
        const score = bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, slot));
        const next = score + BigInt(ai.scoreStepBps);
        await ws.setStorage(
          REGISTRY_ADDRESS,
          slot,
          u256(next > BigInt(MAX_AI_SCORE_BPS) ? BigInt(MAX_AI_SCORE_BPS) : next),
        );
      }
    }
  }

  // ---------------------------------------------------------------- Proof of AI mining

  private async mine(slot: bigint): Promise<void> {
    const miner = this.opts.miner;
    const ai = this.chain.genesis.ai;
    if (!miner || !ai) return;
    const epoch = this.view.epochOf(slot);
    if (epoch <= this.minedEpoch) return;
    this.minedEpoch = epoch;
    const seed = await this.view.seed(epoch, this.chain.headHash);
    const input = aiTaskInput(this.chain.chainId, ai.model, seed, epoch);
    const started = performance.now();
    // The prover (snarkjs) is loaded only on mining nodes.
    const { proveAiTask } = await import("./ai/prover.ts");
    const { output, proof } = await proveAiTask({
      model: ai.model,
      input,
      miner: miner.address,
      artefacts: miner.artefacts,
    });
    const p: AiProof = { epoch, miner: miner.address, output, proof };
    const encoded = encodeAiProof(p);
    this.aiPool.set(`${bytesToHex(miner.address)}:${epoch}`, { proof: p, encoded });
    this.log.info({ epoch: Number(epoch), ms: Math.round(performance.now() - started) }, "Proof of AI computed");
    await this.modules.network?.publish("ai_proofs", encoded).catch(() => {});
  }

  // ---------------------------------------------------------------- gossip validation

  private async validateGossipBlock(data: Uint8Array, from: PeerId): Promise<void> {
    let block: Block;
    try {
      block = decodeBlock(data);
    } catch {
      throw new GossipValidationError("REJECT", { code: "BLOCK_MALFORMED" });
    }
    const slot = block.header.slot;
    if (slot > this.currentSlot() + BigInt(this.opts.futureSlotTolerance)) {
      throw new GossipValidationError("REJECT", { code: "BLOCK_FUTURE_SLOT" });
    }
    if (Number(slot) <= this.finality.finalized.slot)
      throw new GossipValidationError("IGNORE", { code: "BLOCK_FINALIZED_SLOT" });
    try {
      await this.chain.importBlock(block);
    } catch (e) {
      if (e instanceof BlockError) {
        const code = e.type.code;
        if (code === "BLOCK_ALREADY_KNOWN" || code === "BLOCK_BEFORE_FINALIZED") {
          throw new GossipValidationError("IGNORE", { code });
        }
        if (code === "BLOCK_UNKNOWN_PARENT") {
          this.onUnknownParent?.(from);
          throw new GossipValidationError("IGNORE", { code });
        }
        throw new GossipValidationError("REJECT", { code });
      }
      if (e instanceof ChainError) throw new GossipValidationError("REJECT", { code: e.type.code });
      throw e;
    }
  }

  /** Set by the node: a gossip block's parent is unknown, so `peer` has blocks we lack (triggers range sync). */
  onUnknownParent: ((peer: PeerId) => void) | undefined;

  private async validateGossipAttestation(data: Uint8Array): Promise<void> {
    let att: SignedAttestation;
    try {
      att = decodeSignedAttestation(data);
    } catch {
      throw new GossipValidationError("REJECT", { code: "ATTESTATION_MALFORMED" });
    }
    const now = this.currentSlot();
    const slot = BigInt(att.data.slot);
    if (slot > now + BigInt(this.opts.futureSlotTolerance)) {
      throw new GossipValidationError("REJECT", { code: "ATTESTATION_FUTURE_SLOT" });
    }
    if (slot + BigInt(this.opts.attestationWindowSlots) < now) {
      throw new GossipValidationError("IGNORE", { code: "ATTESTATION_TOO_OLD" });
    }
    const pubkey = this.pubkeyOf(att.validatorIndex);
    if (!pubkey) throw new GossipValidationError("REJECT", { code: "ATTESTATION_UNKNOWN_VALIDATOR" });
    if (!verifySignedAttestation(att, this.chain.chainId, pubkey)) {
      throw new GossipValidationError("REJECT", { code: "ATTESTATION_BAD_SIGNATURE" });
    }
    this.onVerifiedAttestation(att);
  }

  private async validateGossipEvidence(data: Uint8Array): Promise<void> {
    let ev: Evidence;
    try {
      ev = decodeEvidence(data);
      verifyEvidence(ev, { chainId: this.chain.chainId, pubkeyOf: (i) => this.pubkeyOf(i) });
    } catch {
      throw new GossipValidationError("REJECT", { code: "EVIDENCE_INVALID" });
    }
    const id = evidenceId(ev);
    if (this.evidencePool.has(id)) throw new GossipValidationError("IGNORE", { code: "EVIDENCE_KNOWN" });
    if (this.evidencePool.size >= MAX_POOLED_EVIDENCE)
      throw new GossipValidationError("IGNORE", { code: "EVIDENCE_POOL_FULL" });
    this.evidencePool.set(id, ev);
    this.modules.metrics?.onEvidence();
  }

  private async validateGossipAiProof(data: Uint8Array): Promise<void> {
    const ai = this.chain.genesis.ai;
    if (!ai) throw new GossipValidationError("IGNORE", { code: "AI_DISABLED" });
    let proof: AiProof;
    try {
      proof = decodeAiProof(data);
    } catch {
      throw new GossipValidationError("REJECT", { code: "AI_PROOF_MALFORMED" });
    }
    const epoch = this.view.epochOf(this.currentSlot());
    if (proof.epoch > epoch || proof.epoch + 1n < epoch)
      throw new GossipValidationError("IGNORE", { code: "AI_PROOF_EPOCH" });
    const key = `${bytesToHex(proof.miner)}:${proof.epoch}`;
    const pooled = this.aiPool.get(key);
    if (pooled && Buffer.compare(pooled.encoded, data) === 0) {
      throw new GossipValidationError("IGNORE", { code: "AI_PROOF_KNOWN" });
    }
    // A different message for a miner and epoch we already hold is verified too: a forged variant is REJECTed.
    try {
      await this.verifyAiOn(proof, this.chain.headHash);
    } catch {
      throw new GossipValidationError("REJECT", { code: "AI_PROOF_INVALID" });
    }
    if (pooled) throw new GossipValidationError("IGNORE", { code: "AI_PROOF_KNOWN" });
    if (this.aiPool.size >= MAX_POOLED_AI_PROOFS) throw new GossipValidationError("IGNORE", { code: "AI_POOL_FULL" });
    this.aiPool.set(key, { proof, encoded: data });
  }
}

/** Registry slot marking that `miner`'s proof for `epoch` was rewarded (one reward per miner and epoch). */
export function aiUsedSlot(miner: Uint8Array, epoch: bigint): Uint8Array {
  const e = new Uint8Array(8);
  new DataView(e.buffer).setBigUint64(0, epoch);
  return blake3(concatBytes(AI_USED_DOMAIN, miner, e));
}

function decodeOr<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RustChainError) rule(`malformed ${what}: ${e.message}`);
    throw e;
  }
}
