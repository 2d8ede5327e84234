import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createReplicaReads, FORWARD } from "../replica/reads.ts";
import { createReplica, defaultReplicaOptions } from "../replica/replica.ts";
import { MemoryReplicaStore, type ReplicaStore } from "../replica/store.ts";
import type { LocalRedis } from "./redisServer.ts";
import { connectRedis, type RedisClient, RedisReplicaStore, redisKeyPrefix } from "./redisStore.ts";
import { addr, blockHash, startTestRedis, TEST_CHAIN, TEST_CHAIN_ID, testBlockBundle } from "./testing.ts";

let redis: LocalRedis;
let raw: RedisClient;
const stores: RedisReplicaStore[] = [];
let run = 0;

/** A store on its own prefix, so tests do not see each other's keys. */
async function newStore(prefix = `test:${++run}:`): Promise<RedisReplicaStore> {
  const s = await RedisReplicaStore.connect({ url: redis.url, chainId: TEST_CHAIN_ID, prefix });
  stores.push(s);
  return s;
}

/** Every key and raw value under `prefix` (a snapshot to compare before and after a refused write). */
async function snapshot(prefix: string): Promise<Map<string, string>> {
  const keys = (await raw.keys(`${prefix}*`)).map(String).sort();
  const values = keys.length ? await raw.mGet(keys) : [];
  return new Map(keys.map((k, i) => [k, String(values[i])]));
}

beforeAll(async () => {
  redis = await startTestRedis();
  raw = await connectRedis({ url: redis.url });
});

afterAll(async () => {
  for (const s of stores) await s.close();
  await raw?.close();
  await redis?.stop();
});

