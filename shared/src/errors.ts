// Typed errors with discriminated codes (Lodestar's LodestarError pattern). Messages are derived from the code,
// callers match on `err.type.code`, never on message text.

export class RustChainError<T extends { code: string }> extends Error {
  readonly type: T;
  constructor(type: T, message?: string) {
    super(message ?? type.code);
    this.type = type;
    this.name = this.constructor.name;
  }
}

/**
 * One line for people (CLI output, logs): a typed error's code with its fields, e.g.
 * `INVALID_GENESIS: validators.1.stake: must be above zero` or `BLOCK_INVALID_NUMBER (expected=5, got=7)`.
 */
export function describeError(e: unknown): string {
  if (!(e instanceof RustChainError)) return e instanceof Error ? e.message : String(e);
  const { code, ...fields } = e.type as { code: string } & Record<string, unknown>;
  if (e.message !== code) return e.message;
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return code;
  if (entries.length === 1 && entries[0]![0] === "reason") return `${code}: ${String(entries[0]![1])}`;
  return `${code} (${entries.map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(", ")})`;
}

export type ChainErrorType =
  | { code: "INVALID_HEX"; value: string }
  | { code: "NEGATIVE_INTEGER" }
  | { code: "INTEGER_OVERFLOW" }
  | { code: "RLP_INVALID"; reason: string }
  | { code: "RLP_TOO_LARGE"; size: number; limit: number }
  | { code: "INVALID_SIGNATURE"; reason: string }
  | { code: "INVALID_BLS_KEY" }
  | { code: "INVALID_GENESIS"; reason: string }
  /** A trie range proof (snap-sync style: keys, values and edge proofs) that does not prove its range. */
  | { code: "TRIE_RANGE_INVALID"; reason: string };

/** Errors from shared codecs and crypto: malformed input that was rejected before it changed anything. */
export class ChainError extends RustChainError<ChainErrorType> {}

export type StateErrorType =
  /**
   * A historical state this node no longer keeps: a full node keeps the state of the last `keptBlocks` finalized
   * blocks and of every block above them (null: an archive node whose older state was never stored or was pruned
   * before it became one, e.g. a warp-synced node).
   */
  | { code: "STATE_PRUNED"; number: bigint; firstAvailable: bigint; keptBlocks: number | null }
  /** A trie node the state should hold is not in the database (geth's "missing trie node"). */
  | { code: "STATE_NODE_MISSING"; hash: string };

/** Reads of the world state at a root the node does not hold (all of it, or the node a path needs). */
export class StateError extends RustChainError<StateErrorType> {
  constructor(type: StateErrorType) {
    super(type, stateErrorMessage(type));
  }
}

/** The texts the node and the edge answer for state the node does not hold (docs/node.md, "State pruning"). */
export function stateErrorMessage(t: StateErrorType): string {
  switch (t.code) {
    case "STATE_PRUNED":
      return t.keptBlocks === null
        ? `historical state unavailable: block ${t.number} is before the first state this node holds (block ${t.firstAvailable}); query an archive node (--archive)`
        : `historical state unavailable: this node keeps state for the last ${t.keptBlocks} finalized blocks (block ${t.number} is pruned, the oldest kept is ${t.firstAvailable}); query an archive node (--archive)`;
    case "STATE_NODE_MISSING":
      return `missing trie node ${t.hash}`;
  }
}

export type TxErrorType =
  | { code: "TX_TYPE_NOT_SUPPORTED"; txType: number }
  | { code: "TX_MALFORMED"; reason: string }
  | { code: "TX_NOT_REPLAY_PROTECTED" }
  | { code: "TX_WRONG_CHAIN_ID"; expected: bigint; got: bigint }
  | { code: "TX_INVALID_SIGNATURE" }
  | { code: "TX_OVERSIZED"; size: number; limit: number }
  | { code: "TX_NONCE_TOO_LOW"; expected: bigint; got: bigint }
  | { code: "TX_NONCE_TOO_HIGH"; expected: bigint; got: bigint }
  | { code: "TX_NONCE_MAX" }
  | { code: "TX_INSUFFICIENT_FUNDS"; have: bigint; want: bigint }
  | { code: "TX_INTRINSIC_GAS_TOO_LOW"; have: bigint; want: bigint }
  | { code: "TX_GAS_LIMIT_EXCEEDS_BLOCK"; have: bigint; limit: bigint }
  | { code: "TX_FEE_CAP_TOO_LOW"; maxFeePerGas: bigint; baseFee: bigint }
  | { code: "TX_TIP_ABOVE_FEE_CAP" }
  | { code: "TX_UNDERPRICED"; minTip: bigint }
  | { code: "TX_ALREADY_KNOWN" }
  | { code: "TX_REPLACEMENT_UNDERPRICED" }
  | { code: "TX_POOL_FULL" }
  | { code: "TX_SENDER_LIMIT" }
  | { code: "TX_INVALID_CONTRACT"; reason: string };

/** A transaction rejected by decoding, the mempool or execution. */
export class TxError extends RustChainError<TxErrorType> {
  constructor(type: TxErrorType) {
    super(type, txErrorMessage(type));
  }
}

/** geth's error strings, which wallets and libraries match on (core/txpool/errors.go, core/error.go). */
export function txErrorMessage(t: TxErrorType): string {
  switch (t.code) {
    case "TX_TYPE_NOT_SUPPORTED":
      return "transaction type not supported";
    case "TX_MALFORMED":
      return `invalid transaction: ${t.reason}`;
    case "TX_NOT_REPLAY_PROTECTED":
      return "only replay-protected (EIP-155) transactions allowed over RPC";
    case "TX_WRONG_CHAIN_ID":
      return `invalid chain id for signer: have ${t.got} want ${t.expected}`;
    case "TX_INVALID_SIGNATURE":
      return "invalid transaction v, r, s values";
    case "TX_OVERSIZED":
      return `oversized data: transaction size ${t.size}, limit ${t.limit}`;
    case "TX_NONCE_TOO_LOW":
      return `nonce too low: next nonce ${t.expected}, tx nonce ${t.got}`;
    case "TX_NONCE_TOO_HIGH":
      return `nonce too high: next nonce ${t.expected}, tx nonce ${t.got}`;
    case "TX_NONCE_MAX":
      return "nonce has max value";
    case "TX_INSUFFICIENT_FUNDS":
      return `insufficient funds for gas * price + value: balance ${t.have}, tx cost ${t.want}`;
    case "TX_INTRINSIC_GAS_TOO_LOW":
      return `intrinsic gas too low: have ${t.have}, want ${t.want}`;
    case "TX_GAS_LIMIT_EXCEEDS_BLOCK":
      return "exceeds block gas limit";
    case "TX_FEE_CAP_TOO_LOW":
      return `max fee per gas less than block base fee: maxFeePerGas: ${t.maxFeePerGas}, baseFee: ${t.baseFee}`;
    case "TX_TIP_ABOVE_FEE_CAP":
      return "max priority fee per gas higher than max fee per gas";
    case "TX_UNDERPRICED":
      return `transaction underpriced: tip needed ${t.minTip}`;
    case "TX_ALREADY_KNOWN":
      return "already known";
    case "TX_REPLACEMENT_UNDERPRICED":
      return "replacement transaction underpriced";
    case "TX_POOL_FULL":
      return "txpool is full";
    case "TX_SENDER_LIMIT":
      return "account limit exceeded: too many pending transactions from this sender";
    case "TX_INVALID_CONTRACT":
      return t.reason;
  }
}
