// The Workers storage pieces inside workerd: the Durable Object ReplicaStore (atomic guarded batches, chunked large
// values) under a real Replica, and the Worker's response cache (LRU, Cache API, KV FINALIZED).
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LocalReplicaAccess } from "../../src/replica/access.ts";
import { createReplicaReads } from "../../src/replica/reads.ts";
import { createReplica, defaultReplicaOptions } from "../../src/replica/replica.ts";
import { LruResponseCache } from "../../src/rpc/cache.ts";
import { WorkerResponseCache } from "../../src/worker/cache.ts";
import { DO_VALUE_CHUNK_CHARS, DurableObjectReplicaStore } from "../../src/worker/doStore.ts";
import { blockBundle, CHAIN } from "./bundles.ts";

/** A ChainReplica object of its own (not the "main" singleton the other tests use), for its storage. */
const scratch = (name: string) => env.CHAIN_REPLICA.get(env.CHAIN_REPLICA.idFromName(name));

describe("DurableObjectReplicaStore", () => {
  it("splits values over the chunk size and reassembles them; overwrites and deletes drop the chunks", async () => {
    await runInDurableObject(scratch("store-chunks"), async (_i, state) => {
      const store = new DurableObjectReplicaStore(state.storage);
      const big = { data: "ab".repeat(DO_VALUE_CHUNK_CHARS * 2), n: 1 };
      expect(await store.batch([{ op: "put", key: "big", value: big }])).toBe(true);
      expect(await store.get("big")).toEqual(big);
      const keys = () => [...state.storage.kv.list({ prefix: "big" })].map(([k]) => k);
      expect(keys().length).toBe(1 + Math.ceil(JSON.stringify(big).length / DO_VALUE_CHUNK_CHARS));
      for (const [, v] of state.storage.kv.list({ prefix: "big" })) {
        if (typeof v === "string") expect(v.length).toBeLessThanOrEqual(DO_VALUE_CHUNK_CHARS);
      }
      expect(await store.getMany(["big", "missing"])).toEqual(new Map([["big", big]]));
      await store.batch([{ op: "put", key: "big", value: "small" }]);
      expect(keys()).toEqual(["big"]);
      expect(await store.get("big")).toBe("small");
      await store.batch([{ op: "put", key: "big", value: big }]);
      await store.batch([{ op: "delete", key: "big" }]);
      expect(keys()).toEqual([]);
      expect(await store.get("big")).toBeUndefined();
    });
  });

  it("commits a batch only while the guard holds, and writes nothing when a value cannot be stored", async () => {
    await runInDurableObject(scratch("store-guard"), async (_i, state) => {
      const store = new DurableObjectReplicaStore(state.storage);
      expect(
        await store.batch([{ op: "put", key: "meta", value: { seq: 1 } }], { key: "meta", equals: undefined }),
      ).toBe(true);
      const stale = await store.batch(
        [
          { op: "put", key: "a", value: 1 },
          { op: "put", key: "meta", value: { seq: 2 } },
        ],
        { key: "meta", equals: undefined },
      );
      expect(stale).toBe(false);
      expect(await store.get("a")).toBeUndefined();
      expect(await store.get("meta")).toEqual({ seq: 1 });
      const unserialisable = { toJSON: () => BigInt(1) };
      await expect(
        store.batch([
          { op: "put", key: "b", value: 1 },
          { op: "put", key: "c", value: unserialisable },
        ]),
      ).rejects.toThrow();
      expect(await store.get("b")).toBeUndefined();
      expect(
        await store.batch([{ op: "put", key: "meta", value: { seq: 2 } }], { key: "meta", equals: { seq: 1 } }),
      ).toBe(true);
      expect(await store.get("meta")).toEqual({ seq: 2 });
    });
  });

  it("holds a block larger than a DO value and serves it byte for byte through the replica", async () => {
    await runInDurableObject(scratch("store-replica"), async (_i, state) => {
      const store = new DurableObjectReplicaStore(state.storage);
      const replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
      const access = new LocalReplicaAccess({ replica, reads: createReplicaReads({}, { store }) });
      const txs = Array.from({ length: 300 }, (_, i) => ({ from: 0xa1, to: 0xb2 + i }));
      const bundle = blockBundle(1, 0, { txs });
      expect(JSON.stringify(bundle.block).length).toBeGreaterThan(128 * 1024);
      expect(await replica.apply(bundle)).toEqual({ status: "applied", ackSeq: 1 });
      const read = await access.read("eth_getBlockByNumber", ["0x0", true]);
      expect(read.kind).toBe("result");
      expect(JSON.stringify(read.kind === "result" ? read.result : null)).toBe(JSON.stringify(bundle.block));
    });
  });
});

describe("WorkerResponseCache", () => {
  const makeCache = (cache?: Cache) =>
    new WorkerResponseCache({ local: new LruResponseCache(), cache, kv: env.FINALIZED, namespace: "cache-test" });

  it("shares immutable answers across isolates through the Cache API and KV; by-hash answers stay local", async () => {
    const writer = makeCache(caches.default);
    await writer.put("i|finalized-answer", '{"n":1}', true);
    await writer.put("h|0xabc|moving-answer", '{"n":2}', false);
    expect(await writer.get("h|0xabc|moving-answer")).toBe('{"n":2}');
    // A fresh isolate (empty LRU): immutable from the Cache API, and from KV alone when the colo cache is cold.
    expect(await makeCache(caches.default).get("i|finalized-answer")).toBe('{"n":1}');
    expect(await makeCache(undefined).get("i|finalized-answer")).toBe('{"n":1}');
    expect(await makeCache(caches.default).get("h|0xabc|moving-answer")).toBeUndefined();
    expect(await makeCache(caches.default).get("i|never-stored")).toBeUndefined();
  });
});
