// The transaction journal: every transaction the pool accepts (over RPC, by gossip, or back from a reorg) is appended
// to <datadir>/txpool.journal, so the pool survives a restart or a crash. Like geth's journal of local transactions,
// but for all of them. File format: txJournalFile.ts.
//
// - Appends are per batch: the pool's "added" events of one event-loop turn are gathered and written at the end of the
//   turn (setImmediate) as one frame with one write(2). `written()` resolves once everything added so far is in the
//   file; eth_sendRawTransaction awaits it before answering, so a `kill -9` after the answer loses nothing.
// - The write is synchronous, on the event loop: a page-cache write of one batch costs microseconds, keeps batches in
//   order with no locking, and cannot queue behind RocksDB reads in the libuv thread pool. fdatasync, which can take
//   milliseconds, never runs on the event loop.
// - Power loss: by default the file is fdatasync'ed every `syncIntervalMs` (1 s) when written since, so a power loss
//   can lose the transactions acknowledged in the last interval (they are lost for this node only: they were
//   gossiped). `syncEveryBatch` fdatasyncs each batch before it is acknowledged instead.
// - Start: the journal is replayed through the pool's normal validation (in nonce order; included, stale and now
//   invalid transactions are dropped), then rewritten with only what the pool kept.
// - Compaction rewrites the file from the pool's live transactions once it holds more than `compactMinRecords`
//   records and `compactRatio` times the pool's size, and on a clean stop. The new file is written beside the old one
//   (appends go on into the old file and are copied after), synced, and renamed over it; a crash at any point leaves
//   one complete journal. Evicted or replaced transactions stay in the file until then and are dropped on replay.
// - A failed write or sync leaves the file unreliable (a partial frame would hide every frame after it), so appends
//   stop going to it and the journal is rewritten from the pool instead, retried every `syncIntervalMs`; batches
//   acknowledged meanwhile wait for that rewrite (and are answered even if it fails: the pool still holds them).
import {
  close as closeCb,
  constants,
  fdatasync as fdatasyncCb,
  fdatasyncSync,
  fsync as fsyncCb,
  open as openCb,
  renameSync,
  write as writeCb,
  writeSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { MAX_TX_SIZE, type SignedTransaction } from "@rustchain/shared";
import type { Logger } from "pino";
import type { SenderRecovery } from "../execution/senderRecovery.ts";
import type { Mempool } from "./mempool.ts";
import {
  checkJournalLimits,
  encodeFrames,
  JOURNAL_MAGIC,
  type JournalLimits,
  readJournalFile,
} from "./txJournalFile.ts";

const openAsync = promisify(openCb);
const writeAsync = promisify(writeCb);
const fdatasyncAsync = promisify(fdatasyncCb);
const fsyncAsync = promisify(fsyncCb);
const closeAsync = promisify(closeCb);

export interface TxJournalOptions extends JournalLimits {
  /** The journal file, `<datadir>/txpool.journal` in the node. */
  file: string;
  /** fdatasync every batch before it is acknowledged (survives power loss; one disk flush per batch). */
  syncEveryBatch: boolean;
  /** Otherwise fdatasync this often when written since; also the period of compaction checks and retries. */
  syncIntervalMs: number;
  /** Compact once the file holds more records than this... */
  compactMinRecords: number;
  /** ...and more than this many times the pool's size. */
  compactRatio: number;
  /** Transactions encoded per write while compacting (keeps the event loop free between them). */
  compactChunkRecords: number;
  /** Bytes read at a time on replay. */
  readChunkBytes: number;
}

export const defaultTxJournalOptions: Omit<TxJournalOptions, "file"> = {
  maxRecordBytes: MAX_TX_SIZE,
  maxFrameBytes: 4 * 1024 * 1024,
  syncEveryBatch: false,
  syncIntervalMs: 1_000,
  compactMinRecords: 10_000,
  compactRatio: 4,
  compactChunkRecords: 4_096,
  readChunkBytes: 4 * 1024 * 1024,
};

export const TX_JOURNAL_FILE = "txpool.journal";

/** What the journal needs of the pool. */
export type JournaledPool = Pick<Mempool, "add" | "all" | "size" | "on" | "off">;

export interface TxJournalMetrics {
  onWriteError(): void;
  onCompacted(records: number, seconds: number): void;
}

export interface TxJournalReplay {
  /** Records read from the journal. */
  records: number;
  /** Transactions the pool took back. */
  restored: number;
  /** Bytes of a torn or corrupt tail that were ignored. */
  discardedBytes: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

interface Deferred {
  promise: Promise<void>;
  resolve: (v: Promise<void>) => void;
}

function deferred(): Deferred {
  let resolve: Deferred["resolve"] = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function writeAllSync(fd: number, buf: Uint8Array): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}

async function writeAll(fd: number, buf: Uint8Array): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await writeAsync(fd, buf, off, buf.length - off)).bytesWritten;
}

