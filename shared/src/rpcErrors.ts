// JSON-RPC errors (JSON-RPC 2.0, EIP-1474, execution-apis): the codes, one named constructor per error the node or
// the edge answers, and the one exhaustive mapping from domain errors to them.
//
// Every error but "execution reverted" (whose `data` is the revert data clients decode) carries a domain code in
// `error.data.code` (`{ code: "HEADER_NOT_FOUND" }`, `{ code: "TX_ALREADY_KNOWN" }`): the numeric JSON-RPC codes are
// shared by many errors (-32000 alone covers every pool rejection), and the messages are geth's texts that wallets
// match, so callers (the edge, the relayer, tools) match `data.code`, never a message.
import { ChainError, RustChainError, StateError, TxError } from "./errors.ts";
import { toQuantity } from "./hex.ts";

export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** EIP-1474 "invalid input"; geth uses it for transaction pool rejections, which clients match by message. */
  INVALID_INPUT: -32000,
  RESOURCE_NOT_FOUND: -32001,
  RESOURCE_UNAVAILABLE: -32002,
  TRANSACTION_REJECTED: -32003,
  METHOD_NOT_SUPPORTED: -32004,
  LIMIT_EXCEEDED: -32005,
  /**
   * geth answers a state it does not hold ("missing trie node") with -32000; so does RustChain, with a message that
   * says why and a `data.firstAvailableBlock` (docs/node.md, "State pruning").
   */
  HISTORICAL_STATE_UNAVAILABLE: -32000,
  /** geth (EIP-4444): a block before the node's first stored block body ("pruned history unavailable"). */
  PRUNED_HISTORY_UNAVAILABLE: 4444,
  /** execution-apis: execution reverted, with the revert data in `data`. */
  EXECUTION_REVERTED: 3,
} as const;
export type RpcCodeValue = (typeof RpcCode)[keyof typeof RpcCode];

/** A JSON-RPC error object as it travels (over HTTP, WebSocket, or a Durable Object boundary). */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type RpcErrorType = { code: "RPC"; rpcCode: number; data?: unknown };

/** An error that is already a JSON-RPC error object. */
export class RpcError extends RustChainError<RpcErrorType> {
  constructor(rpcCode: number, message: string, data?: unknown) {
    super({ code: "RPC", rpcCode, data }, message);
  }
  get rpcCode(): number {
    return this.type.rpcCode;
  }
  toJSON(): RpcErrorObject {
    const out: RpcErrorObject = { code: this.type.rpcCode, message: this.message };
    if (this.type.data !== undefined) out.data = this.type.data;
    return out;
  }
}

/** The domain code of an error object (`data.code`), if it has one. */
export function domainCodeOf(error: RpcErrorObject | undefined): string | undefined {
  const data = error?.data;
  if (!data || typeof data !== "object") return undefined;
  const code = (data as Record<string, unknown>).code;
  return typeof code === "string" ? code : undefined;
}

const coded = (rpcCode: number, code: string, message: string, extra?: Record<string, unknown>): RpcError =>
  new RpcError(rpcCode, message, { code, ...extra });

/**
 * Every error the JSON-RPC layer answers by name, written once for the node, both edge hosts and the admin API. The
 * texts are geth's where geth has one (clients match them); the domain code in `data.code` is ours.
 */
