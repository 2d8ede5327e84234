// Evidence pool: one entry per offence (the same offence in either message order is known), bounded by maxPooled;
// forBlock gives at most one piece per offender (a second would make the block invalid), skips and drops evidence
// against validators already slashed, and stops at `max`.
import { blsKeypairFromSeed } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import type { Checkpoint, Root } from "../forkChoice/checkpoint.ts";
import {
  type SignedAttestation,
  type SignedFinalizeVote,
  signAttestation,
  signFinalizeVote,
} from "../messages/attestation.ts";
import { decodeEvidence, type Evidence, evidenceId, verifyEvidence } from "../messages/evidence.ts";
import { EvidencePool } from "./evidencePool.ts";

const CHAIN_ID = 7n;
const keys = Array.from({ length: 6 }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x70 + i)));
const ctx = { chainId: CHAIN_ID, pubkeyOf: (i: number) => keys[i]?.publicKey };
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const cp = (slot: number, root = slot): Checkpoint => ({ slot, root: r(root) });

function vote(v: number, source: number, target: number, head = target): SignedAttestation {
  return signAttestation(keys[v]!.secretKey, CHAIN_ID, v, {
    slot: target,
    headRoot: r(head),
    source: cp(source),
    target: cp(target),
  });
}

function fin(v: number, slot: number, root = slot): SignedFinalizeVote {
  return signFinalizeVote(keys[v]!.secretKey, CHAIN_ID, v, cp(slot, root));
}

/** Validator v's double vote at target slot `target` (two heads). */
const doubleVote = (v: number, target = 6, head2 = target - 1): Evidence => ({
  kind: "attester",
  a1: vote(v, 4, target),
  a2: vote(v, 4, target, head2),
});
const doubleFinalize = (v: number, slot = 7): Evidence => ({
  kind: "double_finalize",
  f1: fin(v, slot, slot),
  f2: fin(v, slot, slot + 100),
});

/** The offenders of the evidence forBlock returned, after decoding and verifying each piece. */
function offendersOf(encoded: Uint8Array[]): number[] {
  return encoded.map((bytes) => verifyEvidence(decodeEvidence(bytes), ctx).offender);
}

const never = () => false;

describe("EvidencePool", () => {
  it("dedupes by offence id: the same offence in the other message order is known", () => {
    const p = new EvidencePool({ maxPooled: 8 });
    const ev = doubleVote(1);
    expect(p.add(ev, 1)).toBe("added");
    expect(p.add(ev, 1)).toBe("known");
    if (ev.kind !== "attester") throw new Error("unreachable");
    expect(p.add({ kind: "attester", a1: ev.a2, a2: ev.a1 }, 1)).toBe("known");
    expect(p.has(evidenceId(ev))).toBe(true);
    expect(p.size).toBe(1);
    // Another offence by the same validator is a separate entry.
    expect(p.add(doubleFinalize(1), 1)).toBe("added");
    expect(p.size).toBe(2);
    expect(p.has(evidenceId(doubleVote(2)))).toBe(false);
  });

  it("is bounded by maxPooled: new evidence is refused as full, known evidence is still known", () => {
    const p = new EvidencePool({ maxPooled: 2 });
    expect(p.add(doubleVote(0), 0)).toBe("added");
    expect(p.add(doubleVote(1), 1)).toBe("added");
    expect(p.add(doubleVote(2), 2)).toBe("full");
    expect(p.add(doubleVote(1), 1)).toBe("known");
    expect(p.size).toBe(2);
    expect(p.has(evidenceId(doubleVote(2)))).toBe(false);
  });

  it("forBlock gives one piece per offender, at most max, each valid evidence", () => {
    const p = new EvidencePool({ maxPooled: 16 });
    p.add(doubleVote(1, 6), 1);
    p.add(doubleVote(1, 8), 1);
    p.add(doubleFinalize(1), 1);
    p.add(doubleVote(2), 2);
    p.add(doubleFinalize(3), 3);
    const out = p.forBlock(10, never);
    expect(offendersOf(out).sort((a, b) => a - b)).toEqual([1, 2, 3]);
    // The other offences of validator 1 stay pooled (for when the first is dropped).
    expect(p.size).toBe(5);
    expect(p.forBlock(2, never)).toHaveLength(2);
    expect(new Set(offendersOf(p.forBlock(2, never))).size).toBe(2);
    expect(p.forBlock(0, never)).toEqual([]);
  });

  it("forBlock skips evidence against slashed offenders and drops it from the pool", () => {
    const p = new EvidencePool({ maxPooled: 16 });
    p.add(doubleVote(1, 6), 1);
    p.add(doubleFinalize(1), 1);
    p.add(doubleVote(2), 2);
    const slashed = (v: number) => v === 1;
    expect(offendersOf(p.forBlock(10, slashed))).toEqual([2]);
    expect(p.size).toBe(1);
    expect(p.has(evidenceId(doubleVote(1, 6)))).toBe(false);
    expect(p.has(evidenceId(doubleFinalize(1)))).toBe(false);
    expect(p.has(evidenceId(doubleVote(2)))).toBe(true);
  });

  it("prune drops evidence whose offender is slashed and keeps the rest", () => {
    const p = new EvidencePool({ maxPooled: 16 });
    p.add(doubleVote(1), 1);
    p.add(doubleVote(2), 2);
    p.add(doubleFinalize(3), 3);
    p.prune((v) => v !== 2);
    expect(p.size).toBe(1);
    expect(offendersOf(p.forBlock(10, never))).toEqual([2]);
    // Room freed by pruning takes new evidence again.
    const small = new EvidencePool({ maxPooled: 1 });
    small.add(doubleVote(4), 4);
    expect(small.add(doubleVote(5), 5)).toBe("full");
    small.prune((v) => v === 4);
    expect(small.add(doubleVote(5), 5)).toBe("added");
  });
});
