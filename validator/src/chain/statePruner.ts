// State pruning for full nodes (docs/node.md, "State pruning"): an incremental mark-and-sweep over the trie nodes,
// in the background, that deletes every node no kept state can reach, and the flat diffs of blocks below the kept
// window.
//
// What is kept (the roots R of a run): the state of every canonical block from `finalized - history` to the
// finalized block, of every stored block above the finalized one (the head and every fork that can still win), and
// of every pinned root (a snapshot export reading it). `finalized` is the finalized checkpoint on disk, never one only
// held in memory: on restart consensus replays (and reads the state of) every block above that one.
//
// A run:
//   1. T0: start recording every trie node written from now on (a Database write observer fills a Bloom filter when
//      a write is *called*, before it reaches RocksDB), wait until the writes called before T0 are applied (so the
//      roots read next include every block they stored), then raise the floor (meta "state-floor") to the new
//      horizon `finalized - history`; reads below it answer STATE_PRUNED from now on.
//   2. Mark: walk the tries of R (storage tries through the account leaves) into an exact in-memory set, reading
//      `chunkNodes` nodes per database call and yielding to the event loop between calls. A node already marked is
//      not walked again, so the cost is the live state plus what the kept blocks changed, not |R| times the state.
//   3. Sweep: scan the node keys in order, `chunkNodes` at a time; a key neither marked nor in the filter is deleted.
//      Each delete batch is built and written with Database.writeOrdered: it is decided after every write called
//      before it (those are in the filter) and applied before every write called after it (those put their nodes
//      back after the delete, if they hold them).
//   4. Delete the flat diffs of blocks below the horizon (unless the replication feed still needs them) and of
//      non-canonical blocks at or below the finalized one (dead forks: no reorg can reach them).
//
// Safety: a node is deleted only if it is unreachable from every root in R and was not written since T0. Any state
// the node can need after T0 is in R (read once the writes called before T0 are applied), or is that of a block
// imported after T0, whose nodes are either written after T0 (in the filter) or reached unchanged from its parent's
// state, which by the same argument is in R or imported after T0 (consensus imports only descendants of the finalized
// block, whose states are all in R). Content addressing needs no special case: a node an old block replaced and a new
// block recreates (A → B → A) is written again, so it is in the filter, and a node shared by several versions or
// storage tries is kept while one of them reaches it. Crash safety: every write is one atomic RocksDB batch, and the
// floor is raised before the first delete; the filter and the mark set live in memory only, and a run cut short
// (kill -9, stop) leaves deletions that were each safe on their own. The next start runs again from a new T0, so
// nothing reachable is lost and nothing is left half-written.
import { bytesToHex, StateError } from "@rustchain/shared";
import type { Logger } from "pino";
import { Bucket, type Database, u64Key, WriteBatch } from "../db/database.ts";
import { EMPTY_TRIE_ROOT } from "../state/account.ts";
import { NodeHashSet } from "../state/nodeHashSet.ts";
import { firstAvailableBlock, type StateRetention, statePruned } from "../state/stateRetention.ts";
import { collectNodeRefs, type NodeRefs } from "../state/trieNodeRefs.ts";
import { WrittenNodeFilter } from "../state/writtenNodeFilter.ts";
import type { Chain } from "./chain.ts";
import { META_STATE_FLOOR } from "./chainMeta.ts";
import { PruneError } from "./errors.ts";

