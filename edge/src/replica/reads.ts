// JSON-RPC reads answered from the replica, with exactly the JSON the core answers (validator/src/rpc/ethApi.ts is
// the reference). When the replica cannot answer for sure (a block older than its first block, an unknown hash, a
// state key it never saw, the pending nonce) a read returns FORWARD and the caller sends the request to the core.
// Every answer also reports its pin (the block it was computed at) and whether it can never change (immutable), so
// the pipeline can cache finalized answers forever and the others under the pin's hash.
import { type ChainParams, nextBaseFee } from "@rustchain/shared/genesis";
import { bytesToHex, type Hex, toQuantity } from "@rustchain/shared/hex";
import {
  type FeeHistoryBlock,
  feeHistory,
  isFixedId,
  isFixedTag,
  LogMatcher,
  logRange,
  type TipNumbers,
  tagNumber,
} from "@rustchain/shared/rpc/chainQueries";
import { isRpcMethod, parseParams, type RpcMethodName, type RpcParams } from "@rustchain/shared/rpc/methods";
import type { BlockId, BlockTag, FilterRequest } from "@rustchain/shared/rpc/params";
import { rpcResults } from "@rustchain/shared/rpc/results";
import { rpcErrors } from "@rustchain/shared/rpcErrors";
import type { Upstream } from "../app/contract.ts";
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

/** The chain's EIP-1559 parameters and the core's fee suggestions (validator/src/rpc/ethApi.ts). */
export interface ReplicaFeeOptions {
  params: Pick<ChainParams, "minBaseFeePerGas" | "elasticityMultiplier" | "baseFeeChangeDenominator">;
  /** The core's `suggestedTip` (eth_maxPriorityFeePerGas, folded into eth_gasPrice); core default 1 gwei. */
  suggestedTip: bigint;
  /** The core's `maxFeeHistoryBlocks` (default 1024). */
  maxFeeHistoryBlocks: bigint;
}

/** Fee options from the chain's genesis params with the core's default tip and eth_feeHistory bound. */
export function replicaFeeOptions(
  params: ReplicaFeeOptions["params"],
  overrides: Partial<Omit<ReplicaFeeOptions, "params">> = {},
): ReplicaFeeOptions {
  return {
    params: {
      minBaseFeePerGas: params.minBaseFeePerGas,
      elasticityMultiplier: params.elasticityMultiplier,
      baseFeeChangeDenominator: params.baseFeeChangeDenominator,
    },
    suggestedTip: 1_000_000_000n,
    maxFeeHistoryBlocks: 1024n,
    ...overrides,
  };
}

/**
 * Fee options from the core's `rustchain_feeParams` answer, checked with that method's result schema. Throws on
 * anything else, so a host never answers fee methods from made-up parameters; until it has them it forwards.
 */
export function feeOptionsFromCore(answer: unknown): ReplicaFeeOptions {
  const a = rpcResults.rustchain_feeParams.parse(answer);
  return {
    params: {
      minBaseFeePerGas: BigInt(a.minBaseFeePerGas),
      elasticityMultiplier: BigInt(a.elasticityMultiplier),
      baseFeeChangeDenominator: BigInt(a.baseFeeChangeDenominator),
    },
    suggestedTip: BigInt(a.suggestedTip),
    maxFeeHistoryBlocks: BigInt(a.maxFeeHistoryBlocks),
  };
}

/**
 * Give `reads` the chain's fee parameters from the core once (`rustchain_feeParams`). Resolves true when `reads` has
 * them (now or already), false when the core did not answer; the caller retries later. Never throws.
 */
export async function learnFeeParams(reads: ReplicaReads, upstream: Upstream): Promise<boolean> {
  if (reads.hasFees) return true;
  try {
    const answer = await upstream.call("rustchain_feeParams", []);
    if (!("result" in answer)) return false;
    reads.setFees(feeOptionsFromCore(answer.result));
    return true;
  } catch {
    return false;
  }
}

/** Methods answered from the replica only once it has the chain's fee parameters. */
export const FEE_METHODS: ReadonlySet<string> = new Set(["eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_feeHistory"]);

/**
 * A function that makes sure `reads` has the fee parameters before a fee method is answered: the first call asks the
 * core, concurrent calls share that request, and after a failure the core is asked again at most every `retryMs`.
 * Until then the fee methods are forwarded. For hosts that start without the core (a Durable Object wakes up anywhere).
 */
