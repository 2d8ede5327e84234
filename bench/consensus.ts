// `npm run bench:consensus`: finality latency and block propagation of a local multi-validator cluster (one
// `rustchain node` process per validator on loopback, 1 s slots), first with 4 validators, then with 8. For each size:
// start the cluster, wait until every node finalizes, then for --slots slots poll rustchain_finalityStatus of every
// node every --poll-ms and record when each node first reports
//   - a finalized checkpoint: finality latency = that moment - the start of the checkpoint's slot (per node);
//   - a block as its head: propagation = that moment - the moment the proposer logged "Produced block" (blocks are
//     published right after), for every node but the proposer; also measured from the block's slot start;
//   - at every poll, how many blocks the finalized block lags the head (what a dApp sees: latest - finalized).
// Finality is within the slot (attest at 1/3, finalize votes once justified), so the goal is a finality p99 under
// one slot. Polling adds up to one poll interval (on average half) to every figure. Ends with one line, the 4
// validators' finality p99 last:
//   consensus v8_… v4_finality_p50_ms=… v4_propagation_p50_ms=… v4_propagation_p99_ms=… v4_lag_p99_blocks=… v4_finality_p99_ms=…
//
// Options: --validators 4,8 (cluster sizes, in order), --slots N (measured slots per size, default 40),
//   --slot-ms MS (default 1000), --poll-ms MS (default 50), --warmup-timeout SEC (default 120).
import { parseArgs } from "node:util";
import { type Cluster, type FinalityStatus, percentile, startCluster, waitUntil } from "../tests/support/cluster.ts";
import { intOpt } from "./support/cli.ts";
import { sleep } from "./support/jsonRpc.ts";
import { hardStop, installCleanup, removeTempDir, tempDir, trackChild, untrackChild } from "./support/processes.ts";

const { values: opts } = parseArgs({
  options: {
    validators: { type: "string", default: "4,8" },
    slots: { type: "string", default: "40" },
    "slot-ms": { type: "string", default: "1000" },
    "poll-ms": { type: "string", default: "50" },
    "warmup-timeout": { type: "string", default: "120" },
  },
});

const SIZES = (opts.validators ?? "").split(",").map((v) => intOpt("validators", v, 2));
const SLOTS = intOpt("slots", opts.slots, 5);
const SLOT_MS = intOpt("slot-ms", opts["slot-ms"], 100);
const POLL_MS = intOpt("poll-ms", opts["poll-ms"], 10);
const WARMUP_MS = intOpt("warmup-timeout", opts["warmup-timeout"], 10) * 1000;

interface Result {
  validators: number;
  slots: number;
  /** Per node and finalized checkpoint: ms from the checkpoint's slot start to the first poll reporting it. */
  finalityMs: number[];
  /** Per non-proposing node and block: ms from "Produced block" to the first poll showing it as head. */
  propagationMs: number[];
  /** The same arrivals measured from the block's slot start. */
  fromSlotStartMs: number[];
  /** At every poll: head number - finalized number. */
  lagBlocks: number[];
  blocks: number;
  checkpoints: number;
  polls: number;
  pollErrors: number;
}

