// The edge's replica of the canonical chain, fed by the core's ordered replication bundles (docs/edge.md, "Replica").
// Framework-free: it only needs a ReplicaStore, so the same code runs in a Durable Object and on Node with Redis.
//
// Guarantees, each enforced below:
// - bundles apply strictly in seq order, each bundle's writes in one atomic store batch; a rejected bundle writes
//   nothing;
// - a repeated seq with the same content is a no-op, with different content an error (the replica is unchanged);
// - blocks extend the head (number + 1, parentHash = head hash); a reorg unwinds only blocks above the common
//   ancestor and never a finalized block;
// - safe and finalized only move forward; the served head (eth_blockNumber) never goes backwards.
import { RustChainError } from "@rustchain/shared/errors";
import type { Hex } from "@rustchain/shared/hex";
import {
  type BlockBundle,
  type FinalityBundle,
  parseReplicationBundle,
  type ReorgBundle,
  type ReplicatedAccount,
  type ReplicationFinality,
  replicationBundleHash,
} from "@rustchain/shared/replication";
import type { ReplicaStore, ReplicaStoreOp } from "./store.ts";

export interface ReplicaOptions {
  /** The chain id bundles must carry (quantity hex, e.g. "0x5254"). */
  chainId: Hex;
  /** How many recent seq content hashes are kept to tell duplicates from conflicts. */
  seqWindow: number;
  /** Attempts when another writer committed between our read and our batch (shared Redis). */
  maxCommitAttempts: number;
}

export const defaultReplicaOptions: Omit<ReplicaOptions, "chainId"> = { seqWindow: 100_000, maxCommitAttempts: 5 };

export type ReplicaErrorType =
  | { code: "REPLICA_WRONG_CHAIN"; expected: string; got: string }
  | { code: "REPLICA_SEQ_CONFLICT"; seq: number }
  | { code: "REPLICA_PARENT_MISMATCH"; number: number; reason: string }
  | { code: "REPLICA_REORG_MISMATCH"; reason: string }
  | { code: "REPLICA_REORG_BELOW_FINALIZED"; ancestor: number; finalized: number }
  | { code: "REPLICA_FINALITY_CONFLICT"; reason: string }
  | { code: "REPLICA_BACKFILL_REJECTED"; reason: string }
  | { code: "REPLICA_STORE_CONFLICT"; attempts: number };

/** A bundle the replica refused; nothing was written. Malformed bundles throw shared's ReplicationError instead. */
export class ReplicaError extends RustChainError<ReplicaErrorType> {}

export type ApplyResult =
  /** Applied; `ackSeq` is the bundle's seq. */
  | { status: "applied"; ackSeq: number }
  /** Same seq and content as an applied bundle: nothing to do. */
  | { status: "duplicate"; ackSeq: number }
  /** A seq older than the kept window: cannot be compared, not applied. */
  | { status: "stale"; ackSeq: number }
  /** Bundles `missing.from..missing.to` (inclusive) must be applied first; nothing was written. */
  | { status: "gap"; ackSeq: number; missing: { from: number; to: number } }
  /** A seq-0 repair bundle filled a block below the replica's first block. */
  | { status: "backfilled"; ackSeq: number };

export interface NumberedRef {
  number: number;
  hash: Hex;
}

/** Everything the replica needs to decide the next bundle, stored under one key and used as the batch guard. */
export interface ReplicaMeta {
  chainId: Hex;
  lastSeq: number;
  /** Lowest block held; every canonical block from base to head is held. */
  base: number | null;
  head: NumberedRef | null;
  /** max(head) over time: what eth_blockNumber answers. */
  servedHead: number | null;
  safe: NumberedRef | null;
  finalized: NumberedRef | null;
  /** State histories have been pruned against finality for every block up to here. */
  prunedThrough: number | null;
}

/** A stored block: the eth_getBlockByNumber(n, true) object with transactions replaced by their hashes. */
export interface BlockRecord {
  block: Record<string, unknown> & { number: Hex; hash: Hex; parentHash: Hex; transactions: Hex[] };
  /** State keys the block changed: what a reorg must roll back and finality must prune. */
  touched: { accounts: Hex[]; slots: [Hex, Hex][] };
}

export interface TxRecord {
  tx: Record<string, unknown> & { hash: Hex; blockHash: Hex };
  receipt: Record<string, unknown>;
}

