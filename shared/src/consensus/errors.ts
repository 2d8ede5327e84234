import { RustChainError } from "../errors.ts";

export type MessageErrorType = { code: "MESSAGE_MALFORMED"; reason: string };

/**
 * A consensus message (attestation, aggregate, finalize vote) that cannot be decoded or encoded: wrong size,
 * non-canonical RLP, bad field, or an FFG link that can never be valid. Nothing was changed; on gossip this is a REJECT.
 */
export class MessageError extends RustChainError<MessageErrorType> {}