async function measure(c: Cluster, validators: number): Promise<Result> {
  const slotStart = (slot: number) => c.genesisMs + slot * c.slotMs;
  const firstFinalized = new Map<string, number>(); // `${node}:${slot}:${hash}` → ms
  const firstHead = new Map<string, number>(); // `${node}:${hash}` → ms
  const headSlot = new Map<string, number>(); // hash → slot
  let polls = 0;
  let pollErrors = 0;
  const lagBlocks: number[] = [];
  const from = Date.now();
  const until = from + SLOTS * SLOT_MS;
  // Bounded: at most one poll round per POLL_MS until `until`.
  const pollNode = async (i: number) => {
    for (let k = 0; k < Math.ceil((SLOTS * SLOT_MS) / POLL_MS) + 1 && Date.now() < until; k++) {
      const started = Date.now();
      let s: FinalityStatus;
      try {
        s = await c.finality(i);
      } catch {
        pollErrors++;
        await sleep(POLL_MS);
        continue;
      }
      // The state was read somewhere between the request and the reply; take the middle.
      const at = (started + Date.now()) / 2;
      polls++;
      lagBlocks.push(s.headNumber - s.finalized.number);
      const fKey = `${i}:${s.finalized.slot}:${s.finalized.hash}`;
      if (!firstFinalized.has(fKey)) firstFinalized.set(fKey, at);
      const hKey = `${i}:${s.headHash}`;
      if (!firstHead.has(hKey)) {
        firstHead.set(hKey, at);
        headSlot.set(s.headHash, s.headSlot);
      }
      await sleep(Math.max(0, POLL_MS - (Date.now() - started)));
    }
  };
  await Promise.all(c.nodes.map((n) => pollNode(n.index)));

  // Checkpoints already finalized when measuring began are not measured.
  const finalityMs: number[] = [];
  const checkpoints = new Set<string>();
  for (const [key, at] of firstFinalized) {
    const [, slot, hash] = key.split(":");
    if (slotStart(Number(slot)) < from) continue;
    finalityMs.push(at - slotStart(Number(slot)));
    checkpoints.add(`${slot}:${hash}`);
  }

  // Production times from the proposers' logs: {"time": ISO, "hash", "slot", "msg": "Produced block"}.
  const produced = new Map<string, { at: number; node: number; slot: number }>();
  for (const n of c.nodes) {
    for (const line of n.logs.grep('"Produced block"')) {
      try {
        const j = JSON.parse(line) as { time: string; hash: string; slot: number };
        produced.set(j.hash, { at: Date.parse(j.time), node: n.index, slot: j.slot });
      } catch {
        // a line cut by the log buffer
      }
    }
  }
  const propagationMs: number[] = [];
  const fromSlotStartMs: number[] = [];
  const blocks = new Set<string>();
  for (const [key, at] of firstHead) {
    const [node, hash] = key.split(":") as [string, string];
    const p = produced.get(hash);
    const slot = headSlot.get(hash);
    if (slot === undefined || slotStart(slot) < from) continue;
    if (p && p.node !== Number(node)) {
      propagationMs.push(at - p.at);
      blocks.add(hash);
    }
    if (!p || p.node !== Number(node)) fromSlotStartMs.push(at - slotStart(slot));
  }
  return {
    validators,
    slots: SLOTS,
    finalityMs,
    propagationMs,
    fromSlotStartMs,
    lagBlocks,
    blocks: blocks.size,
    checkpoints: checkpoints.size,
    polls,
    pollErrors,
  };
}

async function runSize(validators: number): Promise<Result> {
  const dir = tempDir(`rustchain-bench-consensus-${validators}-`);
  const t = Date.now();
  let c: Cluster | undefined;
  try {
    console.log(`[${validators} validators] starting ${validators} node processes (slot ${SLOT_MS} ms)`);
    c = await startCluster({
      validators,
      slotMs: SLOT_MS,
      dir,
      onSpawn: trackChild,
      readyTimeoutMs: 180_000,
      // Bootstrap dials are not retried, and libp2p refuses more than 5 inbound connections per second from one host
      // (every node here is 127.0.0.1), so larger clusters may start without a full mesh; gossip still reaches all.
      waitForPeers: "connected",
      onWarning: (m) => console.log(`[${validators} validators] WARNING: ${m}`),
    });
    console.log(`[${validators} validators] started in ${((Date.now() - t) / 1000).toFixed(1)}s; waiting for finality`);
    const cluster = c;
    await waitUntil(
      "finality on every node",
      async () => {
        const s = await Promise.all(cluster.nodes.map((n) => cluster.finality(n.index)));
        return s.every((x) => x.finalized.slot > 0 && x.currentSlot - x.finalized.slot <= 3) ? true : undefined;
      },
      WARMUP_MS,
      500,
    );
    // A few slots more, so the measurement starts from steady state.
    await sleep(3 * SLOT_MS);
    console.log(`[${validators} validators] measuring ${SLOTS} slots, polling every ${POLL_MS} ms`);
    return await measure(c, validators);
  } catch (e) {
    if (c) console.log(c.dumpLogs(undefined, 30));
    throw e;
  } finally {
    if (c) {
      await c.stop();
      for (const n of c.nodes) untrackChild(n.proc);
    }
    removeTempDir(dir);
  }
}

const ms = (v: number) => (Number.isFinite(v) ? Math.round(v).toString() : "n/a");
const slots = (v: number) => (Number.isFinite(v) ? (v / SLOT_MS).toFixed(2) : "n/a");

