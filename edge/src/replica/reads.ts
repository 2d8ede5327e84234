// JSON-RPC reads answered from the replica, with exactly the JSON the core answers (validator/src/rpc/ethApi.ts is
// the reference). When the replica cannot answer for sure (a block older than its first block, an unknown hash, a
// state key it never saw, the pending nonce) a read returns FORWARD and the caller sends the request to the core.
import type { Hex } from "@rustchain/shared/hex";
import { isRpcMethod, parseParams, type RpcMethodName, type RpcParams } from "@rustchain/shared/rpc/methods";
import type { BlockId, BlockTag, FilterRequest } from "@rustchain/shared/rpc/params";
import { RpcCode, RpcError } from "@rustchain/shared/rpcErrors";
import {
  type BlockRecord,
  type NumberedRef,
  type ReplicaMeta,
  replicaKeys,
  type StateHistory,
  type TxRecord,
} from "./replica.ts";
import type { ReplicaStore } from "./store.ts";

/** "The replica cannot answer this; forward it to the core." */
export const FORWARD: unique symbol = Symbol("FORWARD");
export type Forward = typeof FORWARD;

export interface ReplicaReadOptions {
  maxLogsBlockRange: number;
  maxLogsResults: number;
  /**
   * The replica was seeded from block 0 with the genesis allocation in block 0's state diff, so a state key it never
   * saw is empty. Otherwise such reads are forwarded.
   */
  stateFromGenesis: boolean;
}

/** The core's defaults (validator/src/rpc/ethApi.ts), so the edge refuses exactly what the core refuses. */
export const defaultReplicaReadOptions: ReplicaReadOptions = {
  maxLogsBlockRange: 10_000,
  maxLogsResults: 10_000,
  stateFromGenesis: false,
};

export interface ReplicaReadModules {
  store: ReplicaStore;
}

/** BLAKE3 of empty code: the code hash of an account without code (the chain commits with BLAKE3). */
export const EMPTY_CODE_HASH: Hex = "0xaf1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
const ZERO_WORD: Hex = `0x${"0".repeat(64)}`;
const LOG_FETCH_CHUNK = 1000;

const headerNotFound = () => new RpcError(RpcCode.INVALID_INPUT, "header not found");
const toQuantity = (n: number): Hex => `0x${n.toString(16)}`;
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const hex = (b: Uint8Array): Hex => `0x${toHex(b)}`;

type Resolved = NumberedRef | "beyond" | Forward;
type Account = { nonce: Hex; balance: Hex; codeHash: Hex };
type Lookup<V> = { value: V; at: number } | "absent" | Forward;
type Handler<M extends RpcMethodName> = (params: RpcParams<M>, meta: ReplicaMeta) => Promise<unknown>;

interface LogJson {
  address: string;
  topics: string[];
}

export class ReplicaReads {
  constructor(
    private readonly opts: ReplicaReadOptions,
    private readonly modules: ReplicaReadModules,
  ) {}

  /** Methods this module may answer; every other method is forwarded. */
  static readonly methods: readonly RpcMethodName[] = [
    "eth_blockNumber",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
    "eth_getTransactionByHash",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionReceipt",
    "eth_getBlockReceipts",
    "eth_getLogs",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
  ];

  /**
   * Answer `method` with raw JSON-RPC `params` from the replica: the result JSON, or FORWARD. Invalid params throw the
   * core's -32602 RpcError; range and result limits and unknown blocks throw the core's errors too.
   */
  async answer(method: string, params: unknown): Promise<unknown> {
    if (!isRpcMethod(method)) return FORWARD;
    const handler = (this.handlers as Record<string, Handler<RpcMethodName> | undefined>)[method];
    if (!handler) return FORWARD;
    const parsed = parseParams(method, params);
    const meta = (await this.modules.store.get(replicaKeys.meta)) as ReplicaMeta | undefined;
    if (!meta?.head) return FORWARD;
    return handler(parsed, meta);
  }

