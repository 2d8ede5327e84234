// The transaction journal's file format (<datadir>/txpool.journal; lifecycle in txJournal.ts). This module owns the
// encoding; nothing else reads or writes the file's bytes.
//
//   file    = magic "RCTXJNL1" (8 bytes), frame*
//   frame   = u32be payloadLength | u32be crc32(payload) | payload      1 ≤ payloadLength ≤ maxFrameBytes
//   payload = record+
//   record  = u32be length | raw transaction                            1 ≤ length ≤ maxRecordBytes
//
// One append (every transaction the pool accepted in one event-loop turn) is one frame written with one write(2), so
// the checksum costs per batch, not per transaction, and a batch is on disk whole or not at all: a write torn by a
// crash leaves an incomplete or mismatching last frame, whose transactions had not been acknowledged yet.
//
// Reader invariants: it holds at most one read chunk plus one frame (both bounded) beyond the records it returns; it
// stops at the first frame that is incomplete, fails its checksum, or declares a length out of bounds, returns every
// record before it, and reports the bytes from there on as discarded without interpreting them.
import { open } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { RustChainError } from "@rustchain/shared";

export const JOURNAL_MAGIC = Buffer.from("RCTXJNL1", "latin1");
const FRAME_HEADER = 8;
const RECORD_HEADER = 4;

export interface JournalLimits {
  /** Largest raw transaction a record may hold. */
  maxRecordBytes: number;
  /** Largest frame payload; at least one record of `maxRecordBytes` must fit. */
  maxFrameBytes: number;
}

export type TxJournalErrorType =
  | { code: "JOURNAL_RECORD_TOO_LARGE"; size: number; limit: number }
  | { code: "JOURNAL_RECORD_EMPTY" }
  | { code: "JOURNAL_LIMITS_INVALID"; maxRecordBytes: number; maxFrameBytes: number };
export class TxJournalError extends RustChainError<TxJournalErrorType> {}

export function checkJournalLimits(limits: JournalLimits): void {
  const { maxRecordBytes, maxFrameBytes } = limits;
  // The frame length is a u32 and a maximal record must fit in one frame.
  if (maxRecordBytes < 1 || maxFrameBytes < maxRecordBytes + RECORD_HEADER || maxFrameBytes > 0xffff_ffff)
    throw new TxJournalError({ code: "JOURNAL_LIMITS_INVALID", maxRecordBytes, maxFrameBytes });
}

/** Raw transactions as frames (split at `maxFrameBytes`), ready for one write. Refuses empty or oversized records. */
export function encodeFrames(raws: readonly Uint8Array[], limits: JournalLimits): Buffer {
  let total = 0;
  let frames = 0;
  let frameBytes = 0;
  for (const raw of raws) {
    if (raw.length === 0) throw new TxJournalError({ code: "JOURNAL_RECORD_EMPTY" });
    if (raw.length > limits.maxRecordBytes)
      throw new TxJournalError({ code: "JOURNAL_RECORD_TOO_LARGE", size: raw.length, limit: limits.maxRecordBytes });
    const size = RECORD_HEADER + raw.length;
    if (frames === 0 || frameBytes + size > limits.maxFrameBytes) {
      frames++;
      frameBytes = 0;
    }
    frameBytes += size;
    total += size;
  }
  const out = Buffer.allocUnsafe(total + frames * FRAME_HEADER);
  let frameStart = 0;
  let pos = FRAME_HEADER;
  const closeFrame = () => {
    const payload = out.subarray(frameStart + FRAME_HEADER, pos);
    out.writeUInt32BE(payload.length, frameStart);
    out.writeUInt32BE(crc32(payload), frameStart + 4);
  };
  for (const raw of raws) {
    const size = RECORD_HEADER + raw.length;
    if (pos - frameStart - FRAME_HEADER + size > limits.maxFrameBytes) {
      closeFrame();
      frameStart = pos;
      pos += FRAME_HEADER;
    }
    out.writeUInt32BE(raw.length, pos);
    out.set(raw, pos + RECORD_HEADER);
    pos += size;
  }
  if (raws.length > 0) closeFrame();
  return raws.length > 0 ? out : Buffer.alloc(0);
}

/** Why reading stopped before the end of the file. */
export type JournalStop =
  /** The file does not start with the magic: not a journal (or its header was torn); nothing is read. */
  | "bad-magic"
  /** The last frame ends past the end of the file: a write torn by a crash. */
  | "truncated"
  /** A complete frame whose checksum does not match: torn or garbage data (e.g. after a power loss). */
  | "checksum"
  /** A frame length of 0 or over maxFrameBytes. */
  | "frame-length"
  /** A frame with a good checksum whose records do not parse (empty, oversized, or running past the frame). */
  | "record-length";