/**
 * Values of one state key (account or storage slot) at the blocks that changed it, ascending. Reads at block numbers
 * below `from` cannot be answered (older entries were pruned); `from` is -1 while nothing was pruned.
 */
export interface StateHistory<V> {
  from: number;
  entries: [number, V][];
}

export const replicaKeys = {
  meta: "meta",
  seq: (seq: number) => `seq:${seq}`,
  canonical: (n: number) => `bn:${n}`,
  block: (hash: string) => `bh:${hash}`,
  tx: (hash: string) => `tx:${hash}`,
  logs: (blockHash: string) => `lg:${blockHash}`,
  account: (address: string) => `ac:${address}`,
  slot: (address: string, slot: string) => `st:${address}:${slot}`,
  code: (codeHash: string) => `cd:${codeHash}`,
};

const emptyMeta = (chainId: Hex): ReplicaMeta => ({
  chainId,
  lastSeq: 0,
  base: null,
  head: null,
  servedHead: null,
  safe: null,
  finalized: null,
  prunedThrough: null,
});

/** A block number from a validated quantity; the parser bounds them to 256 bits, the replica to safe integers. */
function blockNumber(q: Hex): number {
  const n = BigInt(q);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ReplicaError({ code: "REPLICA_PARENT_MISMATCH", number: -1, reason: "block number out of range" });
  }
  return Number(n);
}

/** Reads through the writes staged so far, so one bundle's steps see each other before the single commit. */
class StagedWrites {
  private readonly writes = new Map<string, { value: unknown } | null>();
  constructor(private readonly store: ReplicaStore) {}

  async get<T>(key: string): Promise<T | undefined> {
    const w = this.writes.get(key);
    if (w !== undefined) return (w?.value as T | undefined) ?? undefined;
    return (await this.store.get(key)) as T | undefined;
  }

  async getMany<T>(keys: readonly string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const missing: string[] = [];
    for (const k of keys) {
      const w = this.writes.get(k);
      if (w === undefined) missing.push(k);
      else if (w) out.set(k, w.value as T);
    }
    if (missing.length) for (const [k, v] of await this.store.getMany(missing)) out.set(k, v as T);
    return out;
  }

  put(key: string, value: unknown): void {
    this.writes.set(key, { value });
  }

  delete(key: string): void {
    this.writes.set(key, null);
  }

  ops(): ReplicaStoreOp[] {
    return [...this.writes].map(([key, w]) => (w ? { op: "put", key, value: w.value } : { op: "delete", key }));
  }
}

export interface ReplicaModules {
  store: ReplicaStore;
}

export class Replica {
  /** Serialises apply() within this instance; the store guard handles other writers. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly opts: ReplicaOptions,
    private readonly modules: ReplicaModules,
  ) {}

  /** The replica's current position (empty replica: lastSeq 0, no head). */
  async meta(): Promise<ReplicaMeta> {
    return (
      ((await this.modules.store.get(replicaKeys.meta)) as ReplicaMeta | undefined) ?? emptyMeta(this.opts.chainId)
    );
  }

  /** The hash of the canonical block the replica holds at `number`, if any. */
  async canonicalHash(number: number): Promise<Hex | undefined> {
    return (await this.modules.store.get(replicaKeys.canonical(number))) as Hex | undefined;
  }