export function feeParamsLearner(reads: ReplicaReads, upstream: Upstream, retryMs = 5_000): () => Promise<void> {
  let inFlight: Promise<boolean> | undefined;
  let lastTry = Number.NEGATIVE_INFINITY;
  return async () => {
    if (reads.hasFees) return;
    if (!inFlight) {
      if (Date.now() - lastTry < retryMs) return;
      lastTry = Date.now();
      inFlight = learnFeeParams(reads, upstream).finally(() => {
        inFlight = undefined;
      });
    }
    await inFlight;
  };
}

export interface ReplicaReadOptions {
  maxLogsBlockRange: number;
  maxLogsResults: number;
  /**
   * Fee parameters for eth_gasPrice, eth_maxPriorityFeePerGas and eth_feeHistory. The bundles do not carry the chain's
   * EIP-1559 parameters, so without them (null) the fee methods are forwarded.
   */
  fees: ReplicaFeeOptions | null;
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
  fees: null,
  stateFromGenesis: false,
};

export interface ReplicaReadModules {
  store: ReplicaStore;
}

/** BLAKE3 of empty code: the code hash of an account without code (the chain commits with BLAKE3). */
export const EMPTY_CODE_HASH: Hex = "0xaf1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
const ZERO_WORD: Hex = `0x${"0".repeat(64)}`;
const LOG_FETCH_CHUNK = 1000;

const headerNotFound = rpcErrors.headerNotFound;
const hex = bytesToHex;

type Resolved = NumberedRef | "beyond" | Forward;
type Account = { nonce: Hex; balance: Hex; codeHash: Hex };
type Lookup<V> = { value: V; at: number } | "absent" | Forward;

/**
 * A handler's answer: the result, the block it was computed at, and whether the request named that block absolutely
 * (a number, `earliest` or a hash; `latest`, `safe`... name a block that moves) so the answer is fixed once final.
 */
interface Answer {
  result: unknown;
  pin?: NumberedRef;
  fixed?: boolean;
}
type Handler<M extends RpcMethodName> = (params: RpcParams<M>, meta: ReplicaMeta) => Promise<Answer | Forward>;

/** An answer from the replica with the block it was computed at (see ReadOutcome in edge/src/app/contract.ts). */
export interface PinnedAnswer {
  result: unknown;
  pin?: NumberedRef;
  /** At or below the replica's finalized block, requested by number or hash, and not null: never changes. */
  immutable: boolean;
}

/** The replica's tips by number; a safe or finalized block announced ahead of the held head is left to the core. */
function tipNumbers(meta: ReplicaMeta): TipNumbers {
  const head = meta.head as NumberedRef;
  const held = (ref: NumberedRef | null | undefined) =>
    ref && ref.number <= head.number ? BigInt(ref.number) : undefined;
  return { head: BigInt(head.number), safe: held(meta.safe), finalized: held(meta.finalized) };
}
const refOf = (block: { number: Hex; hash: Hex }): NumberedRef => ({
  number: Number(BigInt(block.number)),
  hash: block.hash,
});

interface HeaderFees {
  gasLimit: Hex;
  gasUsed: Hex;
  baseFeePerGas: Hex;
}
const feeHeader = (h: HeaderFees) => ({
  gasLimit: BigInt(h.gasLimit),
  gasUsed: BigInt(h.gasUsed),
  baseFeePerGas: BigInt(h.baseFeePerGas),
});

interface LogJson {
  address: string;
  topics: string[];
}

export class ReplicaReads {
  constructor(
    private opts: ReplicaReadOptions,
    private readonly modules: ReplicaReadModules,
  ) {}

  /** Fee parameters learned after construction (hosts ask the core's rustchain_feeParams once it answers). */
  setFees(fees: ReplicaFeeOptions): void {
    this.opts = { ...this.opts, fees };
  }

