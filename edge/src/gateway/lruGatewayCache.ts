// The Node host's GatewayCache: verified blocks and CARs in process memory, least recently used evicted first, bounded
// in bytes. Not Redis: a block is immutable and verified, so instances need not agree on anything (each one filling
// its own cache from the core is correct, only a little more traffic to the core), while megabytes of content in the
// Redis that holds the replica would compete with it for memory and cost a round trip per hit.
import type { GatewayCache } from "../app/contract.ts";
import { Lru } from "../util/lru.ts";

export interface LruGatewayCacheOptions {
  /** Most bytes kept over all entries (default 64 MiB). */
  maxBytes: number;
  /** Largest single entry (default 8 MiB, the gateway's largest cached CAR). */
  maxEntryBytes: number;
}

export const defaultLruGatewayCacheOptions: LruGatewayCacheOptions = {
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 8 * 1024 * 1024,
};

export class LruGatewayCache implements GatewayCache {
  private readonly lru: Lru<Uint8Array>;

  constructor(private readonly opts: LruGatewayCacheOptions = defaultLruGatewayCacheOptions) {
    // Bounded in bytes only: entries are blocks and CARs, at least a few bytes each.
    this.lru = new Lru<Uint8Array>({
      maxEntries: Number.MAX_SAFE_INTEGER,
      maxCost: opts.maxBytes,
      cost: (_key, bytes) => bytes.length,
    });
  }

  get size(): number {
    return this.lru.size;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.lru.get(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length <= this.opts.maxEntryBytes) this.lru.set(key, bytes);
  }
}
