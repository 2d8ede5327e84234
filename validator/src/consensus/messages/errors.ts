import { RustChainError } from "@rustchain/shared";

export type MessageErrorType = { code: "MESSAGE_MALFORMED"; reason: string };

/**
 * An attestation or aggregate that cannot be decoded or encoded: wrong size, non-canonical RLP, bad field, or an FFG
 * link that can never be valid. Nothing was changed; on gossip this is a REJECT.
 */
export class MessageError extends RustChainError<MessageErrorType> {}

export type EvidenceErrorType =
  | { code: "EVIDENCE_MALFORMED"; reason: string }
  | { code: "EVIDENCE_NOT_SLASHABLE"; reason: string }
  | { code: "EVIDENCE_BAD_SIGNATURE"; message: 1 | 2 }
  | { code: "EVIDENCE_UNKNOWN_VALIDATOR"; validatorIndex: number };

/**
 * Slashing evidence that proves nothing: undecodable, two messages that are not a slashable pair, a signature that
 * does not verify, or an offender outside the validator set. A block carrying it is invalid; on gossip it is a REJECT
 * (UNKNOWN_VALIDATOR may be an IGNORE while the local validator set lags).
 */
export class EvidenceError extends RustChainError<EvidenceErrorType> {}
