// Safety and liveness of finality under simulation: several nodes, each with its own fork choice and finality
// tracker, random block trees, honest validators following their node's view (attesting, then finalize-voting for the
// slot's checkpoint once their node sees it justified), and byzantine validators (< 1/3 of the weight) that vote
// arbitrarily, double-vote, surround-vote, finalize-vote anything and show different votes to different nodes.
// Safety: no two finalized checkpoints, across all nodes, ever conflict. Liveness: with >= 2/3 honest and timely
// delivery, every slot is justified and finalized within itself (by finalize votes), or by its successor without them.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AttestationData,
  type Checkpoint,
  checkpointsConflict,
  type IndexedAttestation,
  type IndexedFinalizeVote,
  isCheckpointAncestor,
  type Root,
} from "./checkpoint.ts";
import { FinalityError, ForkChoiceError } from "./errors.ts";
import { FinalityTracker } from "./finality.ts";
import { ForkChoice } from "./forkChoice.ts";
import { detectAttesterSlashing, detectFinalizerSlashing, EquivocationIndex } from "./slashing.ts";

const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const GENESIS: Checkpoint = { slot: 0, root: r(0) };

/** mulberry32: a seeded PRNG so one fast-check seed replays a whole simulation. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (n: number) => Math.floor(next() * n),
    pick<T>(xs: readonly T[]): T {
      return xs[Math.floor(next() * xs.length)];
    },
    shuffle<T>(xs: T[]): T[] {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    },
  };
}

type Vote = IndexedAttestation | IndexedFinalizeVote;
const isFinalize = (v: Vote): v is IndexedFinalizeVote => "checkpoint" in v;

interface Node {
  forkChoice: ForkChoice;
  tracker: FinalityTracker;
  inbox: Vote[];
}

function createNode(weights: Map<number, bigint>): Node {
  const forkChoice = new ForkChoice({ anchor: GENESIS, weights });
  const tracker: FinalityTracker = new FinalityTracker(
    { anchor: GENESIS, weights },
    {
      blocks: forkChoice,
      onFinalized: (cp) => {
        forkChoice.updateCheckpoints(tracker.justified, cp);
        forkChoice.pruneBelowFinalized();
      },
    },
  );
  return { forkChoice, tracker, inbox: [] };
}

function deliver(node: Node, a: Vote): void {
  if (isFinalize(a)) {
    try {
      node.tracker.onFinalizeVote(a);
    } catch (e) {
      if (!(e instanceof FinalityError)) throw e;
    }
    node.forkChoice.updateCheckpoints(node.tracker.justified, node.tracker.finalized);
    return;
  }
  try {
    node.forkChoice.onAttestation(a.validatorIndex, a.data.headRoot, a.data.slot);
  } catch (e) {
    if (!(e instanceof ForkChoiceError)) throw e; // block pruned or never accepted by this node
  }
  try {
    node.tracker.onAttestation(a);
  } catch (e) {
    if (!(e instanceof FinalityError)) throw e; // invalid link or pruned block: refused, nothing changed
  }
  node.forkChoice.updateCheckpoints(node.tracker.justified, node.tracker.finalized);
}

interface Scenario {
  seed: number;
  honestWeights: bigint[];
  byzantineWeights: bigint[];
  nodes: number;
  slots: number;
  attestPct: number;
  deliverPct: number;
  forkPct: number;
  /** Chance an honest validator votes for some other block on its justified chain instead of its head (stale view). */
  divergePct: number;
  /**
   * For the first `partitionSlots` slots each node's blocks and honest votes reach only that node; the others get
   * them when the partition heals.
   */
  partitionSlots: number;
  /** Chance a byzantine validator sends each node the vote that node's honest validators would cast. */
  mirrorPct: number;
  byzantineToAll: boolean;
  /** Every node receives the same votes in the same order (identical views); otherwise orders are shuffled. */
  sameOrder: boolean;
  /** Validators cast the second vote of the slot (finalize votes); without, only the 2-chain rule finalizes. */
  finalizeVotes: boolean;
}

/** Drops the heaviest byzantine validators until they hold strictly less than 1/3 of the total weight. */
function underOneThird(honest: bigint[], byzantine: bigint[]): bigint[] {
  const byz = [...byzantine].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const h = honest.reduce((s, w) => s + w, 0n);
  for (;;) {
    const b = byz.reduce((s, w) => s + w, 0n);
    if (3n * b < h + b) return byz;
    byz.pop();
  }
}