export class TxJournal {
  /** The journal file, open for appending (undefined before start and after stop). */
  private fd: number | undefined;
  /** Set when a write or sync failed: the file takes no more appends until a rewrite replaces it. */
  private broken = false;
  /** Records in the current file. */
  private records = 0;
  /** Raw transactions added this turn, written at its end. */
  private pending: Uint8Array[] = [];
  private pendingBatch: Deferred | undefined;
  private flushScheduled = false;
  /** Settles once the last flushed batch is written (and synced, with syncEveryBatch). */
  private lastWrite: Promise<void> = RESOLVED;
  private compaction: Promise<void> | undefined;
  /** After a failed compaction, none for size before this time (performance.now()). */
  private compactRetryAt = 0;
  /** While compacting: batches flushed since the pool was read, copied into the new file before it replaces the old. */
  private tail: { bufs: Buffer[]; records: number } | undefined;
  private unsynced = false;
  private syncing: Promise<void> | undefined;
  private syncQueued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private state: "new" | "open" | "stopped" = "new";
  private readonly onAdded = (stx: SignedTransaction) => this.append(stx.raw);
  private readonly onTurnEnd = () => {
    this.flushScheduled = false;
    this.flushNow();
    this.maybeCompact();
  };

  constructor(
    private readonly opts: TxJournalOptions,
    private readonly modules: {
      pool: JournaledPool;
      /** Decodes and recovers the senders of replayed transactions. */
      recovery: Pick<SenderRecovery, "recover">;
      logger: Logger;
      metrics?: TxJournalMetrics;
    },
  ) {
    checkJournalLimits(opts);
  }

  /** Records in the journal file now (live transactions plus those since dropped, until the next compaction). */
  get fileRecords(): number {
    return this.records;
  }

  /**
   * Replay the journal into the pool, rewrite it with what the pool kept, and journal every transaction added from
   * now on. Before anything else can add to the pool (RPC, gossip).
   */
  async start(): Promise<TxJournalReplay> {
    const { logger } = this.modules;
    const contents = await readJournalFile(this.opts.file, this.opts, this.opts.readChunkBytes);
    if (contents.stop) {
      logger.warn(
        { file: this.opts.file, stop: contents.stop, discardedBytes: contents.discardedBytes },
        "Transaction journal: ignored a torn or corrupt tail",
      );
    }
    const restored = await this.replay(contents.records);
    // Nothing else adds to the pool yet: the rewrite sees it whole, and a failure here stops the node's start.
    this.tail = { bufs: [], records: 0 };
    await this.rewrite(this.modules.pool.all());
    this.modules.pool.on("added", this.onAdded);
    this.state = "open";
    this.timer = setInterval(() => this.tick(), this.opts.syncIntervalMs);
    this.timer.unref();
    const replay = { records: contents.records.length, restored, discardedBytes: contents.discardedBytes };
    logger.info({ ...replay, file: this.opts.file }, "Transaction journal replayed");
    return replay;
  }

  /** Resolves once every transaction the pool added so far is in the journal file (synced, with syncEveryBatch). */
  written(): Promise<void> {
    return this.pendingBatch?.promise ?? this.lastWrite;
  }

