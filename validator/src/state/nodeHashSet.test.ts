// The pruner's mark set agrees with a JS Set on random hashes, through its growth, the all-zero key and duplicates.
import { bytesToHex } from "@rustchain/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NodeHashSet } from "./nodeHashSet.ts";

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
// Hashes that share prefixes and fall into the same slots, and the empty-slot marker (16 zero bytes) itself.
const nasty = fc.oneof(
  hash32,
  fc.constant(new Uint8Array(32)),
  fc.integer({ min: 0, max: 255 }).map((i) => Uint8Array.from({ length: 32 }, (_, j) => (j === 15 ? i : 0))),
);

describe("NodeHashSet", () => {
  it("answers has() and add() exactly like a Set of the first 16 bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), nasty), { maxLength: 400 }), (ops) => {
        const set = new NodeHashSet();
        const ref = new Set<string>();
        for (const [add, h] of ops) {
          const k = bytesToHex(h.subarray(0, 16));
          if (add) expect(set.add(h)).toBe(!ref.has(k));
          else expect(set.has(h)).toBe(ref.has(k));
          if (add) ref.add(k);
        }
        expect(set.size).toBe(ref.size);
      }),
      { numRuns: 200 },
    );
  });

  it("holds 300,000 hashes through its growth", () => {
    const set = new NodeHashSet();
    const h = new Uint8Array(32);
    const view = new DataView(h.buffer);
    for (let i = 0; i < 300_000; i++) {
      view.setUint32(0, Math.imul(i, 2654435761) >>> 0);
      view.setUint32(8, i);
      expect(set.add(h)).toBe(true);
    }
    expect(set.size).toBe(300_000);
    for (let i = 0; i < 300_000; i += 997) {
      view.setUint32(0, Math.imul(i, 2654435761) >>> 0);
      view.setUint32(8, i);
      expect(set.has(h)).toBe(true);
      view.setUint32(12, 1);
      expect(set.has(h)).toBe(false);
      view.setUint32(12, 0);
    }
    // Never more than half full: 16 bytes a slot.
    expect(set.bytes).toBeLessThanOrEqual(300_000 * 2 * 16 * 2);
  });
});
