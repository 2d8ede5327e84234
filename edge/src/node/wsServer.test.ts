import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { SubscriptionEvent } from "../app/contract.ts";
import type { RpcReply, RpcRequestContext } from "../rpc/pipeline.ts";
import { defaultEdgeWsOptions, EdgeWebSocketServer, type EdgeWsOptions } from "./wsServer.ts";

// The WebSocket host alone, with a small stand-in for the RPC pipeline (the real pipeline is covered in server.test.ts):
// it answers eth_subscribe through the session, optionally after a hold the test releases.

interface Fake {
  server: Server;
  wss: EdgeWebSocketServer;
  url: string;
  /** Hold eth_subscribe answers until the returned function is called. */
  holdSubscribes(): () => void;
}

let open: Fake[] = [];

async function start(opts: Partial<EdgeWsOptions> = {}): Promise<Fake> {
  let hold: Promise<void> | undefined;
  const pipeline = {
    async handle(text: string, ctx: RpcRequestContext): Promise<RpcReply> {
      const req = JSON.parse(text) as { id: unknown; method: string; params: unknown[] };
      if (req.method === "eth_subscribe") {
        const id = await ctx.session?.subscribe(req.params);
        await hold;
        return { status: 200, body: JSON.stringify({ jsonrpc: "2.0", id: req.id, result: id }) };
      }
      return { status: 200, body: JSON.stringify({ jsonrpc: "2.0", id: req.id, result: ctx.transport }) };
    },
  };
  const server = createServer();
  const wss = new EdgeWebSocketServer(
    { ...defaultEdgeWsOptions, maxPayloadBytes: 1 << 20, ...opts },
    { pipeline, clientKey: (req) => req.socket.remoteAddress ?? "" },
  );
  wss.attach(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const fake: Fake = {
    server,
    wss,
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdSubscribes() {
      let release!: () => void;
      hold = new Promise<void>((r) => {
        release = r;
      });
      return () => {
        hold = undefined;
        release();
      };
    },
  };
  open.push(fake);
  return fake;
}

afterEach(async () => {
  for (const f of open) {
    await f.wss.close();
    await new Promise<void>((r) => f.server.close(() => r()));
  }
  open = [];
});

function connect(url: string, opts?: WebSocket.ClientOptions) {
  const ws = new WebSocket(url, opts);
  const messages: Record<string, unknown>[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  const opened = new Promise<void>((r, j) => {
    ws.once("open", () => r());
    ws.once("error", j);
  });
  return { ws, messages, closed, opened };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const head = (n: number, pad = 0): SubscriptionEvent => ({
  kind: "block",
  header: { number: `0x${n.toString(16)}`, extraData: `0x${"00".repeat(pad)}` },
  logs: [],
});

describe("EdgeWebSocketServer", () => {
  it("answers messages over the ws transport and sends a subscription's id before any of its notifications", async () => {
    const f = await start();
    const c = connect(f.url);
    await c.opened;
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }));
    await until(() => c.messages.length === 1, "the answer");
    expect(c.messages[0]).toEqual({ jsonrpc: "2.0", id: 1, result: "ws" });

    const release = f.holdSubscribes();
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "eth_subscribe", params: ["newHeads"] }));
    await until(() => f.wss.stats().subscriptions === 1, "the subscription");
    // Events arrive while the eth_subscribe answer is still pending: they wait for it.
    f.wss.deliver([head(1), head(2)]);
    f.wss.deliver([head(3)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.messages).toHaveLength(1);
    release();
    await until(() => c.messages.length === 5, "the answer and three notifications");
    expect(c.messages[1]).toMatchObject({ id: 2 });
    const sub = c.messages[1]?.result;
    expect(
      c.messages
        .slice(2)
        .map((m) => [
          (m.params as { subscription: string }).subscription,
          ((m.params as { result: { number: string } }).result as { number: string }).number,
        ]),
    ).toEqual([
      [sub, "0x1"],
      [sub, "0x2"],
      [sub, "0x3"],
    ]);
    c.ws.close();
  });

  it("pings; a client that does not answer is terminated, one that does stays", async () => {
    const f = await start({ pingIntervalMs: 50 });
    const silent = connect(f.url, { autoPong: false });
    const polite = connect(f.url);
    await Promise.all([silent.opened, polite.opened]);
    let pings = 0;
    polite.ws.on("ping", () => pings++);
    expect(await silent.closed).toBe(1006); // terminated: no close frame
    await until(() => pings >= 4, "several pings to the polite client");
    expect(polite.ws.readyState).toBe(WebSocket.OPEN);
    polite.ws.close();
  });

  it("closes a client that does not read with 1008 instead of buffering without bound", async () => {
    const f = await start({ maxBufferedBytes: 256 * 1024 });
    const c = connect(f.url);
    await c.opened;
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
    await until(() => c.messages.length === 1, "the subscription");
    // Stop reading: the kernel buffers fill, then the server's send buffer grows past the bound.
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    for (let i = 0; i < 400 && f.wss.stats().connections > 0; i++) {
      f.wss.deliver([head(i, 64 * 1024)]);
      await new Promise((r) => setImmediate(r));
    }
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await c.closed).toBe(1008);
    expect(c.messages.length).toBeLessThan(401);
  });

  it("closes a socket with too many messages in flight (1008)", async () => {
    const f = await start({ maxInFlight: 2 });
    const c = connect(f.url);
    await c.opened;
    f.holdSubscribes();
    for (let i = 0; i < 3; i++) {
      c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: i, method: "eth_subscribe", params: ["newHeads"] }));
    }
    expect(await c.closed).toBe(1008);
  });
});
