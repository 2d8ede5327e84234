// `npm run bench:tps`: transfer throughput through JSON-RPC, RustChain devnet against `hardhat node`, same workload on
// the same machine. For each chain: fund fresh senders from the dev accounts (not timed), pre-sign N EIP-1559 value
// transfers (not timed), then time from the first eth_sendRawTransaction to the moment every accepted transaction is
// seen in a block. Submission uses JSON-RPC batches over HTTP with a few batches in flight; inclusion is tracked by
// watching eth_blockNumber and reading the senders' nonces whenever a block appears. Each transaction's inclusion
// latency is the time from sending its batch to the poller first seeing its block (p50/p99 reported). The default N
// (780,000) keeps a node at 13,000 tx/s busy for 60 s. Then a 4-validator devnet (--cluster 4) takes a share of the
// same load through its first node while the bench watches finality. Ends with one line:
//   tps rustchain=<tx/s> hardhat=<tx/s> ratio=<rustchain/hardhat> p50_ms=<n> p99_ms=<n> cluster4_tps=<n> cluster4_finalized=<blocks>
//
// Options: --txs N (default 780000), --senders S (2000), --batch B (1000), --concurrency C (4),
//   --cluster V (validators of the finality run, default 4; 0 skips it), --cluster-txs N (default 120000),
//   --rate R (offer at most R tx/s instead of as fast as the node takes them),
//   --hardhat-txs N (default: N, or fewer if a 1000-tx probe says N would take more than ~3 minutes),
//   --hardhat-quiet (turn off hardhat node's per-transaction console logging), --only rustchain|hardhat|cluster,
//   --timeout SEC (per measured run, default 300), --stall SEC (give up when nothing is included for this long, 30),
//   --node-log-level LEVEL (RustChain devnet log level, default warn; "info" shows per-block production times),
//   --rustchain-url URL (measure an already running devnet, e.g. one started under a profiler, instead of starting one).
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Cluster, startCluster, waitUntil } from "../tests/support/cluster.ts";
import { type Devnet, freePort, startDevnet } from "../tests/support/devnet.ts";
import {
  freshAccounts,
  fundingPerSender,
  GWEI,
  MAX_FEE,
  type Signed,
  sign,
  TIP,
  TRANSFER_GAS,
} from "./support/accounts.ts";
import { intOpt } from "./support/cli.ts";
import { batched, hexNum, rpc, sleep } from "./support/jsonRpc.ts";
import {
  fundFromDevAccounts,
  type LoadOptions,
  nonces,
  printRejections,
  type RunResult,
  roundRobin,
  runLine,
  submitAndWait,
} from "./support/load.ts";
import { type NodeMetrics, printNodeLog, readNodeMetrics } from "./support/nodeDiagnostics.ts";
import {
  hardStop,
  installCleanup,
  removeTempDir,
  stopDevnet,
  stopWithin,
  tempDir,
  trackChild,
  trackDevnet,
  untrackChild,
} from "./support/processes.ts";

const ROOT = resolve(import.meta.dirname, "..");
const VALUE = 1n * GWEI;
/** Aim for a hardhat run of at most this long when --hardhat-txs is not given. */
const HARDHAT_BUDGET_S = 150;
const HARDHAT_PROBE_TXS = 1000;

const { values: opts } = parseArgs({
  options: {
    txs: { type: "string", default: "780000" },
    senders: { type: "string", default: "2000" },
    batch: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "4" },
    cluster: { type: "string", default: "4" },
    "cluster-txs": { type: "string", default: "120000" },
    rate: { type: "string" },
    "hardhat-txs": { type: "string" },
    "hardhat-quiet": { type: "boolean", default: false },
    only: { type: "string" },
    timeout: { type: "string", default: "300" },
    stall: { type: "string", default: "30" },
    "node-log-level": { type: "string", default: "warn" },
    "rustchain-url": { type: "string" },
  },
});

