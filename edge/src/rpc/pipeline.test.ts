import { parseTransaction, serializeTransaction } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../app/contract.ts";
import { LruResponseCache } from "./cache.ts";
import { EdgeMetricsRegistry } from "./metrics.ts";
import { createRpcPipeline, type RpcPipelineDeps, type RpcRequestContext } from "./pipeline.ts";
import { TokenBucketLimiter } from "./rateLimit.ts";
import { RawResponseCache } from "./rawCache.ts";
import { AllowAll, FakeEvents, FakeReplica, FakeUpstream, ref, testConfig } from "./testFakes.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const ADDR = "0x1111111111111111111111111111111111111111";
const http: RpcRequestContext = { clientKey: "203.0.113.7", transport: "http" };
const account = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

function setup(over: Partial<RpcPipelineDeps> = {}) {
  const replica = new FakeReplica();
  const upstream = new FakeUpstream();
  const cache = new LruResponseCache();
  const events = new FakeEvents();
  const metrics = new EdgeMetricsRegistry();
  const logs: Record<string, unknown>[] = [];
  const deps: RpcPipelineDeps = {
    config: testConfig(),
    replica,
    upstream,
    cache,
    limiter: new AllowAll(),
    events,
    metrics,
    log: (e) => logs.push(e),
    // The per-call cache is what most tests look at; the raw-body cache has its own tests below.
    rawCache: null,
    ...over,
  };
  const pipeline = createRpcPipeline(deps);
  const send = async (body: unknown, ctx = http) => {
    const reply = await pipeline.handle(typeof body === "string" ? body : JSON.stringify(body), ctx);
    return { ...reply, json: reply.body === undefined ? undefined : JSON.parse(reply.body) };
  };
  const call = async (method: string, params?: unknown[], id: unknown = 1) =>
    (await send({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) })).json;
  return { pipeline, replica, upstream, cache, events, metrics, logs, send, call, deps };
}

describe("envelope errors (the core's codes and statuses)", () => {
  it("malformed JSON is -32700 with id null, HTTP 200", async () => {
    const { send, upstream } = setup();
    const r = await send("{not json");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "parse error", data: { code: "PARSE_ERROR" } },
    });
    expect(upstream.calls).toHaveLength(0);
  });

  it("a body that is not an object or array is -32600", async () => {
    const { send } = setup();
    for (const body of ['"hello"', "5", "null", "true"]) {
      const r = await send(body);
      expect(r.json.error.code, body).toBe(-32600);
      expect(r.json.id).toBeNull();
    }
  });

  it("an empty batch is -32600 and a batch over maxBatch is -32005, as one error object", async () => {
    const { send, upstream } = setup({ config: testConfig({ maxBatch: 3 }) });
    const empty = await send([]);
    expect(empty.json).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "empty batch", data: { code: "EMPTY_BATCH" } },
    });
    const big = Array.from({ length: 4 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_call", params: [{}] }));
    const r = await send(big);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32005, message: "batch of 4 exceeds limit 3", data: { code: "BATCH_TOO_LARGE", limit: 3 } },
    });
    expect(upstream.calls).toHaveLength(0);
    const ok = await send(big.slice(0, 3));
    expect(ok.json).toHaveLength(3);
  });

  it("a body over maxBodyBytes is HTTP 413 with -32005", async () => {
    const { send, upstream } = setup({ config: testConfig({ maxBodyBytes: 100 }) });
    const r = await send({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ data: `0x${"ab".repeat(100)}` }] });
    expect(r.status).toBe(413);
    expect(r.json.error).toEqual({
      code: -32005,
      message: "request body exceeds 100 bytes",
      data: { code: "BODY_TOO_LARGE", limit: 100 },
    });
    expect(upstream.calls).toHaveLength(0);
    // Multi-byte characters count as bytes, not UTF-16 units.
    const r2 = await send(`{"jsonrpc":"2.0","id":1,"method":"${"é".repeat(45)}"}`);
    expect(r2.status).toBe(413);
  });

  it("an invalid call in a batch is -32600 with that call's id; the others are answered", async () => {
    const { send } = setup();
    const r = await send([
      { jsonrpc: "1.0", id: 7, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 8 },
      { jsonrpc: "2.0", id: { no: 1 }, method: "eth_chainId" },
      5,
      { jsonrpc: "2.0", id: 9, method: "eth_chainId" },
    ]);
    expect(r.json).toEqual([
      { jsonrpc: "2.0", id: 7, error: { code: -32600, message: "invalid request", data: { code: "INVALID_REQUEST" } } },
      { jsonrpc: "2.0", id: 8, error: { code: -32600, message: "invalid request", data: { code: "INVALID_REQUEST" } } },
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "invalid request", data: { code: "INVALID_REQUEST" } },
      },
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "invalid request", data: { code: "INVALID_REQUEST" } },
      },
      { jsonrpc: "2.0", id: 9, result: "0x7" },
    ]);
  });

  it('"id": null is answered; notifications get no reply entry', async () => {
    const { send, upstream } = setup();
    expect((await send({ jsonrpc: "2.0", id: null, method: "eth_chainId" })).json).toEqual({
      jsonrpc: "2.0",
      id: null,
      result: "0x7",
    });
    const single = await send({ jsonrpc: "2.0", method: "eth_call", params: [{}] });
    expect(single.status).toBe(200);
    expect(single.body).toBeUndefined();
    expect(upstream.calls).toHaveLength(1); // a notification is still executed
    const batch = await send([
      { jsonrpc: "2.0", method: "eth_chainId" },
      { jsonrpc: "2.0", id: "x", method: "net_version" },
    ]);
    expect(batch.json).toEqual([{ jsonrpc: "2.0", id: "x", result: "7" }]);
    const onlyNotes = await send([{ jsonrpc: "2.0", method: "eth_chainId" }]);
    expect(onlyNotes.body).toBeUndefined();
  });
});

