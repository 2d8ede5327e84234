// The consensus engine orchestrates; the rules live elsewhere (docs/consensus.md, "The running protocol"):
//   clock.ts                 the slot clock and the timers of this node's duties;
//   duties/                  proposer, attester (attestation and finalize vote), Proof-of-AI miner;
//   consensusState.ts        fork choice, the finality tracker, weights, restored from the database;
//   voteProcessor.ts         every verified vote (own, gossiped, carried by blocks) and equivocation detection;
//   blockRules.ts, stateTransition/   what a block must satisfy and what its consensus items do;
//   validation/              gossip validators (wired to the network by node/gossip.ts);
//   certificates/            finality certificates, persisted with the finalized checkpoint (db/checkpointStore.ts).
// Per slot s:  t = 0 propose (fallback proposer at fallbackDelayMs);  t = slot/3 attest;  once (s, B) is justified,
// finalize-vote it;  t = slot/2 the head follows fork choice. What happens on justification and finalization
// (persistence, certificates, metrics) is here, as reactions to the consensus state's events.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { AiModelProvider } from "../models/aiModelSource.ts";
import type { StateDb } from "../state/stateDb.ts";
import { verifyAiProofOnChain } from "./ai/verifyOnChain.ts";
import type { ChainView } from "./chainView.ts";
import { Scheduler, type SlotClock } from "./clock.ts";
import type { ConsensusState } from "./consensusState.ts";
import { AttesterDuty } from "./duties/attester.ts";
import { MinerDuty } from "./duties/miner.ts";
import { ProposerDuty } from "./duties/proposer.ts";
import type { GossipPublisher, LocalValidator } from "./duties/types.ts";
import { blockImportFault } from "./errors.ts";
import type { FinalityRecorder } from "./finalityRecorder.ts";
import { type Checkpoint, slotTiming } from "./forkChoice/index.ts";
import { type Evidence, encodeEvidence } from "./messages/evidence.ts";
import type { ConsensusOptions } from "./options.ts";
import type { AiProofPool } from "./pools/aiProofPool.ts";
import type { AttestationPool } from "./pools/attestationPool.ts";
import type { EvidencePool } from "./pools/evidencePool.ts";
import type { FinalizeVotePool } from "./pools/finalizeVotePool.ts";
import type { VoteProcessor } from "./voteProcessor.ts";

export interface ConsensusMetrics {
  onEvidence(): void;
}

export interface FinalityStatus {
  headSlot: number;
  justified: Checkpoint & { number: bigint };
  finalized: Checkpoint & { number: bigint };
  currentSlot: number;
}

export interface ConsensusEngineModules {
  chain: Chain;
  clock: SlotClock;
  stateDb: StateDb;
  view: ChainView;
  state: ConsensusState;
  votes: VoteProcessor;
  pools: {
    attestations: AttestationPool;
    finalizeVotes: FinalizeVotePool;
    evidence: EvidencePool;
    aiProofs: AiProofPool;
  };
  recorder: FinalityRecorder;
  publisher?: GossipPublisher;
  validator?: LocalValidator;
  logger: Logger;
  metrics?: ConsensusMetrics;
  peerCount?: () => number;
  /** Where the miner gets the genesis model by CID (needed when `opts.miner` is set). */
  aiModel?: AiModelProvider;
}

export class ConsensusEngine {
  readonly clock: SlotClock;
  private readonly scheduler: Scheduler;
  private readonly proposer: ProposerDuty | undefined;
  private readonly attester: AttesterDuty | undefined;
  private readonly miner: MinerDuty | undefined;
  private lastSlotHandled = -1n;
  private readonly log: Logger;

  constructor(
    readonly opts: ConsensusOptions,
    private readonly modules: ConsensusEngineModules,
  ) {
    const { chain, state, votes, validator, logger } = modules;
    this.log = logger;
    const genesis = chain.genesis;
    this.clock = modules.clock;
    this.scheduler = new Scheduler((e) => {
      // A duty that ran too late (its slot finalized meanwhile, or the block already arrived) lost a race; only
      // anything else is a fault.
      const { code, fault } = blockImportFault(e);
      if (fault === "race") this.log.warn({ code }, "Consensus duty came too late; skipped");
      else this.log.error({ err: e }, "Consensus duty failed");
    });
    const updateHead = () => this.updateHead();
    if (validator) {
      const proposer = new ProposerDuty(opts, {
        chain,
        view: modules.view,
        stateDb: modules.stateDb,
        state,
        clock: this.clock,
        scheduler: this.scheduler,
        validator,
        publisher: modules.publisher,
        pools: modules.pools,
        hasBlockInSlot: (slot) => votes.hasBlockInSlot(slot),
        updateHead,
        verifyAiProof: (proof, tip) => verifyAiProofOnChain(modules.view, proof, tip),
        logger,
      });
      this.proposer = proposer;
      this.attester = new AttesterDuty({
        chainId: chain.chainId,
        state,
        clock: this.clock,
        validator,
        publisher: modules.publisher,
        votes,
        proposalSettled: () => proposer.settled(),
        updateHead,
        justifiedPersisted: () => modules.recorder.persisted(),
        logger,
      });
    }
    if (opts.miner) {
      if (!modules.aiModel) throw new Error("a miner needs an AI model source");
      this.miner = new MinerDuty(opts.miner, {
        genesis,
        model: modules.aiModel,
        view: modules.view,
        headHash: () => chain.headHash,
        pool: modules.pools.aiProofs,
        publisher: modules.publisher,
        logger,
      });
    }
    state.on("justified", (cp) => {
      void this.attester?.onJustified(cp).catch((e) => this.log.error({ err: e }, "Finalize vote failed"));
    });
    votes.on("evidence", (ev, offender) => this.onOwnEvidence(ev, offender));
  }