const N = intOpt("txs", opts.txs, 1);
const SENDERS = intOpt("senders", opts.senders, 1);
const BATCH = intOpt("batch", opts.batch, 1);
const CONCURRENCY = intOpt("concurrency", opts.concurrency, 1);
const TIMEOUT_MS = intOpt("timeout", opts.timeout, 1) * 1000;
const STALL_MS = intOpt("stall", opts.stall, 1) * 1000;
const CLUSTER = intOpt("cluster", opts.cluster, 0);
const CLUSTER_TXS = intOpt("cluster-txs", opts["cluster-txs"], 1);
const HARDHAT_TXS = opts["hardhat-txs"] === undefined ? undefined : intOpt("hardhat-txs", opts["hardhat-txs"], 1);
if (opts.only !== undefined && !["rustchain", "hardhat", "cluster"].includes(opts.only)) {
  throw new Error(`--only must be rustchain, hardhat or cluster, got ${opts.only}`);
}

/** Batches and polling of every run; the nonce poll gap is long because hardhat makes a block per transaction. */
const LOAD: LoadOptions = {
  batch: BATCH,
  concurrency: CONCURRENCY,
  stallMs: STALL_MS,
  noncePollMs: 250,
  ...(opts.rate !== undefined && { rate: intOpt("rate", opts.rate, 1) }),
};
/** hardhat node drops connections under several 1000-request batches at once; it gets batches of at most 100. */
const HARDHAT_LOAD: LoadOptions = { ...LOAD, batch: Math.min(BATCH, 100) };
const senders = freshAccounts("rustchain-bench-tps-sender", SENDERS);

// ---------------------------------------------------------------------------------------------------------------
// Measured runs

/** Pre-sign n transfers spread round-robin over the senders (nonce k of every sender before nonce k+1). */
async function presign(url: string, chainId: bigint, n: number): Promise<Signed[]> {
  const base = await nonces(url, senders, LOAD);
  return roundRobin(n, senders.length, base, (_, s, to, nonce) =>
    sign(chainId, senders[s], nonce, { to: senders[to].address, value: VALUE, gasLimit: TRANSFER_GAS }, s),
  );
}

async function fundSenders(url: string, chainId: bigint, totalTxs: number): Promise<void> {
  const amount = fundingPerSender(TRANSFER_GAS * MAX_FEE + VALUE, totalTxs, senders.length);
  await fundFromDevAccounts(url, chainId, senders, amount, LOAD);
}

interface Measured extends RunResult {
  name: string;
  tps: number;
  /** Transactions included, summed over the blocks of the run (cross-check, counted after the timed part). */
  blockIncluded: number;
  blocks: number;
  maxPerBlock: number;
  /** [ms since first submit when the block number was first seen, block number, transactions] per block. */
  timeline: [number, number, number][];
  /** Inclusion latency percentiles (ms): batch sent → its block first seen. */
  latency: { p50: number; p99: number; max: number };
}

async function measure(
  name: string,
  url: string,
  chainId: bigint,
  n: number,
  timeoutMs: number,
  load: LoadOptions = LOAD,
): Promise<Measured> {
  const t = performance.now();
  const txs = await presign(url, chainId, n);
  const signS = ((performance.now() - t) / 1000).toFixed(1);
  console.log(`[${name}] pre-signed ${n} transfers in ${signS}s; submitting at ${new Date().toISOString()}`);
  const r = await submitAndWait(url, txs, senders, timeoutMs, load);
  const tps = r.included / (r.totalMs / 1000);
  return { ...r, ...(await blockStats(url, r, txs)), name, tps };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Not timed: transactions per block of the run (eth_getBlockTransactionCountByNumber can cost the node a full block
 * decode, so this is read after the timed part).
 */
async function blockStats(url: string, r: RunResult, txs: Signed[]) {
  const head = hexNum(await rpc(url, "eth_blockNumber"));
  const numbers = Array.from({ length: head - r.startBlock }, (_, i) => r.startBlock + 1 + i);
  const index = new Map(txs.map((t, i) => [t.hash, i]));
  const latencies: number[] = [];
  const timeline: [number, number, number][] = [];
  let blockIncluded = 0;
  let blocks = 0;
  let maxPerBlock = 0;
  // One block per request: a full block lists ten thousand hashes.
  const replies = await batched(
    url,
    numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })),
    { size: 1, concurrency: 4 },
  );
  let missing = 0;
  replies.forEach((c, i) => {
    if (c.error) throw new Error(`eth_getBlockByNumber ${numbers[i]}: ${c.error.message}`);
    // A reorg between eth_blockNumber and this read can leave a number without a canonical block for a moment.
    if (c.result === null) {
      missing++;
      return;
    }
    const hashes = (c.result as { transactions: string[] }).transactions;
    const count = hashes.length;
    if (count === 0) return;
    // Blocks mined between the last eth_blockNumber and the final nonce poll were first seen by that poll.
    const seen = r.seenAt.get(numbers[i] as number) ?? r.totalMs;
    timeline.push([seen, numbers[i] as number, count]);
    for (const h of hashes) {
      const k = index.get(h);
      if (k !== undefined && !Number.isNaN(r.sentAt[k])) latencies.push(seen - (r.sentAt[k] as number));
    }
    blockIncluded += count;
    blocks++;
    if (count > maxPerBlock) maxPerBlock = count;
  });
  if (missing > 0) console.log(`[bench] ${missing} block number(s) had no canonical block when read (a reorg)`);
  const sorted = Float64Array.from(latencies).sort();
  const latency = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
  return { timeline, blockIncluded, blocks, maxPerBlock, latency };
}