describe("method allow-list and params", () => {
  it("unknown and non-public methods are -32601 (HTTP 200) and never reach the core", async () => {
    const { send, upstream, replica } = setup();
    for (const method of [
      "admin_addPeer",
      "debug_traceTransaction",
      "personal_sign",
      "miner_start",
      "eth_foo",
      "toString",
      "__proto__",
    ]) {
      const r = await send({ jsonrpc: "2.0", id: 1, method, params: [] });
      expect(r.status).toBe(200);
      expect(r.json.error, method).toEqual({
        code: -32601,
        message: `the method ${method} does not exist/is not available`,
        data: { code: "METHOD_NOT_FOUND" },
      });
    }
    expect(upstream.calls).toHaveLength(0);
    expect(replica.reads).toHaveLength(0);
  });

  it("invalid params are -32602 at the edge, nothing forwarded", async () => {
    const { call, upstream, replica } = setup();
    expect((await call("eth_getBalance", ["0x12"])).error.code).toBe(-32602);
    expect((await call("eth_call", ["nope"])).error).toEqual({
      code: -32602,
      message: "invalid argument 0: transaction call object expected",
      data: { code: "INVALID_PARAMS" },
    });
    expect((await call("eth_sendRawTransaction", ["0xzz"])).error.code).toBe(-32602);
    expect((await call("eth_getBlockByNumber", ["latest"])).error.code).toBe(-32602);
    expect((await call("eth_chainId", [1])).error.code).toBe(-32602);
    expect(upstream.calls).toHaveLength(0);
    expect(replica.reads).toHaveLength(0);
  });

  it("statics are answered at the edge", async () => {
    const { call, upstream, replica } = setup();
    expect((await call("eth_chainId")).result).toBe("0x7");
    expect((await call("net_version")).result).toBe("7");
    expect((await call("web3_clientVersion")).result).toBe("rustchain-edge/test");
    expect(upstream.calls).toHaveLength(0);
    expect(replica.reads).toHaveLength(0);
  });

  it("eth_subscribe over HTTP is -32004; over a session it is the session's answer", async () => {
    const { call, send } = setup();
    expect((await call("eth_subscribe", ["newHeads"])).error).toEqual({
      code: -32004,
      message: "notifications not supported",
      data: { code: "NOTIFICATIONS_NOT_SUPPORTED" },
    });
    const seen: unknown[] = [];
    const ws: RpcRequestContext = {
      clientKey: "c",
      transport: "ws",
      session: {
        subscribe: async (p) => {
          seen.push(p);
          if ((p as unknown[])[0] === "logs") throw { code: -32602, message: "bad filter" };
          return "0xabc";
        },
        unsubscribe: async (id) => id === "0xabc",
      },
    };
    expect((await send({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }, ws)).json.result).toBe(
      "0xabc",
    );
    expect(seen).toEqual([["newHeads"]]);
    expect(
      (await send({ jsonrpc: "2.0", id: 2, method: "eth_subscribe", params: ["logs", {}] }, ws)).json.error,
    ).toEqual({
      code: -32602,
      message: "bad filter",
    });
    // The table's check runs first: an unknown kind never reaches the session.
    expect((await send({ jsonrpc: "2.0", id: 3, method: "eth_subscribe", params: ["nope"] }, ws)).json.error.code).toBe(
      -32602,
    );
    expect(seen).toHaveLength(2);
    expect((await send({ jsonrpc: "2.0", id: 4, method: "eth_unsubscribe", params: ["0xabc"] }, ws)).json.result).toBe(
      true,
    );
  });
});

