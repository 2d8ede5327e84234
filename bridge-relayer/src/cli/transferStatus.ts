// Where a transfer stands: the relayer's status API when the deployment names one and it answers, otherwise read from
// the chains themselves (the destination gateway's isCompleted/queuedUntil and events, the source's outbound record,
// the committee's signatures). Both give records of the relayer's shape (transferStore.ts) so scripts read one shape.
import { bytesToHex } from "@rustchain/shared";
import { REFUND_PAYLOAD_ID } from "@rustchain/shared/bridge/payloads";
import { fromUniversalAddress } from "@rustchain/shared/bridge/vaa";
import { getAbiItem, type Hex, toEventSelector, toHex } from "viem";
import { type ChainName, chainOf } from "../deployment.ts";
import { gatewayAbi } from "../gatewayAbi.ts";
import type { TransferRecord, TransferState } from "../transferStore.ts";
import { type BridgeMessage, otherChain } from "./bridgeMessages.ts";
import type { CliContext } from "./cliContext.ts";
import { committeeSignatures } from "./gatewayCalls.ts";

/** A transfer as the status API shows it (transferStore.ts's record); the chains alone give the fields below. */
export type TransferView = Pick<
  TransferRecord,
  | "digest"
  | "kind"
  | "sourceChain"
  | "destinationChain"
  | "emitterChain"
  | "emitterAddress"
  | "sequence"
  | "sourceTx"
  | "sourceBlock"
  | "sender"
  | "recipient"
  | "amount"
  | "fee"
  | "tokenChain"
  | "tokenAddress"
  | "state"
> &
  Partial<Pick<TransferRecord, "signatures" | "quorum" | "destinationTx" | "releaseTime" | "related" | "lastError">> & {
    hasVaa?: boolean;
    etaSeconds?: number | null;
  };

export const FINAL_STATES: ReadonlySet<string> = new Set<TransferState>(["completed", "refunded"]);

const STATUS_TIMEOUT_MS = 5_000;

/** Transfers the relayer knows for a tx hash, digest or address; undefined when it is not configured or silent. */
export async function relayerSearch(ctx: CliContext, q: string): Promise<TransferView[] | undefined> {
  const base = ctx.deployment.relayer?.statusUrl;
  if (!base) return undefined;
  try {
    const res = await fetch(new URL(`/api/transfers?q=${encodeURIComponent(q)}`, base), {
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
    });
    if (!res.ok) return undefined;
    const json = (await res.json()) as { transfers?: TransferView[] };
    return Array.isArray(json.transfers) ? json.transfers : undefined;
  } catch {
    return undefined;
  }
}

/** One transfer from the relayer: null if it does not know the digest (yet), undefined if it does not answer. */
export async function relayerTransfer(ctx: CliContext, digest: string): Promise<TransferView | null | undefined> {
  const base = ctx.deployment.relayer?.statusUrl;
  if (!base) return undefined;
  try {
    const res = await fetch(new URL(`/api/transfers/${digest}`, base), {
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
    });
    if (res.status === 404) return null;
    if (!res.ok) return undefined;
    return (await res.json()) as TransferView;
  } catch {
    return undefined;
  }
}

export function statusPageUrl(ctx: CliContext, q: string): string | null {
  const base = ctx.deployment.relayer?.statusUrl;
  return base ? new URL(`/?q=${q}`, base).toString() : null;
}

/** Where the message goes: a transfer's toChain; a refund or attestation goes to the other chain. */
export function destinationOf(ctx: CliContext, m: BridgeMessage): ChainName {
  const p = m.payload;
  if (p && (p.payloadId === 1 || p.payloadId === 3))
    return chainOf(ctx.deployment, p.toChain) ?? otherChain(m.sourceChain);
  return otherChain(m.sourceChain);
}

