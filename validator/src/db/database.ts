// One RocksDB per node, split into named buckets by a one-byte key prefix. Every block import is a single atomic
// write batch (see WriteBatch), so a crash at any moment leaves the last committed block intact.

//
// The binding is @nxtedition/rocksdb (RocksDB 9, maintained, prebuilt N-API binary for Linux x64, so `npm ci` does
// not compile RocksDB); it is an abstract-level store used with Buffer keys and values only.
import { RocksLevel } from "@nxtedition/rocksdb";
import { RustChainError } from "@rustchain/shared";

export const Bucket = {
  headers: 0x01, // block hash → header RLP
  bodies: 0x02, // block hash → RLP [transactions, attestations, aiProofs, evidence]
  canonical: 0x03, // block number (8 bytes BE) → block hash
  txIndex: 0x04, // tx hash → block hash ++ index (4 bytes BE)
  receipts: 0x05, // block hash → RLP list of receipts
  stateNodes: 0x06, // trie node hash → node RLP (account and storage tries)
  flatAccounts: 0x07, // address → account RLP at the head
  flatStorage: 0x08, // address ++ slot → value at the head
  code: 0x09, // code hash → code
  meta: 0x0a, // name → value
  blockNumbers: 0x0b, // block hash → block number (8 bytes BE)
  flatDiffs: 0x0c, // block hash → flat-view changes of the block with previous values (apply and undo on reorg)
  finalityCertificates: 0x0d, // checkpoint slot (8 bytes BE) → finality certificate (db/checkpointStore.ts)
  certificateIndex: 0x0e, // block number (8 bytes BE) → slot of the certified checkpoint whose block it is
  preimages: 0x0f, // BLAKE3(address) → address, BLAKE3(slot) → slot: trie keys back to flat keys (snapshot export)
  warpSync: 0x10, // warp-sync progress: verified chunk index (4 bytes BE) → what it proved (snapshot/warpSyncStore.ts)
  bridge: 0x11, // bridge messages, their committee signatures, watcher cursors (bridge/bridgeStore.ts)
} as const;
export type BucketId = (typeof Bucket)[keyof typeof Bucket];

export type DbErrorType = { code: "DB_OPEN_FAILED"; reason: string } | { code: "DB_IO"; op: string; reason: string };
export class DbError extends RustChainError<DbErrorType> {}

function key(bucket: BucketId, k: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(k.length + 1);
  out[0] = bucket;
  out.set(k, 1);
  return out;
}

