// `npm run bench:tps`: transfer throughput through JSON-RPC, RustChain devnet against `hardhat node`, same workload on
// the same machine. For each chain: fund fresh senders from the dev accounts (not timed), pre-sign N EIP-1559 value
// transfers (not timed), then time from the first eth_sendRawTransaction to the moment every accepted transaction is
// seen in a block. Submission uses JSON-RPC batches over HTTP with a few batches in flight; inclusion is tracked by
// watching eth_blockNumber and reading the senders' nonces whenever a block appears. Ends with one line:
//   tps rustchain=<tx/s> hardhat=<tx/s> ratio=<rustchain/hardhat>
//
// Options: --txs N (default 20000), --senders S (200), --batch B (100), --concurrency C (4),
//   --hardhat-txs N (default: N, or fewer if a 1000-tx probe says N would take more than ~3 minutes),
//   --hardhat-quiet (turn off hardhat node's per-transaction console logging), --only rustchain|hardhat,
//   --timeout SEC (per measured run, default 300), --stall SEC (give up when nothing is included for this long, 30),
//   --node-log-level LEVEL (RustChain devnet log level, default warn; "info" shows per-block production times),
//   --rustchain-url URL (measure an already running devnet, e.g. one started under a profiler, instead of starting one).
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
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
    txs: { type: "string", default: "20000" },
    senders: { type: "string", default: "200" },
    batch: { type: "string", default: "100" },
    concurrency: { type: "string", default: "4" },
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
const HARDHAT_TXS = opts["hardhat-txs"] === undefined ? undefined : intOpt("hardhat-txs", opts["hardhat-txs"], 1);
if (opts.only !== undefined && opts.only !== "rustchain" && opts.only !== "hardhat") {
  throw new Error(`--only must be rustchain or hardhat, got ${opts.only}`);
}

/** Batches and polling of every run; the nonce poll gap is long because hardhat makes a block per transaction. */
const LOAD: LoadOptions = { batch: BATCH, concurrency: CONCURRENCY, stallMs: STALL_MS, noncePollMs: 250 };
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
}

async function measure(name: string, url: string, chainId: bigint, n: number, timeoutMs: number): Promise<Measured> {
  const t = performance.now();
  const txs = await presign(url, chainId, n);
  const signS = ((performance.now() - t) / 1000).toFixed(1);
  console.log(`[${name}] pre-signed ${n} transfers in ${signS}s; submitting at ${new Date().toISOString()}`);
  const r = await submitAndWait(url, txs, senders, timeoutMs, LOAD);
  const tps = r.included / (r.totalMs / 1000);
  return { ...r, ...(await blockStats(url, r)), name, tps };
}

/**
 * Not timed: transactions per block of the run (eth_getBlockTransactionCountByNumber can cost the node a full block
 * decode, so this is read after the timed part).
 */
async function blockStats(url: string, r: RunResult) {
  const head = hexNum(await rpc(url, "eth_blockNumber"));
  const numbers = Array.from({ length: head - r.startBlock }, (_, i) => r.startBlock + 1 + i);
  const counts = await batched(
    url,
    numbers.map((n) => ({ method: "eth_getBlockTransactionCountByNumber", params: [`0x${n.toString(16)}`] })),
    { size: 100, concurrency: 2 },
  );
  const timeline: [number, number, number][] = [];
  let blockIncluded = 0;
  let blocks = 0;
  let maxPerBlock = 0;
  counts.forEach((c, i) => {
    if (c.error) throw new Error(`eth_getBlockTransactionCountByNumber ${numbers[i]}: ${c.error.message}`);
    const count = hexNum(c.result);
    if (count === 0) return;
    // Blocks mined between the last eth_blockNumber and the final nonce poll were first seen by that poll.
    timeline.push([r.seenAt.get(numbers[i]) ?? r.totalMs, numbers[i], count]);
    blockIncluded += count;
    blocks++;
    if (count > maxPerBlock) maxPerBlock = count;
  });
  return { timeline, blockIncluded, blocks, maxPerBlock };
}

function report(m: Measured, note = ""): void {
  console.log(runLine(m.name, m, m.tps, ` blocks=${m.blocks} max/block=${m.maxPerBlock}`, note));
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
      const p = await measure("hardhat-probe", url, chainId, HARDHAT_PROBE_TXS, TIMEOUT_MS);
      report(p);
      if (problems(p)) throw new Error("hardhat probe run failed");
      const fits = Math.floor((p.tps * HARDHAT_BUDGET_S) / 100) * 100;
      if (fits < N) {
        n = Math.max(HARDHAT_PROBE_TXS, fits);
        note = ` (N reduced from ${N}: probe rate ${p.tps.toFixed(0)} tx/s)`;
      }
    }
    const m = await measure("hardhat", url, chainId, n, TIMEOUT_MS);
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
  if (opts.only !== "hardhat") {
    try {
      rust = await runRustchain();
      if (problems(rust)) rc = 1;
    } catch (e) {
      console.error(`[rustchain] FAILED: ${(e as Error).stack ?? e}`);
      rc = 1;
    }
  }
  if (opts.only !== "rustchain") {
    try {
      hard = (await runHardhat()).m;
      if (problems(hard)) rc = 1;
    } catch (e) {
      console.error(`[hardhat] FAILED: ${(e as Error).stack ?? e}`);
      rc = 1;
    }
  }
  const fmt = (m: Measured | undefined) => (m ? m.tps.toFixed(0) : "n/a");
  const ratio = rust && hard && hard.tps > 0 ? (rust.tps / hard.tps).toFixed(2) : "n/a";
  console.log(`tps rustchain=${fmt(rust)} hardhat=${fmt(hard)} ratio=${ratio}`);
  return rc;
}

process.exitCode = await main();
