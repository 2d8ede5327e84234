// The in-memory response cache: a bounded LRU of serialised results. Keys are built by the pipeline (edge/src/rpc/
// pipeline.ts) so that a key identifies exactly one answer: immutable entries by method and canonical params, the
// others under a key containing the block hash they were computed at. Eviction is the only way an entry leaves, so an
// entry is never "stale": it was either true forever or keyed by the block it is true for.
import type { ResponseCache } from "../app/contract.ts";

export interface LruResponseCacheOptions {
  /** Most entries kept (default 10 000). */
  maxEntries?: number;
  /** Most characters kept over keys and values together (default 32 Mi characters). */
  maxBytes?: number;
}

export class LruResponseCache implements ResponseCache {
  private readonly entries = new Map<string, string>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(opts: LruResponseCacheOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 10_000);
    this.maxBytes = Math.max(1, opts.maxBytes ?? 32 * 1024 * 1024);
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Re-insert: Map iteration order is insertion order, so the first key is always the least recently used.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  async put(key: string, json: string, _immutable: boolean): Promise<void> {
    const cost = key.length + json.length;
    if (cost > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.bytes -= key.length + old.length;
    }
    this.entries.set(key, json);
    this.bytes += cost;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      const value = this.entries.get(oldest.value) as string;
      this.entries.delete(oldest.value);
      this.bytes -= oldest.value.length + value.length;
    }
  }
}
