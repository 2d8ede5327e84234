// Amounts the user types (decimal, in the token's units) and what of them crosses the bridge: payloads carry 8
// decimals (docs/bridge.md, "Payloads"), so for a token with more the rest (the dust) stays with the sender.
import { NORMALIZED_DECIMALS, normalizeAmount } from "@rustchain/shared/bridge/payloads";
import { formatUnits, parseUnits } from "viem";
import { cliError } from "./bridgeCliError.ts";

const DECIMAL = /^(\d{1,78})(?:\.(\d{1,78}))?$/;

/** `text` ("1.5", "0.000001", "20") in units of a `decimals`-decimal token; refuses what the token cannot hold. */
export function parseDecimalAmount(text: string, decimals: number, what: string): bigint {
  const m = DECIMAL.exec(text.trim());
  if (!m)
    throw cliError({ code: "BAD_ARGUMENT", reason: what }, `${what}: "${text}" is not a decimal amount (e.g. 1.5)`);
  const fraction = m[2] ?? "";
  if (fraction.replace(/0+$/, "").length > decimals)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: what },
      `${what}: ${text} has more than the token's ${decimals} decimals`,
    );
  return parseUnits(`${m[1]}${fraction ? `.${fraction}` : ""}`, decimals);
}

export interface BridgeAmount {
  /** What the user asked for, in the token's units. */
  requested: bigint;
  /** What leaves the sender: `requested − dust`. */
  sent: bigint;
  /** Below the 8th decimal: stays with the sender. */
  dust: bigint;
  /** The payload's 8-decimal amount. */
  normalized: bigint;
  /** The payload's 8-decimal fee (paid to whoever completes the transfer). */
  fee: bigint;
  decimals: number;
}

/** Amount and fee of a transfer of a `decimals`-decimal token, as the gateway will take them. */
export function bridgeAmount(amountText: string, feeText: string | undefined, decimals: number): BridgeAmount {
  const requested = parseDecimalAmount(amountText, decimals, "--amount");
  const { normalized, dust } = normalizeAmount(requested, decimals);
  if (normalized === 0n)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "--amount" },
      `--amount: ${amountText} is zero at the bridge's ${NORMALIZED_DECIMALS} decimals (AMOUNT_TOO_SMALL)`,
    );
  let fee = 0n;
  if (feeText !== undefined) {
    // at most 8 decimals travel, so the fee is typed with at most those (the payload's units)
    fee = parseDecimalAmount(feeText, Math.min(decimals, NORMALIZED_DECIMALS), "--fee");
    if (fee > normalized)
      throw cliError(
        { code: "BAD_ARGUMENT", reason: "--fee" },
        `--fee: ${feeText} is more than the amount sent (FEE_TOO_HIGH)`,
      );
  }
  return { requested, sent: requested - dust, dust, normalized, fee, decimals };
}

/** A payload's 8-decimal amount in a `decimals`-decimal token's units, as a decimal string. */
export function formatNormalized(normalized: bigint, decimals: number): string {
  return formatUnits(normalized, Math.min(decimals, NORMALIZED_DECIMALS));
}