function report(r: Result): void {
  const f50 = percentile(r.finalityMs, 50);
  const f99 = percentile(r.finalityMs, 99);
  const p50 = percentile(r.propagationMs, 50);
  const p99 = percentile(r.propagationMs, 99);
  const s50 = percentile(r.fromSlotStartMs, 50);
  const s99 = percentile(r.fromSlotStartMs, 99);
  const tag = `[${r.validators} validators]`;
  console.log(
    `${tag} finality latency p50=${slots(f50)} slots (${ms(f50)} ms) p99=${slots(f99)} slots (${ms(f99)} ms) over ${r.checkpoints} checkpoints, ${r.finalityMs.length} node reports`,
  );
  console.log(
    `${tag} block propagation p50=${ms(p50)} ms p99=${ms(p99)} ms from production to head on the other nodes (${r.blocks} blocks, ${r.propagationMs.length} arrivals)`,
  );
  console.log(`${tag} block arrival as head from slot start p50=${ms(s50)} ms p99=${ms(s99)} ms`);
  console.log(
    `${tag} finalized lags the head by p50=${percentile(r.lagBlocks, 50)} p99=${percentile(r.lagBlocks, 99)} max=${Math.max(...r.lagBlocks)} blocks over ${r.lagBlocks.length} polls`,
  );
  console.log(`${tag} ${r.polls} polls, ${r.pollErrors} failed`);
}

function table(results: Result[]): void {
  const head = [
    "validators",
    "slots",
    "final p50",
    "final p99",
    "final p50 ms",
    "final p99 ms",
    "prop p50 ms",
    "prop p99 ms",
    "arrival p50 ms",
    "arrival p99 ms",
    "lag p99 blocks",
  ];
  const rows = results.map((r) => [
    String(r.validators),
    String(r.slots),
    slots(percentile(r.finalityMs, 50)),
    slots(percentile(r.finalityMs, 99)),
    ms(percentile(r.finalityMs, 50)),
    ms(percentile(r.finalityMs, 99)),
    ms(percentile(r.propagationMs, 50)),
    ms(percentile(r.propagationMs, 99)),
    ms(percentile(r.fromSlotStartMs, 50)),
    ms(percentile(r.fromSlotStartMs, 99)),
    String(percentile(r.lagBlocks, 99)),
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]) => cells.map((c, k) => c.padStart(widths[k]!)).join("  ");
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<number> {
  installCleanup();
  // Per size: start (up to 3 min on a busy machine), warm-up, the measured slots, stop.
  hardStop(SIZES.length * (4 * 60_000 + WARMUP_MS + SLOTS * SLOT_MS), "bench: hard time limit reached, killing nodes");
  console.log(`bench:consensus sizes=${SIZES.join(",")} slots=${SLOTS} slotMs=${SLOT_MS} pollMs=${POLL_MS}`);
  const results: Result[] = [];
  let rc = 0;
  for (const n of SIZES) {
    try {
      const r = await runSize(n);
      report(r);
      results.push(r);
      if (r.finalityMs.length === 0 || r.propagationMs.length === 0) rc = 1;
    } catch (e) {
      console.error(`[${n} validators] FAILED: ${(e as Error).stack ?? e}`);
      rc = 1;
    }
  }
  if (results.length > 0) table(results);
  // The 4-validator figures last, finality p99 at the very end (the figure the goal is set on).
  const ordered = [...results].sort((a, b) => (a.validators === 4 ? 1 : 0) - (b.validators === 4 ? 1 : 0));
  const summary = ordered.flatMap((r) => [
    `v${r.validators}_finality_p50_ms=${ms(percentile(r.finalityMs, 50))}`,
    `v${r.validators}_propagation_p50_ms=${ms(percentile(r.propagationMs, 50))}`,
    `v${r.validators}_propagation_p99_ms=${ms(percentile(r.propagationMs, 99))}`,
    `v${r.validators}_lag_p99_blocks=${percentile(r.lagBlocks, 99)}`,
    `v${r.validators}_finality_p99_ms=${ms(percentile(r.finalityMs, 99))}`,
  ]);
  console.log(`consensus ${summary.join(" ")}`);
  return rc;
}

process.exitCode = await main();