export function u64Key(n: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

export interface KeyValueReader {
  get(bucket: BucketId, k: Uint8Array): Promise<Uint8Array | undefined>;
}

export class WriteBatch {
  readonly ops: { type: "put" | "del"; key: Buffer; value?: Uint8Array }[] = [];
  put(bucket: BucketId, k: Uint8Array, value: Uint8Array): this {
    // The binding stringifies anything that is not a Buffer, so values are wrapped (no copy).
    this.ops.push({
      type: "put",
      key: key(bucket, k),
      value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    });
    return this;
  }
  del(bucket: BucketId, k: Uint8Array): this {
    this.ops.push({ type: "del", key: key(bucket, k) });
    return this;
  }
}

export interface DatabaseOptions {
  /** RocksDB block cache in bytes. */
  cacheSize: number;
}
export const defaultDatabaseOptions: DatabaseOptions = { cacheSize: 256 * 1024 * 1024 };

const ioError = (op: string) => (e: unknown) => {
  throw new DbError({ code: "DB_IO", op, reason: (e as Error).message });
};

/** Told of every batch synchronously when write() is called, before it reaches RocksDB (see writeOrdered). */
export type WriteObserver = (batch: WriteBatch) => void;

interface RocksSync {
  _getManySync(keys: Buffer[], options: object): (Buffer | undefined)[];
}

export class Database implements KeyValueReader {
  private readonly observers = new Set<WriteObserver>();
  /** Set while a writeOrdered batch is being written: later writes wait for it. */
  private gate: Promise<void> | undefined;
  /** Seconds writes spent waiting for an ordered write (a pruning delete batch) to be applied first. */
  orderedWaitSeconds = 0;
  /** Writes called and not yet applied. */
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(private readonly db: RocksLevel) {}

  static async open(path: string, opts: DatabaseOptions = defaultDatabaseOptions): Promise<Database> {
    const db = new RocksLevel(path, { keyEncoding: "buffer", valueEncoding: "buffer" });
    try {
      await db.open({ createIfMissing: true, cacheSize: opts.cacheSize, infoLogLevel: "warn" });
    } catch (e) {
      // abstract-level wraps the binding's error (e.g. the LOCK held by another process) as its cause.
      const err = e as Error & { cause?: Error };
      throw new DbError({ code: "DB_OPEN_FAILED", reason: err.cause?.message ?? err.message });
    }
    return new Database(db);
  }

  async get(bucket: BucketId, k: Uint8Array): Promise<Uint8Array | undefined> {
    const [value] = await this.db.getMany([key(bucket, k)]).catch(ioError("get"));
    return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  /**
   * Read one key on the calling thread, without a trip to the binding's thread pool: a few µs when RocksDB's block
   * cache or the OS page cache holds it (an async get costs 20-30 µs of round trip). For contract execution, which
   * reads one slot at a time and waits for each (docs/runtime.md); everything else uses `get`.
   */
  getSync(bucket: BucketId, k: Uint8Array): Uint8Array | undefined {
    let value: Buffer | undefined;
    try {
      // The binding's synchronous multi-get (@nxtedition/rocksdb; not part of the abstract-level interface).
      [value] = (this.db as unknown as RocksSync)._getManySync([key(bucket, k)], {});
    } catch (e) {
      ioError("get")(e);
    }
    return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  /**
   * Read several keys of one bucket in one call (one trip to the binding's thread pool). `fillCache: false` for a
   * scan that must not evict what the node reads all the time from the block cache (the state pruner's mark).
   */
  async getMany(
    bucket: BucketId,
    keys: Uint8Array[],
    opts: { fillCache?: boolean } = {},
  ): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.db
      .getMany(
        keys.map((k) => key(bucket, k)),
        opts.fillCache === false ? { fillCache: false } : undefined,
      )
      .catch(ioError("get"));
    return values.map((v) => (v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
  }

  /** Apply all operations atomically and durably (WAL synced). */
  write(batch: WriteBatch): Promise<void> {
    for (const observe of this.observers) observe(batch);
    const done = this.gatedWrite(batch);
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  private async gatedWrite(batch: WriteBatch): Promise<void> {
    if (this.gate) {
      const t = performance.now();
      while (this.gate) await this.gate;
      this.orderedWaitSeconds += (performance.now() - t) / 1000;
    }
    await this.rawWrite(batch);
  }

  /** Resolves once every write called before it has been applied (or has failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private rawWrite(batch: WriteBatch): Promise<void> {
    return this.db
      .batch(batch.ops as { type: "put" | "del"; key: Buffer; value?: Buffer }[], { sync: true })
      .catch(ioError("batch"));
  }

  /**
   * Write the batch `build` returns, applied before any write called after `build` ran. RocksDB may apply two batches
   * in flight in either order; this one is not in flight with any later write. With an observer, `build` decides
   * knowing every write called before it (the state pruner deletes a node only if no such write put it back).
   */
  async writeOrdered(build: () => WriteBatch): Promise<void> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise((r) => {
      open = r;
    });
    try {
      const batch = build();
      if (batch.ops.length > 0) await this.rawWrite(batch);
    } finally {
      this.gate = undefined;
      open();
    }
  }

  /** Tell `observer` of every batch written from now on, until the returned function is called. */
  observeWrites(observer: WriteObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Iterate keys in [from, to) of one bucket, in order (or reverse), up to `limit` entries. */
  async *range(
    bucket: BucketId,
    opts: { from?: Uint8Array; to?: Uint8Array; reverse?: boolean; limit?: number } = {},
  ): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const it = this.db.iterator({
      gte: key(bucket, opts.from ?? new Uint8Array(0)),
      lt: opts.to ? key(bucket, opts.to) : Buffer.of(bucket + 1),
      reverse: opts.reverse ?? false,
      limit: opts.limit ?? -1,
    });
    try {
      for (;;) {
        const entries = await it.nextv(1000).catch(ioError("iterate"));
        if (entries.length === 0) return;
        for (const [k, v] of entries) yield [k.subarray(1), v];
      }
    } finally {
      await it.close();
    }
  }

  /** Iterate the keys only of [from, to) of one bucket, in order, up to `limit` (values are not read). */
  async *keys(bucket: BucketId, opts: { from?: Uint8Array; to?: Uint8Array; limit?: number } = {}) {
    const it = this.db.iterator({
      gte: key(bucket, opts.from ?? new Uint8Array(0)),
      lt: opts.to ? key(bucket, opts.to) : Buffer.of(bucket + 1),
      limit: opts.limit ?? -1,
      keys: true,
      values: false,
    });
    try {
      for (;;) {
        const entries = await it.nextv(1000).catch(ioError("iterate"));
        if (entries.length === 0) return;
        for (const [k] of entries) yield k.subarray(1) as Uint8Array;
      }
    } finally {
      await it.close();
    }
  }

  /** Bytes of the live SST files and of the write-ahead log's memtables (the database's size on disk, roughly). */
  sizeOnDisk(): { sst: number; memtables: number } {
    const n = (p: string) => Number(this.db.getProperty(p)) || 0;
    return { sst: n("rocksdb.total-sst-files-size"), memtables: n("rocksdb.cur-size-all-mem-tables") };
  }

  close(): Promise<void> {
    return this.db.status === "open" ? this.db.close() : Promise.resolve();
  }
}