function simulate(sc: Scenario, capByzantine = true) {
  const rand = rng(sc.seed);
  const byzantineWeights = capByzantine ? underOneThird(sc.honestWeights, sc.byzantineWeights) : sc.byzantineWeights;
  const weights = new Map<number, bigint>();
  const honest: number[] = [];
  const byzantine: number[] = [];
  for (const w of sc.honestWeights) {
    honest.push(weights.size);
    weights.set(weights.size, w);
  }
  for (const w of byzantineWeights) {
    byzantine.push(weights.size);
    weights.set(weights.size, w);
  }
  const nodes = Array.from({ length: sc.nodes }, () => createNode(weights));
  const held: Vote[][] = nodes.map(() => []);
  const heldBlocks: { root: Root; parent: Root; slot: number }[][] = nodes.map(() => []);
  // The whole tree, never pruned: the oracle for "conflicting".
  const global = new ForkChoice({ anchor: GENESIS });
  const blocks: { root: Root; slot: number }[] = [{ root: GENESIS.root, slot: 0 }];
  const honestVotes: Vote[] = [];
  const allVotes: Vote[] = [];
  let nextRoot = 1;
  let protectionRefusals = 0;
  const finalizedPerSlot: number[] = [];

  const importBlock = (n: Node, b: { root: Root; parent: Root; slot: number }) => {
    try {
      n.forkChoice.onBlock(b.root, b.parent, b.slot);
    } catch (e) {
      if (!(e instanceof ForkChoiceError)) throw e; // off this node's finalized chain
    }
  };
  /** A new block, seen at once by `seenBy` (all nodes by default) and by the others when the partition heals. */
  const addBlock = (parent: Root, slot: number, seenBy: readonly Node[] = nodes) => {
    const block = { root: r(nextRoot++), parent, slot };
    global.onBlock(block.root, parent, slot);
    blocks.push(block);
    nodes.forEach((n, i) => {
      if (seenBy.includes(n)) importBlock(n, block);
      else heldBlocks[i].push(block);
    });
  };
  const send = (a: Vote, to: readonly Node[]) => {
    allVotes.push(a);
    for (const node of to) node.inbox.push(a);
  };

  /** Slashing protection on the half-slot grid: false (and counted) when `vote` is slashable with an earlier one. */
  const protect = (v: number, vote: Vote): boolean => {
    const own = honestVotes.filter((b) => b.validatorIndex === v);
    const slashable = own.some((b) =>
      isFinalize(b) || isFinalize(vote)
        ? detectFinalizerSlashing<IndexedFinalizeVote, IndexedAttestation>(b, vote) !== undefined
        : detectAttesterSlashing(b, vote) !== undefined,
    );
    if (slashable) protectionRefusals++;
    return !slashable;
  };
  const honestSend = (vote: Vote, home: number, partitioned: boolean) => {
    honestVotes.push(vote);
    if (partitioned) {
      send(vote, [nodes[home] as Node]);
      nodes.forEach((_, i) => {
        if (i !== home) held[i].push(vote);
      });
    } else {
      send(vote, nodes);
    }
  };
  const deliverInboxes = () => {
    for (const n of nodes) {
      const now = n.inbox.filter(() => rand.chance(sc.deliverPct / 100));
      n.inbox = n.inbox.filter((a) => !now.includes(a));
      for (const a of sc.sameOrder ? now : rand.shuffle(now)) deliver(n, a);
    }
  };

  for (let t = 1; t <= sc.slots; t++) {
    const partitioned = t <= sc.partitionSlots;
    if (t === sc.partitionSlots + 1) {
      nodes.forEach((n, i) => {
        for (const b of heldBlocks[i]) importBlock(n, b);
        n.inbox.push(...held[i]);
      });
    }
    // Proposals: on some node's head (while partitioned, each node on its own head, seen only by it), sometimes a
    // competing block anywhere.
    if (partitioned) {
      const heads = nodes.map((n) => n.forkChoice.getHead());
      nodes.forEach((n, i) => {
        if (rand.chance(0.8)) addBlock(heads[i], t, [n]);
      });
    } else if (rand.chance(0.85)) {
      addBlock(rand.pick(nodes).forkChoice.getHead(), t);
    }
    if (rand.chance(sc.forkPct / 100)) addBlock(rand.pick(blocks.filter((b) => b.slot < t)).root, t);

    for (const v of honest) {
      if (!rand.chance(sc.attestPct / 100)) continue;
      const home = v % nodes.length;
      const n = nodes[home];
      const source = n.tracker.justified;
      // Only byzantine validators holding > 2/3 could justify the current slot before the honest ones vote in it.
      if (source.slot >= t) {
        expect(capByzantine).toBe(false);
        continue;
      }
      let head = n.forkChoice.getHead();
      if (rand.chance(sc.divergePct / 100)) {
        // A stale or divergent view: any known block on the chain of the node's justified checkpoint.
        const options = blocks.filter(
          (b) => n.forkChoice.hasBlock(b.root) && isCheckpointAncestor(n.forkChoice, source, { slot: t, root: b.root }),
        );
        if (options.length > 0) head = rand.pick(options).root;
      }
      const data: AttestationData = { slot: t, headRoot: head, source, target: { slot: t, root: head } };
      const a = { validatorIndex: v, data };
      // Slashing protection, as a validator client keeps it: never sign a vote slashable with one's own earlier votes.
      if (!protect(v, a)) continue;
      honestSend(a, home, partitioned);
    }

    for (const v of byzantine) {
      // Equivocate: to each node, the vote an honest validator of that node would cast (or one such vote to all).
      for (const n of sc.byzantineToAll ? [rand.pick(nodes)] : nodes) {
        if (!rand.chance(sc.mirrorPct / 100)) continue;
        const head = n.forkChoice.getHead();
        const data = { slot: t, headRoot: head, source: n.tracker.justified, target: { slot: t, root: head } };
        send({ validatorIndex: v, data }, sc.byzantineToAll ? nodes : [n]);
      }
      // And arbitrary votes: any source, any target, future slots included.
      for (let k = rand.int(3); k > 0; k--) {
        const sources = [GENESIS, ...nodes.flatMap((n) => [n.tracker.justified, n.tracker.finalized])];
        const randomBlock = rand.pick(blocks);
        const source = rand.chance(0.7)
          ? rand.pick(sources)
          : { slot: randomBlock.slot + rand.int(2), root: randomBlock.root };
        // Gossip validation drops votes for future slots, so even byzantine targets are at most the current slot.
        if (source.slot >= t) continue;
        const targetSlot = source.slot + 1 + rand.int(t - source.slot);
        const targetRoot = global.getAncestorAtSlot(rand.pick(blocks).root, targetSlot) ?? GENESIS.root;
        const data: AttestationData = {
          slot: targetSlot,
          headRoot: rand.chance(0.8) ? targetRoot : rand.pick(blocks).root,
          source,
          target: { slot: targetSlot, root: targetRoot },
        };
        send({ validatorIndex: v, data }, sc.byzantineToAll ? nodes : nodes.filter(() => rand.chance(0.5)));
      }
    }

    deliverInboxes();

    if (sc.finalizeVotes) {
      // The second vote: an honest validator whose node sees this slot's checkpoint justified votes to finalize it.
      for (const v of honest) {
        if (!rand.chance(sc.attestPct / 100)) continue;
        const home = v % nodes.length;
        const justified = (nodes[home] as Node).tracker.justified;
        if (justified.slot !== t) continue;
        const f: IndexedFinalizeVote = { validatorIndex: v, checkpoint: justified };
        if (!protect(v, f)) continue;
        honestSend(f, home, partitioned);
      }
      for (const v of byzantine) {
        // Mirror each node's justified checkpoint, and finalize-vote arbitrary checkpoints.
        for (const n of sc.byzantineToAll ? [rand.pick(nodes)] : nodes) {
          if (!rand.chance(sc.mirrorPct / 100)) continue;
          send({ validatorIndex: v, checkpoint: n.tracker.justified }, sc.byzantineToAll ? nodes : [n]);
        }
        for (let k = rand.int(3); k > 0; k--) {
          const slot = 1 + rand.int(t);
          const root = global.getAncestorAtSlot(rand.pick(blocks).root, slot) ?? GENESIS.root;
          send(
            { validatorIndex: v, checkpoint: { slot, root } },
            sc.byzantineToAll ? nodes : nodes.filter(() => rand.chance(0.5)),
          );
        }
      }
      deliverInboxes();
    }
    finalizedPerSlot.push(Math.min(...nodes.map((n) => n.tracker.finalized.slot)));
  }
  nodes.forEach((n, i) => {
    const stillHeld = sc.partitionSlots >= sc.slots;
    if (stillHeld) for (const b of heldBlocks[i]) importBlock(n, b);
    for (const a of rand.shuffle([...n.inbox, ...(stillHeld ? held[i] : [])])) deliver(n, a);
    n.inbox = [];
  });
  return { nodes, global, honestVotes, allVotes, weights, finalizedPerSlot, protectionRefusals };
}

