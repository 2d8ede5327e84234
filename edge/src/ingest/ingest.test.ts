import { REPLICATION_SIGNATURE_HEADER, REPLICATION_TIMESTAMP_HEADER, replicationAuthHeaders } from "@rustchain/shared";
import { beforeEach, describe, expect, it } from "vitest";
import type { SubscriptionEvent } from "../app/contract.ts";
import { createReplicaReads } from "../replica/reads.ts";
import { createReplica, defaultReplicaOptions, type Replica } from "../replica/replica.ts";
import { MemoryReplicaStore } from "../replica/store.ts";
import { blockHash, blockBundle as buildBlockBundle, CHAIN, q } from "../replica/testBundles.ts";
import { handleIngest, handleReplicaHead } from "./ingest.ts";

const KEY = new Uint8Array(32).fill(0x5a);
const NOW = 1_800_000_000_000;

/** A transaction-free block bundle that passes the strict parser; `branch` changes its hash. */
const blockBundle = (seq: number, n: number, branch = "a") => buildBlockBundle(seq, n, { branch });

async function post(body: string, opts: { key?: Uint8Array; ts?: number; headers?: Record<string, string> } = {}) {
  const headers = opts.headers ?? (await replicationAuthHeaders(opts.key ?? KEY, body, opts.ts ?? NOW));
  return new Request("http://edge.test/ingest", { method: "POST", headers, body });
}

