// The journal file format: records round-trip in order, a torn or corrupt tail is cut off at the last whole frame, and
// lengths out of bounds are refused on write and stop the reader without allocating.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeJournal,
  encodeFrames,
  JOURNAL_MAGIC,
  type JournalLimits,
  readJournalFile,
  TxJournalError,
} from "./txJournalFile.ts";

const limits: JournalLimits = { maxRecordBytes: 1000, maxFrameBytes: 2048 };
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const journal = (...parts: Uint8Array[]) => Buffer.concat([JOURNAL_MAGIC, ...parts]);
const hexes = (rs: Uint8Array[]) => rs.map((r) => Buffer.from(r).toString("hex"));

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("transaction journal format", () => {
  it("round-trips records in order, splitting batches into frames of at most maxFrameBytes", () => {
    const raws = Array.from({ length: 9 }, (_, i) => bytes(300 + i, i + 1));
    const frames = encodeFrames(raws, limits);
    // 9 records of ~304 bytes: 6 fit in a 2048-byte frame, so two frames.
    expect(frames.length).toBe(2 * 8 + raws.reduce((n, r) => n + 4 + r.length, 0));
    const out = decodeJournal(journal(frames), limits);
    expect(out.stop).toBeUndefined();
    expect(out.discardedBytes).toBe(0);
    expect(hexes(out.records)).toEqual(hexes(raws));
  });

  it("an empty or missing file is an empty journal", async () => {
    expect(decodeJournal(new Uint8Array(0), limits)).toMatchObject({ records: [], discardedBytes: 0 });
    expect(decodeJournal(JOURNAL_MAGIC, limits)).toMatchObject({ records: [], discardedBytes: 0 });
    const missing = await readJournalFile("/nonexistent/txpool.journal", limits);
    expect(missing).toMatchObject({ records: [], fileBytes: 0, discardedBytes: 0 });
  });

  it("a torn last frame (cut at any byte) is ignored and the frames before it are kept", () => {
    const first = encodeFrames([bytes(10, 1), bytes(20, 2)], limits);
    const last = encodeFrames([bytes(30, 3), bytes(40, 4)], limits);
    for (let cut = 1; cut < last.length; cut++) {
      const out = decodeJournal(journal(first, last.subarray(0, cut)), limits);
      expect(out.stop).toBe("truncated");
      expect(out.discardedBytes).toBe(cut);
      expect(hexes(out.records)).toEqual(hexes([bytes(10, 1), bytes(20, 2)]));
    }
  });

  it("a complete frame with a bad checksum, and everything after it, is ignored", () => {
    const good = encodeFrames([bytes(10, 1)], limits);
    const bad = encodeFrames([bytes(10, 2)], limits);
    bad[bad.length - 1] ^= 0xff;
    const after = encodeFrames([bytes(10, 3)], limits);
    const out = decodeJournal(journal(good, bad, after), limits);
    expect(out.stop).toBe("checksum");
    expect(out.discardedBytes).toBe(bad.length + after.length);
    expect(hexes(out.records)).toEqual(hexes([bytes(10, 1)]));
  });

  it("a zero-filled tail (a power loss after the file grew) stops the reader", () => {
    const good = encodeFrames([bytes(10, 1)], limits);
    const out = decodeJournal(journal(good, new Uint8Array(4096)), limits);
    expect(out.stop).toBe("frame-length");
    expect(out.records).toHaveLength(1);
  });

  it("refuses to write an oversized or empty record", () => {
    const refuse = (raws: Uint8Array[]) => {
      try {
        encodeFrames(raws, limits);
      } catch (e) {
        expect(e).toBeInstanceOf(TxJournalError);
        return (e as TxJournalError).type;
      }
      throw new Error("expected a refusal");
    };
    expect(refuse([bytes(10, 1), bytes(1001, 2)])).toEqual({
      code: "JOURNAL_RECORD_TOO_LARGE",
      size: 1001,
      limit: 1000,
    });
    expect(refuse([new Uint8Array(0)])).toEqual({ code: "JOURNAL_RECORD_EMPTY" });
    expect(encodeFrames([bytes(1000, 1)], limits).length).toBe(8 + 4 + 1000);
  });

  it("stops at a frame length over maxFrameBytes without reading it, and at an oversized record in a valid frame", () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0xffff_ffff, 0);
    expect(decodeJournal(journal(huge), limits)).toMatchObject({ records: [], stop: "frame-length" });
    // Written with larger limits: a frame over maxFrameBytes, and a checksummed frame holding a record over
    // maxRecordBytes.
    const wideFrame = encodeFrames([bytes(3000, 1)], { maxRecordBytes: 4000, maxFrameBytes: 8192 });
    expect(decodeJournal(journal(wideFrame), limits)).toMatchObject({ records: [], stop: "frame-length" });
    const wideRecord = encodeFrames([bytes(1500, 1)], { maxRecordBytes: 2000, maxFrameBytes: 4096 });
    expect(decodeJournal(journal(wideRecord), limits)).toMatchObject({ records: [], stop: "record-length" });
  });

  it("a file that is not a journal is not read", () => {
    const out = decodeJournal(Buffer.from("not a journal at all"), limits);
    expect(out).toMatchObject({ records: [], stop: "bad-magic", discardedBytes: 20 });
  });

  it("reading a file in small chunks gives what decoding it whole gives", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rustchain-journal-format-"));
    dirs.push(dir);
    const raws = Array.from({ length: 40 }, (_, i) => bytes(1 + ((i * 37) % 900), i + 1));
    const file = journal(
      encodeFrames(raws.slice(0, 25), limits),
      encodeFrames(raws.slice(25), limits),
      encodeFrames([bytes(50, 9)], limits).subarray(0, 30),
    );
    const path = join(dir, "txpool.journal");
    await writeFile(path, file);
    for (const chunk of [1, 7, 64, 4096, 1 << 20]) {
      const out = await readJournalFile(path, limits, chunk);
      expect(out.stop).toBe("truncated");
      expect(out.discardedBytes).toBe(30);
      expect(hexes(out.records)).toEqual(hexes(raws));
    }
  });

  it("never throws on arbitrary bytes, and keeps exactly the whole frames of a valid prefix", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 12 }),
        fc.uint8Array({ maxLength: 200 }),
        (raws, junk) => {
          const prefix = journal(encodeFrames(raws, limits));
          const out = decodeJournal(Buffer.concat([prefix, junk]), limits);
          // Junk can only ever look like more frames by matching a CRC; it never removes a whole frame before it.
          expect(hexes(out.records.slice(0, raws.length))).toEqual(hexes(raws));
          expect(out.discardedBytes).toBeLessThanOrEqual(junk.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
