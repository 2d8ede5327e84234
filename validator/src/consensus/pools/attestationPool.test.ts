// Attestation pool: singles and aggregates for the same data merge into one aggregate that still verifies, duplicates
// and overlaps change nothing or keep the bigger one, blocks get the fullest aggregates of the window, and memory stays
// within maxSlotsKept x maxDataPerSlot.
import { blsAggregateSignatures, blsKeypairFromSeed, blsSign } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import type { AttestationData, Root } from "../forkChoice/checkpoint.ts";
import {
  type AggregateAttestation,
  aggregateParticipants,
  attestationSigningRoot,
  type SignedAttestation,
  signAttestation,
  verifyAggregate,
} from "../messages/attestation.ts";
import { AttestationPool, AttestationPoolError } from "./attestationPool.ts";

const CHAIN_ID = 7n;
const COUNT = 12;
const keys = Array.from({ length: COUNT }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x40 + i)));
const pubkeys = keys.map((k) => k.publicKey);
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;

function data(slot: number, head = slot): AttestationData {
  return { slot, headRoot: r(head), source: { slot: slot - 1, root: r(slot - 1) }, target: { slot, root: r(slot) } };
}

function single(v: number, d: AttestationData): SignedAttestation {
  return signAttestation(keys[v]!.secretKey, CHAIN_ID, v, d);
}

function aggregate(indices: number[], d: AttestationData): AggregateAttestation {
  const bits = new Uint8Array(Math.ceil(COUNT / 8));
  for (const i of indices) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  const root = attestationSigningRoot(CHAIN_ID, d);
  return { data: d, bits, signature: blsAggregateSignatures(indices.map((i) => blsSign(keys[i]!.secretKey, root))) };
}

function pool(opts: { maxSlotsKept?: number; maxDataPerSlot?: number } = {}, count = COUNT): AttestationPool {
  return new AttestationPool(opts, { validatorCount: () => count });
}