describe("handleIngest", () => {
  let store: MemoryReplicaStore;
  let replica: Replica;
  const ingest = (req: Request, maxBodyBytes?: number) =>
    handleIngest(req, { replica, store, key: KEY, now: () => NOW, maxBodyBytes });
  const send = async (bundle: unknown) => ingest(await post(JSON.stringify(bundle)));

  beforeEach(async () => {
    store = new MemoryReplicaStore();
    replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
    for (let n = 0; n < 3; n++) expect((await send(blockBundle(n + 1, n))).status).toBe(200);
  });

  /** `act` must be refused with `status` and leave every key and value of the replica as it was. */
  async function expectUnchanged(act: () => Promise<Response>, status: number): Promise<Record<string, unknown>> {
    const before = store.snapshot();
    const commits = store.commits;
    const res = await act();
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(store.snapshot()).toEqual(before);
    expect(store.commits).toBe(commits);
    return (await res.json()) as Record<string, unknown>;
  }

  it("applies the next bundle with 200 {ackSeq}, and a duplicate is 200 with the current ackSeq", async () => {
    const res = await send(blockBundle(4, 3));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ackSeq: 4 });
    expect(await expectUnchanged(() => send(blockBundle(2, 1)), 200)).toEqual({ ackSeq: 4 });
  });

  it("401 INGEST_UNAUTHORIZED bad_signature for a forged signature", async () => {
    const body = JSON.stringify(blockBundle(4, 3));
    const headers = {
      ...(await replicationAuthHeaders(KEY, body, NOW)),
      [REPLICATION_SIGNATURE_HEADER]: "ab".repeat(32),
    };
    const out = await expectUnchanged(async () => ingest(await post(body, { headers })), 401);
    expect(out).toEqual({ error: "INGEST_UNAUTHORIZED", reason: "bad_signature" });
  });

  it("401 bad_signature for a body altered after signing", async () => {
    const headers = await replicationAuthHeaders(KEY, JSON.stringify(blockBundle(4, 3)), NOW);
    const out = await expectUnchanged(
      async () => ingest(await post(JSON.stringify(blockBundle(4, 3, "b")), { headers })),
      401,
    );
    expect(out.reason).toBe("bad_signature");
  });

  it("401 stale for a replayed request outside the 60 s window, either side", async () => {
    const body = JSON.stringify(blockBundle(4, 3));
    for (const ts of [NOW - 61_000, NOW + 61_000]) {
      const out = await expectUnchanged(async () => ingest(await post(body, { ts })), 401);
      expect(out).toEqual({ error: "INGEST_UNAUTHORIZED", reason: "stale" });
    }
  });

  it("401 bad_signature for another key, malformed for missing or garbled headers (no ackSeq leaked)", async () => {
    const body = JSON.stringify(blockBundle(4, 3));
    const wrong = await expectUnchanged(async () => ingest(await post(body, { key: new Uint8Array(32) })), 401);
    expect(wrong).toEqual({ error: "INGEST_UNAUTHORIZED", reason: "bad_signature" });
    const garbled: Record<string, string>[] = [
      {},
      { [REPLICATION_TIMESTAMP_HEADER]: "soon", [REPLICATION_SIGNATURE_HEADER]: "ab".repeat(32) },
      { [REPLICATION_TIMESTAMP_HEADER]: String(NOW), [REPLICATION_SIGNATURE_HEADER]: "xyz" },
    ];
    for (const headers of garbled) {
      const out = await expectUnchanged(async () => ingest(await post(body, { headers })), 401);
      expect(out).toEqual({ error: "INGEST_UNAUTHORIZED", reason: "malformed" });
    }
  });

  it("413 INGEST_BODY_TOO_LARGE over the limit, by content-length or by the bytes actually sent", async () => {
    const body = JSON.stringify(blockBundle(4, 3));
    const out = await expectUnchanged(async () => ingest(await post(body), 100), 413);
    expect(out).toEqual({ error: "INGEST_BODY_TOO_LARGE", limit: 100 });
    // A streamed body without content-length is cut off as soon as it passes the limit.
    const chunk = new TextEncoder().encode("x".repeat(64));
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++pulls > 1000) c.close();
        else c.enqueue(chunk);
      },
    });
    const headers = await replicationAuthHeaders(KEY, "", NOW);
    const streamed = new Request("http://edge.test/ingest", { method: "POST", headers, body: stream, duplex: "half" });
    await expectUnchanged(() => ingest(streamed, 1000), 413);
    expect(pulls).toBeLessThan(100);
  });

  it("405 for anything but POST", async () => {
    const out = await expectUnchanged(() => ingest(new Request("http://edge.test/ingest")), 405);
    expect(out.error).toBe("INGEST_METHOD_NOT_ALLOWED");
  });

  it("400 REPLICATION_MALFORMED for signed bodies that are not JSON or not a bundle", async () => {
    for (const body of ["{not json", "[]", JSON.stringify({ ...blockBundle(4, 3), extra: 1 })]) {
      const out = await expectUnchanged(async () => ingest(await post(body)), 400);
      expect(out).toMatchObject({ ackSeq: 3, error: "REPLICATION_MALFORMED" });
      expect(typeof out.reason).toBe("string");
    }
  });

  it("409 {ackSeq, missing} for an out-of-order bundle", async () => {
    const out = await expectUnchanged(() => send(blockBundle(6, 5)), 409);
    expect(out).toEqual({ ackSeq: 3, missing: { from: 4, to: 5 } });
  });

  it("422 with the replica's code for conflicting bundles", async () => {
    // The same seq with other content.
    expect(await expectUnchanged(() => send(blockBundle(2, 1, "b")), 422)).toEqual({
      ackSeq: 3,
      error: "REPLICA_SEQ_CONFLICT",
    });
    // The next seq, but a block that does not extend the head.
    expect(await expectUnchanged(() => send(blockBundle(4, 7)), 422)).toEqual({
      ackSeq: 3,
      error: "REPLICA_PARENT_MISMATCH",
    });
    // Another chain.
    expect(await expectUnchanged(() => send({ ...blockBundle(4, 3), chainId: "0x1" }), 422)).toEqual({
      ackSeq: 3,
      error: "REPLICA_WRONG_CHAIN",
    });
  });

  it("500 INGEST_INTERNAL without details when the store fails", async () => {
    const faults: unknown[] = [];
    const brokenStore = {
      get: async () => {
        throw new Error("disk on fire at /secret/path");
      },
      getMany: async () => new Map(),
      batch: async () => false,
    };
    const broken = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store: brokenStore });
    const res = await handleIngest(await post(JSON.stringify(blockBundle(1, 0))), {
      replica: broken,
      store: brokenStore,
      key: KEY,
      now: () => NOW,
      onError: (e) => faults.push(e),
    });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(JSON.stringify({ error: "INGEST_INTERNAL" }));
    expect(faults).toHaveLength(1);
  });

  it("publishes an applied block's events after it committed (readable first) and before answering", async () => {
    const reads = createReplicaReads({}, { store });
    const seen: { events: SubscriptionEvent[]; readable: unknown; head: number | undefined }[] = [];
    let answered = false;
    const publish = async (events: SubscriptionEvent[]) => {
      expect(answered).toBe(false);
      // What a subscriber told about the block can read, at the moment it is told.
      const hash = (events[0] as { header: Record<string, unknown> }).header.hash;
      seen.push({
        events,
        readable: await reads.answer("eth_getBlockByHash", [hash, false]),
        head: (await replica.meta()).head?.number,
      });
    };
    const res = await handleIngest(await post(JSON.stringify(blockBundle(4, 3))), {
      replica,
      store,
      key: KEY,
      now: () => NOW,
      publish,
    }).then((r) => {
      answered = true;
      return r;
    });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const { transactions: _t, ...header } = blockBundle(4, 3).block;
    expect(seen[0]?.events).toEqual([{ kind: "block", header, logs: [] }]);
    expect(seen[0]?.readable).toMatchObject({ hash: blockHash("a", 3) });
    expect(seen[0]?.head).toBe(3);
    // A duplicate, a gap, or a refused bundle publishes nothing.
    const quiet = { replica, store, key: KEY, now: () => NOW, publish };
    expect((await handleIngest(await post(JSON.stringify(blockBundle(4, 3))), quiet)).status).toBe(200);
    expect((await handleIngest(await post(JSON.stringify(blockBundle(9, 8))), quiet)).status).toBe(409);
    expect((await handleIngest(await post(JSON.stringify(blockBundle(5, 7))), quiet)).status).toBe(422);
    expect(seen).toHaveLength(1);
  });

  it("publishes a reorg's removed logs; a failing publish keeps the bundle and the 200", async () => {
    const faults: unknown[] = [];
    const published: SubscriptionEvent[][] = [];
    const deps = {
      replica,
      store,
      key: KEY,
      now: () => NOW,
      onError: (e: unknown) => faults.push(e),
      publish: async (events: SubscriptionEvent[]) => {
        published.push(events);
        throw new Error("subscribers unreachable");
      },
    };
    const reorg = {
      version: 1,
      chainId: CHAIN,
      seq: 4,
      kind: "reorg",
      from: { number: q(2), hash: blockHash("a", 2) },
      to: { number: q(1), hash: blockHash("a", 1) },
      depth: 1,
    };
    const res = await handleIngest(await post(JSON.stringify(reorg)), deps);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ackSeq: 4 });
    expect(published).toEqual([[{ kind: "removedLogs", logs: [] }]]);
    expect(faults).toHaveLength(1);
    expect((await replica.meta()).head).toEqual({ number: 1, hash: blockHash("a", 1) });
  });

  it("onGap is told the missing seqs on a 409 and nothing else", async () => {
    const gaps: { from: number; to: number }[] = [];
    const deps = { replica, store, key: KEY, now: () => NOW, onGap: (m: { from: number; to: number }) => gaps.push(m) };
    const res = await handleIngest(await post(JSON.stringify(blockBundle(7, 6))), deps);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ ackSeq: 3, missing: { from: 4, to: 6 } });
    expect(gaps).toEqual([{ from: 4, to: 6 }]);
    expect((await handleIngest(await post(JSON.stringify(blockBundle(4, 3))), deps)).status).toBe(200);
    expect(gaps).toHaveLength(1);
    // A throwing hook does not change the answer.
    const throwing = {
      ...deps,
      onGap: () => {
        throw new Error("puller busy");
      },
    };
    expect((await handleIngest(await post(JSON.stringify(blockBundle(9, 8))), throwing)).status).toBe(409);
  });

  it("handleReplicaHead reports seq, head and finality", async () => {
    const res = await handleReplicaHead(replica);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      chainId: CHAIN,
      seq: 3,
      base: 0,
      head: { number: 2, hash: blockHash("a", 2) },
      servedHead: 2,
      finalized: { number: 0, hash: blockHash("a", 0) },
    });
  });
});

// ---- end to end: a real node pushing to handleIngest behind node:http ----
