// Finalize vote pool: single votes fold into one aggregate per checkpoint that still verifies for exactly its
// participants; a repeated vote changes nothing; other checkpoints of a slot get their own aggregate; memory stays
// within maxSlotsKept x maxCheckpointsPerSlot; prune drops older slots.
import { blsKeypairFromSeed } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import type { Checkpoint, Root } from "../forkChoice/checkpoint.ts";
import {
  aggregateParticipants,
  type SignedFinalizeVote,
  signFinalizeVote,
  verifyFinalizeAggregate,
} from "../messages/attestation.ts";
import { FinalizeVotePool } from "./finalizeVotePool.ts";

const CHAIN_ID = 7n;
const COUNT = 12;
const keys = Array.from({ length: COUNT }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x60 + i)));
const pubkeys = keys.map((k) => k.publicKey);
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const cp = (slot: number, root = slot): Checkpoint => ({ slot, root: r(root) });

function vote(v: number, checkpoint: Checkpoint): SignedFinalizeVote {
  return signFinalizeVote(keys[v]!.secretKey, CHAIN_ID, v, checkpoint);
}

function pool(opts: { maxSlotsKept?: number; maxCheckpointsPerSlot?: number } = {}): FinalizeVotePool {
  return new FinalizeVotePool(
    { maxSlotsKept: opts.maxSlotsKept ?? 8, maxCheckpointsPerSlot: opts.maxCheckpointsPerSlot ?? 4 },
    { validatorCount: () => COUNT },
  );
}

