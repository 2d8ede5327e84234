// FFG finality over per-slot checkpoints: justification every slot and finalization one slot later with >= 2/3
// online, none with less, recovery when the missing weight returns, and the vote accounting rules.
import { describe, expect, it } from "vitest";
import { buildAttestationData, slotTiming } from "./attestationDuty.ts";
import type { AttestationData, Checkpoint, Root } from "./checkpoint.ts";
import { FinalityError, ForkChoiceError } from "./errors.ts";
import { FinalityTracker, type Finalization } from "./finality.ts";
import { ForkChoice } from "./forkChoice.ts";
import { EquivocationIndex } from "./slashing.ts";

const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const G = r(0);
const GENESIS: Checkpoint = { slot: 0, root: G };
const EQUAL4 = new Map([0, 1, 2, 3].map((v) => [v, 1n]));

function vote(slot: number, source: Checkpoint, targetRoot: Root, headRoot: Root = targetRoot): AttestationData {
  return { slot, headRoot, source, target: { slot, root: targetRoot } };
}

function finalityCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof FinalityError) return e.type.code;
    throw e;
  }
  return undefined;
}

/** A node: fork choice as the block view, wired to the tracker as the node core would wire them. */
function node(weights: Map<number, bigint> = EQUAL4) {
  const forkChoice = new ForkChoice({ anchor: GENESIS, weights });
  const finalizedEvents: Checkpoint[] = [];
  const justifiedEvents: Checkpoint[] = [];
  const tracker: FinalityTracker = new FinalityTracker(
    { anchor: GENESIS, weights },
    {
      blocks: forkChoice,
      onJustified: (cp) => justifiedEvents.push(cp),
      onFinalized: (cp) => {
        finalizedEvents.push(cp);
        forkChoice.updateCheckpoints(tracker.justified, cp);
        forkChoice.pruneBelowFinalized();
      },
    },
  );
  const attest = (v: number, data: AttestationData) => {
    forkChoice.onAttestation(v, data.headRoot, data.slot);
    const status = tracker.onAttestation({ validatorIndex: v, data });
    forkChoice.updateCheckpoints(tracker.justified, tracker.finalized);
    return status;
  };
  /** One slot: maybe a block on the head, then `attesters` vote for the head with the tracker's justified source. */
  const slot = (s: number, attesters: number[], propose = true) => {
    if (propose) forkChoice.onBlock(r(s), forkChoice.getHead(), s);
    const data = buildAttestationData(s, forkChoice, tracker.justified);
    for (const v of attesters) expect(attest(v, data)).toBe("counted");
    return { head: data.headRoot, target: data.target.root };
  };
  return { forkChoice, tracker, attest, slot, finalizedEvents, justifiedEvents };
}