  /** Stop journaling: write what is pending, leave the file compacted and synced, and close it. */
  async stop(): Promise<void> {
    if (this.state !== "open") return;
    this.state = "stopped";
    this.modules.pool.off("added", this.onAdded);
    clearInterval(this.timer);
    this.flushNow();
    await this.compaction;
    try {
      this.tail = { bufs: [], records: 0 };
      await this.rewrite(this.modules.pool.all());
    } catch (e) {
      this.modules.logger.error({ err: (e as Error).message }, "Transaction journal: final compaction failed");
    }
    await this.syncQueued;
    await this.syncing;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await closeAsync(fd);
  }

  private append(raw: Uint8Array): void {
    // The pool refuses transactions over MAX_TX_SIZE; a record the format cannot hold is skipped, not the batch.
    if (raw.length === 0 || raw.length > this.opts.maxRecordBytes) {
      this.modules.logger.warn({ size: raw.length }, "Transaction journal: record out of bounds, not journaled");
      return;
    }
    this.pending.push(raw);
    this.pendingBatch ??= deferred();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onTurnEnd);
    }
  }

  private flushNow(): void {
    if (this.pending.length === 0) return;
    const raws = this.pending;
    const batch = this.pendingBatch as Deferred;
    this.pending = [];
    this.pendingBatch = undefined;
    const done = this.writeBatch(encodeFrames(raws, this.opts), raws.length);
    this.lastWrite = done;
    batch.resolve(done);
  }

  /** Append one batch; the promise settles when it is as durable as configured. */
  private writeBatch(buf: Buffer, records: number): Promise<void> {
    if (!this.broken && this.fd !== undefined) {
      try {
        writeAllSync(this.fd, buf);
        this.records += records;
        this.unsynced = true;
        if (this.tail) {
          this.tail.bufs.push(buf);
          this.tail.records += records;
        }
        return this.opts.syncEveryBatch ? this.sync() : RESOLVED;
      } catch (e) {
        this.failed("write", e);
      }
    }
    // The file takes no appends: the batch reaches the disk through a rewrite, the running one (which copies its
    // tail) or a new one (which reads the pool, where the batch's transactions are).
    if (this.tail && this.compaction) {
      this.tail.bufs.push(buf);
      this.tail.records += records;
      return this.compaction;
    }
    return this.compact();
  }

  private failed(op: "write" | "sync", e: unknown): void {
    if (!this.broken)
      this.modules.logger.error(
        { op, err: (e as Error).message, file: this.opts.file },
        "Transaction journal: I/O failed; rewriting it from the pool",
      );
    this.broken = true;
    this.modules.metrics?.onWriteError();
  }

  /** fdatasync the file; concurrent callers share one sync, and a caller arriving during a sync gets the next one. */
  private sync(): Promise<void> {
    if (!this.syncing) return this.startSync();
    this.syncQueued ??= this.syncing.then(() => {
      this.syncQueued = undefined;
      return this.startSync();
    });
    return this.syncQueued;
  }

  private startSync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined || this.broken) return this.compact();
    this.unsynced = false;
    const p: Promise<void> = fdatasyncAsync(fd)
      .then(
        () => undefined,
        (e) => {
          // After a failed fsync the kernel may have dropped the dirty pages: only a rewrite is trustworthy.
          if (this.fd !== fd) return;
          this.failed("sync", e);
          return this.compact();
        },
      )
      .finally(() => {
        if (this.syncing === p) this.syncing = undefined;
      });
    this.syncing = p;
    return p;
  }

  private tick(): void {
    if (this.state !== "open") return;
    if (this.broken) {
      void this.compact();
      return;
    }
    if (this.unsynced && !this.opts.syncEveryBatch) void this.sync();
    this.maybeCompact();
  }

  private maybeCompact(): void {
    const { compactMinRecords, compactRatio } = this.opts;
    if (this.state !== "open" || this.compaction || performance.now() < this.compactRetryAt) return;
    if (this.records > compactMinRecords && this.records > compactRatio * this.modules.pool.size) void this.compact();
  }

  /** Rewrite the journal from the pool (once at a time); settles when done, failed or not. */
  private compact(): Promise<void> {
    if (this.compaction) return this.compaction;
    if (this.state !== "open") return RESOLVED;
    // What is pending goes to the current file first: quick, and keeps those answers off the rewrite's time.
    this.flushNow();
    if (this.compaction) return this.compaction; // that write failed and started one
    this.tail = { bufs: [], records: 0 };
    const compaction = this.rewrite(this.modules.pool.all())
      .catch((e) => {
        // The old file stays in use (complete, unless it was already broken); size-based retries wait a while.
        this.tail = undefined;
        this.compactRetryAt = performance.now() + this.opts.syncIntervalMs;
        this.modules.metrics?.onWriteError();
        this.modules.logger.error(
          { err: (e as Error).message, file: this.opts.file },
          "Transaction journal: rewrite failed",
        );
      })
      .finally(() => {
        this.compaction = undefined;
      });
    this.compaction = compaction;
    return compaction;
  }

  /**
   * Write `live` and then `this.tail` (set by the caller when `live` was read) to a new file, sync it, and rename it
   * over the journal. Between the last sync and the rename nothing yields, so no append can land in the old file after
   * its tail was copied.
   */
  private async rewrite(live: SignedTransaction[]): Promise<void> {
    const started = performance.now();
    const { file } = this.opts;
    const tmp = `${file}.tmp`;
    const { O_WRONLY, O_CREAT, O_TRUNC, O_APPEND } = constants;
    const fd = await openAsync(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600);
    let installed = false;
    try {
      await writeAll(fd, JOURNAL_MAGIC);
      let records = 0;
      for (let i = 0; i < live.length; i += this.opts.compactChunkRecords) {
        const chunk = live.slice(i, i + this.opts.compactChunkRecords).map((s) => s.raw);
        await writeAll(fd, encodeFrames(chunk, this.opts));
        records += chunk.length;
      }
      // Catch up with the batches appended meanwhile until a sync finds nothing new (bounded: the last round blocks).
      for (let round = 0; ; round++) {
        const tail = this.tail as { bufs: Buffer[]; records: number };
        if (tail.records > 0) {
          this.tail = { bufs: [], records: 0 };
          if (round < 8) await writeAll(fd, Buffer.concat(tail.bufs));
          else writeAllSync(fd, Buffer.concat(tail.bufs));
          records += tail.records;
        }
        if (round < 8) await fdatasyncAsync(fd);
        else fdatasyncSync(fd);
        if ((this.tail as { records: number }).records === 0) break;
      }
      renameSync(tmp, file);
      installed = true;
      const old = this.fd;
      this.fd = fd;
      this.records = records;
      this.broken = false;
      this.unsynced = false;
      this.tail = undefined;
      // A sync in flight may still use the old descriptor.
      if (old !== undefined) void (this.syncing ?? RESOLVED).then(() => closeAsync(old).catch(() => undefined));
      this.modules.metrics?.onCompacted(records, (performance.now() - started) / 1000);
      this.modules.logger.debug({ records, live: live.length }, "Transaction journal compacted");
    } finally {
      if (!installed) {
        await closeAsync(fd).catch(() => undefined);
        await rm(tmp, { force: true });
      }
    }
    // The rename itself survives a power loss once the directory is synced.
    const dir = await openAsync(dirname(file), constants.O_RDONLY);
    try {
      await fsyncAsync(dir);
    } finally {
      await closeAsync(dir);
    }
  }

  /** Replay records through the pool's validation; returns how many it took back. */
  private async replay(raws: Uint8Array[]): Promise<number> {
    const txs: SignedTransaction[] = [];
    for (let i = 0; i < raws.length; i += 4096) {
      for (const r of await this.modules.recovery.recover(raws.slice(i, i + 4096))) if ("tx" in r) txs.push(r);
    }
    // Each sender's transactions in nonce order (a stable sort: a replacement stays after what it replaced), so the
    // pool's balance check counts lower nonces first, as when they were accepted.
    txs.sort((a, b) => (a.tx.nonce < b.tx.nonce ? -1 : a.tx.nonce > b.tx.nonce ? 1 : 0));
    let restored = 0;
    for (const stx of txs) {
      try {
        await this.modules.pool.add(stx);
        restored++;
      } catch {
        // Included since, stale (nonce too low, replaced), or no longer valid: dropped.
      }
    }
    return restored;
  }
}