  private readonly handlers: { [M in RpcMethodName]?: Handler<M> } = {
    eth_blockNumber: async (_p, meta) => toQuantity(meta.servedHead ?? (meta.head as NumberedRef).number),
    eth_getBlockByNumber: async ([tag, full], meta) => {
      const r = await this.resolveTag(meta, tag);
      if (r === FORWARD) return FORWARD;
      return r === "beyond" ? null : this.blockJson(r.hash, full);
    },
    eth_getBlockByHash: ([hash, full]) => this.blockJson(hex(hash), full),
    eth_getBlockTransactionCountByNumber: async ([tag], meta) => {
      const r = await this.resolveTag(meta, tag);
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") return null;
      const rec = await this.record(r.hash);
      return rec ? toQuantity(rec.block.transactions.length) : FORWARD;
    },
    eth_getBlockTransactionCountByHash: async ([hash]) => {
      const rec = await this.record(hex(hash));
      return rec ? toQuantity(rec.block.transactions.length) : FORWARD;
    },
    // A transaction the replica does not hold may be pending in the core's mempool.
    eth_getTransactionByHash: async ([hash]) => (await this.txRecord(hex(hash)))?.tx ?? FORWARD,
    eth_getTransactionByBlockHashAndIndex: ([hash, index]) => this.txAt(hex(hash), index),
    eth_getTransactionByBlockNumberAndIndex: async ([tag, index], meta) => {
      const r = await this.resolveTag(meta, tag);
      if (r === FORWARD) return FORWARD;
      return r === "beyond" ? null : this.txAt(r.hash, index);
    },
    eth_getTransactionReceipt: async ([hash], meta) => {
      const rec = await this.txRecord(hex(hash));
      if (rec) return rec.receipt;
      // Holding every block from genesis, "not here" means "not mined yet" as of the served head.
      return meta.base === 0 ? null : FORWARD;
    },
    eth_getBlockReceipts: async ([id], meta) => {
      const r = await this.resolveBlockId(meta, id);
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") return null;
      const rec = await this.record(r.hash);
      if (!rec) return FORWARD;
      const txs = await this.txRecords(rec.block.transactions);
      return txs ? txs.map((t) => t.receipt) : FORWARD;
    },
    eth_getLogs: ([filter], meta) => this.getLogs(filter, meta),
    eth_getBalance: async ([address, id], meta) => {
      const acc = await this.accountAt(meta, hex(address), id);
      return acc === FORWARD ? FORWARD : acc.value.balance;
    },
    eth_getTransactionCount: async ([address, id], meta) => {
      // The pending nonce includes the core's mempool, which the edge does not replicate.
      if (id && "tag" in id && id.tag === "pending") return FORWARD;
      const acc = await this.accountAt(meta, hex(address), id);
      return acc === FORWARD ? FORWARD : acc.value.nonce;
    },
    eth_getCode: async ([address, id], meta) => {
      const acc = await this.accountAt(meta, hex(address), id);
      if (acc === FORWARD) return FORWARD;
      if (acc.value.codeHash === EMPTY_CODE_HASH) return "0x";
      const code = (await this.modules.store.get(replicaKeys.code(acc.value.codeHash))) as Hex | undefined;
      return code ?? FORWARD;
    },
    eth_getStorageAt: async ([address, slot, id], meta) => {
      const r = await this.resolveBlockId(meta, id ?? { tag: "latest" });
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") throw headerNotFound();
      const addr = hex(address);
      const key = `0x${slot.toString(16).padStart(64, "0")}`;
      const [slotHist, accHist] = await Promise.all([
        this.modules.store.get(replicaKeys.slot(addr, key)) as Promise<StateHistory<Hex> | undefined>,
        this.modules.store.get(replicaKeys.account(addr)) as Promise<StateHistory<Account | null> | undefined>,
      ]);
      const value = lookup(slotHist, r.number);
      if (value === FORWARD) return FORWARD;
      // An account deleted after the slot was last written has no storage.
      const acc = lookup(accHist, r.number);
      if (acc !== FORWARD && acc !== "absent" && acc.value === null && (value === "absent" || acc.at >= value.at)) {
        return ZERO_WORD;
      }
      if (value !== "absent") return value.value;
      return this.stateComplete(meta) ? ZERO_WORD : FORWARD;
    },
  };