export interface StatePrunerOptions {
  /** Keep every state, prune nothing (`--archive`). */
  archive: boolean;
  /** Finalized blocks whose state is kept below the finalized one (`--state-history`). */
  history: number;
  /** How often the finalized block is read to decide whether to run, in ms. */
  pollMs: number;
  /**
   * A run starts when the kept window has moved and the trie nodes written since the last run reach this fraction
   * of the nodes it found live (and `minWrittenNodes`): each run reads the live state once, so runs are spaced by
   * the garbage they can collect, and the database stays within about (1 + ratio) times the live state.
   */
  garbageRatio: number;
  minWrittenNodes: number;
  /**
   * Most of the time runs may take on average: after a run of d seconds the next starts no sooner than
   * d × (1 / dutyCycle − 1) later. On a large state under heavy load this spaces runs further than the garbage ratio
   * does (more garbage waits on disk) rather than let a run's reads and decoding crowd block production.
   */
  dutyCycle: number;
  /** Nodes read per mark step and keys per sweep step: one database call each, then the event loop runs. */
  chunkNodes: number;
  /** Bits of the written-nodes Bloom filter, as a power of two (26: 8 MiB, 0.2% false positives at 4M nodes). */
  writtenFilterLog2Bits: number;
}

export const defaultStatePrunerOptions: StatePrunerOptions = {
  archive: false,
  history: 128,
  pollMs: 1000,
  garbageRatio: 0.25,
  minWrittenNodes: 20_000,
  dutyCycle: 0.2,
  chunkNodes: 2048,
  writtenFilterLog2Bits: 26,
};

/** What a run did (logged, and handed to metrics). */
export interface PruneRun {
  /** First block whose state is kept after the run. */
  horizon: bigint;
  finalized: bigint;
  roots: number;
  /** Nodes reachable from the kept roots (the live state). */
  liveNodes: number;
  deletedNodes: number;
  deletedDiffs: number;
  markSeconds: number;
  sweepSeconds: number;
  seconds: number;
}

export interface StatePrunerMetrics {
  onRun(run: PruneRun): void;
  onFailure(): void;
  firstAvailableBlock(n: bigint): void;
}

/** Test seams of one run: called between its phases (a test imports blocks at the worst moments). */
export interface PruneRunHooks {
  afterMark?(): Promise<void>;
  afterSweepBatch?(deletedSoFar: number): Promise<void>;
}

export type PrunerChain = Pick<Chain, "head" | "historyStart" | "canonicalHash" | "getHeader">;

/** Thrown inside a run when stop() was called; the run ends where it is (its deletions so far are complete). */
class PruneStopped extends Error {}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));
const readU64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);

export class StatePruner implements StateRetention {
  private floor = 0n;
  /** The finalized block number last read from disk. */
  private finalized: bigint | undefined;
  private readonly pins = new Map<number, { number: bigint; root: Uint8Array }>();
  private nextPin = 0;
  private readonly diffHolds: (() => Promise<bigint | undefined>)[] = [];
  /** Trie nodes written since the last run began, and the filter of the run in progress. */
  private written = 0;
  private filter: WrittenNodeFilter | undefined;
  private liveAtLastRun = 0;
  private lastRunHorizon: bigint | undefined;
  /** performance.now() before which no automatic run starts (dutyCycle). */
  private nextRunAt = 0;
  private running: Promise<PruneRun | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private unobserve: (() => void) | undefined;
  /** Seconds spent on the write path (the observer that counts and records written nodes): pruning's hot-path cost. */
  writePathSeconds = 0;

  constructor(
    private readonly opts: StatePrunerOptions,
    private readonly modules: {
      db: Database;
      chain: PrunerChain;
      /** Number of the finalized block as written to disk (undefined before the first finalization). */
      finalized: () => Promise<bigint | undefined>;
      logger: Logger;
      metrics?: StatePrunerMetrics;
    },
  ) {}

  get archive(): boolean {
    return this.opts.archive;
  }

  /** Read the floor and the finalized block; from here on the node's writes are counted. Call after chain.init(). */
  async init(): Promise<void> {
    const { db, chain } = this.modules;
    const stored = await db.get(Bucket.meta, META_STATE_FLOOR);
    // Without a stored floor: every state since the first one the node has (a warp sync's snapshot block).
    this.floor = stored ? readU64(stored) : chain.historyStart > 0n ? chain.historyStart - 1n : 0n;
    this.finalized = await this.modules.finalized();
    this.modules.metrics?.firstAvailableBlock(this.firstAvailableBlock());
    if (this.opts.archive) return;
    this.unobserve = db.observeWrites((batch) => {
      const t = performance.now();
      for (const op of batch.ops) {
        if (op.type !== "put" || op.key[0] !== Bucket.stateNodes) continue;
        this.written++;
        this.filter?.add(op.key.subarray(1));
      }
      this.writePathSeconds += (performance.now() - t) / 1000;
    });
  }

