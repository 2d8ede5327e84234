// Slashing conditions: double votes, surround votes and double proposals are caught; honest vote sequences
// (source never moving back, target always moving forward) never are.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttestationData, IndexedAttestation, Root } from "./checkpoint.ts";
import { SlashingError } from "./errors.ts";
import {
  detectAttesterSlashing,
  detectDoubleProposal,
  detectDoubleVote,
  detectSurroundVote,
  EquivocationIndex,
} from "./slashing.ts";

const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;

function att(validatorIndex: number, source: number, target: number, head = target): IndexedAttestation {
  const data: AttestationData = {
    slot: target,
    headRoot: r(head),
    source: { slot: source, root: r(source) },
    target: { slot: target, root: r(target) },
  };
  return { validatorIndex, data };
}

describe("detectors", () => {
  it("flag a double vote: same validator, same target slot, different data", () => {
    const a = att(3, 1, 5);
    const b = att(3, 1, 5, 6);
    expect(detectDoubleVote(a, b)).toEqual({
      kind: "double_vote",
      validatorIndex: 3,
      attestation1: a,
      attestation2: b,
    });
    expect(detectDoubleVote(a, att(3, 2, 5))?.kind).toBe("double_vote");
    expect(detectDoubleVote(a, att(3, 1, 5))).toBeUndefined(); // the same vote twice
    expect(detectDoubleVote(a, att(4, 1, 5, 6))).toBeUndefined(); // different validators
    expect(detectDoubleVote(a, att(3, 1, 6))).toBeUndefined();
  });

  it("flag a surround vote in either order, outer vote first", () => {
    const outer = att(7, 1, 5);
    const inner = att(7, 2, 4);
    const expected = { kind: "surround_vote", validatorIndex: 7, attestation1: outer, attestation2: inner };
    expect(detectSurroundVote(outer, inner)).toEqual(expected);
    expect(detectSurroundVote(inner, outer)).toEqual(expected);
    expect(detectAttesterSlashing(inner, outer)).toEqual(expected);
    expect(detectSurroundVote(outer, att(8, 2, 4))).toBeUndefined();
  });

  it("do not flag votes that only touch or follow each other", () => {
    for (const [a, b] of [
      [att(1, 1, 5), att(1, 1, 4)], // same source
      [att(1, 1, 5), att(1, 2, 5)], // same target: a double vote, not a surround
      [att(1, 1, 3), att(1, 3, 5)], // chained
      [att(1, 2, 4), att(1, 1, 3)], // overlapping
      [att(1, 0, 1), att(1, 1, 2)],
    ] as const) {
      expect(detectSurroundVote(a, b)).toBeUndefined();
    }
    expect(detectAttesterSlashing(att(1, 1, 3), att(1, 3, 5))).toBeUndefined();
    expect(detectAttesterSlashing(att(1, 1, 5), att(1, 2, 5))?.kind).toBe("double_vote");
  });

  it("flag a double proposal: same proposer and slot, different roots", () => {
    const h1 = { slot: 9, proposerIndex: 2, root: r(1), signature: "s1" };
    const h2 = { slot: 9, proposerIndex: 2, root: r(2), signature: "s2" };
    expect(detectDoubleProposal(h1, h2)).toEqual({
      kind: "double_proposal",
      proposerIndex: 2,
      slot: 9,
      header1: h1,
      header2: h2,
    });
    expect(detectDoubleProposal(h1, { ...h1 })).toBeUndefined();
    expect(detectDoubleProposal(h1, { ...h2, slot: 10 })).toBeUndefined();
    expect(detectDoubleProposal(h1, { ...h2, proposerIndex: 3 })).toBeUndefined();
  });

  it("reject malformed input with SLASHING_MALFORMED_INPUT", () => {
    const bad = { validatorIndex: 1, data: { ...att(1, 1, 2).data, headRoot: "0x1" } };
    expect(() => detectDoubleVote(bad, att(1, 1, 2))).toThrow(SlashingError);
    expect(() =>
      detectDoubleProposal({ slot: -1, proposerIndex: 0, root: r(1) }, { slot: 1, proposerIndex: 0, root: r(1) }),
    ).toThrow(SlashingError);
  });

  it("match the definition on random pairs", () => {
    const small = fc.nat(6);
    const arb = fc.record({ v: fc.nat(1), s: small, dt: fc.integer({ min: 1, max: 4 }), h: fc.nat(2) });
    fc.assert(
      fc.property(arb, arb, (x, y) => {
        const a = att(x.v, x.s, x.s + x.dt, x.h);
        const b = att(y.v, y.s, y.s + y.dt, y.h);
        const [s1, t1, s2, t2] = [x.s, x.s + x.dt, y.s, y.s + y.dt];
        const same = x.v === y.v;
        const double = same && t1 === t2 && (s1 !== s2 || x.h !== y.h);
        const surround = same && ((s1 < s2 && t2 < t1) || (s2 < s1 && t1 < t2));
        expect(detectDoubleVote(a, b) !== undefined).toBe(double);
        expect(detectSurroundVote(a, b) !== undefined).toBe(surround);
        expect(detectAttesterSlashing(a, b) !== undefined).toBe(double || surround);
      }),
      { numRuns: 500 },
    );
  });
});

