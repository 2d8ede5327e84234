// Hex decoding of JSON-RPC data: exactly "0x" and whole bytes of hex digits, in either case; anything else refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChainError } from "./errors.ts";
import { bytesToHex, decodeHexData, hexToBytes } from "./hex.ts";

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
        fc.constantFrom("g", "G", " ", "x", "-", "é", "\u0000"),
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
