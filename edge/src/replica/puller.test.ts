import {
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  verifyReplicationRequest,
} from "@rustchain/shared/replication";
import { beforeEach, describe, expect, it } from "vitest";
import type { SubscriptionEvent } from "../app/contract.ts";
import { MAX_PULL_COUNT, ReplicaPullError, ReplicaPuller } from "./puller.ts";
import { createReplicaReads } from "./reads.ts";
import { createReplica, defaultReplicaOptions, type Replica } from "./replica.ts";
import { MemoryReplicaStore } from "./store.ts";
import { blockBundle, blockHash, CHAIN, reorgBundle } from "./testBundles.ts";

const KEY = new Uint8Array(32).fill(0x33);
const NOW = 1_800_000_000_000;
const CORE = "http://core.test:8551";

/** The core's pull endpoints over a list of bundles (seq i + 1 at index i), checking signatures as the core does. */
function fakeCore(feed: Record<string, unknown>[]) {
  const requests: string[] = [];
  const state = {
    status: undefined as number | undefined,
    mangle: undefined as ((b: unknown[]) => unknown[]) | undefined,
  };
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const pathAndQuery = `${url.pathname}${url.search}`;
    requests.push(pathAndQuery);
    const h = new Headers(init?.headers);
    const json = (status: number, v: unknown) =>
      new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
    const auth = await verifyReplicationRequest(
      KEY,
      h.get(REPLICATION_TIMESTAMP_HEADER),
      h.get(REPLICATION_SIGNATURE_HEADER),
      pathAndQuery,
      NOW,
    );
    if (auth !== "ok") return json(401, { error: auth });
    if (state.status) return json(state.status, { error: "boom" });
    if (url.pathname === "/replication/head") return json(200, { seq: feed.length, oldestSeq: 1 });
    const from = Number(url.searchParams.get("from"));
    const count = Number(url.searchParams.get("count"));
    if (!(count >= 1 && count <= MAX_PULL_COUNT)) return json(400, { error: "count" });
    const bundles = feed.slice(from - 1, from - 1 + count);
    return json(200, { bundles: state.mangle ? state.mangle(bundles) : bundles });
  }) as typeof fetch;
  return { fetchFn, requests, state };
}

/** Blocks 0..n-1 as seqs 1..n, block 2 with a log. */
const chainFeed = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    blockBundle(i + 1, i, { txs: i === 2 ? [{ from: 1, to: 2, logs: [{ address: 0xc0, topics: [1] }] }] : [] }),
  ) as Record<string, unknown>[];