describe("routing between replica and core", () => {
  it("eth_call, eth_estimateGas and pending nonces go to the core; latest nonces to the replica", async () => {
    const { call, upstream, replica } = setup();
    replica.answer = () => ({ kind: "result", result: "0x3", pin: ref(10), immutable: false });
    expect((await call("eth_call", [{ to: ADDR }, "latest"])).result).toBe("core:eth_call");
    expect((await call("eth_estimateGas", [{ to: ADDR }])).result).toBe("core:eth_estimateGas");
    expect((await call("eth_getTransactionCount", [ADDR, "pending"])).result).toBe("core:eth_getTransactionCount");
    expect(upstream.calls.map((c) => c.method)).toEqual(["eth_call", "eth_estimateGas", "eth_getTransactionCount"]);
    expect(upstream.calls[0]?.params).toEqual([{ to: ADDR }, "latest"]);
    expect(replica.reads).toHaveLength(0);
    expect((await call("eth_getTransactionCount", [ADDR, "latest"])).result).toBe("0x3");
    expect(replica.reads).toEqual([{ method: "eth_getTransactionCount", params: [ADDR, "latest"] }]);
  });

  it("a `forward` outcome is asked of the core; a replica error is answered as is", async () => {
    const { call, upstream, replica } = setup();
    replica.answer = (m) =>
      m === "eth_getLogs"
        ? { kind: "error", error: { code: -32005, message: "block range exceeds 10000 blocks" } }
        : { kind: "forward" };
    expect((await call("eth_getBalance", [ADDR, "0x1"])).result).toBe("core:eth_getBalance");
    expect((await call("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0xffffff" }])).error).toEqual({
      code: -32005,
      message: "block range exceeds 10000 blocks",
    });
    expect(upstream.calls.map((c) => c.method)).toEqual(["eth_getBalance"]);
  });

  it("methods outside the replica's list go straight to the core", async () => {
    const { call, upstream, replica } = setup();
    expect((await call("eth_getProof", [ADDR, [], "latest"])).result).toBe("core:eth_getProof");
    expect((await call("rustchain_finalityStatus")).result).toBe("core:rustchain_finalityStatus");
    expect(replica.reads).toHaveLength(0);
    expect(upstream.calls).toHaveLength(2);
  });

  it("core down: -32002 `core unavailable, retry later`, HTTP 200, counted", async () => {
    const { send, upstream, metrics } = setup();
    upstream.down = true;
    const r = await send({ jsonrpc: "2.0", id: 5, method: "eth_call", params: [{ to: ADDR }] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      jsonrpc: "2.0",
      id: 5,
      error: { code: -32002, message: "core unavailable, retry later", data: { code: "CORE_UNAVAILABLE" } },
    });
    const snap = metrics.snapshot() as { upstream: Record<string, { count: number; errors: number }> };
    expect(snap.upstream.eth_call).toMatchObject({ count: 1, errors: 1 });
    expect(metrics.prometheus()).toContain('rustchain_edge_upstream_errors_total{method="eth_call"} 1');
  });

  it("the core's own errors pass through unchanged", async () => {
    const { call, upstream } = setup();
    upstream.answer = () => ({ error: { code: 3, message: "execution reverted", data: "0x08c379a0" } });
    expect((await call("eth_call", [{ to: ADDR }])).error).toEqual({
      code: 3,
      message: "execution reverted",
      data: "0x08c379a0",
    });
  });
});

