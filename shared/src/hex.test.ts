// Hex decoding of JSON-RPC data: exactly "0x" and whole bytes of hex digits, in either case; anything else refused.
// The byte helpers are plain Uint8Array code (shared runs in Workers); here they are checked against Node's Buffer,
// which they replaced. On Node 24 this runs the JavaScript paths; edge/test/workers/sharedRuntime.test.ts runs the
// same inputs through workerd's native Uint8Array.fromHex / toHex.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChainError } from "./errors.ts";
import {
  bigintToBytes,
  bytesToBigint,
  bytesToHex,
  compareBytes,
  concatBytes,
  decodeHexData,
  equalBytes,
  hexToBytes,
} from "./hex.ts";

const bufferHex = (b: Uint8Array) => `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}`;

describe("decodeHexData", () => {
  it("round-trips any bytes, lower or upper case", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, upper) => {
        const hex = bytesToHex(bytes);
        const text = upper ? `0x${hex.slice(2).toUpperCase()}` : hex;
        expect(decodeHexData(text)).toEqual(bytes);
      }),
    );
  });

  it("refuses a non-hex character anywhere, odd length, and a missing or upper-case prefix", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.constantFrom("g", "G", " ", "x", "-", "é", "\u0000", "\u0130", "\ud800", "😀"),
        (bytes, at, bad) => {
          const hex = bytesToHex(bytes);
          const i = 2 + (at % (hex.length - 2));
          expect(decodeHexData(hex.slice(0, i) + bad + hex.slice(i + 1))).toBeUndefined();
        },
      ),
    );
    for (const bad of ["", "0", "0x0", "0xabc", "ab", "0Xab", "x0ab", "0x 1"])
      expect(decodeHexData(bad), bad).toBeUndefined();
    expect(decodeHexData("0x")).toEqual(new Uint8Array(0));
    expect(() => hexToBytes("0xzz")).toThrow(ChainError);
  });

  it("gives each result its own buffer (safe to hand to a worker thread)", () => {
    const a = decodeHexData("0x0102") as Uint8Array;
    expect(a.buffer.byteLength).toBe(2);
  });
});

describe("byte helpers against Buffer", () => {
  it("bytesToHex and decodeHexData agree with Buffer at every size, including views and past the scratch space", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000, size: "max" }), fc.nat(8), (bytes, offset) => {
        const view = bytes.subarray(Math.min(offset, bytes.length));
        expect(bytesToHex(view)).toBe(bufferHex(view));
        expect(decodeHexData(bufferHex(view))).toEqual(view);
      }),
      { numRuns: 300 },
    );
    // Larger than the scratch space kept between calls, then small again.
    for (const size of [200_000, 33, 70_000, 5]) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
      expect(bytesToHex(bytes)).toBe(bufferHex(bytes));
      expect(decodeHexData(`0x${bufferHex(bytes).slice(2).toUpperCase()}`)).toEqual(bytes);
    }
  });

  it("compareBytes orders as Buffer.compare, equalBytes agrees with it, concatBytes as Buffer.concat", () => {
    const small = fc.uint8Array({ maxLength: 6 }).map((b) => b.map((x) => x & 3));
    fc.assert(
      fc.property(small, small, fc.uint8Array({ maxLength: 300, size: "max" }), (a, b, c) => {
        expect(compareBytes(a, b)).toBe(Buffer.compare(a, b));
        expect(equalBytes(a, b)).toBe(Buffer.compare(a, b) === 0);
        expect(equalBytes(c, c.slice())).toBe(true);
        // Long, aligned and unaligned, differing anywhere.
        const at = c.length > 0 ? (a.length * 7 + b.length) % c.length : 0;
        const d = c.slice();
        if (d.length > 0) d[at] = (d[at] as number) ^ 1;
        expect(equalBytes(c, d)).toBe(d.length === 0);
        expect(equalBytes(concatBytes(a, c).subarray(a.length), c)).toBe(true);
        expect(equalBytes(concatBytes(a, d).subarray(a.length), c)).toBe(d.length === 0);
        expect(concatBytes(a, c, b)).toEqual(new Uint8Array(Buffer.concat([a, c, b])));
      }),
      { numRuns: 500 },
    );
  });

  it("bigintToBytes is the minimal big-endian encoding and bytesToBigint its inverse", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 300n }), (n) => {
        const bytes = bigintToBytes(n);
        const hex = n.toString(16);
        expect(bufferHex(bytes)).toBe(n === 0n ? "0x" : `0x${hex.length % 2 ? `0${hex}` : hex}`);
        expect(bytesToBigint(bytes)).toBe(n);
      }),
    );
  });
});