  /** Run in the background: every `pollMs`, read the finalized block and start a run when one is due. */
  start(): void {
    if (this.opts.archive) return;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Stop polling and end a run in progress at its next step. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.unobserve?.();
  }

  // ---- StateRetention ----

  firstAvailableBlock(): bigint {
    return firstAvailableBlock({
      archive: this.opts.archive,
      history: this.opts.history,
      finalized: this.finalized,
      floor: this.floor,
    });
  }

  assertAvailable(number: bigint): void {
    const first = this.firstAvailableBlock();
    if (number < first) throw statePruned(number, first, this.opts.archive, this.opts.history);
  }

  pin(number: bigint, root: Uint8Array): () => void {
    // Every canonical block at or above the floor is whole until the next run, which keeps the pinned root.
    if (number < this.floor)
      throw statePruned(number, this.firstAvailableBlock(), this.opts.archive, this.opts.history);
    const id = this.nextPin++;
    this.pins.set(id, { number, root });
    return () => this.pins.delete(id);
  }

  holdFlatDiffs(from: () => Promise<bigint | undefined>): void {
    this.diffHolds.push(from);
  }

  // ---- runs ----

  private async poll(): Promise<void> {
    if (this.running || this.stopped) return;
    try {
      this.finalized = await this.modules.finalized();
    } catch (e) {
      this.modules.logger.warn({ err: (e as Error).message }, "State pruner: cannot read the finalized block");
      return;
    }
    this.modules.metrics?.firstAvailableBlock(this.firstAvailableBlock());
    if (this.finalized === undefined) return;
    // Due when the window moved since the last run (past the floor, for the first run after a start, which has no
    // count of the garbage) and, after that, once enough nodes were written since the last run to be worth a mark.
    const horizon = this.finalized - BigInt(this.opts.history);
    if (horizon <= (this.lastRunHorizon ?? this.floor)) return;
    const due = Math.max(this.opts.minWrittenNodes, this.opts.garbageRatio * this.liveAtLastRun);
    if (this.lastRunHorizon !== undefined && this.written < due) return;
    if (performance.now() < this.nextRunAt) return;
    await this.runOnce().catch(() => undefined);
  }

