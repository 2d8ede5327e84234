// Test support for the Node host: synthetic replication bundles that pass shared's strict parser (the same shape as
// edge/src/replica/replica.test.ts builds) and a throwaway redis-server on a free port.
import { freePort } from "../../../validator/src/cli/devnetCluster.ts";
import { type LocalRedis, startLocalRedis } from "./redisServer.ts";

export const TEST_CHAIN = "0x5254";
export const TEST_CHAIN_ID = 0x5254n;

const q = (n: number | bigint) => `0x${n.toString(16)}`;
export const word = (s: string) => `0x${s.padStart(64, "0")}`;
export const blockHash = (branch: string, n: number) => word(`${branch}${n.toString(16)}`);
export const txHash = (branch: string, n: number, i: number) => word(`${branch}${n.toString(16)}f${i}`);
export const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;
const BLOOM = `0x${"0".repeat(512)}`;
const ZERO = word("0");
const EMPTY_CODE_HASH = "0xaf1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

export interface TestBlockSpec {
  branch?: string;
  parent?: string;
  /** One transfer per entry, each with one log from `logAddress` (topic 1) when given. */
  txs?: { from: number; to: number; logAddress?: number }[];
  accounts?: Record<string, { nonce: number; balance: number }>;
  finalized?: number;
  timestamp?: number;
}

/** A `block` bundle of block `n` on `branch` (parent: block n-1 of branch "a" unless given). */
export function testBlockBundle(seq: number, n: number, spec: TestBlockSpec = {}) {
  const branch = spec.branch ?? "a";
  const hash = blockHash(branch, n);
  const parentHash = spec.parent ?? (n === 0 ? ZERO : blockHash("a", n - 1));
  const ts = spec.timestamp ?? 1000 + n;
  const txs = (spec.txs ?? []).map((t, i) => ({
    type: "0x2",
    hash: txHash(branch, n, i),
    nonce: q(i),
    blockHash: hash,
    blockNumber: q(n),
    blockTimestamp: q(ts),
    transactionIndex: q(i),
    from: addr(t.from),
    to: addr(t.to),
    value: "0x1",
    gas: "0x5208",
    input: "0x",
    r: "0x1",
    s: "0x1",
    v: "0x0",
    gasPrice: "0x3b9aca00",
    chainId: TEST_CHAIN,
    yParity: "0x0",
    accessList: [],
    maxFeePerGas: "0x77359400",
    maxPriorityFeePerGas: "0x3b9aca00",
  }));
  const receipts = (spec.txs ?? []).map((t, i) => ({
    type: "0x2",
    transactionHash: txHash(branch, n, i),
    transactionIndex: q(i),
    blockHash: hash,
    blockNumber: q(n),
    from: addr(t.from),
    to: addr(t.to),
    cumulativeGasUsed: q(21000 * (i + 1)),
    gasUsed: "0x5208",
    contractAddress: null,
    logs:
      t.logAddress === undefined
        ? []
        : [
            {
              removed: false,
              logIndex: q(i),
              transactionIndex: q(i),
              transactionHash: txHash(branch, n, i),
              blockHash: hash,
              blockNumber: q(n),
              address: addr(t.logAddress),
              data: "0x",
              topics: [word("1")],
            },
          ],
    logsBloom: BLOOM,
    status: "0x1",
    effectiveGasPrice: "0x3b9aca00",
  }));
  const accounts = Object.fromEntries(
    Object.entries(spec.accounts ?? {}).map(([a, v]) => [
      a,
      { nonce: q(v.nonce), balance: q(v.balance), codeHash: EMPTY_CODE_HASH },
    ]),
  );
  const f = spec.finalized ?? 0;
  const finRef = { number: q(f), hash: blockHash("a", f) };
  return {
    version: 1,
    chainId: TEST_CHAIN,
    seq,
    kind: "block",
    block: {
      number: q(n),
      hash,
      parentHash,
      nonce: "0x0000000000000000",
      sha3Uncles: word("1dcc"),
      logsBloom: BLOOM,
      transactionsRoot: ZERO,
      stateRoot: ZERO,
      receiptsRoot: ZERO,
      miner: addr(0),
      difficulty: "0x0",
      totalDifficulty: "0x0",
      extraData: "0x",
      size: "0x200",
      gasLimit: "0x1c9c380",
      gasUsed: q(21000 * txs.length),
      timestamp: q(ts),
      mixHash: ZERO,
      baseFeePerGas: "0x3b9aca00",
      uncles: [],
      slot: q(n),
      proposerIndex: "0x0",
      transactions: txs,
    },
    receipts,
    stateDiff: { accounts, storage: {} },
    finality: { safe: finRef, finalized: finRef },
  };
}

/** A redis-server on a free loopback port for one test file. */
export async function startTestRedis(): Promise<LocalRedis> {
  return startLocalRedis({ port: await freePort() });
}
