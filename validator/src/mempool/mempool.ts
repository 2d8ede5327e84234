// Transaction pool: validates against the head state, keeps each sender's transactions in nonce order, orders senders
// by effective tip for block building, replaces only with a >= 10% fee bump, and caps per-sender and total size,
// evicting the cheapest. Error strings are geth's, which wallets and libraries recognise.
import { EventEmitter } from "node:events";
import { effectiveGasPrice, intrinsicGas, MAX_TX_SIZE, type SignedTransaction, TxError } from "@rustchain/shared";
import type { Account } from "../state/account.ts";

export interface MempoolOptions {
  /** Most transactions held in total. */
  maxSize: number;
  /** Most transactions held per sender. */
  maxPerSender: number;
  /** Replacement must raise both fee cap and tip by at least this percentage. */
  priceBumpPercent: bigint;
  /** Minimum tip (wei) accepted into the pool. */
  minTip: bigint;
  /**
   * Load shedding: the pool is busy (JSON-RPC refuses new transactions with "txpool is busy", gossip batches are
   * ignored) while it holds more than this many blocks' worth of what recent blocks carried...
   */
  busyBacklogBlocks: number;
  /** ... and more than this many transactions. */
  minBusyBacklog: number;
}

export const defaultMempoolOptions: MempoolOptions = {
  maxSize: 200_000,
  maxPerSender: 1_024,
  priceBumpPercent: 10n,
  minTip: 0n,
  busyBacklogBlocks: 8,
  minBusyBacklog: 16_384,
};

/**
 * The busy backlog follows the largest recent block, forgotten at 5% a block: blocks that were small only because the
 * pool was near empty do not make a burst look like overload.
 */
const PER_BLOCK_DECAY = 0.95;

export interface MempoolHead {
  chainId: bigint;
  /** Base fee of the next block. */
  baseFeePerGas: bigint;
  gasLimit: bigint;
  getAccount(address: Uint8Array): Promise<Account>;
}

interface SenderQueue {
  /** nonce → tx */
  txs: Map<bigint, SignedTransaction>;
  /** The sender's account nonce when last read (by add and after blocks): where its executable run starts. */
  accountNonce: bigint;
  /** Sum of the worst-case costs (gasLimit × maxFeePerGas + value) of `txs`. */
  cost: bigint;
  /** Lowest and highest pooled nonce; undefined after a removal until the next add needs them. */
  bounds: { min: bigint; max: bigint } | undefined;
}

const worstCost = (stx: SignedTransaction) => stx.tx.gasLimit * stx.tx.maxFeePerGas + stx.tx.value;

