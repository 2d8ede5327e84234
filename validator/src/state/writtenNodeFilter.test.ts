// The written-nodes filter never forgets a node (a false negative would let the pruner delete a node just written)
// and its false positives stay near the Bloom bound.
import { blake3 } from "@rustchain/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WrittenNodeFilter } from "./writtenNodeFilter.ts";

describe("WrittenNodeFilter", () => {
  it("has every node added (no false negatives)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 500 }), (hashes) => {
        const f = new WrittenNodeFilter(12);
        for (const h of hashes) f.add(h);
        for (const h of hashes) expect(f.mayHave(h)).toBe(true);
        expect(f.added).toBe(hashes.length);
      }),
    );
  });

  it("keeps false positives near the Bloom bound (2^16 bits, 4 probes, 4,000 nodes: ~0.24%)", () => {
    const f = new WrittenNodeFilter(16);
    for (let i = 0; i < 4000; i++) f.add(blake3(Uint8Array.of(1, i >> 8, i & 255)));
    let positives = 0;
    for (let i = 0; i < 20_000; i++) if (f.mayHave(blake3(Uint8Array.of(2, i >> 8, i & 255)))) positives++;
    expect(positives / 20_000).toBeLessThan(0.01);
  });

  it("refuses a size it cannot index", () => {
    expect(() => new WrittenNodeFilter(32)).toThrow(RangeError);
    expect(() => new WrittenNodeFilter(4)).toThrow(RangeError);
  });
});