const scenarioArb = (minByzantine: number, maxByzantine: number): fc.Arbitrary<Scenario> =>
  fc.record({
    seed: fc.integer(),
    honestWeights: fc.array(fc.bigInt({ min: 1n, max: 100n }), { minLength: 3, maxLength: 9 }),
    byzantineWeights: fc.array(fc.bigInt({ min: 1n, max: 100n }), { minLength: minByzantine, maxLength: maxByzantine }),
    nodes: fc.integer({ min: 2, max: 4 }),
    slots: fc.integer({ min: 3, max: 16 }),
    attestPct: fc.oneof(fc.constant(100), fc.integer({ min: 70, max: 100 })),
    deliverPct: fc.oneof(fc.constant(100), fc.integer({ min: 40, max: 100 })),
    forkPct: fc.integer({ min: 0, max: 60 }),
    divergePct: fc.integer({ min: 0, max: 20 }),
    partitionSlots: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 16 })),
    mirrorPct: fc.integer({ min: 0, max: 100 }),
    byzantineToAll: fc.boolean(),
    sameOrder: fc.boolean(),
    finalizeVotes: fc.boolean(),
  });

/** Two nodes split by a long partition, byzantine validators often holding >= 1/3 and supporting both sides. */
const partitionedArb: fc.Arbitrary<Scenario> = fc
  .record({
    base: scenarioArb(0, 0),
    honestWeights: fc.array(fc.bigInt({ min: 1n, max: 100n }), { minLength: 2, maxLength: 5 }),
    byzantineWeights: fc.array(fc.bigInt({ min: 20n, max: 100n }), { minLength: 1, maxLength: 4 }),
    partitionSlots: fc.integer({ min: 3, max: 16 }),
    mirrorPct: fc.integer({ min: 80, max: 100 }),
  })
  .map(({ base, ...rest }) => ({ ...base, ...rest, nodes: 2, attestPct: 100, deliverPct: 100, byzantineToAll: false }));

