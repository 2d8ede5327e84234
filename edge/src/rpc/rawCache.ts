// The edge's first-level cache: whole replies to repeated identical bodies, keyed on the raw body text and the
// replica's tips (its bundle sequence and head hash). Most dApp traffic is the same few reads polled by many clients
// (eth_blockNumber, a balance, the finalized block); a hit skips JSON parsing, routing and the per-call cache, and
// costs a map lookup. Correct by construction: every cached body holds only pure reads (RAW_CACHEABLE_METHODS below, answered
// from the replica, the per-call cache or the config), so for the same tips the same body has the same answer; any new
// bundle changes the tips key and every entry misses. Bodies that reached the core, subscribed, sent a transaction or
// failed inside the edge are never stored. A hit is still rate limited and counted like the calls it answers.
import type { RpcReply } from "@rustchain/shared/rpc/envelope";
import { ReplicaReads } from "../replica/reads.ts";

/** What a hit needs besides the reply: the calls to count and charge, and the single call's id for a 429. */
export interface RawCacheEntry {
  tipsKey: string;
  reply: RpcReply;
  /** Each call's method and whether it answered a result (for the metrics). */
  calls: readonly { method: string; ok: boolean }[];
  /** Rate-limit tokens the body costs (its calls, as the envelope charges them). */
  cost: number;
  /** The id of a body that is one call, for a 429's envelope; null for a batch. */
  id: string | number | null;
}

export interface RawCacheOptions {
  /** Entries kept (least recently used evicted). */
  maxEntries: number;
  /** Longest body (UTF-16 units) looked up or stored: keys stay small. */
  maxBodyChars: number;
  /** Longest reply body stored. */
  maxReplyChars: number;
}

export const defaultRawCacheOptions: RawCacheOptions = {
  maxEntries: 10_000,
  maxBodyChars: 2_048,
  maxReplyChars: 64 * 1024,
};

/**
 * A body of only these methods, answered without the core, may be stored: the replica's reads and the answers the
 * edge gives from its config.
 */
export const RAW_CACHEABLE_METHODS: ReadonlySet<string> = new Set([
  ...ReplicaReads.methods,
  "eth_chainId",
  "net_version",
  "web3_clientVersion",
]);

export class RawResponseCache {
  private readonly entries = new Map<string, RawCacheEntry>();
  hits = 0;
  misses = 0;

  constructor(readonly opts: RawCacheOptions = defaultRawCacheOptions) {}

  /** Whether a body this long is worth a lookup. */
  accepts(text: string): boolean {
    return text.length <= this.opts.maxBodyChars;
  }

  get(text: string, tipsKey: string): RawCacheEntry | undefined {
    const e = this.entries.get(text);
    if (!e || e.tipsKey !== tipsKey) {
      this.misses++;
      return undefined;
    }
    // Least recently used goes first: a hit moves to the end.
    this.entries.delete(text);
    this.entries.set(text, e);
    this.hits++;
    return e;
  }

  set(text: string, entry: RawCacheEntry): void {
    if (!this.accepts(text) || (entry.reply.body?.length ?? 0) > this.opts.maxReplyChars) return;
    this.entries.delete(text);
    this.entries.set(text, entry);
    if (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
