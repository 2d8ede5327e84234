// `rustchain bridge status <chain>/<emitter>/<sequence>`: where a Wormhole message to RustChain stands. The relayer's
// status API first (GET /api/wormhole/…; an unknown message is handed to it with POST so it picks it up); without a
// relayer, the guardian API and the Wormhole gateway: signed and consumed (completed, or queued by the gateway's
// governor), signed and not yet redeemed, held by the guardians' governor (its release time), or not signed yet.
import { bytesToHex } from "@rustchain/shared";
import type { Hex } from "viem";
import { gatewayAbi } from "../gatewayAbi.ts";
import { gatewayGuardianSet } from "../gatewayGuardianSet.ts";
import { fetchEnqueuedVaas, fetchSignedVaa, messageId, type SignedVaaQuery } from "../guardianApi.ts";
import type { WormholeMessage } from "../transferStore.ts";
import { cliError } from "./bridgeCliError.ts";
import type { CliContext } from "./cliContext.ts";
import type { TransferView } from "./transferStatus.ts";

export interface WormholeStatus {
  source: "relayer" | "chain";
  id: string;
  /** waiting_signatures | queued (guardians' governor) | skipped | relayed, or from the chain: signed | completed. */
  state: string;
  /** Unix seconds: when the guardians' (or the gateway's) governor releases it. */
  releaseTime: number | null;
  etaSeconds: number | null;
  digest: string | null;
  transfer: TransferView | null;
  reason: string | null;
}

const TIMEOUT_MS = 5_000;

async function fromRelayer(ctx: CliContext, id: string): Promise<WormholeStatus | undefined> {
  const base = ctx.deployment.relayer?.statusUrl;
  if (!base) return undefined;
  const url = new URL(`/api/wormhole/${id}`, base);
  const get = () => fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  try {
    const res = await get();
    if (res.status === 404) {
      await res.body?.cancel();
      await fetch(url, { method: "POST", signal: AbortSignal.timeout(TIMEOUT_MS) }).then((r) => r.body?.cancel());
      return undefined; // not known to it (yet): read the sources now
    }
    if (!res.ok) return undefined;
    const { message, transfer } = (await res.json()) as {
      message: WormholeMessage & { etaSeconds: number | null };
      transfer: TransferView | null;
    };
    return {
      source: "relayer",
      id,
      state: message.state,
      releaseTime: transfer?.releaseTime ?? message.releaseTime ?? null,
      etaSeconds: transfer?.etaSeconds ?? message.etaSeconds ?? null,
      digest: message.digest ?? null,
      transfer,
      reason: message.reason ?? null,
    };
  } catch {
    return undefined;
  }
}

async function fromSources(ctx: CliContext, q: SignedVaaQuery, id: string): Promise<WormholeStatus> {
  const w = ctx.deployment.wormhole;
  if (!w)
    throw cliError(
      { code: "DEPLOYMENT", reason: "no wormhole section" },
      `deployment file ${ctx.options.deployment} has no "wormhole" section (the Wormhole gateway on RustChain)`,
    );
  const client = ctx.clients.rustchain;
  const status: WormholeStatus = {
    source: "chain",
    id,
    state: "waiting_signatures",
    releaseTime: null,
    etaSeconds: null,
    digest: null,
    transfer: null,
    reason: null,
  };
  const answer = await fetchSignedVaa({
    baseUrl: w.guardianApiUrl,
    query: q,
    guardianSet: (index) => gatewayGuardianSet(client, w.gateway as Hex, index),
    now: Math.floor(Date.now() / 1000),
  });
  if (answer.state === "pending") {
    const held = (await fetchEnqueuedVaas(w.guardianApiUrl).catch(() => undefined))?.get(id);
    if (held) {
      status.state = "queued";
      status.releaseTime = held.releaseTime;
      status.etaSeconds = Math.max(0, held.releaseTime - Math.floor(Date.now() / 1000));
    }
    return status;
  }
  const digest = bytesToHex(answer.vaa.digest) as Hex;
  status.digest = digest;
  const at = { address: w.gateway as Hex, abi: gatewayAbi, args: [digest] } as const;
  const queuedUntil = Number(await client.readContract({ ...at, functionName: "queuedUntil" }));
  if (queuedUntil > 0) {
    status.state = "queued";
    status.releaseTime = queuedUntil;
  } else status.state = (await client.readContract({ ...at, functionName: "isCompleted" })) ? "completed" : "signed";
  return status;
}

const LINES: Record<string, (s: WormholeStatus) => string> = {
  waiting_signatures: (s) =>
    `waiting for the guardians' signatures${s.etaSeconds !== null ? ` (expected in about ${s.etaSeconds} s)` : ""}`,
  queued: (s) =>
    `queued by the governor until ${new Date((s.releaseTime ?? 0) * 1000).toISOString()}${s.transfer ? " (RustChain's Wormhole gateway)" : ""}`,
  skipped: (s) => `skipped by the relayer: ${s.reason ?? "not a transfer to RustChain"}`,
  signed: () => "signed by the guardians, not yet redeemed (`rustchain bridge redeem --wormhole <id>` does it)",
};

export async function runWormholeStatus(ctx: CliContext, q: SignedVaaQuery): Promise<WormholeStatus> {
  const id = messageId(q);
  const s = (await fromRelayer(ctx, id)) ?? (await fromSources(ctx, q, id));
  if (s.transfer) s.state = s.transfer.state === "queued" ? "queued" : s.transfer.state;
  const line = LINES[s.state]?.(s) ?? s.state;
  ctx.out.result(
    [
      `Wormhole message ${id}`,
      ...(s.digest ? [`  digest: ${s.digest}`] : []),
      ...(s.transfer
        ? [`  ${s.transfer.amount} (8-decimal units) to ${s.transfer.recipient}, fee ${s.transfer.fee}`]
        : []),
      `  state: ${line}`,
      ...(s.transfer?.destinationTx ? [`  destination tx: ${s.transfer.destinationTx}`] : []),
      "",
      s.source === "relayer"
        ? "(from the relayer's status API)"
        : "(read from the guardian API and the Wormhole gateway: the relayer did not answer or did not know it)",
    ],
    s,
  );
  return s;
}
