// State pruning on a real RocksDB, through the real import path: after random sequences of blocks (storage values
// going A → B → A, two contracts holding the same storage, transfers to accounts that exist on one branch only,
// reorgs above finality) and pruning runs (some while blocks keep coming), every kept state's whole trie reads
// straight from disk and equals the flat view it had as the head, states below the window answer STATE_PRUNED, and a
// run with nothing written meanwhile leaves exactly the live nodes. Also: a node a block recreates while a run is
// under way is not deleted; blocks imported during runs are all whole; a run cut short between any two delete
// batches loses nothing and the next run finishes the job.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, StateError } from "@rustchain/shared";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildStoreContract,
  CONTRACTS,
  deployTxs,
  flatImage,
  openPruningChain,
  type PruningChain,
  RECIPIENTS,
  SENDERS,
  type StateImage,
  storedNodes,
  type TxSpec,
  trieImage,
} from "../../../tests/support/pruningChain.ts";
import { Bucket, Database, u64Key } from "../db/database.ts";
import type { ImportedBlock } from "./chain.ts";
import { defaultStatePrunerOptions, type PrunerChain, StatePruner } from "./statePruner.ts";

const silent = pino({ level: "silent" });
const hex = bytesToHex;
const dirs: string[] = [];
let deployData: Uint8Array;

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-prune-"));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  deployData = await buildStoreContract(await tempDir());
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Every block the test made, with the state it had when it was the head. */
interface Known {
  hash: Uint8Array;
  number: bigint;
  root: Uint8Array;
  image: StateImage;
}

class Scenario {
  readonly known = new Map<string, Known>();
  constructor(readonly pc: PruningChain) {}

  static async open(dir: string, history: number, chunkNodes = 16): Promise<Scenario> {
    const s = new Scenario(await openPruningChain(dir, { pruner: { history, chunkNodes }, logger: silent }));
    await s.remember();
    await s.block(deployTxs(deployData));
    return s;
  }

  /** Record the head's state as the reference for its root. */
  async remember(): Promise<void> {
    const { chain, db } = this.pc;
    this.known.set(hex(chain.headHash), {
      hash: chain.headHash,
      number: chain.head.number,
      root: chain.head.stateRoot,
      image: await flatImage(db),
    });
  }

  async block(txs: Parameters<PruningChain["produce"]>[0]): Promise<ImportedBlock> {
    const b = await this.pc.produce(txs);
    await this.remember();
    return b;
  }

  finalize(by: number): void {
    const head = this.pc.chain.head.number;
    const next = this.pc.finalized + BigInt(by);
    this.pc.finalized = next > head ? head : next;
  }

  /** Make an ancestor of the head (at or above the finalized block) the head: the next block starts a fork. */
  async fork(depth: number): Promise<void> {
    const { chain } = this.pc;
    let n = chain.head.number - BigInt(depth);
    if (n < this.pc.finalized) n = this.pc.finalized;
    if (n === chain.head.number) return;
    await chain.setHead((await chain.canonicalHash(n)) as Uint8Array);
  }

  /**
   * Every state the pruner must keep reads whole from disk and equals the reference: canonical blocks from the first
   * available one, and every block above the finalized one (forks included). Canonical states below answer
   * STATE_PRUNED.
   */
  async verify(): Promise<void> {
    const { chain, pruner, db } = this.pc;
    const first = pruner.firstAvailableBlock();
    for (const b of this.known.values()) {
      const canonical = (await chain.canonicalHash(b.number)) ?? new Uint8Array(0);
      const isCanonical = Buffer.compare(canonical, b.hash) === 0;
      if (b.number > this.pc.finalized || (isCanonical && b.number >= first)) {
        expect(await trieImage(db, b.root), `state of block ${b.number} ${hex(b.hash)}`).toEqual(b.image);
      } else if (isCanonical) {
        expect(() => pruner.assertAvailable(b.number)).toThrow(StateError);
      }
    }
    // The head's flat view and its trie agree (head queries read the flat view).
    expect(await trieImage(db, chain.head.stateRoot)).toEqual(await flatImage(db));
  }

  close(): Promise<void> {
    return this.pc.close();
  }
}

