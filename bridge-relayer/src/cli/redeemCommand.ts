// `rustchain bridge redeem <source-txhash|digest>`: complete a transfer without the relayer. Find the message, gather
// its VAA from the committee (checked against the destination's guardian set) until a quorum signed, then send
// completeTransfer from the user's account; a transfer the governor queues is released with releaseQueued after its
// release time (--wait). The user pays the destination gas and gets the payload's fee.
import { bytesToHex } from "@rustchain/shared";
import { fromUniversalAddress } from "@rustchain/shared/bridge/vaa";
import type { Account, Hex } from "viem";
import type { ChainName } from "../deployment.ts";
import { gatewayAbi } from "../gatewayAbi.ts";
import { formatNormalized } from "./bridgeAmount.ts";
import { cliError } from "./bridgeCliError.ts";
import { type BridgeMessage, findTransfer } from "./bridgeMessages.ts";
import { tokenOfHome } from "./bridgeToken.ts";
import type { CliContext } from "./cliContext.ts";
import { gatewayEvents, sendToGateway, sleep, waitForVaa } from "./gatewayCalls.ts";
import { destinationEvents, destinationOf } from "./transferStatus.ts";

export interface RedeemOptions {
  wait?: boolean;
  timeout: number;
}

export interface RedeemResult {
  digest: Hex;
  sourceChain: ChainName;
  destinationChain: ChainName;
  sequence: string;
  /** completed: paid out (by this command's tx); queued: the governor holds it until releaseTime. */
  state: "completed" | "queued";
  /** The completeTransfer transaction (null when an earlier one queued it). */
  tx: Hex | null;
  /** The releaseQueued transaction, when this command released it. */
  releaseTx: Hex | null;
  releaseTime: number | null;
  recipient: string;
  /** From TransferCompleted, normalised (8 decimals) as in the payload: paid to the recipient, and the fee paid to
   *  this account (null when another account's transaction completed it). */
  amount: string | null;
  fee: string | null;
  signatures: number | null;
  quorum: number | null;
}

export async function runRedeem(ctx: CliContext, query: string, o: RedeemOptions): Promise<RedeemResult> {
  const account = await ctx.account();
  const m = await findTransfer(ctx.deployment, ctx.clients, query);
  const destination = destinationOf(ctx, m);
  const dst = ctx.clients[destination];
  const at = { address: ctx.gateway(destination), abi: gatewayAbi, args: [m.digest] } as const;
  const result: RedeemResult = {
    digest: m.digest,
    sourceChain: m.sourceChain,
    destinationChain: destination,
    sequence: m.body.sequence.toString(),
    state: "queued",
    tx: null,
    releaseTx: null,
    releaseTime: null,
    recipient: bytesToHex(fromUniversalAddress(m.payload.to)),
    amount: null,
    fee: null,
    signatures: null,
    quorum: null,
  };
  const token = tokenOfHome(ctx.deployment, m.payload.tokenChain, bytesToHex(m.payload.tokenAddress));
  const show = (v: bigint) =>
    token ? `${formatNormalized(v, token.decimals)} ${token.symbol}` : `${v} (8-decimal units)`;
  ctx.out.progress(`transfer ${m.digest}: ${m.sourceChain} → ${destination}, sequence ${result.sequence}`);

  let releaseTime = Number(await dst.readContract({ ...at, functionName: "queuedUntil" }));
  if (releaseTime === 0) {
    const earlier = await destinationEvents(ctx, destination, m.digest);
    if (earlier.cancelledTx || (await dst.readContract({ ...at, functionName: "isCompleted" }))) {
      throw cliError(
        { code: "REVERTED", bridgeCode: "VAA_CONSUMED", reason: "consumed" },
        earlier.cancelledTx
          ? `VAA_CONSUMED: cancelled on ${destination} for a refund (tx ${earlier.cancelledTx}); \`rustchain bridge refund ${query}\` finishes it`
          : `VAA_CONSUMED: already completed${earlier.completedTx ? ` (tx ${earlier.completedTx})` : ""}`,
      );
    }
    const collected = await waitForVaa(ctx, m, destination, o.timeout * 1000);
    result.signatures = collected.signatures;
    result.quorum = collected.quorum;
    const receipt = await sendToGateway(
      ctx,
      destination,
      ctx.wallet(destination, account),
      { functionName: "completeTransfer", args: [collected.vaa as Hex] },
      {
        VAA_CONSUMED: "already completed",
        ASSET_PAUSED: `the asset is paused on ${destination}; \`rustchain bridge refund ${query}\` returns it to the sender`,
        NOT_RECIPIENT: `only the recipient contract ${result.recipient} may complete a transfer with payload`,
        ASSET_UNKNOWN: `no wrapped token for this asset on ${destination} yet`,
        VAA_WRONG_CHAIN: `the transfer is not for ${destination}`,
      },
    );
    result.tx = receipt.transactionHash;
    const events = gatewayEvents(receipt);
    const completed = events.find((e) => e.eventName === "TransferCompleted");
    const queued = events.find((e) => e.eventName === "TransferQueued");
    if (completed?.eventName === "TransferCompleted") return done(ctx, result, completed.args, show);
    releaseTime = queued?.eventName === "TransferQueued" ? Number(queued.args.releaseTime) : 0;
  }

  result.releaseTime = releaseTime;
  const when = new Date(releaseTime * 1000).toISOString();
  if (!o.wait && !(await released(ctx, destination, releaseTime))) {
    ctx.out.result(
      [
        `Queued by the governor on ${destination} until ${when}.`,
        `  digest: ${m.digest}${result.tx ? `\n  tx:     ${result.tx}` : ""}`,
        `Anyone may release it after that: \`rustchain bridge redeem ${query} --wait\` (or the relayer) does.`,
      ],
      result,
    );
    return result;
  }
  ctx.out.progress(`queued by the governor on ${destination} until ${when}; waiting to release it`);
  return release(ctx, m, destination, account, result, o.timeout, show);
}

