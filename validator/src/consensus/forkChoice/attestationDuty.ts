// What an honest validator signs in a slot, and when (docs/consensus.md, "Slot timing" and "Attestations").
import { type AttestationData, type Checkpoint, isCheckpointAncestor } from "./checkpoint.ts";
import { ForkChoiceError } from "./errors.ts";
import type { ForkChoice } from "./forkChoice.ts";

export interface SlotTiming {
  readonly slotMs: number;
  /** Attestations for the slot's block are due this long after the slot starts (4 s of 12 s). */
  readonly attestationDueMs: number;
  /** Aggregates are due (and justification/finality are updated) this long after the slot starts (6 s of 12 s). */
  readonly aggregationDueMs: number;
}

/** Deadlines within a slot as fixed fractions of it, so 12 s mainnet slots and 1 s devnet slots keep the same shape. */
export function slotTiming(slotMs: number): SlotTiming {
  return { slotMs, attestationDueMs: Math.floor(slotMs / 3), aggregationDueMs: Math.floor(slotMs / 2) };
}

/**
 * The attestation an honest validator signs in `slot`: head = the fork-choice head; target = the checkpoint for
 * `slot` on the head chain (the block at or below `slot`, so the last block before it if the slot is empty); source =
 * the latest justified checkpoint, which must be on the head chain (it is when fork choice was given it through
 * `updateCheckpoints`). The validator client's slashing protection still checks the result before signing.
 */
export function buildAttestationData(slot: number, forkChoice: ForkChoice, justified: Checkpoint): AttestationData {
  const headRoot = forkChoice.getHead();
  const targetRoot = forkChoice.getAncestorAtSlot(headRoot, slot);
  if (targetRoot === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_BLOCK", root: headRoot });
  const source = { slot: justified.slot, root: justified.root };
  const target = { slot, root: targetRoot };
  if (source.slot >= slot || !isCheckpointAncestor(forkChoice, source, target)) {
    throw new ForkChoiceError({
      code: "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
      reason: "justified checkpoint is not before the target on the head chain",
    });
  }
  return { slot, headRoot, source, target };
}
