// LMD-GHOST: heavier subtree wins, latest messages move the head, older messages are ignored, ties go to the
// greatest root, and the tree only ever holds chains through the finalized checkpoint.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Root } from "./checkpoint.ts";
import { ForkChoiceError } from "./errors.ts";
import { ForkChoice } from "./forkChoice.ts";

const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const G = r(0);

function equalWeights(n: number, w = 1n): Map<number, bigint> {
  return new Map(Array.from({ length: n }, (_, i) => [i, w]));
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ForkChoiceError) return e.type.code;
    throw e;
  }
  return undefined;
}

/**
 *        G(0)
 *       /    \
 *    A(1)     B(1)
 *    /  \
 * A2(2) A3(2)
 */
function forked(weights = equalWeights(4)) {
  const fcx = new ForkChoice({ anchor: { slot: 0, root: G }, weights });
  const [A, B, A2, A3] = [r(0xa), r(0xb), r(0xa2), r(0xa3)];
  fcx.onBlock(A, G, 1);
  fcx.onBlock(B, G, 1);
  fcx.onBlock(A2, A, 2);
  fcx.onBlock(A3, A, 2);
  return { fcx, A, B, A2, A3 };
}

describe("LMD-GHOST head", () => {
  it("picks the heavier subtree even when a single leaf elsewhere has more votes", () => {
    const { fcx, A2, A3, B } = forked();
    fcx.onAttestation(0, A2, 2);
    fcx.onAttestation(1, A3, 2);
    fcx.onAttestation(2, B, 2);
    // A's subtree weighs 2 against B's 1; inside A the two leaves tie and the greater root (A3) wins.
    expect(fcx.getHead()).toBe(A3);
    expect(fcx.getWeight(r(0xa))).toBe(2n);
    expect(fcx.getWeight(B)).toBe(1n);
    expect(fcx.getWeight(G)).toBe(3n);
  });

  it("moves with newer latest messages", () => {
    const { fcx, A2, A3, B } = forked();
    fcx.onAttestation(0, A2, 2);
    fcx.onAttestation(1, A3, 2);
    fcx.onAttestation(2, B, 2);
    expect(fcx.getHead()).toBe(A3);
    expect(fcx.onAttestation(0, B, 3)).toBe(true);
    expect(fcx.getHead()).toBe(B);
    expect(fcx.onAttestation(0, A2, 4)).toBe(true);
    expect(fcx.onAttestation(3, A2, 4)).toBe(true);
    expect(fcx.getHead()).toBe(A2);
    expect(fcx.getWeight(A2)).toBe(2n);
  });

  it("ignores a message from an older or the same slot as the validator's latest", () => {
    const { fcx, A2, B } = forked();
    expect(fcx.onAttestation(0, B, 5)).toBe(true);
    expect(fcx.onAttestation(0, A2, 4)).toBe(false);
    expect(fcx.onAttestation(0, A2, 5)).toBe(false);
    expect(fcx.getLatestMessage(0)).toEqual({ root: B, slot: 5 });
    expect(fcx.getHead()).toBe(B);
  });

  it("breaks ties by the lexicographically greatest root, with or without votes", () => {
    const { fcx, A3, B } = forked();
    // No votes: every subtree weighs 0, so B > A at the first step.
    expect(fcx.getHead()).toBe(B);
    fcx.onAttestation(0, A3, 2);
    expect(fcx.getHead()).toBe(A3);
    fcx.onAttestation(1, B, 2);
    expect(fcx.getHead()).toBe(B);
  });

  it("weighs votes by the weight table and follows changes to it", () => {
    const { fcx, A2, B } = forked(
      new Map([
        [0, 5n],
        [1, 3n],
        [2, 1n],
      ]),
    );
    fcx.onAttestation(0, A2, 2);
    fcx.onAttestation(1, B, 2);
    fcx.onAttestation(2, B, 2);
    expect(fcx.getHead()).toBe(A2);
    fcx.setWeights(
      new Map([
        [0, 1n],
        [1, 3n],
        [2, 1n],
      ]),
    );
    expect(fcx.getHead()).toBe(B);
    expect(fcx.getWeight(B)).toBe(4n);
  });

  it("drops an equivocating validator's weight for good", () => {
    const { fcx, A2, B } = forked(
      new Map([
        [0, 5n],
        [1, 3n],
      ]),
    );
    fcx.onAttestation(0, A2, 2);
    fcx.onAttestation(1, B, 2);
    expect(fcx.getHead()).toBe(A2);
    fcx.onEquivocation(0);
    expect(fcx.getHead()).toBe(B);
    expect(fcx.onAttestation(0, A2, 9)).toBe(false);
    expect(fcx.getWeight(A2)).toBe(0n);
  });

  it("starts from the justified checkpoint, skipping forks that leave it", () => {
    const { fcx, A, A2, B } = forked();
    const [A4, A2x] = [r(0xa4), r(0xa2f)];
    fcx.onBlock(A4, A2, 4);
    fcx.onBlock(A2x, A2, 3);
    for (let v = 0; v < 3; v++) fcx.onAttestation(v, B, 3);
    fcx.onAttestation(3, A2x, 3);
    expect(fcx.getHead()).toBe(B);
    // Checkpoint (3, A2) says slot 3 is empty on its chain: A2x (slot 3), A3 (slot 2) and B are all off it.
    fcx.updateCheckpoints({ slot: 3, root: A2 }, { slot: 1, root: A });
    expect(fcx.getHead()).toBe(A4);
  });
});