describe("finality under byzantine validators (< 1/3 of the weight)", () => {
  it("never finalizes two conflicting checkpoints, across all nodes", () => {
    let runs = 0;
    let runsWithFinality = 0;
    let runsWithForkedFinality = 0;
    fc.assert(
      fc.property(scenarioArb(0, 4), (sc) => {
        const { nodes, global, honestVotes, protectionRefusals } = simulate(sc);
        expect(protectionRefusals).toBe(0); // following the protocol never even comes close to a slashable vote
        const finalized = nodes.flatMap((n) => n.tracker.finalizedHistory);
        for (const n of nodes) expect(n.tracker.conflicts).toEqual([]);
        for (const a of finalized) {
          for (const b of finalized) expect(checkpointsConflict(global, a, b)).toBe(false);
        }
        // Honest validators following the protocol are never slashable.
        const index = new EquivocationIndex();
        for (const a of honestVotes) expect(ingest(index, a)).toEqual([]);
        runs++;
        if (finalized.some((c) => c.slot > 0)) runsWithFinality++;
        if (sc.forkPct > 0 && finalized.some((c) => c.slot > 1)) runsWithForkedFinality++;
      }),
      { numRuns: 250 },
    );
    // The property is not vacuous: most runs finalize something, many of them on forked trees.
    console.log(`safety runs=${runs} finalized=${runsWithFinality} finalizedWithForks=${runsWithForkedFinality}`);
    expect(runsWithFinality / runs).toBeGreaterThan(0.3);
    expect(runsWithForkedFinality).toBeGreaterThan(runs / 4);
  });

  it("accountable safety: any conflicting finalization comes with >= 1/3 of the weight provably slashable", () => {
    let runs = 0;
    let runsWithConflict = 0;
    fc.assert(
      fc.property(partitionedArb, (sc) => {
        // No cap on the byzantine weight here: finality may break, but never without evidence against >= 1/3.
        const { nodes, global, allVotes, honestVotes, weights } = simulate(sc, false);
        const finalized = nodes.flatMap((n) => n.tracker.finalizedHistory);
        const conflict =
          nodes.some((n) => n.tracker.conflicts.length > 0) ||
          finalized.some((a) => finalized.some((b) => checkpointsConflict(global, a, b)));
        const index = new EquivocationIndex();
        for (const a of allVotes) ingest(index, a);
        for (const a of honestVotes) expect(index.slashable.has(a.validatorIndex)).toBe(false);
        runs++;
        if (!conflict) return;
        runsWithConflict++;
        let total = 0n;
        let slashable = 0n;
        for (const [v, w] of weights) {
          total += w;
          if (index.slashable.has(v)) slashable += w;
        }
        expect(3n * slashable).toBeGreaterThanOrEqual(total);
      }),
      { numRuns: 250 },
    );
    console.log(`accountable runs=${runs} conflicts=${runsWithConflict}`);
    expect(runsWithConflict).toBeGreaterThan(0);
  });

  // With finalize votes every slot is finalized within itself; without them (a network too slow for the second
  // vote), the 2-chain rule still finalizes every slot's predecessor: `lag` is how far finality trails the slot.
  it.each([
    { finalizeVotes: true, lag: 0, what: "finalizes every slot within the slot" },
    {
      finalizeVotes: false,
      lag: 1,
      what: "without finalize votes, the 2-chain rule finalizes every slot's predecessor",
    },
  ])("justifies every slot and $what when >= 2/3 are honest, online and timely", ({ finalizeVotes, lag }) => {
    fc.assert(
      fc.property(scenarioArb(0, 4), (sc) => {
        const { nodes, finalizedPerSlot } = simulate({
          ...sc,
          nodes: 2,
          attestPct: 100,
          deliverPct: 100,
          divergePct: 0,
          partitionSlots: 0,
          byzantineToAll: true,
          sameOrder: true,
          finalizeVotes,
        });
        finalizedPerSlot.forEach((finalizedSlot, i) => {
          expect(finalizedSlot).toBe(i + 1 - lag); // by the end of slot i + 1
        });
        for (const n of nodes) {
          expect(n.tracker.justified.slot).toBe(sc.slots);
          expect(n.tracker.finalized.slot).toBe(sc.slots - lag);
        }
      }),
      { numRuns: 100 },
    );
  });
});

