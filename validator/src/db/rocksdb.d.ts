// Minimal types for `@nxtedition/rocksdb` (an abstract-level 1.x store); the package ships none. Only what
// db/database.ts uses, with buffer keys and values.
declare module "@nxtedition/rocksdb" {
  interface BatchOp {
    type: "put" | "del";
    key: Buffer;
    value?: Buffer;
  }
  interface RangeOptions {
    gt?: Buffer;
    gte?: Buffer;
    lt?: Buffer;
    lte?: Buffer;
    reverse?: boolean;
    limit?: number;
    /** Whether entries carry their key / value (both by default); a keys-only scan reads no values. */
    keys?: boolean;
    values?: boolean;
  }
  interface Iterator {
    /** Up to `size` entries; an empty array at the end. */
    nextv(size: number): Promise<[Buffer, Buffer][]>;
    close(): Promise<void>;
  }
  interface OpenOptions {
    createIfMissing?: boolean;
    errorIfExists?: boolean;
    /** Block cache in bytes (the binding's default is 8 MiB). */
    cacheSize?: number;
    /** zstd block compression (on by default). */
    compression?: boolean;
    infoLogLevel?: "debug" | "info" | "warn" | "error" | "fatal" | "header" | null;
  }
  export class RocksLevel {
    constructor(location: string, options?: { keyEncoding?: "buffer"; valueEncoding?: "buffer" });
    readonly status: "opening" | "open" | "closing" | "closed";
    open(options?: OpenOptions): Promise<void>;
    close(): Promise<void>;
    getMany(keys: Buffer[], options?: { fillCache?: boolean }): Promise<(Buffer | undefined)[]>;
    batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>;
    iterator(options?: RangeOptions): Iterator;
    /** A RocksDB property, e.g. "rocksdb.total-sst-files-size". */
    getProperty(property: string): string;
  }
}
