import { ReplicationError } from "@rustchain/shared/replication";
import { beforeEach, describe, expect, it } from "vitest";
import { applyWithEvents } from "./events.ts";
import { createReplica, defaultReplicaOptions, type Replica } from "./replica.ts";
import { MemoryReplicaStore } from "./store.ts";
import { blockBundle, blockHash, CHAIN, fin, finalityBundle, reorgBundle } from "./testBundles.ts";

describe("applyWithEvents", () => {
  let store: MemoryReplicaStore;
  let replica: Replica;
  const apply = (b: unknown) => applyWithEvents(replica, store, b);
  const logsSpec = (n: number) => [
    { from: 1, to: 2, logs: [{ address: 0xc0, topics: [n] }] },
    {
      from: 2,
      to: 1,
      logs: [
        { address: 0xc1, topics: [n, 7] },
        { address: 0xc0, topics: [] },
      ],
    },
  ];

  beforeEach(() => {
    store = new MemoryReplicaStore();
    replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
  });

  it("an applied block gives its header (the block without transactions, core key order) and all its logs", async () => {
    const b = blockBundle(1, 0, { txs: logsSpec(0) });
    const { result, events } = await apply(JSON.stringify(b));
    expect(result).toEqual({ status: "applied", ackSeq: 1 });
    expect(events).toHaveLength(1);
    const e = events[0] as { kind: string; header: Record<string, unknown>; logs: unknown[] };
    expect(e.kind).toBe("block");
    const { transactions: _t, ...header } = b.block;
    expect(JSON.stringify(e.header)).toBe(JSON.stringify(header));
    expect(e.header).not.toHaveProperty("transactions");
    expect(JSON.stringify(e.logs)).toBe(JSON.stringify(b.receipts.flatMap((r) => r.logs)));
    expect(e.logs).toHaveLength(3);
  });

  it("duplicates, gaps, finality bundles and backfills give no events", async () => {
    await apply(blockBundle(1, 1));
    expect((await apply(blockBundle(1, 1))).events).toEqual([]);
    const gap = await apply(blockBundle(3, 2));
    expect(gap.result.status).toBe("gap");
    expect(gap.events).toEqual([]);
    const f = await apply(finalityBundle(2, fin([1, blockHash("a", 1)], [1, blockHash("a", 1)])));
    expect(f.result).toEqual({ status: "applied", ackSeq: 2 });
    expect(f.events).toEqual([]);
    const back = await apply(blockBundle(0, 0));
    expect(back.result.status).toBe("backfilled");
    expect(back.events).toEqual([]);
  });

  it("an applied reorg gives the logs of every dropped block, oldest first, with removed: true", async () => {
    for (let n = 0; n <= 3; n++) await apply(blockBundle(n + 1, n, { txs: n >= 2 ? logsSpec(n) : [] }));
    const dropped = [2, 3].flatMap((n) => blockBundle(0, n, { txs: logsSpec(n) }).receipts.flatMap((r) => r.logs));
    const { result, events } = await apply(reorgBundle(5, [3, blockHash("a", 3)], [1, blockHash("a", 1)], 2));
    expect(result).toEqual({ status: "applied", ackSeq: 5 });
    expect(events).toHaveLength(1);
    const e = events[0] as { kind: string; logs: Record<string, unknown>[] };
    expect(e.kind).toBe("removedLogs");
    expect(e.logs).toHaveLength(6);
    expect(JSON.stringify(e.logs)).toBe(JSON.stringify(dropped.map((l) => ({ ...l, removed: true }))));
    // The new branch then arrives as ordinary blocks.
    const b2 = await apply(blockBundle(6, 2, { branch: "b" }));
    expect(b2.events[0]).toMatchObject({ kind: "block", header: { hash: blockHash("b", 2) }, logs: [] });
  });

  it("a refused reorg gives nothing and changes nothing; malformed input throws the parser's error", async () => {
    for (let n = 0; n <= 2; n++) await apply(blockBundle(n + 1, n, { txs: logsSpec(n) }));
    const before = store.snapshot();
    await expect(apply(reorgBundle(4, [2, blockHash("b", 2)], [1, blockHash("a", 1)], 1))).rejects.toMatchObject({
      type: { code: "REPLICA_REORG_MISMATCH" },
    });
    await expect(apply("{not json")).rejects.toBeInstanceOf(ReplicationError);
    expect(store.snapshot()).toEqual(before);
    // Still usable afterwards: the per-replica queue does not stay rejected.
    expect((await apply(blockBundle(4, 3))).result).toEqual({ status: "applied", ackSeq: 4 });
  });

  it("concurrent calls apply in call order, each reorg reading the state it applies to", async () => {
    for (let n = 0; n <= 2; n++) await apply(blockBundle(n + 1, n, { txs: logsSpec(n) }));
    const runs = await Promise.all([
      apply(blockBundle(4, 3, { txs: logsSpec(3) })),
      apply(reorgBundle(5, [3, blockHash("a", 3)], [2, blockHash("a", 2)], 1)),
      apply(blockBundle(6, 3, { branch: "b" })),
    ]);
    expect(runs.map((r) => r.result.status)).toEqual(["applied", "applied", "applied"]);
    expect(runs[1]?.events).toEqual([expect.objectContaining({ kind: "removedLogs", logs: expect.any(Array) })]);
    expect((runs[1]?.events[0] as { logs: unknown[] } | undefined)?.logs).toHaveLength(3);
  });
});