function ingest(index: EquivocationIndex, vote: Vote): unknown[] {
  return isFinalize(vote) ? index.ingestFinalizeVote(vote) : index.ingestAttestation(vote);
}

describe("the finalize-surround slashing condition", () => {
  it("is what convicts validators who fast-finalize a checkpoint and then justify a conflicting one", () => {
    // G(0) ─ A(1)                 slot 1: all four attest G -> (1, A) and finalize-vote (1, A): A is final on node X.
    //   └─── B3(3) ─ B4(4)        slots 3-4: v0-v2 attest G -> (3, B3), then (3, B3) -> (4, B4): B3 final on node Y.
    // No two of a validator's attestations are a double or surround vote ((0,1), (0,3), (3,4)); only the attestation
    // G -> (3, B3), whose grid link 0 -> 6 surrounds the finalize vote's 2 -> 3, is slashable.
    const weights = new Map([0, 1, 2, 3].map((v) => [v, 1n] as [number, bigint]));
    const [X, Y] = [createNode(weights), createNode(weights)];
    for (const n of [X, Y]) {
      n.forkChoice.onBlock(r(1), GENESIS.root, 1);
      n.forkChoice.onBlock(r(3), GENESIS.root, 3);
      n.forkChoice.onBlock(r(4), r(3), 4);
    }
    const A = { slot: 1, root: r(1) };
    const B3 = { slot: 3, root: r(3) };
    const B4 = { slot: 4, root: r(4) };
    const votes: Vote[] = [];
    for (const v of [0, 1, 2, 3])
      votes.push({ validatorIndex: v, data: { slot: 1, headRoot: A.root, source: GENESIS, target: A } });
    for (const v of [0, 1, 2, 3]) votes.push({ validatorIndex: v, checkpoint: A });
    for (const v of [0, 1, 2])
      votes.push({ validatorIndex: v, data: { slot: 3, headRoot: B3.root, source: GENESIS, target: B3 } });
    for (const v of [0, 1, 2])
      votes.push({ validatorIndex: v, data: { slot: 4, headRoot: B4.root, source: B3, target: B4 } });
    for (const vote of votes.slice(0, 8)) deliver(X, vote);
    for (const vote of votes.slice(8)) deliver(Y, vote);
    expect(X.tracker.finalized).toEqual(A);
    expect(Y.tracker.finalized).toEqual(B3);
    const index = new EquivocationIndex();
    const evidence = votes.flatMap((v) => ingest(index, v) as { kind: string; validatorIndex: number }[]);
    expect(new Set(evidence.map((e) => e.kind))).toEqual(new Set(["finalize_surround"]));
    expect(index.slashable).toEqual(new Set([0, 1, 2]));
  });
});
