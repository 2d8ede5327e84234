// The edge's gateway against a fake core (a fetch function): verified raw blocks and CARs are served and cached, the
// core's tampered bytes are refused (a raw block: 502; a CAR: 502 before the root, a cut body after it) and never
// cached, bad requests are answered without asking the core, and every request is rate limited and counted.
import { describe, expect, it } from "vitest";
import { EdgeMetricsRegistry } from "../rpc/metrics.ts";
import { TokenBucketLimiter } from "../rpc/rateLimit.ts";
import { createEdgeGateway, defaultEdgeGatewayOptions, type EdgeGatewayOptions } from "./gateway.ts";
import { LruGatewayCache } from "./lruGatewayCache.ts";
import { carBytes, chunked, flipped, testDag } from "./testCars.ts";

const { root, blocks } = await testDag();
const leaf = blocks[1]!;
const good = carBytes(root.cid, blocks);

/** A fake core: answers each URL with `answer(url)`, counting requests. */
function fakeCore(answer: (url: URL, signal: AbortSignal | undefined) => Response | Promise<Response>) {
  const seen: string[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    seen.push(`${init?.method ?? "GET"} ${url.pathname}${url.search}`);
    return answer(url, init?.signal ?? undefined);
  }) as typeof fetch;
  return { fetchFn, seen };
}

const streamOf = (chunks: Uint8Array[], holdOpen = false) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      if (!holdOpen) c.close();
    },
  });

function gatewayWith(
  fetchFn: typeof fetch,
  over: Partial<EdgeGatewayOptions> = {},
  rate = { perSecond: 1000, burst: 1000 },
) {
  const metrics = new EdgeMetricsRegistry();
  const cache = new LruGatewayCache();
  const gateway = createEdgeGateway(
    { ...defaultEdgeGatewayOptions, coreUrl: "http://core.test:8545", ...over },
    { cache, limiter: new TokenBucketLimiter(rate), metrics, fetch: fetchFn },
  );
  const get = (path: string, init: RequestInit = {}) =>
    gateway.handle(new Request(`http://edge.test${path}`, init), "1.2.3.4");
  return { gateway, metrics, cache, get };
}

/** Answers like the node: raw blocks and CARs of the test DAG, `car` overriding the CAR's bytes. */
const nodeLike =
  (car: Uint8Array[] = chunked(good, 50), rawBytes = leaf.bytes) =>
  (url: URL) => {
    if (url.searchParams.get("format") === "raw") return new Response(rawBytes, { status: 200 });
    return new Response(streamOf(car), { status: 200 });
  };

