// Slashing conditions: double votes, surround votes and double proposals are caught; honest vote sequences
// (source never moving back, target always moving forward) never are.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttestationData, IndexedAttestation, IndexedFinalizeVote, Root } from "./checkpoint.ts";
import { SlashingError } from "./errors.ts";
import {
  detectAttesterSlashing,
  detectDoubleFinalize,
  detectDoubleProposal,
  detectDoubleVote,
  detectFinalizerSlashing,
  detectFinalizeSurround,
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

describe("finalize vote slashing (half-slot grid)", () => {
  const fin = (validatorIndex: number, slot: number, root = slot): IndexedFinalizeVote => ({
    validatorIndex,
    checkpoint: { slot, root: r(root) },
  });

  function slashingCode(fn: () => unknown): string {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(SlashingError);
      return (e as SlashingError).type.code;
    }
    return "no error";
  }

  it("detectDoubleFinalize: same validator and slot, other root", () => {
    const f1 = fin(2, 7, 7);
    const f2 = fin(2, 7, 8);
    expect(detectDoubleFinalize(f1, f2)).toEqual({ kind: "double_finalize", validatorIndex: 2, vote1: f1, vote2: f2 });
    expect(detectFinalizerSlashing(f2, f1)).toEqual({
      kind: "double_finalize",
      validatorIndex: 2,
      vote1: f2,
      vote2: f1,
    });
    expect(detectDoubleFinalize(f1, fin(2, 7, 7))).toBeUndefined(); // the same checkpoint twice
    expect(detectDoubleFinalize(f1, fin(3, 7, 8))).toBeUndefined(); // another validator
    expect(detectDoubleFinalize(f1, fin(2, 8, 8))).toBeUndefined(); // another slot
    expect(detectDoubleFinalize(f1, fin(2, 8, 7))).toBeUndefined(); // another slot, same root (an empty slot)
  });

  it("detectFinalizeSurround: the attestation's source slot < s < its target slot", () => {
    const f = fin(4, 5);
    const a = att(4, 4, 6);
    const expected = { kind: "finalize_surround", validatorIndex: 4, finalize: f, attestation: a };
    expect(detectFinalizeSurround(f, a)).toEqual(expected);
    expect(detectFinalizerSlashing(f, a)).toEqual(expected);
    expect(detectFinalizerSlashing(a, f)).toEqual(expected);
    expect(detectFinalizeSurround(f, att(4, 0, 20))?.kind).toBe("finalize_surround");
    expect(detectFinalizeSurround(f, att(4, 5, 6))).toBeUndefined(); // source == s
    expect(detectFinalizeSurround(f, att(4, 4, 5))).toBeUndefined(); // target == s
    expect(detectFinalizeSurround(f, att(4, 6, 9))).toBeUndefined(); // after s
    expect(detectFinalizeSurround(f, att(4, 1, 3))).toBeUndefined(); // before s
    expect(detectFinalizeSurround(f, att(5, 4, 6))).toBeUndefined(); // another validator
    expect(detectFinalizerSlashing(att(4, 1, 9), att(4, 4, 6))).toBeUndefined(); // two attestations: not its rule
  });

  it("detectFinalizeSurround matches source < s < target on random pairs", () => {
    fc.assert(
      fc.property(fc.nat(8), fc.nat(8), fc.integer({ min: 1, max: 5 }), fc.nat(1), (s, source, dt, v) => {
        const found = detectFinalizeSurround(fin(0, s), att(v, source, source + dt)) !== undefined;
        expect(found).toBe(v === 0 && source < s && s < source + dt);
      }),
      { numRuns: 300 },
    );
  });

  it("EquivocationIndex reports a finalize surround once, finalize vote first", () => {
    const index = new EquivocationIndex();
    expect(index.ingestFinalizeVote(fin(1, 5))).toEqual([]);
    expect(index.ingestAttestation(att(1, 5, 8))).toEqual([]); // source == s: honest
    expect(index.slashable.size).toBe(0);
    const found = index.ingestAttestation(att(1, 4, 7));
    expect(found).toEqual([
      { kind: "finalize_surround", validatorIndex: 1, finalize: fin(1, 5), attestation: att(1, 4, 7) },
    ]);
    expect(index.ingestAttestation(att(1, 4, 7))).toEqual([]);
    expect(index.ingestFinalizeVote(fin(1, 5))).toEqual([]);
    expect([...index.slashable]).toEqual([1]);
  });

  it("EquivocationIndex reports a finalize surround once, attestation first", () => {
    const index = new EquivocationIndex();
    expect(index.ingestAttestation(att(2, 4, 7))).toEqual([]);
    expect(index.ingestFinalizeVote(fin(2, 7))).toEqual([]); // s == target: honest
    expect(index.ingestFinalizeVote(fin(2, 4))).toEqual([]); // s == source: honest
    expect(index.slashable.size).toBe(0);
    const found = index.ingestFinalizeVote(fin(2, 5));
    expect(found).toEqual([
      { kind: "finalize_surround", validatorIndex: 2, finalize: fin(2, 5), attestation: att(2, 4, 7) },
    ]);
    expect(index.ingestFinalizeVote(fin(2, 5))).toEqual([]);
    expect(index.ingestAttestation(att(2, 4, 7))).toEqual([]);
    expect([...index.slashable]).toEqual([2]);
  });

  it("EquivocationIndex reports a double finalize once, and not for the same checkpoint or another validator", () => {
    const index = new EquivocationIndex();
    expect(index.ingestFinalizeVote(fin(3, 9, 9))).toEqual([]);
    expect(index.ingestFinalizeVote(fin(3, 9, 9))).toEqual([]);
    expect(index.ingestFinalizeVote(fin(0, 9, 8))).toEqual([]);
    expect(index.ingestFinalizeVote(fin(3, 10, 8))).toEqual([]);
    expect(index.slashable.size).toBe(0);
    const found = index.ingestFinalizeVote(fin(3, 9, 8));
    expect(found).toEqual([{ kind: "double_finalize", validatorIndex: 3, vote1: fin(3, 9, 9), vote2: fin(3, 9, 8) }]);
    expect(index.ingestFinalizeVote(fin(3, 9, 8))).toEqual([]);
    expect([...index.slashable]).toEqual([3]);
  });

  it("honest validators (a finalize vote only for a slot justified, which becomes the next source) are never flagged", () => {
    const index = new EquivocationIndex();
    let justified = 0;
    for (let slot = 1; slot <= 20; slot++) {
      const finalizes = slot % 3 === 0;
      for (let v = 0; v < 3; v++) {
        expect(index.ingestAttestation(att(v, justified, slot))).toEqual([]);
        if (finalizes) expect(index.ingestFinalizeVote(fin(v, slot))).toEqual([]);
      }
      if (finalizes) justified = slot;
    }
    expect(index.slashable.size).toBe(0);
    // The rule bites as soon as a later vote reaches back before a finalized slot: source 17 < 18 < target 21 (which
    // also surrounds the votes 18 -> 19 and 18 -> 20).
    expect(index.ingestAttestation(att(0, 17, 21)).map((e) => e.kind)).toEqual([
      "finalize_surround",
      "surround_vote",
      "surround_vote",
    ]);
    expect([...index.slashable]).toEqual([0]);
  });

  it("malformed input throws SLASHING_MALFORMED_INPUT and records nothing", () => {
    const bad = { validatorIndex: 1, checkpoint: { slot: 5, root: "0x1" } };
    expect(slashingCode(() => detectDoubleFinalize(bad, fin(1, 5)))).toBe("SLASHING_MALFORMED_INPUT");
    expect(slashingCode(() => detectDoubleFinalize(fin(1, 5), { ...fin(1, 5, 6), validatorIndex: -1 }))).toBe(
      "SLASHING_MALFORMED_INPUT",
    );
    expect(slashingCode(() => detectFinalizeSurround(bad, att(1, 4, 6)))).toBe("SLASHING_MALFORMED_INPUT");
    const badAtt = { validatorIndex: 1, data: { ...att(1, 4, 6).data, source: { slot: 1.5, root: r(1) } } };
    expect(slashingCode(() => detectFinalizeSurround(fin(1, 5), badAtt))).toBe("SLASHING_MALFORMED_INPUT");
    expect(slashingCode(() => detectDoubleFinalize(null as unknown as IndexedFinalizeVote, fin(1, 5)))).toBe(
      "SLASHING_MALFORMED_INPUT",
    );
    const index = new EquivocationIndex();
    expect(
      slashingCode(() => index.ingestFinalizeVote({ validatorIndex: 1, checkpoint: { slot: -5, root: r(5) } })),
    ).toBe("SLASHING_MALFORMED_INPUT");
    expect(slashingCode(() => index.ingestFinalizeVote(bad))).toBe("SLASHING_MALFORMED_INPUT");
    // Nothing was recorded: a later vote for slot 5 is the first one seen.
    expect(index.ingestFinalizeVote(fin(1, 5, 6))).toEqual([]);
    expect(index.ingestFinalizeVote(fin(1, 5, 6))).toEqual([]);
  });
});