  // ---- block resolution ----

  /** A tag or number to the canonical block the replica holds for it; "beyond" = above the canonical head. */
  private async resolveTag(meta: ReplicaMeta, tag: BlockTag): Promise<Resolved> {
    const head = meta.head as NumberedRef;
    let n: number;
    let expectHash: Hex | undefined;
    switch (tag) {
      case "latest":
      case "pending":
        return head;
      case "earliest":
        n = 0;
        break;
      case "safe":
      case "finalized": {
        const ref = meta[tag];
        // Not known yet, or announced ahead of the blocks the replica holds: the core knows better.
        if (!ref || ref.number > head.number) return FORWARD;
        n = ref.number;
        expectHash = ref.hash;
        break;
      }
      default:
        if (tag > BigInt(head.number)) return "beyond";
        n = Number(tag);
    }
    if (meta.base === null || n < meta.base) return FORWARD;
    const hash = (await this.modules.store.get(replicaKeys.canonical(n))) as Hex | undefined;
    // A safe block left the chain in a reorg: until a newer one arrives, let the core resolve the tag.
    if (!hash || (expectHash !== undefined && hash !== expectHash)) return FORWARD;
    return { number: n, hash };
  }

  private async resolveBlockId(meta: ReplicaMeta, id: BlockId): Promise<Resolved> {
    if ("tag" in id) return this.resolveTag(meta, id.tag);
    // The replica holds only canonical blocks (reorgs delete the others), so requireCanonical holds for any hit.
    const rec = await this.record(hex(id.hash));
    return rec ? { number: Number(BigInt(rec.block.number)), hash: rec.block.hash } : FORWARD;
  }

  private async record(hash: string): Promise<BlockRecord | undefined> {
    return (await this.modules.store.get(replicaKeys.block(hash))) as BlockRecord | undefined;
  }

  private async txRecord(hash: string): Promise<TxRecord | undefined> {
    return (await this.modules.store.get(replicaKeys.tx(hash))) as TxRecord | undefined;
  }

  /** All of a block's transaction records in order, or undefined if one is missing (a reorg raced the read). */
  private async txRecords(hashes: readonly Hex[]): Promise<TxRecord[] | undefined> {
    const keys = hashes.map(replicaKeys.tx);
    const got = await this.modules.store.getMany(keys);
    const out: TxRecord[] = [];
    for (const k of keys) {
      const t = got.get(k) as TxRecord | undefined;
      if (!t) return undefined;
      out.push(t);
    }
    return out;
  }

  private async blockJson(hash: string, full: boolean): Promise<unknown> {
    const rec = await this.record(hash);
    if (!rec) return FORWARD;
    if (!full) return rec.block;
    const txs = await this.txRecords(rec.block.transactions);
    if (!txs) return FORWARD;
    return { ...rec.block, transactions: txs.map((t) => t.tx) };
  }

  private async txAt(blockHash: string, index: bigint): Promise<unknown> {
    const rec = await this.record(blockHash);
    if (!rec) return FORWARD;
    if (index >= BigInt(rec.block.transactions.length)) return null;
    const t = await this.txRecord(rec.block.transactions[Number(index)] as Hex);
    return t ? t.tx : FORWARD;
  }

  // ---- logs ----