describe("FinalizeVotePool", () => {
  it("folds single votes into one aggregate per checkpoint that verifies over its participants", () => {
    const p = pool();
    const c = cp(5);
    expect(p.add(vote(0, c))).toBe(true);
    expect(p.add(vote(3, c))).toBe(true);
    expect(p.add(vote(9, c))).toBe(true);
    const agg = p.aggregateFor(c)!;
    expect(agg.checkpoint).toEqual(c);
    expect(agg.bits).toHaveLength(Math.ceil(COUNT / 8));
    expect(aggregateParticipants(agg)).toEqual([0, 3, 9]);
    expect(verifyFinalizeAggregate(agg, CHAIN_ID, pubkeys)).toBe(true);
    // The signature is the participants', not anyone else's: claiming one more participant breaks it.
    const bits = agg.bits.slice();
    bits[0] = (bits[0] as number) | 0b10;
    expect(verifyFinalizeAggregate({ ...agg, bits }, CHAIN_ID, pubkeys)).toBe(false);
  });

  it("a vote of a validator outside the set is refused and changes nothing (no slot evicted, aggregate intact)", () => {
    const small = new FinalizeVotePool({ maxSlotsKept: 2, maxCheckpointsPerSlot: 4 }, { validatorCount: () => 8 });
    expect(small.add(vote(0, cp(5)))).toBe(true);
    expect(small.add(vote(1, cp(6)))).toBe(true);
    expect(small.add(vote(9, cp(5)))).toBe(false);
    expect(small.add(vote(9, cp(7)))).toBe(false);
    expect(aggregateParticipants(small.aggregateFor(cp(5))!)).toEqual([0]);
    expect(verifyFinalizeAggregate(small.aggregateFor(cp(5))!, CHAIN_ID, pubkeys.slice(0, 8))).toBe(true);
    expect(small.aggregateFor(cp(6))).toBeDefined(); // slot 5 and 6 kept: the refused slot-7 vote evicted nothing
  });

  it("a repeated vote changes nothing and returns false", () => {
    const p = pool();
    const c = cp(5);
    expect(p.add(vote(1, c))).toBe(true);
    expect(p.add(vote(2, c))).toBe(true);
    const before = p.aggregateFor(c)!;
    expect(p.add(vote(1, c))).toBe(false);
    expect(p.add(vote(2, c))).toBe(false);
    const after = p.aggregateFor(c)!;
    expect(after.signature).toEqual(before.signature);
    expect(aggregateParticipants(after)).toEqual([1, 2]);
    expect(verifyFinalizeAggregate(after, CHAIN_ID, pubkeys)).toBe(true);
  });

  it("never mutates an aggregate it returned", () => {
    const p = pool();
    const c = cp(5);
    p.add(vote(1, c));
    const returned = p.aggregateFor(c)!;
    const bits = returned.bits.slice();
    const signature = returned.signature.slice();
    p.add(vote(4, c));
    expect(returned.bits).toEqual(bits);
    expect(returned.signature).toEqual(signature);
    expect(aggregateParticipants(p.aggregateFor(c)!)).toEqual([1, 4]);
  });

  it("another checkpoint of the same slot gets its own aggregate", () => {
    const p = pool();
    const a = cp(5, 5);
    const b = cp(5, 4); // slot 5 empty on another chain: its checkpoint's root is the block of slot 4
    expect(p.add(vote(0, a))).toBe(true);
    expect(p.add(vote(1, b))).toBe(true);
    expect(p.add(vote(2, a))).toBe(true);
    expect(p.add(vote(0, b))).toBe(true); // a double finalize is the slasher's business, not the pool's
    expect(aggregateParticipants(p.aggregateFor(a)!)).toEqual([0, 2]);
    expect(aggregateParticipants(p.aggregateFor(b)!)).toEqual([0, 1]);
    expect(verifyFinalizeAggregate(p.aggregateFor(a)!, CHAIN_ID, pubkeys)).toBe(true);
    expect(verifyFinalizeAggregate(p.aggregateFor(b)!, CHAIN_ID, pubkeys)).toBe(true);
    expect(p.aggregateFor(cp(5, 3))).toBeUndefined();
    expect(p.aggregateFor(cp(6, 5))).toBeUndefined();
  });

  it("keeps at most maxCheckpointsPerSlot checkpoints per slot; known checkpoints still gather votes", () => {
    const p = pool({ maxCheckpointsPerSlot: 2 });
    expect(p.add(vote(0, cp(5, 1)))).toBe(true);
    expect(p.add(vote(1, cp(5, 2)))).toBe(true);
    expect(p.add(vote(2, cp(5, 3)))).toBe(false);
    expect(p.aggregateFor(cp(5, 3))).toBeUndefined();
    expect(p.add(vote(3, cp(5, 2)))).toBe(true);
    expect(aggregateParticipants(p.aggregateFor(cp(5, 2))!)).toEqual([1, 3]);
    // Another slot has its own allowance.
    expect(p.add(vote(2, cp(6, 3)))).toBe(true);
  });

  it("keeps at most maxSlotsKept slots: a newer slot evicts the oldest, an older one is refused", () => {
    const p = pool({ maxSlotsKept: 3 });
    for (let s = 10; s < 15; s++) expect(p.add(vote(0, cp(s)))).toBe(true);
    expect([10, 11, 12, 13, 14].map((s) => p.aggregateFor(cp(s)) !== undefined)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(p.add(vote(1, cp(11)))).toBe(false);
    expect(p.aggregateFor(cp(11))).toBeUndefined();
    // Votes for a kept slot do not evict anything.
    expect(p.add(vote(1, cp(12)))).toBe(true);
    expect(aggregateParticipants(p.aggregateFor(cp(12))!)).toEqual([0, 1]);
    expect(p.add(vote(0, cp(20)))).toBe(true);
    expect(p.aggregateFor(cp(12))).toBeUndefined();
    expect(p.aggregateFor(cp(13))).toBeDefined();
  });

  it("stays bounded under a flood of distinct checkpoints", () => {
    const p = pool({ maxSlotsKept: 4, maxCheckpointsPerSlot: 3 });
    let kept = 0;
    for (let s = 1; s <= 30; s++) for (let root = 0; root < 10; root++) p.add(vote(root % COUNT, cp(s, 1000 + root)));
    for (let s = 1; s <= 30; s++) for (let root = 0; root < 10; root++) if (p.aggregateFor(cp(s, 1000 + root))) kept++;
    expect(kept).toBe(4 * 3);
  });

  it("prune(minSlot) drops slots before minSlot and keeps the rest", () => {
    const p = pool();
    for (const s of [3, 4, 5]) p.add(vote(0, cp(s)));
    p.prune(4);
    expect(p.aggregateFor(cp(3))).toBeUndefined();
    expect(aggregateParticipants(p.aggregateFor(cp(4))!)).toEqual([0]);
    expect(aggregateParticipants(p.aggregateFor(cp(5))!)).toEqual([0]);
    p.prune(6);
    expect(p.aggregateFor(cp(4))).toBeUndefined();
    expect(p.aggregateFor(cp(5))).toBeUndefined();
  });
});