describe("block tree", () => {
  it("rejects malformed input and blocks that cannot be placed", () => {
    const { fcx, A, A2 } = forked();
    expect(errorCode(() => fcx.onBlock("0x12", G, 1))).toBe("FORK_CHOICE_INVALID_ROOT");
    expect(errorCode(() => fcx.onBlock(r(1).toUpperCase(), G, 1))).toBe("FORK_CHOICE_INVALID_ROOT");
    expect(errorCode(() => fcx.onBlock(r(1), G, -1))).toBe("FORK_CHOICE_INVALID_SLOT");
    expect(errorCode(() => fcx.onBlock(r(1), r(99), 5))).toBe("FORK_CHOICE_UNKNOWN_PARENT");
    expect(errorCode(() => fcx.onBlock(r(1), A2, 2))).toBe("FORK_CHOICE_BLOCK_SLOT_NOT_AFTER_PARENT");
    expect(errorCode(() => fcx.onBlock(A2, G, 7))).toBe("FORK_CHOICE_BLOCK_ROOT_REUSED");
    expect(errorCode(() => fcx.onAttestation(0, r(99), 3))).toBe("FORK_CHOICE_UNKNOWN_BLOCK");
    expect(errorCode(() => fcx.onAttestation(0, A2, 1))).toBe("FORK_CHOICE_VOTE_BEFORE_BLOCK");
    expect(errorCode(() => fcx.onAttestation(-1, A2, 3))).toBe("FORK_CHOICE_INVALID_VALIDATOR_INDEX");
    expect(errorCode(() => fcx.setWeights(new Map([[0, -1n]])))).toBe("FORK_CHOICE_INVALID_WEIGHT");
    const size = fcx.size;
    fcx.onBlock(A, G, 1); // known block again: no-op
    expect(fcx.size).toBe(size);
  });

  it("rejects blocks that do not descend from the finalized checkpoint", () => {
    const { fcx, A, A2, B } = forked();
    fcx.updateCheckpoints({ slot: 2, root: A }, { slot: 2, root: A });
    expect(errorCode(() => fcx.onBlock(r(0xb2), B, 3))).toBe("FORK_CHOICE_NOT_DESCENDANT_OF_FINALIZED");
    // A child of A at the finalized slot itself is off the chain of checkpoint (2, A).
    expect(errorCode(() => fcx.onBlock(r(0xa5), A2, 3))).toBe("FORK_CHOICE_NOT_DESCENDANT_OF_FINALIZED");
    expect(errorCode(() => fcx.onBlock(r(0xa6), A, 2))).toBe("FORK_CHOICE_NOT_DESCENDANT_OF_FINALIZED");
    fcx.onBlock(r(0xa7), A, 3);
    expect(fcx.getHead()).toBe(r(0xa7));
  });

  it("refuses checkpoint updates that move finality backwards or off the finalized chain", () => {
    const { fcx, A, A2, B } = forked();
    fcx.updateCheckpoints({ slot: 2, root: A2 }, { slot: 1, root: A });
    expect(errorCode(() => fcx.updateCheckpoints({ slot: 2, root: A2 }, { slot: 0, root: G }))).toBe(
      "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
    );
    expect(errorCode(() => fcx.updateCheckpoints({ slot: 1, root: B }, { slot: 1, root: A }))).toBe(
      "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
    );
    expect(errorCode(() => fcx.updateCheckpoints({ slot: 1, root: A2 }, { slot: 1, root: A }))).toBe(
      "FORK_CHOICE_INCONSISTENT_CHECKPOINTS",
    );
    expect(fcx.finalized).toEqual({ slot: 1, root: A });
    expect(fcx.justified).toEqual({ slot: 2, root: A2 });
  });

  it("answers ancestry across empty slots", () => {
    const { fcx, A, A2, B } = forked();
    const A9 = r(0xa9);
    fcx.onBlock(A9, A2, 9);
    expect(fcx.isDescendant(G, A9)).toBe(true);
    expect(fcx.isDescendant(A, A9)).toBe(true);
    expect(fcx.isDescendant(A9, A9)).toBe(true);
    expect(fcx.isDescendant(A9, A)).toBe(false);
    expect(fcx.isDescendant(B, A9)).toBe(false);
    expect(fcx.isDescendant(r(77), A9)).toBe(false);
    expect(fcx.getAncestorAtSlot(A9, 8)).toBe(A2);
    expect(fcx.getAncestorAtSlot(A9, 9)).toBe(A9);
    expect(fcx.getAncestorAtSlot(A9, 1)).toBe(A);
    expect(fcx.getAncestorAtSlot(A9, 0)).toBe(G);
  });

  it("prunes ancestors and competing forks at finalization and keeps the surviving weights", () => {
    const { fcx, A, A2, A3, B } = forked();
    const A4 = r(0xa4);
    fcx.onBlock(A4, A2, 3);
    fcx.onAttestation(0, A4, 3);
    fcx.onAttestation(1, A2, 3);
    fcx.onAttestation(2, A3, 3);
    fcx.onAttestation(3, B, 3);
    fcx.updateCheckpoints({ slot: 2, root: A2 }, { slot: 2, root: A2 });
    const removed = fcx.pruneBelowFinalized();
    expect(new Set(removed)).toEqual(new Set([G, A, B, A3]));
    expect(fcx.size).toBe(2);
    expect(fcx.hasBlock(B)).toBe(false);
    expect(fcx.getWeight(A2)).toBe(2n);
    expect(fcx.getHead()).toBe(A4);
    // The validator that voted for a pruned block counts again once it votes on the surviving chain.
    fcx.onAttestation(3, A2, 4);
    expect(fcx.getWeight(A2)).toBe(3n);
    expect(fcx.pruneBelowFinalized()).toEqual([]);
    expect(errorCode(() => fcx.onBlock(r(0xb2), B, 4))).toBe("FORK_CHOICE_UNKNOWN_PARENT");
    expect(fcx.getAncestorAtSlot(A4, 1)).toBeUndefined();
  });
});

