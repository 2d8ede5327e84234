// The edge's gateway code inside workerd with the Buffer global hidden (nodejs_compat provides one; the gateway must not
// need it): the verifying CAR stream passes a CAR written by @ipld/car and refuses a flipped byte, the gateway streams a
// verified CAR and cuts a tampered one, and verified bytes round-trip through the Cache API (caches.default).
import { describe, expect, it } from "vitest";
import { CarVerifier } from "../../src/gateway/carVerifier.ts";
import { createEdgeGateway, defaultEdgeGatewayOptions } from "../../src/gateway/gateway.ts";
import { carBytes, chunked, flipped, testDag } from "../../src/gateway/testCars.ts";
import { TokenBucketLimiter } from "../../src/rpc/rateLimit.ts";
import { CacheApiGatewayCache } from "../../src/worker/gatewayCache.ts";
import { withoutBuffer } from "./withoutBuffer.ts";

const { root, blocks } = await testDag();
const good = carBytes(root.cid, blocks);

describe("the edge gateway in workerd", () => {
  it("verifies a CAR as it streams and refuses a flipped byte, without Buffer", () =>
    withoutBuffer(() => {
      const v = new CarVerifier(root.cid, false);
      const out = chunked(good, 33).flatMap((c) => v.push(c));
      v.end();
      expect(out.reduce((n, p) => n + p.length, 0)).toBe(good.length);
      const bad = new CarVerifier(root.cid, false);
      expect(() => chunked(flipped(good, good.length - 2), 33).flatMap((c) => bad.push(c))).toThrow(
        "GATEWAY_HASH_MISMATCH",
      );
    }));

  it("streams a verified CAR into the Cache API and serves it from there, without Buffer", () =>
    withoutBuffer(async () => {
      const { get, cache } = gatewayOver(good, "verified");
      const res = await get(`/ipfs/${root.cid}?format=car`);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(good);
      expect(await cache.get(`${root.cid}.car`)).toEqual(good);
      const again = await get(`/ipfs/${root.cid}?format=car`);
      expect(new Uint8Array(await again.arrayBuffer())).toEqual(good);
    }));

  it("cuts a CAR whose later block was tampered with and caches nothing, without Buffer", () =>
    withoutBuffer(async () => {
      const { get, cache } = gatewayOver(flipped(good, good.length - 2), "tampered");
      const res = await get(`/ipfs/${root.cid}?format=car`);
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow();
      expect(await cache.get(`${root.cid}.car`)).toBeUndefined();
    }));
});

/** A gateway whose core always answers `car`, with its own Cache API namespace. */
function gatewayOver(car: Uint8Array, namespace: string) {
  const cache = new CacheApiGatewayCache(caches.default, namespace);
  const gateway = createEdgeGateway(
    { ...defaultEdgeGatewayOptions, coreUrl: "http://core.test" },
    {
      cache,
      limiter: new TokenBucketLimiter({ perSecond: 100, burst: 100 }),
      // In small chunks, as a network delivers them: the root verifies before the later blocks arrive.
      fetch: (async () =>
        new Response(
          new ReadableStream({
            start(c) {
              for (const chunk of chunked(car, 64)) c.enqueue(chunk);
              c.close();
            },
          }),
          { status: 200 },
        )) as typeof fetch,
    },
  );
  const get = (path: string) => gateway.handle(new Request(`http://edge.test${path}`), "client");
  return { get, cache };
}
