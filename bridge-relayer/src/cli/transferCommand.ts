// `rustchain bridge deposit` (Ethereum → RustChain) and `withdraw` (RustChain → Ethereum): the native coin through
// transferNative (payable), a token through approve + transferTokens (a home ERC-20 is escrowed, a wrapped token burned
// with the allowance). Prints the source transaction, the message's sequence and digest, and follows it with --wait.
import { randomInt } from "node:crypto";
import { bytesToHex } from "@rustchain/shared";
import { erc20Abi, formatUnits, getAddress, type Hex, isAddress, pad } from "viem";
import type { ChainName } from "../deployment.ts";
import { type BridgeAmount, bridgeAmount, formatNormalized } from "./bridgeAmount.ts";
import { cliError } from "./bridgeCliError.ts";
import { messagesOfLogs, otherChain, rpcLogOf } from "./bridgeMessages.ts";
import { type BridgeToken, resolveToken } from "./bridgeToken.ts";
import type { CliContext, UserWallet } from "./cliContext.ts";
import { sendToGateway } from "./gatewayCalls.ts";
import { followTransfer } from "./statusCommand.ts";
import { statusPageUrl } from "./transferStatus.ts";

export interface TransferOptions {
  token: string;
  amount: string;
  to?: string;
  fee?: string;
  wait?: boolean;
  timeout: number;
}

export type Direction = "deposit" | "withdraw";

export const SOURCE_OF: Record<Direction, ChainName> = { deposit: "ethereum", withdraw: "rustchain" };

const FEE_HINTS = {
  ASSET_PAUSED: "this asset is paused on the bridge; try again once it is resumed",
  AMOUNT_TOO_SMALL: "the amount is zero at the bridge's 8 decimals",
  FEE_TOO_HIGH: "the fee is more than the amount",
  ASSET_UNKNOWN: "the gateway does not bridge this token (attest it on its home chain first)",
};