  private async getLogs(f: FilterRequest, meta: ReplicaMeta): Promise<unknown> {
    const addresses = new Set<string>(f.addresses.map(hex));
    const topics = f.topics.map((alts) => (alts ? new Set<string>(alts.map(hex)) : null));
    const matches = (log: LogJson) => {
      if (addresses.size && !addresses.has(log.address)) return false;
      for (let i = 0; i < topics.length; i++) {
        const want = topics[i];
        if (!want) continue;
        const got = log.topics[i];
        if (got === undefined || !want.has(got)) return false;
      }
      return true;
    };
    const { store } = this.modules;
    if (f.blockHash) {
      const hash = hex(f.blockHash);
      const rec = await this.record(hash);
      if (!rec) return FORWARD;
      const logs = ((await store.get(replicaKeys.logs(hash))) as LogJson[] | undefined) ?? [];
      return logs.filter(matches);
    }
    const head = BigInt((meta.head as NumberedRef).number);
    const tagNumber = (tag: BlockTag): bigint | Forward => {
      switch (tag) {
        case "latest":
        case "pending":
          return head;
        case "earliest":
          return 0n;
        case "safe":
        case "finalized":
          return meta[tag] ? BigInt((meta[tag] as NumberedRef).number) : FORWARD;
        default:
          return tag;
      }
    };
    const from = tagNumber(f.fromBlock ?? "latest");
    let to = tagNumber(f.toBlock ?? "latest");
    if (from === FORWARD || to === FORWARD) return FORWARD;
    if (to > head) to = head;
    // Same range rules and messages as the core.
    if (from > to) {
      if (f.fromBlock !== undefined && from > head) return [];
      throw new RpcError(RpcCode.INVALID_PARAMS, "invalid block range params");
    }
    if (to - from + 1n > BigInt(this.opts.maxLogsBlockRange)) {
      throw new RpcError(RpcCode.LIMIT_EXCEEDED, `block range exceeds ${this.opts.maxLogsBlockRange} blocks`);
    }
    if (meta.base === null || from < BigInt(meta.base)) return FORWARD;
    const out: unknown[] = [];
    for (let start = Number(from); start <= Number(to); start += LOG_FETCH_CHUNK) {
      const numbers: number[] = [];
      for (let n = start; n <= Math.min(Number(to), start + LOG_FETCH_CHUNK - 1); n++) numbers.push(n);
      const hashes = await store.getMany(numbers.map(replicaKeys.canonical));
      const logKeys: string[] = [];
      for (const n of numbers) {
        const hash = hashes.get(replicaKeys.canonical(n)) as string | undefined;
        if (!hash) return FORWARD;
        logKeys.push(replicaKeys.logs(hash));
      }
      const logs = await store.getMany(logKeys);
      for (const k of logKeys) {
        for (const log of (logs.get(k) as LogJson[] | undefined) ?? []) {
          if (!matches(log)) continue;
          out.push(log);
          if (out.length > this.opts.maxLogsResults) {
            throw new RpcError(RpcCode.LIMIT_EXCEEDED, `query returned more than ${this.opts.maxLogsResults} results`);
          }
        }
      }
    }
    return out;
  }

  // ---- state ----

  private stateComplete(meta: ReplicaMeta): boolean {
    return this.opts.stateFromGenesis && meta.base === 0;
  }

  private async accountAt(
    meta: ReplicaMeta,
    address: Hex,
    id: BlockId | undefined,
  ): Promise<{ value: Account } | Forward> {
    const r = await this.resolveBlockId(meta, id ?? { tag: "latest" });
    if (r === FORWARD) return FORWARD;
    if (r === "beyond") throw headerNotFound();
    const hist = (await this.modules.store.get(replicaKeys.account(address))) as
      | StateHistory<Account | null>
      | undefined;
    const found = lookup(hist, r.number);
    if (found === FORWARD) return FORWARD;
    const empty: Account = { nonce: "0x0", balance: "0x0", codeHash: EMPTY_CODE_HASH };
    if (found === "absent") return this.stateComplete(meta) ? { value: empty } : FORWARD;
    return { value: found.value ?? empty };
  }
}

/** The value a state key had at block `n`: "absent" if no change at or below n is recorded. */
function lookup<V>(hist: StateHistory<V> | undefined, n: number): Lookup<V> {
  if (!hist) return "absent";
  if (n < hist.from) return FORWARD;
  for (let i = hist.entries.length - 1; i >= 0; i--) {
    const [at, value] = hist.entries[i] as [number, V];
    if (at <= n) return { value, at };
  }
  return hist.from === -1 ? "absent" : FORWARD;
}

export function createReplicaReads(opts: Partial<ReplicaReadOptions>, modules: ReplicaReadModules): ReplicaReads {
  return new ReplicaReads({ ...defaultReplicaReadOptions, ...opts }, modules);
}
