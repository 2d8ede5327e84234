import { RustChainError } from "@rustchain/shared";

export type BlockErrorType =
  | { code: "BLOCK_UNKNOWN_PARENT"; parentHash: string }
  | { code: "BLOCK_NOT_ON_HEAD"; parentHash: string }
  | { code: "BLOCK_EXTRAS_ROOT_MISMATCH" }
  | { code: "BLOCK_CONFLICTS_CHECKPOINT"; number: bigint; expected: string }
  | { code: "BLOCK_BEFORE_FINALIZED"; slot: bigint }
  | { code: "REORG_UNKNOWN_BLOCK"; hash: string }
  | { code: "BLOCK_ALREADY_KNOWN"; hash: string }
  | { code: "BLOCK_INVALID_NUMBER"; expected: bigint; got: bigint }
  | { code: "BLOCK_INVALID_SLOT" }
  | { code: "BLOCK_INVALID_TIMESTAMP" }
  | { code: "BLOCK_INVALID_GAS_LIMIT" }
  | { code: "BLOCK_INVALID_BASE_FEE"; expected: bigint; got: bigint }
  | { code: "BLOCK_INVALID_PROPOSER" }
  | { code: "BLOCK_INVALID_SIGNATURE" }
  | { code: "BLOCK_INVALID_TRANSACTION"; index: number; reason: string }
  | { code: "BLOCK_GAS_USED_MISMATCH" }
  | { code: "BLOCK_STATE_ROOT_MISMATCH" }
  | { code: "BLOCK_TX_ROOT_MISMATCH" }
  | { code: "BLOCK_RECEIPT_ROOT_MISMATCH" }
  | { code: "BLOCK_BLOOM_MISMATCH" }
  | { code: "GENESIS_MISMATCH"; stored: string; computed: string };

/** A block that fails validation; the chain is left unchanged. */
export class BlockError extends RustChainError<BlockErrorType> {}

export type PruneErrorType =
  /** A block the kept window needs (a canonical block, a header) is not in the database: nothing is deleted. */
  { code: "PRUNE_BLOCK_MISSING"; what: string };

/** A state pruning run that stopped before deleting anything more (chain/statePruner.ts). */
export class PruneError extends RustChainError<PruneErrorType> {}
