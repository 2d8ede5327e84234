// `rustchain bridge status <txhash|digest|address|chain/emitter/sequence>` and following a transfer until it is done (`--wait` of deposit
// and withdraw): the relayer's status API first, the chains when there is no relayer or it does not answer.
import { parseMessageId } from "../guardianApi.ts";
import { formatNormalized } from "./bridgeAmount.ts";
import { cliError } from "./bridgeCliError.ts";
import { type BridgeMessage, findMessages, txOrDigest } from "./bridgeMessages.ts";
import { tokenOfHome } from "./bridgeToken.ts";
import type { CliContext } from "./cliContext.ts";
import { sleep } from "./gatewayCalls.ts";
import {
  chainStatus,
  FINAL_STATES,
  relayerSearch,
  relayerTransfer,
  statusPageUrl,
  type TransferView,
} from "./transferStatus.ts";
import { runWormholeStatus, type WormholeStatus } from "./wormholeStatus.ts";

const QUERY = /^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

export interface StatusResult {
  /** Where the answer came from. */
  source: "relayer" | "chain";
  transfers: TransferView[];
}

export async function runStatus(ctx: CliContext, query: string): Promise<StatusResult | WormholeStatus> {
  const wormhole = parseMessageId(query);
  if (wormhole) return runWormholeStatus(ctx, wormhole);
  if (!QUERY.test(query))
    throw cliError(
      { code: "BAD_ARGUMENT", reason: query },
      `"${query}" is not a 0x transaction hash, digest or address, nor a Wormhole <chain>/<emitter>/<sequence>`,
    );
  const q = query.toLowerCase();
  const fromRelayer = await relayerSearch(ctx, q);
  if (fromRelayer && (fromRelayer.length > 0 || q.length === 42)) {
    print(ctx, "relayer", fromRelayer, q);
    return { source: "relayer", transfers: fromRelayer };
  }
  if (q.length === 42)
    throw cliError(
      { code: "NOT_FOUND", reason: "relayer" },
      ctx.deployment.relayer
        ? `the relayer at ${ctx.deployment.relayer.statusUrl} does not answer; without it transfers can be looked up by tx hash or digest only`
        : "searching by address needs the relayer's status API (deployment.relayer.statusUrl); look up a tx hash or digest instead",
    );
  const messages = await findMessages(ctx.deployment, ctx.clients, txOrDigest(q));
  if (messages.length === 0)
    throw cliError(
      { code: "NOT_FOUND", reason: q },
      `${q}: neither a transaction on either chain nor the digest of a bridge message`,
    );
  const transfers = await Promise.all(messages.map((m) => chainStatus(ctx, m)));
  print(ctx, "chain", transfers, q);
  return { source: "chain", transfers };
}

function print(ctx: CliContext, source: "relayer" | "chain", transfers: TransferView[], q: string) {
  const lines =
    transfers.length === 0
      ? [`no transfers for ${q}`]
      : transfers.flatMap((t, i) => [...(i > 0 ? [""] : []), ...describeTransfer(ctx, t)]);
  lines.push(
    "",
    source === "relayer"
      ? `(from the relayer's status API; page: ${statusPageUrl(ctx, q)})`
      : `(read from the chains and the committee${ctx.deployment.relayer ? ": the relayer did not answer" : ""})`,
  );
  ctx.out.result(lines, { source, transfers });
}

export function describeTransfer(ctx: CliContext, t: TransferView): string[] {
  const token = tokenOfHome(ctx.deployment, t.tokenChain, t.tokenAddress);
  const amount = (v: string) =>
    token ? `${formatNormalized(BigInt(v), token.decimals)} ${token.symbol}` : `${v} (8-decimal units)`;
  const lines = [`${t.kind} ${t.digest}`, `  ${t.sourceChain} → ${t.destinationChain}, sequence ${t.sequence}`];
  if (t.sourceTx) lines.push(`  source tx: ${t.sourceTx}`);
  if (t.kind === "transfer")
    lines.push(`  ${amount(t.amount)} to ${t.recipient}${t.fee !== "0" ? ` (relayer fee ${amount(t.fee)})` : ""}`);
  if (t.kind === "refund" && t.related) lines.push(`  refunds transfer ${t.related}`);
  lines.push(`  state: ${stateLine(t)}`);
  if (t.quorum) lines.push(`  committee signatures: ${t.signatures ?? 0}/${t.quorum}`);
  if (t.destinationTx) lines.push(`  destination tx: ${t.destinationTx}`);
  if (t.lastError) lines.push(`  last error: ${t.lastError}`);
  return lines;
}

function stateLine(t: TransferView): string {
  switch (t.state) {
    case "queued":
      return `queued by the governor until ${t.releaseTime ? new Date(t.releaseTime * 1000).toISOString() : "?"}`;
    case "refundable":
      return "refundable (its asset is paused on the destination): `rustchain bridge refund` returns it";
    case "refund_requested":
      return "cancelled on the destination; refund on its way";
    case "signed":
      return "signed by the committee, ready to complete (`rustchain bridge redeem` does it without the relayer)";
    case "waiting_finality":
      return "waiting for the source block to be final";
    default:
      return t.state;
  }
}

/**
 * Follow a message until it is completed or refunded, printing each state change; returns its last view. Uses the
 * relayer while it answers, the chains otherwise.
 */
export async function followTransfer(ctx: CliContext, m: BridgeMessage, timeoutMs: number): Promise<TransferView> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const fromRelayer = await relayerTransfer(ctx, m.digest);
    const view = fromRelayer ?? (await chainStatus(ctx, m).catch(() => undefined));
    if (view) {
      const line = `${stateLine(view)}${view.quorum && !FINAL_STATES.has(view.state) ? ` (signatures ${view.signatures ?? 0}/${view.quorum})` : ""}`;
      if (line !== last) ctx.out.progress(`state: ${line}`);
      last = line;
      if (FINAL_STATES.has(view.state)) return view;
    }
    if (Date.now() >= deadline)
      throw cliError(
        { code: "TIMEOUT", reason: "wait" },
        `${m.digest} not completed after ${Math.round(timeoutMs / 1000)}s (last state: ${view?.state ?? "unknown"}); \`rustchain bridge status ${m.digest}\` shows where it stands`,
      );
    await sleep(1_000);
  }
}