const txSpec: fc.Arbitrary<TxSpec> = fc.oneof(
  fc.record({
    kind: fc.constant("transfer" as const),
    from: fc.integer({ min: 1, max: 4 }),
    to: fc.integer({ min: 0, max: 2 }),
    value: fc.constantFrom(1n, 2n),
  }),
  fc.record({
    kind: fc.constant("store" as const),
    from: fc.integer({ min: 0, max: 4 }),
    contract: fc.integer({ min: 0, max: 1 }),
    slot: fc.integer({ min: 0, max: 3 }),
    // A small domain: values return to earlier ones (A → B → A) all the time, zero deletes the slot.
    value: fc.constantFrom(0n, 1n, 2n),
  }),
);
const block = fc.array(txSpec, { maxLength: 4 });
type Op =
  | { op: "block"; txs: TxSpec[] }
  | { op: "mirror"; slot: number; value: bigint }
  | { op: "finalize"; by: number }
  | { op: "fork"; depth: number }
  | { op: "prune" }
  | { op: "pruneUnderLoad"; blocks: TxSpec[][] };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("block" as const), txs: block }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("mirror" as const),
      slot: fc.integer({ min: 0, max: 3 }),
      value: fc.constantFrom(0n, 1n, 2n),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("finalize" as const), by: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("fork" as const), depth: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("prune" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("pruneUnderLoad" as const),
      blocks: fc.array(block, { minLength: 1, maxLength: 3 }),
    }),
  },
);