describe("raw-body cache", () => {
  const balanceBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBalance", params: [ADDR, "latest"] });
  function rawSetup(over: Partial<RpcPipelineDeps> = {}) {
    const raw = new RawResponseCache();
    const t = setup({ rawCache: raw, ...over });
    let balance = 1;
    t.replica.answer = () => ({
      kind: "result",
      result: `0x${balance++}`,
      pin: t.replica.current.head!,
      immutable: false,
    });
    return { ...t, raw };
  }

  it("answers a repeated body from the first reply until the tips change, charged and counted each time", async () => {
    const limiter = new AllowAll();
    const { send, replica, raw, metrics, logs } = rawSetup({ limiter });
    const first = await send(balanceBody);
    expect(first.json.result).toBe("0x1");
    const again = await send(balanceBody);
    expect(again.body).toBe(first.body);
    expect(replica.reads).toHaveLength(1);
    expect(raw.hits).toBe(1);
    expect(limiter.taken).toBe(2);
    expect(metrics.prometheus()).toMatch(/method="eth_getBalance",source="cache"/);
    expect(logs.at(-1)).toMatchObject({ methods: ["eth_getBalance"], source: "cache", status: 200 });
    // A different body (another id) is another entry (answered by the per-call cache: same block).
    expect((await send({ jsonrpc: "2.0", id: 2, method: "eth_getBalance", params: [ADDR, "latest"] })).json).toEqual({
      jsonrpc: "2.0",
      id: 2,
      result: "0x1",
    });
    expect(raw.size).toBe(2);
    // A new bundle: every entry misses.
    replica.current = { ...replica.current, seq: replica.current.seq + 1 };
    replica.current = { ...replica.current, head: ref(11), seq: replica.current.seq + 1 };
    expect((await send(balanceBody)).json.result).toBe("0x2");
    expect((await send(balanceBody)).json.result).toBe("0x2");
    expect(replica.reads).toHaveLength(2);
    expect(raw.hits).toBe(2);
  });

  it("a batch of reads is stored whole; a hit costs the batch's tokens and is refused with 429 when over", async () => {
    const limiter = new TokenBucketLimiter({ perSecond: 0.001, burst: 5 });
    const { send, replica } = rawSetup({ limiter });
    const batch = JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "eth_getBalance", params: [ADDR] },
    ]);
    const a = await send(batch);
    expect(a.json).toHaveLength(2);
    expect((await send(batch)).body).toBe(a.body);
    expect(replica.reads).toHaveLength(1);
    const refused = await send(batch);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: -32005, data: { code: "RATE_LIMITED" } });
  });

  it("never stores a body that reached the core, wrote, subscribed or named another method", async () => {
    const { send, upstream, replica } = rawSetup();
    const call = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to: ADDR }] });
    await send(call);
    await send(call);
    expect(upstream.calls).toHaveLength(2);
    // A read the replica forwards is the core's answer: not stored either.
    replica.answer = () => ({ kind: "forward" });
    const code = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getCode", params: [ADDR] });
    await send(code);
    await send(code);
    expect(upstream.calls).toHaveLength(4);
    const mixed = JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "eth_newBlockFilter" },
    ]);
    await send(mixed);
    await send(mixed);
    expect(upstream.calls).toHaveLength(6);
  });

  it("does not store an answer computed while a bundle landed", async () => {
    const { send, replica, raw } = rawSetup();
    const answer = replica.answer;
    replica.answer = (m, p) => {
      replica.current = { ...replica.current, seq: replica.current.seq + 1 };
      return answer(m, p);
    };
    await send(balanceBody);
    expect(raw.size).toBe(0);
    replica.answer = answer;
    await send(balanceBody);
    expect(raw.size).toBe(1);
    expect(raw.hits).toBe(0);
  });
});