  get hasFees(): boolean {
    return this.opts.fees !== null;
  }

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
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
  ];

  /**
   * Answer `method` with raw JSON-RPC `params` from the replica: the result JSON, or FORWARD. Invalid params throw the
   * core's -32602 RpcError; range and result limits and unknown blocks throw the core's errors too.
   */
  async answer(method: string, params: unknown): Promise<unknown> {
    const a = await this.answerWithPin(method, params);
    return a === FORWARD ? FORWARD : a.result;
  }

  /** As `answer`, with the block the answer was computed at and whether it can never change. */
  async answerWithPin(method: string, params: unknown): Promise<PinnedAnswer | Forward> {
    if (!isRpcMethod(method)) return FORWARD;
    const handler = (this.handlers as Record<string, Handler<RpcMethodName> | undefined>)[method];
    if (!handler) return FORWARD;
    const parsed = parseParams(method, params);
    const meta = (await this.modules.store.get(replicaKeys.meta)) as ReplicaMeta | undefined;
    if (!meta?.head) return FORWARD;
    const a = await handler(parsed, meta);
    if (a === FORWARD) return FORWARD;
    const fin = meta.finalized;
    // Only a finalized block the replica holds (checked canonical when it was announced) pins data for good; reorgs
    // never unwind it, so every held block at or below it stays.
    const immutable =
      a.fixed === true &&
      a.result !== null &&
      a.pin !== undefined &&
      fin !== null &&
      fin.number <= meta.head.number &&
      a.pin.number <= fin.number;
    return a.pin ? { result: a.result, pin: a.pin, immutable } : { result: a.result, immutable };
  }

  private readonly handlers: { [M in RpcMethodName]?: Handler<M> } = {
    eth_blockNumber: async (_p, meta) => ({ result: toQuantity(meta.servedHead ?? (meta.head as NumberedRef).number) }),
    eth_getBlockByNumber: async ([tag, full], meta) => {
      const r = await this.resolveTag(meta, tag);
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") return { result: null, pin: meta.head as NumberedRef };
      const json = await this.blockJson(r.hash, full);
      return json === FORWARD ? FORWARD : { result: json, pin: r, fixed: isFixedTag(tag) };
    },
    eth_getBlockByHash: async ([hash, full]) => {
      const json = await this.blockJson(hex(hash), full);
      return json === FORWARD ? FORWARD : { result: json, pin: refOf(json as BlockRecord["block"]), fixed: true };
    },
    eth_getBlockTransactionCountByNumber: async ([tag], meta) => {
      const r = await this.resolveTag(meta, tag);
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") return { result: null, pin: meta.head as NumberedRef };
      const rec = await this.record(r.hash);
      return rec ? { result: toQuantity(rec.block.transactions.length), pin: r, fixed: isFixedTag(tag) } : FORWARD;
    },
    eth_getBlockTransactionCountByHash: async ([hash]) => {
      const rec = await this.record(hex(hash));
      return rec ? { result: toQuantity(rec.block.transactions.length), pin: refOf(rec.block), fixed: true } : FORWARD;
    },
    // A transaction the replica does not hold may be pending in the core's mempool.
    eth_getTransactionByHash: async ([hash]) => {
      const rec = await this.txRecord(hex(hash));
      return rec ? { result: rec.tx, pin: txBlock(rec), fixed: true } : FORWARD;
    },
    eth_getTransactionByBlockHashAndIndex: ([hash, index]) => this.txAt(hex(hash), index, true),
    eth_getTransactionByBlockNumberAndIndex: async ([tag, index], meta) => {
      const r = await this.resolveTag(meta, tag);
      if (r === FORWARD) return FORWARD;
      return r === "beyond"
        ? { result: null, pin: meta.head as NumberedRef }
        : this.txAt(r.hash, index, isFixedTag(tag));
    },
    eth_getTransactionReceipt: async ([hash], meta) => {
      const rec = await this.txRecord(hex(hash));
      if (rec) return { result: rec.receipt, pin: txBlock(rec), fixed: true };
      // Holding every block from genesis, "not here" means "not mined yet" as of the served head.
      return meta.base === 0 ? { result: null, pin: meta.head as NumberedRef } : FORWARD;
    },
    eth_getBlockReceipts: async ([id], meta) => {
      const r = await this.resolveBlockId(meta, id);
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") return { result: null, pin: meta.head as NumberedRef };
      const rec = await this.record(r.hash);
      if (!rec) return FORWARD;
      const txs = await this.txRecords(rec.block.transactions);
      return txs ? { result: txs.map((t) => t.receipt), pin: r, fixed: isFixedId(id) } : FORWARD;
    },
    eth_getLogs: ([filter], meta) => this.getLogs(filter, meta),
    eth_getBalance: async ([address, id], meta) => {
      const acc = await this.accountAt(meta, hex(address), id);
      return acc === FORWARD ? FORWARD : { result: acc.value.balance, pin: acc.at, fixed: isFixedId(id) };
    },
    eth_getTransactionCount: async ([address, id], meta) => {
      // The pending nonce includes the core's mempool, which the edge does not replicate.
      if (id && "tag" in id && id.tag === "pending") return FORWARD;
      const acc = await this.accountAt(meta, hex(address), id);
      return acc === FORWARD ? FORWARD : { result: acc.value.nonce, pin: acc.at, fixed: isFixedId(id) };
    },
    eth_getCode: async ([address, id], meta) => {
      const acc = await this.accountAt(meta, hex(address), id);
      if (acc === FORWARD) return FORWARD;
      const answer = (result: unknown) => ({ result, pin: acc.at, fixed: isFixedId(id) });
      if (acc.value.codeHash === EMPTY_CODE_HASH) return answer("0x");
      const code = (await this.modules.store.get(replicaKeys.code(acc.value.codeHash))) as Hex | undefined;
      return code ? answer(code) : FORWARD;
    },
    eth_getStorageAt: async ([address, slot, id], meta) => {
      const r = await this.resolveBlockId(meta, id ?? { tag: "latest" });
      if (r === FORWARD) return FORWARD;
      if (r === "beyond") throw headerNotFound();
      const answer = (result: unknown) => ({ result, pin: r, fixed: isFixedId(id) });
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
        return answer(ZERO_WORD);
      }
      if (value !== "absent") return answer(value.value);
      return this.stateComplete(meta) ? answer(ZERO_WORD) : FORWARD;
    },
    // Fees as the core computes them (validator/src/rpc/ethApi.ts), from the replica's head and stored blocks.
    eth_gasPrice: async (_p, meta) => {
      const fees = this.opts.fees;
      const head = meta.head as NumberedRef;
      const rec = fees ? await this.record(head.hash) : undefined;
      if (!fees || !rec) return FORWARD;
      const next = nextBaseFee(fees.params as ChainParams, feeHeader(rec.block as unknown as HeaderFees));
      return { result: toQuantity(next + fees.suggestedTip), pin: head };
    },
    eth_maxPriorityFeePerGas: async () =>
      this.opts.fees ? { result: toQuantity(this.opts.fees.suggestedTip) } : FORWARD,
    eth_feeHistory: ([count, newest, percentiles], meta) => this.feeHistory(count, newest, percentiles, meta),
  };

  // ---- block resolution ----

  /** A tag or number to the canonical block the replica holds for it; "beyond" = above the canonical head. */
  private async resolveTag(meta: ReplicaMeta, tag: BlockTag): Promise<Resolved> {
    const head = meta.head as NumberedRef;
    if (tag === "latest" || tag === "pending") return head;
    if (typeof tag === "bigint" && tag > BigInt(head.number)) return "beyond";
    const number = tagNumber(tag, tipNumbers(meta));
    if (number === undefined) return FORWARD;
    const n = Number(number);
    const expectHash = tag === "safe" || tag === "finalized" ? meta[tag]?.hash : undefined;
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

  private async txAt(blockHash: string, index: bigint, fixed: boolean): Promise<Answer | Forward> {
    const rec = await this.record(blockHash);
    if (!rec) return FORWARD;
    const pin = refOf(rec.block);
    if (index >= BigInt(rec.block.transactions.length)) return { result: null, pin };
    const t = await this.txRecord(rec.block.transactions[Number(index)] as Hex);
    return t ? { result: t.tx, pin, fixed } : FORWARD;
  }

  // ---- logs ----

  private async getLogs(f: FilterRequest, meta: ReplicaMeta): Promise<Answer | Forward> {
    const matcher = new LogMatcher(f);
    const matches = (log: LogJson) => matcher.matches(log.address, log.topics);
    const { store } = this.modules;
    if (f.blockHash) {
      const hash = hex(f.blockHash);
      const rec = await this.record(hash);
      if (!rec) return FORWARD;
      const logs = ((await store.get(replicaKeys.logs(hash))) as LogJson[] | undefined) ?? [];
      return { result: logs.filter(matches), pin: refOf(rec.block), fixed: true };
    }
    const headRef = meta.head as NumberedRef;
    // The core's range rules and errors (shared/src/rpc/chainQueries.ts); an unknown tip is the core's to resolve.
    const range = logRange(f, tipNumbers(meta), BigInt(this.opts.maxLogsBlockRange));
    if (range === undefined) return FORWARD;
    if (range.kind === "empty") return { result: [], pin: headRef };
    const { from, to, fixed } = range;
    if (meta.base === null || from < BigInt(meta.base)) return FORWARD;
    const out: unknown[] = [];
    let pin: NumberedRef = headRef;
    for (let start = Number(from); start <= Number(to); start += LOG_FETCH_CHUNK) {
      const numbers: number[] = [];
      for (let n = start; n <= Math.min(Number(to), start + LOG_FETCH_CHUNK - 1); n++) numbers.push(n);
      const hashes = await store.getMany(numbers.map(replicaKeys.canonical));
      const logKeys: string[] = [];
      for (const n of numbers) {
        const hash = hashes.get(replicaKeys.canonical(n)) as string | undefined;
        if (!hash) return FORWARD;
        if (n === Number(to)) pin = { number: n, hash: hash as Hex };
        logKeys.push(replicaKeys.logs(hash));
      }
      const logs = await store.getMany(logKeys);
      for (const k of logKeys) {
        for (const log of (logs.get(k) as LogJson[] | undefined) ?? []) {
          if (!matches(log)) continue;
          out.push(log);
          if (out.length > this.opts.maxLogsResults) throw rpcErrors.tooManyLogs(this.opts.maxLogsResults);
        }
      }
    }
    return { result: out, pin, fixed };
  }

  // ---- state ----

  private stateComplete(meta: ReplicaMeta): boolean {
    return this.opts.stateFromGenesis && meta.base === 0;
  }

  private async accountAt(
    meta: ReplicaMeta,
    address: Hex,
    id: BlockId | undefined,
  ): Promise<{ value: Account; at: NumberedRef } | Forward> {
    const r = await this.resolveBlockId(meta, id ?? { tag: "latest" });
    if (r === FORWARD) return FORWARD;
    if (r === "beyond") throw headerNotFound();
    const hist = (await this.modules.store.get(replicaKeys.account(address))) as
      | StateHistory<Account | null>
      | undefined;
    const found = lookup(hist, r.number);
    if (found === FORWARD) return FORWARD;
    const empty: Account = { nonce: "0x0", balance: "0x0", codeHash: EMPTY_CODE_HASH };
    if (found === "absent") return this.stateComplete(meta) ? { value: empty, at: r } : FORWARD;
    return { value: found.value ?? empty, at: r };
  }

  // ---- fees ----

  /** eth_feeHistory exactly as the core answers it, or FORWARD when a block of the range is not held. */
  private async feeHistory(
    count: bigint,
    newest: BlockTag,
    percentiles: number[] | undefined,
    meta: ReplicaMeta,
  ): Promise<Answer | Forward> {
    const fees = this.opts.fees;
    if (!fees) return FORWARD;
    // A newest block above the replica's head may exist at the core (or be "header not found" there): ask it.
    const last = count === 0n ? undefined : await this.resolveTag(meta, newest);
    if (last === FORWARD || last === "beyond") return FORWARD;
    const opts = { params: fees.params, maxBlocks: fees.maxFeeHistoryBlocks };
    const result = await feeHistory(count, BigInt(last?.number ?? 0), percentiles, opts, (first, to, withTxs) =>
      this.feeBlocks(Number(first), Number(to), withTxs, meta),
    );
    if (!result) return FORWARD;
    return last ? { result, pin: last, fixed: isFixedTag(newest) } : { result };
  }

  /** The blocks first..last as eth_feeHistory reads them, or FORWARD-worthy undefined when one is not held. */
  private async feeBlocks(
    first: number,
    last: number,
    withTxs: boolean,
    meta: ReplicaMeta,
  ): Promise<FeeHistoryBlock[] | undefined> {
    if (meta.base === null || first < meta.base) return undefined;
    const numbers = range(first, last);
    const hashes = await this.modules.store.getMany(numbers.map(replicaKeys.canonical));
    const blockKeys: string[] = [];
    for (const n of numbers) {
      const hash = hashes.get(replicaKeys.canonical(n)) as string | undefined;
      if (!hash) return undefined;
      blockKeys.push(replicaKeys.block(hash));
    }
    const records = await this.modules.store.getMany(blockKeys);
    const out: FeeHistoryBlock[] = [];
    for (const k of blockKeys) {
      const rec = records.get(k) as BlockRecord | undefined;
      if (!rec) return undefined;
      const block: FeeHistoryBlock = feeHeader(rec.block as unknown as HeaderFees);
      if (withTxs) {
        const txs = await this.txRecords(rec.block.transactions);
        if (!txs) return undefined;
        // Legacy and access-list transactions carry one price: the core decodes it as both the cap and the tip.
        block.txs = txs.map((t) => ({
          maxFeePerGas: BigInt((t.tx.maxFeePerGas ?? t.tx.gasPrice) as Hex),
          maxPriorityFeePerGas: BigInt((t.tx.maxPriorityFeePerGas ?? t.tx.gasPrice) as Hex),
          gasUsed: BigInt(t.receipt.gasUsed as Hex),
        }));
      }
      out.push(block);
    }
    return out;
  }
}

/** The block holding a stored transaction. */
function txBlock(rec: TxRecord): NumberedRef {
  return { number: Number(BigInt(rec.tx.blockNumber as Hex)), hash: rec.tx.blockHash };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
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
