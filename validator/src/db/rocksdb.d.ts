// Minimal types for the `rocksdb` binding (abstract-leveldown API); the package ships none.
declare module "rocksdb" {
  type Cb<T = void> = (err: Error | undefined | null, value: T) => void;
  interface Iterator {
    next(cb: (err: Error | undefined | null, key?: Buffer, value?: Buffer) => void): void;
    end(cb: (err?: Error | null) => void): void;
  }
  interface BatchOp {
    type: "put" | "del";
    key: Buffer | Uint8Array;
    value?: Buffer | Uint8Array;
  }
  interface RocksDB {
    open(options: { createIfMissing?: boolean; errorIfExists?: boolean; maxOpenFiles?: number }, cb: Cb): void;
    close(cb: Cb): void;
    get(key: Buffer | Uint8Array, options: { asBuffer?: boolean; fillCache?: boolean }, cb: Cb<Buffer>): void;
    batch(ops: BatchOp[], options: { sync?: boolean }, cb: Cb): void;
    iterator(options: {
      gt?: Buffer;
      gte?: Buffer;
      lt?: Buffer;
      lte?: Buffer;
      reverse?: boolean;
      limit?: number;
      keys?: boolean;
      values?: boolean;
      keyAsBuffer?: boolean;
      valueAsBuffer?: boolean;
    }): Iterator;
  }
  function rocksdb(location: string): RocksDB;
  export default rocksdb;
}
