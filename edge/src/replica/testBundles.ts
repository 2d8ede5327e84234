// Test support: synthetic replication bundles that pass shared's strict parser: block bundles with parent linkage,
// transactions with receipts and logs, a state diff and finality, plus reorg and finality bundles. The one builder for
// the replica-side unit tests, the Node host's tests (edge/src/node/testing.ts) and the workerd tests
// (edge/test/workers/bundles.ts), so it uses Web APIs only (no node: imports, no Buffer).
import { EMPTY_CODE_HASH } from "./reads.ts";

export { EMPTY_CODE_HASH };

export const CHAIN = "0x5254";
export const q = (n: number | bigint) => `0x${n.toString(16)}`;
export const word = (s: string) => `0x${s.padStart(64, "0")}`;
export const blockHash = (branch: string, n: number) => word(`${branch}${n.toString(16)}`);
export const txHash = (branch: string, n: number, i: number) => word(`${branch}${n.toString(16)}f${i}`);
export const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;
export const topic = (i: number) => word(i.toString(16));
const BLOOM = `0x${"0".repeat(512)}`;
const ZERO = word("0");

export type Finality = { safe: { number: string; hash: string }; finalized: { number: string; hash: string } };

export const fin = (safe: [number, string], finalized: [number, string]): Finality => ({
  safe: { number: q(safe[0]), hash: safe[1] },
  finalized: { number: q(finalized[0]), hash: finalized[1] },
});

export interface TxSpec {
  from: number;
  to: number;
  logs?: { address: number; topics: number[] }[];
  /** 0 (legacy, `gasPrice` only) or 2 (EIP-1559, default). */
  type?: 0 | 2;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasUsed?: number;
}

export interface BlockSpec {
  /** Branch of the block's hash ("a" is the first canonical branch). */
  branch?: string;
  /** Parent hash; default: block n - 1 of `parentBranch`. */
  parent?: string;
  /** Branch of the default parent (default "a"). */
  parentBranch?: string;
  txs?: TxSpec[];
  accounts?: Record<string, { nonce: number; balance: number; code?: string; codeHash?: string } | null>;
  storage?: Record<string, Record<string, string>>;
  finality?: Finality;
  baseFeePerGas?: bigint;
  /** gasPrice of every type-2 transaction and its receipt's effectiveGasPrice; default: base fee + effective tip. */
  type2GasPrice?: bigint;
  gasLimit?: number;
  /** Default: the sum of the transactions' gasUsed. */
  gasUsed?: number;
  /** Block timestamp; default 1000 + n. */
  timestamp?: number;
}

export function blockBundle(seq: number, n: number, spec: BlockSpec = {}) {
  const branch = spec.branch ?? "a";
  const hash = blockHash(branch, n);
  const parentHash = spec.parent ?? (n === 0 ? ZERO : blockHash(spec.parentBranch ?? "a", n - 1));
  const ts = spec.timestamp ?? 1000 + n;
  const baseFee = spec.baseFeePerGas ?? 1_000_000_000n;
  let logIndex = 0;
  const specs = spec.txs ?? [];
  const txs = specs.map((t, i) => {
    const common = {
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
    };
    if (t.type === 0) {
      return { type: "0x0", ...common, v: "0x1b", gasPrice: q(t.gasPrice ?? 2_000_000_000n), chainId: CHAIN };
    }
    const maxFee = t.maxFeePerGas ?? 2_000_000_000n;
    const maxTip = t.maxPriorityFeePerGas ?? 1_000_000_000n;
    const eff = spec.type2GasPrice ?? baseFee + (maxTip < maxFee - baseFee ? maxTip : maxFee - baseFee);
    return {
      type: "0x2",
      ...common,
      v: "0x0",
      gasPrice: q(eff),
      chainId: CHAIN,
      yParity: "0x0",
      accessList: [],
      maxFeePerGas: q(maxFee),
      maxPriorityFeePerGas: q(maxTip),
    };
  });
  let cumulative = 0;
  const receipts = specs.map((t, i) => {
    const gasUsed = t.gasUsed ?? 21000;
    cumulative += gasUsed;
    return {
      type: t.type === 0 ? "0x0" : "0x2",
      transactionHash: txHash(branch, n, i),
      transactionIndex: q(i),
      blockHash: hash,
      blockNumber: q(n),
      from: addr(t.from),
      to: addr(t.to),
      cumulativeGasUsed: q(cumulative),
      gasUsed: q(gasUsed),
      contractAddress: null,
      logs: (t.logs ?? []).map((l) => ({
        removed: false,
        logIndex: q(logIndex++),
        transactionIndex: q(i),
        transactionHash: txHash(branch, n, i),
        blockHash: hash,
        blockNumber: q(n),
        address: addr(l.address),
        data: "0x",
        topics: l.topics.map(topic),
      })),
      logsBloom: BLOOM,
      status: "0x1",
      effectiveGasPrice: (txs[i] as { gasPrice: string }).gasPrice,
    };
  });
  const accounts = Object.fromEntries(
    Object.entries(spec.accounts ?? {}).map(([a, v]) => [
      a,
      v === null
        ? null
        : {
            nonce: q(v.nonce),
            balance: q(v.balance),
            codeHash: v.codeHash ?? EMPTY_CODE_HASH,
            ...(v.code ? { code: v.code } : {}),
          },
    ]),
  );
  return {
    version: 1,
    chainId: CHAIN,
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
      gasLimit: q(spec.gasLimit ?? 30_000_000),
      gasUsed: q(spec.gasUsed ?? cumulative),
      timestamp: q(ts),
      mixHash: ZERO,
      baseFeePerGas: q(baseFee),
      uncles: [],
      slot: q(n),
      proposerIndex: "0x0",
      transactions: txs,
    },
    receipts,
    stateDiff: { accounts, storage: spec.storage ?? {} },
    finality: spec.finality ?? fin([0, blockHash("a", 0)], [0, blockHash("a", 0)]),
  };
}

export const reorgBundle = (seq: number, from: [number, string], to: [number, string], depth: number) => ({
  version: 1,
  chainId: CHAIN,
  seq,
  kind: "reorg",
  from: { number: q(from[0]), hash: from[1] },
  to: { number: q(to[0]), hash: to[1] },
  depth,
});

export const finalityBundle = (seq: number, f: Finality) => ({
  version: 1,
  chainId: CHAIN,
  seq,
  kind: "finality",
  finality: f,
});
