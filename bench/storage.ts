// `npm run bench:storage`: bytes on disk per plain transfer and per ERC-20 transfer, on a full node that prunes state
// (the default: --state-history) and on an archive node (--archive), and the storage a year they imply at 3,500 and
// 10,000 TPS.
//
// Each kind of node runs in process (one validator, --slot-ms slots, no network) on a fresh datadir, with the same
// workload: fund fresh senders and deploy the C ERC-20 (contracts/examples/erc20.c) and give each sender tokens
// (setup), idle for some blocks (the per-block cost of empty blocks: header, attestations, certificates), then N
// value transfers and M ERC-20 transfers among the senders (balances change, no account or slot is created, so the
// live state does not grow). After each phase the bench waits until finality has passed the phase's last block by
// the kept window, lets a pruning run finish (pruned node), and measures the whole database:
//   - logical bytes: keys + values of every record, by bucket;
//   - compacted bytes: every record rewritten into a fresh RocksDB (the node's settings: zstd blocks), reopened so
//     its memtable is flushed, then its SST files' size. A live RocksDB holds deleted records until compaction
//     reaches them (pruning only writes tombstones), so its `du` says little about what pruning saved; the rewrite is
//     what the same data takes once compacted.
// Bytes per transfer = (bytes after the phase − bytes before − blocks in between × bytes per empty block) / transfers.
// A year at T TPS = bytes per transfer × T × 31,536,000 + bytes per block × blocks a year at 12 s slots. History
// (blocks, receipts, the tx index) is never pruned: it dominates a pruned node.
//
// Also measured: the hot-path cost of pruning per block (the write observer that records written trie nodes, and
// the time block writes waited behind a pruning delete batch), block production time under load with pruning runs
// in the background against the archive node's, and the pruning runs themselves.
//
// Ends with one line:
//   storage bytes_per_transfer=<n> gb_per_year_at_3500tps=<n> erc20_bytes_per_transfer=<n> gb_per_year_at_10000tps=<n>
//     archive_bytes_per_transfer=<n> archive_gb_per_year_at_3500tps=<n> prune_overhead_us_per_block=<n>
// (the first figures are the pruned node's). Options: --transfers N (20000), --erc20 M (10000), --senders S (2000),
// --history H (16), --slot-ms MS (1000: on 2 cores, 500 ms slots fall behind under ERC-20 load), --idle-blocks B (20),
// --only pruned|archive.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { blsKeypairFromSeed, hexToBytes, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { encodeDeployData, encodeFunctionData, erc20Abi, type Hex } from "viem";
import { type BuiltContract, buildContracts } from "../contracts/build.ts";
import type { PruneRun } from "../validator/src/chain/statePruner.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../validator/src/cli/devnetGenesis.ts";
import { Bucket, type BucketId, Database, WriteBatch } from "../validator/src/db/database.ts";
import { RustChainNode } from "../validator/src/node/node.ts";
import {
  devAccounts,
  freshAccounts,
  fundingPerSender,
  MAX_FEE,
  type Signed,
  sign,
  TRANSFER_GAS,
} from "./support/accounts.ts";
import { intOpt } from "./support/cli.ts";
import { hexNum, rpc, sleep } from "./support/jsonRpc.ts";
import { checkRun, fundFromDevAccounts, type LoadOptions, nonces, roundRobin, submitAndWait } from "./support/load.ts";
import { readNodeMetrics } from "./support/nodeDiagnostics.ts";
import { hardStop, installCleanup } from "./support/processes.ts";

const { values: opts } = parseArgs({
  options: {
    transfers: { type: "string", default: "20000" },
    erc20: { type: "string", default: "10000" },
    senders: { type: "string", default: "2000" },
    history: { type: "string", default: "16" },
    "slot-ms": { type: "string", default: "1000" },
    "idle-blocks": { type: "string", default: "20" },
    only: { type: "string" },
  },
});
const N = intOpt("transfers", opts.transfers, 1);
const M = intOpt("erc20", opts.erc20, 1);
const SENDERS = intOpt("senders", opts.senders, 2);
const HISTORY = intOpt("history", opts.history, 0);
const SLOT_MS = intOpt("slot-ms", opts["slot-ms"], 100);
const IDLE_BLOCKS = intOpt("idle-blocks", opts["idle-blocks"], 1);
if (opts.only !== undefined && opts.only !== "pruned" && opts.only !== "archive") {
  throw new Error(`--only must be pruned or archive, got ${opts.only}`);
}

