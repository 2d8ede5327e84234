// Verifying a state chunk off the event loop (CONVENTIONS 8): hash check, bounded zstd decompression, and the proofs
// against the state root run in a worker thread; what to write comes back packed in one transferable buffer, so the
// main thread only turns it into a RocksDB batch. A refusal comes back as the SnapshotError's type (errors lose
// their class across threads). The same function runs inline where a pool is not worth it.
import { zstdDecompressSync } from "node:zlib";
import { blake3, concatBytes } from "@rustchain/shared";
import { checkChunkHash, encodeSummary, type VerifiedChunk, verifyChunk } from "@rustchain/shared/snapshot/chunks";
import { SnapshotError, type SnapshotErrorType } from "@rustchain/shared/snapshot/errors";
import type { ChunkEntry } from "@rustchain/shared/snapshot/manifest";

/** Where a packed write goes (mapped to database buckets by the caller: this module loads no database binding). */
export const WriteTarget = { flatAccount: 1, flatStorage: 2, preimage: 3, trieNode: 4, code: 5 } as const;
export type WriteTarget = (typeof WriteTarget)[keyof typeof WriteTarget];

export interface ChunkTask {
  entry: ChunkEntry;
  stored: Uint8Array;
  stateRoot: Uint8Array;
}

export type ChunkTaskResult =
  | { ok: true; summary: Uint8Array; writes: Uint8Array; raw: Uint8Array }
  | { ok: false; error: SnapshotErrorType };

/** Hash-check, decompress and verify one stored chunk; never throws for bad data. */
export async function verifyStoredChunk(task: ChunkTask): Promise<ChunkTaskResult> {
  const { entry, stored, stateRoot } = task;
  try {
    checkChunkHash(entry, stored);
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(zstdDecompressSync(stored, { maxOutputLength: Math.max(1, entry.rawSize) }));
    } catch (e) {
      throw new SnapshotError({
        code: "SNAPSHOT_CHUNK_MALFORMED",
        index: entry.index,
        reason: `zstd: ${(e as Error).message}`,
      });
    }
    const verified = await verifyChunk(entry, raw, stateRoot);
    // The decompressed bytes go back only for certificate and header chunks (checked as a chain by the caller).
    const chain = verified.kind === "certificates" || verified.kind === "headers";
    return {
      ok: true,
      summary: encodeSummary(verified.summary),
      writes: packWrites(verified),
      raw: chain ? raw : new Uint8Array(0),
    };
  } catch (e) {
    if (e instanceof SnapshotError) return { ok: false, error: e.type };
    throw e;
  }
}

export default verifyStoredChunk;

/** Writes as [target u8][key length u16][key][value length u32][value]… */
function packWrites(v: VerifiedChunk): Uint8Array {
  const ops: [WriteTarget, Uint8Array, Uint8Array][] = [];
  switch (v.kind) {
    case "accounts":
      for (const a of v.accounts) {
        ops.push([WriteTarget.flatAccount, a.address, a.encoded]);
        ops.push([WriteTarget.preimage, blake3(a.address), a.address]);
      }
      for (const [h, enc] of v.nodes) ops.push([WriteTarget.trieNode, h, enc]);
      break;
    case "storage":
      for (const s of v.slots) {
        ops.push([WriteTarget.flatStorage, concatBytes(s.address, s.slot), s.value]);
        ops.push([WriteTarget.preimage, blake3(s.slot), s.slot]);
      }
      for (const [h, enc] of v.nodes) ops.push([WriteTarget.trieNode, h, enc]);
      break;
    case "code":
      for (const c of v.codes) ops.push([WriteTarget.code, c.hash, c.code]);
      break;
    default:
      break;
  }
  let size = 0;
  for (const [, k, val] of ops) size += 7 + k.length + val.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [target, k, val] of ops) {
    out[at] = target;
    view.setUint16(at + 1, k.length);
    out.set(k, at + 3);
    at += 3 + k.length;
    view.setUint32(at, val.length);
    out.set(val, at + 4);
    at += 4 + val.length;
  }
  return out;
}

/** Walk packed writes (the inverse of packWrites). */
export function* unpackWrites(packed: Uint8Array): Generator<[WriteTarget, Uint8Array, Uint8Array]> {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  let at = 0;
  while (at < packed.length) {
    const target = packed[at] as WriteTarget;
    const kl = view.getUint16(at + 1);
    const key = packed.subarray(at + 3, at + 3 + kl);
    at += 3 + kl;
    const vl = view.getUint32(at);
    const value = packed.subarray(at + 4, at + 4 + vl);
    at += 4 + vl;
    yield [target, key, value];
  }
}
