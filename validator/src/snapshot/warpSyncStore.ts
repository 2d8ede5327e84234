// Warp-sync progress on disk, so a killed sync resumes without downloading verified chunks again: the one owner of
//   meta "warp-sync"     snapshot id ‖ BLAKE3(manifest): a sync is under way (written before the first chunk)
//   warpSync  u32 index  what the verified chunk proved (its ChunkSummary), or for certificate and header chunks
//                        their decompressed bytes (they are re-checked as a chain on resume)
// A chunk's marker is written in the same batch as the chunk's state, so a crash leaves both or neither.
import { Bucket, type Database, WriteBatch } from "../db/database.ts";

const META_WARP_SYNC = new TextEncoder().encode("warp-sync");

function indexKey(index: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, index);
  return k;
}

export class WarpSyncStore {
  constructor(private readonly db: Database) {}

  async current(): Promise<{ id: string; manifestHash: Uint8Array } | undefined> {
    const v = await this.db.get(Bucket.meta, META_WARP_SYNC);
    if (!v || v.length < 33) return undefined;
    return { id: new TextDecoder().decode(v.subarray(32)), manifestHash: v.slice(0, 32) };
  }

  begin(id: string, manifestHash: Uint8Array): Promise<void> {
    const v = new Uint8Array(32 + id.length);
    v.set(manifestHash);
    v.set(new TextEncoder().encode(id), 32);
    return this.db.write(new WriteBatch().put(Bucket.meta, META_WARP_SYNC, v));
  }

  /** Record a verified chunk in `batch` (the batch that writes its state). */
  markDone(batch: WriteBatch, index: number, record: Uint8Array): void {
    batch.put(Bucket.warpSync, indexKey(index), record);
  }

  async done(): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    for await (const [k, v] of this.db.range(Bucket.warpSync)) {
      out.set(new DataView(k.buffer, k.byteOffset).getUint32(0), v);
    }
    return out;
  }

  /** The sync is complete: add the end of it to the batch that anchors the chain. */
  finish(batch: WriteBatch): void {
    batch.del(Bucket.meta, META_WARP_SYNC);
  }

  /** Drop the per-chunk records of a finished sync (garbage once the meta record is gone). */
  async clear(): Promise<void> {
    let batch = new WriteBatch();
    for await (const [k] of this.db.range(Bucket.warpSync)) {
      batch.del(Bucket.warpSync, k);
      if (batch.ops.length >= 10_000) {
        await this.db.write(batch);
        batch = new WriteBatch();
      }
    }
    await this.db.write(batch);
  }
}
