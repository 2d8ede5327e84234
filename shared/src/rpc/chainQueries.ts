// The rules of the read methods that the node (validator/src/rpc/ethApi.ts) and the edge's replica
// (edge/src/replica/reads.ts) both apply, written once: block tags, eth_getLogs ranges and log matching (also the edge's
// logs subscriptions), and eth_feeHistory over a source of blocks. Pure: the callers bring the data.
import { type ChainParams, nextBaseFee } from "../genesis.ts";
import { bytesToHex, type Hex, toQuantity } from "../hex.ts";
import { rpcErrors } from "../rpcErrors.ts";
import { effectiveTip, rewardPercentiles } from "./fees.ts";
import type { BlockId, BlockTag, FilterRequest } from "./params.ts";

/** The chain's tips by number; a tip that is unknown (no finality yet, a replica not told) is undefined. */
export interface TipNumbers {
  head: bigint;
  safe: bigint | undefined;
  finalized: bigint | undefined;
}

/** The block number a tag names, or undefined when it names a tip that is not known. */
export function tagNumber(tag: BlockTag, tips: TipNumbers): bigint | undefined {
  switch (tag) {
    case "latest":
    case "pending":
      return tips.head;
    case "earliest":
      return 0n;
    case "safe":
    case "finalized":
      return tips[tag];
    default:
      return tag;
  }
}

/** A tag that names one block for good (a number or `earliest`; `latest`, `safe`... move). */
export const isFixedTag = (tag: BlockTag): boolean => typeof tag === "bigint" || tag === "earliest";
export const isFixedId = (id: BlockId | undefined): boolean => id !== undefined && ("hash" in id || isFixedTag(id.tag));

/** The blocks an eth_getLogs range covers: none (a range starting above the head), or from..to. */
export type LogRange = { kind: "empty" } | { kind: "range"; from: bigint; to: bigint; fixed: boolean };

/**
 * eth_getLogs' block range as geth resolves it: missing ends are `latest`, the upper end is cut at the head, a range
 * starting above the head is empty, an inverted one is -32602, one longer than `maxRange` blocks is -32005. Undefined
 * when an end names an unknown tip. `fixed`: both ends absolute and the upper one not cut at the moving head.
 */
export function logRange(f: FilterRequest, tips: TipNumbers, maxRange: bigint): LogRange | undefined {
  const fromTag = f.fromBlock ?? "latest";
  const toTag = f.toBlock ?? "latest";
  const from = tagNumber(fromTag, tips);
  let to = tagNumber(toTag, tips);
  if (from === undefined || to === undefined) return undefined;
  const fixed = isFixedTag(fromTag) && isFixedTag(toTag) && to <= tips.head;
  if (to > tips.head) to = tips.head;
  if (from > to) {
    if (f.fromBlock !== undefined && from > tips.head) return { kind: "empty" };
    throw rpcErrors.invalidBlockRange();
  }
  if (to - from + 1n > maxRange) throw rpcErrors.logRangeTooLarge(maxRange);
  return { kind: "range", from, to, fixed };
}

/**
 * A log filter as plain JSON (lowercase hex; `topics[i]` null matches anything): what a logs subscription stores (the
 * edge keeps it in a Durable Object's hibernation attachment).
 */
export interface LogFilterJson {
  address?: Hex[];
  topics?: (Hex[] | null)[];
}

export function logFilterJson(f: Pick<FilterRequest, "addresses" | "topics">): LogFilterJson {
  const out: LogFilterJson = {};
  if (f.addresses.length) out.address = f.addresses.map(bytesToHex);
  if (f.topics.length) out.topics = f.topics.map((alts) => (alts ? alts.map(bytesToHex) : null));
  return out;
}

/** Matches logs (their address and topics as hex, either case) against one filter, as geth's filter does. */
export class LogMatcher {
  private readonly addresses: ReadonlySet<string>;
  private readonly topics: readonly (ReadonlySet<string> | null)[];