interface ScanResult {
  /** Offset just past the last good frame. */
  pos: number;
  stop?: JournalStop;
  /** Bytes needed from `pos` to go on (set when the buffer ends inside a frame). */
  need?: number;
}

/** Parse whole frames of `buf` from `pos`, pushing their records to `out`; stops at the first bad or partial frame. */
function scanFrames(buf: Buffer, pos: number, limits: JournalLimits, out: Uint8Array[]): ScanResult {
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER) return { pos, need: FRAME_HEADER };
    const len = buf.readUInt32BE(pos);
    if (len === 0 || len > limits.maxFrameBytes) return { pos, stop: "frame-length" };
    if (buf.length - pos - FRAME_HEADER < len) return { pos, need: FRAME_HEADER + len };
    const payload = buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len);
    if (crc32(payload) !== buf.readUInt32BE(pos + 4)) return { pos, stop: "checksum" };
    const records: Uint8Array[] = [];
    for (let p = 0; p < payload.length; ) {
      if (payload.length - p < RECORD_HEADER) return { pos, stop: "record-length" };
      const size = payload.readUInt32BE(p);
      if (size === 0 || size > limits.maxRecordBytes || size > payload.length - p - RECORD_HEADER)
        return { pos, stop: "record-length" };
      // A copy: a view would keep (and, sent to a worker thread, clone) the whole read chunk.
      records.push(new Uint8Array(payload.subarray(p + RECORD_HEADER, p + RECORD_HEADER + size)));
      p += RECORD_HEADER + size;
    }
    for (const r of records) out.push(r);
    pos += FRAME_HEADER + len;
  }
  return { pos };
}

export interface JournalContents {
  /** Raw transactions in file order. */
  records: Uint8Array[];
  /** Bytes of the file (0 when it does not exist). */
  fileBytes: number;
  /** Bytes from the first bad or partial frame to the end of the file, not read. */
  discardedBytes: number;
  stop?: JournalStop;
}

/** Decode a whole journal held in memory (tests, tools); the same rules as `readJournalFile`. */
export function decodeJournal(bytes: Uint8Array, limits: JournalLimits): JournalContents {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  if (buf.length === 0) return { records, fileBytes: 0, discardedBytes: 0 };
  if (buf.length < JOURNAL_MAGIC.length || !buf.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC))
    return { records, fileBytes: buf.length, discardedBytes: buf.length, stop: "bad-magic" };
  const r = scanFrames(buf, JOURNAL_MAGIC.length, limits, records);
  const stop = r.stop ?? (r.need !== undefined ? "truncated" : undefined);
  return { records, fileBytes: buf.length, discardedBytes: buf.length - r.pos, stop };
}

/** Read a journal file in chunks of `chunkBytes` (a missing file is an empty journal). */
export async function readJournalFile(
  path: string,
  limits: JournalLimits,
  chunkBytes = 4 << 20,
): Promise<JournalContents> {
  const records: Uint8Array[] = [];
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { records, fileBytes: 0, discardedBytes: 0 };
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return { records, fileBytes: 0, discardedBytes: 0 };
    const magic = Buffer.alloc(JOURNAL_MAGIC.length);
    const { bytesRead } = await fh.read(magic, 0, magic.length, 0);
    if (bytesRead < magic.length || !magic.equals(JOURNAL_MAGIC))
      return { records, fileBytes: size, discardedBytes: size, stop: "bad-magic" };
    /** File offset of buf[0]. */
    let bufStart = JOURNAL_MAGIC.length;
    let buf = Buffer.alloc(0);
    for (;;) {
      const r = scanFrames(buf, 0, limits, records);
      buf = buf.subarray(r.pos);
      bufStart += r.pos;
      if (r.stop) return { records, fileBytes: size, discardedBytes: size - bufStart, stop: r.stop };
      const fileLeft = size - (bufStart + buf.length);
      if (fileLeft <= 0) {
        const stop = buf.length > 0 ? "truncated" : undefined;
        return { records, fileBytes: size, discardedBytes: buf.length, stop };
      }
      // The next chunk, or the whole of a frame larger than a chunk (bounded by maxFrameBytes).
      const want = Math.min(fileLeft, Math.max(chunkBytes, (r.need ?? 0) - buf.length));
      const next = Buffer.allocUnsafe(buf.length + want);
      buf.copy(next, 0);
      let got = 0;
      while (got < want) {
        const n = (await fh.read(next, buf.length + got, want - got, bufStart + buf.length + got)).bytesRead;
        if (n === 0) break;
        got += n;
      }
      buf = next.subarray(0, buf.length + got);
      if (got === 0) return { records, fileBytes: size, discardedBytes: buf.length, stop: "truncated" };
    }
  } finally {
    await fh.close();
  }
}
