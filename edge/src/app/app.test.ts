import {
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  signReplicationRequest,
} from "@rustchain/shared/replication";
import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { LruResponseCache } from "../rpc/cache.ts";
import { createRpcPipeline } from "../rpc/pipeline.ts";
import { TokenBucketLimiter } from "../rpc/rateLimit.ts";
import { AllowAll, FakeReplica, FakeUpstream, testConfig } from "../rpc/testFakes.ts";
import { createEdgeApp, type EdgeAppDeps, readBodyBounded } from "./app.ts";
import type { EdgeConfig } from "./contract.ts";

const KEY = new Uint8Array(32).fill(9);

/** Headers of a GET signed like the core's pullers (HMAC over timestamp and path+query). */
async function signedGet(pathAndQuery: string, key = KEY, nowMs = Date.now()): Promise<Record<string, string>> {
  return {
    [REPLICATION_TIMESTAMP_HEADER]: String(nowMs),
    [REPLICATION_SIGNATURE_HEADER]: await signReplicationRequest(key, nowMs, pathAndQuery),
  };
}

function setup(opts: { config?: Partial<EdgeConfig>; limiter?: TokenBucketLimiter; deps?: Partial<EdgeAppDeps> } = {}) {
  const config = testConfig(opts.config);
  const upstream = new FakeUpstream();
  const replica = new FakeReplica();
  const pipeline = createRpcPipeline({
    config,
    replica,
    upstream,
    cache: new LruResponseCache(),
    limiter: opts.limiter ?? new AllowAll(),
  });
  const seen: { ingest: Request[]; keys: string[] } = { ingest: [], keys: [] };
  const logs: Record<string, unknown>[] = [];
  const app = createEdgeApp({
    config,
    pipeline,
    clientKey: (c: Context) => {
      const k = c.req.header("x-test-ip") ?? "127.0.0.1";
      seen.keys.push(k);
      return k;
    },
    ingest: async (req) => {
      seen.ingest.push(req);
      return Response.json({ ackSeq: 4 });
    },
    replicationHead: async () => Response.json({ seq: 4 }),
    replicationKey: KEY,
    health: async () => ({ ok: true, head: 10 }),
    log: (e) => logs.push(e),
    ...opts.deps,
  });
  const rpc = (body: unknown, headers: Record<string, string> = {}) =>
    app.request("/", {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    });
  return { app, rpc, upstream, replica, seen, logs };
}

/** A request whose body is a stream with no Content-Length (or a lying one). */
function streamed(bytes: number, contentLength?: string): Request {
  const chunk = new TextEncoder().encode("x".repeat(1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (sent >= bytes) return ctrl.close();
      ctrl.enqueue(chunk.subarray(0, Math.min(1024, bytes - sent)));
      sent += 1024;
    },
  });
  const headers: Record<string, string> = {};
  if (contentLength !== undefined) headers["content-length"] = contentLength;
  return new Request("http://edge.test/", { method: "POST", body, headers, duplex: "half" } as RequestInit);
}

describe("POST / (JSON-RPC)", () => {
  it("answers a call and a batch as JSON", async () => {
    const { rpc } = setup();
    const r = await rpc({ jsonrpc: "2.0", id: 1, method: "eth_chainId" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.json()).toEqual({ jsonrpc: "2.0", id: 1, result: "0x7" });
    const b = await rpc([{ jsonrpc: "2.0", id: 1, method: "net_version" }]);
    expect(await b.json()).toEqual([{ jsonrpc: "2.0", id: 1, result: "7" }]);
  });

  it("is lenient about the content type, like the core", async () => {
    const { app } = setup();
    const r = await app.request("/", { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' });
    expect(await r.json()).toMatchObject({ result: "0x7" });
  });

  it("notifications only: HTTP 200 with an empty body", async () => {
    const { rpc } = setup();
    const r = await rpc({ jsonrpc: "2.0", method: "eth_chainId" });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
  });

  it("a body over maxBodyBytes is 413 / -32005, from the stream, whatever Content-Length says", async () => {
    const { app, upstream } = setup({ config: { maxBodyBytes: 4096 } });
    for (const req of [streamed(10_000), streamed(10_000, "100"), streamed(5000, "999999")]) {
      const r = await app.fetch(req);
      expect(r.status).toBe(413);
      expect(await r.json()).toEqual({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: -32005,
          message: "request body exceeds 4096 bytes",
          data: { code: "BODY_TOO_LARGE", limit: 4096 },
        },
      });
    }
    expect(upstream.calls).toHaveLength(0);
    // Under the limit a streamed body is read whole (it is not JSON here: -32700).
    const ok = await app.fetch(streamed(3000));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it("readBodyBounded decodes UTF-8 across chunk boundaries", async () => {
    const bytes = new TextEncoder().encode('"é€😀"');
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (const b of bytes) ctrl.enqueue(Uint8Array.of(b));
        ctrl.close();
      },
    });
    const req = new Request("http://x/", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(await readBodyBounded(req, 100)).toBe('"é€😀"');
  });

  it("rate limited: 429, Retry-After, -32005, keyed by the client key", async () => {
    const limiter = new TokenBucketLimiter({ perSecond: 1, burst: 2, now: () => 0 });
    const { rpc, seen } = setup({ limiter });
    const two = [
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "eth_chainId" },
    ];
    expect((await rpc(two, { "x-test-ip": "198.51.100.1" })).status).toBe(200);
    const r = await rpc(two, { "x-test-ip": "198.51.100.1" });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("2");
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(await r.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32005, message: "rate limit exceeded", data: { code: "RATE_LIMITED" } },
    });
    expect((await rpc(two, { "x-test-ip": "198.51.100.2" })).status).toBe(200);
    expect(seen.keys).toEqual(["198.51.100.1", "198.51.100.1", "198.51.100.2"]);
  });

  it("unknown methods are HTTP 200 with -32601", async () => {
    const { rpc, upstream } = setup();
    const r = await rpc({ jsonrpc: "2.0", id: 1, method: "admin_nodeInfo" });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { error: { code: number } }).error.code).toBe(-32601);
    expect(upstream.calls).toHaveLength(0);
  });
});