const YEAR_S = 31_536_000;
/** Blocks a year at the chain's production slot length (12 s). */
const BLOCKS_PER_YEAR = YEAR_S / 12;
const CALL_GAS = 200_000n;
const TOKEN = 10n ** 18n;
const LOAD: LoadOptions = { batch: 100, concurrency: 4, stallMs: 30_000, noncePollMs: 100 };
const senders = freshAccounts("rustchain-bench-storage-sender", SENDERS);

installCleanup();
hardStop(9 * 60_000, "bench:storage: gave up after 9 minutes");

const BUCKETS = Object.entries(Bucket) as [string, BucketId][];

interface Measure {
  /** Head block number when measured. */
  head: number;
  logical: number;
  byBucket: Map<string, number>;
  compacted: number;
  /** Logical bytes of blocks off the canonical chain (left out of the figures above), and how many. */
  forkBytes: number;
  forkBlocks: number;
}

/** Records of a block, keyed by its hash. */
const BLOCK_RECORDS = new Set<number>([
  Bucket.headers,
  Bucket.bodies,
  Bucket.receipts,
  Bucket.blockNumbers,
  Bucket.flatDiffs,
]);

/**
 * The whole store: logical bytes by bucket, and the SST bytes of a fresh RocksDB holding the same records (compacted
 * size). Reads a consistent iterator per bucket while the node keeps running. Blocks off the canonical chain are left
 * out and counted apart: a lone validator under this load sometimes builds a block on a head that a slower block was
 * about to replace (two blocks at one height, one dropped), which is history, not state, and depends on the machine.
 */
async function measure(db: Database, head: number): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), "rustchain-bench-storage-copy-"));
  try {
    const canonical = new Set<string>();
    for await (const [, hash] of db.range(Bucket.canonical)) canonical.add(Buffer.from(hash).toString("hex"));
    const forks = new Set<string>();
    for await (const hash of db.keys(Bucket.blockNumbers)) {
      const h = Buffer.from(hash).toString("hex");
      if (!canonical.has(h)) forks.add(h);
    }
    let forkBytes = 0;
    let copy = await Database.open(dir);
    const byBucket = new Map<string, number>();
    let logical = 0;
    for (const [name, id] of BUCKETS) {
      let bytes = 0;
      let batch = new WriteBatch();
      for await (const [k, v] of db.range(id)) {
        if (BLOCK_RECORDS.has(id) && forks.has(Buffer.from(k).toString("hex"))) {
          forkBytes += 1 + k.length + v.length;
          continue;
        }
        bytes += 1 + k.length + v.length;
        batch.put(id, k, v);
        if (batch.ops.length >= 5000) {
          await copy.write(batch);
          batch = new WriteBatch();
        }
      }
      await copy.write(batch);
      byBucket.set(name, bytes);
      logical += bytes;
    }
    // Reopening replays the write-ahead log into SST files: everything is in SSTs, compressed.
    await copy.close();
    copy = await Database.open(dir);
    const size = copy.sizeOnDisk();
    await copy.close();
    return { head, logical, byBucket, compacted: size.sst + size.memtables, forkBytes, forkBlocks: forks.size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Result {
  kind: "pruned" | "archive";
  /** Per empty block, compacted and logical. */
  perBlock: { compacted: number; logical: number; byBucket: Map<string, number> };
  perTransfer: { compacted: number; logical: number; byBucket: Map<string, number> };
  perErc20: { compacted: number; logical: number; byBucket: Map<string, number> };
  final: Measure;
  runs: PruneRun[];
  /** Every pruning run of the node (its own in the background, and the bench's): count and seconds. */
  allRuns: number;
  allRunsS: number;
  /** Mean block production time (ms) during the value-transfer phase, and the blocks it covers. */
  productionMs: number;
  loadBlocks: number;
  /**
   * Hot-path cost of pruning during the transfer load, in seconds: the write observer recording written trie nodes,
   * and block writes waiting behind a pruning delete batch.
   */
  writePathS: number;
  orderedWaitS: number;
  blocks: number;
}

function perUnit(after: Measure, before: Measure, perBlock: Result["perBlock"], units: number) {
  const blocks = after.head - before.head;
  const byBucket = new Map<string, number>();
  for (const [name] of BUCKETS) {
    const delta = (after.byBucket.get(name) ?? 0) - (before.byBucket.get(name) ?? 0);
    byBucket.set(name, (delta - blocks * (perBlock.byBucket.get(name) ?? 0)) / units);
  }
  return {
    compacted: (after.compacted - before.compacted - blocks * perBlock.compacted) / units,
    logical: (after.logical - before.logical - blocks * perBlock.logical) / units,
    byBucket,
  };
}

async function waitReceipt(url: string, hash: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const r = (await rpc(url, "eth_getTransactionReceipt", [hash])) as Record<string, unknown> | null;
    if (r) return r;
    await sleep(100);
  }
  throw new Error(`no receipt for ${hash}`);
}

const transferData = (to: Hex, amount: bigint) =>
  hexToBytes(encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, amount] }));

