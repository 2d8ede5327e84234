// A Node edge instance whose Redis connection is cut for 5 s, then restored, still delivers every newHeads to its
// WebSocket clients, in order, with no gap: the fan-out is a Redis stream, read on from the last delivered entry
// (edge/src/node/events.ts). Instance A reaches Redis directly and takes the bundles; instance C reaches it through a
// TCP proxy that the test cuts (every open connection dropped, new ones refused) while A applies blocks.
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { replicationAuthHeaders } from "@rustchain/shared/replication";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../../../validator/src/cli/devnetCluster.ts";
import { eventsStream } from "./events.ts";
import type { LocalRedis } from "./redisServer.ts";
import { connectRedis } from "./redisStore.ts";
import { type NodeEdge, startNodeEdge } from "./server.ts";
import { startTestRedis, TEST_CHAIN_ID, testBlockBundle } from "./testing.ts";

const KEY = new Uint8Array(32).fill(9);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy to `targetPort` on 127.0.0.1 that can be cut (open connections dropped, new ones refused) and restored. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private readonly server: Server;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    this.port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
  }

  private accept(client: Socket): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(this.targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  close(): Promise<void> {
    this.setCut(true);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let redis: LocalRedis;
let proxy: CuttableProxy;
let a: NodeEdge;
let c: NodeEdge;

beforeAll(async () => {
  redis = await startTestRedis();
  proxy = new CuttableProxy(Number(new URL(redis.url).port));
  await proxy.listen();
  const common = {
    coreRpcUrl: `http://127.0.0.1:${await freePort()}`, // nothing listens: forwarded calls fail fast
    replicationKey: KEY,
    chainId: TEST_CHAIN_ID,
    upstreamTimeoutMs: 2_000,
  };
  a = await startNodeEdge({ ...common, redisUrl: redis.url, listen: { host: "127.0.0.1", port: 0 } });
  c = await startNodeEdge({
    ...common,
    redisUrl: `redis://127.0.0.1:${proxy.port}`,
    listen: { host: "127.0.0.1", port: 0 },
  });
});

afterAll(async () => {
  await a?.close();
  await c?.close();
  await proxy?.close();
  await redis?.stop();
});

async function ingest(edge: NodeEdge, bundle: unknown): Promise<void> {
  const body = JSON.stringify(bundle);
  const res = await fetch(`${edge.url}/replication/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await replicationAuthHeaders(KEY, body)) },
    body,
  });
  expect(res.status).toBe(200);
}

describe("a Node edge instance whose Redis connection is cut", () => {
  it("delivers every newHeads after 5 s without Redis, in order, with no gap, and skips malformed entries", async () => {
    const ws = new WebSocket(c.wsUrl);
    const heads: string[] = [];
    let subscription: string | undefined;
    ws.on("message", (data) => {
      const m = JSON.parse(data.toString()) as {
        id?: number;
        result?: string;
        params?: { subscription?: string; result?: { number?: string } };
      };
      if (m.id === 1) subscription = m.result;
      else if (m.params && m.params.subscription === subscription) heads.push(String(m.params.result?.number));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
    const waitFor = async (n: number, what: string) => {
      for (let i = 0; i < 200 && !heads.includes(`0x${n.toString(16)}`); i++) await sleep(50);
      expect(heads, what).toContain(`0x${n.toString(16)}`);
    };
    for (let i = 0; i < 100 && subscription === undefined; i++) await sleep(20);
    expect(typeof subscription).toBe("string");

    let seq = 0;
    for (let n = 0; n <= 2; n++) await ingest(a, testBlockBundle(++seq, n));
    await waitFor(2, "before the cut");

    const cutAt = performance.now();
    proxy.setCut(true);
    await sleep(100);
    expect(proxy.openConnections).toBe(0);
    // Blocks applied on A while C has no Redis.
    for (let n = 3; n <= 7; n++) {
      await ingest(a, testBlockBundle(++seq, n));
      await sleep(500);
    }
    await sleep(Math.max(0, 5_000 - (performance.now() - cutAt)));
    // Nothing of that reached C's client during the cut.
    expect(heads).toEqual(["0x0", "0x1", "0x2"]);
    proxy.setCut(false);

    for (let n = 8; n <= 9; n++) await ingest(a, testBlockBundle(++seq, n));
    await waitFor(9, "after the outage");
    expect(heads).toEqual(Array.from({ length: 10 }, (_, n) => `0x${n.toString(16)}`));

    // Entries that are not fan-out messages (not JSON, no message field, another version, events not a list) are
    // skipped; the entries after them are delivered.
    const writer = await connectRedis({ url: redis.url });
    try {
      const stream = eventsStream(TEST_CHAIN_ID);
      for (const m of ["not json", JSON.stringify({ v: 2, events: [] }), JSON.stringify({ v: 1, events: "x" })]) {
        await writer.xAdd(stream, "*", { m });
      }
      await writer.xAdd(stream, "*", { other: "field" });
    } finally {
      await writer.close();
    }
    await ingest(a, testBlockBundle(++seq, 10));
    await waitFor(10, "after hostile entries");
    expect(heads).toEqual(Array.from({ length: 11 }, (_, n) => `0x${n.toString(16)}`));
    ws.close();
  });
});
