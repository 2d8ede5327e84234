// The guardian sets a gateway holds (its `guardianSetIndex()` and `guardianSet(index)` views), in the shape
// `verifyVaa` checks against: a VAA is verified here exactly as the gateway will, before anything is submitted.
import { hexToBytes } from "@rustchain/shared";
import { BridgeError } from "@rustchain/shared/bridge/errors";
import type { GuardianSet } from "@rustchain/shared/bridge/vaa";
import type { Hex, PublicClient } from "viem";
import { gatewayAbi } from "./gatewayAbi.ts";

/** The set `index` (default: the current one); VAA_UNKNOWN_GUARDIAN_SET when the gateway has none by that index. */
export async function gatewayGuardianSet(client: PublicClient, gateway: Hex, index?: number): Promise<GuardianSet> {
  const at = { address: gateway, abi: gatewayAbi } as const;
  const i = index ?? Number(await client.readContract({ ...at, functionName: "guardianSetIndex" }));
  const [keys, expiry] = await client.readContract({ ...at, functionName: "guardianSet", args: [i] });
  if (keys.length === 0)
    throw new BridgeError({ code: "VAA_UNKNOWN_GUARDIAN_SET", reason: `the gateway holds no guardian set ${i}` });
  // expiry 0: the current set, which does not expire
  return { index: i, keys: keys.map((k) => hexToBytes(k)), expiresAt: expiry > 0n ? Number(expiry) : undefined };
}