describe("EquivocationIndex", () => {
  it("reports evidence once, when the second vote arrives", () => {
    const index = new EquivocationIndex();
    expect(index.ingestAttestation(att(0, 0, 3))).toEqual([]);
    expect(index.ingestAttestation(att(0, 0, 3))).toEqual([]);
    expect(index.ingestAttestation(att(1, 1, 2))).toEqual([]);
    const double = index.ingestAttestation(att(0, 0, 3, 9));
    expect(double.map((e) => e.kind)).toEqual(["double_vote"]);
    expect(index.ingestAttestation(att(0, 0, 3, 9))).toEqual([]);
    const surround = index.ingestAttestation(att(0, 1, 2));
    expect(surround).toEqual([
      { kind: "surround_vote", validatorIndex: 0, attestation1: att(0, 0, 3), attestation2: att(0, 1, 2) },
    ]);
    expect([...index.slashable]).toEqual([0]);
  });

  it("reports double proposals and forgets what it pruned", () => {
    const index = new EquivocationIndex();
    const h = (slot: number, root: number) => ({ slot, proposerIndex: 4, root: r(root) });
    expect(index.ingestProposal(h(5, 1))).toEqual([]);
    expect(index.ingestProposal(h(5, 1))).toEqual([]);
    expect(index.ingestProposal(h(6, 2))).toEqual([]);
    expect(index.ingestProposal(h(5, 3))).toHaveLength(1);
    expect(index.ingestProposal(h(5, 3))).toEqual([]);
    index.ingestAttestation(att(1, 0, 3));
    index.prune(6);
    expect(index.ingestAttestation(att(1, 0, 3, 7))).toEqual([]);
    expect(index.ingestProposal(h(5, 9))).toEqual([]);
    expect(index.ingestProposal(h(6, 9))).toHaveLength(1);
  });

  it("never flags honest validators: sources never move back, targets always move forward", () => {
    const step = fc.record({ targetGap: fc.integer({ min: 1, max: 3 }), sourceGap: fc.nat(3), head: fc.nat(3) });
    fc.assert(
      fc.property(fc.array(fc.array(step, { maxLength: 25 }), { minLength: 1, maxLength: 6 }), (validators) => {
        const index = new EquivocationIndex();
        const all = validators.flatMap((steps, v) => {
          let source = 0;
          let target = 0;
          return steps.map(({ targetGap, sourceGap, head }) => {
            const nextTarget = target + targetGap;
            // The latest justified checkpoint only moves forward and is always before the vote's own slot.
            source = Math.min(Math.max(source, target - 1 + sourceGap), nextTarget - 1);
            target = nextTarget;
            return att(v, source, target, target * 10 + head);
          });
        });
        // Delivery order does not matter: in order, and newest first.
        const reversed = new EquivocationIndex();
        for (const a of all) expect(index.ingestAttestation(a)).toEqual([]);
        for (const a of [...all].reverse()) expect(reversed.ingestAttestation(a)).toEqual([]);
        expect(index.slashable.size + reversed.slashable.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
