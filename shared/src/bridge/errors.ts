// Bridge errors. The codes are the ones both gateways put at the start of their revert strings (docs/bridge.md,
// "Errors"), so a refusal reads the same in the codec, the validator, the relayer and on either chain.
import { RustChainError } from "../errors.ts";

export const BRIDGE_ERROR_CODES = [
  "VAA_MALFORMED",
  "VAA_VERSION",
  "VAA_UNKNOWN_GUARDIAN_SET",
  "VAA_GUARDIAN_SET_EXPIRED",
  "VAA_SIGNATURE_ORDER",
  "VAA_BAD_SIGNATURE",
  "VAA_QUORUM",
  "VAA_CONSUMED",
  "VAA_WRONG_CHAIN",
  "VAA_UNKNOWN_EMITTER",
  "VAA_PAYLOAD",
  "ASSET_PAUSED",
  "ASSET_UNKNOWN",
  "FEE_TOO_HIGH",
  "AMOUNT_TOO_SMALL",
  "NOT_QUEUED",
  "NOT_RELEASED",
  "NOT_RECIPIENT",
  "NOT_CANCELLABLE",
  "ALREADY_REFUNDED",
  "GOVERNANCE",
  "MESSAGE_FEE",
] as const;

export type BridgeErrorCode = (typeof BRIDGE_ERROR_CODES)[number];

export class BridgeError extends RustChainError<{ code: BridgeErrorCode; reason: string }> {}

const codes: ReadonlySet<string> = new Set(BRIDGE_ERROR_CODES);

/** The code at the start of a gateway's revert reason ("VAA_QUORUM: 2 of 3"), if it is one of ours. */
export function bridgeErrorCode(reason: string | undefined): BridgeErrorCode | undefined {
  const code = /^([A-Z_]+)(?::|$)/.exec(reason ?? "")?.[1];
  return code !== undefined && codes.has(code) ? (code as BridgeErrorCode) : undefined;
}
