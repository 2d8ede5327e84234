import { ReplicationError } from "@rustchain/shared/replication";
import { RpcError } from "@rustchain/shared/rpcErrors";
import { beforeEach, describe, expect, it } from "vitest";
import { createReplicaReads, FORWARD, type ReplicaReads } from "./reads.ts";
import { createReplica, defaultReplicaOptions, type Replica, ReplicaError } from "./replica.ts";
import { MemoryReplicaStore } from "./store.ts";
import {
  addr,
  type BlockSpec,
  blockHash,
  blockBundle as buildBlockBundle,
  CHAIN,
  fin,
  finalityBundle,
  q,
  reorgBundle,
  topic,
  txHash,
  word,
} from "./testBundles.ts";

// Synthetic bundles from the shared builder, with the flat 1 gwei gasPrice these tests were written against.
const blockBundle = (seq: number, n: number, spec: BlockSpec = {}) =>
  buildBlockBundle(seq, n, { type2GasPrice: 1_000_000_000n, ...spec });

const A = addr(0xa1);
const B = addr(0xb2);

describe("replica", () => {
  let store: MemoryReplicaStore;
  let replica: Replica;
  let reads: ReplicaReads;
  const rpc = (method: string, ...params: unknown[]) => reads.answer(method, params);

  beforeEach(() => {
    store = new MemoryReplicaStore();
    replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
    reads = createReplicaReads({ maxLogsBlockRange: 100, maxLogsResults: 5 }, { store });
  });

  /** Blocks 0..last on branch "a", block 1 with two transfers and logs, A's balance = 100 * n. */
  async function ingestChain(last: number, finality?: (n: number) => ReturnType<typeof fin>) {
    for (let n = 0; n <= last; n++) {
      const res = await replica.apply(
        blockBundle(n + 1, n, {
          txs:
            n === 1
              ? [
                  { from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [1, 2] }] },
                  {
                    from: 0xb2,
                    to: 0xa1,
                    logs: [
                      { address: 0xc1, topics: [1] },
                      { address: 0xc0, topics: [3] },
                    ],
                  },
                ]
              : [],
          accounts: { [A]: { nonce: n, balance: 100 * n } },
          storage: { [B]: { [word("1")]: word((n + 16).toString(16)) } },
          finality: finality?.(n),
        }),
      );
      expect(res).toEqual({ status: "applied", ackSeq: n + 1 });
    }
  }

  it("serves blocks, transactions, receipts and state from ordered bundles, byte for byte", async () => {
    await ingestChain(3);
    const b1 = blockBundle(2, 1, {
      txs: [
        { from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [1, 2] }] },
        {
          from: 0xb2,
          to: 0xa1,
          logs: [
            { address: 0xc1, topics: [1] },
            { address: 0xc0, topics: [3] },
          ],
        },
      ],
    });
    expect(await rpc("eth_blockNumber")).toBe("0x3");
    expect(JSON.stringify(await rpc("eth_getBlockByNumber", "0x1", true))).toBe(JSON.stringify(b1.block));
    const hashes = (await rpc("eth_getBlockByHash", blockHash("a", 1), false)) as { transactions: string[] };
    expect(hashes.transactions).toEqual([txHash("a", 1, 0), txHash("a", 1, 1)]);
    expect(Object.keys(hashes)).toEqual(Object.keys(b1.block));
    expect(await rpc("eth_getBlockByNumber", "latest", false)).toMatchObject({ number: "0x3" });
    expect(await rpc("eth_getBlockByNumber", "0x9", false)).toBeNull();
    expect(await rpc("eth_getBlockTransactionCountByNumber", "0x1")).toBe("0x2");
    expect(await rpc("eth_getBlockTransactionCountByHash", blockHash("a", 2))).toBe("0x0");
    expect(await rpc("eth_getTransactionByHash", txHash("a", 1, 1))).toEqual(b1.block.transactions[1]);
    expect(await rpc("eth_getTransactionByBlockNumberAndIndex", "0x1", "0x0")).toEqual(b1.block.transactions[0]);
    expect(await rpc("eth_getTransactionByBlockHashAndIndex", blockHash("a", 1), "0x5")).toBeNull();
    expect(await rpc("eth_getTransactionReceipt", txHash("a", 1, 0))).toEqual(b1.receipts[0]);
    expect(await rpc("eth_getBlockReceipts", "0x1")).toEqual(b1.receipts);
    // Unknown hashes may be pending or older than the replica: forwarded.
    expect(await rpc("eth_getTransactionByHash", word("dead"))).toBe(FORWARD);
    expect(await rpc("eth_getBlockByHash", word("dead"), false)).toBe(FORWARD);
    // Every block from genesis is held, so an unknown receipt is "not mined yet".
    expect(await rpc("eth_getTransactionReceipt", word("dead"))).toBeNull();
    // Methods the replica does not serve.
    expect(await rpc("eth_call", { to: A }, "latest")).toBe(FORWARD);
    expect(await rpc("eth_getTransactionCount", A, "pending")).toBe(FORWARD);
  });

  it("answers state at latest, safe, finalized and recent numbers, and prunes history below finalized", async () => {
    await ingestChain(6, (n) =>
      fin(
        [Math.max(0, n - 1), blockHash("a", Math.max(0, n - 1))],
        [Math.max(0, n - 3), blockHash("a", Math.max(0, n - 3))],
      ),
    );
    expect(await rpc("eth_getBalance", A, "latest")).toBe(q(600));
    expect(await rpc("eth_getBalance", A, "safe")).toBe(q(500));
    expect(await rpc("eth_getBalance", A, "finalized")).toBe(q(300));
    expect(await rpc("eth_getBalance", A, "0x4")).toBe(q(400));
    expect(await rpc("eth_getBalance", A, { blockHash: blockHash("a", 5) })).toBe(q(500));
    expect(await rpc("eth_getTransactionCount", A, "latest")).toBe("0x6");
    expect(await rpc("eth_getStorageAt", B, "0x1", "finalized")).toBe(word("13"));
    expect(await rpc("eth_getCode", A)).toBe("0x");
    // History older than the finalized block (3) was pruned: the core answers those.
    expect(await rpc("eth_getBalance", A, "0x1")).toBe(FORWARD);
    // An address the replica never saw may have state from before it started: forwarded.
    expect(await rpc("eth_getBalance", addr(0x77), "latest")).toBe(FORWARD);
    // Above the head: the core's "header not found".
    await expect(rpc("eth_getBalance", A, "0x99")).rejects.toMatchObject({ message: "header not found" });
  });

  it("serves code introduced by a state diff", async () => {
    await replica.apply(
      blockBundle(1, 0, { accounts: { [A]: { nonce: 1, balance: 0, codeHash: word("c0de"), code: "0x6001" } } }),
    );
    expect(await rpc("eth_getCode", A, "latest")).toBe("0x6001");
  });

  it("treats a repeated bundle as a no-op", async () => {
    await ingestChain(2);
    const before = store.snapshot();
    const res = await replica.apply(
      JSON.stringify(
        blockBundle(2, 1, {
          txs: [
            { from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [1, 2] }] },
            {
              from: 0xb2,
              to: 0xa1,
              logs: [
                { address: 0xc1, topics: [1] },
                { address: 0xc0, topics: [3] },
              ],
            },
          ],
          accounts: { [A]: { nonce: 1, balance: 100 } },
          storage: { [B]: { [word("1")]: word("11") } },
        }),
      ),
    );
    expect(res).toEqual({ status: "duplicate", ackSeq: 3 });
    expect(store.snapshot()).toEqual(before);
  });

  it("rejects a repeated seq with different content and changes nothing (REPLICA_SEQ_CONFLICT)", async () => {
    await ingestChain(2);
    const before = store.snapshot();
    await expect(replica.apply(blockBundle(2, 1, { branch: "b" }))).rejects.toMatchObject({
      type: { code: "REPLICA_SEQ_CONFLICT", seq: 2 },
    });
    expect(store.snapshot()).toEqual(before);
  });

  it("reports a gap with the missing range and applies nothing", async () => {
    await ingestChain(1);
    const before = store.snapshot();
    expect(await replica.apply(blockBundle(7, 2))).toEqual({ status: "gap", ackSeq: 2, missing: { from: 3, to: 6 } });
    expect(store.snapshot()).toEqual(before);
    expect(await replica.apply(blockBundle(3, 2))).toEqual({ status: "applied", ackSeq: 3 });
  });

  it("rejects a block that does not extend the head (REPLICA_PARENT_MISMATCH)", async () => {
    await ingestChain(1);
    const before = store.snapshot();
    await expect(replica.apply(blockBundle(3, 2, { parent: word("bad") }))).rejects.toBeInstanceOf(ReplicaError);
    await expect(replica.apply(blockBundle(3, 5))).rejects.toMatchObject({ type: { code: "REPLICA_PARENT_MISMATCH" } });
    expect(store.snapshot()).toEqual(before);
  });

  it("unwinds and replaces unfinalized blocks on reorg; tx lookups follow the new branch", async () => {
    await ingestChain(3);
    expect(await rpc("eth_getTransactionByHash", txHash("a", 1, 0))).not.toBe(FORWARD);
    // Common ancestor 0: blocks 1..3 leave, a two-block branch "b" replaces them.
    expect(await replica.apply(reorgBundle(5, [3, blockHash("a", 3)], [0, blockHash("a", 0)], 3))).toEqual({
      status: "applied",
      ackSeq: 5,
    });
    expect(await rpc("eth_getBlockByNumber", "0x2", false)).toBeNull();
    expect(await rpc("eth_getTransactionByHash", txHash("a", 1, 0))).toBe(FORWARD);
    expect(await rpc("eth_getBlockByHash", blockHash("a", 2), false)).toBe(FORWARD);
    expect(await rpc("eth_getBalance", A, "latest")).toBe("0x0");
    await replica.apply(
      blockBundle(6, 1, {
        branch: "b",
        parent: blockHash("a", 0),
        txs: [{ from: 0xb2, to: 0xa1 }],
        accounts: { [A]: { nonce: 0, balance: 7 } },
      }),
    );
    await replica.apply(blockBundle(7, 2, { branch: "b", parent: blockHash("b", 1) }));
    expect(await rpc("eth_getBlockByNumber", "0x1", false)).toMatchObject({ hash: blockHash("b", 1) });
    expect(await rpc("eth_getTransactionByHash", txHash("b", 1, 0))).toMatchObject({ blockHash: blockHash("b", 1) });
    expect(await rpc("eth_getBalance", A, "latest")).toBe("0x7");
    expect(await rpc("eth_getBalance", A, "0x1")).toBe("0x7");
    // The new branch is shorter: eth_blockNumber keeps the highest head served, reads above the canonical head are null.
    expect(await rpc("eth_blockNumber")).toBe("0x3");
    expect(await rpc("eth_getBlockByNumber", "0x3", false)).toBeNull();
    expect(await rpc("eth_getBlockByNumber", "latest", false)).toMatchObject({ number: "0x2" });
    expect(await rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "latest" })).toEqual([]);
  });

  it("rejects a reorg below the finalized block and changes nothing (REPLICA_REORG_BELOW_FINALIZED)", async () => {
    await ingestChain(4, (n) => fin([n, blockHash("a", n)], [Math.min(n, 2), blockHash("a", Math.min(n, 2))]));
    const before = store.snapshot();
    await expect(
      replica.apply(reorgBundle(6, [4, blockHash("a", 4)], [1, blockHash("a", 1)], 3)),
    ).rejects.toMatchObject({
      type: { code: "REPLICA_REORG_BELOW_FINALIZED", ancestor: 1, finalized: 2 },
    });
    expect(store.snapshot()).toEqual(before);
    // Down to the finalized block itself is allowed.
    expect(await replica.apply(reorgBundle(6, [4, blockHash("a", 4)], [2, blockHash("a", 2)], 2))).toMatchObject({
      status: "applied",
    });
    expect(await rpc("eth_getBlockByNumber", "finalized", false)).toMatchObject({ hash: blockHash("a", 2) });
  });

  it("rejects a reorg whose `from` is not the head (REPLICA_REORG_MISMATCH)", async () => {
    await ingestChain(3);
    await expect(
      replica.apply(reorgBundle(5, [3, blockHash("b", 3)], [1, blockHash("a", 1)], 2)),
    ).rejects.toMatchObject({
      type: { code: "REPLICA_REORG_MISMATCH" },
    });
  });

  it("never moves finality backwards", async () => {
    await ingestChain(4, (n) => fin([n, blockHash("a", n)], [Math.max(0, n - 1), blockHash("a", Math.max(0, n - 1))]));
    expect(await rpc("eth_getBlockByNumber", "finalized", false)).toMatchObject({ number: "0x3" });
    expect(await replica.apply(finalityBundle(6, fin([1, blockHash("a", 1)], [1, blockHash("a", 1)])))).toMatchObject({
      status: "applied",
    });
    expect(await rpc("eth_getBlockByNumber", "finalized", false)).toMatchObject({ number: "0x3" });
    expect(await rpc("eth_getBlockByNumber", "safe", false)).toMatchObject({ number: "0x4" });
    // A different hash for the finalized block is a conflict, not an update.
    await expect(
      replica.apply(finalityBundle(7, fin([4, blockHash("a", 4)], [3, blockHash("b", 3)]))),
    ).rejects.toMatchObject({
      type: { code: "REPLICA_FINALITY_CONFLICT" },
    });
    await expect(
      replica.apply(finalityBundle(7, fin([4, blockHash("a", 4)], [4, blockHash("b", 4)]))),
    ).rejects.toMatchObject({
      type: { code: "REPLICA_FINALITY_CONFLICT" },
    });
  });

  it("filters logs by address and topics and enforces range and result limits like the core", async () => {
    await ingestChain(3);
    const all = (await rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "latest" })) as { logIndex: string }[];
    expect(all.map((l) => l.logIndex)).toEqual(["0x0", "0x1", "0x2"]);
    expect(await rpc("eth_getLogs", { fromBlock: "0x0", address: addr(0xc0) })).toHaveLength(2); // toBlock defaults to latest
    expect(await rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "0x3", address: addr(0xc0) })).toHaveLength(2);
    expect(await rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "0x3", topics: [topic(1)] })).toHaveLength(2);
    expect(await rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "0x3", topics: [null, topic(2)] })).toHaveLength(1);
    expect(await rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "0x3", topics: [[topic(3), topic(2)]] })).toHaveLength(
      1,
    );
    expect(await rpc("eth_getLogs", { blockHash: blockHash("a", 1), address: [addr(0xc1)] })).toHaveLength(1);
    expect(await rpc("eth_getLogs", { fromBlock: "0x9" })).toEqual([]);
    await expect(rpc("eth_getLogs", { fromBlock: "0x2", toBlock: "0x1" })).rejects.toMatchObject({ rpcCode: -32602 });
    await expect(rpc("eth_getLogs", { fromBlock: "0x0", toBlock: "0x3e8" })).resolves.toHaveLength(3); // clamped to head
    const wide = createReplicaReads({ maxLogsBlockRange: 2 }, { store });
    await expect(wide.answer("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x3" }])).rejects.toMatchObject({
      rpcCode: -32005,
    });
    const few = createReplicaReads({ maxLogsResults: 2 }, { store });
    await expect(few.answer("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x3" }])).rejects.toBeInstanceOf(RpcError);
    await expect(rpc("eth_getLogs", { fromBlock: "zz" })).rejects.toMatchObject({ rpcCode: -32602 });
  });

  it("rejects forged and malformed bundles without writing", async () => {
    await ingestChain(1);
    const before = store.snapshot();
    const good = blockBundle(3, 2);
    await expect(replica.apply("{not json")).rejects.toBeInstanceOf(ReplicationError);
    await expect(replica.apply({ ...good, extra: 1 })).rejects.toBeInstanceOf(ReplicationError);
    await expect(replica.apply({ ...good, block: { ...good.block, hash: "0x12" } })).rejects.toBeInstanceOf(
      ReplicationError,
    );
    await expect(replica.apply({ ...good, receipts: [{}] })).rejects.toBeInstanceOf(ReplicationError);
    await expect(replica.apply({ ...good, chainId: "0x1" })).rejects.toMatchObject({
      type: { code: "REPLICA_WRONG_CHAIN" },
    });
    expect(store.snapshot()).toEqual(before);
    expect(await replica.apply(good)).toMatchObject({ status: "applied" });
  });

  it("serialises concurrent applies and keeps the first of two writers", async () => {
    const results = await Promise.all([
      replica.apply(blockBundle(1, 0)),
      replica.apply(blockBundle(1, 0)),
      replica.apply(blockBundle(2, 1)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["applied", "duplicate", "applied"]);
    // A second replica instance on the same store (another Node edge) sees the first one's commits.
    const other = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
    expect(await other.apply(blockBundle(2, 1))).toEqual({ status: "duplicate", ackSeq: 2 });
  });

  it("backfills the block below the first block from a seq-0 repair bundle", async () => {
    for (let n = 5; n <= 6; n++) await replica.apply(blockBundle(n - 4, n));
    expect(await rpc("eth_getBlockByNumber", "0x4", false)).toBe(FORWARD);
    expect(await replica.apply(blockBundle(0, 4))).toEqual({ status: "backfilled", ackSeq: 2 });
    expect(await rpc("eth_getBlockByNumber", "0x4", false)).toMatchObject({ hash: blockHash("a", 4) });
    expect(await replica.apply(blockBundle(0, 4))).toEqual({ status: "duplicate", ackSeq: 2 });
    await expect(replica.apply(blockBundle(0, 2))).rejects.toMatchObject({
      type: { code: "REPLICA_BACKFILL_REJECTED" },
    });
  });
});