export async function runTransfer(ctx: CliContext, direction: Direction, o: TransferOptions) {
  const d = ctx.deployment;
  const source = SOURCE_OF[direction];
  const destination = otherChain(source);
  // everything that needs no network first: a bad argument changes nothing
  if (o.to !== undefined && !isAddress(o.to, { strict: false }))
    throw cliError({ code: "BAD_ARGUMENT", reason: "--to" }, `--to: "${o.to}" is not a 0x address`);
  const token = resolveToken(d, source, o.token);
  let amount = token.decimals !== undefined ? bridgeAmount(o.amount, o.fee, token.decimals) : undefined;
  const account = await ctx.account();
  const wallet = ctx.wallet(source, account);
  const client = ctx.clients[source];
  if (!amount) {
    const [decimals, symbol] = await Promise.all([
      client.readContract({ address: token.address, abi: erc20Abi, functionName: "decimals" }),
      client.readContract({ address: token.address, abi: erc20Abi, functionName: "symbol" }).catch(() => token.symbol),
    ]);
    token.decimals = decimals;
    token.symbol = symbol;
    amount = bridgeAmount(o.amount, o.fee, decimals);
  }
  const decimals = token.decimals as number;
  const recipient = getAddress(o.to ?? account.address);
  const show = (v: bigint) => `${formatUnits(v, decimals)} ${token.symbol}`;
  if (amount.dust > 0n)
    ctx.out.progress(
      `note: ${show(amount.dust)} is below the bridge's 8 decimals and stays with you; sending ${show(amount.sent)}`,
    );

  const approveTx = token.native ? null : await approveIfNeeded(ctx, source, wallet, token, amount.sent);
  const nonce = randomInt(0, 2 ** 31);
  const to32 = pad(recipient) as Hex;
  const toChain = d[destination].wormholeChain;
  const receipt = await sendToGateway(
    ctx,
    source,
    wallet,
    token.native
      ? { functionName: "transferNative", args: [toChain, to32, amount.fee, nonce], value: amount.sent }
      : { functionName: "transferTokens", args: [token.address, amount.sent, toChain, to32, amount.fee, nonce] },
    FEE_HINTS,
  );
  const block = await client.getBlock({ blockNumber: receipt.blockNumber });
  const message = messagesOfLogs(d, source, receipt.logs.map(rpcLogOf), Number(block.timestamp))[0];
  if (!message)
    throw cliError(
      { code: "NOT_FOUND", reason: "LogMessagePublished" },
      `${receipt.transactionHash}: mined, but the gateway published no message (is ${ctx.gateway(source)} the gateway?)`,
    );
  const result = {
    direction,
    sourceChain: source,
    destinationChain: destination,
    token: { symbol: token.symbol, address: token.address, decimals, native: token.native },
    sender: account.address,
    recipient,
    amount: amountJson(amount, decimals),
    approveTx,
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber.toString(),
    sequence: message.body.sequence.toString(),
    emitterChain: message.body.emitterChain,
    emitterAddress: bytesToHex(message.body.emitterAddress),
    digest: message.digest,
    statusUrl: statusPageUrl(ctx, message.digest),
    finalState: null as string | null,
  };
  const lines = [
    `${direction === "deposit" ? "Deposited" : "Withdrew"} ${show(amount.sent)} from ${source} to ${recipient} on ${destination}`,
    ...(amount.fee > 0n ? [`  relayer fee: ${formatNormalized(amount.fee, decimals)} ${token.symbol}`] : []),
    ...(amount.dust > 0n ? [`  dust kept (below 8 decimals): ${show(amount.dust)}`] : []),
    `  source tx: ${result.txHash}`,
    `  sequence:  ${result.sequence}`,
    `  digest:    ${result.digest}`,
    ...(result.statusUrl ? [`  status:    ${result.statusUrl}`] : []),
  ];
  if (o.wait) {
    ctx.out.progress(lines.join("\n"));
    const final = await followTransfer(ctx, message, o.timeout * 1000);
    result.finalState = final.state;
    ctx.out.result([`transfer ${final.state}${final.destinationTx ? ` (tx ${final.destinationTx})` : ""}`], result);
  } else
    ctx.out.result(
      [
        ...lines,
        "",
        `The committee signs it once the source block is final; then the relayer completes it, or run \`rustchain bridge redeem ${result.txHash}\`.`,
      ],
      result,
    );
  return { message, result };
}

function amountJson(a: BridgeAmount, decimals: number) {
  return {
    requested: formatUnits(a.requested, decimals),
    sent: formatUnits(a.sent, decimals),
    dust: formatUnits(a.dust, decimals),
    fee: formatNormalized(a.fee, decimals),
    /** In the token's smallest units. */
    sentUnits: a.sent.toString(),
    /** As the payload carries them (8 decimals). */
    normalized: a.normalized.toString(),
    normalizedFee: a.fee.toString(),
  };
}

/** approve(gateway, amount) unless the allowance already covers it; the gateway takes (or burns) with it. */
async function approveIfNeeded(
  ctx: CliContext,
  chain: ChainName,
  wallet: UserWallet,
  token: BridgeToken,
  amount: bigint,
): Promise<Hex | null> {
  const client = ctx.clients[chain];
  const gateway = ctx.gateway(chain);
  const [allowance, balance] = await Promise.all([
    client.readContract({
      address: token.address,
      abi: erc20Abi,
      functionName: "allowance",
      args: [wallet.account.address, gateway],
    }),
    client.readContract({
      address: token.address,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [wallet.account.address],
    }),
  ]);
  if (balance < amount)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "balance" },
      `your ${token.symbol} balance on ${chain} is ${formatUnits(balance, token.decimals ?? 0)}, less than ${formatUnits(amount, token.decimals ?? 0)}`,
    );
  if (allowance >= amount) return null;
  const hash = await wallet.writeContract({
    address: token.address,
    abi: erc20Abi,
    functionName: "approve",
    args: [gateway, amount],
  });
  ctx.out.progress(`approve sent on ${chain}: ${hash}`);
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: 120_000 });
  if (receipt.status !== "success")
    throw cliError({ code: "REVERTED", bridgeCode: undefined, reason: "approve" }, `approve reverted (tx ${hash})`);
  return hash;
}
