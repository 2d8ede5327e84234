import { RustChainError } from "@rustchain/shared";

export { MessageError, type MessageErrorType } from "@rustchain/shared/consensus/errors";

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
