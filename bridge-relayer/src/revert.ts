// Why a contract call failed, from viem's error: the revert reason and, when it starts with one of the bridge's
// codes (docs/bridge.md, "Errors"), that code. The relayer and the CLI decide on the code, never on the text.
import { bridgeErrorCode } from "@rustchain/shared/bridge/errors";
import { BaseError, ContractFunctionRevertedError } from "viem";

/** A revert's reason text and our code, from a viem error. */
export function revertOf(e: unknown): { code: string | undefined; reason: string } {
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    const reason = reverted?.reason ?? reverted?.shortMessage ?? e.shortMessage;
    return { code: bridgeErrorCode(reverted?.reason), reason };
  }
  return { code: undefined, reason: (e as Error).message ?? String(e) };
}
