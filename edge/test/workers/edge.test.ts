// The Worker and its Durable Objects inside workerd, end to end through the Worker's fetch (SELF): bundles signed like
// the core's pusher are ingested at /replication/ingest, reads are answered from the ChainReplica object, the cache,
// reorgs, refused bundles, rate limits and WebSocket subscriptions behave as docs/edge.md says.
// The tests run in order on one chain (one replica singleton): each builds on the state the previous one left.
import {
  createExecutionContext,
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import worker from "../../src/worker/index.ts";
import {
  addr,
  type Bundle,
  blockBundle,
  blockHash,
  fin,
  q,
  reorgBundle,
  signedHeadRequest,
  signedIngest,
  txHash,
  word,
} from "./bundles.ts";
import { FAKE_CORE_ORIGIN } from "./fakeCore.ts";

const ORIGIN = "http://edge.test";
const A = addr(0xa1);
const B = addr(0xb2);
const C = addr(0xc0de);
const CODE = "0x600160005260206000f3";
const CODE_HASH = word("c0de");
const METRICS_TOKEN = "test-metrics-token";

let nextIp = 0;
/** A fresh client IP per call, so the (small) test rate limit only bites where a test wants it. */
const freshIp = () => `10.0.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;

interface RpcAnswer {
  status: number;
  headers: Headers;
  body: { id?: unknown; result?: unknown; error?: { code: number; message: string } } & Record<string, unknown>;
}

async function post(payload: unknown, ip = freshIp()): Promise<RpcAnswer> {
  const res = await SELF.fetch(`${ORIGIN}/`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip },
    body: JSON.stringify(payload),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as RpcAnswer["body"] };
}

const call = (method: string, ...params: unknown[]) => post({ jsonrpc: "2.0", id: 1, method, params });

/** The result of a call that must succeed. */
async function result(method: string, ...params: unknown[]): Promise<unknown> {
  const { status, body } = await call(method, ...params);
  expect(status, `${method} status`).toBe(200);
  expect(body.error, `${method} error`).toBeUndefined();
  return body.result;
}

async function ingest(bundle: unknown, opts?: { key?: Uint8Array; nowMs?: number }) {
  const { body, headers } = await signedIngest(bundle, opts);
  const res = await SELF.fetch(`${ORIGIN}/replication/ingest`, { method: "POST", headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const replicaStub = () => env.CHAIN_REPLICA.get(env.CHAIN_REPLICA.idFromName("main"));

/** Every key and value of the replica object's storage: compared before and after a refused bundle. */
const storageSnapshot = () =>
  runInDurableObject(replicaStub(), (_instance, state) => [...state.storage.kv.list()].map(([k, v]) => [k, v]));

/** Block n of branch "a": finality safe n-1, finalized n-3; A's balance 100n, nonce n; B's slot 1 = n + 16. */
function chainA(n: number): Bundle {
  return blockBundle(n + 1, n, {
    txs:
      n === 1
        ? [
            { from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [1, 2] }] },
            { from: 0xb2, to: 0xa1, logs: [{ address: 0xc1, topics: [1] }] },
          ]
        : [],
    accounts: {
      [A]: { nonce: n, balance: 100 * n },
      ...(n === 2 ? { [C]: { nonce: 1, balance: 0, code: CODE, codeHash: CODE_HASH } } : {}),
    },
    storage: { [B]: { [word("1")]: word((n + 16).toString(16)) } },
    finality: fin(
      [Math.max(0, n - 1), blockHash("a", Math.max(0, n - 1))],
      [Math.max(0, n - 3), blockHash("a", Math.max(0, n - 3))],
    ),
  });
}

/** A WebSocket to the edge (through the Worker to the ChainReplica object), with an inbox of received frames. */
async function openSocket(path = "/", ip = freshIp()) {
  const res = await SELF.fetch(`${ORIGIN}${path}`, {
    headers: { upgrade: "websocket", "cf-connecting-ip": ip },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const inbox: string[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener("message", (e) => {
    inbox.push(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer));
    for (const w of waiters.splice(0)) w();
  });
  ws.accept();
  /** The next frame (bounded by the test timeout). */
  const nextFrame = async (): Promise<string> => {
    while (inbox.length === 0) await new Promise<void>((r) => waiters.push(r));
    return inbox.shift()!;
  };
  const request = async (id: number | null, method: string, params: unknown[] = []) => {
    ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    return JSON.parse(await nextFrame());
  };
  openSockets.push(ws);
  return { ws, nextFrame, request };
}

const openSockets: WebSocket[] = [];

describe("edge on Workers", () => {
  afterAll(() => {
    for (const ws of openSockets) ws.close(1000, "done");
  });

  it("answers -32002 core unavailable while the replica is empty, and the statics from config", async () => {
    expect(await result("eth_chainId")).toBe("0x5254");
    expect(await result("net_version")).toBe("21076");
    const { status, body } = await call("eth_blockNumber");
    expect(status).toBe(200);
    expect(body.error?.code).toBe(-32002);
    expect((await SELF.fetch(`${ORIGIN}/health`)).status).toBe(503);
  });

  it("serves blocks, transactions, receipts, logs and state from ingested bundles", async () => {
    for (let n = 0; n <= 5; n++) {
      expect(await ingest(chainA(n))).toEqual({ status: 200, body: { ackSeq: n + 1 } });
    }
    const b1 = chainA(1) as ReturnType<typeof blockBundle>;
    expect(await result("eth_blockNumber")).toBe("0x5");
    expect(JSON.stringify(await result("eth_getBlockByNumber", "0x1", true))).toBe(JSON.stringify(b1.block));
    const byHash = (await result("eth_getBlockByHash", blockHash("a", 1), false)) as { transactions: string[] };
    expect(byHash.transactions).toEqual([txHash("a", 1, 0), txHash("a", 1, 1)]);
    for (const [tag, n] of [
      ["latest", 5],
      ["safe", 4],
      ["finalized", 2],
      ["earliest", 0],
    ] as const) {
      expect(await result("eth_getBlockByNumber", tag, false), tag).toMatchObject({ hash: blockHash("a", n) });
    }
    expect(await result("eth_getBlockByNumber", "0x9", false)).toBeNull();
    expect(await result("eth_getBlockTransactionCountByNumber", "0x1")).toBe("0x2");
    expect(await result("eth_getTransactionByHash", txHash("a", 1, 1))).toEqual(b1.block.transactions[1]);
    expect(await result("eth_getTransactionByBlockNumberAndIndex", "0x1", "0x0")).toEqual(b1.block.transactions[0]);
    expect(await result("eth_getTransactionReceipt", txHash("a", 1, 0))).toEqual(b1.receipts[0]);
    expect(await result("eth_getBlockReceipts", "0x1")).toEqual(b1.receipts);
    expect(await result("eth_getLogs", { fromBlock: "0x0", toBlock: "latest", address: addr(0xc0) })).toEqual(
      b1.receipts[0].logs,
    );
    expect(await result("eth_getBalance", A, "latest")).toBe(q(500));
    expect(await result("eth_getBalance", A, "finalized")).toBe(q(200));
    expect(await result("eth_getBalance", A, "0x4")).toBe(q(400));
    expect(await result("eth_getTransactionCount", A, "latest")).toBe("0x5");
    expect(await result("eth_getCode", C, "latest")).toBe(CODE);
    expect(await result("eth_getStorageAt", B, "0x1", "latest")).toBe(word("15"));
    expect(await result("eth_getStorageAt", B, "0x1", "safe")).toBe(word("14"));
    expect((await SELF.fetch(`${ORIGIN}/health`)).status).toBe(200);
  });

  it("forwards what the replica cannot answer and answers -32002 when the core is unreachable", async () => {
    for (const [method, params] of [
      ["eth_call", [{ to: A, data: "0x" }, "latest"]],
      ["eth_getTransactionCount", [A, "pending"]],
      ["eth_getTransactionByHash", [word("dead")]],
    ] as const) {
      const { status, body } = await call(method, ...params);
      expect(status, method).toBe(200);
      expect(body.error, method).toMatchObject({ code: -32002 });
    }
  });

  it("serves an immutable finalized answer from the cache (Cache API / KV), even once the replica lost it", async () => {
    // Block 2 is finalized: its answer by number is immutable and goes to KV FINALIZED (shared by every isolate).
    const first = await result("eth_getBlockByNumber", "0x2", true);
    expect(first).toMatchObject({ hash: blockHash("a", 2) });
    const listed = await env.FINALIZED.list();
    const stored = await Promise.all(listed.keys.map((k) => env.FINALIZED.get(k.name)));
    expect(stored).toContain(JSON.stringify(first));
    // Unfinalized answers never go to KV.
    const latest = await result("eth_getBlockByNumber", "latest", false);
    const storedAfter = await Promise.all((await env.FINALIZED.list()).keys.map((k) => env.FINALIZED.get(k.name)));
    expect(storedAfter).not.toContain(JSON.stringify(latest));
    // Take block 2 away from the replica: the edge still answers it, so the answer came from the cache, by number and
    // through the "finalized" tag pinned to block 2.
    const key = `bh:${blockHash("a", 2)}`;
    const saved = await runInDurableObject(replicaStub(), (_i, state) => {
      const v = state.storage.kv.get(key);
      state.storage.kv.delete(key);
      return v;
    });
    expect(saved).toBeDefined();
    try {
      expect(await result("eth_getBlockByNumber", "0x2", true)).toEqual(first);
      expect(await result("eth_getBlockByNumber", "finalized", true)).toEqual(first);
      // Not cached (never asked before): the replica no longer has it and forwards; the core is down.
      expect((await call("eth_getBlockTransactionCountByNumber", "0x2")).body.error?.code).toBe(-32002);
    } finally {
      await runInDurableObject(replicaStub(), (_i, state) => state.storage.kv.put(key, saved));
    }
    expect(await result("eth_getBlockTransactionCountByNumber", "0x2")).toBe("0x0");
  });

  it("replaces unfinalized blocks on reorg, keeps finalized data, and the served head never goes backwards", async () => {
    const finalizedBefore = await result("eth_getBlockByNumber", "finalized", false);
    expect(await result("eth_getBlockByNumber", "0x4", false)).toMatchObject({ hash: blockHash("a", 4) });
    expect(await result("eth_getBalance", A, "latest")).toBe(q(500));
    // Blocks 4 and 5 leave; branch "b" continues from block 3 with a single block: the canonical chain gets shorter.
    expect(await ingest(reorgBundle(7, [5, blockHash("a", 5)], [3, blockHash("a", 3)], 2))).toEqual({
      status: 200,
      body: { ackSeq: 7 },
    });
    const b4 = blockBundle(8, 4, {
      branch: "b",
      parent: blockHash("a", 3),
      accounts: { [A]: { nonce: 4, balance: 7 } },
      finality: fin([3, blockHash("a", 3)], [2, blockHash("a", 2)]),
    });
    expect(await ingest(b4)).toEqual({ status: 200, body: { ackSeq: 8 } });
    // Unfinalized answers changed (also the one cached before the reorg); the head did not move backwards; finalized
    // data is unchanged.
    expect(await result("eth_getBlockByNumber", "0x4", false)).toMatchObject({ hash: blockHash("b", 4) });
    // The old safe block (a4) left the chain: "safe" must not answer it any more (the replica forwards until a newer
    // safe block arrives; the core is down here, so -32002).
    expect((await call("eth_getBlockByNumber", "safe", false)).body.result).not.toMatchObject({
      hash: blockHash("a", 4),
    });
    expect(await result("eth_getBlockByNumber", "0x5", false)).toBeNull();
    expect(await result("eth_getBlockByNumber", "latest", false)).toMatchObject({ hash: blockHash("b", 4) });
    expect(await result("eth_getBalance", A, "latest")).toBe(q(7));
    expect(await result("eth_blockNumber")).toBe("0x5");
    expect(await result("eth_getBlockByNumber", "finalized", false)).toEqual(finalizedBefore);
    expect(await result("eth_getBlockByNumber", "0x2", false)).toEqual(finalizedBefore);
    // The old branch's transaction-free block 5 is gone; the new branch grows past the old head.
    for (const [seq, n] of [
      [9, 5],
      [10, 6],
    ]) {
      const res = await ingest(
        blockBundle(seq, n, { branch: "b", finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]) }),
      );
      expect(res).toEqual({ status: 200, body: { ackSeq: seq } });
    }
    expect(await result("eth_blockNumber")).toBe("0x6");
    expect(await result("eth_getBlockByNumber", "0x5", false)).toMatchObject({ hash: blockHash("b", 5) });
    expect(await result("eth_getBlockByNumber", "finalized", false)).toMatchObject({ hash: blockHash("a", 3) });
  });

  it("refuses a reorg below the finalized block (422 REPLICA_REORG_BELOW_FINALIZED) and changes nothing", async () => {
    const before = await storageSnapshot();
    const res = await ingest(reorgBundle(11, [6, blockHash("b", 6)], [1, blockHash("a", 1)], 5));
    expect(res).toEqual({ status: 422, body: { ackSeq: 10, error: "REPLICA_REORG_BELOW_FINALIZED" } });
    expect(await storageSnapshot()).toEqual(before);
    expect(await result("eth_getBlockByNumber", "latest", false)).toMatchObject({ hash: blockHash("b", 6) });
  });

  it("rate limits per client IP: 429, Retry-After and -32005", async () => {
    const ip = "203.0.113.7";
    // The test budget: a burst of 200, refilled at one call per 100 s.
    const batch = Array.from({ length: 100 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId", params: [] }));
    expect((await post(batch, ip)).status).toBe(200);
    expect((await post(batch, ip)).status).toBe(200);
    const refused = await post({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }, ip);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.body.error?.code).toBe(-32005);
    // The same budget covers the client's WebSocket messages: refused with -32005 on the socket.
    const socket = await openSocket("/", ip);
    expect(await socket.request(7, "eth_chainId")).toMatchObject({ id: 7, error: { code: -32005 } });
    // Another client is not affected.
    expect((await post({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }, "203.0.113.8")).status).toBe(200);
  });

  it("exposes metrics only with the bearer token", async () => {
    expect((await SELF.fetch(`${ORIGIN}/metrics`)).status).toBe(401);
    const res = await SELF.fetch(`${ORIGIN}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { replica: { head: { number: number } } };
    expect(body.replica.head.number).toBe(6);
  });

  it("delivers newHeads and logs over a hibernatable WebSocket in order, after the block is readable", async () => {
    const { ws, nextFrame, request } = await openSocket("/");
    ws.send("ping");
    expect(await nextFrame()).toBe("pong");
    expect(await request(null, "eth_chainId")).toEqual({ jsonrpc: "2.0", id: null, result: "0x5254" });
    const heads = (await request(1, "eth_subscribe", ["newHeads"])).result as string;
    const logs = (await request(2, "eth_subscribe", ["logs", { address: addr(0xc0) }])).result as string;
    expect(heads).toMatch(/^0x/);
    expect(logs).toMatch(/^0x/);
    expect(logs).not.toBe(heads);

    const b7 = blockBundle(11, 7, {
      branch: "b",
      txs: [{ from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [9] }] }],
      finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]),
    });
    expect(await ingest(b7)).toEqual({ status: 200, body: { ackSeq: 11 } });
    const n1 = JSON.parse(await nextFrame());
    expect(n1).toMatchObject({ method: "eth_subscription", params: { subscription: heads } });
    expect(n1.params.result).toMatchObject({ number: "0x7", hash: blockHash("b", 7) });
    expect(n1.params.result.transactions).toBeUndefined();
    // Readable at the edge once announced.
    expect(await result("eth_getBlockByHash", blockHash("b", 7), false)).toMatchObject({ number: "0x7" });
    const n2 = JSON.parse(await nextFrame());
    expect(n2).toMatchObject({ method: "eth_subscription", params: { subscription: logs } });
    expect(n2.params.result).toEqual(b7.receipts[0].logs[0]);

    // The subscriptions survive hibernation: evict the object, then the next block still reaches the socket.
    expect(await request(3, "eth_unsubscribe", [logs])).toEqual({ jsonrpc: "2.0", id: 3, result: true });
    const b8 = blockBundle(12, 8, {
      branch: "b",
      txs: [{ from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [9] }] }],
      finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]),
    });
    expect(await ingest(b8)).toEqual({ status: 200, body: { ackSeq: 12 } });
    const n3 = JSON.parse(await nextFrame());
    expect(n3).toMatchObject({ params: { subscription: heads, result: { number: "0x8" } } });
    // No logs notification for the unsubscribed filter: the next frame is the answer to a request sent after it.
    expect(await request(4, "eth_unsubscribe", [heads])).toEqual({ jsonrpc: "2.0", id: 4, result: true });
    expect(await request(5, "eth_unsubscribe", [heads])).toEqual({ jsonrpc: "2.0", id: 5, result: false });
    expect(
      await ingest(blockBundle(13, 9, { branch: "b", finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]) })),
    ).toEqual({ status: 200, body: { ackSeq: 13 } });
    expect(await request(6, "eth_blockNumber")).toEqual({ jsonrpc: "2.0", id: 6, result: "0x9" });
  });

  it("keeps WebSocket subscriptions across hibernation and bounds subscriptions per socket", async () => {
    const { ws, nextFrame } = await openSocket("/ws");
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
    const heads = JSON.parse(await nextFrame()).result as string;

    // Evict the object (its sockets hibernate): the socket and its subscription must survive.
    await evictDurableObject(replicaStub());
    expect(
      await ingest(blockBundle(14, 10, { branch: "b", finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]) })),
    ).toEqual({ status: 200, body: { ackSeq: 14 } });
    expect(JSON.parse(await nextFrame())).toMatchObject({ params: { subscription: heads, result: { number: "0xa" } } });

    // 100 subscriptions per socket at most: the 101st answers -32005.
    const batch = Array.from({ length: 99 }, (_, i) => ({
      jsonrpc: "2.0",
      id: 10 + i,
      method: "eth_subscribe",
      params: ["newHeads"],
    }));
    ws.send(JSON.stringify(batch));
    const answers = JSON.parse(await nextFrame()) as { result?: string }[];
    expect(answers.every((a) => typeof a.result === "string")).toBe(true);
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 200, method: "eth_subscribe", params: ["newHeads"] }));
    // The same error, code and message, as the Node host's (edge/src/node/server.test.ts).
    expect(JSON.parse(await nextFrame())).toEqual({
      jsonrpc: "2.0",
      id: 200,
      error: {
        code: -32005,
        message: "too many subscriptions (limit 100)",
        data: { code: "TOO_MANY_SUBSCRIPTIONS", limit: 100 },
      },
    });
  });

  it("refuses forged, stale, out-of-order and conflicting bundles with the right status, replica unchanged", async () => {
    const before = await storageSnapshot();
    const headBefore = await (await SELF.fetch(await signedHeadRequest(ORIGIN))).json();
    const next = blockBundle(15, 11, { branch: "b" });

    const forged = await ingest(next, { key: new Uint8Array(32).fill(7) });
    expect(forged).toEqual({ status: 401, body: { error: "INGEST_UNAUTHORIZED", reason: "bad_signature" } });
    // An authentic request replayed after the 60 s window.
    const stale = await ingest(next, { nowMs: Date.now() - 5 * 60_000 });
    expect(stale).toEqual({ status: 401, body: { error: "INGEST_UNAUTHORIZED", reason: "stale" } });
    const gap = await ingest(blockBundle(17, 12, { branch: "b" }));
    expect(gap).toEqual({ status: 409, body: { ackSeq: 14, missing: { from: 15, to: 16 } } });
    // Seq 14 again with other content: a conflict, never applied.
    const conflicting = blockBundle(14, 10, { branch: "b", accounts: { [A]: { nonce: 9, balance: 999 } } });
    expect(await ingest(conflicting)).toEqual({ status: 422, body: { ackSeq: 14, error: "REPLICA_SEQ_CONFLICT" } });
    const malformed = await ingest({ ...next, kind: "nonsense" });
    expect(malformed.status).toBe(400);

    expect(await storageSnapshot()).toEqual(before);
    expect(await (await SELF.fetch(await signedHeadRequest(ORIGIN))).json()).toEqual(headBefore);
    expect(await result("eth_getBalance", A, "latest")).toBe(q(7));

    // The same bundle again (an idempotent resend) is a 200 no-op.
    const dup = blockBundle(14, 10, { branch: "b", finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]) });
    expect(await ingest(dup)).toEqual({ status: 200, body: { ackSeq: 14 } });
    expect(await storageSnapshot()).toEqual(before);
  });

  it("pulls missing bundles from the core on a gap (409) and on the alarm, publishing them to subscribers", async () => {
    const finality = fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]);
    const block = (seq: number, n: number) => blockBundle(seq, n, { branch: "b", finality });
    const headSeq = async () =>
      ((await (await SELF.fetch(await signedHeadRequest(ORIGIN))).json()) as { seq: number }).seq;
    const publishToCore = async (bundles: unknown[]) =>
      expect((await fetch(`${FAKE_CORE_ORIGIN}/__feed`, { method: "POST", body: JSON.stringify(bundles) })).ok).toBe(
        true,
      );

    const socket = await openSocket();
    const heads = (await socket.request(1, "eth_subscribe", ["newHeads"])).result;

    // The core published 15..17; the pusher's 15 and 16 were lost, 17 arrives: a gap, then a pull in the background.
    await publishToCore([block(15, 11), block(16, 12), block(17, 13)]);
    expect(await ingest(block(17, 13))).toEqual({ status: 409, body: { ackSeq: 14, missing: { from: 15, to: 16 } } });
    for (let i = 0; i < 200 && (await headSeq()) < 17; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await headSeq()).toBe(17);
    // The pulled blocks reached the subscriber, in order.
    for (const n of [11, 12, 13]) {
      expect(JSON.parse(await socket.nextFrame())).toMatchObject({
        params: { subscription: heads, result: { number: q(n), hash: blockHash("b", n) } },
      });
    }
    expect(await result("eth_getBlockByNumber", "0xd", false)).toMatchObject({ hash: blockHash("b", 13) });
    // The pusher's retry of 17 is now an idempotent duplicate.
    expect(await ingest(block(17, 13))).toEqual({ status: 200, body: { ackSeq: 17 } });

    // A push lost with nothing after it: the alarm finds it, and re-arms itself.
    await publishToCore([block(18, 14)]);
    // (The test project's pull interval is an hour: the alarm armed at start-up has not fired on its own.)
    expect(await runDurableObjectAlarm(replicaStub())).toBe(true);
    expect(await headSeq()).toBe(18);
    expect(await runInDurableObject(replicaStub(), (_i, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("tells logs subscribers about logs a reorg removed, then about the new branch's logs", async () => {
    const socket = await openSocket();
    const logs = (await socket.request(1, "eth_subscribe", ["logs", { address: addr(0xc0) }])).result;
    // Blocks 7..14 of branch "b" leave (7 and 8 carry logs of 0xc0); branch "c" continues from block 6.
    expect(await ingest(reorgBundle(19, [14, blockHash("b", 14)], [6, blockHash("b", 6)], 8))).toEqual({
      status: 200,
      body: { ackSeq: 19 },
    });
    const removed = [JSON.parse(await socket.nextFrame()), JSON.parse(await socket.nextFrame())]
      .map((f) => f.params)
      .sort((x, y) => Number(x.result.blockNumber) - Number(y.result.blockNumber));
    expect(removed.map((p) => [p.subscription, p.result.blockHash, p.result.removed])).toEqual([
      [logs, blockHash("b", 7), true],
      [logs, blockHash("b", 8), true],
    ]);
    const c7 = blockBundle(20, 7, {
      branch: "c",
      parent: blockHash("b", 6),
      txs: [{ from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [5] }] }],
      finality: fin([4, blockHash("b", 4)], [3, blockHash("a", 3)]),
    });
    expect(await ingest(c7)).toEqual({ status: 200, body: { ackSeq: 20 } });
    expect(JSON.parse(await socket.nextFrame())).toMatchObject({
      params: { subscription: logs, result: c7.receipts[0].logs[0] },
    });
    // The served head never goes backwards, over the socket too.
    expect(await socket.request(2, "eth_blockNumber")).toEqual({ jsonrpc: "2.0", id: 2, result: "0xe" });
    expect(await result("eth_getBlockByNumber", "0x7", false)).toMatchObject({ hash: blockHash("c", 7) });
  });

  // Last: calling the Worker with another env replaces the isolate's pipeline (and its in-memory cache).
  it("answers 404 on /metrics when no METRICS_TOKEN is set", async () => {
    const noToken = { ...env, METRICS_TOKEN: undefined };
    const res = await worker.fetch(
      new Request(`${ORIGIN}/metrics`, { headers: { authorization: "Bearer " } }),
      noToken,
      createExecutionContext(),
    );
    expect(res.status).toBe(404);
  });
});
