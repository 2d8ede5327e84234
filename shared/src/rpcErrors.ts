// JSON-RPC error codes (JSON-RPC 2.0, EIP-1474, execution-apis) and the one mapping from domain errors to them.
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

export type RpcErrorType = { code: "RPC"; rpcCode: number; data?: unknown };

/** An error that is already a JSON-RPC error object. */
export class RpcError extends RustChainError<RpcErrorType> {
  constructor(rpcCode: number, message: string, data?: unknown) {
    super({ code: "RPC", rpcCode, data }, message);
  }
  get rpcCode(): number {
    return this.type.rpcCode;
  }
  toJSON(): { code: number; message: string; data?: unknown } {
    const out: { code: number; message: string; data?: unknown } = { code: this.type.rpcCode, message: this.message };
    if (this.type.data !== undefined) out.data = this.type.data;
    return out;
  }
}

export const invalidParams = (message: string): RpcError => new RpcError(RpcCode.INVALID_PARAMS, message);

/**
 * The single, exhaustive mapping from domain errors to JSON-RPC errors. Unknown errors become -32603 with a generic
 * message so node internals never leak to callers.
 */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof TxError) {
    // geth answers every pool rejection with -32000 and its well-known message; viem and ethers classify by message.
    return new RpcError(RpcCode.INVALID_INPUT, err.message);
  }
  if (err instanceof ChainError) {
    const t = err.type;
    switch (t.code) {
      case "INVALID_HEX":
      case "NEGATIVE_INTEGER":
      case "INTEGER_OVERFLOW":
        return new RpcError(RpcCode.INVALID_PARAMS, `invalid argument: ${t.code.toLowerCase().replaceAll("_", " ")}`);
      case "RLP_INVALID":
        return new RpcError(RpcCode.INVALID_INPUT, `rlp: ${t.reason}`);
      case "RLP_TOO_LARGE":
        return new RpcError(RpcCode.INVALID_INPUT, `rlp: input of ${t.size} bytes exceeds limit ${t.limit}`);
      case "INVALID_SIGNATURE":
        return new RpcError(RpcCode.INVALID_INPUT, "invalid transaction v, r, s values");
      case "TRIE_RANGE_INVALID":
        return new RpcError(RpcCode.INVALID_INPUT, `range proof: ${t.reason}`);
      case "INVALID_BLS_KEY":
      case "INVALID_GENESIS":
        return new RpcError(RpcCode.INTERNAL_ERROR, "internal error");
    }
  }
  if (err instanceof StateError) {
    const t = err.type;
    switch (t.code) {
      case "STATE_PRUNED":
        return new RpcError(RpcCode.HISTORICAL_STATE_UNAVAILABLE, err.message, {
          firstAvailableBlock: toQuantity(t.firstAvailable),
        });
      case "STATE_NODE_MISSING":
        return new RpcError(RpcCode.HISTORICAL_STATE_UNAVAILABLE, err.message);
    }
  }
  return new RpcError(RpcCode.INTERNAL_ERROR, "internal error");
}