function report(m: Measured, note = ""): void {
  console.log(runLine(m.name, m, m.tps, ` blocks=${m.blocks} max/block=${m.maxPerBlock}`, note));
  const l = m.latency;
  console.log(
    `[${m.name}]   inclusion latency p50=${l.p50.toFixed(0)}ms p99=${l.p99.toFixed(0)}ms max=${l.max.toFixed(0)}ms` +
      ` (batch sent → block first seen, polled every 25 ms)`,
  );
  if (m.timeline.length <= 20) {
    const t = m.timeline.map(([ms, n, c]) => `#${n}:${c}tx@${(ms / 1000).toFixed(2)}s`).join(" ");
    console.log(`[${m.name}]   blocks seen: ${t}`);
  }
  printRejections(m.name, m);
  if (m.incomplete)
    console.log(`[${m.name}]   INCOMPLETE: ${m.incomplete}; ${m.accepted - m.included} accepted not included`);
  if (m.blockIncluded !== m.included) {
    console.log(`[${m.name}]   WARNING: nonces say ${m.included} included, blocks hold ${m.blockIncluded}`);
  }
}

const problems = (m: Measured) => m.rejected > 0 || m.incomplete !== undefined || m.included < m.submitted;

// ---------------------------------------------------------------------------------------------------------------
// Chains

installCleanup();

async function runRustchain(): Promise<Measured> {
  const external = opts["rustchain-url"];
  if (external !== undefined) {
    console.log(`[rustchain] using running node at ${external}`);
    const chainId = BigInt((await rpc(external, "eth_chainId")) as string);
    await fundSenders(external, chainId, N);
    const m = await measure("rustchain", external, chainId, N, TIMEOUT_MS);
    report(m);
    return m;
  }
  console.log(`[rustchain] starting devnet (slot 1000 ms)`);
  let devnet: Devnet | undefined;
  try {
    devnet = await startDevnet({ slotMs: 1000, logLevel: opts["node-log-level"] });
    trackDevnet(devnet);
    const url = devnet.url;
    console.log(`[rustchain] devnet pid ${devnet.proc.pid} at ${url}, datadir ${devnet.datadir}`);
    const chainId = BigInt((await rpc(url, "eth_chainId")) as string);
    await fundSenders(url, chainId, N);
    console.log(`[rustchain] funded ${senders.length} senders`);
    const m = await measure("rustchain", url, chainId, N, TIMEOUT_MS);
    report(m);
    await printRustchainMetrics(devnet.metricsUrl);
    // At log level warn the node prints only warnings and errors: show them.
    printNodeLog("rustchain", devnet.output());
    return m;
  } catch (e) {
    if (devnet) printNodeLog("rustchain", devnet.output());
    throw e;
  } finally {
    if (devnet) await stopDevnet(devnet);
  }
}

