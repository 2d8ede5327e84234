// Errors of the remote signer, on both sides of the wire: the server maps each code to one HTTP status
// (`signerHttpStatus`), the client turns statuses and transport failures back into codes. A slashable request is
// SIGNER_SLASHING_REFUSED carrying the slashing-protection code (DOUBLE_PROPOSAL, DOUBLE_VOTE, …).
import { RustChainError } from "@rustchain/shared";

export type SignerErrorType =
  /** 400: the body or path is malformed (the reason says which field). */
  | { code: "SIGNER_BAD_REQUEST"; reason: string }
  /** 401: no or wrong bearer token. */
  | { code: "SIGNER_UNAUTHORIZED" }
  /** 404: the signer holds no key with this public key. */
  | { code: "SIGNER_UNKNOWN_KEY"; publicKey: string }
  /** 404: no such route; 405: wrong method for the route. */
  | { code: "SIGNER_NOT_FOUND"; path: string }
  | { code: "SIGNER_METHOD_NOT_ALLOWED"; method: string }
  /** 413: body above the limit (nothing read past it). */
  | { code: "SIGNER_BODY_TOO_LARGE"; limit: number }
  /** 412: slashing protection refused; nothing was signed. */
  | { code: "SIGNER_SLASHING_REFUSED"; slashingCode: string; reason: string }
  /** 500: the signer failed (its protection database, …). */
  | { code: "SIGNER_INTERNAL"; reason: string }
  // ---- client side ----
  /** The signer could not be reached or the connection broke (retried). */
  | { code: "SIGNER_UNREACHABLE"; url: string; reason: string }
  /** No answer within the per-request timeout (not retried: the slot's deadline is near). */
  | { code: "SIGNER_TIMEOUT"; url: string; timeoutMs: number }
  /** An answer the client does not accept: unexpected status or malformed body. */
  | { code: "SIGNER_BAD_RESPONSE"; status: number; reason: string }
  /** A returned signature that does not verify against the key and message: never published. */
  | { code: "SIGNER_BAD_SIGNATURE"; publicKey: string; type: string }
  /** At connect: the signer does not list this validator's key. */
  | { code: "SIGNER_KEY_NOT_LISTED"; publicKey: string; url: string }
  /** Server start-up: bad key set or options. */
  | { code: "SIGNER_CONFIG"; reason: string };

export class SignerError extends RustChainError<SignerErrorType> {
  constructor(type: SignerErrorType) {
    super(type, signerErrorMessage(type));
  }
}

export function signerErrorMessage(t: SignerErrorType): string {
  switch (t.code) {
    case "SIGNER_BAD_REQUEST":
      return `bad signing request: ${t.reason}`;
    case "SIGNER_UNAUTHORIZED":
      return "missing or wrong bearer token";
    case "SIGNER_UNKNOWN_KEY":
      return `unknown public key ${t.publicKey}`;
    case "SIGNER_NOT_FOUND":
      return `no such endpoint ${t.path}`;
    case "SIGNER_METHOD_NOT_ALLOWED":
      return `method ${t.method} not allowed here`;
    case "SIGNER_BODY_TOO_LARGE":
      return `body too large (limit ${t.limit} bytes)`;
    case "SIGNER_SLASHING_REFUSED":
      return `slashing protection refused (${t.slashingCode}): ${t.reason}`;
    case "SIGNER_INTERNAL":
      return `signer failure: ${t.reason}`;
    case "SIGNER_UNREACHABLE":
      return `remote signer ${t.url} unreachable: ${t.reason}`;
    case "SIGNER_TIMEOUT":
      return `remote signer ${t.url} did not answer within ${t.timeoutMs} ms`;
    case "SIGNER_BAD_RESPONSE":
      return `unexpected answer from the remote signer (HTTP ${t.status}): ${t.reason}`;
    case "SIGNER_BAD_SIGNATURE":
      return `remote signer returned a ${t.type} signature that does not verify for ${t.publicKey}; not used`;
    case "SIGNER_KEY_NOT_LISTED":
      return `remote signer ${t.url} does not hold the key ${t.publicKey}`;
    case "SIGNER_CONFIG":
      return `signer configuration: ${t.reason}`;
  }
}

/** The one map from server-side codes to HTTP statuses (Web3Signer's: 412 for a slashable request). */
export function signerHttpStatus(code: SignerErrorType["code"]): number {
  switch (code) {
    case "SIGNER_BAD_REQUEST":
      return 400;
    case "SIGNER_UNAUTHORIZED":
      return 401;
    case "SIGNER_UNKNOWN_KEY":
    case "SIGNER_NOT_FOUND":
      return 404;
    case "SIGNER_METHOD_NOT_ALLOWED":
      return 405;
    case "SIGNER_SLASHING_REFUSED":
      return 412;
    case "SIGNER_BODY_TOO_LARGE":
      return 413;
    case "SIGNER_INTERNAL":
    case "SIGNER_UNREACHABLE":
    case "SIGNER_TIMEOUT":
    case "SIGNER_BAD_RESPONSE":
    case "SIGNER_BAD_SIGNATURE":
    case "SIGNER_KEY_NOT_LISTED":
    case "SIGNER_CONFIG":
      return 500;
  }
}