  /**
   * One pruning run now (whether due or not), or the one in progress. Resolves with what it did, or undefined when
   * there is nothing to do (archive, no finalized block) or it was stopped. Throws what made it fail (nothing past
   * the deletions already written is lost: a failed run can simply be run again).
   */
  runOnce(hooks: PruneRunHooks = {}): Promise<PruneRun | undefined> {
    if (!this.running) {
      this.running = this.run(hooks).finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async run(hooks: PruneRunHooks): Promise<PruneRun | undefined> {
    const { db, logger, metrics } = this.modules;
    if (this.opts.archive || this.stopped) return undefined;
    const finalized = await this.modules.finalized();
    this.finalized = finalized;
    if (finalized === undefined) return undefined;
    const started = performance.now();
    // T0: from here on every node written is in the filter.
    const filter = new WrittenNodeFilter(this.opts.writtenFilterLog2Bits);
    this.filter = filter;
    this.written = 0;
    try {
      // A block written just before T0 may still be in flight, its nodes not in the filter: once it is applied, the
      // roots read below include its state.
      await db.settled();
      const horizon = firstAvailableBlock({ archive: false, history: this.opts.history, finalized, floor: this.floor });
      if (horizon > this.floor) {
        this.floor = horizon;
        await db.write(new WriteBatch().put(Bucket.meta, META_STATE_FLOOR, u64Key(horizon)));
      }
      metrics?.firstAvailableBlock(this.firstAvailableBlock());
      const { roots, deadDiffs } = await this.keptRoots(finalized, horizon);
      const marked = await this.mark(roots);
      const markSeconds = (performance.now() - started) / 1000;
      await hooks.afterMark?.();
      const deletedNodes = await this.sweep(marked, filter, hooks);
      const sweepSeconds = (performance.now() - started) / 1000 - markSeconds;
      const deletedDiffs = await this.deleteDiffs(deadDiffs);
      const run: PruneRun = {
        horizon,
        finalized,
        roots: roots.length,
        liveNodes: marked.size,
        deletedNodes,
        deletedDiffs,
        markSeconds,
        sweepSeconds,
        seconds: (performance.now() - started) / 1000,
      };
      this.liveAtLastRun = marked.size;
      this.lastRunHorizon = horizon;
      this.nextRunAt = performance.now() + run.seconds * 1000 * (1 / this.opts.dutyCycle - 1);
      metrics?.onRun(run);
      logger.info(
        {
          horizon: Number(horizon),
          finalized: Number(finalized),
          liveNodes: run.liveNodes,
          deletedNodes,
          deletedDiffs,
          markSeconds: Number(markSeconds.toFixed(3)),
          sweepSeconds: Number(sweepSeconds.toFixed(3)),
          markSetMiB: Math.round(marked.bytes / 2 ** 20),
        },
        "State pruned",
      );
      return run;
    } catch (e) {
      if (e instanceof PruneStopped) return undefined;
      metrics?.onFailure();
      // A missing node means a damaged database (or a bug): nothing more is deleted until the next run.
      logger.error({ err: (e as Error).message }, "State pruning run failed; it will run again");
      throw e;
    } finally {
      this.filter = undefined;
    }
  }

  /**
   * The roots to keep, and the flat diffs that are no longer needed. Every stored block has a flat diff (the chain
   * writes one with each block), so the diff keys list the stored blocks that can still matter: those of earlier
   * runs' dead forks and old blocks are gone.
   */
  private async keptRoots(
    finalized: bigint,
    horizon: bigint,
  ): Promise<{ roots: Uint8Array[]; deadDiffs: Uint8Array[] }> {
    const { db, chain } = this.modules;
    const roots: Uint8Array[] = [];
    const keep = async (hash: Uint8Array) => {
      const header = await chain.getHeader(hash);
      if (!header) throw new PruneError({ code: "PRUNE_BLOCK_MISSING", what: `header ${bytesToHex(hash)}` });
      roots.push(header.stateRoot);
    };
    for (let n = horizon; n <= finalized; n++) {
      const hash = await chain.canonicalHash(n);
      if (!hash) throw new PruneError({ code: "PRUNE_BLOCK_MISSING", what: `canonical block ${n}` });
      await keep(hash);
    }
    roots.push(chain.head.stateRoot);
    for (const p of this.pins.values()) roots.push(p.root);

    let holdFrom: bigint | undefined;
    for (const hold of this.diffHolds) {
      const from = await hold();
      if (from !== undefined && (holdFrom === undefined || from < holdFrom)) holdFrom = from;
    }
    const deadDiffs: Uint8Array[] = [];
    let hashes: Uint8Array[] = [];
    const classify = async () => {
      const numbers = await db.getMany(Bucket.blockNumbers, hashes);
      for (const [i, hash] of hashes.entries()) {
        const enc = numbers[i];
        if (!enc) {
          deadDiffs.push(hash); // a diff without its block: nothing reads it
          continue;
        }
        const number = readU64(enc);
        if (number > finalized) {
          await keep(hash);
          continue;
        }
        const canonical = await chain.canonicalHash(number);
        const isCanonical = canonical !== undefined && Buffer.compare(canonical, hash) === 0;
        // Dead forks at or below the finalized block, and canonical blocks below the horizon the feed does not need.
        if (!isCanonical || (number < horizon && (holdFrom === undefined || number < holdFrom))) deadDiffs.push(hash);
      }
      hashes = [];
      await yieldToEventLoop();
      this.checkStopped();
    };
    for await (const hash of db.keys(Bucket.flatDiffs)) {
      hashes.push(hash);
      if (hashes.length >= this.opts.chunkNodes) await classify();
    }
    await classify();
    return { roots, deadDiffs };
  }

  /** Every node reachable from `roots`, storage tries included. */
  private async mark(roots: Uint8Array[]): Promise<NodeHashSet> {
    const { db } = this.modules;
    const marked = new NodeHashSet();
    // Depth-first (a stack), so the frontier stays small; `account` says which trie a node is in.
    const stack: { hash: Uint8Array; account: boolean }[] = [];
    for (const root of roots)
      if (Buffer.compare(root, EMPTY_TRIE_ROOT) !== 0) stack.push({ hash: root, account: true });
    const refs: NodeRefs = { children: [], storageRoots: [] };
    while (stack.length > 0) {
      const step: { hash: Uint8Array; account: boolean }[] = [];
      while (step.length < this.opts.chunkNodes && stack.length > 0) {
        const e = stack.pop() as { hash: Uint8Array; account: boolean };
        if (marked.add(e.hash)) step.push(e);
      }
      if (step.length === 0) continue;
      // Not through the block cache: the whole live state passing through it would evict what imports read.
      const encs = await db.getMany(
        Bucket.stateNodes,
        step.map((e) => e.hash),
        { fillCache: false },
      );
      for (const [i, e] of step.entries()) {
        const enc = encs[i];
        if (!enc) throw new StateError({ code: "STATE_NODE_MISSING", hash: bytesToHex(e.hash) });
        refs.children.length = 0;
        refs.storageRoots.length = 0;
        collectNodeRefs(enc, e.account, refs);
        for (const c of refs.children) if (!marked.has(c)) stack.push({ hash: c, account: e.account });
        for (const r of refs.storageRoots) if (!marked.has(r)) stack.push({ hash: r, account: false });
      }
      await yieldToEventLoop();
      this.checkStopped();
    }
    return marked;
  }

  /** Delete every stored node that is neither marked nor written since the run began; returns how many. */
  private async sweep(marked: NodeHashSet, filter: WrittenNodeFilter, hooks: PruneRunHooks): Promise<number> {
    const { db } = this.modules;
    let deleted = 0;
    let from: Uint8Array | undefined;
    for (;;) {
      const candidates: Uint8Array[] = [];
      let last: Uint8Array | undefined;
      for await (const k of db.keys(Bucket.stateNodes, { from, limit: this.opts.chunkNodes })) {
        last = k;
        if (!marked.has(k)) candidates.push(k);
      }
      if (!last) return deleted;
      // The smallest key after `last`.
      from = Buffer.concat([last, Buffer.of(0)]);
      if (candidates.length > 0) {
        await db.writeOrdered(() => {
          const batch = new WriteBatch();
          for (const k of candidates) {
            if (filter.mayHave(k)) continue;
            batch.del(Bucket.stateNodes, k);
            deleted++;
          }
          return batch;
        });
        await hooks.afterSweepBatch?.(deleted);
      }
      await yieldToEventLoop();
      this.checkStopped();
    }
  }

  private async deleteDiffs(hashes: Uint8Array[]): Promise<number> {
    const { db } = this.modules;
    for (let i = 0; i < hashes.length; i += this.opts.chunkNodes) {
      const batch = new WriteBatch();
      for (const h of hashes.slice(i, i + this.opts.chunkNodes)) batch.del(Bucket.flatDiffs, h);
      await db.write(batch);
      await yieldToEventLoop();
      this.checkStopped();
    }
    return hashes.length;
  }

  private checkStopped(): void {
    if (this.stopped) throw new PruneStopped();
  }
}
