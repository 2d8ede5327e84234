import { replicationAuthHeaders } from "@rustchain/shared/replication";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../../../validator/src/cli/devnetCluster.ts";
import type { LocalRedis } from "./redisServer.ts";
import { type NodeEdge, startNodeEdge } from "./server.ts";
import { addr, blockHash, startTestRedis, TEST_CHAIN_ID, testBlockBundle } from "./testing.ts";

const KEY = new Uint8Array(32).fill(7);
const MAX_BODY = 64 * 1024;

let redis: LocalRedis;
let a: NodeEdge;
let b: NodeEdge;
let deadCore: string;

async function ingest(edge: NodeEdge, bundle: unknown): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify(bundle);
  const res = await fetch(`${edge.url}/replication/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await replicationAuthHeaders(KEY, body)) },
    body,
  });
  return { status: res.status, body: await res.json() };
}

async function rpc(
  edge: NodeEdge,
  method: string,
  params: unknown[] = [],
): Promise<{ result?: unknown; error?: unknown }> {
  const res = await fetch(edge.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await res.json()) as { result?: unknown; error?: unknown };
}

/** A WebSocket client that records every message in order and can wait for the next one matching a predicate. */
class Client {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] =
    [];
  readonly closed: Promise<{ code: number }>;
  /** Run on each message as it arrives, before any waiter (e.g. to read over HTTP at the moment of notification). */
  onEach?: (m: Record<string, unknown>) => void;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      this.messages.push(m);
      this.onEach?.(m);
      const matched = this.waiters.filter((w) => w.match(m));
      this.waiters = this.waiters.filter((w) => !matched.includes(w));
      for (const w of matched) w.resolve(m);
    });
    this.closed = new Promise((resolve) => ws.on("close", (code) => resolve({ code })));
  }

  static async open(url: string, opts?: WebSocket.ClientOptions): Promise<Client> {
    const ws = new WebSocket(url, opts);
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return c;
  }

  next(match: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no matching WebSocket message")), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async call(id: unknown, method: string, params: unknown[] = []): Promise<Record<string, unknown>> {
    this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    return this.next((m) => "id" in m && m.id === id && !("method" in m));
  }

  close(): void {
    this.ws.close();
  }
}

const notificationsOf = (c: Client, sub: unknown) =>
  c.messages.filter(
    (m) => m.method === "eth_subscription" && (m.params as { subscription: unknown }).subscription === sub,
  );

beforeAll(async () => {
  redis = await startTestRedis();
  deadCore = `http://127.0.0.1:${await freePort()}`; // nothing listens: forwarded calls fail fast
  const common = {
    redisUrl: redis.url,
    coreRpcUrl: deadCore,
    replicationKey: KEY,
    chainId: TEST_CHAIN_ID,
    config: { maxBodyBytes: MAX_BODY, rateLimit: { perSecond: 10_000, burst: 10_000 } },
    upstreamTimeoutMs: 2_000,
  };
  a = await startNodeEdge({ ...common, listen: { host: "127.0.0.1", port: 0 } });
  b = await startNodeEdge({
    ...common,
    listen: { host: "127.0.0.1", port: 0 },
    metricsListen: { host: "127.0.0.1", port: 0 },
  });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

describe("Node edge on Redis", () => {
  it("fans out: a WS client on B gets newHeads and logs for bundles ingested on A, after the block is readable on B", async () => {
    const onB = await Client.open(b.wsUrl);
    const onA = await Client.open(`${a.wsUrl}/ws`);
    const heads = (await onB.call(1, "eth_subscribe", ["newHeads"])).result;
    const logs = (await onB.call(2, "eth_subscribe", ["logs", { address: addr(0xc0) }])).result;
    const headsA = (await onA.call(1, "eth_subscribe", ["newHeads"])).result;
    expect(typeof heads).toBe("string");
    expect(typeof logs).toBe("string");

    // At the moment each newHeads arrives on B, read that block and eth_blockNumber from B over HTTP.
    const readAtNotification: Promise<[unknown, unknown, unknown]>[] = [];
    onB.onEach = (m) => {
      if (m.method !== "eth_subscription") return;
      const p = m.params as { subscription: string; result: { number?: string; hash?: string } };
      if (p.subscription !== heads) return;
      readAtNotification.push(
        Promise.all([
          p.result.hash,
          rpc(b, "eth_getBlockByNumber", [p.result.number, false]).then((r) => (r.result as { hash?: string })?.hash),
          rpc(b, "eth_blockNumber").then((r) => r.result),
        ]),
      );
    };

    for (let n = 0; n <= 3; n++) {
      const res = await ingest(
        a,
        testBlockBundle(n + 1, n, {
          txs:
            n === 2
              ? [
                  { from: 0xa1, to: 0xb2, logAddress: 0xc0 },
                  { from: 0xa1, to: 0xb2, logAddress: 0xc1 },
                ]
              : [],
        }),
      );
      expect(res).toEqual({ status: 200, body: { ackSeq: n + 1 } });
    }
    await onB.next((m) => (m.params as { result?: { number?: string } } | undefined)?.result?.number === "0x3");
    await onA.next((m) => (m.params as { result?: { number?: string } } | undefined)?.result?.number === "0x3");

    const headNumbers = notificationsOf(onB, heads).map(
      (m) => (m.params as { result: { number: string } }).result.number,
    );
    expect(headNumbers).toEqual(["0x0", "0x1", "0x2", "0x3"]);
    expect(notificationsOf(onA, headsA)).toHaveLength(4);
    const [firstHead] = notificationsOf(onB, heads);
    const first = (firstHead?.params as { result: Record<string, unknown> } | undefined)?.result ?? {};
    expect(first.hash).toBe(blockHash("a", 0));
    expect(first).not.toHaveProperty("transactions");

    const reads = await Promise.all(readAtNotification);
    expect(reads).toHaveLength(4);
    for (const [i, [hash, readHash, blockNumber]] of reads.entries()) {
      expect(readHash).toBe(hash);
      expect(BigInt(blockNumber as string)).toBeGreaterThanOrEqual(BigInt(i));
    }
    // Only the log from 0xc0 matched the filter.
    const logNotes = notificationsOf(onB, logs).map((m) => (m.params as { result: Record<string, unknown> }).result);
    expect(logNotes).toHaveLength(1);
    expect(logNotes[0]).toMatchObject({ address: addr(0xc0), blockNumber: "0x2", removed: false });

    expect(await onB.call(3, "eth_unsubscribe", [heads])).toMatchObject({ result: true });
    expect(await onB.call(4, "eth_unsubscribe", [heads])).toMatchObject({ result: false });
    onA.close();
    onB.close();
  });

  it("serves the shared replica from both instances and exposes metrics with the replica lag", async () => {
    expect((await rpc(a, "eth_blockNumber")).result).toBe("0x3");
    expect((await rpc(b, "eth_getBlockByNumber", ["0x2", false])).result).toMatchObject({ hash: blockHash("a", 2) });
    // A duplicate on B of what A applied is acknowledged without change; a gap is reported.
    expect(await ingest(b, testBlockBundle(4, 3))).toEqual({ status: 200, body: { ackSeq: 4 } });
    expect((await ingest(b, testBlockBundle(9, 8))).status).toBe(409);
    // A forwarded call with the core down: the pipeline's clear error, not a hang.
    const fwd = await rpc(b, "eth_call", [{ to: addr(1) }, "latest"]);
    expect(fwd.error).toMatchObject({ code: -32002 });

    const text = await (await fetch(b.metricsUrl as string)).text();
    expect(text).toMatch(/rustchain_edge_ws_connections \d+/);
    // The head block's timestamp is 1004 (1970): the lag is large and computed from it.
    const lag = /^\S*lag\S*seconds\S*\s+([0-9.e+]+)$/m.exec(text);
    expect(lag, text).not.toBeNull();
    expect(Number(lag?.[1])).toBeGreaterThan(1_000_000);
    expect((await fetch(`${b.metricsUrl}x`)).status).toBe(404);
  });

  it('answers "id": null over WebSocket and bounds subscriptions (101st: -32005) and message size (1009)', async () => {
    const c = await Client.open(b.wsUrl);
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: null, method: "eth_chainId", params: [] }));
    const answer = await c.next((m) => m.id === null);
    expect(answer).toEqual({ jsonrpc: "2.0", id: null, result: "0x5254" });
    // Notifications (no id) get no answer; the next call is answered normally.
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", method: "eth_chainId", params: [] }));
    expect(await c.call("after", "net_version")).toMatchObject({ result: String(TEST_CHAIN_ID) });
    expect(c.messages).toHaveLength(2);

    const batch = Array.from({ length: 100 }, (_, i) => ({
      jsonrpc: "2.0",
      id: 100 + i,
      method: "eth_subscribe",
      params: ["newHeads"],
    }));
    c.ws.send(JSON.stringify(batch));
    const replies = (await new Promise<unknown[]>((resolve) => {
      c.ws.once("message", (d) => resolve(JSON.parse(d.toString()) as unknown[]));
    })) as { result?: string }[];
    expect(replies.filter((r) => typeof r.result === "string")).toHaveLength(100);
    expect(b.wsStats().subscriptions).toBeGreaterThanOrEqual(100);
    expect(await c.call(500, "eth_subscribe", ["newHeads"])).toEqual({
      jsonrpc: "2.0",
      id: 500,
      error: {
        code: -32005,
        message: "too many subscriptions (limit 100)",
        data: { code: "TOO_MANY_SUBSCRIPTIONS", limit: 100 },
      },
    });
    expect(await c.call(501, "eth_subscribe", ["bogus"])).toMatchObject({ error: { code: -32602 } });

    c.ws.send("x".repeat(MAX_BODY + 1));
    expect((await c.closed).code).toBe(1009);
  });

  it("answers JSON-RPC POSTs (the path that skips Hono) with the app's status, body and CORS headers", async () => {
    const post = (body: string) =>
      fetch(`${b.url}/?via=query`, {
        method: "POST",
        headers: { "content-type": "text/plain", origin: "https://dapp.example" },
        body,
      });
    const ok = await post(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "eth_chainId", params: [] }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("application/json");
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    expect(await ok.json()).toEqual({ jsonrpc: "2.0", id: 7, result: "0x5254" });
    const big = await post("x".repeat(MAX_BODY + 1));
    expect(big.status).toBe(413);
    expect(big.headers.get("access-control-allow-origin")).toBe("*");
    expect(await big.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: {
        code: -32005,
        message: `request body exceeds ${MAX_BODY} bytes`,
        data: { code: "BODY_TOO_LARGE", limit: MAX_BODY },
      },
    });
    const notification = await post(JSON.stringify({ jsonrpc: "2.0", method: "eth_chainId", params: [] }));
    expect(notification.status).toBe(200);
    expect(await notification.text()).toBe("");
    // Other methods and paths still go through the app.
    const preflight = await fetch(b.url, { method: "OPTIONS", headers: { origin: "https://dapp.example" } });
    expect(preflight.status).toBe(204);
    expect((await fetch(`${b.url}/nowhere`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("accepts WebSocket upgrades only on / and /ws", async () => {
    const ws = new WebSocket(`${b.wsUrl}/other`);
    const outcome = await new Promise<string>((resolve) => {
      ws.once("open", () => resolve("open"));
      ws.once("unexpected-response", (_req, res) => resolve(`status ${res.statusCode}`));
      ws.once("error", (e) => resolve(`error ${e.message}`));
    });
    ws.terminate();
    expect(outcome).toMatch(/404/);
  });
});
