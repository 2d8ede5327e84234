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
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { keccak256 } from "@rustchain/shared/hash";
import { bytesToHex, hexToBytes } from "@rustchain/shared/hex";
import { privateKeyToAddress } from "@rustchain/shared/secp256k1";
import { signTransaction } from "@rustchain/shared/transaction";
import { DEV_KEYS, type Devnet, freePort, startDevnet } from "../tests/support/devnet.ts";

const ROOT = resolve(import.meta.dirname, "..");
const GWEI = 1_000_000_000n;
const ETHER = 10n ** 18n;
const MAX_FEE = 100n * GWEI;
const TIP = 1n * GWEI;
const GAS = 21_000n;
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

function intOpt(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

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

// ---------------------------------------------------------------------------------------------------------------
// JSON-RPC over HTTP

interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string };
}

const REQUEST_TIMEOUT_MS = 30_000;

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
}

async function call(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const reply = (await post(url, { jsonrpc: "2.0", id: 1, method, params })) as RpcReply;
  if (reply.error) throw new Error(`${method}: ${reply.error.message} (${reply.error.code})`);
  return reply.result;
}

/** One JSON-RPC batch; replies in request order. A non-array answer (e.g. a batch-level error) fails every call. */
async function batch(url: string, calls: { method: string; params: unknown[] }[]): Promise<RpcReply[]> {
  const body = calls.map((c, i) => ({ jsonrpc: "2.0", id: i, method: c.method, params: c.params }));
  const reply = await post(url, body);
  if (!Array.isArray(reply)) {
    const err = (reply as RpcReply).error ?? { code: 0, message: `unexpected batch reply ${JSON.stringify(reply)}` };
    return calls.map(() => ({ error: err }));
  }
  const out: RpcReply[] = calls.map(() => ({ error: { code: 0, message: "missing from batch reply" } }));
  for (const r of reply as (RpcReply & { id: number })[])
    if (typeof r.id === "number" && r.id < out.length) out[r.id] = r;
  return out;
}