describe("CORS", () => {
  it('with ["*"]: every answer allows any origin; preflight answers 204', async () => {
    const { app, rpc } = setup();
    const r = await rpc({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }, { origin: "https://dapp.example" });
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const pre = await app.request("/", {
      method: "OPTIONS",
      headers: {
        origin: "https://dapp.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-foo",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    expect(pre.headers.get("access-control-allow-headers")).toBe("content-type, x-foo");
    expect((await app.request("/nope")).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("with a list: a listed origin is echoed (Vary: Origin), another gets no allow header", async () => {
    const { app, rpc } = setup({ config: { corsOrigins: ["https://good.example"] } });
    const good = await rpc({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }, { origin: "https://good.example" });
    expect(good.headers.get("access-control-allow-origin")).toBe("https://good.example");
    expect(good.headers.get("vary")).toContain("Origin");
    const bad = await rpc({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }, { origin: "https://evil.example" });
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await app.request("/", { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("other routes", () => {
  it("GET / without Upgrade is 405; with Upgrade: websocket it is the host's handler (also on /ws)", async () => {
    const upgrades: string[] = [];
    const { app } = setup({
      deps: {
        websocket: (c) => {
          upgrades.push(c.req.path);
          return new Response("ws", { status: 200 });
        },
      },
    });
    const r = await app.request("/");
    expect(r.status).toBe(405);
    expect(((await r.json()) as { error: { code: number } }).error.code).toBe(-32600);
    expect((await app.request("/", { headers: { upgrade: "websocket" } })).status).toBe(200);
    expect((await app.request("/ws", { headers: { Upgrade: "WebSocket" } })).status).toBe(200);
    expect(upgrades).toEqual(["/", "/ws"]);
    expect((await app.request("/ws")).status).toBe(426);
    expect((await app.request("/", { method: "PUT" })).status).toBe(405);
  });

  it("GET /health is 200 when ok, 503 when not or when it throws", async () => {
    expect(await (await setup().app.request("/health")).json()).toEqual({ ok: true, head: 10 });
    const down = setup({ deps: { health: async () => ({ ok: false, reason: "replica empty" }) } });
    expect((await down.app.request("/health")).status).toBe(503);
    const broken = setup({
      deps: {
        health: async () => {
          throw new Error("boom");
        },
      },
    });
    const r = await broken.app.request("/health");
    expect(r.status).toBe(503);
    expect(await r.text()).not.toContain("boom");
  });

  it("POST /replication/ingest and GET /replication/head go to the host", async () => {
    const { app, seen } = setup();
    const r = await app.request("/replication/ingest", { method: "POST", body: "{}" });
    expect(await r.json()).toEqual({ ackSeq: 4 });
    expect(seen.ingest).toHaveLength(1);
    expect(await seen.ingest[0]?.text()).toBe("{}");
    const head = await app.request("/replication/head", { headers: await signedGet("/replication/head") });
    expect(await head.json()).toEqual({ seq: 4 });
    expect((await app.request("/replication/ingest")).status).toBe(404);
  });

  it("GET /replication/head answers only a request signed with the replication key", async () => {
    const { app } = setup();
    expect((await app.request("/replication/head")).status).toBe(401);
    const forged = await app.request("/replication/head", {
      headers: await signedGet("/replication/head", new Uint8Array(32).fill(1)),
    });
    expect(await forged.json()).toEqual({ error: "INGEST_UNAUTHORIZED", reason: "bad_signature" });
    const replayed = await app.request("/replication/head", {
      headers: await signedGet("/replication/head", KEY, Date.now() - 120_000),
    });
    expect(await replayed.json()).toEqual({ error: "INGEST_UNAUTHORIZED", reason: "stale" });
    const { app: keyless } = setup({ deps: { replicationKey: undefined } });
    expect((await keyless.request("/replication/head", { headers: await signedGet("/replication/head") })).status).toBe(
      404,
    );
  });

  it("unknown paths are 404 JSON; a failing handler is a 500 envelope without details", async () => {
    const { app, logs } = setup({
      deps: {
        replicationHead: async () => {
          throw new Error("secret stack detail");
        },
      },
    });
    const nf = await app.request("/nope");
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: "not found" });
    const r = await app.request("/replication/head", { headers: await signedGet("/replication/head") });
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32603, message: "internal error", data: { code: "INTERNAL" } },
    });
    expect(text).not.toContain("secret");
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(logs.some((l) => l.msg === "edge app error")).toBe(true);
  });
});