  start(): void {
    this.scheduler.start();
    this.scheduleNextSlot();
  }

  /** No new duty starts; resolves once those under way (a block being built, a vote being signed) are done. */
  async stop(): Promise<void> {
    this.scheduler.stop();
    await this.scheduler.idle();
  }

  /** Waits for pending checkpoint writes; the node calls it last, before closing the database. */
  async flush(): Promise<void> {
    await this.modules.recorder.persisted();
  }

  currentSlot(): bigint {
    return this.clock.currentSlot();
  }

  private scheduleNextSlot(): void {
    const next = this.clock.currentSlot() + 1n;
    this.scheduler.at(this.clock.slotStartMs(next), () => {
      this.scheduleNextSlot();
      return this.onSlot(this.clock.currentSlot());
    });
  }

  private async onSlot(slot: bigint): Promise<void> {
    if (slot <= this.lastSlotHandled) return;
    this.lastSlotHandled = slot;
    const timing = slotTiming(this.clock.slotMs);
    const start = this.clock.slotStartMs(slot);
    const attester = this.attester;
    if (attester) this.scheduler.at(start + timing.attestationDueMs, () => attester.attest(slot));
    this.scheduler.at(start + timing.aggregationDueMs, () => this.updateHead());
    this.prune(slot);
    this.warnIfFinalityStalls(slot);
    const validators = await this.modules.view.validatorsAt(this.modules.chain.head);
    this.modules.pools.evidence.prune((o) => validators[o]?.record.slashed ?? true);
    if (this.proposer) await this.proposer.onSlot(slot);
    if (this.miner) void this.miner.onSlot(slot).catch((e) => this.log.error({ err: e }, "Proof of AI failed"));
  }

  private prune(slot: bigint): void {
    const keep = BigInt(this.opts.attestationWindowSlots);
    if (slot > keep) {
      const min = Number(slot - keep);
      this.modules.pools.attestations.prune(min);
      this.modules.pools.finalizeVotes.prune(min);
      this.modules.votes.prune(min);
      this.modules.recorder.pruneCertificateVotes(min);
    }
    this.modules.pools.aiProofs.prune(this.modules.view.epochOf(slot));
  }

  /**
   * Finality normally trails the clock by less than a slot. Once it is `stallWarnSlots` behind, say so every as many
   * slots with what an operator needs to see why: the checkpoints, the head and the peers.
   */
  private warnIfFinalityStalls(slot: bigint): void {
    const { finality } = this.modules.state;
    const lag = Number(slot) - finality.finalized.slot;
    const every = this.opts.stallWarnSlots;
    if (lag < every || lag % every !== 0) return;
    const head = this.modules.chain.head;
    this.log.warn(
      {
        lagSlots: lag,
        finalized: finality.finalized,
        justified: finality.justified,
        head: { number: Number(head.number), slot: Number(head.slot) },
        peers: this.modules.peerCount?.() ?? 0,
        totalWeight: String(finality.totalWeight),
      },
      "Finality is not advancing",
    );
  }

  /** The chain's head follows fork choice. */
  async updateHead(): Promise<void> {
    const head = this.modules.state.head();
    if (bytesToHex(head) !== bytesToHex(this.modules.chain.headHash)) await this.modules.chain.setHead(head);
  }

  // ---------------------------------------------------------------- reactions

  private onOwnEvidence(evidence: Evidence, offender: number): void {
    if (this.modules.pools.evidence.add(evidence, offender) !== "added") return;
    this.modules.metrics?.onEvidence();
    this.log.warn({ kind: evidence.kind, offender }, "Slashable offence detected");
    void this.modules.publisher?.publish("slashings", encodeEvidence(evidence)).catch(() => {});
  }

  /** Finality status for RPC (`safe` = justified, `finalized`), sync and the `rustchain_` namespace. */
  async status(): Promise<FinalityStatus> {
    const { view, state, chain } = this.modules;
    const num = async (cp: Checkpoint) => (await view.header(hexToBytes(cp.root)))?.number ?? 0n;
    const j = state.finality.justified;
    const f = state.finality.finalized;
    return {
      headSlot: Number(chain.head.slot),
      justified: { ...j, number: await num(j) },
      finalized: { ...f, number: await num(f) },
      currentSlot: Number(this.clock.currentSlot()),
    };
  }
}