async function batched(
  url: string,
  calls: { method: string; params: unknown[] }[],
  size = BATCH,
  concurrency = CONCURRENCY,
): Promise<RpcReply[]> {
  const out: RpcReply[] = new Array(calls.length);
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const start = next;
      next += size;
      const replies = await batch(url, calls.slice(start, start + size));
      for (let i = 0; i < replies.length; i++) out[start + i] = replies[i];
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hexNum = (v: unknown) => Number(BigInt(v as string));

// ---------------------------------------------------------------------------------------------------------------
// Accounts and signing

interface Account {
  key: Uint8Array;
  address: Uint8Array;
  hex: string;
}

function account(key: Uint8Array): Account {
  const address = privateKeyToAddress(key);
  return { key, address, hex: bytesToHex(address) };
}

const devAccounts = DEV_KEYS.map((k) => account(hexToBytes(k)));
/** Deterministic fresh sender keys (keccak of a label; valid secp256k1 scalars with overwhelming probability). */
const senders = Array.from({ length: SENDERS }, (_, i) =>
  account(keccak256(new TextEncoder().encode(`rustchain-bench-tps-sender-${i}`))),
);

interface Signed {
  raw: string;
  hash: string;
  sender: number;
}

function transfer(chainId: bigint, from: Account, nonce: bigint, to: Uint8Array, value: bigint): Signed {
  const stx = signTransaction(
    {
      type: 2,
      chainId,
      nonce,
      maxPriorityFeePerGas: TIP,
      maxFeePerGas: MAX_FEE,
      gasLimit: GAS,
      to,
      value,
      data: new Uint8Array(0),
      accessList: [],
    },
    from.key,
  );
  return { raw: bytesToHex(stx.raw), hash: bytesToHex(stx.hash), sender: -1 };
}

async function nonces(url: string, accounts: Account[]): Promise<bigint[]> {
  const replies = await batched(
    url,
    accounts.map((a) => ({ method: "eth_getTransactionCount", params: [a.hex, "latest"] })),
  );
  return replies.map((r, i) => {
    if (r.error) throw new Error(`eth_getTransactionCount ${accounts[i].hex}: ${r.error.message}`);
    return BigInt(r.result as string);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Submit and wait

interface RunResult {
  submitted: number;
  accepted: number;
  rejected: number;
  errors: Map<string, number>;
  /** Transactions included, from the senders' nonces (what decides the end of the timed part). */
  included: number;
  /** Transactions included, summed over the blocks of the run (cross-check, counted after the timed part). */
  blockIncluded: number;
  blocks: number;
  maxPerBlock: number;
  /** [ms since first submit when the block number was first seen, block number, transactions] per block. */
  timeline: [number, number, number][];
  submitMs: number;
  totalMs: number;
  /** Set when the run gave up (timeout, stall, poll failure). */
  incomplete?: string;
}

/** Minimum gap between two nonce polls (hardhat makes a block per transaction). */
const NONCE_POLL_MS = 250;

/**
 * Submit `txs` (each `txs[i].sender` indexes `accounts`) in batches of eth_sendRawTransaction with CONCURRENCY
 * batches in flight. Meanwhile a poller watches eth_blockNumber every 25 ms and, whenever the head moved, reads the
 * senders' nonces; done when every accepted transaction is reflected in them. Per-block transaction counts are read
 * after the timed part (eth_getBlockTransactionCountByNumber can cost the node a full block decode). The senders
 * must send nothing else meanwhile.
 */
async function submitAndWait(url: string, txs: Signed[], accounts: Account[], timeoutMs: number): Promise<RunResult> {
  const startBlock = hexNum(await call(url, "eth_blockNumber"));
  const base = await nonces(url, accounts);
  const want = new Array<number>(accounts.length).fill(0);
  for (const t of txs) want[t.sender]++;
  const active = accounts.flatMap((a, i) => (want[i] > 0 ? [{ a, i }] : []));
  const errors = new Map<string, number>();
  let accepted = 0;
  let rejected = 0;
  let submitDone = false;
  let included = 0;
  const reject = (msg: string, n = 1) => {
    rejected += n;
    errors.set(msg, (errors.get(msg) ?? 0) + n);
  };

  const t0 = performance.now();
  let submitMs = 0;
  const submit = (async () => {
    let next = 0;
    const worker = async () => {
      while (next < txs.length) {
        const start = next;
        next += BATCH;
        const chunk = txs.slice(start, start + BATCH);
        let replies: RpcReply[];
        try {
          replies = await batch(
            url,
            chunk.map((t) => ({ method: "eth_sendRawTransaction", params: [t.raw] })),
          );
        } catch (e) {
          reject(`batch failed: ${(e as Error).message}`, chunk.length);
          continue;
        }
        replies.forEach((r, i) => {
          if (r.error) reject(`${r.error.message} (${r.error.code})`);
          else if (r.result !== chunk[i].hash) reject(`hash mismatch: got ${String(r.result)}`);
          else accepted++;
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    submitMs = performance.now() - t0;
    submitDone = true;
  })();

  const seenAt = new Map<number, number>();
  let incomplete: string | undefined;
  let seen = startBlock;
  let dirty = false;
  let lastNoncePoll = 0;
  let lastProgress = t0;
  for (;;) {
    const now = performance.now();
    if (submitDone && included >= accepted) break;
    if (now - t0 > timeoutMs) {
      incomplete = `timeout after ${(timeoutMs / 1000).toFixed(0)}s`;
      break;
    }
    if (submitDone && now - lastProgress > STALL_MS) {
      incomplete = `nothing included for ${(STALL_MS / 1000).toFixed(0)}s`;
      break;
    }
    try {
      const head = hexNum(await call(url, "eth_blockNumber"));
      if (head > seen) {
        const at = performance.now() - t0;
        for (let n = seen + 1; n <= head; n++) seenAt.set(n, at);
        seen = head;
        dirty = true;
      }
      if (dirty && performance.now() - lastNoncePoll >= NONCE_POLL_MS) {
        lastNoncePoll = performance.now();
        dirty = false;
        const current = await nonces(
          url,
          active.map(({ a }) => a),
        );
        let sum = 0;
        active.forEach(({ i }, k) => {
          sum += Math.min(Number(current[k] - base[i]), want[i]);
        });
        if (sum > included) {
          included = sum;
          lastProgress = performance.now();
        }
      }
    } catch (e) {
      incomplete = `poll failed: ${(e as Error).message}`;
      break;
    }
    await sleep(25);
  }
  const totalMs = performance.now() - t0;
  await submit;

  // Not timed: transactions per block of the run.
  const head = hexNum(await call(url, "eth_blockNumber"));
  const numbers = Array.from({ length: head - startBlock }, (_, i) => startBlock + 1 + i);
  const counts = await batched(
    url,
    numbers.map((n) => ({ method: "eth_getBlockTransactionCountByNumber", params: [`0x${n.toString(16)}`] })),
    100,
    2,
  );
  const timeline: [number, number, number][] = [];
  let blockIncluded = 0;
  let blocks = 0;
  let maxPerBlock = 0;
  counts.forEach((r, i) => {
    if (r.error) throw new Error(`eth_getBlockTransactionCountByNumber ${numbers[i]}: ${r.error.message}`);
    const c = hexNum(r.result);
    if (c === 0) return;
    // Blocks mined between the last eth_blockNumber and the final nonce poll were first seen by that poll.
    timeline.push([seenAt.get(numbers[i]) ?? totalMs, numbers[i], c]);
    blockIncluded += c;
    blocks++;
    if (c > maxPerBlock) maxPerBlock = c;
  });
  return {
    submitted: txs.length,
    accepted,
    rejected,
    errors,
    included,
    blockIncluded,
    blocks,
    maxPerBlock,
    timeline,
    submitMs,
    totalMs,
    incomplete,
  };
}

/** Fund every sender from the dev accounts (round-robin) and wait until all funding transfers are in blocks. */
async function fundSenders(url: string, chainId: bigint, perSender: bigint): Promise<void> {
  const devNonces = await nonces(url, devAccounts);
  const txs = senders.map((s, i) => {
    const d = i % devAccounts.length;
    const t = transfer(chainId, devAccounts[d], devNonces[d]++, s.address, perSender);
    t.sender = d;
    return t;
  });
  const r = await submitAndWait(url, txs, devAccounts, 120_000);
  if (r.rejected > 0 || r.incomplete) {
    throw new Error(`funding failed: ${r.incomplete ?? ""} ${[...r.errors].map(([m, n]) => `${n}x ${m}`).join("; ")}`);
  }
}

/** Pre-sign n transfers spread round-robin over the senders (nonce k of every sender before nonce k+1). */
async function presign(url: string, chainId: bigint, n: number): Promise<Signed[]> {
  const base = await nonces(url, senders);
  const txs: Signed[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = i % senders.length;
    const to = senders[(s + 1) % senders.length].address;
    const t = transfer(chainId, senders[s], base[s] + BigInt(Math.floor(i / senders.length)), to, VALUE);
    t.sender = s;
    txs[i] = t;
  }
  return txs;
}

function fundingPerSender(totalTxs: number): bigint {
  const perTx = GAS * MAX_FEE + VALUE;
  const need = perTx * BigInt(Math.ceil(totalTxs / senders.length) + 10) * 2n;
  return need > 10n * ETHER ? need : 10n * ETHER;
}

interface Measured extends RunResult {
  name: string;
  tps: number;
}

async function measure(name: string, url: string, chainId: bigint, n: number, timeoutMs: number): Promise<Measured> {
  const t = performance.now();
  const txs = await presign(url, chainId, n);
  const signS = ((performance.now() - t) / 1000).toFixed(1);
  console.log(`[${name}] pre-signed ${n} transfers in ${signS}s; submitting at ${new Date().toISOString()}`);
  const r = await submitAndWait(url, txs, senders, timeoutMs);
  const tps = r.included / (r.totalMs / 1000);
  return { ...r, name, tps };
}

function report(m: Measured, note = ""): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
  console.log(
    `[${m.name}] submitted=${m.submitted} accepted=${m.accepted} rejected=${m.rejected} included=${m.included}` +
      ` blocks=${m.blocks} max/block=${m.maxPerBlock}` +
      ` submit=${s(m.submitMs)} total=${s(m.totalMs)} tps=${m.tps.toFixed(1)}${note}`,
  );
  if (m.timeline.length <= 20) {
    const t = m.timeline.map(([ms, n, c]) => `#${n}:${c}tx@${(ms / 1000).toFixed(2)}s`).join(" ");
    console.log(`[${m.name}]   blocks seen: ${t}`);
  }
  for (const [msg, count] of m.errors) console.log(`[${m.name}]   rejected ${count}x: ${msg}`);
  if (m.incomplete)
    console.log(`[${m.name}]   INCOMPLETE: ${m.incomplete}; ${m.accepted - m.included} accepted not included`);
  if (m.blockIncluded !== m.included) {
    console.log(`[${m.name}]   WARNING: nonces say ${m.included} included, blocks hold ${m.blockIncluded}`);
  }
}

const problems = (m: Measured) => m.rejected > 0 || m.incomplete !== undefined || m.included < m.submitted;

// ---------------------------------------------------------------------------------------------------------------
// Chains

const children = new Set<ChildProcess>();
function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
process.once("exit", killChildren);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    killChildren();
    process.exit(130);
  });
}

async function runRustchain(): Promise<Measured> {
  const external = opts["rustchain-url"];
  if (external !== undefined) {
    console.log(`[rustchain] using running node at ${external}`);
    const chainId = BigInt((await call(external, "eth_chainId")) as string);
    await fundSenders(external, chainId, fundingPerSender(N));
    const m = await measure("rustchain", external, chainId, N, TIMEOUT_MS);
    report(m);
    return m;
  }
  console.log(`[rustchain] starting devnet (slot 1000 ms)`);
  let devnet: Devnet | undefined;
  try {
    devnet = await startDevnet({ slotMs: 1000, logLevel: opts["node-log-level"] });
    children.add(devnet.proc);
    const url = devnet.url;
    console.log(`[rustchain] devnet pid ${devnet.proc.pid} at ${url}, datadir ${devnet.datadir}`);
    const chainId = BigInt((await call(url, "eth_chainId")) as string);
    await fundSenders(url, chainId, fundingPerSender(N));
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
    if (devnet) {
      await stopWithin(devnet.proc, () => devnet!.stop());
      children.delete(devnet.proc);
      await devnet.cleanup();
    }
  }
}

/** Block production and eth_sendRawTransaction latency from the node's Prometheus endpoint (diagnostics only). */
async function printRustchainMetrics(url: string): Promise<void> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    text = await res.text();
  } catch (e) {
    console.log(`[rustchain]   metrics unavailable: ${(e as Error).message}`);
    return;
  }
  const metric = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : Number.NaN;
  };
  const bpSum = metric("rustchain_block_production_seconds_sum");
  const bpCount = metric("rustchain_block_production_seconds_count");
  const rpcLabel = '{method="eth_sendRawTransaction"}';
  const sendSum = metric(`rustchain_rpc_request_seconds_sum${rpcLabel}`);
  const sendCount = metric(`rustchain_rpc_request_seconds_count${rpcLabel}`);
  console.log(
    `[rustchain]   node metrics: ${bpCount} blocks produced, ${bpSum.toFixed(2)}s producing` +
      ` (avg ${((bpSum / bpCount) * 1000).toFixed(0)} ms/block);` +
      ` eth_sendRawTransaction ${sendCount} calls, avg ${((sendSum / sendCount) * 1000).toFixed(2)} ms`,
  );
}

function printNodeLog(name: string, out: string): void {
  const lines = out.trim().split("\n").filter(Boolean);
  if (lines.length === 0) return;
  console.log(`[${name}] node output (last ${Math.min(lines.length, 40)} of ${lines.length} lines):`);
  for (const l of lines.slice(-40)) console.log(`  ${l.slice(0, 400)}`);
}

async function stopWithin(proc: ChildProcess, stop: () => Promise<void>, ms = 15_000): Promise<void> {
  const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
  try {
    await stop();
  } finally {
    clearTimeout(timer);
  }
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
  children.add(proc);
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
      await call(url, "eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`hardhat node did not start:\n${out}`);
      await sleep(200);
    }
  }
  return { url, proc, output: () => out };
}

async function runHardhat(): Promise<{ m: Measured; note: string }> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-bench-hardhat-"));
  let hh: Awaited<ReturnType<typeof startHardhat>> | undefined;
  try {
    console.log(`[hardhat] starting hardhat node`);
    hh = await startHardhat(dir);
    const url = hh.url;
    console.log(`[hardhat] hardhat node pid ${hh.proc.pid} at ${url}`);
    if (opts["hardhat-quiet"]) await call(url, "hardhat_setLoggingEnabled", [false]);
    const chainId = BigInt((await call(url, "eth_chainId")) as string);
    const probe = HARDHAT_TXS === undefined && N > HARDHAT_PROBE_TXS;
    await fundSenders(url, chainId, fundingPerSender(N + (probe ? HARDHAT_PROBE_TXS : 0)));
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
      children.delete(proc);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  // Hard stop: whatever happens, the bench ends on its own.
  const hardStop = setTimeout(
    () => {
      console.error("bench: hard time limit reached, killing child processes");
      killChildren();
      process.exit(2);
    },
    2 * TIMEOUT_MS + 10 * 60_000,
  );
  hardStop.unref();

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
