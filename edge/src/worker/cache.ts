// The Worker's ResponseCache: answers keyed by block hash live in the isolate's LRU (they are only valid while that
// block is canonical, and the key says which block); immutable answers (finalized data) also go to the colo's Cache API
// and to the FINALIZED KV namespace, so every isolate in every colo can serve them without asking the replica.
// Lookups go LRU → Cache API → KV; a KV hit is copied back into the Cache API and the LRU. The Cache API and KV are
// consulted on every LRU miss because the key is opaque (the pipeline builds it); KV answers a miss from its edge cache.
import type { ResponseCache } from "../app/contract.ts";

export interface WorkerResponseCacheDeps {
  /** The in-isolate cache (an LruResponseCache). */
  local: ResponseCache;
  /** The Cache API cache (`caches.default`); undefined where the runtime has none. */
  cache?: Cache;
  kv: KVNamespace;
  /** Namespaces keys so two chains never share entries (the chain id). */
  namespace: string;
}

/** One year: immutable entries never change, the Cache API evicts them when it needs the room. */
const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class WorkerResponseCache implements ResponseCache {
  constructor(private readonly deps: WorkerResponseCacheDeps) {}

  async get(key: string): Promise<string | undefined> {
    const local = await this.deps.local.get(key);
    if (local !== undefined) return local;
    const { url, kvKey } = await this.sharedKeys(key);
    // A failing shared cache is a miss, never a failed request.
    const cached = await this.deps.cache?.match(url).catch(() => undefined);
    if (cached) {
      const json = await cached.text();
      await this.deps.local.put(key, json, true);
      return json;
    }
    const stored = await this.deps.kv.get(kvKey).catch(() => null);
    if (stored === null) return undefined;
    await this.deps.local.put(key, stored, true);
    await this.putCacheApi(url, stored);
    return stored;
  }

  async put(key: string, json: string, immutable: boolean): Promise<void> {
    await this.deps.local.put(key, json, immutable);
    if (!immutable) return;
    const { url, kvKey } = await this.sharedKeys(key);
    // Awaited: the cache is shared by the isolate's requests, so there is no per-request waitUntil to hand it to, and
    // this happens once per finalized answer.
    await Promise.all([this.putCacheApi(url, json), this.deps.kv.put(kvKey, json).catch(() => undefined)]);
  }

  /** A synthetic URL for the Cache API and a KV key (≤ 512 bytes), both from the key's hash. */
  private async sharedKeys(key: string): Promise<{ url: string; kvKey: string }> {
    const h = await sha256Hex(key);
    return { url: `https://rustchain-edge.cache/${this.deps.namespace}/${h}`, kvKey: `${this.deps.namespace}:${h}` };
  }

  /** Best effort: the Cache API may refuse (e.g. no cache in this runtime); KV still holds the entry. */
  private async putCacheApi(url: string, json: string): Promise<void> {
    if (!this.deps.cache) return;
    await this.deps.cache
      .put(
        url,
        new Response(json, {
          headers: { "content-type": "application/json", "cache-control": IMMUTABLE_CACHE_CONTROL },
        }),
      )
      .catch(() => undefined);
  }
}
