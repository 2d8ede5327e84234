// Finalize votes kept for finality certificates: one aggregate per checkpoint, single votes folded into it (BLS
// signature aggregation). Everything that enters was verified by gossip validation. Bounded: at most `maxSlotsKept`
// slots and `maxCheckpointsPerSlot` checkpoints per slot (honest validators vote for one).
import { blsAggregateSignatures } from "@rustchain/shared";
import { type Checkpoint, checkpointKey } from "../forkChoice/checkpoint.ts";
import {
  aggregateFromFinalizeVote,
  type FinalizeAggregate,
  hasBit,
  type SignedFinalizeVote,
} from "../messages/attestation.ts";

export class FinalizeVotePool {
  private readonly bySlot = new Map<number, Map<string, FinalizeAggregate>>();

  constructor(
    private readonly opts: { maxSlotsKept: number; maxCheckpointsPerSlot: number },
    private readonly modules: { validatorCount(): number },
  ) {}

  /**
   * Folds a verified single vote into its checkpoint's aggregate; false (and nothing changed) when it adds nothing,
   * there is no room, or its validator is outside the set.
   */
  add(vote: SignedFinalizeVote): boolean {
    const count = this.modules.validatorCount();
    if (!Number.isSafeInteger(vote.validatorIndex) || vote.validatorIndex < 0 || vote.validatorIndex >= count)
      return false;
    const slot = vote.checkpoint.slot;
    let byCp = this.bySlot.get(slot);
    if (byCp === undefined) {
      if (this.bySlot.size >= this.opts.maxSlotsKept) {
        const oldest = Math.min(...this.bySlot.keys());
        if (slot < oldest) return false;
        this.bySlot.delete(oldest);
      }
      byCp = new Map();
      this.bySlot.set(slot, byCp);
    }
    const key = checkpointKey(vote.checkpoint);
    const existing = byCp.get(key);
    if (existing === undefined) {
      if (byCp.size >= this.opts.maxCheckpointsPerSlot) return false;
      byCp.set(key, aggregateFromFinalizeVote(vote, this.modules.validatorCount()));
      return true;
    }
    if (hasBit(existing.bits, vote.validatorIndex)) return false;
    const bits = existing.bits.slice();
    bits[vote.validatorIndex >> 3] = (bits[vote.validatorIndex >> 3] as number) | (1 << (vote.validatorIndex & 7));
    byCp.set(key, {
      checkpoint: existing.checkpoint,
      bits,
      signature: blsAggregateSignatures([existing.signature, vote.signature]),
    });
    return true;
  }

  /** The aggregate of the finalize votes for `cp`, if any. */
  aggregateFor(cp: Checkpoint): FinalizeAggregate | undefined {
    return this.bySlot.get(cp.slot)?.get(checkpointKey(cp));
  }

  prune(minSlot: number): void {
    for (const slot of this.bySlot.keys()) if (slot < minSlot) this.bySlot.delete(slot);
  }
}
