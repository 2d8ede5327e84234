import { RustChainError } from "@rustchain/shared";

/**
 * What gossipsub should do with a message that failed validation (Lodestar's GossipAction):
 * IGNORE drops it without blame (we cannot judge it now: unknown parent, too old, duplicate);
 * REJECT drops it and penalises the peer that sent it (it can never be valid).
 */
export type GossipAction = "IGNORE" | "REJECT";

/**
 * Thrown by gossip validators. The adapter (gossipValidatorFn.ts) maps `action` to gossipsub's TopicValidatorResult
 * and, for REJECT, to a peer score penalty. Any other exception from a validator is treated as our fault: IGNORE.
 */
export class GossipValidationError<T extends { code: string } = { code: string }> extends RustChainError<T> {
  readonly action: GossipAction;
  constructor(action: GossipAction, type: T, message?: string) {
    super(type, message ?? `${action} ${type.code}`);
    this.action = action;
  }
}

export type ReqRespErrorType =
  /** The request is malformed: refused locally before sending, or by the server (which resets the stream). */
  | { code: "REQ_INVALID_REQUEST"; reason: string }
  /** The peer's response broke the protocol (framing, size, count, encoding); the peer is penalised. */
  | { code: "REQ_INVALID_RESPONSE"; reason: string }
  /** The peer answered with an error result; `message` is peer-supplied text, truncated. */
  | { code: "REQ_SERVER_ERROR"; message: string }
  | { code: "REQ_TIMEOUT"; timeoutMs: number }
  | { code: "REQ_DIAL_FAILED"; reason: string }
  /** The stream was reset or closed with an error by the transport or the peer. */
  | { code: "REQ_STREAM_ERROR"; reason: string };

/** A failed request/response exchange, on either side. */
export class ReqRespError extends RustChainError<ReqRespErrorType> {}

export type NetworkErrorType =
  | { code: "NETWORK_NOT_STARTED" }
  | { code: "NETWORK_ALREADY_STARTED" }
  | { code: "PUBLISH_TOO_LARGE"; topic: string; size: number; limit: number }
  | { code: "PUBLISH_FAILED"; topic: string; reason: string }
  | { code: "INVALID_MULTIADDR"; addr: string }
  | { code: "DIAL_FAILED"; addr: string; reason: string }
  | { code: "PEER_KEY_INVALID"; path: string; reason: string };

/** Network faults reported to the caller of the Network API. */
export class NetworkError extends RustChainError<NetworkErrorType> {}