describe("finality with 4 equal validators", () => {
  it("3 of 4 attesting justify every slot and finalize slot s during slot s + 1", () => {
    const n = node();
    for (let s = 1; s <= 12; s++) {
      const { target } = n.slot(s, [0, 1, 2]);
      expect(n.tracker.justified).toEqual({ slot: s, root: target });
      expect(n.tracker.finalized.slot).toBe(s - 1);
      expect(s - n.tracker.finalized.slot).toBeLessThanOrEqual(2);
    }
    expect(n.finalizedEvents.map((c) => c.slot)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(n.justifiedEvents.map((c) => c.slot)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(n.tracker.finalizedHistory.map((c) => c.root)).toEqual([G, ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(r)]);
    // Fork choice follows: it starts at the justified block and pruned everything before the finalized one.
    expect(n.forkChoice.finalized).toEqual(n.tracker.finalized);
    expect(n.forkChoice.size).toBe(2);
  });

  it("finalizes across empty slots: the checkpoint of an empty slot is the last block before it", () => {
    const n = node();
    n.slot(1, [0, 1, 2]);
    n.slot(2, [0, 1, 2], false);
    expect(n.tracker.justified).toEqual({ slot: 2, root: r(1) });
    expect(n.tracker.finalized).toEqual({ slot: 1, root: r(1) });
    n.slot(3, [0, 1, 2]);
    expect(n.tracker.finalized).toEqual({ slot: 2, root: r(1) });
    expect(n.tracker.justified).toEqual({ slot: 3, root: r(3) });
  });

  it("2 of 4 neither justify nor finalize; both resume when the third validator returns", () => {
    const n = node();
    for (let s = 1; s <= 3; s++) n.slot(s, [0, 1, 2]);
    expect(n.tracker.finalized.slot).toBe(2);
    for (let s = 4; s <= 8; s++) {
      n.slot(s, [0, 1]);
      expect(n.tracker.justified).toEqual({ slot: 3, root: r(3) });
      expect(n.tracker.finalized).toEqual({ slot: 2, root: r(2) });
    }
    // The chain kept growing; the returning validator votes with source (3) like the others.
    n.slot(9, [0, 1, 2]);
    expect(n.tracker.justified).toEqual({ slot: 9, root: r(9) });
    expect(n.tracker.finalized.slot).toBe(2); // 3 -> 9 is not a link to the next slot
    n.slot(10, [0, 1, 2]);
    expect(n.tracker.finalized).toEqual({ slot: 9, root: r(9) });
    n.slot(11, [1, 2, 3]);
    expect(n.tracker.finalized).toEqual({ slot: 10, root: r(10) });
  });

  it("counts votes whose source was not yet justified once it is (out-of-order delivery)", () => {
    const n = node();
    n.forkChoice.onBlock(r(1), G, 1);
    n.forkChoice.onBlock(r(2), r(1), 2);
    const s1 = { slot: 1, root: r(1) };
    for (const v of [0, 1, 2])
      expect(n.tracker.onAttestation({ validatorIndex: v, data: vote(2, s1, r(2)) })).toBe("pending");
    expect(n.tracker.justified).toEqual(GENESIS);
    for (const v of [1, 2]) n.tracker.onAttestation({ validatorIndex: v, data: vote(1, GENESIS, r(1)) });
    expect(n.tracker.justified).toEqual(GENESIS);
    n.tracker.onAttestation({ validatorIndex: 3, data: vote(1, GENESIS, r(1)) });
    expect(n.tracker.justified).toEqual({ slot: 2, root: r(2) });
    expect(n.tracker.finalized).toEqual(s1);
  });

  it("counts each validator once per target slot", () => {
    const n = node();
    n.forkChoice.onBlock(r(1), G, 1);
    n.forkChoice.onBlock(r(0x1b), G, 1);
    const data = vote(1, GENESIS, r(1));
    expect(n.tracker.onAttestation({ validatorIndex: 0, data })).toBe("counted");
    expect(n.tracker.onAttestation({ validatorIndex: 0, data })).toBe("duplicate");
    expect(n.tracker.onAttestation({ validatorIndex: 0, data: { ...data, headRoot: r(0x1b) } })).toBe("conflicting");
    expect(n.tracker.onAttestation({ validatorIndex: 0, data: vote(1, GENESIS, r(0x1b)) })).toBe("conflicting");
    expect(n.tracker.onAttestation({ validatorIndex: 1, data })).toBe("counted");
    expect(n.tracker.getTargetWeight({ slot: 1, root: r(1) })).toBe(2n);
    expect(n.tracker.getTargetWeight({ slot: 1, root: r(0x1b) })).toBe(0n);
    expect(n.tracker.justified).toEqual(GENESIS);
  });

  it("sums votes from different justified sources for justification, but finalizes only along a link", () => {
    const n = node();
    n.slot(1, [0, 1, 2]);
    n.slot(2, [0, 1, 2]);
    n.forkChoice.onBlock(r(3), r(2), 3);
    n.forkChoice.onBlock(r(4), r(3), 4);
    const j3 = { slot: 3, root: r(3) };
    // Justify 3 with a link from 2 (finalizes 2), then target 4 with two sources: 2 -> 4 and 3 -> 4.
    for (const v of [0, 1, 2]) n.attest(v, vote(3, { slot: 2, root: r(2) }, r(3)));
    expect(n.tracker.justified).toEqual(j3);
    n.attest(0, vote(4, { slot: 2, root: r(2) }, r(4)));
    n.attest(1, vote(4, j3, r(4)));
    n.attest(2, vote(4, j3, r(4)));
    expect(n.tracker.justified).toEqual({ slot: 4, root: r(4) });
    expect(n.tracker.getLinkWeight(j3, { slot: 4, root: r(4) })).toBe(2n);
    expect(n.tracker.finalized).toEqual({ slot: 2, root: r(2) });
    n.attest(3, vote(4, j3, r(4)));
    expect(n.tracker.finalized).toEqual(j3);
  });

  it("weighs votes by the weight table and re-evaluates when it changes", () => {
    const n = node(
      new Map([
        [0, 4n],
        [1, 1n],
        [2, 1n],
      ]),
    );
    n.forkChoice.onBlock(r(1), G, 1);
    const data = vote(1, GENESIS, r(1));
    n.tracker.onAttestation({ validatorIndex: 1, data });
    n.tracker.onAttestation({ validatorIndex: 2, data });
    expect(n.tracker.justified).toEqual(GENESIS);
    n.tracker.setWeights(
      new Map([
        [0, 1n],
        [1, 1n],
        [2, 1n],
      ]),
    );
    expect(n.tracker.justified).toEqual({ slot: 1, root: r(1) });
    const alone = node(
      new Map([
        [0, 4n],
        [1, 1n],
        [2, 1n],
      ]),
    );
    alone.forkChoice.onBlock(r(1), G, 1);
    alone.tracker.onAttestation({ validatorIndex: 0, data });
    expect(alone.tracker.justified).toEqual({ slot: 1, root: r(1) });
    expect(finalityCode(() => alone.tracker.setWeights(new Map([[0, -1n]])))).toBe("FINALITY_INVALID_WEIGHTS");
  });

  it("restores a justified checkpoint known from before a restart, after the finalized one only", () => {
    const n = node();
    n.slot(1, [0, 1, 2]);
    n.slot(2, [0, 1, 2]);
    expect(n.tracker.finalized.slot).toBe(1);
    const j2 = n.tracker.justified;
    expect(j2.slot).toBe(2);
    // A fresh tracker over the same blocks (the node after a restart, anchored at its finalized checkpoint) that never
    // received the votes justifying slot 2.
    const restarted = new FinalityTracker({ anchor: n.tracker.finalized, weights: EQUAL4 }, { blocks: n.forkChoice });
    expect(restarted.justified).toEqual(n.tracker.finalized);
    // Refused: at or before the finalized slot, a block not in the tree (pruned forks included), malformed.
    expect(restarted.restoreJustified({ slot: 1, root: r(1) })).toBe(false);
    expect(restarted.restoreJustified({ slot: 2, root: r(12345) })).toBe(false);
    expect(restarted.restoreJustified({ slot: -1, root: r(2) })).toBe(false);
    expect(restarted.justified).toEqual(n.tracker.finalized);
    // Taken: votes with it as their source now count, and its link to the next slot finalizes it.
    expect(restarted.restoreJustified(j2)).toBe(true);
    expect(restarted.justified).toEqual(j2);
    n.forkChoice.onBlock(r(3), r(2), 3);
    for (const v of [0, 1, 2])
      expect(restarted.onAttestation({ validatorIndex: v, data: vote(3, j2, r(3)) })).toBe("counted");
    expect(restarted.finalized).toEqual(j2);
  });

  it("needs at least exactly 2/3 of the weight", () => {
    const three = node(new Map([0, 1, 2].map((v) => [v, 1n])));
    three.slot(1, [0, 1]); // 2/3 exactly
    expect(three.tracker.justified.slot).toBe(1);
    const five = node(new Map([0, 1, 2, 3, 4].map((v) => [v, 1n])));
    five.slot(1, [0, 1, 2]); // 3/5 < 2/3
    expect(five.tracker.justified.slot).toBe(0);
    five.attest(3, vote(1, GENESIS, r(1))); // 4/5
    expect(five.tracker.justified.slot).toBe(1);
  });

  it("rejects malformed and invalid votes with typed errors and ignores stale ones", () => {
    const n = node();
    for (let s = 1; s <= 3; s++) n.slot(s, [0, 1, 2]);
    n.forkChoice.onBlock(r(4), r(3), 4);
    const j3 = { slot: 3, root: r(3) };
    const on = (data: AttestationData, v = 3) => n.tracker.onAttestation({ validatorIndex: v, data });
    expect(on(vote(2, { slot: 1, root: r(1) }, r(2)))).toBe("stale");
    expect(on(vote(4, { slot: 1, root: r(1) }, r(4)))).toBe("stale");
    expect(finalityCode(() => on(vote(4, j3, r(4)), -1))).toBe("FINALITY_MALFORMED_ATTESTATION");
    expect(finalityCode(() => on({ ...vote(4, j3, r(4)), headRoot: "0xzz" }))).toBe("FINALITY_MALFORMED_ATTESTATION");
    expect(finalityCode(() => on({ ...vote(4, j3, r(4)), source: { slot: 3, root: "x" } }))).toBe(
      "FINALITY_MALFORMED_ATTESTATION",
    );
    expect(finalityCode(() => on({ ...vote(4, j3, r(4)), slot: 5 }))).toBe("FINALITY_INVALID_LINK");
    expect(finalityCode(() => on(vote(4, { slot: 4, root: r(4) }, r(4))))).toBe("FINALITY_INVALID_LINK");
    expect(finalityCode(() => on(vote(4, j3, r(99))))).toBe("FINALITY_UNKNOWN_BLOCK");
    expect(finalityCode(() => on(vote(4, { slot: 3, root: r(4) }, r(4))))).toBe("FINALITY_INVALID_LINK");
    n.forkChoice.onBlock(r(0x4b), r(2), 4);
    expect(finalityCode(() => on(vote(4, j3, r(0x4b))))).toBe("FINALITY_INVALID_LINK");
    // None of the refused votes was recorded: the validator's real vote still counts.
    expect(on(vote(4, j3, r(4)))).toBe("counted");
  });
});

describe("attestation duty", () => {
  it("keeps the slot's shape at any slot length: attest by 1/3, aggregate by 1/2", () => {
    expect(slotTiming(12_000)).toEqual({ slotMs: 12_000, attestationDueMs: 4_000, aggregationDueMs: 6_000 });
    expect(slotTiming(1_000)).toEqual({ slotMs: 1_000, attestationDueMs: 333, aggregationDueMs: 500 });
  });

  it("refuses to build a vote whose source is not before the target on the head chain", () => {
    const n = node();
    n.slot(1, [0, 1, 2]);
    expect(() => buildAttestationData(1, n.forkChoice, n.tracker.justified)).toThrow(ForkChoiceError);
    expect(buildAttestationData(3, n.forkChoice, n.tracker.justified)).toEqual(vote(3, { slot: 1, root: r(1) }, r(1)));
  });
});

describe("accountable safety", () => {
  //   G(0) ── a1(1) ── a2(2)
  //     └──── b1(1) ── b2(2) ── b3(3) ── b4(4)
  function forks() {
    const forkChoice = new ForkChoice({ anchor: GENESIS });
    forkChoice.onBlock(r(0xa1), G, 1);
    forkChoice.onBlock(r(0xa2), r(0xa1), 2);
    forkChoice.onBlock(r(0xb1), G, 1);
    forkChoice.onBlock(r(0xb2), r(0xb1), 2);
    forkChoice.onBlock(r(0xb3), r(0xb2), 3);
    forkChoice.onBlock(r(0xb4), r(0xb3), 4);
    return forkChoice;
  }

  function slashableWeight(votes: { validatorIndex: number; data: AttestationData }[]) {
    const index = new EquivocationIndex();
    for (const a of votes) index.ingestAttestation(a);
    return [...index.slashable].length;
  }

  it("two views finalize conflicting checkpoints only if >= 1/3 of the weight double-voted", () => {
    const blocks = forks();
    const x = new FinalityTracker({ anchor: GENESIS, weights: EQUAL4 }, { blocks });
    const y = new FinalityTracker({ anchor: GENESIS, weights: EQUAL4 }, { blocks });
    const sent: { validatorIndex: number; data: AttestationData }[] = [];
    const send = (t: FinalityTracker, validatorIndex: number, data: AttestationData) => {
      sent.push({ validatorIndex, data });
      t.onAttestation({ validatorIndex, data });
    };
    // Validators 0 and 1 (half the weight) vote for both forks, each view seeing one side.
    for (const v of [0, 1, 2]) send(x, v, vote(1, GENESIS, r(0xa1)));
    for (const v of [0, 1, 2]) send(x, v, vote(2, { slot: 1, root: r(0xa1) }, r(0xa2)));
    for (const v of [0, 1, 3]) send(y, v, vote(1, GENESIS, r(0xb1)));
    for (const v of [0, 1, 3]) send(y, v, vote(2, { slot: 1, root: r(0xb1) }, r(0xb2)));
    expect(x.finalized).toEqual({ slot: 1, root: r(0xa1) });
    expect(y.finalized).toEqual({ slot: 1, root: r(0xb1) });
    expect(slashableWeight(sent)).toBe(2); // 2 of 4 >= 1/3
  });

  it("a link that skips a slot does not finalize: otherwise these unslashable votes would finalize two forks", () => {
    //   G(0) ── p1(1) ── s2(2) ── s4(4)
    //             └──── j3(3) ── j5(5) ── j6(6)
    const blocks = new ForkChoice({ anchor: GENESIS });
    blocks.onBlock(r(0x01), G, 1);
    blocks.onBlock(r(0x52), r(0x01), 2);
    blocks.onBlock(r(0x54), r(0x52), 4);
    blocks.onBlock(r(0x33), r(0x01), 3);
    blocks.onBlock(r(0x35), r(0x33), 5);
    blocks.onBlock(r(0x36), r(0x35), 6);
    const p1 = { slot: 1, root: r(0x01) };
    const s2 = { slot: 2, root: r(0x52) };
    const j3 = { slot: 3, root: r(0x33) };
    const j5 = { slot: 5, root: r(0x35) };
    const x = new FinalityTracker({ anchor: GENESIS, weights: EQUAL4 }, { blocks });
    const y = new FinalityTracker({ anchor: GENESIS, weights: EQUAL4 }, { blocks });
    const sent: { validatorIndex: number; data: AttestationData }[] = [];
    const all = (t: FinalityTracker, data: AttestationData) => {
      for (const validatorIndex of [0, 1, 2, 3]) {
        sent.push({ validatorIndex, data });
        t.onAttestation({ validatorIndex, data });
      }
    };
    // Every validator signs all of these; no two of them form a double or surround vote.
    all(x, vote(1, GENESIS, p1.root));
    all(x, vote(2, p1, s2.root));
    all(x, vote(4, s2, r(0x54))); // skips slot 3
    all(y, vote(1, GENESIS, p1.root));
    all(y, vote(3, p1, j3.root));
    all(y, vote(5, j3, j5.root));
    all(y, vote(6, j5, r(0x36)));
    expect(slashableWeight(sent)).toBe(0);
    expect(x.isJustified(s2)).toBe(true);
    expect(x.finalized).toEqual(p1); // not s2: (2) -> (4) is not a link to the next slot
    expect(y.finalized).toEqual(j5);
  });

  it("one view refuses to finalize against its finalized checkpoint, and the surround votes are caught", () => {
    const blocks = forks();
    const conflicts: unknown[] = [];
    const t = new FinalityTracker(
      { anchor: GENESIS, weights: EQUAL4 },
      { blocks, onFinalityConflict: (c) => conflicts.push(c) },
    );
    const sent: { validatorIndex: number; data: AttestationData }[] = [];
    const send = (validatorIndex: number, data: AttestationData) => {
      sent.push({ validatorIndex, data });
      return t.onAttestation({ validatorIndex, data });
    };
    for (const v of [0, 1, 3]) send(v, vote(3, GENESIS, r(0xb3)));
    expect(t.justified).toEqual({ slot: 3, root: r(0xb3) });
    for (const v of [0, 1, 2]) send(v, vote(1, GENESIS, r(0xa1)));
    for (const v of [0, 1, 2]) send(v, vote(2, { slot: 1, root: r(0xa1) }, r(0xa2)));
    expect(t.finalized).toEqual({ slot: 1, root: r(0xa1) });
    expect(t.justified).toEqual({ slot: 2, root: r(0xa2) }); // (3, b3) is justified but off the finalized chain
    for (const v of [0, 1, 3]) send(v, vote(4, { slot: 3, root: r(0xb3) }, r(0xb4)));
    expect(t.finalized).toEqual({ slot: 1, root: r(0xa1) });
    expect(t.conflicts).toEqual([{ finalized: { slot: 1, root: r(0xa1) }, candidate: { slot: 3, root: r(0xb3) } }]);
    expect(conflicts).toHaveLength(1);
    // 0 and 1 voted 0 -> 3 around 1 -> 2: surround votes, half the weight.
    expect(slashableWeight(sent)).toBe(2);
  });
});

describe("finality within the slot (finalize votes)", () => {
  /** A tracker with fork choice as its block view, recording how each checkpoint was finalized. */
  function fastNode(weights = EQUAL4, weightsAt?: (cp: Checkpoint) => Map<number, bigint> | undefined) {
    const forkChoice = new ForkChoice({ anchor: GENESIS, weights });
    const events: { cp: Checkpoint; how: Finalization }[] = [];
    const tracker: FinalityTracker = new FinalityTracker(
      { anchor: GENESIS, weights },
      {
        blocks: forkChoice,
        weightsAt,
        onFinalized: (cp, how) => {
          events.push({ cp, how });
          forkChoice.updateCheckpoints(tracker.justified, cp);
          forkChoice.pruneBelowFinalized();
        },
      },
    );
    return { forkChoice, tracker, events };
  }

  it("finalizes a justified checkpoint in its own slot once finalize votes reach 2/3, naming voters and parent", () => {
    const { forkChoice, tracker, events } = fastNode();
    forkChoice.onBlock(r(1), G, 1);
    const cp = { slot: 1, root: r(1) };
    for (const v of [0, 1, 2]) tracker.onAttestation({ validatorIndex: v, data: vote(1, GENESIS, r(1)) });
    expect(tracker.justified).toEqual(cp);
    expect(tracker.finalized).toEqual(GENESIS);
    expect(tracker.onFinalizeVote({ validatorIndex: 0, checkpoint: cp })).toBe("counted");
    expect(tracker.onFinalizeVote({ validatorIndex: 1, checkpoint: cp })).toBe("counted");
    expect(tracker.finalized).toEqual(GENESIS); // 2 of 4
    expect(tracker.getFinalizeWeight(cp)).toBe(2n);
    expect(tracker.onFinalizeVote({ validatorIndex: 3, checkpoint: cp })).toBe("counted");
    expect(tracker.finalized).toEqual(cp);
    expect(events).toEqual([{ cp, how: { kind: "fast", parent: GENESIS, voters: new Set([0, 1, 3]) } }]);
    // Later finalize votes for it are stale; a link from it finalizes nothing new.
    expect(tracker.onFinalizeVote({ validatorIndex: 2, checkpoint: cp })).toBe("stale");
  });

  it("finalize votes that arrive before the attestations wait, and count once the checkpoint is justified", () => {
    const { forkChoice, tracker } = fastNode();
    forkChoice.onBlock(r(1), G, 1);
    const cp = { slot: 1, root: r(1) };
    for (const v of [0, 1, 2]) expect(tracker.onFinalizeVote({ validatorIndex: v, checkpoint: cp })).toBe("pending");
    expect(tracker.finalized).toEqual(GENESIS);
    tracker.onAttestation({ validatorIndex: 0, data: vote(1, GENESIS, r(1)) });
    tracker.onAttestation({ validatorIndex: 1, data: vote(1, GENESIS, r(1)) });
    expect(tracker.finalized).toEqual(GENESIS);
    tracker.onAttestation({ validatorIndex: 3, data: vote(1, GENESIS, r(1)) });
    expect(tracker.finalized).toEqual(cp);
  });

  it("a second finalize vote for the slot is a duplicate or a conflict; unknown blocks and bad input throw", () => {
    const { forkChoice, tracker } = fastNode();
    forkChoice.onBlock(r(1), G, 1);
    forkChoice.onBlock(r(11), G, 1);
    forkChoice.onBlock(r(5), r(1), 5);
    const cp = { slot: 1, root: r(1) };
    expect(tracker.onFinalizeVote({ validatorIndex: 0, checkpoint: cp })).toBe("pending");
    expect(tracker.onFinalizeVote({ validatorIndex: 0, checkpoint: cp })).toBe("duplicate");
    expect(tracker.onFinalizeVote({ validatorIndex: 0, checkpoint: { slot: 1, root: r(11) } })).toBe("conflicting");
    expect(
      finalityCode(() => tracker.onFinalizeVote({ validatorIndex: 1, checkpoint: { slot: 1, root: r(99) } })),
    ).toBe("FINALITY_UNKNOWN_BLOCK");
    expect(finalityCode(() => tracker.onFinalizeVote({ validatorIndex: 1, checkpoint: { slot: 3, root: r(5) } }))).toBe(
      "FINALITY_INVALID_LINK",
    );
    expect(finalityCode(() => tracker.onFinalizeVote({ validatorIndex: -1, checkpoint: cp as Checkpoint }))).toBe(
      "FINALITY_MALFORMED_ATTESTATION",
    );
  });

  it("without finalize votes the 2-chain rule still finalizes, one slot later", () => {
    const { forkChoice, tracker, events } = fastNode();
    forkChoice.onBlock(r(1), G, 1);
    forkChoice.onBlock(r(2), r(1), 2);
    const cp1 = { slot: 1, root: r(1) };
    for (const v of [0, 1, 2]) tracker.onAttestation({ validatorIndex: v, data: vote(1, GENESIS, r(1)) });
    for (const v of [0, 1, 2]) tracker.onAttestation({ validatorIndex: v, data: vote(2, cp1, r(2)) });
    expect(tracker.finalized).toEqual(cp1);
    expect(events[0]?.how).toEqual({
      kind: "link",
      parent: GENESIS,
      target: { slot: 2, root: r(2) },
      voters: new Set([0, 1, 2]),
    });
  });

  it("votes weigh as at the last finalized block: a slashed validator's weight stops counting from its finalization", () => {
    // At block 1 validator 3 is slashed (weight 0). Once block 1 is final, {0, 3} (1/2 before, 1/3 after) and even
    // {0, 1, 3} (3/4 before) weigh only what 0 and 1 weigh.
    const slashed = new Map([
      [0, 1n],
      [1, 1n],
      [2, 1n],
      [3, 0n],
    ]);
    const { forkChoice, tracker } = fastNode(EQUAL4, (cp) => (cp.root === r(1) ? slashed : undefined));
    forkChoice.onBlock(r(1), G, 1);
    forkChoice.onBlock(r(2), r(1), 2);
    const cp1 = { slot: 1, root: r(1) };
    const cp2 = { slot: 2, root: r(2) };
    for (const v of [0, 1, 3]) tracker.onAttestation({ validatorIndex: v, data: vote(1, GENESIS, r(1)) });
    for (const v of [0, 1, 3]) tracker.onFinalizeVote({ validatorIndex: v, checkpoint: cp1 });
    expect(tracker.finalized).toEqual(cp1);
    expect(tracker.totalWeight).toBe(3n);
    tracker.onAttestation({ validatorIndex: 0, data: vote(2, cp1, r(2)) });
    tracker.onAttestation({ validatorIndex: 3, data: vote(2, cp1, r(2)) });
    expect(tracker.isJustified(cp2)).toBe(false); // 1 of 3, where the old table said 2 of 4
    tracker.onAttestation({ validatorIndex: 1, data: vote(2, cp1, r(2)) });
    expect(tracker.isJustified(cp2)).toBe(true);
  });
});