/** The message's state read from the chains and the committee (no relayer needed). */
export async function chainStatus(ctx: CliContext, m: BridgeMessage): Promise<TransferView> {
  const destination = destinationOf(ctx, m);
  const dst = ctx.clients[destination];
  const src = ctx.clients[m.sourceChain];
  const p = m.payload;
  const isTransfer = p?.payloadId === 1 || p?.payloadId === 3;
  const view: TransferView = {
    digest: m.digest,
    kind: isTransfer ? "transfer" : p?.payloadId === REFUND_PAYLOAD_ID ? "refund" : "asset_meta",
    sourceChain: m.sourceChain,
    destinationChain: destination,
    emitterChain: m.body.emitterChain,
    emitterAddress: bytesToHex(m.body.emitterAddress),
    sequence: m.body.sequence.toString(),
    sourceTx: m.txHash ?? "",
    sourceBlock: m.blockNumber?.toString() ?? "",
    sender: "",
    recipient: isTransfer ? bytesToHex(fromUniversalAddress(p.to)) : "",
    amount: isTransfer ? p.amount.toString() : "0",
    fee: p?.payloadId === 1 ? p.fee.toString() : "0",
    tokenChain: isTransfer ? p.tokenChain : 0,
    tokenAddress: isTransfer ? bytesToHex(p.tokenAddress) : bytesToHex(new Uint8Array(32)),
    state: "signing",
  };
  if (m.txHash) {
    const tx = await src.getTransaction({ hash: m.txHash }).catch(() => undefined);
    if (tx) view.sender = tx.from.toLowerCase();
  }
  const signed = await committeeSignatures(ctx, m, destination).catch(() => undefined);
  view.signatures = signed?.signatures ?? 0;
  if (signed) view.quorum = signed.quorum;
  view.hasVaa = Boolean(signed?.vaa);

  if (p?.payloadId === REFUND_PAYLOAD_ID) {
    // a refund is done once the original transfer's outbound record (on the refund's destination) says so
    view.related = bytesToHex(p.originalDigest);
    const [, , , refunded] = await dst.readContract({
      address: ctx.gateway(destination),
      abi: gatewayAbi,
      functionName: "outbound",
      args: [p.originalSequence],
    });
    view.state = refunded ? "refunded" : signed?.vaa ? "signed" : await pending(ctx, m);
    return view;
  }
  if (!isTransfer) {
    view.state = signed?.vaa ? "signed" : await pending(ctx, m);
    return view;
  }

  const at = { address: ctx.gateway(destination), abi: gatewayAbi, args: [m.digest] } as const;
  const [consumed, queuedUntil, outbound] = await Promise.all([
    dst.readContract({ ...at, functionName: "isCompleted" }),
    dst.readContract({ ...at, functionName: "queuedUntil" }),
    src.readContract({
      address: ctx.gateway(m.sourceChain),
      abi: gatewayAbi,
      functionName: "outbound",
      args: [m.body.sequence],
    }),
  ]);
  const events = await destinationEvents(ctx, destination, m.digest);
  if (!view.sender && !/^0x0{40}$/.test(outbound[0])) view.sender = outbound[0].toLowerCase();
  if (outbound[3]) view.state = "refunded";
  else if (queuedUntil > 0n) {
    view.state = "queued";
    view.releaseTime = Number(queuedUntil);
  } else if (events.cancelledTx) view.state = "refund_requested";
  else if (consumed) view.state = "completed";
  else if (
    await dst.readContract({
      address: ctx.gateway(destination),
      abi: gatewayAbi,
      functionName: "isPaused",
      args: [p.tokenChain, bytesToHex(p.tokenAddress) as Hex],
    })
  )
    view.state = "refundable";
  else view.state = signed?.vaa ? "signed" : await pending(ctx, m);
  if (events.completedTx) view.destinationTx = events.completedTx;
  else if (events.cancelledTx) view.destinationTx = events.cancelledTx;
  return view;
}

/** Not signed yet: still waiting for the source block to be final, or final and being signed. */
async function pending(ctx: CliContext, m: BridgeMessage): Promise<TransferState> {
  if (m.blockNumber === undefined) return "signing";
  const finalized = await ctx.clients[m.sourceChain]
    .getBlock({ blockTag: "finalized" })
    .then((b) => b.number ?? 0n)
    .catch(() => undefined);
  return finalized !== undefined && finalized < m.blockNumber ? "waiting_finality" : "signing";
}

const DIGEST_EVENTS = {
  completedTx: toEventSelector(getAbiItem({ abi: gatewayAbi, name: "TransferCompleted" })),
  cancelledTx: toEventSelector(getAbiItem({ abi: gatewayAbi, name: "TransferCancelled" })),
  queuedTx: toEventSelector(getAbiItem({ abi: gatewayAbi, name: "TransferQueued" })),
} as const;
/** Within the RustChain RPC's eth_getLogs range limit (10 000 blocks). */
const EVENT_SCAN_BLOCKS = 5_000n;
const EVENT_SCAN_MAX_BLOCKS = 500_000n;

/**
 * The destination transactions that completed, cancelled or queued a digest (events indexed by digest), newest
 * blocks first, back to the gateway's deployment (at most EVENT_SCAN_MAX_BLOCKS). Empty if the chain does not answer.
 * `at`: the chain's bridge gateway unless told (the Wormhole gateway on RustChain).
 */
export async function destinationEvents(
  ctx: CliContext,
  chain: ChainName,
  digest: Hex,
  at: { gateway: Hex; fromBlock: number } = { gateway: ctx.gateway(chain), fromBlock: ctx.deployment[chain].fromBlock },
): Promise<{ completedTx?: Hex; cancelledTx?: Hex; queuedTx?: Hex }> {
  const client = ctx.clients[chain];
  const found: { completedTx?: Hex; cancelledTx?: Hex; queuedTx?: Hex } = {};
  try {
    const first = BigInt(at.fromBlock);
    const latest = await client.getBlockNumber({ cacheTime: 0 });
    const floor = latest - EVENT_SCAN_MAX_BLOCKS > first ? latest - EVENT_SCAN_MAX_BLOCKS : first;
    for (let to = latest; to >= floor; to -= EVENT_SCAN_BLOCKS) {
      const from = to - EVENT_SCAN_BLOCKS + 1n > floor ? to - EVENT_SCAN_BLOCKS + 1n : floor;
      const logs = (await client.request({
        method: "eth_getLogs",
        params: [
          {
            address: at.gateway,
            topics: [Object.values(DIGEST_EVENTS), digest],
            fromBlock: toHex(from),
            toBlock: toHex(to),
          },
        ],
      })) as unknown as { topics: Hex[]; transactionHash: Hex }[];
      for (const log of logs.reverse())
        for (const [key, selector] of Object.entries(DIGEST_EVENTS) as [keyof typeof found, Hex][])
          if (log.topics[0]?.toLowerCase() === selector) found[key] ??= log.transactionHash;
      if (found.completedTx || found.cancelledTx) break;
    }
  } catch {
    // events are extra detail: the gateway's views (isCompleted, queuedUntil) decide
  }
  return found;
}