describe("caching", () => {
  it("an immutable answer is cached under the pinned number: hit after finalized moves, miss for the new finalized", async () => {
    const { call, replica } = setup();
    replica.current = { head: ref(10), safe: ref(8), finalized: ref(5), seq: 1 };
    replica.answer = (_m, p) => {
      const tag = (p as unknown[])[0];
      const n = tag === "finalized" ? replica.current.finalized!.number : Number.parseInt(tag as string, 16);
      return { kind: "result", result: { number: `0x${n.toString(16)}` }, pin: ref(n), immutable: true };
    };
    expect((await call("eth_getBlockByNumber", ["finalized", false])).result).toEqual({ number: "0x5" });
    expect(replica.reads).toHaveLength(1);
    expect((await call("eth_getBlockByNumber", ["finalized", false])).result).toEqual({ number: "0x5" });
    expect((await call("eth_getBlockByNumber", ["0x5", false])).result).toEqual({ number: "0x5" });
    expect(replica.reads).toHaveLength(1);
    replica.current = { head: ref(11), safe: ref(9), finalized: ref(6), seq: 2 };
    // Block 5 is still block 5 forever.
    expect((await call("eth_getBlockByNumber", ["0x5", false])).result).toEqual({ number: "0x5" });
    expect(replica.reads).toHaveLength(1);
    // "finalized" is block 6 now: not the cached block 5.
    expect((await call("eth_getBlockByNumber", ["finalized", false])).result).toEqual({ number: "0x6" });
    expect(replica.reads).toHaveLength(2);
    // A different full flag is a different answer.
    await call("eth_getBlockByNumber", ["0x5", true]);
    expect(replica.reads).toHaveLength(3);
  });

  it("a non-immutable answer is cached only under its block hash: a new head or a reorged head misses", async () => {
    const { call, replica } = setup();
    let balance = 1;
    replica.answer = () => ({
      kind: "result",
      result: `0x${balance++}`,
      pin: replica.current.head!,
      immutable: false,
    });
    replica.current = { head: ref(10, "a"), safe: ref(8), finalized: ref(5), seq: 1 };
    expect((await call("eth_getBalance", [ADDR, "latest"])).result).toBe("0x1");
    expect((await call("eth_getBalance", [ADDR])).result).toBe("0x1"); // latest by default
    expect((await call("eth_getBalance", [ADDR.toUpperCase().replace("0X", "0x"), null])).result).toBe("0x1");
    expect(replica.reads).toHaveLength(1);
    replica.current = { ...replica.current, head: ref(11, "a") };
    expect((await call("eth_getBalance", [ADDR, "latest"])).result).toBe("0x2");
    replica.current = { ...replica.current, head: ref(11, "b") }; // same number, other block: a reorg
    expect((await call("eth_getBalance", [ADDR, "latest"])).result).toBe("0x3");
    expect(replica.reads).toHaveLength(3);
    replica.current = { ...replica.current, head: ref(11, "a") }; // back to the first block 11: its answer holds
    expect((await call("eth_getBalance", [ADDR, "latest"])).result).toBe("0x2");
    expect(replica.reads).toHaveLength(3);
  });

  it("by-hash reads: a block by hash is cached under that hash; a transaction by hash only once immutable", async () => {
    const { call, replica } = setup();
    const h = ref(9).hash;
    let n = 0;
    replica.answer = (m) => {
      n++;
      if (m === "eth_getBlockByHash") return { kind: "result", result: { n }, pin: ref(9), immutable: false };
      return { kind: "result", result: { n }, pin: ref(9), immutable: n > 3 };
    };
    expect((await call("eth_getBlockByHash", [h, false])).result).toEqual({ n: 1 });
    expect((await call("eth_getBlockByHash", [h.toUpperCase().replace("0X", "0x"), false])).result).toEqual({ n: 1 });
    const tx = `0x${"cd".repeat(32)}`;
    expect((await call("eth_getTransactionReceipt", [tx])).result).toEqual({ n: 2 });
    expect((await call("eth_getTransactionReceipt", [tx])).result).toEqual({ n: 3 }); // not cached: not immutable
    expect((await call("eth_getTransactionReceipt", [tx])).result).toEqual({ n: 4 }); // immutable now: cached
    expect((await call("eth_getTransactionReceipt", [tx])).result).toEqual({ n: 4 });
    expect(replica.reads).toHaveLength(4);
  });

  it("never caches errors, null results or forwarded answers", async () => {
    const { call, replica, upstream } = setup();
    let mode: "null" | "error" | "forward" = "null";
    replica.answer = () =>
      mode === "null"
        ? { kind: "result", result: null, pin: ref(10), immutable: true }
        : mode === "error"
          ? { kind: "error", error: { code: -32000, message: "header not found" } }
          : { kind: "forward" };
    for (const m of ["null", "error", "forward"] as const) {
      mode = m;
      await call("eth_getBlockByNumber", ["0x3", false]);
      await call("eth_getBlockByNumber", ["0x3", false]);
    }
    expect(replica.reads).toHaveLength(6);
    expect(upstream.calls).toHaveLength(2);
  });

  it("a tag answer without a pin is not cached (its block is unknown)", async () => {
    const { call, replica } = setup();
    replica.answer = () => ({ kind: "result", result: "0x1", immutable: false });
    await call("eth_gasPrice");
    await call("eth_gasPrice");
    expect(replica.reads).toHaveLength(2);
    replica.answer = () => ({ kind: "result", result: "0x1", pin: replica.current.head!, immutable: false });
    await call("eth_gasPrice");
    await call("eth_gasPrice");
    expect(replica.reads).toHaveLength(3);
  });

  it("reads the tips once per body, not once per call of a batch; hits count in the metrics", async () => {
    const { send, replica, metrics } = setup();
    replica.answer = (_m, p) => ({ kind: "result", result: "0x1", pin: ref(10), immutable: false, p }) as never;
    const batch = Array.from({ length: 5 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i,
      method: "eth_getBalance",
      params: [`0x${String(i).repeat(40)}`, "latest"],
    }));
    await send(batch);
    expect(replica.tipsCalls).toBe(1);
    await send(batch);
    expect(replica.tipsCalls).toBe(2);
    expect(replica.reads).toHaveLength(5);
    expect(metrics.prometheus()).toContain(
      'rustchain_edge_rpc_calls_total{method="eth_getBalance",source="cache",result="ok"} 5',
    );
    expect(metrics.cacheHitRatio()).toBe(0.5);
  });

  it("logs with two different moving tags are not cached; a numeric range is", async () => {
    const { call, replica } = setup();
    replica.answer = () => ({ kind: "result", result: [], pin: ref(10), immutable: false });
    await call("eth_getLogs", [{ fromBlock: "safe", toBlock: "latest" }]);
    await call("eth_getLogs", [{ fromBlock: "safe", toBlock: "latest" }]);
    expect(replica.reads).toHaveLength(2);
    replica.answer = () => ({ kind: "result", result: [], pin: ref(3), immutable: true });
    await call("eth_getLogs", [{ fromBlock: "0x1", toBlock: "0x3", address: ADDR }]);
    await call("eth_getLogs", [{ address: ADDR, toBlock: "0x3", fromBlock: "0x1" }]);
    expect(replica.reads).toHaveLength(3);
  });
});

