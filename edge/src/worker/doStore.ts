// ReplicaStore over a SQLite-backed Durable Object's synchronous KV API (`ctx.storage.kv`). A batch runs inside
// `transactionSync`: the guard is checked and every op written in one SQLite transaction, so it commits whole or not at
// all, and no other event of the object can run in between (the code inside is synchronous).
//
// Values are stored as their JSON text, like MemoryReplicaStore, so the guard compares exactly what the writer read.
// DO KV values are limited in size (128 KiB on the KV-backed storage; this store keeps well under it on every backend):
// a longer text is split into chunks stored under `<key>\0<i>`, and the key itself holds a `{ chunks: n }` header.
import type { ReplicaStore, ReplicaStoreGuard, ReplicaStoreOp } from "../replica/store.ts";

/** Characters per stored value: at most 3 UTF-8 bytes per UTF-16 unit, so a chunk is at most 96 KiB. */
export const DO_VALUE_CHUNK_CHARS = 32 * 1024;

interface ChunkHeader {
  chunks: number;
}

const chunkKey = (key: string, i: number) => `${key}\u0000${i}`;
const isHeader = (v: unknown): v is ChunkHeader =>
  typeof v === "object" && v !== null && typeof (v as ChunkHeader).chunks === "number";

export class DurableObjectReplicaStore implements ReplicaStore {
  private readonly kv: SyncKvStorage;

  /** `storage`: the object's `ctx.storage` (SQLite-backed: `kv` and `transactionSync`). */
  constructor(private readonly storage: Pick<DurableObjectStorage, "kv" | "transactionSync">) {
    this.kv = storage.kv;
  }

  async get(key: string): Promise<unknown> {
    const text = this.readText(key);
    return text === undefined ? undefined : JSON.parse(text);
  }

  async getMany(keys: readonly string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const k of keys) {
      const text = this.readText(k);
      if (text !== undefined) out.set(k, JSON.parse(text));
    }
    return out;
  }

  async batch(ops: readonly ReplicaStoreOp[], guard?: ReplicaStoreGuard): Promise<boolean> {
    // Serialise first: a value that cannot be stored throws before anything is written.
    const staged = ops.map((o) => (o.op === "put" ? { key: o.key, text: JSON.stringify(o.value) } : { key: o.key }));
    // A throw inside rolls every write of the transaction back.
    return this.storage.transactionSync(() => {
      if (guard) {
        const expected = guard.equals === undefined ? undefined : JSON.stringify(guard.equals);
        if (this.readText(guard.key) !== expected) return false;
      }
      for (const s of staged) {
        this.remove(s.key);
        if (s.text !== undefined) this.writeText(s.key, s.text);
      }
      return true;
    });
  }

  private readText(key: string): string | undefined {
    const v = this.kv.get(key);
    if (v === undefined) return undefined;
    if (typeof v === "string") return v;
    if (!isHeader(v)) return undefined;
    let text = "";
    for (let i = 0; i < v.chunks; i++) {
      const part = this.kv.get(chunkKey(key, i));
      // A missing chunk cannot happen (chunks are written in the same transaction as the header); treat as absent.
      if (typeof part !== "string") return undefined;
      text += part;
    }
    return text;
  }

  private writeText(key: string, text: string): void {
    if (text.length <= DO_VALUE_CHUNK_CHARS) {
      this.kv.put(key, text);
      return;
    }
    const chunks = Math.ceil(text.length / DO_VALUE_CHUNK_CHARS);
    for (let i = 0; i < chunks; i++) {
      this.kv.put(chunkKey(key, i), text.slice(i * DO_VALUE_CHUNK_CHARS, (i + 1) * DO_VALUE_CHUNK_CHARS));
    }
    this.kv.put(key, { chunks } satisfies ChunkHeader);
  }

  private remove(key: string): void {
    const v = this.kv.get(key);
    if (v === undefined) return;
    if (isHeader(v)) for (let i = 0; i < v.chunks; i++) this.kv.delete(chunkKey(key, i));
    this.kv.delete(key);
  }
}