describe("StatePruner", () => {
  it("keeps every state in the window and above finality whole through random blocks, reorgs and runs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 20, maxLength: 45 }),
        fc.integer({ min: 0, max: 3 }),
        async (ops, history) => {
          const s = await Scenario.open(await tempDir(), history);
          try {
            for (const o of ops) {
              if (o.op === "block") await s.block(o.txs);
              else if (o.op === "mirror") {
                // The same slot and value in both contracts: their storage tries share nodes (or are the same trie).
                await s.block(
                  [0, 1].map(
                    (contract): TxSpec => ({ kind: "store", from: 0, contract, slot: o.slot, value: o.value }),
                  ),
                );
              } else if (o.op === "finalize") s.finalize(o.by);
              else if (o.op === "fork") await s.fork(o.depth);
              else if (o.op === "prune") {
                const run = await s.pc.pruner.runOnce();
                await s.verify();
                // Nothing was written during the run: what is left is exactly what the kept roots reach.
                expect(await storedNodes(s.pc.db)).toBe(run?.liveNodes);
              } else {
                const running = s.pc.pruner.runOnce();
                for (const txs of o.blocks) await s.block(txs);
                await running;
                await s.verify();
              }
            }
            s.finalize(1000);
            await s.pc.pruner.runOnce();
            await s.verify();
          } finally {
            await s.close();
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it("does not delete a node that a block recreates while a run is under way (A -> B -> A)", async () => {
    const s = await Scenario.open(await tempDir(), 0);
    try {
      const { db, pruner } = s.pc;
      const writtenBy = async (txs: TxSpec[]) => {
        const written = new Set<string>();
        const stop = db.observeWrites((batch) => {
          for (const o of batch.ops)
            if (o.type === "put" && o.key[0] === Bucket.stateNodes) written.add(hex(o.key.subarray(1)));
        });
        await s.block(txs);
        stop();
        return written;
      };
      const store = (value: bigint): TxSpec[] => [{ kind: "store", from: 1, contract: 0, slot: 0, value }];
      const writtenA = await writtenBy(store(7n));
      await s.block(store(8n));
      await s.block([]);
      s.finalize(1000);
      // Kept: the head only (history 0, nothing above finality). What A wrote and the head does not reach is garbage.
      const reached = new Set<string>();
      await trieImage(db, s.pc.chain.head.stateRoot, reached);
      const garbage = [...writtenA].filter((h) => !reached.has(h));
      expect(garbage.length).toBeGreaterThan(0);

      let writtenAgain = new Set<string>();
      const run = await pruner.runOnce({
        afterMark: async () => {
          // Marked already: the same values again write the same nodes (the storage leaf of 7, and the storage root).
          writtenAgain = await writtenBy(store(7n));
        },
      });
      expect(run?.deletedNodes).toBeGreaterThan(0);
      const recreated = garbage.filter((h) => writtenAgain.has(h));
      expect(recreated.length).toBeGreaterThan(0);
      for (const h of recreated) expect(await db.get(Bucket.stateNodes, Buffer.from(h.slice(2), "hex"))).toBeDefined();
      // The rest of that garbage is gone.
      for (const h of garbage.filter((g) => !writtenAgain.has(g))) {
        expect(await db.get(Bucket.stateNodes, Buffer.from(h.slice(2), "hex"))).toBeUndefined();
      }
      await s.verify();
    } finally {
      await s.close();
    }
  });

  it("loses no block when runs go on while blocks are imported", async () => {
    const s = await Scenario.open(await tempDir(), 1, 4);
    try {
      const { chain, db, pruner } = s.pc;
      const imported: ImportedBlock[] = [];
      let runs = 0;
      for (let round = 0; round < 6; round++) {
        s.finalize(3);
        const running = pruner.runOnce().then(() => runs++);
        // Blocks keep coming while the run marks and sweeps (4 nodes a step, yielding between steps).
        for (let i = 0; i < 4; i++) {
          imported.push(
            await s.block([
              { kind: "transfer", from: 1 + (i % 4), to: i % 3, value: 1n },
              { kind: "store", from: 0, contract: i % 2, slot: i % 4, value: BigInt(round % 3) },
              { kind: "store", from: 2, contract: (i + 1) % 2, slot: i % 4, value: BigInt((round + i) % 3) },
            ]),
          );
        }
        await running;
      }
      expect(runs).toBe(6);
      // Every block is whole and canonical, with its transactions indexed.
      for (const b of imported) {
        expect(hex((await chain.canonicalHash(b.block.header.number)) as Uint8Array)).toBe(hex(b.hash));
        expect(await chain.getBlock(b.hash)).toEqual(b.block);
        expect((await chain.getReceipts(b.hash))?.length).toBe(b.txs.length);
        for (const t of b.txs) expect(hex((await chain.txLocation(t.hash))?.blockHash as Uint8Array)).toBe(hex(b.hash));
      }
      expect(chain.head.number).toBe(imported.at(-1)?.block.header.number);
      // The flat diffs of blocks below the window are gone; those from it on remain (reorgs above finality).
      const first = pruner.firstAvailableBlock();
      for (const b of imported) {
        const diff = await db.get(Bucket.flatDiffs, b.hash);
        if (b.block.header.number < first) expect(diff).toBeUndefined();
        else expect(diff).toBeDefined();
      }
      await s.verify();
      // Head queries: the account cache and flat view answer what the head's trie holds.
      for (const a of [...SENDERS.slice(0, 5), ...RECIPIENTS, ...CONTRACTS]) {
        expect(await s.pc.state.headAccount(a)).toEqual(await s.pc.state.accountAt(chain.head.stateRoot, a));
      }
    } finally {
      await s.close();
    }
  });

  it("keeps a pinned state (a snapshot export reading it) until released, and refuses to pin a pruned one", async () => {
    const s = await Scenario.open(await tempDir(), 0);
    try {
      const { chain, db, pruner } = s.pc;
      for (let i = 0; i < 3; i++) await s.block([{ kind: "store", from: 1, contract: 0, slot: i, value: 1n }]);
      const pinned = s.known.get(hex(chain.headHash)) as Known;
      const release = pruner.pin(pinned.number, pinned.root);
      for (let i = 0; i < 3; i++) await s.block([{ kind: "store", from: 1, contract: 0, slot: i, value: 2n }]);
      s.finalize(1000);
      await pruner.runOnce();
      expect(pinned.number).toBeLessThan(pruner.firstAvailableBlock());
      expect(await trieImage(db, pinned.root)).toEqual(pinned.image);
      expect(() => pruner.pin(pinned.number, pinned.root)).toThrow(StateError);
      release();
      await pruner.runOnce();
      await expect(trieImage(db, pinned.root)).rejects.toThrow();
      await s.verify();
    } finally {
      await s.close();
    }
  });

  it("keeps the flat diffs of canonical blocks a holder still needs (a replication receiver behind)", async () => {
    const s = await Scenario.open(await tempDir(), 0);
    try {
      const { chain, db, pruner } = s.pc;
      const blocks: ImportedBlock[] = [];
      for (let i = 0; i < 6; i++) blocks.push(await s.block([{ kind: "transfer", from: 1, to: 0, value: 1n }]));
      let holdFrom: bigint | undefined = blocks[2]?.block.header.number;
      pruner.holdFlatDiffs(async () => holdFrom);
      s.finalize(1000);
      await pruner.runOnce();
      const diffOf = (b: ImportedBlock) => db.get(Bucket.flatDiffs, b.hash);
      expect(await diffOf(blocks[1] as ImportedBlock)).toBeUndefined();
      for (const b of blocks.slice(2)) expect(await diffOf(b)).toBeDefined();
      holdFrom = undefined;
      await pruner.runOnce();
      for (const b of blocks.slice(0, -1)) expect(await diffOf(b)).toBeUndefined();
      expect(chain.head.number).toBe(s.pc.finalized);
      expect(await diffOf(blocks.at(-1) as ImportedBlock)).toBeDefined();
    } finally {
      await s.close();
    }
  });

  it("starts a warp-synced node's state at its snapshot block, archive or not", async () => {
    const db = await Database.open(await tempDir());
    try {
      // History from block 501 on: the snapshot block is 500, whose state warp sync restored.
      const chain = { historyStart: 501n } as PrunerChain;
      for (const archive of [false, true]) {
        const pruner = new StatePruner(
          { ...defaultStatePrunerOptions, archive, history: 128 },
          { db, chain, finalized: async () => 520n, logger: silent },
        );
        await pruner.init();
        expect(pruner.firstAvailableBlock()).toBe(500n);
        pruner.assertAvailable(500n);
        const refused = (() => {
          try {
            pruner.assertAvailable(499n);
          } catch (e) {
            return e;
          }
        })();
        expect(refused).toBeInstanceOf(StateError);
        expect((refused as StateError).type).toEqual({
          code: "STATE_PRUNED",
          number: 499n,
          firstAvailable: 500n,
          keptBlocks: archive ? null : 128,
        });
        await pruner.stop();
      }
    } finally {
      await db.close();
    }
  });

  it("loses nothing when a run stops between any two delete batches, and the next run finishes", async () => {
    const dir = await tempDir();
    let s = await Scenario.open(dir, 0, 4);
    for (let i = 0; i < 8; i++) {
      await s.block([
        { kind: "store", from: 0, contract: i % 2, slot: i % 4, value: BigInt(i % 3) },
        { kind: "transfer", from: 1, to: i % 3, value: 1n },
      ]);
    }
    s.finalize(6);
    const known = s.known;
    let batches = 0;
    // Stop the first run after its mark (0), the next after its first delete batch, and so on, until a run finishes.
    for (let stopAt = 0; ; stopAt++) {
      const crash = new Error("crash");
      const outcome = await s.pc.pruner
        .runOnce({
          afterMark: async () => {
            if (stopAt === 0) throw crash;
          },
          afterSweepBatch: async () => {
            batches++;
            if (batches === stopAt) throw crash;
          },
        })
        .then(
          () => "finished",
          (e) => (e === crash ? "crashed" : Promise.reject(e)),
        );
      batches = 0;
      // Reopen, as after a crash: no cache, no filter, no mark set survive.
      const finalized = s.pc.finalized;
      await s.close();
      s = new Scenario(
        await openPruningChain(dir, { pruner: { history: 0, chunkNodes: 4 }, finalized, logger: silent }),
      );
      for (const [k, v] of known) s.known.set(k, v);
      await s.verify();
      if (outcome === "finished") break;
    }
    const run = await s.pc.pruner.runOnce();
    expect(await storedNodes(s.pc.db)).toBe(run?.liveNodes);
    await s.verify();
    // The floor was raised before anything was deleted, and survived every restart.
    const floor = await s.pc.db.get(Bucket.meta, new TextEncoder().encode("state-floor"));
    expect(hex(floor as Uint8Array)).toBe(hex(u64Key(s.pc.finalized)));
    await s.close();
  });
});