describe("failing seams", () => {
  it("a cache, limiter, replica or publisher that throws never fails the call", async () => {
    const boom = () => {
      throw new Error("down");
    };
    const { call, replica, upstream } = setup({
      cache: { get: boom, put: boom },
      limiter: { take: boom },
      events: { publish: boom },
    });
    replica.answer = () => ({ kind: "result", result: "0x9", pin: ref(10), immutable: true });
    expect((await call("eth_getBalance", [ADDR, "latest"])).result).toBe("0x9");
    replica.answer = () => {
      throw new Error("replica down");
    };
    expect((await call("eth_getBalance", [ADDR, "latest"])).result).toBe("core:eth_getBalance");
    replica.tips = async () => {
      throw new Error("tips down");
    };
    upstream.answer = () => ({ result: "0x99" });
    expect((await call("eth_blockNumber")).result).toBe("0x99");
  });
});

describe("served head", () => {
  it("eth_blockNumber never goes backwards", async () => {
    const { call, replica, upstream } = setup();
    replica.current = { ...replica.current, head: ref(10) };
    expect((await call("eth_blockNumber")).result).toBe("0xa");
    replica.current = { ...replica.current, head: ref(8) };
    expect((await call("eth_blockNumber")).result).toBe("0xa");
    replica.current = { ...replica.current, head: ref(12) };
    expect((await call("eth_blockNumber")).result).toBe("0xc");
    expect(upstream.calls).toHaveLength(0);
  });

  it("with an empty replica eth_blockNumber asks the core, and later replica heads never go below it", async () => {
    const { call, replica, upstream } = setup();
    replica.current = { head: null, safe: null, finalized: null, seq: 0 };
    upstream.answer = () => ({ result: "0x14" });
    expect((await call("eth_blockNumber")).result).toBe("0x14");
    replica.current = { head: ref(3), safe: null, finalized: null, seq: 1 };
    expect((await call("eth_blockNumber")).result).toBe("0x14");
  });
});