  /**
   * Validate and apply one bundle (a JSON string or parsed value). Throws ReplicationError for malformed input and
   * ReplicaError for a bundle that does not fit the replica; in both cases nothing was written.
   */
  apply(input: unknown): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyOnce(input));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyOnce(input: unknown): Promise<ApplyResult> {
    const bundle = parseReplicationBundle(input);
    if (bundle.chainId !== this.opts.chainId) {
      throw new ReplicaError({ code: "REPLICA_WRONG_CHAIN", expected: this.opts.chainId, got: bundle.chainId });
    }
    const { store } = this.modules;
    const contentHash = await replicationBundleHash(bundle);
    for (let attempt = 0; attempt < this.opts.maxCommitAttempts; attempt++) {
      const stored = (await store.get(replicaKeys.meta)) as ReplicaMeta | undefined;
      const meta = stored ?? emptyMeta(this.opts.chainId);
      const next = JSON.parse(JSON.stringify(meta)) as ReplicaMeta;
      const st = new StagedWrites(store);
      let result: ApplyResult;

      if (bundle.seq === 0) {
        if (bundle.kind !== "block") {
          throw new ReplicaError({ code: "REPLICA_BACKFILL_REJECTED", reason: "seq 0 carries only block bundles" });
        }
        const done = await this.backfill(st, next, bundle);
        if (done === "duplicate") return { status: "duplicate", ackSeq: meta.lastSeq };
        result = { status: "backfilled", ackSeq: meta.lastSeq };
      } else if (bundle.seq <= meta.lastSeq) {
        const seen = (await store.get(replicaKeys.seq(bundle.seq))) as string | undefined;
        if (seen === undefined) return { status: "stale", ackSeq: meta.lastSeq };
        if (seen === contentHash) return { status: "duplicate", ackSeq: meta.lastSeq };
        throw new ReplicaError({ code: "REPLICA_SEQ_CONFLICT", seq: bundle.seq });
      } else if (bundle.seq > meta.lastSeq + 1) {
        return { status: "gap", ackSeq: meta.lastSeq, missing: { from: meta.lastSeq + 1, to: bundle.seq - 1 } };
      } else {
        if (bundle.kind === "block") await this.applyBlock(st, next, bundle);
        else if (bundle.kind === "reorg") await this.applyReorg(st, next, bundle);
        else await this.applyFinality(st, next, (bundle as FinalityBundle).finality);
        next.lastSeq = bundle.seq;
        st.put(replicaKeys.seq(bundle.seq), contentHash);
        if (bundle.seq > this.opts.seqWindow) st.delete(replicaKeys.seq(bundle.seq - this.opts.seqWindow));
        result = { status: "applied", ackSeq: bundle.seq };
      }

      st.put(replicaKeys.meta, next);
      if (await store.batch(st.ops(), { key: replicaKeys.meta, equals: stored })) return result;
    }
    throw new ReplicaError({ code: "REPLICA_STORE_CONFLICT", attempts: this.opts.maxCommitAttempts });
  }

  // ---- block ----

  private async applyBlock(st: StagedWrites, meta: ReplicaMeta, b: BlockBundle): Promise<void> {
    const n = blockNumber(b.block.number);
    const hash = b.block.hash;
    // A block extends the head: anything else means the feed and the replica disagree about the chain.
    if (meta.head) {
      if (n !== meta.head.number + 1) {
        throw new ReplicaError({
          code: "REPLICA_PARENT_MISMATCH",
          number: n,
          reason: `expected block ${meta.head.number + 1}`,
        });
      }
      if (b.block.parentHash !== meta.head.hash) {
        throw new ReplicaError({ code: "REPLICA_PARENT_MISMATCH", number: n, reason: "parentHash is not the head" });
      }
    }
    // Finality announced ahead of the head pins the hash that block must have.
    if (meta.finalized && meta.finalized.number === n && meta.finalized.hash !== hash) {
      throw new ReplicaError({ code: "REPLICA_FINALITY_CONFLICT", reason: `block ${n} is not the finalized block` });
    }
    this.writeBlock(st, b, n);

    const diff = b.stateDiff;
    const accountKeys = Object.keys(diff.accounts).map(replicaKeys.account);
    const slotKeys: string[] = [];
    for (const [addr, slots] of Object.entries(diff.storage)) {
      for (const slot of Object.keys(slots)) slotKeys.push(replicaKeys.slot(addr, slot));
    }
    const histories = await st.getMany<StateHistory<unknown>>([...accountKeys, ...slotKeys]);
    const record = (key: string, value: unknown) => {
      const h = histories.get(key) ?? { from: -1, entries: [] };
      while (h.entries.length && (h.entries[h.entries.length - 1] as [number, unknown])[0] >= n) h.entries.pop();
      h.entries.push([n, value]);
      st.put(key, h);
    };
    for (const [addr, account] of Object.entries(diff.accounts) as [Hex, ReplicatedAccount | null][]) {
      if (account?.code !== undefined) st.put(replicaKeys.code(account.codeHash), account.code);
      // The code travels once, with the account that introduced it; history entries keep only the hash.
      const value = account ? { nonce: account.nonce, balance: account.balance, codeHash: account.codeHash } : null;
      record(replicaKeys.account(addr), value);
    }
    for (const [addr, slots] of Object.entries(diff.storage)) {
      for (const [slot, value] of Object.entries(slots)) record(replicaKeys.slot(addr, slot), value);
    }

    meta.head = { number: n, hash };
    meta.base ??= n;
    meta.servedHead = Math.max(meta.servedHead ?? n, n);
    await this.applyFinality(st, meta, b.finality);
  }

  /** Block, canonical index, transactions, receipts and logs of one block (no state). */
  private writeBlock(st: StagedWrites, b: BlockBundle, n: number): void {
    const hash = b.block.hash;
    const txs = b.block.transactions as TxRecord["tx"][];
    const touched: BlockRecord["touched"] = { accounts: Object.keys(b.stateDiff.accounts) as Hex[], slots: [] };
    for (const [addr, slots] of Object.entries(b.stateDiff.storage)) {
      for (const slot of Object.keys(slots)) touched.slots.push([addr as Hex, slot as Hex]);
    }
    // Spread keeps the core's key order, so re-serialising answers byte for byte what the core answers.
    const block = { ...b.block, transactions: txs.map((t) => t.hash) };
    st.put(replicaKeys.block(hash), { block, touched } satisfies BlockRecord);
    st.put(replicaKeys.canonical(n), hash);
    txs.forEach((tx, i) => {
      st.put(replicaKeys.tx(tx.hash), { tx, receipt: b.receipts[i] as Record<string, unknown> } satisfies TxRecord);
    });
    const logs = b.receipts.flatMap((r) => r.logs as unknown[]);
    if (logs.length) st.put(replicaKeys.logs(hash), logs);
  }

  /** A seq-0 repair bundle: the block just below the replica's first block (no state; ackSeq unchanged). */
  private async backfill(st: StagedWrites, meta: ReplicaMeta, b: BlockBundle): Promise<"duplicate" | "applied"> {
    const n = blockNumber(b.block.number);
    const reject = (reason: string) => new ReplicaError({ code: "REPLICA_BACKFILL_REJECTED", reason });
    if (meta.base === null) throw reject("the replica holds no block yet");
    if (n >= meta.base) {
      const held = await st.get<string>(replicaKeys.canonical(n));
      if (held === b.block.hash) return "duplicate";
      throw reject(`block ${n} is held with another hash`);
    }
    if (n !== meta.base - 1) throw reject(`only block ${meta.base - 1} can be filled next`);
    const baseHash = await st.get<string>(replicaKeys.canonical(meta.base));
    const baseRecord = baseHash ? await st.get<BlockRecord>(replicaKeys.block(baseHash)) : undefined;
    if (!baseRecord || baseRecord.block.parentHash !== b.block.hash) throw reject("not the parent of the first block");
    this.writeBlock(st, b, n);
    meta.base = n;
    return "applied";
  }

  // ---- reorg ----

  private async applyReorg(st: StagedWrites, meta: ReplicaMeta, r: ReorgBundle): Promise<void> {
    const mismatch = (reason: string) => new ReplicaError({ code: "REPLICA_REORG_MISMATCH", reason });
    if (!meta.head || meta.base === null) throw mismatch("the replica holds no block");
    const from = blockNumber(r.from.number);
    if (from !== meta.head.number || r.from.hash !== meta.head.hash) throw mismatch("`from` is not the replica's head");
    const ancestor = from - r.depth;
    // Finalized blocks never change: unwinding stops above the ancestor, which must be at or above finality.
    if (meta.finalized && ancestor < meta.finalized.number) {
      throw new ReplicaError({
        code: "REPLICA_REORG_BELOW_FINALIZED",
        ancestor,
        finalized: meta.finalized.number,
      });
    }
    if (ancestor < meta.base) throw mismatch("the common ancestor is below the replica's first block");
    const ancestorHash = await st.get<Hex>(replicaKeys.canonical(ancestor));
    if (!ancestorHash) throw mismatch("common ancestor not held");
    const to = blockNumber(r.to.number);
    if (to < ancestor) throw mismatch("`to` is below the common ancestor");
    if (to === ancestor && r.to.hash !== ancestorHash) throw mismatch("`to` is not the common ancestor");

    const hashes = await st.getMany<Hex>(range(ancestor + 1, from).map(replicaKeys.canonical));
    const records = await st.getMany<BlockRecord>([...hashes.values()].map(replicaKeys.block));
    const stateKeys = new Set<string>();
    for (let k = ancestor + 1; k <= from; k++) {
      const hash = hashes.get(replicaKeys.canonical(k));
      if (!hash) throw mismatch(`block ${k} not held`);
      const rec = records.get(replicaKeys.block(hash));
      st.delete(replicaKeys.canonical(k));
      st.delete(replicaKeys.block(hash));
      st.delete(replicaKeys.logs(hash));
      if (!rec) continue;
      for (const tx of rec.block.transactions) st.delete(replicaKeys.tx(tx));
      for (const a of rec.touched.accounts) stateKeys.add(replicaKeys.account(a));
      for (const [a, s] of rec.touched.slots) stateKeys.add(replicaKeys.slot(a, s));
    }
    // Roll state back to the ancestor: drop every history entry written by the unwound blocks.
    const histories = await st.getMany<StateHistory<unknown>>([...stateKeys]);
    for (const [key, h] of histories) {
      h.entries = h.entries.filter(([n]) => n <= ancestor);
      if (h.entries.length === 0 && h.from === -1) st.delete(key);
      else st.put(key, h);
    }
    meta.head = { number: ancestor, hash: ancestorHash };
    if (meta.prunedThrough !== null && meta.prunedThrough > ancestor) meta.prunedThrough = ancestor;
    // servedHead, safe and finalized stay: they never move backwards (reads check safe's hash is still canonical).
  }

  // ---- finality ----

  private async applyFinality(st: StagedWrites, meta: ReplicaMeta, f: ReplicationFinality): Promise<void> {
    const safe = { number: blockNumber(f.safe.number), hash: f.safe.hash };
    const finalized = { number: blockNumber(f.finalized.number), hash: f.finalized.hash };
    if (!meta.safe || safe.number >= meta.safe.number) meta.safe = safe;
    if (meta.finalized && finalized.number === meta.finalized.number && finalized.hash !== meta.finalized.hash) {
      throw new ReplicaError({ code: "REPLICA_FINALITY_CONFLICT", reason: "finalized block changed its hash" });
    }
    if (!meta.finalized || finalized.number > meta.finalized.number) {
      if (meta.head && meta.base !== null && finalized.number >= meta.base && finalized.number <= meta.head.number) {
        const held = await st.get<Hex>(replicaKeys.canonical(finalized.number));
        if (held !== finalized.hash) {
          throw new ReplicaError({
            code: "REPLICA_FINALITY_CONFLICT",
            reason: `finalized block ${finalized.number} is not canonical here`,
          });
        }
      }
      meta.finalized = finalized;
    }
    await this.pruneHistories(st, meta);
  }

  /**
   * Drop state history older than the finalized block, keeping for each key its value at the finalized block. Only
   * keys touched by blocks newly at or below finality can have something to drop, so only those are visited.
   */
  private async pruneHistories(st: StagedWrites, meta: ReplicaMeta): Promise<void> {
    if (!meta.finalized || !meta.head || meta.base === null) return;
    const target = Math.min(meta.finalized.number, meta.head.number);
    const start = Math.max((meta.prunedThrough ?? -1) + 1, meta.base);
    if (target < start) return;
    const hashes = await st.getMany<Hex>(range(start, target).map(replicaKeys.canonical));
    const records = await st.getMany<BlockRecord>([...hashes.values()].map(replicaKeys.block));
    const keys = new Set<string>();
    for (const rec of records.values()) {
      for (const a of rec.touched.accounts) keys.add(replicaKeys.account(a));
      for (const [a, s] of rec.touched.slots) keys.add(replicaKeys.slot(a, s));
    }
    const fin = meta.finalized.number;
    for (const [key, h] of await st.getMany<StateHistory<unknown>>([...keys])) {
      let keep = -1;
      for (let i = 0; i < h.entries.length; i++) if ((h.entries[i] as [number, unknown])[0] <= fin) keep = i;
      if (keep > 0) {
        h.entries = h.entries.slice(keep);
        h.from = (h.entries[0] as [number, unknown])[0];
        st.put(key, h);
      }
    }
    meta.prunedThrough = target;
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
}

export function createReplica(opts: ReplicaOptions, modules: ReplicaModules): Replica {
  return new Replica(opts, modules);
}
