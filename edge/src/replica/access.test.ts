import type { RpcMethodName } from "@rustchain/shared/rpc/methods";
import { rpcResults } from "@rustchain/shared/rpc/results";
import { beforeEach, describe, expect, it } from "vitest";
import { LocalReplicaAccess } from "./access.ts";
import { createReplicaReads, FORWARD, feeOptionsFromCore, ReplicaReads, replicaFeeOptions } from "./reads.ts";
import { createReplica, defaultReplicaOptions, type Replica } from "./replica.ts";
import { MemoryReplicaStore } from "./store.ts";
import { addr, blockBundle, blockHash, CHAIN, fin, q, reorgBundle, txHash, word } from "./testBundles.ts";

const GWEI = 1_000_000_000n;
const FEES = replicaFeeOptions({ minBaseFeePerGas: 0n, elasticityMultiplier: 2n, baseFeeChangeDenominator: 8n });
const A = addr(0xa1);

describe("LocalReplicaAccess", () => {
  let store: MemoryReplicaStore;
  let replica: Replica;
  let reads: ReplicaReads;
  let access: LocalReplicaAccess;

  beforeEach(() => {
    store = new MemoryReplicaStore();
    replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
    reads = createReplicaReads({ maxLogsBlockRange: 100, fees: FEES }, { store });
    access = new LocalReplicaAccess({ replica, reads });
  });

  /** Blocks 0..last; block 1 has a transfer with a log; finalized = `finalized` once it exists. */
  async function chain(last: number, finalized: number) {
    for (let n = 0; n <= last; n++) {
      const f = Math.min(n, finalized);
      await replica.apply(
        blockBundle(n + 1, n, {
          txs: n === 1 ? [{ from: 0xa1, to: 0xb2, logs: [{ address: 0xc0, topics: [1] }] }] : [],
          accounts: { [A]: { nonce: n, balance: 100 * n } },
          finality: fin([f, blockHash("a", f)], [f, blockHash("a", f)]),
        }),
      );
    }
  }

  it("an empty replica forwards everything and reports no tips", async () => {
    expect(await access.tips()).toEqual({ head: null, safe: null, finalized: null, seq: 0 });
    expect(await access.read("eth_blockNumber", [])).toEqual({ kind: "forward" });
    expect(await access.read("eth_call", [{}])).toEqual({ kind: "forward" });
  });

  it("tips are canonical blocks of the replica, and the served head never moves backwards", async () => {
    await chain(4, 2);
    const tips = await access.tips();
    expect(tips).toEqual({
      head: { number: 4, hash: blockHash("a", 4) },
      servedHead: 4,
      safe: { number: 2, hash: blockHash("a", 2) },
      finalized: { number: 2, hash: blockHash("a", 2) },
      seq: 5,
    });
    // A rewind to block 3: the head is the canonical block 3 (its own hash), the served head stays at 4.
    await replica.apply(reorgBundle(6, [4, blockHash("a", 4)], [3, blockHash("a", 3)], 1));
    const after = await access.tips();
    expect(after.head).toEqual({ number: 3, hash: blockHash("a", 3) });
    expect(after.servedHead).toBe(4);
    expect(after.seq).toBe(6);
    expect(await access.read("eth_blockNumber", [])).toEqual({ kind: "result", result: "0x4", immutable: false });
  });

  it("finalized answers requested by number or hash are immutable and pinned; moving tags and null never are", async () => {
    await chain(4, 2);
    const b1 = { number: 1, hash: blockHash("a", 1) };
    expect(await access.read("eth_getBlockByNumber", ["0x1", false])).toMatchObject({
      kind: "result",
      pin: b1,
      immutable: true,
    });
    expect(await access.read("eth_getBlockByHash", [blockHash("a", 1), false])).toMatchObject({
      pin: b1,
      immutable: true,
    });
    expect(await access.read("eth_getTransactionByHash", [txHash("a", 1, 0)])).toMatchObject({
      pin: b1,
      immutable: true,
    });
    expect(await access.read("eth_getTransactionReceipt", [txHash("a", 1, 0)])).toMatchObject({
      pin: b1,
      immutable: true,
    });
    expect(await access.read("eth_getBalance", [A, "0x2"])).toEqual({
      kind: "result",
      result: q(200),
      pin: { number: 2, hash: blockHash("a", 2) },
      immutable: true,
    });
    expect(await access.read("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x2" }])).toMatchObject({
      pin: { number: 2, hash: blockHash("a", 2) },
      immutable: true,
    });
    // Above finality: pinned to the block's hash, not immutable.
    expect(await access.read("eth_getBlockByNumber", ["0x3", false])).toMatchObject({
      pin: { number: 3, hash: blockHash("a", 3) },
      immutable: false,
    });
    // `finalized` names a block that moves, so the answer to the request can change although the block cannot.
    expect(await access.read("eth_getBlockByNumber", ["finalized", false])).toMatchObject({
      pin: { number: 2, hash: blockHash("a", 2) },
      immutable: false,
    });
    expect(await access.read("eth_getBalance", [A, "latest"])).toMatchObject({
      result: q(400),
      pin: { number: 4, hash: blockHash("a", 4) },
      immutable: false,
    });
    // A range cut at the head, and null answers, are never immutable.
    expect(await access.read("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x9" }])).toMatchObject({
      immutable: false,
    });
    expect(await access.read("eth_getTransactionByBlockNumberAndIndex", ["0x1", "0x5"])).toMatchObject({
      result: null,
      immutable: false,
    });
    expect(await access.read("eth_getBlockByNumber", ["0x9", false])).toMatchObject({ result: null, immutable: false });
  });

  it("every answer of the replica matches its method's result schema (the core's JSON)", async () => {
    await chain(4, 2);
    // Block 5 writes a storage slot of A (a slot the replica never saw is the core's to answer).
    const slot = word("1");
    await replica.apply(
      blockBundle(6, 5, {
        accounts: { [A]: { nonce: 5, balance: 500 } },
        storage: { [A]: { [slot]: word("2a") } },
        finality: fin([2, blockHash("a", 2)], [2, blockHash("a", 2)]),
      }),
    );
    const b1 = blockHash("a", 1);
    const unknownHash = word("e0");
    // Valid calls of each method the replica answers, including its null answers; keyed by ReplicaReads.methods.
    const calls: Record<string, unknown[][]> = {
      eth_blockNumber: [[]],
      eth_getBlockByNumber: [
        ["0x1", true],
        ["latest", false],
        ["0x9", false],
      ],
      eth_getBlockByHash: [
        [b1, true],
        [b1, false],
      ],
      eth_getBlockTransactionCountByNumber: [["0x1"], ["0x9"]],
      eth_getBlockTransactionCountByHash: [[b1]],
      eth_getTransactionByHash: [[txHash("a", 1, 0)]],
      eth_getTransactionByBlockHashAndIndex: [
        [b1, "0x0"],
        [b1, "0x5"],
      ],
      eth_getTransactionByBlockNumberAndIndex: [
        ["0x1", "0x0"],
        ["0x9", "0x0"],
      ],
      eth_getTransactionReceipt: [[txHash("a", 1, 0)], [unknownHash]],
      eth_getBlockReceipts: [["0x1"], [b1], ["0x9"]],
      eth_getLogs: [[{ fromBlock: "0x0", toBlock: "latest" }], [{ blockHash: b1 }]],
      eth_getBalance: [
        [A, "latest"],
        [A, "0x2"],
      ],
      eth_getTransactionCount: [[A, "latest"]],
      eth_getCode: [[A, "latest"]],
      eth_getStorageAt: [[A, "0x1", "latest"]],
      eth_gasPrice: [[]],
      eth_maxPriorityFeePerGas: [[]],
      eth_feeHistory: [
        ["0x3", "latest", [25, 75]],
        ["0x2", "0x1"],
      ],
    };
    expect(Object.keys(calls).sort()).toEqual([...ReplicaReads.methods].sort());
    for (const [method, list] of Object.entries(calls)) {
      for (const params of list) {
        const out = await access.read(method, params);
        const label = `${method}(${JSON.stringify(params)}) = ${JSON.stringify(out)}`;
        expect(out.kind, label).toBe("result");
        const result = out.kind === "result" ? out.result : undefined;
        expect(rpcResults[method as RpcMethodName].safeParse(result).error?.issues ?? [], label).toEqual([]);
      }
    }
    // The schemas are the core's: a block answered in full carries its transaction as a mined object.
    const full = await access.read("eth_getBlockByNumber", ["0x1", true]);
    expect(rpcResults.eth_getBlockByNumber.parse(full.kind === "result" && full.result)?.transactions).toHaveLength(1);
  });

  it("bad params and the core's read errors come back as error outcomes; unknown data is forwarded", async () => {
    await chain(2, 0);
    expect(await access.read("eth_getBlockByNumber", ["latest"])).toEqual({
      kind: "error",
      error: { code: -32602, message: "missing value for required argument 1", data: { code: "INVALID_PARAMS" } },
    });
    expect(await access.read("eth_getBalance", ["0x12", "latest"])).toEqual({
      kind: "error",
      error: {
        code: -32602,
        message: "invalid argument 0: 20-byte hex address expected",
        data: { code: "INVALID_PARAMS" },
      },
    });
    expect(await access.read("eth_getBalance", "nope")).toMatchObject({ kind: "error", error: { code: -32602 } });
    const narrow = new LocalReplicaAccess({ replica, reads: createReplicaReads({ maxLogsBlockRange: 2 }, { store }) });
    expect(await narrow.read("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x200" }])).toEqual({
      kind: "error",
      error: { code: -32005, message: "block range exceeds 2 blocks", data: { code: "LOG_RANGE_TOO_LARGE" } },
    });
    expect(await access.read("eth_getBalance", [A, "0x9"])).toEqual({
      kind: "error",
      error: { code: -32000, message: "header not found", data: { code: "HEADER_NOT_FOUND" } },
    });
    expect(await access.read("eth_getBlockByHash", [blockHash("e", 1), false])).toEqual({ kind: "forward" });
    expect(await access.read("eth_getTransactionCount", [A, "pending"])).toEqual({ kind: "forward" });
  });

  it("a failing store is a forward (the core answers), reported to onError", async () => {
    const faults: unknown[] = [];
    const broken = new LocalReplicaAccess({
      replica,
      reads: createReplicaReads(
        {},
        {
          store: {
            get: async () => {
              throw new Error("store down");
            },
            getMany: async () => new Map(),
            batch: async () => false,
          },
        },
      ),
      onError: (e) => faults.push(e),
    });
    expect(await broken.read("eth_blockNumber", [])).toEqual({ kind: "forward" });
    expect(faults).toHaveLength(1);
  });
});