describe("rate limiting", () => {
  const limited = () => {
    let now = 1_000_000;
    const limiter = new TokenBucketLimiter({ perSecond: 1, burst: 3, now: () => now });
    return { limiter, tick: (ms: number) => (now += ms) };
  };

  it("costs one token per call; refused with 429, Retry-After and one -32005 error (id null for a batch)", async () => {
    const { limiter } = limited();
    const { send, upstream, metrics } = setup({ limiter });
    const two = [
      { jsonrpc: "2.0", id: 1, method: "eth_call", params: [{}] },
      { jsonrpc: "2.0", id: 2, method: "eth_call", params: [{}] },
    ];
    expect((await send(two)).status).toBe(200);
    const r = await send(two);
    expect(r.status).toBe(429);
    expect(r.headers).toEqual({ "content-type": "application/json", "retry-after": "1" });
    expect(r.json).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32005, message: "rate limit exceeded", data: { code: "RATE_LIMITED" } },
    });
    expect(upstream.calls).toHaveLength(2);
    const single = await send({ jsonrpc: "2.0", id: 44, method: "eth_chainId" });
    expect(single.status).toBe(200); // one token left
    const refused = await send({ jsonrpc: "2.0", id: 45, method: "eth_chainId" });
    expect(refused.status).toBe(429);
    expect(refused.json.id).toBe(45);
    expect((metrics.snapshot() as { rateLimited: number }).rateLimited).toBe(2);
  });

  it("is per client key, refills over time, and applies to WebSocket messages too", async () => {
    const { limiter, tick } = limited();
    const { send } = setup({ limiter });
    const batch = Array.from({ length: 3 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId" }));
    expect((await send(batch)).status).toBe(200);
    expect((await send(batch)).status).toBe(429);
    expect((await send(batch, { clientKey: "other", transport: "http" })).status).toBe(200);
    const ws = await send(
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { clientKey: "203.0.113.7", transport: "ws" },
    );
    expect(ws.json.error).toEqual({ code: -32005, message: "rate limit exceeded", data: { code: "RATE_LIMITED" } });
    tick(3000);
    expect((await send(batch)).status).toBe(200);
  });

  it("malformed bodies cost a token too", async () => {
    const limiter: RateLimiter = new TokenBucketLimiter({ perSecond: 1, burst: 1, now: () => 0 });
    const { send } = setup({ limiter });
    expect((await send("{")).json.error.code).toBe(-32700);
    expect((await send("{")).status).toBe(429);
  });
});