async function runNode(kind: "pruned" | "archive", erc20: BuiltContract): Promise<Result> {
  const datadir = mkdtempSync(join(tmpdir(), `rustchain-bench-storage-${kind}-`));
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(kind === "pruned" ? 61 : 62));
  const genesis = parseGenesis(
    devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], SLOT_MS),
  );
  const node = await RustChainNode.start(
    {
      datadir,
      genesis,
      secretKey: validator.secretKey,
      rpc: { host: "127.0.0.1", port: 0 },
      metrics: { host: "127.0.0.1", port: 0 },
      pruning: kind === "archive" ? { archive: true } : { history: HISTORY },
    },
    pino({ level: "warn" }),
  );
  const url = node.rpc.url;
  const db = node.database;
  const runs: PruneRun[] = [];
  const log = (msg: string) => console.log(`[${kind}] ${msg}`);
  const head = async () => hexNum(await rpc(url, "eth_blockNumber"));
  try {
    const chainId = BigInt((await rpc(url, "eth_chainId")) as string);

    /** Wait until the phase's last block is below the kept window, let a pruning run finish, then measure. */
    const settle = async (what: string): Promise<Measure> => {
      const last = BigInt(await head());
      const need = kind === "pruned" ? last + BigInt(HISTORY) + 1n : last;
      for (let i = 0; node.consensus.finalizedNumber < need; i++) {
        if (i > 2000) throw new Error(`finality stuck at ${node.consensus.finalizedNumber}`);
        await sleep(50);
      }
      if (kind === "pruned") {
        // The background runs are spaced by the garbage they can collect; this one covers the phase to its end.
        for (;;) {
          const run = await node.pruner.runOnce();
          if (run) runs.push(run);
          if (run && run.horizon > last) break;
          await sleep(SLOT_MS);
        }
      }
      const t = performance.now();
      const m = await measure(db, await head());
      log(
        `${what}: head ${m.head}, ${(m.compacted / 2 ** 20).toFixed(2)} MiB compacted, ` +
          `${(m.logical / 2 ** 20).toFixed(2)} MiB logical (measured in ${((performance.now() - t) / 1000).toFixed(1)}s)`,
      );
      return m;
    };

    // Setup: RTC for every sender, the token, tokens for every sender.
    const amount = fundingPerSender(CALL_GAS * MAX_FEE, N + M, SENDERS);
    await fundFromDevAccounts(url, chainId, senders, amount, LOAD);
    const deployer = devAccounts[0];
    const deployData = encodeDeployData({
      abi: erc20.abi,
      bytecode: erc20.bytecode,
      args: ["Bench", "BNCH", 18, 10n ** 30n],
    });
    const estimate = BigInt((await rpc(url, "eth_estimateGas", [{ from: deployer.hex, data: deployData }])) as string);
    const [n0] = await nonces(url, [deployer], LOAD);
    const dtx = sign(
      chainId,
      deployer,
      n0,
      { to: null, value: 0n, data: hexToBytes(deployData), gasLimit: (estimate * 12n) / 10n },
      0,
    );
    await rpc(url, "eth_sendRawTransaction", [dtx.raw]);
    const token = hexToBytes((await waitReceipt(url, dtx.hash)).contractAddress as string);
    // At most 1,000 at a time: the mempool takes 1,024 pending transactions per sender.
    for (let start = 0; start < SENDERS; start += 1000) {
      const chunk = senders.slice(start, start + 1000).map((s, i) => {
        const data = transferData(s.hex, 10n ** 6n * TOKEN);
        return sign(
          chainId,
          deployer,
          n0 + 1n + BigInt(start + i),
          { to: token, value: 0n, data, gasLimit: CALL_GAS },
          0,
        );
      });
      checkRun("token funding", await submitAndWait(url, chunk, [deployer], 120_000, LOAD), chunk.length);
    }
    log(`funded ${SENDERS} senders with RTC and tokens`);
    const m0 = await settle("after setup");

    // Idle blocks: what an empty block costs.
    const idleFrom = await head();
    while ((await head()) < idleFrom + IDLE_BLOCKS) await sleep(SLOT_MS / 2);
    const mIdle = await settle(`after ${IDLE_BLOCKS}+ idle blocks`);
    const idleBlocks = mIdle.head - m0.head;
    const perBlock = {
      compacted: Math.max(0, (mIdle.compacted - m0.compacted) / idleBlocks),
      logical: Math.max(0, (mIdle.logical - m0.logical) / idleBlocks),
      byBucket: new Map(
        BUCKETS.map(([name]) => [name, ((mIdle.byBucket.get(name) ?? 0) - (m0.byBucket.get(name) ?? 0)) / idleBlocks]),
      ),
    };

    // Value transfers, round-robin among the senders.
    const base = await nonces(url, senders, LOAD);
    const transfers: Signed[] = roundRobin(N, SENDERS, base, (_, s, to, nonce) =>
      sign(chainId, senders[s], nonce, { to: senders[to].address, value: 1n, gasLimit: TRANSFER_GAS }, s),
    );
    const before = await readNodeMetrics(node.metricsUrl as string);
    const [wp0, ow0] = [node.pruner.writePathSeconds, db.orderedWaitSeconds];
    const r1 = await submitAndWait(url, transfers, senders, 300_000, LOAD);
    const after = await readNodeMetrics(node.metricsUrl as string);
    const [writePathS, orderedWaitS] = [node.pruner.writePathSeconds - wp0, db.orderedWaitSeconds - ow0];
    checkRun("transfers", r1, N);
    log(`${N} transfers in ${(r1.totalMs / 1000).toFixed(1)}s`);
    const m1 = await settle(`after ${N} transfers`);

    // ERC-20 transfers among the same senders.
    const base2 = await nonces(url, senders, LOAD);
    const calls: Signed[] = roundRobin(M, SENDERS, base2, (i, s, to, nonce) =>
      sign(
        chainId,
        senders[s],
        nonce,
        { to: token, value: 0n, data: transferData(senders[to].hex, BigInt(1 + (i % 97))), gasLimit: CALL_GAS },
        s,
      ),
    );
    const r2 = await submitAndWait(url, calls, senders, 300_000, LOAD);
    checkRun("ERC-20 transfers", r2, M);
    log(`${M} ERC-20 transfers in ${(r2.totalMs / 1000).toFixed(1)}s`);
    const m2 = await settle(`after ${M} ERC-20 transfers`);

    const loadBlocks = after.blocks - before.blocks;
    const metrics = await (await fetch(node.metricsUrl as string)).text();
    const metric = (name: string) =>
      Number(
        metrics
          .split("\n")
          .find((l) => l.startsWith(`${name} `))
          ?.split(" ")[1] ?? Number.NaN,
      );
    return {
      allRuns: metric('rustchain_state_prune_runs_total{result="done"}'),
      allRunsS: metric("rustchain_state_prune_seconds_sum"),
      kind,
      perBlock,
      perTransfer: perUnit(m1, mIdle, perBlock, N),
      perErc20: perUnit(m2, m1, perBlock, M),
      final: m2,
      runs,
      productionMs: ((after.producingS - before.producingS) / Math.max(1, loadBlocks)) * 1000,
      loadBlocks,
      writePathS,
      orderedWaitS,
      blocks: m2.head,
    };
  } finally {
    await node.stop();
    rmSync(datadir, { recursive: true, force: true });
  }
}

