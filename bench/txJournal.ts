// `npx tsx bench/txJournal.ts`: the cost of the transaction journal (validator/src/mempool/txJournal.ts) per accepted
// transaction, in-process, without RPC or pool validation.
//
// A stand-in pool emits "added" for N pre-signed transfers in batches of B per event-loop turn (as a JSON-RPC batch of
// eth_sendRawTransaction does) and keeps the last L as its live set (what compaction rewrites). Each batch then waits
// as eth_sendRawTransaction does: for `journal.written()`, or, without a journal, for the end of the turn. Three modes,
// alternated over R rounds (medians reported):
//   none     no journal (the baseline: the same turns, no listener)
//   journal  the default: one write per turn, fdatasync every second, compaction when the file passes 4 × L records
//   sync     syncEveryBatch: one write and one fdatasync per batch before it is acknowledged
// Wall time and process CPU time (all threads: the libuv pool's syncs and compaction writes included) per transaction,
// minus the baseline's. Then the replay of the journal a clean stop leaves (L records) through inline sender recovery.
// Ends with one line:
//   txjournal us_per_tx=<journal - none, wall> cpu_us_per_tx=<journal - none, CPU> sync_us_per_tx=<sync - none, wall>
//     batch=<B> txs=<N> replay_tx_per_s=<replayed transactions/s>
//
// Options: --txs N (100000), --batch B (100), --live L (10000), --rounds R (3), --dir D (a temporary directory; put it
// on the disk the datadir lives on, since fdatasync costs depend on it).
import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hexToBytes, type SignedTransaction } from "@rustchain/shared";
import { pino } from "pino";
import { DEV_KEYS, signedTransfer } from "../tests/support/devnet.ts";
import { createInlineRecovery } from "../validator/src/execution/senderRecovery.ts";
import { defaultTxJournalOptions, type JournaledPool, TxJournal } from "../validator/src/mempool/txJournal.ts";

const { values } = parseArgs({
  options: {
    txs: { type: "string", default: "100000" },
    batch: { type: "string", default: "100" },
    live: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    dir: { type: "string" },
  },
});
const N = Number(values.txs);
const B = Number(values.batch);
const L = Number(values.live);
const R = Number(values.rounds);

/** The pool as the journal sees it: "added" events, a live set of the last L transactions. */
class StandInPool extends EventEmitter<{ added: [SignedTransaction] }> {
  private readonly ring: SignedTransaction[] = [];
  private next = 0;
  get size(): number {
    return this.ring.length;
  }
  all(): SignedTransaction[] {
    return [...this.ring];
  }
  async add(stx: SignedTransaction): Promise<Uint8Array> {
    this.push(stx);
    return stx.hash;
  }
  push(stx: SignedTransaction): void {
    if (this.ring.length < L) this.ring.push(stx);
    else this.ring[this.next++ % L] = stx;
    this.emit("added", stx);
  }
}

type Mode = "none" | "journal" | "sync";
const turnEnd = () => new Promise<void>((r) => setImmediate(r));

async function run(mode: Mode, txs: SignedTransaction[], dir: string) {
  const file = join(dir, `txpool-${mode}.journal`);
  await rm(file, { force: true });
  const pool = new StandInPool();
  let compactions = 0;
  const journal =
    mode === "none"
      ? undefined
      : new TxJournal(
          { ...defaultTxJournalOptions, file, syncEveryBatch: mode === "sync" },
          {
            pool: pool as unknown as JournaledPool,
            recovery: createInlineRecovery(),
            logger: pino({ level: "silent" }),
            metrics: { onWriteError: () => undefined, onCompacted: () => compactions++ },
          },
        );
  await journal?.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += B) {
    for (let k = i; k < Math.min(N, i + B); k++) pool.push(txs[k % txs.length] as SignedTransaction);
    await (journal ? journal.written() : turnEnd());
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await journal?.stop();
  return { wallUs: (wall * 1000) / N, cpuUs: (cpu.user + cpu.system) / N, compactions: compactions - 2, file };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = values.dir ?? (await mkdtemp(join(tmpdir(), "rustchain-bench-journal-")));
try {
  // Distinct signed transfers; the journal never looks inside them, so a few thousand are reused cyclically.
  const distinct = Math.min(N, Math.max(L, 4096));
  const txs = Array.from({ length: distinct }, (_, i) =>
    signedTransfer(21076n, hexToBytes(DEV_KEYS[i % 10] as string), BigInt(Math.floor(i / 10)), new Uint8Array(20), 1n),
  );
  console.log(`txs=${N} batch=${B} live=${L} rounds=${R} raw≈${txs[0]?.raw.length} bytes dir=${dir}`);
  const results: Record<Mode, { wallUs: number[]; cpuUs: number[]; compactions: number }> = {
    none: { wallUs: [], cpuUs: [], compactions: 0 },
    journal: { wallUs: [], cpuUs: [], compactions: 0 },
    sync: { wallUs: [], cpuUs: [], compactions: 0 },
  };
  await run("journal", txs, dir); // warm-up
  for (let r = 0; r < R; r++) {
    for (const mode of ["none", "journal", "sync"] as const) {
      const out = await run(mode, txs, dir);
      results[mode].wallUs.push(out.wallUs);
      results[mode].cpuUs.push(out.cpuUs);
      results[mode].compactions = out.compactions;
    }
  }
  for (const mode of ["none", "journal", "sync"] as const) {
    const m = results[mode];
    console.log(
      `${mode.padEnd(8)} wall ${median(m.wallUs).toFixed(3)} µs/tx  cpu ${median(m.cpuUs).toFixed(3)} µs/tx` +
        (mode === "none" ? "" : `  compactions during the run: ${m.compactions}`),
    );
  }
  const over = (mode: Mode, k: "wallUs" | "cpuUs") => median(results[mode][k]) - median(results.none[k]);

  // Replay: what a clean stop leaves (the live set), through sender recovery and the stand-in pool.
  const file = join(dir, "txpool-journal.journal");
  const pool = new StandInPool();
  const journal = new TxJournal(
    { ...defaultTxJournalOptions, file },
    { pool: pool as unknown as JournaledPool, recovery: createInlineRecovery(), logger: pino({ level: "silent" }) },
  );
  const t0 = performance.now();
  const replay = await journal.start();
  const replayMs = performance.now() - t0;
  await journal.stop();
  console.log(`replay   ${replay.records} records, ${replay.restored} restored in ${replayMs.toFixed(0)} ms`);
  console.log(
    `txjournal us_per_tx=${over("journal", "wallUs").toFixed(3)} cpu_us_per_tx=${over("journal", "cpuUs").toFixed(3)} ` +
      `sync_us_per_tx=${over("sync", "wallUs").toFixed(3)} batch=${B} txs=${N} ` +
      `replay_tx_per_s=${Math.round((replay.restored * 1000) / replayMs)}`,
  );
} finally {
  if (!values.dir) await rm(dir, { recursive: true, force: true });
}
