// State pruning survives kill -9 at any point of a run: a child process prunes the chain of
// tests/support/pruningChain.ts and is SIGKILLed during its mark, right after it, and between delete batches; after
// each kill every kept state reads whole from disk (straight from RocksDB, no cache) and equals the state it had as
// the head, and a last run to completion leaves exactly the live nodes.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bytesToHex } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildStoreContract,
  deployTxs,
  flatImage,
  openPruningChain,
  type StateImage,
  storedNodes,
  trieImage,
} from "./support/pruningChain.ts";

const ROOT = resolve(import.meta.dirname, "..");
const silent = pino({ level: "silent" });
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Run the child until it prints a line matching `killAt` (then SIGKILL it) or exits; returns its last line. */
function runChild(dir: string, finalized: bigint, killAt: RegExp | undefined): Promise<string> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "tests/support/pruneChild.ts"), dir, String(finalized), "0", "4"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  let last = "";
  proc.stderr.on("data", (d) => {
    err += d;
  });
  return new Promise((done, fail) => {
    proc.stdout.on("data", (d) => {
      out += d;
      const lines = out.split("\n");
      out = lines.pop() ?? "";
      for (const line of lines) {
        last = line;
        if (killAt?.test(line) && proc.exitCode === null) proc.kill("SIGKILL");
      }
    });
    proc.once("exit", (code, signal) => {
      if (signal === "SIGKILL" || code === 0) done(last);
      else fail(new Error(`prune child exited with ${code}: ${err}`));
    });
  });
}

describe("state pruning and kill -9", () => {
  it("loses nothing reachable when the pruning process is killed at any step, and a later run finishes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rustchain-prune-kill-"));
    dirs.push(dir);
    const deployData = await buildStoreContract(dir);
    // A chain with plenty of garbage: storage values and balances change in every block.
    const pc = await openPruningChain(dir, { pruner: { history: 0 }, logger: silent });
    const known = new Map<string, { number: bigint; hash: Uint8Array; root: Uint8Array; image: StateImage }>();
    const remember = async () =>
      known.set(bytesToHex(pc.chain.headHash), {
        number: pc.chain.head.number,
        hash: pc.chain.headHash,
        root: pc.chain.head.stateRoot,
        image: await flatImage(pc.db),
      });
    await pc.produce(deployTxs(deployData));
    for (let i = 0; i < 40; i++) {
      await pc.produce([
        { kind: "store", from: 0, contract: i % 2, slot: i % 4, value: BigInt(1 + (i % 3)) },
        { kind: "store", from: 1, contract: (i + 1) % 2, slot: (i + 2) % 4, value: BigInt(i % 3) },
        { kind: "transfer", from: 2 + (i % 3), to: i % 3, value: 1n },
      ]);
      await remember();
    }
    const finalized = pc.chain.head.number - 3n;
    const nodesBefore = await storedNodes(pc.db);
    await pc.close();

    /** Every kept state (history 0: the finalized block and the blocks above it) reads whole from disk. */
    const verify = async () => {
      const again = await openPruningChain(dir, { pruner: { history: 0 }, finalized, logger: silent });
      try {
        for (const b of known.values()) {
          if (b.number < finalized) continue;
          expect(await trieImage(again.db, b.root), `state of block ${b.number}`).toEqual(b.image);
        }
        return await storedNodes(again.db);
      } finally {
        await again.close();
      }
    };

    const points = [/^ready$/, /^marked$/, /^batch /, /^batch (1[2-9]|[2-9]\d)$/, /^batch \d{3}/];
    let killedMidSweep = 0;
    for (const point of points) {
      const last = await runChild(dir, finalized, point);
      if (last.startsWith("batch")) killedMidSweep++;
      await verify();
    }
    expect(killedMidSweep).toBeGreaterThanOrEqual(2);
    const nodesAfterKills = await verify();
    expect(nodesAfterKills).toBeLessThan(nodesBefore);

    const last = await runChild(dir, finalized, undefined);
    expect(last).toMatch(/^done \d+$/);
    // The finished run left exactly the nodes the kept roots reach: count them independently.
    const reached = new Set<string>();
    const check = await openPruningChain(dir, { pruner: { history: 0 }, finalized, logger: silent });
    try {
      for (const b of known.values()) if (b.number >= finalized) await trieImage(check.db, b.root, reached);
      // Genesis' state root at block 0 and the deploy block are below the window: not reached.
      expect(await storedNodes(check.db)).toBe(reached.size);
    } finally {
      await check.close();
    }
    await verify();
  });
});