export const rpcErrors = {
  // The envelope (JSON-RPC 2.0).
  parseError: () => coded(RpcCode.PARSE_ERROR, "PARSE_ERROR", "parse error"),
  invalidRequest: () => coded(RpcCode.INVALID_REQUEST, "INVALID_REQUEST", "invalid request"),
  emptyBatch: () => coded(RpcCode.INVALID_REQUEST, "EMPTY_BATCH", "empty batch"),
  batchTooLarge: (size: number, limit: number) =>
    coded(RpcCode.LIMIT_EXCEEDED, "BATCH_TOO_LARGE", `batch of ${size} exceeds limit ${limit}`, { limit }),
  bodyTooLarge: (limit: number) =>
    coded(RpcCode.LIMIT_EXCEEDED, "BODY_TOO_LARGE", `request body exceeds ${limit} bytes`, { limit }),
  onlyPost: () => coded(RpcCode.INVALID_REQUEST, "ONLY_POST", "only POST is supported"),
  unauthorized: () => coded(RpcCode.INVALID_REQUEST, "UNAUTHORIZED", "missing or wrong bearer token"),
  methodNotFound: (method: string) =>
    coded(
      RpcCode.METHOD_NOT_FOUND,
      "METHOD_NOT_FOUND",
      `the method ${method.slice(0, 64)} does not exist/is not available`,
    ),
  invalidParams: (message: string) => coded(RpcCode.INVALID_PARAMS, "INVALID_PARAMS", message),
  internal: () => coded(RpcCode.INTERNAL_ERROR, "INTERNAL", "internal error"),
  // Limits and availability.
  rateLimited: () => coded(RpcCode.LIMIT_EXCEEDED, "RATE_LIMITED", "rate limit exceeded"),
  txpoolBusy: (why: string) => coded(RpcCode.LIMIT_EXCEEDED, "TXPOOL_BUSY", `txpool is busy: ${why}; retry later`),
  tooManySubscriptions: (limit: number) =>
    coded(RpcCode.LIMIT_EXCEEDED, "TOO_MANY_SUBSCRIPTIONS", `too many subscriptions (limit ${limit})`, { limit }),
  tooManyFilters: () => coded(RpcCode.LIMIT_EXCEEDED, "TOO_MANY_FILTERS", "too many filters installed"),
  logRangeTooLarge: (limit: bigint | number) =>
    coded(RpcCode.LIMIT_EXCEEDED, "LOG_RANGE_TOO_LARGE", `block range exceeds ${limit} blocks`),
  tooManyLogs: (limit: number) =>
    coded(RpcCode.LIMIT_EXCEEDED, "TOO_MANY_LOGS", `query returned more than ${limit} results`),
  coreUnavailable: () => coded(RpcCode.RESOURCE_UNAVAILABLE, "CORE_UNAVAILABLE", "core unavailable, retry later"),
  notificationsNotSupported: () =>
    coded(RpcCode.METHOD_NOT_SUPPORTED, "NOTIFICATIONS_NOT_SUPPORTED", "notifications not supported"),
  notEnabled: (what: "consensus" | "bridge" | "networking" | "content" | "debug") =>
    coded(
      RpcCode.METHOD_NOT_FOUND,
      "NOT_ENABLED",
      what === "bridge"
        ? "the bridge is not enabled on this node"
        : what === "consensus"
          ? "consensus is not running on this node"
          : what === "content"
            ? "the content store is off on this node"
            : what === "debug"
              ? "the debug namespace is off on this node (start it with --rpc-debug)"
              : "networking is off on this node",
    ),
  // Chain data.
  headerNotFound: () => coded(RpcCode.INVALID_INPUT, "HEADER_NOT_FOUND", "header not found"),
  unknownBlock: () => coded(RpcCode.RESOURCE_NOT_FOUND, "UNKNOWN_BLOCK", "unknown block"),
  invalidBlockRange: () => coded(RpcCode.INVALID_PARAMS, "INVALID_BLOCK_RANGE", "invalid block range params"),
  filterNotFound: () => coded(RpcCode.INVALID_INPUT, "FILTER_NOT_FOUND", "filter not found"),
  historyPruned: (number: bigint, first: bigint) =>
    coded(
      RpcCode.PRUNED_HISTORY_UNAVAILABLE,
      "HISTORY_PRUNED",
      `pruned history unavailable: block ${number} is before this node's history (it was warp-synced); the first available block is ${first}`,
      { firstAvailableBlock: toQuantity(first) },
    ),
  // Execution (eth_call, eth_estimateGas).
  executionFailed: (message: string) => coded(RpcCode.INVALID_INPUT, "EXECUTION_FAILED", message),
  outOfGas: () => coded(RpcCode.INVALID_INPUT, "OUT_OF_GAS", "out of gas"),
  callIntrinsicGasTooLow: (have: bigint, want: bigint) =>
    coded(RpcCode.INVALID_INPUT, "TX_INTRINSIC_GAS_TOO_LOW", `intrinsic gas too low: have ${have}, want ${want}`),
  callInsufficientFunds: () =>
    coded(RpcCode.INVALID_INPUT, "TX_INSUFFICIENT_FUNDS", "insufficient funds for gas * price + value"),
  // Traces (debug_traceTransaction, debug_traceCall): geth's texts.
  transactionNotFound: () => coded(RpcCode.INVALID_INPUT, "TRANSACTION_NOT_FOUND", "transaction not found"),
  tracerNotSupported: (tracer: string | undefined) =>
    coded(
      RpcCode.METHOD_NOT_SUPPORTED,
      "TRACER_NOT_SUPPORTED",
      `${tracer === undefined ? "the default struct logger" : `tracer ${JSON.stringify(tracer.slice(0, 64))}`} is not supported: only "callTracer" is`,
    ),
  traceTimeout: () => coded(RpcCode.INVALID_INPUT, "TRACE_TIMEOUT", "execution timeout"),
  tracesBusy: (limit: number) =>
    coded(RpcCode.LIMIT_EXCEEDED, "TRACE_BUSY", `too many trace requests in progress (limit ${limit}); retry later`, {
      limit,
    }),
  /** execution-apis: code 3 with the revert data itself in `data` (viem and ethers decode it), no domain code. */
  executionReverted: (message: string, revertData: string) =>
    new RpcError(RpcCode.EXECUTION_REVERTED, message, revertData),
} as const;