  constructor(f: LogFilterJson | Pick<FilterRequest, "addresses" | "topics">) {
    const json = "addresses" in f ? logFilterJson(f) : f;
    this.addresses = new Set((json.address ?? []).map((a) => a.toLowerCase()));
    this.topics = (json.topics ?? []).map((alts) =>
      alts && alts.length > 0 ? new Set(alts.map((t) => t.toLowerCase())) : null,
    );
  }

  matches(address: string, topics: readonly unknown[]): boolean {
    if (this.addresses.size && !this.addresses.has(address.toLowerCase())) return false;
    for (let i = 0; i < this.topics.length; i++) {
      const want = this.topics[i];
      if (!want) continue;
      const got = topics[i];
      if (typeof got !== "string" || !want.has(got.toLowerCase())) return false;
    }
    return true;
  }

  /** A log as the JSON-RPC answers carry it (`{ address, topics, ... }`). */
  matchesJson(log: { address?: unknown; topics?: unknown }): boolean {
    return this.matches(
      typeof log.address === "string" ? log.address : "",
      Array.isArray(log.topics) ? (log.topics as unknown[]) : [],
    );
  }
}

// ---- eth_feeHistory ----

/** One block of an eth_feeHistory range; `txs` only when rewards were asked for (non-empty percentiles). */
export interface FeeHistoryBlock {
  baseFeePerGas: bigint;
  gasUsed: bigint;
  gasLimit: bigint;
  txs?: readonly { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; gasUsed: bigint }[];
}

export interface FeeHistory {
  oldestBlock: Hex;
  baseFeePerGas: Hex[];
  gasUsedRatio: number[];
  reward?: Hex[][];
}

export interface FeeHistoryOptions {
  params: Pick<ChainParams, "minBaseFeePerGas" | "elasticityMultiplier" | "baseFeeChangeDenominator">;
  maxBlocks: bigint;
}

/** The range eth_feeHistory covers: `count` blocks (at most maxBlocks) ending at `newest`. */
export function feeHistoryRange(count: bigint, newest: bigint, maxBlocks: bigint): { first: bigint; last: bigint } {
  const n = count > maxBlocks ? maxBlocks : count;
  const first = newest + 1n >= n ? newest + 1n - n : 0n;
  return { first, last: newest < first ? first : newest };
}

/**
 * eth_feeHistory as geth answers it, over `blocks` (the range's blocks in order; a shorter list ends the answer early,
 * undefined means "cannot answer"). `newest` is the resolved newest block; count 0 answers an empty history.
 */
export async function feeHistory(
  count: bigint,
  newest: bigint,
  percentiles: readonly number[] | undefined,
  opts: FeeHistoryOptions,
  blocks: (first: bigint, last: bigint, withTxs: boolean) => Promise<readonly FeeHistoryBlock[] | undefined>,
): Promise<FeeHistory | undefined> {
  if (count === 0n) {
    const empty: FeeHistory = { oldestBlock: "0x0", baseFeePerGas: [], gasUsedRatio: [] };
    if (percentiles) empty.reward = [];
    return empty;
  }
  const { first, last } = feeHistoryRange(count, newest, opts.maxBlocks);
  const list = await blocks(first, last, (percentiles?.length ?? 0) > 0);
  if (!list) return undefined;
  const out: FeeHistory = {
    oldestBlock: toQuantity(first),
    baseFeePerGas: list.map((b) => toQuantity(b.baseFeePerGas)),
    gasUsedRatio: list.map((b) => (b.gasLimit === 0n ? 0 : Number(b.gasUsed) / Number(b.gasLimit))),
  };
  const lastBlock = list[list.length - 1];
  if (lastBlock) out.baseFeePerGas.push(toQuantity(nextBaseFee(opts.params as ChainParams, lastBlock)));
  if (percentiles) {
    out.reward = list.map((b) =>
      percentiles.length === 0
        ? []
        : rewardPercentiles(
            (b.txs ?? []).map((t) => ({
              tip: effectiveTip(t.maxFeePerGas, t.maxPriorityFeePerGas, b.baseFeePerGas),
              gasUsed: t.gasUsed,
            })),
            b.gasUsed,
            percentiles,
          ),
    );
  }
  return out;
}