const gbYear = (r: Result, tps: number, per: "perTransfer" | "perErc20" = "perTransfer") =>
  (r[per].compacted * tps * YEAR_S + r.perBlock.compacted * BLOCKS_PER_YEAR) / 1e9;

function report(r: Result): void {
  const k = `[${r.kind}]`;
  console.log(
    `${k} empty block: ${r.perBlock.compacted.toFixed(0)} B compacted (${r.perBlock.logical.toFixed(0)} B logical)`,
  );
  for (const [what, p] of [
    ["transfer", r.perTransfer],
    ["ERC-20 transfer", r.perErc20],
  ] as const) {
    const top = [...p.byBucket]
      .filter(([, b]) => Math.abs(b) >= 1)
      .sort((a, b) => b[1] - a[1])
      .map(([name, b]) => `${name} ${b.toFixed(0)}`)
      .join(", ");
    console.log(`${k} per ${what}: ${p.compacted.toFixed(0)} B compacted, ${p.logical.toFixed(0)} B logical (${top})`);
  }
  console.log(
    `${k} a year (compacted, 12 s blocks): ${gbYear(r, 3500).toFixed(0)} GB at 3,500 TPS, ${gbYear(r, 10_000).toFixed(0)} GB at 10,000 TPS` +
      ` of transfers; ${gbYear(r, 3500, "perErc20").toFixed(0)} / ${gbYear(r, 10_000, "perErc20").toFixed(0)} GB of ERC-20 transfers`,
  );
  console.log(
    `${k} block production during the transfer load: ${r.productionMs.toFixed(1)} ms/block over ${r.loadBlocks} blocks;` +
      ` blocks off the canonical chain (left out): ${r.final.forkBlocks}, ${(r.final.forkBytes / 2 ** 10).toFixed(0)} KiB`,
  );
  if (r.kind === "pruned") {
    const mean = (f: (x: PruneRun) => number) => r.runs.reduce((s, x) => s + f(x), 0) / Math.max(1, r.runs.length);
    console.log(
      `${k} pruning runs awaited by the bench: ${r.runs.length}, mean ${mean((x) => x.seconds).toFixed(2)} s ` +
        `(mark ${mean((x) => x.markSeconds).toFixed(2)} s, sweep ${mean((x) => x.sweepSeconds).toFixed(2)} s), ` +
        `live nodes ${r.runs.at(-1)?.liveNodes}, deleted ${r.runs.reduce((s, x) => s + x.deletedNodes, 0)} nodes`,
    );
    const perBlockUs = ((r.writePathS + r.orderedWaitS) / Math.max(1, r.loadBlocks)) * 1e6;
    console.log(
      `${k} pruning on the write path during the transfer load: ${((r.writePathS / r.loadBlocks) * 1e6).toFixed(0)} µs/block` +
        ` recording written nodes (${((r.writePathS / N) * 1e9).toFixed(0)} µs per 1,000 transfers), ` +
        `${((r.orderedWaitS / r.loadBlocks) * 1e6).toFixed(0)} µs/block waiting behind delete batches: ` +
        `${((perBlockUs / 1000 / r.productionMs) * 100).toFixed(3)}% of block production`,
    );
    console.log(
      `${k} all pruning runs (background and the bench's): ${r.allRuns}, ${r.allRunsS.toFixed(2)} s in all, ` +
        `${((r.allRunsS / r.blocks) * 1000).toFixed(2)} ms a block amortized (event loop shared with block production)`,
    );
  }
}