describe("eth_sendRawTransaction", () => {
  const tx = (over: Record<string, unknown> = {}) =>
    account.signTransaction({
      to: ADDR,
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      chainId: 7,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      ...over,
    } as never);

  it("a valid signed transaction is forwarded and published as pending", async () => {
    const { call, upstream, events } = setup();
    const raw = await tx();
    upstream.answer = () => ({ result: "0xcorehash" });
    expect((await call("eth_sendRawTransaction", [raw])).result).toBe("0xcorehash");
    expect(upstream.calls).toEqual([{ method: "eth_sendRawTransaction", params: [raw] }]);
    expect(events.published).toHaveLength(1);
    expect(events.published[0]).toMatchObject({ kind: "pendingTransaction" });
  });

  it("refuses wrong chain id, bad signature, oversized and garbage without forwarding", async () => {
    const { call, upstream, events } = setup({ config: testConfig({ maxTxBytes: 200 }) });
    const wrong = await tx({ chainId: 8 });
    expect((await call("eth_sendRawTransaction", [wrong])).error).toEqual({
      code: -32000,
      message: "invalid chain id for signer: have 8 want 7",
      data: { code: "TX_WRONG_CHAIN_ID" },
    });
    const good = await tx();
    // The same signature with s mirrored to the high half: valid ECDSA, refused by EIP-2 (as the core does).
    const p = parseTransaction(good);
    const { r, s, v: _v, yParity, ...unsigned } = p;
    const highS = serializeTransaction(unsigned as never, {
      r: r as `0x${string}`,
      s: `0x${(SECP256K1_N - BigInt(s as string)).toString(16)}`,
      yParity: yParity === 0 ? 1 : 0,
    });
    expect((await call("eth_sendRawTransaction", [highS])).error).toEqual({
      code: -32000,
      message: "invalid transaction v, r, s values",
      data: { code: "TX_INVALID_SIGNATURE" },
    });
    const big = await tx({ data: `0x${"ff".repeat(300)}`, gas: 100_000n });
    expect((await call("eth_sendRawTransaction", [big])).error.message).toMatch(
      /^oversized data: transaction size \d+, limit 200$/,
    );
    expect((await call("eth_sendRawTransaction", ["0xdeadbeef"])).error.code).toBe(-32000);
    expect((await call("eth_sendRawTransaction", ["0x"])).error).toEqual({
      code: -32000,
      message: "invalid transaction: empty",
      data: { code: "TX_MALFORMED" },
    });
    expect(upstream.calls).toHaveLength(0);
    expect(events.published).toHaveLength(0);
  });

  it('is idempotent: the core\'s "already known" answers the transaction hash', async () => {
    const { call, upstream, events } = setup();
    const raw = await tx();
    upstream.answer = () => ({ error: { code: -32000, message: "already known", data: { code: "TX_ALREADY_KNOWN" } } });
    const { keccak256 } = await import("viem");
    expect((await call("eth_sendRawTransaction", [raw])).result).toBe(keccak256(raw));
    expect(events.published).toHaveLength(0);
    upstream.answer = () => ({ error: { code: -32000, message: "nonce too low: next nonce 1, tx nonce 0" } });
    expect((await call("eth_sendRawTransaction", [raw])).error.message).toBe("nonce too low: next nonce 1, tx nonce 0");
  });

  it("core down on send: -32002, nothing published", async () => {
    const { call, upstream, events } = setup();
    upstream.down = true;
    expect((await call("eth_sendRawTransaction", [await tx()])).error.code).toBe(-32002);
    expect(events.published).toHaveLength(0);
  });
});

describe("structured logs", () => {
  it("one entry per body with methods, status, source, clientKey and time", async () => {
    const { send, logs } = setup();
    await send([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "eth_call", params: [{}] },
      { jsonrpc: "2.0", id: 3, method: "admin_peers" },
    ]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      transport: "http",
      clientKey: "203.0.113.7",
      methods: ["eth_chainId", "eth_call", "unknown"],
      status: 200,
    });
    expect(String(logs[0]?.source).split(",").sort()).toEqual(["core", "edge"]);
    expect(typeof logs[0]?.ms).toBe("number");
  });
});