describe("edge gateway", () => {
  it("serves a raw block that hashes to its CID, then from the cache without asking the core", async () => {
    const core = fakeCore(nodeLike());
    const { get, metrics } = gatewayWith(core.fetchFn);
    const res = await get(`/ipfs/${leaf.cid}?format=raw`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(leaf.bytes);
    expect(res.headers.get("content-type")).toBe("application/vnd.ipld.raw");
    expect(res.headers.get("cache-control")).toBe("public, max-age=29030400, immutable");
    expect(res.headers.get("etag")).toBe(`"${leaf.cid}.raw"`);
    expect(core.seen).toEqual([`GET /ipfs/${leaf.cid}?format=raw`]);
    const again = await get(`/ipfs/${leaf.cid}`, { headers: { accept: "application/vnd.ipld.raw" } });
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(leaf.bytes);
    expect(core.seen).toHaveLength(1);
    const head = await get(`/ipfs/${leaf.cid}?format=raw`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(leaf.bytes.length));
    expect(metrics.prometheus()).toContain(
      'rustchain_edge_gateway_requests_total{format="raw",source="cache",result="ok"} 2',
    );
  });

  it("refuses a raw block the core tampered with (502) and does not cache it", async () => {
    const core = fakeCore(nodeLike(undefined, flipped(leaf.bytes, 5)));
    const { get, metrics } = gatewayWith(core.fetchFn);
    const res = await get(`/ipfs/${leaf.cid}?format=raw`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("GATEWAY_HASH_MISMATCH");
    await get(`/ipfs/${leaf.cid}?format=raw`);
    expect(core.seen).toHaveLength(2);
    expect(metrics.prometheus()).toContain('{format="raw",source="core",result="rejected"} 2');
  });

  it("refuses a raw answer over the block limit without reading past it", async () => {
    const core = fakeCore(() => new Response(new Uint8Array(2048), { status: 200 }));
    const { get } = gatewayWith(core.fetchFn, { maxBlockBytes: 1024 });
    expect((await get(`/ipfs/${leaf.cid}?format=raw`)).status).toBe(502);
  });

  it("streams a verified CAR byte for byte, then serves it from the cache", async () => {
    const core = fakeCore(nodeLike());
    const { get } = gatewayWith(core.fetchFn);
    const res = await get(`/ipfs/${root.cid}?format=car`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.ipld.car; version=1; order=dfs; dups=n");
    expect(res.headers.get("x-ipfs-roots")).toBe(root.cid.toString());
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(good);
    const cached = await get(`/ipfs/${root.cid}`, { headers: { accept: "application/vnd.ipld.car" } });
    expect(new Uint8Array(await cached.arrayBuffer())).toEqual(good);
    expect(core.seen).toEqual([`GET /ipfs/${root.cid}?format=car`]);
  });

  it("cuts a CAR whose later block was tampered with: the body errors, nothing is cached", async () => {
    const tampered = flipped(good, good.length - 3); // inside the last leaf
    const core = fakeCore(nodeLike(chunked(tampered, 50)));
    const { get, metrics } = gatewayWith(core.fetchFn);
    const res = await get(`/ipfs/${root.cid}?format=car`);
    expect(res.status).toBe(200); // the root verified: the status line was sent
    await expect(res.arrayBuffer()).rejects.toThrow();
    await get(`/ipfs/${root.cid}?format=car`).then((r) => r.arrayBuffer().catch(() => undefined));
    expect(core.seen).toHaveLength(2);
    expect(metrics.prometheus()).toContain('{format="car",source="core",result="rejected"} 2');
  });

  it("answers 502 before any byte when the root block is wrong", async () => {
    const core = fakeCore(nodeLike([flipped(good, 60)]));
    const { get } = gatewayWith(core.fetchFn);
    const res = await get(`/ipfs/${root.cid}?format=car`);
    expect(res.status).toBe(502);
  });

  it("answers bad requests itself (400, 406, 501) and passes the core's 404 on; a core that is down is 502", async () => {
    const core = fakeCore(() => new Response("CONTENT_NOT_FOUND\n", { status: 404 }));
    const { get } = gatewayWith(core.fetchFn);
    const bad = await get("/ipfs/not-a-cid?format=raw");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe("CONTENT_INVALID_CID\n");
    expect((await get(`/ipfs/${leaf.cid}`)).status).toBe(406);
    expect((await get(`/ipfs/${leaf.cid}/x?format=raw`)).status).toBe(501);
    expect(core.seen).toEqual([]);
    const missing = await get(`/ipfs/${leaf.cid}?format=raw`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("CONTENT_NOT_FOUND\n");
    const down = fakeCore(() => Promise.reject(new TypeError("fetch failed")));
    expect((await gatewayWith(down.fetchFn).get(`/ipfs/${leaf.cid}?format=car`)).status).toBe(502);
  });

  it("rate limits per client (429 + Retry-After) and counts it", async () => {
    const core = fakeCore(nodeLike());
    const { get, metrics } = gatewayWith(core.fetchFn, {}, { perSecond: 0.01, burst: 2 });
    expect((await get(`/ipfs/${leaf.cid}?format=raw`)).status).toBe(200);
    expect((await get(`/ipfs/${leaf.cid}?format=raw`)).status).toBe(200);
    const limited = await get(`/ipfs/${leaf.cid}?format=raw`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(metrics.snapshot().rateLimited).toBe(1);
  });

  it("holds at most maxConcurrent fetches from the core; a cancelled CAR frees its slot", async () => {
    // The core sends the header and the root, then nothing more.
    const core = fakeCore((url) => {
      const block = url.pathname.endsWith(root.cid.toString()) ? root : leaf;
      return new Response(streamOf([carBytes(block.cid, [block])], true), { status: 200 });
    });
    const { get } = gatewayWith(core.fetchFn, { maxConcurrent: 1 });
    const held = await get(`/ipfs/${root.cid}?format=car`);
    expect(held.status).toBe(200);
    expect((await get(`/ipfs/${leaf.cid}?format=car`)).status).toBe(429);
    await held.body?.cancel();
    const next = await get(`/ipfs/${leaf.cid}?format=car`);
    expect(next.status).toBe(200);
    await next.body?.cancel();
  });

  it("cuts a CAR when the core goes quiet after the root, and frees the slot", async () => {
    const core = fakeCore((_url, signal) => {
      // Like fetch: aborting the request errors its body.
      const body = streamOf([carBytes(root.cid, [root])], true).pipeThrough(new TransformStream(), { signal });
      return new Response(body, { status: 200 });
    });
    const { get } = gatewayWith(core.fetchFn, { maxConcurrent: 1, upstreamTimeoutMs: 100 });
    const res = await get(`/ipfs/${root.cid}?format=car`);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect((await get(`/ipfs/${leaf.cid}?format=raw`)).status).not.toBe(429);
  });
});
