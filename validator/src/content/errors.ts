import { describeError, RpcCode, RpcError, RustChainError } from "@rustchain/shared";

export type ContentErrorType =
  /** Not a CIDv1 (or v0) string or bytes we can parse. */
  | { code: "CONTENT_INVALID_CID"; cid: string }
  /** A hash function we do not verify (only sha2-256 and identity): we refuse what we cannot check. */
  | { code: "CONTENT_UNSUPPORTED_HASH"; cid: string; hashCode: number }
  /** A codec outside UnixFS (dag-pb, raw). */
  | { code: "CONTENT_UNSUPPORTED_CODEC"; cid: string; codec: number }
  /** Bytes (from disk or from a peer) that do not hash to the CID they were stored or sent under. */
  | { code: "CONTENT_HASH_MISMATCH"; cid: string }
  /** A block over `maxBlockBytes`. */
  | { code: "CONTENT_BLOCK_TOO_LARGE"; cid: string; size: number; limit: number }
  /** An add or a get over its size limit. */
  | { code: "CONTENT_TOO_LARGE"; size: number; limit: number }
  /** A DAG with more blocks than `maxDagBlocks` (pin, CAR). */
  | { code: "CONTENT_DAG_TOO_LARGE"; cid: string; limit: number }
  /** The block is not held here and the node is offline (no bitswap) or the caller asked for local only. */
  | { code: "CONTENT_NOT_FOUND"; cid: string }
  /** No peer delivered a valid block in time. */
  | { code: "CONTENT_FETCH_TIMEOUT"; cid: string; timeoutMs: number }
  | { code: "CONTENT_NOT_STARTED" };

/**
 * Content store failures; codes map to JSON-RPC errors and HTTP statuses in one place each. CONTENT_NOT_FOUND is also
 * named `NotFoundError`, the interface-store contract for a missing block: bitswap's ledger retries a peer's want
 * only after that error (any other leaves the want stuck, so a block added after the want was never sent).
 */
export class ContentError extends RustChainError<ContentErrorType> {
  constructor(type: ContentErrorType, message?: string) {
    super(type, message);
    if (type.code === "CONTENT_NOT_FOUND") this.name = "NotFoundError";
  }
}

/** The one map from content errors to JSON-RPC errors (the admin API); the domain code travels in `data.code`. */
export function contentRpcError(e: ContentError): RpcError {
  const rpcCode = ((): number => {
    switch (e.type.code) {
      case "CONTENT_INVALID_CID":
      case "CONTENT_UNSUPPORTED_HASH":
      case "CONTENT_UNSUPPORTED_CODEC":
        return RpcCode.INVALID_PARAMS;
      case "CONTENT_NOT_FOUND":
        return RpcCode.RESOURCE_NOT_FOUND;
      case "CONTENT_FETCH_TIMEOUT":
      case "CONTENT_NOT_STARTED":
        return RpcCode.RESOURCE_UNAVAILABLE;
      case "CONTENT_TOO_LARGE":
      case "CONTENT_BLOCK_TOO_LARGE":
      case "CONTENT_DAG_TOO_LARGE":
        return RpcCode.LIMIT_EXCEEDED;
      case "CONTENT_HASH_MISMATCH":
        return RpcCode.INVALID_INPUT;
    }
  })();
  return new RpcError(rpcCode, describeError(e), { code: e.type.code });
}
