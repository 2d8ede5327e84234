import { RustChainError } from "@rustchain/shared";

export type ForkChoiceErrorType =
  | { code: "FORK_CHOICE_INVALID_ROOT"; value: string }
  | { code: "FORK_CHOICE_INVALID_SLOT"; value: number }
  | { code: "FORK_CHOICE_INVALID_VALIDATOR_INDEX"; value: number }
  | { code: "FORK_CHOICE_INVALID_WEIGHT"; validatorIndex: number }
  | { code: "FORK_CHOICE_UNKNOWN_PARENT"; root: string; parentRoot: string }
  | { code: "FORK_CHOICE_BLOCK_SLOT_NOT_AFTER_PARENT"; root: string; slot: number; parentSlot: number }
  | { code: "FORK_CHOICE_BLOCK_ROOT_REUSED"; root: string }
  | { code: "FORK_CHOICE_NOT_DESCENDANT_OF_FINALIZED"; root: string }
  | { code: "FORK_CHOICE_UNKNOWN_BLOCK"; root: string }
  | { code: "FORK_CHOICE_VOTE_BEFORE_BLOCK"; root: string; blockSlot: number; voteSlot: number }
  | { code: "FORK_CHOICE_INCONSISTENT_CHECKPOINTS"; reason: string };

/** A block, vote or checkpoint update the fork choice refused; its state is unchanged. */
export class ForkChoiceError extends RustChainError<ForkChoiceErrorType> {}

export type FinalityErrorType =
  | { code: "FINALITY_MALFORMED_ATTESTATION"; reason: string }
  | { code: "FINALITY_UNKNOWN_BLOCK"; root: string }
  | { code: "FINALITY_INVALID_LINK"; reason: string }
  | { code: "FINALITY_INVALID_WEIGHTS"; reason: string }
  | { code: "FINALITY_INVALID_ANCHOR" };

/**
 * An FFG vote the finality tracker refused; its state is unchanged. MALFORMED and INVALID_LINK mean the vote can
 * never count (gossip REJECT); UNKNOWN_BLOCK means it may count once the block arrives (gossip IGNORE, retry later).
 */
export class FinalityError extends RustChainError<FinalityErrorType> {}

export type SlashingErrorType = { code: "SLASHING_MALFORMED_INPUT"; reason: string };

/** An attestation or header given to the slashing detectors is malformed; nothing was recorded. */
export class SlashingError extends RustChainError<SlashingErrorType> {}
