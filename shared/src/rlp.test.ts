// rlpEncode (one buffer, two passes) is byte-identical to @ethereumjs/rlp for any input shape; decoding round-trips.
import { RLP } from "@ethereumjs/rlp";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChainError } from "./errors.ts";
import { bigintToBytes, bytesToHex } from "./hex.ts";
import { type RlpInput, rlpDecode, rlpEncode } from "./rlp.ts";

/** What rlpEncode meant before: integers to minimal big-endian bytes, null to empty, then @ethereumjs/rlp. */
function reference(x: RlpInput): Uint8Array {
  const normalize = (v: RlpInput): Parameters<typeof RLP.encode>[0] => {
    if (v === null) return new Uint8Array(0);
    if (typeof v === "bigint") return bigintToBytes(v);
    if (typeof v === "number") return bigintToBytes(BigInt(v));
    if (Array.isArray(v)) return v.map(normalize);
    return v;
  };
  return RLP.encode(normalize(x));
}

const leaf: fc.Arbitrary<RlpInput> = fc.oneof(
  fc.uint8Array({ maxLength: 3 }),
  fc.uint8Array({ minLength: 50, maxLength: 60 }),
  fc.uint8Array({ minLength: 250, maxLength: 300 }),
  fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  fc.bigInt({ min: 0n, max: 300n }),
  fc.nat(),
  fc.constant(null),
);
const { tree } = fc.letrec<{ tree: RlpInput }>((tie) => ({
  tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, fc.array(tie("tree"), { maxLength: 8 })),
}));

describe("rlpEncode", () => {
  it("matches @ethereumjs/rlp for random nested inputs, and decodes back to the same bytes", () => {
    fc.assert(
      fc.property(tree, (x) => {
        const ours = rlpEncode(x);
        expect(bytesToHex(ours)).toBe(bytesToHex(reference(x)));
        expect(rlpEncode(rlpDecode(ours))).toEqual(ours);
      }),
      { numRuns: 1000 },
    );
  });

  it("long headers: lists and strings past 55 bytes, 64 KiB and 16 MiB boundaries", () => {
    for (const len of [55, 56, 255, 256, 65535, 65536, 70000]) {
      const bytes = new Uint8Array(len).fill(0xab);
      expect(rlpEncode(bytes)).toEqual(reference(bytes));
      const list = Array.from({ length: Math.ceil(len / 10) }, () => new Uint8Array(9).fill(1));
      expect(rlpEncode(list)).toEqual(reference(list));
    }
  });

  it("refuses negative integers with a typed error", () => {
    expect(() => rlpEncode(-1n)).toThrow(ChainError);
    expect(() => rlpEncode([1n, -5n])).toThrow(ChainError);
  });
});