describe("proto-array against a from-scratch GHOST", () => {
  it("agrees on the head for random trees, votes, weights and prunings", () => {
    const scenario = fc.record({
      parents: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
      slotGaps: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 30, maxLength: 30 }),
      votes: fc.array(fc.record({ v: fc.nat(7), block: fc.nat(), slotBump: fc.nat(3) }), { maxLength: 60 }),
      weights: fc.array(fc.bigInt({ min: 0n, max: 50n }), { minLength: 8, maxLength: 8 }),
      finalizeAt: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(scenario, ({ parents, slotGaps, votes, weights, finalizeAt }) => {
        const table = new Map(weights.map((w, i) => [i, w]));
        const fcx = new ForkChoice({ anchor: { slot: 0, root: G }, weights: table });
        const blocks = [{ root: G, parent: -1, slot: 0 }];
        parents.forEach((p, i) => {
          const parent = blocks[p % blocks.length];
          const block = { root: r(i + 1), parent: p % blocks.length, slot: parent.slot + slotGaps[i] };
          fcx.onBlock(block.root, parent.root, block.slot);
          blocks.push(block);
        });
        const latest = new Map<number, { block: number; slot: number }>();
        for (const { v, block, slotBump } of votes) {
          const b = block % blocks.length;
          const slot = blocks[b].slot + slotBump;
          const prev = latest.get(v);
          if (prev === undefined || slot > prev.slot) latest.set(v, { block: b, slot });
          fcx.onAttestation(v, blocks[b].root, slot);
        }
        let anchor = 0;
        if (finalizeAt !== undefined) {
          anchor = finalizeAt % blocks.length;
          const cp = { slot: blocks[anchor].slot, root: blocks[anchor].root };
          fcx.updateCheckpoints(cp, cp);
          fcx.pruneBelowFinalized();
        }
        // Naive GHOST over the blocks descending from the anchor.
        const isDesc = (a: number, d: number): boolean =>
          d === a ? true : d <= 0 ? false : isDesc(a, blocks[d].parent);
        const subtree = (b: number) => {
          let w = 0n;
          for (const [v, m] of latest) if (isDesc(b, m.block)) w += table.get(v) ?? 0n;
          return w;
        };
        let head = anchor;
        for (;;) {
          const children = blocks.map((_, i) => i).filter((i) => blocks[i].parent === head);
          if (children.length === 0) break;
          children.sort((x, y) => {
            const d = subtree(y) - subtree(x);
            return d !== 0n ? (d > 0n ? 1 : -1) : blocks[y].root > blocks[x].root ? 1 : -1;
          });
          head = children[0];
        }
        expect(fcx.getHead()).toBe(blocks[head].root);
        for (let i = 0; i < blocks.length; i++) {
          if (isDesc(anchor, i)) expect(fcx.getWeight(blocks[i].root)).toBe(subtree(i));
          else expect(fcx.hasBlock(blocks[i].root)).toBe(finalizeAt === undefined);
        }
      }),
      { numRuns: 200 },
    );
  });
});