describe("RedisReplicaStore", () => {
  let store: RedisReplicaStore;
  beforeEach(async () => {
    store = await newStore();
  });

  it("keeps JSON values under the chain prefix; getMany omits absent keys", async () => {
    expect(redisKeyPrefix(21076n)).toBe("rustchain:edge:21076:");
    const def = await RedisReplicaStore.connect({ url: redis.url, chainId: 21076n });
    stores.push(def);
    expect(def.prefix).toBe("rustchain:edge:21076:");

    const value = { a: [1, "x", null], b: { c: true } };
    expect(await store.batch([{ op: "put", key: "k1", value }])).toBe(true);
    expect(await raw.get(`${store.prefix}k1`)).toBe(JSON.stringify(value));
    expect(await store.get("k1")).toEqual(value);
    expect(await store.get("missing")).toBeUndefined();
    const got = await store.getMany(["k1", "missing", "k1"]);
    expect([...got.keys()]).toEqual(["k1"]);
    expect(got.get("k1")).toEqual(value);
    // Another chain's prefix does not see it.
    expect(await def.get("k1")).toBeUndefined();
    // Values are copies: mutating what was read changes nothing stored.
    (got.get("k1") as { b: { c: boolean } }).b.c = false;
    expect(await store.get("k1")).toEqual(value);
  });

  it("applies ops in order (a later op on the same key wins) and reads many keys across MGET chunks", async () => {
    expect(
      await store.batch([
        { op: "put", key: "x", value: 1 },
        { op: "delete", key: "x" },
        { op: "put", key: "y", value: 1 },
        { op: "put", key: "y", value: 2 },
        { op: "put", key: "z", value: "keep" },
      ]),
    ).toBe(true);
    expect(await store.get("x")).toBeUndefined();
    expect(await store.get("y")).toBe(2);
    const many = Array.from({ length: 2500 }, (_, i) => ({ op: "put" as const, key: `m:${i}`, value: i }));
    expect(await store.batch(many)).toBe(true);
    const got = await store.getMany(many.map((o) => o.key));
    expect(got.size).toBe(2500);
    expect(got.get("m:2499")).toBe(2499);
  });

  it("commits only while the guard holds; a refused or unstorable batch writes nothing", async () => {
    // Absent guard key: `equals: undefined` holds, anything else does not.
    expect(await store.batch([{ op: "put", key: "a", value: 1 }], { key: "meta", equals: { v: 1 } })).toBe(false);
    expect(
      await store.batch([{ op: "put", key: "meta", value: { v: 1, w: [2] } }], { key: "meta", equals: undefined }),
    ).toBe(true);
    const before = await snapshot(store.prefix);
    expect(await store.batch([{ op: "put", key: "a", value: 1 }], { key: "meta", equals: undefined })).toBe(false);
    expect(await store.batch([{ op: "put", key: "a", value: 1 }], { key: "meta", equals: { v: 2, w: [2] } })).toBe(
      false,
    );
    await expect(store.batch([{ op: "put", key: "a", value: 1n }])).rejects.toThrow();
    expect(await snapshot(store.prefix)).toEqual(before);
    // JSON-equal with another key order holds.
    expect(await store.batch([{ op: "put", key: "a", value: 1 }], { key: "meta", equals: { w: [2], v: 1 } })).toBe(
      true,
    );
    expect(await store.get("a")).toBe(1);
  });

  it("aborts (false, nothing written) when another client changes the guard key between WATCH and EXEC", async () => {
    const other = await newStore(store.prefix);
    await store.batch([{ op: "put", key: "meta", value: 1 }]);
    class Interleaved extends RedisReplicaStore {
      protected override async beforeExec(): Promise<void> {
        // Another edge commits on the same meta after our guard check.
        expect(await other.batch([{ op: "put", key: "meta", value: 2 }], { key: "meta", equals: 1 })).toBe(true);
      }
    }
    const racing = await Interleaved.connect({ url: redis.url, chainId: TEST_CHAIN_ID, prefix: store.prefix });
    stores.push(racing);
    const before = await snapshot(store.prefix);
    expect(
      await racing.batch(
        [
          { op: "put", key: "loser", value: true },
          { op: "put", key: "meta", value: 3 },
        ],
        {
          key: "meta",
          equals: 1,
        },
      ),
    ).toBe(false);
    expect(await store.get("loser")).toBeUndefined();
    expect(await store.get("meta")).toBe(2);
    expect((await snapshot(store.prefix)).size).toBe(before.size);
  });

  it("lets exactly one of two clients win each round of guarded writes on one key", async () => {
    const a = store;
    const b = await newStore(store.prefix);
    let wins = 0;
    for (let round = 0; round < 20; round++) {
      const current = await a.get("meta");
      const results = await Promise.all([
        a.batch(
          [
            { op: "put", key: "meta", value: { round, by: "a" } },
            { op: "put", key: `a:${round}`, value: 1 },
          ],
          {
            key: "meta",
            equals: current,
          },
        ),
        b.batch(
          [
            { op: "put", key: "meta", value: { round, by: "b" } },
            { op: "put", key: `b:${round}`, value: 1 },
          ],
          {
            key: "meta",
            equals: current,
          },
        ),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? "a" : "b";
      const loser = results[0] ? "b" : "a";
      expect(await a.get("meta")).toEqual({ round, by: winner });
      expect(await a.get(`${winner}:${round}`)).toBe(1);
      expect(await a.get(`${loser}:${round}`)).toBeUndefined();
      wins++;
    }
    expect(wins).toBe(20);
  });
});

describe("Replica on Redis", () => {
  const A = addr(0xa1);

  async function ingest(store: ReplicaStore, last: number) {
    const replica = createReplica({ ...defaultReplicaOptions, chainId: TEST_CHAIN }, { store });
    for (let n = 0; n <= last; n++) {
      const res = await replica.apply(
        testBlockBundle(n + 1, n, {
          txs: n === 1 ? [{ from: 0xa1, to: 0xb2, logAddress: 0xc0 }] : [],
          accounts: { [A]: { nonce: n, balance: 100 * n } },
          finalized: Math.max(0, n - 2),
        }),
      );
      expect(res).toEqual({ status: "applied", ackSeq: n + 1 });
    }
    return replica;
  }

  it("answers exactly what the in-memory store answers for the same bundles", async () => {
    const redisStore = await newStore();
    const memory = new MemoryReplicaStore();
    await ingest(redisStore, 4);
    await ingest(memory, 4);
    const onRedis = createReplicaReads({}, { store: redisStore });
    const inMemory = createReplicaReads({}, { store: memory });
    const calls: [string, unknown[]][] = [
      ["eth_blockNumber", []],
      ["eth_getBlockByNumber", ["0x1", true]],
      ["eth_getBlockByNumber", ["finalized", false]],
      ["eth_getBlockByHash", [blockHash("a", 3), false]],
      ["eth_getBlockReceipts", ["0x1"]],
      ["eth_getLogs", [{ fromBlock: "0x0", toBlock: "latest" }]],
      ["eth_getBalance", [A, "latest"]],
      ["eth_getBalance", [A, "finalized"]],
      ["eth_getTransactionCount", [A, "0x3"]],
    ];
    for (const [method, params] of calls) {
      const got = await onRedis.answer(method, params);
      expect(got).not.toBe(FORWARD);
      expect(JSON.stringify(got)).toBe(JSON.stringify(await inMemory.answer(method, params)));
    }
    expect(await onRedis.answer("eth_getBalance", [A, "latest"])).toBe("0x190");
  });

  it("refuses duplicate, conflicting and gapped bundles without writing, and shares one replica between edges", async () => {
    const s1 = await newStore();
    const s2 = await newStore(s1.prefix);
    const r1 = await ingest(s1, 2);
    const r2 = createReplica({ ...defaultReplicaOptions, chainId: TEST_CHAIN }, { store: s2 });
    const before = await snapshot(s1.prefix);
    // The second edge sees the first one's commits: the same bundle again is a duplicate there.
    expect(await r2.apply(testBlockBundle(3, 2, { accounts: { [A]: { nonce: 2, balance: 200 } } }))).toEqual({
      status: "duplicate",
      ackSeq: 3,
    });
    await expect(r2.apply(testBlockBundle(3, 2, { branch: "b" }))).rejects.toMatchObject({
      type: { code: "REPLICA_SEQ_CONFLICT" },
    });
    expect(await r2.apply(testBlockBundle(9, 8))).toMatchObject({ status: "gap", missing: { from: 4, to: 8 } });
    expect(await snapshot(s1.prefix)).toEqual(before);
    // Both edges race to apply the next bundle: one applies, the other finds it already there.
    const next = testBlockBundle(4, 3);
    const results = await Promise.all([r1.apply(next), r2.apply(next)]);
    expect(results.map((r) => r.status).sort()).toEqual(["applied", "duplicate"]);
    expect((await r1.meta()).lastSeq).toBe(4);
  });
});
