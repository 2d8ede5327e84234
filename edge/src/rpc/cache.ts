// The in-memory response cache: a bounded LRU of serialised results. Keys are built by the pipeline (edge/src/rpc/
// pipeline.ts) so that a key identifies exactly one answer: immutable entries by method and canonical params, the
// others under a key containing the block hash they were computed at. Eviction is the only way an entry leaves, so an
// entry is never "stale": it was either true forever or keyed by the block it is true for.
import type { ResponseCache } from "../app/contract.ts";
import { Lru } from "../util/lru.ts";

export interface LruResponseCacheOptions {
  /** Most entries kept (default 10 000). */
  maxEntries?: number;
  /** Most characters kept over keys and values together (default 32 Mi characters). */
  maxBytes?: number;
}

export class LruResponseCache implements ResponseCache {
  private readonly lru: Lru<string>;

  constructor(opts: LruResponseCacheOptions = {}) {
    this.lru = new Lru<string>({
      maxEntries: Math.max(1, opts.maxEntries ?? 10_000),
      maxCost: Math.max(1, opts.maxBytes ?? 32 * 1024 * 1024),
      cost: (key, json) => key.length + json.length,
    });
  }

  get size(): number {
    return this.lru.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.lru.get(key);
  }

  async put(key: string, json: string, _immutable: boolean): Promise<void> {
    this.lru.set(key, json);
  }
}
