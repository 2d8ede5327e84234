// The CLI's calls to the gateways: the guardian set a VAA is checked against, gathering a VAA from the committee until
// a quorum signed, and sending a transaction from the user's account, its revert turned into the docs/bridge.md code
// with a hint of what to do next.
import { bridgeErrorCode } from "@rustchain/shared/bridge/errors";
import { type Hex, type PublicClient, parseEventLogs, type TransactionReceipt } from "viem";
import { type CollectedVaa, collectVaa } from "../committeeSignatures.ts";
import type { ChainName } from "../deployment.ts";
import { gatewayAbi } from "../gatewayAbi.ts";
import { revertOf } from "../revert.ts";
import { cliError } from "./bridgeCliError.ts";
import type { BridgeMessage } from "./bridgeMessages.ts";
import type { CliContext, UserWallet } from "./cliContext.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function guardianSetOf(ctx: CliContext, chain: ChainName): Promise<{ index: number; keys: string[] }> {
  const at = { address: ctx.gateway(chain), abi: gatewayAbi } as const;
  const client = ctx.clients[chain];
  const index = Number(await client.readContract({ ...at, functionName: "guardianSetIndex" }));
  const [keys] = await client.readContract({ ...at, functionName: "guardianSet", args: [index] });
  return { index, keys: [...keys] };
}

/** What the committee has signed of `m`, checked against the set of the gateway the VAA goes to. */
export async function committeeSignatures(
  ctx: CliContext,
  m: BridgeMessage,
  verifyOn: ChainName,
): Promise<CollectedVaa | undefined> {
  return collectVaa({
    rpcUrls: ctx.deployment.rustchain.signatureRpcUrls,
    emitterChain: m.body.emitterChain,
    emitterAddress: `0x${Buffer.from(m.body.emitterAddress).toString("hex")}`,
    sequence: m.body.sequence,
    guardianSet: await guardianSetOf(ctx, verifyOn),
  });
}

/** Ask the committee until a quorum signed `m` (the committee signs once the source block is final). */
export async function waitForVaa(
  ctx: CliContext,
  m: BridgeMessage,
  verifyOn: ChainName,
  timeoutMs: number,
): Promise<CollectedVaa & { vaa: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const c = await committeeSignatures(ctx, m, verifyOn).catch(() => undefined);
    if (c?.vaa) {
      ctx.out.progress(`committee signatures: ${c.signatures}/${c.quorum} needed, VAA ready`);
      return c as CollectedVaa & { vaa: string };
    }
    const now = c ? `committee signatures: ${c.signatures}/${c.quorum} needed` : "waiting for the committee to sign";
    if (now !== last) ctx.out.progress(`${now} (the committee signs once the source block is final)`);
    last = now;
    if (Date.now() >= deadline)
      throw cliError(
        { code: "TIMEOUT", reason: "signatures" },
        `no quorum of committee signatures for ${m.digest} after ${Math.round(timeoutMs / 1000)}s (${c ? `${c.signatures} of ${c.quorum}` : "the committee has not seen the message"}); try again later or raise --timeout`,
      );
    await sleep(1_000);
  }
}

type GatewayWrite =
  | { functionName: "completeTransfer" | "cancelTransfer" | "refund"; args: [Hex] }
  | { functionName: "releaseQueued"; args: [Hex] }
  | { functionName: "transferNative"; args: [number, Hex, bigint, number]; value: bigint }
  | { functionName: "transferTokens"; args: [Hex, bigint, number, Hex, bigint, number] };

/**
 * Simulate, send and wait for a gateway transaction from the user's account. A revert becomes a REVERTED error whose
 * message starts with the gateway's code, then `hints[code]` when there is one. `gateway`: the chain's bridge gateway
 * unless told (the Wormhole gateway on RustChain).
 */
export async function sendToGateway(
  ctx: CliContext,
  chain: ChainName,
  wallet: UserWallet,
  call: GatewayWrite,
  hints: Partial<Record<string, string>> = {},
  gateway: Hex = ctx.gateway(chain),
): Promise<TransactionReceipt> {
  // releaseQueued depends on the clock: simulate it in the block being built (an idle hardhat node's latest block
  // can be far behind the time the transaction will be mined at)
  const blockTag = call.functionName === "releaseQueued" ? ("pending" as const) : undefined;
  const client = ctx.clients[chain];
  const simulate = (at: { blockTag?: "pending"; blockNumber?: bigint }) =>
    client.simulateContract({
      address: gateway,
      abi: gatewayAbi,
      account: wallet.account,
      ...call,
      ...at,
    } as Parameters<PublicClient["simulateContract"]>[0]);
  let hash: Hex;
  try {
    const { request } = await simulate({ blockTag });
    hash = await wallet.writeContract(request as Parameters<UserWallet["writeContract"]>[0]);
  } catch (e) {
    throw refusal(e, call.functionName, chain, hints);
  }
  ctx.out.progress(`${call.functionName} sent on ${chain}: ${hash}`);
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: 120_000 });
  if (receipt.status !== "success") {
    // passed the simulation, reverted when mined: someone got there first (the relayer). Its reason, replayed on the
    // state after that block, says what happened.
    const replay = await simulate({ blockNumber: receipt.blockNumber }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (replay) throw refusal(replay, call.functionName, chain, hints);
    throw cliError(
      { code: "REVERTED", bridgeCode: undefined, reason: "reverted" },
      `${call.functionName} reverted on ${chain} (tx ${hash})`,
    );
  }
  return receipt;
}

export function refusal(e: unknown, what: string, chain: ChainName, hints: Partial<Record<string, string>>) {
  const { code, reason } = revertOf(e);
  const hint = code ? hints[code] : undefined;
  return cliError(
    { code: "REVERTED", bridgeCode: bridgeErrorCode(code), reason },
    code ? `${reason}${hint ? `: ${hint}` : ""}` : `${what} on ${chain} refused: ${reason}`,
  );
}

export function gatewayEvents(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: gatewayAbi, logs: receipt.logs });
}