function exhaustive(x: never): never {
  throw new Error(`unmapped error code ${String((x as { code?: unknown })?.code)}`);
}

/**
 * The single, exhaustive mapping from domain errors to JSON-RPC errors: every code of every error class that can
 * reach a JSON-RPC caller is answered here (the compiler checks each switch covers its class). Unknown errors become
 * -32603 with a generic message so node internals never leak to callers.
 */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof TxError) {
    const t = err.type;
    // geth answers every pool rejection with -32000 and its well-known message; viem and ethers classify by message.
    switch (t.code) {
      case "TX_TYPE_NOT_SUPPORTED":
      case "TX_MALFORMED":
      case "TX_NOT_REPLAY_PROTECTED":
      case "TX_WRONG_CHAIN_ID":
      case "TX_INVALID_SIGNATURE":
      case "TX_OVERSIZED":
      case "TX_NONCE_TOO_LOW":
      case "TX_NONCE_TOO_HIGH":
      case "TX_NONCE_MAX":
      case "TX_INSUFFICIENT_FUNDS":
      case "TX_INTRINSIC_GAS_TOO_LOW":
      case "TX_GAS_LIMIT_EXCEEDS_BLOCK":
      case "TX_FEE_CAP_TOO_LOW":
      case "TX_TIP_ABOVE_FEE_CAP":
      case "TX_UNDERPRICED":
      case "TX_ALREADY_KNOWN":
      case "TX_REPLACEMENT_UNDERPRICED":
      case "TX_POOL_FULL":
      case "TX_SENDER_LIMIT":
      case "TX_INVALID_CONTRACT":
        return coded(RpcCode.INVALID_INPUT, t.code, err.message);
      default:
        return exhaustive(t);
    }
  }
  if (err instanceof ChainError) {
    const t = err.type;
    switch (t.code) {
      case "INVALID_HEX":
      case "NEGATIVE_INTEGER":
      case "INTEGER_OVERFLOW":
        return coded(RpcCode.INVALID_PARAMS, t.code, `invalid argument: ${t.code.toLowerCase().replaceAll("_", " ")}`);
      case "RLP_INVALID":
        return coded(RpcCode.INVALID_INPUT, t.code, `rlp: ${t.reason}`);
      case "RLP_TOO_LARGE":
        return coded(RpcCode.INVALID_INPUT, t.code, `rlp: input of ${t.size} bytes exceeds limit ${t.limit}`);
      case "INVALID_SIGNATURE":
        return coded(RpcCode.INVALID_INPUT, t.code, "invalid transaction v, r, s values");
      case "TRIE_RANGE_INVALID":
        return coded(RpcCode.INVALID_INPUT, t.code, `range proof: ${t.reason}`);
      case "INVALID_BLS_KEY":
      case "INVALID_GENESIS":
        return rpcErrors.internal();
      default:
        return exhaustive(t);
    }
  }
  if (err instanceof StateError) {
    const t = err.type;
    switch (t.code) {
      case "STATE_PRUNED":
        return coded(RpcCode.HISTORICAL_STATE_UNAVAILABLE, t.code, err.message, {
          firstAvailableBlock: toQuantity(t.firstAvailable),
        });
      case "STATE_NODE_MISSING":
        return coded(RpcCode.HISTORICAL_STATE_UNAVAILABLE, t.code, err.message);
      default:
        return exhaustive(t);
    }
  }
  // Every other error (a database failure, a certificate or bundle the node cannot encode) is the node's fault, never
  // the caller's: logged by the server, answered without details.
  return rpcErrors.internal();
}