/** Block production and eth_sendRawTransaction latency from the node's Prometheus endpoint (diagnostics only). */
async function printRustchainMetrics(url: string): Promise<void> {
  let m: NodeMetrics;
  try {
    m = await readNodeMetrics(url);
  } catch (e) {
    console.log(`[rustchain]   metrics unavailable: ${(e as Error).message}`);
    return;
  }
  console.log(
    `[rustchain]   node metrics: ${m.blocks} blocks produced, ${m.producingS.toFixed(2)}s producing` +
      ` (avg ${((m.producingS / m.blocks) * 1000).toFixed(0)} ms/block);` +
      ` eth_sendRawTransaction ${m.sendCalls} calls, avg ${((m.sendS / m.sendCalls) * 1000).toFixed(2)} ms`,
  );
}

async function startHardhat(dir: string): Promise<{ url: string; proc: ChildProcess; output: () => string }> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: join(ROOT, "bench/hardhat"),
      env: { ...process.env, BENCH_HARDHAT_DIR: dir, HARDHAT_DISABLE_TELEMETRY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  trackChild(proc);
  // hardhat node logs every transaction; keep only the tail.
  let out = "";
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hardhat node exited early:\n${out}`);
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`hardhat node did not start:\n${out}`);
      await sleep(200);
    }
  }
  return { url, proc, output: () => out };
}

async function runHardhat(): Promise<{ m: Measured; note: string }> {
  const dir = tempDir("rustchain-bench-hardhat-");
  let hh: Awaited<ReturnType<typeof startHardhat>> | undefined;
  try {
    console.log(`[hardhat] starting hardhat node`);
    hh = await startHardhat(dir);
    const url = hh.url;
    console.log(`[hardhat] hardhat node pid ${hh.proc.pid} at ${url}`);
    if (opts["hardhat-quiet"]) await rpc(url, "hardhat_setLoggingEnabled", [false]);
    const chainId = BigInt((await rpc(url, "eth_chainId")) as string);
    const probe = HARDHAT_TXS === undefined && N > HARDHAT_PROBE_TXS;
    await fundSenders(url, chainId, N + (probe ? HARDHAT_PROBE_TXS : 0));
    console.log(`[hardhat] funded ${senders.length} senders`);
    let n = HARDHAT_TXS ?? N;
    let note = "";
    if (probe) {
      const p = await measure("hardhat-probe", url, chainId, HARDHAT_PROBE_TXS, TIMEOUT_MS, HARDHAT_LOAD);
      report(p);
      if (problems(p)) throw new Error("hardhat probe run failed");
      const fits = Math.floor((p.tps * HARDHAT_BUDGET_S) / 100) * 100;
      if (fits < N) {
        n = Math.max(HARDHAT_PROBE_TXS, fits);
        note = ` (N reduced from ${N}: probe rate ${p.tps.toFixed(0)} tx/s)`;
      }
    }
    const m = await measure("hardhat", url, chainId, n, TIMEOUT_MS, HARDHAT_LOAD);
    report(m, note);
    if (problems(m)) printNodeLog("hardhat", hh.output());
    return { m, note };
  } catch (e) {
    if (hh) printNodeLog("hardhat", hh.output());
    throw e;
  } finally {
    if (hh) {
      const proc = hh.proc;
      const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once("exit", () => r())));
      await stopWithin(proc, async () => {
        proc.kill("SIGTERM");
        await exited;
      });
      untrackChild(proc);
    }
    removeTempDir(dir);
  }
}

/**
 * The finality run: a `validators`-node devnet (senders funded in genesis) takes CLUSTER_TXS transfers through its
 * first node's JSON-RPC while the bench polls that node's finality status every second.
 */
async function runCluster(validators: number): Promise<{ m: Measured; finalized: number; maxLag: number }> {
  const name = `cluster${validators}`;
  const dir = tempDir(`rustchain-bench-tps-${name}-`);
  let c: Cluster | undefined;
  try {
    console.log(`[${name}] starting ${validators} validator processes (slot 1000 ms), senders funded in genesis`);
    const balance = fundingPerSender(TRANSFER_GAS * MAX_FEE + VALUE, CLUSTER_TXS, senders.length);
    c = await startCluster({
      validators,
      slotMs: 1000,
      dir,
      onSpawn: trackChild,
      logLevel: "warn",
      readyTimeoutMs: 180_000,
      waitForPeers: "connected",
      extraAlloc: Object.fromEntries(senders.map((a) => [a.hex, { balance: `0x${balance.toString(16)}` }])),
      onWarning: (msg) => console.log(`[${name}] WARNING: ${msg}`),
    });
    const cluster = c;
    await waitUntil(
      "finality before the load",
      async () => ((await cluster.finality(0)).finalized.slot > 0 ? true : undefined),
      120_000,
      500,
    );
    const url = cluster.nodes[0]!.rpcUrl;
    const chainId = BigInt((await rpc(url, "eth_chainId")) as string);
    const before = await cluster.finality(0);
    let maxLag = before.finalityLagSlots;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await sleep(1000);
        const f = await cluster.finality(0).catch(() => undefined);
        if (f && f.finalityLagSlots > maxLag) maxLag = f.finalityLagSlots;
      }
    })();
    const m = await measure(name, url, chainId, CLUSTER_TXS, TIMEOUT_MS);
    polling = false;
    await poller;
    // The last blocks of the run finalize a few slots later.
    await sleep(4000);
    const after = await cluster.finality(0);
    report(m);
    const finalized = after.finalized.number - before.finalized.number;
    console.log(
      `[${name}]   finalized #${before.finalized.number} → #${after.finalized.number} (${finalized} blocks) over the run;` +
        ` max finality lag ${maxLag} slots; head #${after.headNumber}`,
    );
    return { m, finalized, maxLag };
  } catch (e) {
    if (c) console.log(c.dumpLogs(undefined, 20));
    throw e;
  } finally {
    await c?.stop();
    removeTempDir(dir);
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  hardStop(2 * TIMEOUT_MS + 10 * 60_000, "bench: hard time limit reached, killing child processes");

  console.log(
    `bench:tps txs=${N} senders=${senders.length} batch=${BATCH} concurrency=${CONCURRENCY}` +
      ` maxFee=${MAX_FEE / GWEI} gwei tip=${TIP / GWEI} gwei`,
  );
  let rc = 0;
  let rust: Measured | undefined;
  let hard: Measured | undefined;
  if (opts.only === undefined || opts.only === "rustchain") {
    try {
      rust = await runRustchain();
      if (problems(rust)) rc = 1;
    } catch (e) {
      console.error(`[rustchain] FAILED: ${(e as Error).stack ?? e}`);
      rc = 1;
    }
  }
  if (opts.only === undefined || opts.only === "hardhat") {
    try {
      hard = (await runHardhat()).m;
      if (problems(hard)) rc = 1;
    } catch (e) {
      console.error(`[hardhat] FAILED: ${(e as Error).stack ?? e}`, (e as Error).cause ?? "");
      rc = 1;
    }
  }
  let cluster: { m: Measured; finalized: number; maxLag: number } | undefined;
  if (CLUSTER > 0 && opts.only !== "hardhat" && opts["rustchain-url"] === undefined) {
    try {
      cluster = await runCluster(CLUSTER);
      if (problems(cluster.m) || cluster.finalized <= 0) rc = 1;
    } catch (e) {
      console.error(`[cluster${CLUSTER}] FAILED: ${(e as Error).stack ?? e}`);
      rc = 1;
    }
  }
  const fmt = (m: Measured | undefined) => (m ? m.tps.toFixed(0) : "n/a");
  const ratio = rust && hard && hard.tps > 0 ? (rust.tps / hard.tps).toFixed(2) : "n/a";
  const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "n/a" : v.toFixed(0));
  const clusterPart =
    CLUSTER > 0
      ? ` cluster${CLUSTER}_tps=${fmt(cluster?.m)} cluster${CLUSTER}_finalized=${cluster?.finalized ?? "n/a"}`
      : "";
  console.log(
    `tps rustchain=${fmt(rust)} hardhat=${fmt(hard)} ratio=${ratio} p50_ms=${ms(rust?.latency.p50)} p99_ms=${ms(rust?.latency.p99)}${clusterPart}`,
  );
  return rc;
}

process.exitCode = await main();
