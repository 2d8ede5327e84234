// The database's write ordering, on a real RocksDB: observers see every write when it is called, a write called after
// an ordered write's batch was built is applied after it, and settled() waits for the writes in flight (the state
// pruner relies on all three).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Bucket, Database, WriteBatch } from "./database.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function open(): Promise<Database> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-db-"));
  dirs.push(dir);
  return Database.open(dir);
}

describe("Database", () => {
  it("applies a write called while an ordered write is in flight after it", async () => {
    const db = await open();
    try {
      for (let i = 0; i < 200; i++) {
        const k = Uint8Array.of(i);
        await db.write(new WriteBatch().put(Bucket.stateNodes, k, Uint8Array.of(1)));
        let put: Promise<void> | undefined;
        const ordered = db.writeOrdered(() => {
          const b = new WriteBatch().del(Bucket.stateNodes, k);
          // Called once the delete is decided: it must land after it.
          queueMicrotask(() => {
            put = db.write(new WriteBatch().put(Bucket.stateNodes, k, Uint8Array.of(2)));
          });
          return b;
        });
        await ordered;
        await put;
        expect(await db.get(Bucket.stateNodes, k)).toEqual(Uint8Array.of(2));
      }
    } finally {
      await db.close();
    }
  });

  it("settled() resolves once every write called before it is applied", async () => {
    const db = await open();
    try {
      const writes = Array.from({ length: 20 }, (_, i) =>
        db.write(new WriteBatch().put(Bucket.meta, Uint8Array.of(i), new Uint8Array(1000))),
      );
      await db.settled();
      for (let i = 0; i < 20; i++) expect(await db.get(Bucket.meta, Uint8Array.of(i))).toBeDefined();
      await Promise.all(writes);
    } finally {
      await db.close();
    }
  });

  it("tells observers of each batch when write() is called, until they stop observing", async () => {
    const db = await open();
    try {
      const seen: number[] = [];
      const stop = db.observeWrites((b) => seen.push(b.ops.length));
      const p = db.write(
        new WriteBatch().put(Bucket.meta, Uint8Array.of(1), Uint8Array.of(1)).del(Bucket.meta, Uint8Array.of(2)),
      );
      expect(seen).toEqual([2]);
      await p;
      stop();
      await db.write(new WriteBatch().put(Bucket.meta, Uint8Array.of(3), Uint8Array.of(1)));
      expect(seen).toEqual([2]);
    } finally {
      await db.close();
    }
  });

  it("lists the keys of a bucket in order from a key, without reading values", async () => {
    const db = await open();
    try {
      const b = new WriteBatch();
      for (let i = 0; i < 2500; i++) b.put(Bucket.stateNodes, Uint8Array.of(i >> 8, i & 255), new Uint8Array(100));
      b.put(Bucket.code, Uint8Array.of(0), Uint8Array.of(1));
      await db.write(b);
      const keys: number[] = [];
      for await (const k of db.keys(Bucket.stateNodes, { from: Uint8Array.of(1, 0), limit: 2000 })) {
        keys.push(((k[0] as number) << 8) | (k[1] as number));
      }
      expect(keys).toEqual(Array.from({ length: 2000 }, (_, i) => 256 + i));
    } finally {
      await db.close();
    }
  });
});