describe("ReplicaPuller", () => {
  let store: MemoryReplicaStore;
  let replica: Replica;

  beforeEach(() => {
    store = new MemoryReplicaStore();
    replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
  });

  const puller = (
    core: ReturnType<typeof fakeCore>,
    extra: Partial<ConstructorParameters<typeof ReplicaPuller>[0]> = {},
  ) =>
    new ReplicaPuller({ replica, store, coreUrl: `${CORE}/`, key: KEY, fetch: core.fetchFn, now: () => NOW, ...extra });

  it("fills an empty replica from the core, publishing every block's events in order", async () => {
    const core = fakeCore(chainFeed(5));
    const published: SubscriptionEvent[] = [];
    const p = puller(core, { publish: async (events) => void published.push(...events) });
    expect(await p.catchUp()).toEqual({ applied: 5, coreSeq: 5, lastSeq: 5 });
    expect(core.requests).toEqual(["/replication/head", "/replication/bundles?from=1&count=5"]);
    expect(published.map((e) => (e as { header: Record<string, unknown> }).header.number as string)).toEqual([
      "0x0",
      "0x1",
      "0x2",
      "0x3",
      "0x4",
    ]);
    expect((published[2] as { logs: unknown[] }).logs).toHaveLength(1);
    const reads = createReplicaReads({}, { store });
    expect(await reads.answer("eth_blockNumber", [])).toBe("0x4");
    // Caught up: one request, nothing applied.
    expect(await p.catchUp()).toEqual({ applied: 0, coreSeq: 5, lastSeq: 5 });
    expect(core.requests).toHaveLength(3);
  });

  it("is bounded: at most 256 per request and maxBundlesPerCall per call; the next call continues", async () => {
    const feed = chainFeed(600);
    const core = fakeCore(feed);
    const p = puller(core, { maxBundlesPerCall: 520 });
    expect(await p.catchUp()).toEqual({ applied: 520, coreSeq: 600, lastSeq: 520 });
    expect(core.requests.slice(1)).toEqual([
      "/replication/bundles?from=1&count=256",
      "/replication/bundles?from=257&count=256",
      "/replication/bundles?from=513&count=8",
    ]);
    expect(await p.catchUp()).toEqual({ applied: 80, coreSeq: 600, lastSeq: 600 });
  }, 30_000);

  it("concurrent calls share one run", async () => {
    const core = fakeCore(chainFeed(4));
    const p = puller(core);
    const [a, b] = await Promise.all([p.catchUp(), p.catchUp()]);
    expect(a).toEqual({ applied: 4, coreSeq: 4, lastSeq: 4 });
    expect(b).toBe(a);
    expect(core.requests).toHaveLength(2);
  });

  it("continues from the replica's position when the pusher applied some bundles meanwhile", async () => {
    const feed = chainFeed(6);
    for (const b of feed.slice(0, 2)) await replica.apply(b);
    const core = fakeCore(feed);
    // The pusher delivers seq 3 between our head request and our bundles request.
    const p = puller(core, {
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        if (String(input).includes("bundles") && (await replica.meta()).lastSeq === 2) await replica.apply(feed[2]);
        return core.fetchFn(input, init);
      }) as typeof fetch,
    });
    expect(await p.catchUp()).toEqual({ applied: 3, coreSeq: 6, lastSeq: 6 });
  });

  it("a wrong key is a clear PULL_UNAUTHORIZED error and nothing is applied", async () => {
    const core = fakeCore(chainFeed(3));
    const p = puller(core, { key: new Uint8Array(32).fill(1) });
    const err = await p.catchUp().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicaPullError);
    expect((err as ReplicaPullError).type).toEqual({ code: "PULL_UNAUTHORIZED", status: 401, reason: "bad_signature" });
    expect((err as Error).message).toMatch(/refused the replication signature/);
    // Clocks apart by more than the window: refused as stale.
    const late = await puller(core, { now: () => NOW - 120_000 })
      .catchUp()
      .catch((e: unknown) => e);
    expect((late as ReplicaPullError).type).toMatchObject({ code: "PULL_UNAUTHORIZED", reason: "stale" });
    expect(store.size).toBe(0);
  });

  it("5xx, 410, an unreachable core and a timeout throw typed errors", async () => {
    const core = fakeCore(chainFeed(3));
    core.state.status = 503;
    expect(
      await puller(core)
        .catchUp()
        .catch((e: unknown) => (e as ReplicaPullError).type),
    ).toEqual({
      code: "PULL_CORE_ERROR",
      status: 503,
      path: "/replication/head",
    });
    core.state.status = undefined;
    const gone = fakeCore(chainFeed(3));
    const goneFetch = (async (input: string | URL | Request, init?: RequestInit) =>
      String(input).includes("bundles")
        ? new Response(JSON.stringify({ error: "old", oldestSeq: 40 }), { status: 410 })
        : gone.fetchFn(input, init)) as typeof fetch;
    expect(
      await puller(gone, { fetch: goneFetch })
        .catchUp()
        .catch((e: unknown) => (e as ReplicaPullError).type),
    ).toEqual({ code: "PULL_HISTORY_GONE", from: 1, oldestSeq: 40 });
    const refused = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    expect(
      await puller(core, { fetch: refused })
        .catchUp()
        .catch((e: unknown) => (e as ReplicaPullError).type),
    ).toEqual({ code: "PULL_UNREACHABLE", path: "/replication/head", reason: "TypeError: fetch failed" });
    const hanging = ((_input: string | URL | Request, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
    const timedOut = await puller(core, { fetch: hanging, timeoutMs: 50 })
      .catchUp()
      .catch((e: unknown) => (e as ReplicaPullError).type);
    expect(timedOut).toMatchObject({ code: "PULL_UNREACHABLE", reason: expect.stringMatching(/TimeoutError/) });
    expect(store.size).toBe(0);
  });

  it("never applies an out-of-order bundle; a bundle the replica refuses stops the run, earlier ones stay", async () => {
    const feed = chainFeed(4);
    const core = fakeCore(feed);
    core.state.mangle = (b) => [b[0], b[2], b[1]];
    const err = await puller(core)
      .catchUp()
      .catch((e: unknown) => e);
    expect((err as ReplicaPullError).type).toMatchObject({
      code: "PULL_BAD_RESPONSE",
      reason: "bundle seq 3 where 2 was expected",
    });
    expect((await replica.meta()).lastSeq).toBe(1);
    // A forged seq 2 (a block that does not extend the head): the replica refuses it and writes nothing.
    core.state.mangle = () => [reorgBundle(2, [5, blockHash("a", 5)], [4, blockHash("a", 4)], 1)];
    const before = store.snapshot();
    await expect(puller(core).catchUp()).rejects.toMatchObject({ type: { code: "REPLICA_REORG_MISMATCH" } });
    expect(store.snapshot()).toEqual(before);
    core.state.mangle = () => [{ seq: 2, kind: "block" }];
    await expect(puller(core).catchUp()).rejects.toMatchObject({ type: { code: "REPLICATION_MALFORMED" } });
    core.state.mangle = undefined;
    expect(await puller(core).catchUp()).toEqual({ applied: 3, coreSeq: 4, lastSeq: 4 });
  });

  it("a failing publish is reported and does not stop the pull", async () => {
    const faults: unknown[] = [];
    const core = fakeCore(chainFeed(3));
    const p = puller(core, {
      publish: async () => {
        throw new Error("no subscribers backend");
      },
      onError: (e) => faults.push(e),
    });
    expect(await p.catchUp()).toEqual({ applied: 3, coreSeq: 3, lastSeq: 3 });
    expect(faults).toHaveLength(3);
  });
});
