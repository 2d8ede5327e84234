// `rustchain bridge refund <source-txhash|digest>`: return a transfer that cannot complete (its asset is paused on the
// destination) to its sender, without the relayer (docs/bridge.md, "Refunds"): cancelTransfer(vaa) on the destination
// consumes the digest and publishes a Refund; the committee signs that once it is final; refund(vaa) on the source
// pays back what it escrowed or burned (its outbound record), which this prints.
import { REFUND_PAYLOAD_ID } from "@rustchain/shared/bridge/payloads";
import { formatUnits, type Hex } from "viem";
import type { ChainName } from "../deployment.ts";
import { gatewayAbi } from "../gatewayAbi.ts";
import { cliError } from "./bridgeCliError.ts";
import { type BridgeMessage, findTransfer, messagesOfTx } from "./bridgeMessages.ts";
import { tokenOnChain } from "./bridgeToken.ts";
import type { CliContext } from "./cliContext.ts";
import { sendToGateway, waitForVaa } from "./gatewayCalls.ts";
import { destinationEvents, destinationOf } from "./transferStatus.ts";

export interface RefundOptions {
  timeout: number;
}

export interface RefundResult {
  /** The refunded transfer. */
  digest: Hex;
  sourceChain: ChainName;
  destinationChain: ChainName;
  sequence: string;
  /** cancelTransfer on the destination (an earlier one's, if it was cancelled already). */
  cancelTx: Hex;
  refundDigest: Hex;
  refundSequence: string;
  /** refund on the source; null when someone else (the relayer) refunded it first. */
  refundTx: Hex | null;
  /** The source's outbound(sequence) after the refund: what was paid back, in the token's units. */
  refunded: { sender: string; token: string; symbol: string | null; amount: string; formatted: string | null };
}

export async function runRefund(ctx: CliContext, query: string, o: RefundOptions): Promise<RefundResult> {
  const account = await ctx.account();
  const m = await findTransfer(ctx.deployment, ctx.clients, query);
  const source = m.sourceChain;
  const destination = destinationOf(ctx, m);
  const timeoutMs = o.timeout * 1000;
  ctx.out.progress(`transfer ${m.digest}: ${source} → ${destination}, sequence ${m.body.sequence}`);

  if ((await outbound(ctx, source, m.body.sequence)).refunded)
    throw cliError(
      { code: "REVERTED", bridgeCode: "ALREADY_REFUNDED", reason: "refunded" },
      `ALREADY_REFUNDED: sequence ${m.body.sequence} on ${source} was refunded already`,
    );

  // 1. cancel on the destination, unless it was cancelled already (then take that cancellation's Refund)
  const events = await destinationEvents(ctx, destination, m.digest);
  let cancelTx = events.cancelledTx;
  if (!cancelTx) {
    if (events.completedTx)
      throw cliError(
        { code: "REVERTED", bridgeCode: "VAA_CONSUMED", reason: "completed" },
        `VAA_CONSUMED: already completed on ${destination} (tx ${events.completedTx}); nothing to refund`,
      );
    const collected = await waitForVaa(ctx, m, destination, timeoutMs);
    const receipt = await sendToGateway(
      ctx,
      destination,
      ctx.wallet(destination, account),
      { functionName: "cancelTransfer", args: [collected.vaa as Hex] },
      {
        NOT_CANCELLABLE: `it can complete on ${destination}; \`rustchain bridge redeem ${query}\` completes it`,
        VAA_CONSUMED: "already completed or cancelled on the destination",
      },
    );
    cancelTx = receipt.transactionHash;
  }
  const refundMessage = (await messagesOfTx(ctx.deployment, ctx.clients, destination, cancelTx))?.find(
    (x) => x.payload?.payloadId === REFUND_PAYLOAD_ID,
  );
  if (!refundMessage)
    throw cliError(
      { code: "NOT_FOUND", reason: "refund message" },
      `${cancelTx}: the cancellation published no Refund message`,
    );
  ctx.out.progress(
    `cancelled on ${destination} (tx ${cancelTx}); Refund message ${refundMessage.digest}, sequence ${refundMessage.body.sequence}`,
  );

  // 2. the committee signs the Refund once it is final on the destination; the source checks it against its set
  const collected = await waitForVaa(ctx, refundMessage, source, timeoutMs);
  let refundTx: Hex | null = null;
  try {
    const receipt = await sendToGateway(ctx, source, ctx.wallet(source, account), {
      functionName: "refund",
      args: [collected.vaa as Hex],
    });
    refundTx = receipt.transactionHash;
  } catch (e) {
    // the relayer may have refunded it first (it relays Refund messages too): the outcome the user asked for
    if (!(await outbound(ctx, source, m.body.sequence)).refunded) throw e;
    ctx.out.progress("refunded by someone else (the relayer) meanwhile");
  }
  return report(ctx, m, refundMessage, { source, destination, cancelTx, refundTx });
}

async function outbound(ctx: CliContext, chain: ChainName, sequence: bigint) {
  const [sender, token, amount, refunded] = await ctx.clients[chain].readContract({
    address: ctx.gateway(chain),
    abi: gatewayAbi,
    functionName: "outbound",
    args: [sequence],
  });
  return { sender, token, amount, refunded };
}

async function report(
  ctx: CliContext,
  m: BridgeMessage,
  refundMessage: BridgeMessage,
  r: { source: ChainName; destination: ChainName; cancelTx: Hex; refundTx: Hex | null },
): Promise<RefundResult> {
  const o = await outbound(ctx, r.source, m.body.sequence);
  const token = tokenOnChain(ctx.deployment, r.source, o.token);
  const formatted = token ? `${formatUnits(o.amount, token.decimals)} ${token.symbol}` : null;
  const result: RefundResult = {
    digest: m.digest,
    sourceChain: r.source,
    destinationChain: r.destination,
    sequence: m.body.sequence.toString(),
    cancelTx: r.cancelTx,
    refundDigest: refundMessage.digest,
    refundSequence: refundMessage.body.sequence.toString(),
    refundTx: r.refundTx,
    refunded: {
      sender: o.sender,
      token: o.token,
      symbol: token?.symbol ?? null,
      amount: o.amount.toString(),
      formatted,
    },
  };
  if (!o.refunded)
    throw cliError(
      { code: "REVERTED", bridgeCode: undefined, reason: "not refunded" },
      `refund sent (tx ${r.refundTx}) but outbound(${m.body.sequence}) on ${r.source} is not marked refunded`,
    );
  ctx.out.result(
    [
      `Refunded ${formatted ?? `${o.amount} units of ${o.token}`} to ${o.sender} on ${r.source}`,
      `  transfer:  ${m.digest} (sequence ${result.sequence})`,
      `  cancelled: ${r.cancelTx} on ${r.destination}`,
      `  refund:    ${r.refundTx ?? "(by someone else)"} on ${r.source}`,
    ],
    result,
  );
  return result;
}