describe("AttestationPool", () => {
  it("merges single attestations with the same data into one aggregate that verifies", () => {
    const p = pool();
    const d = data(5);
    expect(p.add(single(0, d))).toBe("created");
    expect(p.add(single(3, d))).toBe("merged");
    expect(p.add(single(9, d))).toBe("merged");
    const [agg] = p.forBlock(6, 10);
    expect(aggregateParticipants(agg!)).toEqual([0, 3, 9]);
    expect(verifyAggregate(agg!, CHAIN_ID, pubkeys)).toBe(true);
    expect(p.size).toBe(1);
  });

  it("ignores a single whose bit is already set (duplicate) and keeps different data apart", () => {
    const p = pool();
    expect(p.add(single(1, data(5)))).toBe("created");
    expect(p.add(single(1, data(5)))).toBe("known");
    expect(p.add(single(1, data(5, 4)))).toBe("created"); // other head: another aggregate
    expect(p.size).toBe(2);
    for (const agg of p.forBlock(6, 10)) expect(aggregateParticipants(agg)).toEqual([1]);
  });

  it("merges disjoint aggregates, keeps the bigger of overlapping ones", () => {
    const p = pool();
    const d = data(8);
    expect(p.addAggregate(aggregate([0, 1], d))).toBe("created");
    expect(p.addAggregate(aggregate([2, 3, 10], d))).toBe("merged");
    expect(p.addAggregate(aggregate([0, 4], d))).toBe("known"); // overlaps, smaller
    expect(p.addAggregate(aggregate([0, 1], d))).toBe("known"); // already included
    let [agg] = p.forBlock(9, 1);
    expect(aggregateParticipants(agg!)).toEqual([0, 1, 2, 3, 10]);
    expect(verifyAggregate(agg!, CHAIN_ID, pubkeys)).toBe(true);
    expect(p.addAggregate(aggregate([0, 4, 5, 6, 7, 8], d))).toBe("replaced"); // overlaps, bigger
    [agg] = p.forBlock(9, 1);
    expect(aggregateParticipants(agg!)).toEqual([0, 4, 5, 6, 7, 8]);
    expect(verifyAggregate(agg!, CHAIN_ID, pubkeys)).toBe(true);
    expect(p.add(single(11, d))).toBe("merged");
    [agg] = p.forBlock(9, 1);
    expect(verifyAggregate(agg!, CHAIN_ID, pubkeys)).toBe(true);
  });

  it("never mutates an aggregate it returned or was given", () => {
    const p = pool();
    const given = aggregate([0], data(3));
    const bits = given.bits.slice();
    p.addAggregate(given);
    const [before] = p.forBlock(4, 1);
    const snapshot = before!.bits.slice();
    p.add(single(5, data(3)));
    expect(before!.bits).toEqual(snapshot);
    expect(given.bits).toEqual(bits);
  });

  it("refuses attestations that do not fit the validator set (invalid)", () => {
    const p = pool({}, 8);
    expect(p.add(single(9, data(3)))).toBe("invalid"); // index outside a set of 8
    expect(p.addAggregate(aggregate([0], data(3)))).toBe("invalid"); // 2 bytes of bits for a set of 8
    const narrow = pool({}, 10);
    const beyond = aggregate([0, 11], data(3)); // bit 11 in a set of 10
    expect(narrow.addAggregate(beyond)).toBe("invalid");
    expect(narrow.addAggregate({ ...aggregate([0], data(3)), bits: new Uint8Array(2) })).toBe("invalid"); // empty
    expect(narrow.addAggregate({ ...aggregate([0], data(3)), signature: new Uint8Array(3) })).toBe("invalid");
    expect(narrow.add({ ...single(1, data(3)), data: { ...data(3), slot: 4 } })).toBe("invalid"); // bad link
    expect(narrow.size).toBe(0);
  });

  it("forBlock: only slots in [slot - maxSlotsKept, slot), most participants first, at most maxCount", () => {
    const p = pool({ maxSlotsKept: 4 });
    p.addAggregate(aggregate([0], data(1)));
    p.addAggregate(aggregate([0, 1, 2], data(6)));
    p.addAggregate(aggregate([0, 1], data(7)));
    p.addAggregate(aggregate([3, 4, 5, 6], data(7, 6)));
    p.addAggregate(aggregate([0, 1, 2, 3, 4, 5, 6, 7], data(9)));
    const slots = (aggs: AggregateAttestation[]) => aggs.map((a) => [a.data.slot, aggregateParticipants(a).length]);
    expect(slots(p.forBlock(9, 10))).toEqual([
      [7, 4],
      [6, 3],
      [7, 2],
    ]);
    expect(slots(p.forBlock(9, 2))).toEqual([
      [7, 4],
      [6, 3],
    ]);
    expect(slots(p.forBlock(10, 10, (d) => !(d.slot === 7 && d.headRoot === r(6))))).toEqual([
      [9, 8],
      [6, 3],
      [7, 2],
    ]);
    expect(p.forBlock(1, 10)).toEqual([]);
  });

  it("prune(minSlot) drops older slots and refuses them afterwards", () => {
    const p = pool();
    p.add(single(0, data(3)));
    p.add(single(0, data(4)));
    p.prune(4);
    expect(p.size).toBe(1);
    expect(p.add(single(1, data(3)))).toBe("too_old");
    expect(p.add(single(1, data(4)))).toBe("merged");
  });

  it("keeps at most maxSlotsKept slots, dropping the oldest", () => {
    const p = pool({ maxSlotsKept: 3 });
    for (let s = 10; s < 20; s++) expect(p.add(single(0, data(s)))).toBe("created");
    expect(p.size).toBe(3);
    expect(p.add(single(1, data(12)))).toBe("too_old");
    expect(p.forBlock(20, 10).map((a) => a.data.slot)).toEqual([19, 18, 17]);
  });

  it("keeps at most maxDataPerSlot aggregates per slot; a newcomer evicts only the least-supported", () => {
    const p = pool({ maxDataPerSlot: 2 });
    expect(p.addAggregate(aggregate([0, 1, 2], data(5, 1)))).toBe("created");
    expect(p.addAggregate(aggregate([3, 4], data(5, 2)))).toBe("created");
    expect(p.add(single(5, data(5, 3)))).toBe("full"); // 1 participant < 2
    expect(p.addAggregate(aggregate([5, 6], data(5, 3)))).toBe("created"); // evicts [3, 4]
    expect(p.size).toBe(2);
    expect(p.forBlock(6, 10).map((a) => a.data.headRoot)).toEqual([r(1), r(3)]);
  });

  it("stays bounded under a flood of distinct data", () => {
    const p = pool({ maxSlotsKept: 4, maxDataPerSlot: 3 });
    const sig = single(0, data(2)).signature;
    for (let s = 1; s <= 40; s++) {
      for (let h = 0; h < 10; h++) p.add({ validatorIndex: h % COUNT, data: data(s, s * 100 + h), signature: sig });
    }
    expect(p.size).toBeLessThanOrEqual(4 * 3);
  });

  it("rejects invalid options with ATTESTATION_POOL_INVALID_OPTIONS", () => {
    expect(() => pool({ maxSlotsKept: 0 })).toThrow(AttestationPoolError);
    expect(() => pool({ maxDataPerSlot: 1.5 })).toThrow(AttestationPoolError);
  });
});
