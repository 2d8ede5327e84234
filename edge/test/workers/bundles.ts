// A small builder of replication bundles for the workerd tests: block bundles with parent linkage, transactions with
// receipts and logs, a state diff and finality, plus reorg bundles, each accepted by shared's strict parser and signed
// with the shared HMAC exactly as the core's pusher signs them.
import { replicationAuthHeaders } from "@rustchain/shared/replication";

export const CHAIN = "0x5254";
/** The same key the workers project gives the Worker as REPLICATION_KEY (edge/vitest.workers.config.ts). */
export const KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
export const KEY = new Uint8Array(KEY_HEX.match(/../g)!.map((b) => Number.parseInt(b, 16)));
/** BLAKE3 of empty code (the replica's EMPTY_CODE_HASH). */
export const EMPTY_CODE_HASH = "0xaf1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

export const q = (n: number | bigint) => `0x${n.toString(16)}`;
export const word = (s: string) => `0x${s.padStart(64, "0")}`;
/** Block `n` of branch `branch` ("a" is the first canonical branch). */
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
}

export interface BlockSpec {
  branch?: string;
  /** Parent hash; default: block n - 1 of the same branch (of "a" for n - 1 when the branch starts there). */
  parent?: string;
  txs?: TxSpec[];
  accounts?: Record<string, { nonce: number; balance: number; code?: string; codeHash?: string } | null>;
  storage?: Record<string, Record<string, string>>;
  finality?: Finality;
}

export type Bundle = Record<string, unknown> & { seq: number; kind: string };
export type BlockBundleJson = Bundle & {
  block: Record<string, unknown> & { hash: string; number: string; transactions: Record<string, unknown>[] };
  receipts: (Record<string, unknown> & { logs: Record<string, unknown>[] })[];
};

export function blockBundle(seq: number, n: number, spec: BlockSpec = {}): BlockBundleJson {
  const branch = spec.branch ?? "a";
  const hash = blockHash(branch, n);
  const parentHash = spec.parent ?? (n === 0 ? ZERO : blockHash(branch, n - 1));
  let logIndex = 0;
  const txs = (spec.txs ?? []).map((t, i) => ({
    type: "0x2",
    hash: txHash(branch, n, i),
    nonce: q(i),
    blockHash: hash,
    blockNumber: q(n),
    blockTimestamp: q(1000 + n),
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
    chainId: CHAIN,
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
    effectiveGasPrice: "0x3b9aca00",
  }));
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
      gasLimit: "0x1c9c380",
      gasUsed: q(21000 * txs.length),
      timestamp: q(1000 + n),
      mixHash: ZERO,
      baseFeePerGas: "0x3b9aca00",
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

export const reorgBundle = (seq: number, from: [number, string], to: [number, string], depth: number): Bundle => ({
  version: 1,
  chainId: CHAIN,
  seq,
  kind: "reorg",
  from: { number: q(from[0]), hash: from[1] },
  to: { number: q(to[0]), hash: to[1] },
  depth,
});

/** Headers and body of a POST of `bundle` to the ingest endpoint, signed at `nowMs` with `key`. */
export async function signedIngest(
  bundle: unknown,
  opts: { key?: Uint8Array; nowMs?: number } = {},
): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify(bundle);
  const headers = await replicationAuthHeaders(opts.key ?? KEY, body, opts.nowMs ?? Date.now());
  return { body, headers: { ...headers, "content-type": "application/json" } };
}

/** GET /replication/head signed like the core's pullers (the path stands in for the body). */
export async function signedHeadRequest(origin: string): Promise<Request> {
  const headers = await replicationAuthHeaders(KEY, "/replication/head", Date.now());
  return new Request(`${origin}/replication/head`, { headers });
}