const erc20 = (await buildContracts({ only: ["erc20"] })).erc20 as BuiltContract;
const results = new Map<string, Result>();
for (const kind of ["pruned", "archive"] as const) {
  if (opts.only && opts.only !== kind) continue;
  console.log(
    `[${kind}] node in process, ${SLOT_MS} ms slots${kind === "pruned" ? `, --state-history ${HISTORY}` : ", --archive"}`,
  );
  const r = await runNode(kind, erc20);
  report(r);
  results.set(kind, r);
}
const pruned = results.get("pruned");
const archive = results.get("archive");
if (pruned && archive) {
  console.log(
    `[compare] per transfer: pruned ${pruned.perTransfer.compacted.toFixed(0)} B vs archive ${archive.perTransfer.compacted.toFixed(0)} B ` +
      `(${(archive.perTransfer.compacted / pruned.perTransfer.compacted).toFixed(1)}x); per ERC-20 transfer: ` +
      `${pruned.perErc20.compacted.toFixed(0)} B vs ${archive.perErc20.compacted.toFixed(0)} B; ` +
      `block production ${pruned.productionMs.toFixed(1)} vs ${archive.productionMs.toFixed(1)} ms/block; ` +
      `database after the run ${(pruned.final.compacted / 2 ** 20).toFixed(1)} vs ${(archive.final.compacted / 2 ** 20).toFixed(1)} MiB`,
  );
}
const main = pruned ?? archive;
if (main) {
  const fields = [
    `bytes_per_transfer=${main.perTransfer.compacted.toFixed(0)}`,
    `gb_per_year_at_3500tps=${gbYear(main, 3500).toFixed(0)}`,
    `erc20_bytes_per_transfer=${main.perErc20.compacted.toFixed(0)}`,
    `gb_per_year_at_10000tps=${gbYear(main, 10_000).toFixed(0)}`,
  ];
  if (pruned && archive) {
    fields.push(
      `archive_bytes_per_transfer=${archive.perTransfer.compacted.toFixed(0)}`,
      `archive_gb_per_year_at_3500tps=${gbYear(archive, 3500).toFixed(0)}`,
    );
  }
  if (pruned) {
    const us = ((pruned.writePathS + pruned.orderedWaitS) / Math.max(1, pruned.loadBlocks)) * 1e6;
    fields.push(`prune_overhead_us_per_block=${us.toFixed(0)}`);
  }
  console.log(`storage ${fields.join(" ")}`);
}
process.exit(0);
