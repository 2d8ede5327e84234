// Refusals of `rustchain bridge …`: bad arguments, a deployment or message that cannot be found, a gateway revert
// (its docs/bridge.md code first), a wait that ran out. The message is the line the user sees after "error: ".
import { RustChainError } from "@rustchain/shared";
import type { BridgeErrorCode } from "@rustchain/shared/bridge/errors";

export type BridgeCliErrorType =
  | { code: "BAD_ARGUMENT"; reason: string }
  | { code: "UNKNOWN_TOKEN"; token: string }
  | { code: "DEPLOYMENT"; reason: string }
  | { code: "NOT_FOUND"; reason: string }
  | { code: "TIMEOUT"; reason: string }
  | { code: "RPC"; reason: string }
  /** A gateway refused a transaction: `bridgeCode` is the revert's code (docs/bridge.md, "Errors") when it has one. */
  | { code: "REVERTED"; bridgeCode: BridgeErrorCode | undefined; reason: string }
  /** A VAA given to `redeem --vaa` that the gateway would refuse, found before anything is sent. */
  | { code: "INVALID_VAA"; bridgeCode: BridgeErrorCode | undefined; reason: string };

export class BridgeCliError extends RustChainError<BridgeCliErrorType> {}

export function cliError(type: BridgeCliErrorType, message: string): BridgeCliError {
  return new BridgeCliError(type, message);
}