function nonceBounds(q: SenderQueue): { min: bigint; max: bigint } {
  if (q.bounds) return q.bounds;
  let min = -1n;
  let max = -1n;
  for (const n of q.txs.keys()) {
    if (min < 0n || n < min) min = n;
    if (n > max) max = n;
  }
  q.bounds = { min, max };
  return q.bounds;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

export class Mempool extends EventEmitter<{ added: [SignedTransaction] }> {
  private readonly byHash = new Map<string, SignedTransaction>();
  private readonly bySender = new Map<string, SenderQueue>();
  /** The most transactions a recent block carried (decaying, PER_BLOCK_DECAY). */
  private perBlock = 0;

  constructor(
    private readonly opts: MempoolOptions,
    private readonly modules: {
      head: () => MempoolHead;
      /** Rejects creation data that could never deploy (bad artefact or module), with a clear message. */
      checkCreation?: (data: Uint8Array) => void;
    },
  ) {
    super();
  }

  get size(): number {
    return this.byHash.size;
  }

  /**
   * Load shedding: why the pool takes no new transactions now, or undefined when it does. A node offered more than
   * the chain carries would otherwise take everything, and recovering, gossiping and pooling transactions nobody can
   * include in time starves block production and the votes (on a loaded machine, finality stops). The pool is busy
   * while its executable transactions (each sender's run of nonces from its account nonce) are more than
   * `busyBacklogBlocks` of the largest recent block (decaying), and at least `minBusyBacklog`. Transactions waiting
   * behind a nonce gap do not count: nobody can make the pool refuse everyone by parking transactions no block will
   * take. Refusing early costs a client a retry; the reason says how far behind the pool is.
   */
  busy(): string | undefined {
    const limit = Math.max(this.opts.minBusyBacklog, Math.ceil(this.opts.busyBacklogBlocks * this.perBlock));
    // Counting is a walk over the pool: only when the pool as a whole is that large.
    if (this.byHash.size < limit) return undefined;
    let executable = 0;
    for (const q of this.bySender.values()) for (let n = q.accountNonce; q.txs.has(n); n++) executable++;
    return executable >= limit ? `${executable} executable transactions pending (limit ${limit})` : undefined;
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(hex(hash));
  }

  get(hash: Uint8Array): SignedTransaction | undefined {
    return this.byHash.get(hex(hash));
  }

  /** Next nonce for `address` counting pooled transactions (eth_getTransactionCount "pending"). */
  async pendingNonce(address: Uint8Array): Promise<bigint> {
    let nonce = (await this.modules.head().getAccount(address)).nonce;
    const q = this.bySender.get(hex(address));
    while (q?.txs.has(nonce)) nonce++;
    return nonce;
  }

  /** Validate and add; throws TxError with geth's message on rejection. Returns the hash. */
  async add(stx: SignedTransaction): Promise<Uint8Array> {
    const head = this.modules.head();
    const { tx } = stx;
    const key = hex(stx.hash);
    if (this.byHash.has(key)) throw new TxError({ code: "TX_ALREADY_KNOWN" });
    if (stx.raw.length > MAX_TX_SIZE)
      throw new TxError({ code: "TX_OVERSIZED", size: stx.raw.length, limit: MAX_TX_SIZE });
    if (tx.chainId !== head.chainId)
      throw new TxError({ code: "TX_WRONG_CHAIN_ID", expected: head.chainId, got: tx.chainId });
    if (tx.to === null && this.modules.checkCreation) {
      try {
        this.modules.checkCreation(tx.data);
      } catch (e) {
        const message = (e as Error).message;
        const reason = message.startsWith("invalid contract") ? message : `invalid contract: ${message}`;
        throw new TxError({ code: "TX_INVALID_CONTRACT", reason });
      }
    }
    if (tx.gasLimit > head.gasLimit)
      throw new TxError({ code: "TX_GAS_LIMIT_EXCEEDS_BLOCK", have: tx.gasLimit, limit: head.gasLimit });
    if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) throw new TxError({ code: "TX_TIP_ABOVE_FEE_CAP" });
    const intrinsic = intrinsicGas(tx);
    if (tx.gasLimit < intrinsic)
      throw new TxError({ code: "TX_INTRINSIC_GAS_TOO_LOW", have: tx.gasLimit, want: intrinsic });
    if (tx.maxPriorityFeePerGas < this.opts.minTip)
      throw new TxError({ code: "TX_UNDERPRICED", minTip: this.opts.minTip });
    if (tx.maxFeePerGas < head.baseFeePerGas) {
      throw new TxError({ code: "TX_FEE_CAP_TOO_LOW", maxFeePerGas: tx.maxFeePerGas, baseFee: head.baseFeePerGas });
    }
    if (tx.nonce >= 2n ** 64n - 1n) throw new TxError({ code: "TX_NONCE_MAX" });

    const account = await head.getAccount(stx.from);
    if (tx.nonce < account.nonce)
      throw new TxError({ code: "TX_NONCE_TOO_LOW", expected: account.nonce, got: tx.nonce });
    const senderKey = hex(stx.from);
    const queue: SenderQueue = this.bySender.get(senderKey) ?? {
      txs: new Map(),
      accountNonce: account.nonce,
      cost: 0n,
      bounds: undefined,
    };
    queue.accountNonce = account.nonce;
    const existing = queue.txs.get(tx.nonce);
    if (existing) {
      const bump = (v: bigint) => v + (v * this.opts.priceBumpPercent) / 100n;
      if (
        tx.maxFeePerGas < bump(existing.tx.maxFeePerGas) ||
        tx.maxPriorityFeePerGas < bump(existing.tx.maxPriorityFeePerGas)
      ) {
        throw new TxError({ code: "TX_REPLACEMENT_UNDERPRICED" });
      }
    } else if (queue.txs.size >= this.opts.maxPerSender) {
      throw new TxError({ code: "TX_SENDER_LIMIT" });
    }
    // The sender must afford this transaction on top of the ones it has pooled with lower nonces. The common case,
    // a transaction appended after all of the sender's pooled ones, none stale, costs O(1) instead of a scan.
    let committed = 0n;
    const bounds = queue.txs.size > 0 ? nonceBounds(queue) : undefined;
    if (!bounds) committed = 0n;
    else if (!existing && bounds.min >= account.nonce && tx.nonce > bounds.max) committed = queue.cost;
    else {
      for (const [n, other] of queue.txs) if (n < tx.nonce && n >= account.nonce) committed += worstCost(other);
    }
    const cost = worstCost(stx);
    if (account.balance < committed + cost) {
      throw new TxError({ code: "TX_INSUFFICIENT_FUNDS", have: account.balance - committed, want: cost });
    }
    if (!existing && this.byHash.size >= this.opts.maxSize) this.evictFor(stx, head.baseFeePerGas);

    if (existing) {
      this.byHash.delete(hex(existing.hash));
      queue.cost -= worstCost(existing);
    } else if (queue.bounds) {
      if (tx.nonce < queue.bounds.min) queue.bounds.min = tx.nonce;
      if (tx.nonce > queue.bounds.max) queue.bounds.max = tx.nonce;
    } else if (queue.txs.size === 0) queue.bounds = { min: tx.nonce, max: tx.nonce };
    queue.cost += cost;
    queue.txs.set(tx.nonce, stx);
    this.bySender.set(senderKey, queue);
    this.byHash.set(key, stx);
    this.emit("added", stx);
    return stx.hash;
  }

  /** Make room for `stx` by dropping the highest-nonce transaction of the cheapest sender, or refuse it. */
  private evictFor(stx: SignedTransaction, baseFee: bigint): void {
    const incoming = effectiveGasPrice(stx.tx, baseFee);
    let victim: SignedTransaction | undefined;
    let victimPrice = incoming;
    for (const q of this.bySender.values()) {
      if (q.txs.size === 0) continue;
      const last = q.txs.get(nonceBounds(q).max) as SignedTransaction;
      const price = effectiveGasPrice(last.tx, baseFee);
      if (price < victimPrice) {
        victim = last;
        victimPrice = price;
      }
    }
    if (!victim) throw new TxError({ code: "TX_POOL_FULL" });
    this.removeTx(victim);
  }

  private removeTx(stx: SignedTransaction): void {
    this.byHash.delete(hex(stx.hash));
    const k = hex(stx.from);
    const q = this.bySender.get(k);
    if (!q) return;
    if (!q.txs.delete(stx.tx.nonce)) return;
    q.cost -= worstCost(stx);
    q.bounds = undefined;
    if (q.txs.size === 0) this.bySender.delete(k);
  }

  /**
   * Candidates for the next block: per sender the contiguous nonce run from the account nonce, interleaved across
   * senders by effective tip (highest first), within `gasLimit`.
   */
  async selectForBlock(
    baseFee: bigint,
    gasLimit: bigint,
    getNonce: (a: Uint8Array) => Promise<bigint>,
  ): Promise<SignedTransaction[]> {
    const runs: SignedTransaction[][] = [];
    for (const q of this.bySender.values()) {
      const first = q.txs.values().next().value as SignedTransaction;
      let nonce = await getNonce(first.from);
      const run: SignedTransaction[] = [];
      for (let t = q.txs.get(nonce); t; t = q.txs.get(++nonce)) {
        if (t.tx.maxFeePerGas < baseFee) break;
        run.push(t);
      }
      if (run.length) runs.push(run);
    }
    // Merge runs greedily by the tip of each run's next transaction, with a binary max-heap over runs.
    const tip = (i: number) => effectiveGasPrice(runs[i]![heads[i]!]!.tx, baseFee);
    const heads = runs.map(() => 0);
    const heap: number[] = [];
    const better = (a: number, b: number) => tip(heap[a]!) > tip(heap[b]!);
    const swap = (a: number, b: number) => {
      const t = heap[a]!;
      heap[a] = heap[b]!;
      heap[b] = t;
    };
    const up = (i: number) => {
      while (i > 0 && better(i, (i - 1) >> 1)) {
        swap(i, (i - 1) >> 1);
        i = (i - 1) >> 1;
      }
    };
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && better(l, m)) m = l;
        if (r < heap.length && better(r, m)) m = r;
        if (m === i) return;
        swap(i, m);
        i = m;
      }
    };
    const pop = () => {
      const last = heap.pop()!;
      if (heap.length) {
        heap[0] = last;
        down(0);
      }
    };
    for (let i = 0; i < runs.length; i++) {
      heap.push(i);
      up(heap.length - 1);
    }
    const out: SignedTransaction[] = [];
    let gas = 0n;
    while (heap.length) {
      const i = heap[0]!;
      const t = runs[i]![heads[i]!]!;
      if (gas + t.tx.gasLimit > gasLimit) {
        pop();
        continue;
      }
      gas += t.tx.gasLimit;
      out.push(t);
      heads[i]!++;
      if (heads[i] === runs[i]!.length) pop();
      else down(0);
    }
    return out;
  }

  /** After a block: drop included transactions and any whose nonce is now below the sender's account nonce. */
  async onBlock(included: SignedTransaction[], getNonce: (a: Uint8Array) => Promise<bigint>): Promise<void> {
    this.perBlock = Math.max(included.length, this.perBlock * PER_BLOCK_DECAY);
    const senders = new Set<string>();
    for (const stx of included) {
      const pooled = this.byHash.get(hex(stx.hash));
      if (pooled) this.removeTx(pooled);
      senders.add(hex(stx.from));
    }
    for (const k of senders) {
      const q = this.bySender.get(k);
      if (!q) continue;
      const first = q.txs.values().next().value as SignedTransaction | undefined;
      if (!first) continue;
      const nonce = await getNonce(first.from);
      q.accountNonce = nonce;
      for (const t of [...q.txs.values()]) if (t.tx.nonce < nonce) this.removeTx(t);
    }
  }

  /** Pending transactions (for eth_getBlockByNumber("pending") style queries and debugging). */
  all(): SignedTransaction[] {
    return [...this.byHash.values()];
  }
}
