// The Worker's GatewayCache: verified blocks and CARs in the colo's Cache API (caches.default), shared by every isolate
// there, under a synthetic URL per chain and key. Not KV: content is large, immutable and cheap to fetch again from
// the core, and the Cache API evicts by itself; not the isolate's memory, which is 128 MB for everything.
import { IMMUTABLE_CACHE_CONTROL } from "@rustchain/shared/content/trustlessGateway";
import type { GatewayCache } from "../app/contract.ts";

export class CacheApiGatewayCache implements GatewayCache {
  constructor(
    /** `caches.default`; undefined where the runtime has none (every lookup misses). */
    private readonly cache: Cache | undefined,
    /** Keeps chains apart (the chain id). */
    private readonly namespace: string,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    // A failing cache is a miss, never a failed request.
    const hit = await this.cache?.match(this.url(key)).catch(() => undefined);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.cache
      ?.put(
        this.url(key),
        new Response(bytes, {
          headers: { "content-type": "application/octet-stream", "cache-control": IMMUTABLE_CACHE_CONTROL },
        }),
      )
      .catch(() => undefined);
  }

  private url(key: string): string {
    return `https://rustchain-edge.cache/${this.namespace}/ipfs/${encodeURIComponent(key)}`;
  }
}