describe("fee methods", () => {
  let store: MemoryReplicaStore;
  let replica: Replica;
  const reads = (fees = FEES) => createReplicaReads({ fees }, { store });

  beforeEach(() => {
    store = new MemoryReplicaStore();
    replica = createReplica({ ...defaultReplicaOptions, chainId: CHAIN }, { store });
  });

  it("fee parameters are taken from a rustchain_feeParams answer that matches its schema, and only from one", () => {
    const answer = {
      minBaseFeePerGas: "0x3b9aca00",
      elasticityMultiplier: "0x2",
      baseFeeChangeDenominator: "0x8",
      suggestedTip: "0x3b9aca00",
      maxFeeHistoryBlocks: "0x400",
    };
    expect(feeOptionsFromCore(answer)).toEqual({
      params: { minBaseFeePerGas: GWEI, elasticityMultiplier: 2n, baseFeeChangeDenominator: 8n },
      suggestedTip: GWEI,
      maxFeeHistoryBlocks: 1024n,
    });
    for (const bad of [null, { ...answer, suggestedTip: "0x03" }, { ...answer, maxFeeHistoryBlocks: undefined }])
      expect(() => feeOptionsFromCore(bad)).toThrow();
  });

  it("are forwarded without the chain's fee parameters", async () => {
    await replica.apply(blockBundle(1, 0));
    const r = createReplicaReads({}, { store });
    for (const m of ["eth_gasPrice", "eth_maxPriorityFeePerGas"]) expect(await r.answer(m, [])).toBe(FORWARD);
    expect(await r.answer("eth_feeHistory", ["0x1", "latest"])).toBe(FORWARD);
  });

  it("eth_gasPrice = EIP-1559 next base fee of the head + the tip; eth_maxPriorityFeePerGas = the tip", async () => {
    // gasUsed above the 15M target raises the base fee by base * (used - target) / target / 8.
    await replica.apply(blockBundle(1, 0, { gasUsed: 30_000_000, baseFeePerGas: 8n * GWEI }));
    expect(await reads().answer("eth_gasPrice", [])).toBe(q(9n * GWEI + GWEI));
    expect(await reads().answer("eth_maxPriorityFeePerGas", [])).toBe(q(GWEI));
    // Empty block: down by 1/8, floored at minBaseFeePerGas.
    await replica.apply(blockBundle(2, 1, { gasUsed: 0, baseFeePerGas: 8n * GWEI }));
    expect(await reads().answer("eth_gasPrice", [])).toBe(q(7n * GWEI + GWEI));
    const floored = replicaFeeOptions(
      { minBaseFeePerGas: 7_500_000_000n, elasticityMultiplier: 2n, baseFeeChangeDenominator: 8n },
      { suggestedTip: 5n },
    );
    expect(await reads(floored).answer("eth_gasPrice", [])).toBe(q(7_500_000_005n));
    expect(await reads(floored).answer("eth_maxPriorityFeePerGas", [])).toBe("0x5");
  });

  it("eth_feeHistory: base fees (+ the next), gas used ratios and gas-weighted reward percentiles", async () => {
    await replica.apply(blockBundle(1, 0, { baseFeePerGas: GWEI }));
    await replica.apply(
      blockBundle(2, 1, {
        baseFeePerGas: GWEI,
        gasLimit: 200_000,
        txs: [
          // tip min(2 - 1, 1) = 1 gwei
          { from: 1, to: 2, gasUsed: 21_000 },
          // legacy 1.5 gwei: tip 0.5 gwei
          { from: 2, to: 3, type: 0, gasPrice: 1_500_000_000n, gasUsed: 50_000 },
          // tip min(1.2 - 1, 1) = 0.2 gwei
          { from: 3, to: 4, maxFeePerGas: 1_200_000_000n, gasUsed: 29_000 },
        ],
      }),
    );
    await replica.apply(
      blockBundle(3, 2, { baseFeePerGas: GWEI, finality: fin([1, blockHash("a", 1)], [1, blockHash("a", 1)]) }),
    );
    const r = reads();
    const h = (await r.answer("eth_feeHistory", ["0x3", "latest", [0, 25, 50, 80, 100]])) as Record<string, unknown>;
    expect(Object.keys(h)).toEqual(["oldestBlock", "baseFeePerGas", "gasUsedRatio", "reward"]);
    expect(h.oldestBlock).toBe("0x0");
    // Block 2 is empty: the next base fee is 1 gwei - 1/8.
    expect(h.baseFeePerGas).toEqual([q(GWEI), q(GWEI), q(GWEI), q(875_000_000n)]);
    expect(h.gasUsedRatio).toEqual([0, 0.5, 0]);
    const z = ["0x0", "0x0", "0x0", "0x0", "0x0"];
    expect(h.reward).toEqual([z, [q(200_000_000n), q(200_000_000n), q(500_000_000n), q(GWEI), q(GWEI)], z]);
    // Without percentiles there is no reward key; a count beyond the chain starts at block 0; empty count.
    expect(await r.answer("eth_feeHistory", [10, "0x1"])).toEqual({
      oldestBlock: "0x0",
      baseFeePerGas: [q(GWEI), q(GWEI), q(GWEI)],
      gasUsedRatio: [0, 0.5],
    });
    expect(await r.answer("eth_feeHistory", ["0x0", "latest", []])).toEqual({
      oldestBlock: "0x0",
      baseFeePerGas: [],
      gasUsedRatio: [],
      reward: [],
    });
    expect(await r.answer("eth_feeHistory", ["0x1", "latest", []])).toMatchObject({ reward: [[]] });
    // Pinned to the newest block.
    expect(await r.answerWithPin("eth_feeHistory", ["0x2", "0x1"])).toMatchObject({
      pin: { number: 1, hash: blockHash("a", 1) },
      immutable: true,
    });
    // A newest block above the replica's head, or a range below its first block: the core answers.
    expect(await r.answer("eth_feeHistory", ["0x1", "0x7"])).toBe(FORWARD);
    await expect(r.answer("eth_feeHistory", ["0x1", "latest", [50, 10]])).rejects.toMatchObject({
      message: "invalid argument 2: percentiles must be increasing numbers in [0, 100]",
    });
  });

  it("eth_feeHistory forwards a range that starts below the replica's first block", async () => {
    for (let n = 5; n <= 7; n++) {
      await replica.apply(blockBundle(n - 4, n, { finality: fin([5, blockHash("a", 5)], [5, blockHash("a", 5)]) }));
    }
    expect(await reads().answer("eth_feeHistory", ["0x3", "latest"])).toMatchObject({ oldestBlock: "0x5" });
    expect(await reads().answer("eth_feeHistory", ["0x4", "latest"])).toBe(FORWARD);
  });
});
