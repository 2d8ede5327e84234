// What the node writes down when consensus state moves (db/checkpointStore.ts), from the first moment it can move,
// the replay of stored blocks on start-up included:
//   justified   the checkpoint, before any vote uses it as a source (attestations and finalize votes wait for the write);
//   finalized   the checkpoint and its finality certificate, in one atomic batch. A certificate whose signatures are
//               not all at hand yet is retried as blocks arrive (they carry aggregates), for a bounded number of slots.
// Writes run one at a time, in order.
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import type { Logger } from "pino";
import type { CheckpointStore } from "../db/checkpointStore.ts";
import type { CertificateBuilder } from "./certificates/certificateBuilder.ts";
import type { SlotClock } from "./clock.ts";
import type { ConsensusState } from "./consensusState.ts";
import type { Checkpoint, Finalization, WeightTable } from "./forkChoice/index.ts";

export interface FinalityMetrics {
  onFinalized(slot: number, lagSlots: number): void;
  onJustified(slot: number): void;
  onCertificate?(kind: string): void;
}

interface PendingCertificate {
  readonly cp: Checkpoint;
  readonly how: Finalization;
  readonly weights: WeightTable;
  readonly untilSlot: bigint;
}

export class FinalityRecorder {
  private writes: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, PendingCertificate>();

  constructor(
    private readonly opts: { certificateRetrySlots: number },
    private readonly modules: {
      state: ConsensusState;
      checkpoints: CheckpointStore;
      certificates: CertificateBuilder;
      clock: SlotClock;
      logger: Logger;
      metrics?: FinalityMetrics;
    },
  ) {
    modules.state.on("justified", (cp) => this.onJustified(cp));
    modules.state.on("finalized", (cp, how) => this.onFinalized(cp, how));
  }

  /** Resolves once every write queued so far is on disk. */
  persisted(): Promise<void> {
    return this.writes;
  }

  /** Forgets the block aggregates kept for certificates before `minSlot`. */
  pruneCertificateVotes(minSlot: number): void {
    this.modules.certificates.prune(minSlot);
  }

  /** Blocks arrived: certificates that were short of signatures may be complete now. */
  retryCertificates(): void {
    if (this.pending.size === 0) return;
    const now = this.modules.clock.currentSlot();
    for (const [slot, p] of this.pending) {
      this.persist(async () => {
        if (!this.pending.has(slot)) return;
        const cert = await this.build(p.cp, p.how, p.weights);
        if (cert) {
          this.pending.delete(slot);
          await this.modules.checkpoints.writeCertificate(slot, cert.number, cert.encoded);
        } else if (now > p.untilSlot) {
          this.pending.delete(slot);
          this.modules.logger.warn(
            { slot, root: p.cp.root },
            "No finality certificate for a finalized checkpoint: too few signatures",
          );
        }
      }, "a finality certificate");
    }
  }

  private onJustified(cp: Checkpoint): void {
    const { state, checkpoints, metrics } = this.modules;
    metrics?.onJustified(cp.slot);
    const latest = state.finality.justified;
    if (latest.slot === cp.slot && latest.root === cp.root) {
      this.persist(() => checkpoints.writeJustified(latest), "the justified checkpoint");
    }
  }

  private onFinalized(cp: Checkpoint, how: Finalization): void {
    const { state, checkpoints, clock, metrics, logger } = this.modules;
    // The weights this finalization was judged under (the previous finalized block's): the certificate's.
    const weights = state.finality.weightTable;
    const lag = Number(clock.currentSlot()) - cp.slot;
    metrics?.onFinalized(cp.slot, lag);
    logger.debug({ slot: cp.slot, root: cp.root, lag, kind: how.kind }, "Finalized");
    this.persist(async () => {
      const cert = await this.build(cp, how, weights);
      await checkpoints.writeFinalized(cp, cert);
      if (!cert) {
        const untilSlot = clock.currentSlot() + BigInt(this.opts.certificateRetrySlots);
        this.pending.set(cp.slot, { cp, how, weights, untilSlot });
      }
    }, "the finalized checkpoint");
  }

  private async build(cp: Checkpoint, how: Finalization, weights: WeightTable) {
    // Finality learned from a peer's certificate (sync): that certificate is the proof; keep it.
    if (how.kind === "certificate") {
      return { number: decodeFinalityCertificate(how.certificate).header.number, encoded: how.certificate };
    }
    const built = await this.modules.certificates.build(cp, how, weights);
    if (built) this.modules.metrics?.onCertificate?.(built.kind);
    return built;
  }

  private persist(fn: () => Promise<void>, what: string): void {
    this.writes = this.writes
      .then(fn)
      .catch((e: unknown) => this.modules.logger.error({ err: e }, `Could not persist ${what}`));
  }
}
