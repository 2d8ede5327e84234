// One RocksDB per node, split into named buckets by a one-byte key prefix. Every block import is a single atomic
// write batch (see WriteBatch), so a crash at any moment leaves the last committed block intact.

import { RustChainError } from "@rustchain/shared";
import rocksdb from "rocksdb";

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

export class Database implements KeyValueReader {
  private constructor(private readonly db: ReturnType<typeof rocksdb>) {}

  static async open(path: string): Promise<Database> {
    const db = rocksdb(path);
    await new Promise<void>((resolve, reject) =>
      db.open({ createIfMissing: true }, (err) =>
        err ? reject(new DbError({ code: "DB_OPEN_FAILED", reason: err.message })) : resolve(),
      ),
    );
    return new Database(db);
  }

  get(bucket: BucketId, k: Uint8Array): Promise<Uint8Array | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(key(bucket, k), { asBuffer: true }, (err, value) => {
        if (err) {
          if (/NotFound/i.test(err.message)) resolve(undefined);
          else reject(new DbError({ code: "DB_IO", op: "get", reason: err.message }));
        } else resolve(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      }),
    );
  }

  /** Apply all operations atomically and durably (WAL synced). */
  write(batch: WriteBatch): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.batch(batch.ops, { sync: true }, (err) =>
        err ? reject(new DbError({ code: "DB_IO", op: "batch", reason: err.message })) : resolve(),
      ),
    );
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
      keyAsBuffer: true,
      valueAsBuffer: true,
    });
    try {
      while (true) {
        const entry = await new Promise<[Buffer, Buffer] | undefined>((resolve, reject) =>
          it.next((err, k, v) => {
            if (err) reject(new DbError({ code: "DB_IO", op: "iterate", reason: err.message }));
            else resolve(k && v ? [k, v] : undefined);
          }),
        );
        if (!entry) return;
        yield [entry[0].subarray(1), entry[1]];
      }
    } finally {
      await new Promise<void>((resolve) => it.end(() => resolve()));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.db.close(() => resolve()));
  }
}