/** The destination's clock (its latest block, or now if later: an idle devnet chain mines no blocks) is past `t`. */
async function released(ctx: CliContext, chain: ChainName, t: number): Promise<boolean> {
  const latest = Number((await ctx.clients[chain].getBlock()).timestamp);
  return Math.max(latest, Math.floor(Date.now() / 1000)) >= t;
}

async function release(
  ctx: CliContext,
  m: BridgeMessage,
  destination: ChainName,
  account: Account,
  result: RedeemResult,
  timeoutSeconds: number,
  show: (v: bigint) => string,
): Promise<RedeemResult> {
  const releaseTime = result.releaseTime ?? 0;
  // the wait for the release time does not count against --timeout: the user asked to wait for it
  const deadline = Math.max(Date.now(), releaseTime * 1000) + timeoutSeconds * 1000;
  const wallet = ctx.wallet(destination, account);
  for (;;) {
    if (await released(ctx, destination, releaseTime)) {
      try {
        const receipt = await sendToGateway(ctx, destination, wallet, {
          functionName: "releaseQueued",
          args: [m.bodyHex],
        });
        result.releaseTx = receipt.transactionHash;
        const completed = gatewayEvents(receipt).find((e) => e.eventName === "TransferCompleted");
        return done(ctx, result, completed?.eventName === "TransferCompleted" ? completed.args : undefined, show);
      } catch (e) {
        const code = (e as { type?: { bridgeCode?: string } }).type?.bridgeCode;
        if (code === "NOT_QUEUED") {
          // someone (the relayer) released it first
          const events = await destinationEvents(ctx, destination, m.digest);
          if (events.completedTx) {
            result.releaseTx = events.completedTx;
            return done(ctx, result, undefined, show);
          }
          throw e;
        }
        if (code !== "NOT_RELEASED") throw e;
      }
    }
    if (Date.now() >= deadline)
      throw cliError(
        { code: "TIMEOUT", reason: "release" },
        `still queued after ${timeoutSeconds}s past its release time ${new Date(releaseTime * 1000).toISOString()}`,
      );
    await sleep(Math.min(5_000, Math.max(500, releaseTime * 1000 - Date.now())));
  }
}

function done(
  ctx: CliContext,
  result: RedeemResult,
  paid: { to: string; amount: bigint; fee: bigint } | undefined,
  show: (v: bigint) => string,
): RedeemResult {
  result.state = "completed";
  if (paid) {
    result.amount = paid.amount.toString();
    result.fee = paid.fee.toString();
  }
  ctx.out.result(
    [
      `Completed on ${result.destinationChain}: ${result.releaseTx ? `released in tx ${result.releaseTx}` : `tx ${result.tx}`}`,
      `  digest:    ${result.digest}`,
      `  recipient: ${result.recipient}`,
      ...(paid ? [`  paid out:  ${show(paid.amount - paid.fee)} to the recipient, fee ${show(paid.fee)} to you`] : []),
    ],
    result,
  );
  return result;
}
