// `npm run bench:runtime`: contract runtime throughput, in three parts.
//
// 1. erc20: ERC-20 transfers/s through the full transaction path. Starts a devnet (slot 1000 ms), deploys the C ERC-20
//    (contracts/examples/erc20.c), funds fresh senders with RTC and tokens (not timed), pre-signs N EIP-1559
//    `transfer(address,uint256)` calls (not timed), submits them in JSON-RPC batches and times from the first
//    eth_sendRawTransaction until every accepted transaction is in a block (senders' nonces, read whenever the head
//    moves; receipts are committed with the block). Then checks, not timed: every receipt of the run has status 1
//    (all of them through eth_getBlockReceipts, plus a sample through eth_getTransactionReceipt) and every sender's
//    token balance is exactly funding - sent + received.
// 2. raw: contract calls/s in-process, without RPC, mempool or blocks: a ContractRuntime calling the ERC-20's
//    `balanceOf` and `transfer` repeatedly on one WorldState overlay of a StateDb over RocksDB in a temporary
//    directory (after the first touch every slot is served from the overlay, so this is the runtime's own cost:
//    instantiation, JSPI, host calls, metering).
// 3. metering: the same workload on the plain module and on the instrumented one (instrumentModule: gas per basic
//    block, stack height, priced memory.grow), both with the same synchronous stub host imports, no JSPI. The
//    headline is pure compute (small C kernels compiled with clang in a temporary directory: calls in a loop, an i32
//    matrix multiply, an insertion sort, u64 arithmetic), where metering matters most; the ERC-20 (host-call bound,
//    a fresh instance per call as the runtime does) is shown too.
// Ends with one line:
//   runtime erc20_tps=<tx/s> raw_calls_per_s=<transfer calls/s> metering_overhead=<instrumented/plain, compute>
//
// Options: --txs N (default 120000: about 23 full blocks, so that the first block's fill-up and the last one's drain
//   weigh little; with 30,000 they were a fifth of the run, with 10,000 most of it), --gas G (gas limit of each transfer; default eth_estimateGas of a transfer plus a
//   calldata margin, as a wallet sets it; blocks are packed by gas limit, so 300M / G caps the transfers per block),
//   --senders S (200), --batch B (100), --concurrency C (4), --timeout SEC (measured devnet run, 300), --stall SEC (30), --node-log-level LEVEL (warn), --raw-calls N (5000),
//   --metering-ms MS (target time of one plain kernel run, 150), --rounds R (alternating plain/instrumented, 5),
//   --only erc20,raw,metering (a comma-separated subset).
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes, keccak256 } from "@rustchain/shared";
import { decodeFunctionResult, encodeDeployData, encodeFunctionData, erc20Abi, type Hex } from "viem";
import { type BuiltContract, buildContracts } from "../contracts/build.ts";
import { startDevnet } from "../tests/support/devnet.ts";
import { Database } from "../validator/src/db/database.ts";
import type { BlockEnv } from "../validator/src/runtime/blockEnv.ts";
import { ContractRuntime, type TxContext } from "../validator/src/runtime/contractRuntime.ts";
import { INK_PER_GAS, meteringOptions } from "../validator/src/runtime/gasSchedule.ts";
import { GAS_EXPORT, instrumentModule } from "../validator/src/runtime/wasm/instrument.ts";
import { EMPTY_TRIE_ROOT } from "../validator/src/state/account.ts";
import { defaultStateDbOptions, StateDb, type WorldState } from "../validator/src/state/stateDb.ts";
import {
  type Account,
  devAccounts,
  ETHER,
  freshAccounts,
  fundingPerSender,
  GWEI,
  MAX_FEE,
  sign,
  TIP,
} from "./support/accounts.ts";
import { intOpt } from "./support/cli.ts";
import { compileKernel, KERNELS } from "./support/computeKernels.ts";
import { batchedResults, hexNum, rpc, sleep } from "./support/jsonRpc.ts";
import {
  checkRun,
  fundFromDevAccounts,
  type LoadOptions,
  nonces,
  printRejections,
  roundRobin,
  runLine,
  submitAndWait,
} from "./support/load.ts";
import { type NodeMetrics, printNodeLog, readNodeMetrics } from "./support/nodeDiagnostics.ts";
import { hardStop, installCleanup, removeTempDir, stopDevnet, tempDir, trackDevnet } from "./support/processes.ts";

/** Gas limit of the (untimed) token funding transfers, which create new balance slots. */
const FUND_GAS = 200_000n;
const TOKEN = 10n ** 18n;
const SUPPLY = 10n ** 12n * TOKEN;

const { values: opts } = parseArgs({
  options: {
    txs: { type: "string", default: "120000" },
    gas: { type: "string", default: "estimate" },
    senders: { type: "string", default: "200" },
    batch: { type: "string", default: "100" },
    concurrency: { type: "string", default: "4" },
    timeout: { type: "string", default: "300" },
    stall: { type: "string", default: "30" },
    "node-log-level": { type: "string", default: "warn" },
    "raw-calls": { type: "string", default: "5000" },
    "metering-ms": { type: "string", default: "150" },
    rounds: { type: "string", default: "5" },
    only: { type: "string", default: "erc20,raw,metering" },
  },
});

const N = intOpt("txs", opts.txs, 1);
const SENDERS = intOpt("senders", opts.senders, 2);
/**
 * Gas limit of every ERC-20 call, or undefined to estimate it as a wallet does. Blocks are filled by the sum of gas
 * limits (300M), so this caps the transfers per block.
 */
const FIXED_CALL_GAS = opts.gas === "estimate" ? undefined : BigInt(intOpt("gas", opts.gas, 21_000));
/** Calldata gas varies with the recipient's zero bytes (4 instead of 16 each): a margin for 20 of them. */
const CALLDATA_MARGIN = 20n * 12n;
const BATCH = intOpt("batch", opts.batch, 1);
const CONCURRENCY = intOpt("concurrency", opts.concurrency, 1);
const TIMEOUT_MS = intOpt("timeout", opts.timeout, 1) * 1000;
const STALL_MS = intOpt("stall", opts.stall, 1) * 1000;
const RAW_CALLS = intOpt("raw-calls", opts["raw-calls"], 1);
const METERING_MS = intOpt("metering-ms", opts["metering-ms"], 1);
const ROUNDS = intOpt("rounds", opts.rounds, 1);
const PARTS = new Set(opts.only.split(",").map((s) => s.trim()));
for (const p of PARTS) if (!["erc20", "raw", "metering"].includes(p)) throw new Error(`--only: unknown part ${p}`);

/** Batches and polling of every devnet run. */
const LOAD: LoadOptions = { batch: BATCH, concurrency: CONCURRENCY, stallMs: STALL_MS, noncePollMs: 100 };
installCleanup();

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

// ---------------------------------------------------------------------------------------------------------------
// Part 1: ERC-20 transfers through the devnet

const senders = freshAccounts("rustchain-bench-runtime-sender", SENDERS);

async function waitReceipt(url: string, hash: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = (await rpc(url, "eth_getTransactionReceipt", [hash])) as Record<string, unknown> | null;
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${timeoutMs / 1000}s`);
    await sleep(100);
  }
}

async function tokenBalances(url: string, token: Hex, accounts: Account[]): Promise<bigint[]> {
  const r = await batchedResults(
    url,
    accounts.map((a) => ({
      method: "eth_call",
      params: [
        { to: token, data: encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [a.hex] }) },
        "latest",
      ],
    })),
    { size: BATCH, concurrency: CONCURRENCY },
  );
  return r.map((v) => BigInt(v as string));
}

const transferData = (to: Hex, amount: bigint) =>
  hexToBytes(encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, amount] }));

/** Amount of measured transfer i (varied, so the balance check catches a transfer applied twice or to the wrong pair). */
const amountOf = (i: number) => BigInt(1 + (i % 97));

interface Erc20Result {
  tps: number;
}

async function benchErc20(erc20: BuiltContract): Promise<Erc20Result> {
  console.log(`[erc20] starting devnet (slot 1000 ms, log level ${opts["node-log-level"]})`);
  const devnet = await startDevnet({ slotMs: 1000, logLevel: opts["node-log-level"] });
  trackDevnet(devnet);
  try {
    const url = devnet.url;
    console.log(`[erc20] devnet pid ${devnet.proc.pid} at ${url}`);
    const chainId = BigInt((await rpc(url, "eth_chainId")) as string);
    const deployer = devAccounts[0];

    // Deploy (not timed).
    const deployData = encodeDeployData({
      abi: erc20.abi,
      bytecode: erc20.bytecode,
      args: ["Bench", "BNCH", 18, SUPPLY],
    });
    const estimate = BigInt((await rpc(url, "eth_estimateGas", [{ from: deployer.hex, data: deployData }])) as string);
    const [deployNonce] = await nonces(url, [deployer], LOAD);
    const deployTx = { to: null, value: 0n, data: hexToBytes(deployData), gasLimit: (estimate * 12n) / 10n };
    const dtx = sign(chainId, deployer, deployNonce, deployTx, 0);
    await rpc(url, "eth_sendRawTransaction", [dtx.raw]);
    const dr = await waitReceipt(url, dtx.hash);
    if (dr.status !== "0x1") throw new Error(`ERC-20 deploy failed: ${JSON.stringify(dr)}`);
    const token = dr.contractAddress as Hex;
    console.log(
      `[erc20] ERC-20 deployed at ${token} (gas used ${hexNum(dr.gasUsed)}, module ${erc20.module.length} B)`,
    );

    // Fund (not timed): RTC round-robin from the dev accounts, then tokens from the deployer.
    const perSenderTxs = Math.ceil(N / SENDERS);
    // Funded for the funding transfers' gas limit, which is more than a transfer between funded holders needs.
    const rtcEach = fundingPerSender((FIXED_CALL_GAS ?? FUND_GAS) * MAX_FEE, N, SENDERS);
    const tokensEach = 1_000_000n * TOKEN;
    await fundFromDevAccounts(url, chainId, senders, rtcEach, LOAD);
    const tokenAddr = hexToBytes(token);
    for (let start = 0; start < senders.length; start += 1000) {
      const [n0] = await nonces(url, [deployer], LOAD);
      const chunk = senders.slice(start, start + 1000).map((s, i) => {
        const tx = { to: tokenAddr, value: 0n, data: transferData(s.hex, tokensEach), gasLimit: FUND_GAS };
        return sign(chainId, deployer, n0 + BigInt(i), tx, 0);
      });
      checkRun("token funding", await submitAndWait(url, chunk, [deployer], 120_000, LOAD), chunk.length);
    }
    const before = await tokenBalances(url, token, senders);
    const unfunded = before.filter((b) => b !== tokensEach).length;
    if (unfunded > 0) throw new Error(`token funding: ${unfunded} senders have an unexpected token balance`);
    console.log(`[erc20] funded ${SENDERS} senders with ${rtcEach / ETHER} RTC and ${tokensEach / TOKEN} tokens each`);

    // The transfers' gas limit: eth_estimateGas of one of them, as viem and ethers set it, plus the calldata margin.
    const estimated = BigInt(
      (await rpc(url, "eth_estimateGas", [
        { from: senders[0].hex, to: token, data: bytesToHex(transferData(senders[1].hex, amountOf(0))) },
      ])) as string,
    );
    const CALL_GAS = FIXED_CALL_GAS ?? estimated + CALLDATA_MARGIN;
    console.log(
      `[erc20] transfer gas: eth_estimateGas ${estimated}; gas limit ${CALL_GAS}` +
        ` (${FIXED_CALL_GAS === undefined ? `estimate + ${CALLDATA_MARGIN} for calldata` : "--gas"}),` +
        ` at most ${300_000_000n / CALL_GAS} per 300M-gas block`,
    );

    // Pre-sign (not timed): round-robin over the senders, each sends to the next one.
    const t = performance.now();
    const base = await nonces(url, senders, LOAD);
    const delta = new Array<bigint>(SENDERS).fill(0n);
    const txs = roundRobin(N, SENDERS, base, (i, s, r, nonce) => {
      const amount = amountOf(i);
      delta[s] -= amount;
      delta[r] += amount;
      const tx = { to: tokenAddr, value: 0n, data: transferData(senders[r].hex, amount), gasLimit: CALL_GAS };
      return sign(chainId, senders[s], nonce, tx, s);
    });
    console.log(
      `[erc20] pre-signed ${N} transfer(address,uint256) calls (gas limit ${CALL_GAS}, ${perSenderTxs}/sender)` +
        ` in ${((performance.now() - t) / 1000).toFixed(1)}s; submitting`,
    );

    // Timed.
    const r = await submitAndWait(url, txs, senders, TIMEOUT_MS, LOAD);
    const tps = r.included / (r.totalMs / 1000);
    console.log(runLine("erc20", r, tps));
    printRejections("erc20", r);
    if (r.incomplete) console.log(`[erc20]   INCOMPLETE: ${r.incomplete}`);

    // Verify (not timed): every receipt of the run, a sample one by one, and the token balances.
    const head = hexNum(await rpc(url, "eth_blockNumber"));
    const numbers = Array.from({ length: head - r.startBlock }, (_, i) => r.startBlock + 1 + i);
    const blockReceipts = (await batchedResults(
      url,
      numbers.map((n) => ({ method: "eth_getBlockReceipts", params: [`0x${n.toString(16)}`] })),
      { size: 1, concurrency: 2, timeoutMs: 120_000 },
    )) as { transactionHash: string; status: string; gasUsed: string }[][];
    const status = new Map<string, { status: string; gasUsed: number }>();
    const perBlock: string[] = [];
    blockReceipts.forEach((rs, k) => {
      const at = r.seenAt.get(numbers[k]);
      if (rs.length > 0)
        perBlock.push(`#${numbers[k]}:${rs.length}tx@${at === undefined ? "?" : (at / 1000).toFixed(2)}s`);
      for (const x of rs) status.set(x.transactionHash.toLowerCase(), { status: x.status, gasUsed: hexNum(x.gasUsed) });
    });
    let ok = 0;
    let failed = 0;
    let missing = 0;
    let gasSum = 0;
    for (const tx of txs) {
      const s = status.get(tx.hash.toLowerCase());
      if (!s) missing++;
      else if (s.status === "0x1") {
        ok++;
        gasSum += s.gasUsed;
      } else failed++;
    }
    console.log(
      `[erc20] receipts: ${ok} status 1, ${failed} status 0, ${missing} missing; avg gasUsed ${fmt(gasSum / ok)};` +
        ` ${perBlock.length} blocks: ${perBlock.slice(0, 30).join(" ")}${perBlock.length > 30 ? " ..." : ""}`,
    );
    // eth_getTransactionReceipt costs the node a whole-block decode per call: a small sample, a few per request.
    const SAMPLE = Math.min(50, N);
    const sampleIdx = Array.from({ length: SAMPLE }, (_, k) => Math.floor((k * N) / SAMPLE));
    sampleIdx.push(N - 1);
    const ts = performance.now();
    const sample = (await batchedResults(
      url,
      sampleIdx.map((i) => ({ method: "eth_getTransactionReceipt", params: [txs[i].hash] })),
      { size: 5, concurrency: 1, timeoutMs: 120_000 },
    )) as ({ status: string; logs: unknown[] } | null)[];
    const lookupMs = (performance.now() - ts) / sample.length;
    const sampleBad = sample.filter((x) => !(x?.status === "0x1" && x.logs.length === 1)).length;
    console.log(
      `[erc20] sampled ${sample.length} receipts by hash: ${sample.length - sampleBad} status 1 with 1 log` +
        ` (${fmt(lookupMs, 1)} ms per eth_getTransactionReceipt)`,
    );
    const after = await tokenBalances(url, token, senders);
    const wrong = after.filter((b, s) => b !== tokensEach + delta[s]).length;
    const sum = after.reduce((a, b) => a + b, 0n);
    const deployerBal = (await tokenBalances(url, token, [deployer]))[0];
    const sumOk = sum === tokensEach * BigInt(SENDERS) && deployerBal + sum === SUPPLY;
    console.log(
      `[erc20] token balances: ${SENDERS - wrong}/${SENDERS} as expected; sum ${sumOk ? "conserved" : "WRONG"}` +
        ` (${sum / TOKEN} tokens over the senders)`,
    );
    await printNodeMetrics(devnet.metricsUrl);
    printNodeLog("erc20", devnet.output());
    const problems: string[] = [];
    if (r.rejected > 0 || r.incomplete || r.included < N) problems.push(`${N - r.included} not included`);
    if (ok !== N) problems.push(`${N - ok} receipts not status 1`);
    if (sampleBad > 0) problems.push(`${sampleBad} sampled receipts bad`);
    if (wrong > 0 || !sumOk) problems.push(`${wrong} token balances wrong`);
    if (problems.length > 0) throw new Error(`erc20 run failed verification: ${problems.join("; ")}`);
    return { tps };
  } catch (e) {
    printNodeLog("erc20", devnet.output());
    throw e;
  } finally {
    await stopDevnet(devnet);
  }
}

/** Block production time and eth_sendRawTransaction latency from the node's Prometheus endpoint (diagnostics). */
async function printNodeMetrics(url: string): Promise<void> {
  let m: NodeMetrics;
  try {
    m = await readNodeMetrics(url);
  } catch (e) {
    console.log(`[erc20] node metrics unavailable: ${(e as Error).message}`);
    return;
  }
  console.log(
    `[erc20] node metrics (whole devnet life): ${m.blocks} blocks produced, ${fmt(m.producingS, 2)}s producing` +
      ` (avg ${fmt((m.producingS / m.blocks) * 1000)} ms/block); eth_sendRawTransaction ${m.sendCalls} calls,` +
      ` avg ${fmt((m.sendS / m.sendCalls) * 1000, 2)} ms`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Part 2: raw ContractRuntime calls on a WorldState overlay

interface RawResult {
  balanceOfPerS: number;
  transferPerS: number;
}

async function benchRaw(erc20: BuiltContract): Promise<RawResult> {
  const dir = tempDir("rustchain-bench-runtime-raw-");
  const db = await Database.open(join(dir, "chaindata"));
  try {
    const state = new StateDb(defaultStateDbOptions, { db });
    const ws: WorldState = state.overlay(EMPTY_TRIE_ROOT, true);
    const runtime = new ContractRuntime();
    const env: BlockEnv = {
      chainId: 21076n,
      baseFeePerGas: GWEI,
      coinbase: new Uint8Array(20),
      number: 1n,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
    };
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    const ctxFor = (origin: Uint8Array, to: Uint8Array): TxContext => ({
      ws,
      env,
      origin,
      logs: [],
      warmAddresses: new Set([hex(origin), hex(to), hex(env.coinbase)]),
      warmSlots: new Set(),
    });
    const K = 100;
    const holders = Array.from({ length: K }, (_, i) =>
      keccak256(new TextEncoder().encode(`rustchain-bench-runtime-holder-${i}`)).slice(12),
    );
    const deployer = devAccounts[0].address;
    const data = hexToBytes(
      encodeDeployData({ abi: erc20.abi, bytecode: erc20.bytecode, args: ["Bench", "BNCH", 18, SUPPLY] }),
    );
    const dep = await runtime.deploy(
      ctxFor(deployer, deployer),
      { caller: deployer, value: 0n, gas: 50_000_000n, depth: 0 },
      data,
      0n,
    );
    if (dep.result.status !== "success") throw new Error(`raw: deploy ${dep.result.status}: ${dep.result.reason}`);
    const token = dep.address;
    const call = async (caller: Uint8Array, calldata: Uint8Array) => {
      const r = await runtime.call(ctxFor(caller, token), {
        caller,
        address: token,
        value: 0n,
        calldata,
        gas: 1_000_000n,
        depth: 0,
      });
      if (r.status !== "success") throw new Error(`raw: call ${r.status}: ${r.reason ?? bytesToHex(r.returnData)}`);
      return r;
    };
    // Not timed: give every holder tokens (and touch every slot once, so RocksDB is out of the measured loop).
    const each = 1_000_000n * TOKEN;
    for (const h of holders) await call(deployer, transferData(bytesToHex(h) as Hex, each));

    const balanceOfData = holders.map((h) =>
      hexToBytes(encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [bytesToHex(h) as Hex] })),
    );
    const transfers = holders.map((_, i) => transferData(bytesToHex(holders[(i + 1) % K]) as Hex, 1n));
    // Warm-up (V8 tiers up the module and the host code).
    for (let i = 0; i < Math.min(500, RAW_CALLS); i++) await call(deployer, balanceOfData[i % K]);

    let gas = 0n;
    let t = performance.now();
    for (let i = 0; i < RAW_CALLS; i++) {
      const r = await call(deployer, balanceOfData[i % K]);
      gas += 1_000_000n - r.gasLeft;
    }
    const balMs = performance.now() - t;
    const balGas = Number(gas) / RAW_CALLS;
    gas = 0n;
    t = performance.now();
    for (let i = 0; i < RAW_CALLS; i++) {
      const r = await call(holders[i % K], transfers[i % K]);
      gas += 1_000_000n - r.gasLeft;
    }
    const trMs = performance.now() - t;
    const trGas = Number(gas) / RAW_CALLS;

    // Check: balances conserved and as expected.
    const sent = new Array<bigint>(K).fill(0n);
    for (let i = 0; i < RAW_CALLS; i++) {
      sent[i % K] -= 1n;
      sent[(i + 1) % K] += 1n;
    }
    let wrong = 0;
    for (let i = 0; i < K; i++) {
      const r = await call(deployer, balanceOfData[i]);
      const v = decodeFunctionResult({
        abi: erc20Abi,
        functionName: "balanceOf",
        data: bytesToHex(r.returnData) as Hex,
      });
      if (v !== each + sent[i]) wrong++;
    }
    if (wrong > 0) throw new Error(`raw: ${wrong} holder balances wrong after the transfers`);
    const res = { balanceOfPerS: RAW_CALLS / (balMs / 1000), transferPerS: RAW_CALLS / (trMs / 1000) };
    console.log(
      `[raw] ContractRuntime.call on a WorldState overlay (StateDb over RocksDB in a tmpdir), ${RAW_CALLS} calls each:`,
    );
    console.log(
      `[raw]   balanceOf: ${fmt(res.balanceOfPerS)} calls/s (${fmt((balMs * 1000) / RAW_CALLS, 1)} us/call, ` +
        `${fmt(balGas)} gas/call)`,
    );
    console.log(
      `[raw]   transfer:  ${fmt(res.transferPerS)} calls/s (${fmt((trMs * 1000) / RAW_CALLS, 1)} us/call, ` +
        `${fmt(trGas)} gas/call); ${K} holders, balances verified; module cache hits=${runtime.cache.hits} misses=${runtime.cache.misses}`,
    );
    return res;
  } finally {
    await db.close();
    removeTempDir(dir);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Part 3: metering overhead

const UNLIMITED_GAS = 1n << 62n;

interface Timing {
  plainMs: number;
  meteredMs: number;
}

/** Alternate plain and instrumented runs ROUNDS times after a warm-up; the best time of each. */
async function timePair(plain: () => unknown, metered: () => unknown): Promise<Timing> {
  plain();
  metered();
  let plainMs = Number.POSITIVE_INFINITY;
  let meteredMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    const a = plain();
    plainMs = Math.min(plainMs, performance.now() - t);
    t = performance.now();
    const b = metered();
    meteredMs = Math.min(meteredMs, performance.now() - t);
    if (a !== b) throw new Error(`metering: plain and instrumented results differ (${String(a)} vs ${String(b)})`);
    await sleep(0);
  }
  return { plainMs, meteredMs };
}

async function benchKernels(): Promise<number> {
  const wasm = await compileKernel();
  const plainMod = new WebAssembly.Module(wasm);
  const instrumented = instrumentModule(wasm, meteringOptions);
  const meteredMod = new WebAssembly.Module(instrumented);
  const plain = new WebAssembly.Instance(plainMod, {});
  const metered = new WebAssembly.Instance(meteredMod, {});
  const gas = metered.exports[GAS_EXPORT] as WebAssembly.Global;
  console.log(
    `[metering] compute kernels: ${wasm.length} B plain, ${instrumented.length} B instrumented` +
      ` (clang -O2 --target=wasm32 -mcpu=mvp)`,
  );
  const logRatios: number[] = [];
  for (const k of KERNELS) {
    const fp = plain.exports[k] as (n: number) => number;
    const fm = metered.exports[k] as (n: number) => number;
    // Calibrate on a throwaway instance (the kernels keep state in memory: plain and instrumented must run the same
    // sequence of calls to give the same results): iterations for about METERING_MS of plain time.
    const probe = new WebAssembly.Instance(plainMod, {}).exports[k] as (n: number) => number;
    let iters = 1;
    for (;;) {
      const t = performance.now();
      probe(iters);
      const ms = performance.now() - t;
      if (ms >= METERING_MS / 4 || iters >= 1 << 24) {
        iters = Math.max(1, Math.round((iters * METERING_MS) / Math.max(ms, 0.01)));
        break;
      }
      iters *= 4;
    }
    let gasUsed = 0n;
    const runMetered = () => {
      gas.value = UNLIMITED_GAS;
      const r = fm(iters);
      gasUsed = (UNLIMITED_GAS - (gas.value as bigint)) / INK_PER_GAS; // the meter counts ink
      return r;
    };
    const t = await timePair(() => fp(iters), runMetered);
    const ratio = t.meteredMs / t.plainMs;
    logRatios.push(Math.log(ratio));
    console.log(
      `[metering]   ${k.padEnd(9)} iters=${iters}: plain ${t.plainMs.toFixed(1)} ms, instrumented ${t.meteredMs.toFixed(1)} ms,` +
        ` ratio ${ratio.toFixed(2)} (${fmt(Number(gasUsed) / 1e6, 1)} M gas, ${fmt(Number(gasUsed) / (t.meteredMs * 1e3), 0)} M gas/s)`,
    );
  }
  const geo = Math.exp(logRatios.reduce((a, b) => a + b, 0) / logRatios.length);
  console.log(`[metering]   compute geometric mean: instrumented/plain = ${geo.toFixed(2)}`);
  return geo;
}

/** Synchronous stand-ins for the host API: in-memory storage, no gas accounting beyond the module's own. */
function stubHost(memory: () => WebAssembly.Memory, calldata: () => Uint8Array, caller: Uint8Array) {
  const storage = new Map<string, Uint8Array>();
  const mem = () => new Uint8Array(memory().buffer);
  const zero32 = new Uint8Array(32);
  class Exit {
    constructor(readonly ok: boolean) {}
  }
  const imports: Record<string, (...args: never[]) => unknown> = {
    calldata_size: () => calldata().length,
    calldata_copy: (dest: number, off: number, len: number) => mem().set(calldata().subarray(off, off + len), dest),
    finish: () => {
      throw new Exit(true);
    },
    revert: () => {
      throw new Exit(false);
    },
    storage_read: (k: number, out: number) => {
      const m = mem();
      m.set(storage.get(Buffer.from(m.subarray(k, k + 32)).toString("hex")) ?? zero32, out);
    },
    storage_write: (k: number, v: number) => {
      const m = mem();
      storage.set(Buffer.from(m.subarray(k, k + 32)).toString("hex"), m.slice(v, v + 32));
    },
    caller: (out: number) => mem().set(caller, out),
    origin: (out: number) => mem().set(caller, out),
    self_address: (out: number) => mem().fill(0x11, out, out + 20),
    call_value: (out: number) => mem().fill(0, out, out + 32),
    block_number: () => 1n,
    block_timestamp: () => 1n,
    chain_id: () => 21076n,
    gas_left: () => UNLIMITED_GAS,
    emit_log: () => {},
    keccak256: (p: number, len: number, out: number) => {
      const m = mem();
      m.set(keccak256(m.slice(p, p + len)), out);
    },
  };
  return { imports, storage, Exit };
}

async function benchErc20Metering(erc20: BuiltContract): Promise<number> {
  const plainMod = new WebAssembly.Module(erc20.module);
  const meteredMod = new WebAssembly.Module(instrumentModule(erc20.module, meteringOptions));
  const caller = devAccounts[0].address;
  const to = devAccounts[1].hex;
  const ctor = hexToBytes(encodeDeployData({ abi: erc20.abi, bytecode: "0x", args: ["B", "B", 18, SUPPLY] }));
  const transfer = transferData(to, 1n);
  const balanceOf = hexToBytes(encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [to] }));
  const calls = 2000;
  const make = (mod: WebAssembly.Module, metered: boolean) => {
    let memory: WebAssembly.Memory | undefined;
    let calldata = ctor;
    const host = stubHost(
      () => memory as WebAssembly.Memory,
      () => calldata,
      caller,
    );
    const imports: Record<string, unknown> = {};
    for (const imp of WebAssembly.Module.imports(mod)) {
      const fn = imp.module === "rustchain" ? host.imports[imp.name] : undefined;
      if (!fn) throw new Error(`metering: no stub for import ${imp.module}.${imp.name}`);
      imports[imp.name] = fn;
    }
    const invoke = (entry: "call" | "deploy", data: Uint8Array): boolean => {
      calldata = data;
      const inst = new WebAssembly.Instance(mod, { rustchain: imports as WebAssembly.ModuleImports });
      memory = inst.exports.memory as WebAssembly.Memory;
      if (metered) (inst.exports[GAS_EXPORT] as WebAssembly.Global).value = UNLIMITED_GAS;
      try {
        (inst.exports[entry] as () => void)();
        return true;
      } catch (e) {
        if (e instanceof host.Exit) return e.ok;
        throw e;
      }
    };
    if (!invoke("deploy", ctor)) throw new Error("metering: ERC-20 deploy reverted with stub host");
    return () => {
      let ok = 0;
      for (let i = 0; i < calls; i++) if (invoke("call", i % 2 === 0 ? transfer : balanceOf)) ok++;
      if (ok !== calls) throw new Error(`metering: ${calls - ok} ERC-20 calls failed with stub host`);
      return ok;
    };
  };
  const t = await timePair(make(plainMod, false), make(meteredMod, true));
  const ratio = t.meteredMs / t.plainMs;
  // Instantiation alone (a fresh instance per call frame, as ContractRuntime does), for scale.
  const instantiate = (mod: WebAssembly.Module) => {
    const imports = Object.fromEntries(WebAssembly.Module.imports(mod).map((i) => [i.name, () => 0]));
    return () => {
      for (let i = 0; i < calls; i++) new WebAssembly.Instance(mod, { rustchain: imports });
      return calls;
    };
  };
  const inst = await timePair(instantiate(plainMod), instantiate(meteredMod));
  console.log(
    `[metering] ERC-20 with stub host imports (${calls} calls, transfer/balanceOf alternating, fresh instance each):` +
      ` plain ${fmt((t.plainMs * 1000) / calls, 1)} us/call, instrumented ${fmt((t.meteredMs * 1000) / calls, 1)} us/call,` +
      ` ratio ${ratio.toFixed(2)}; of which instantiation alone: plain ${fmt((inst.plainMs * 1000) / calls, 1)} us,` +
      ` instrumented ${fmt((inst.meteredMs * 1000) / calls, 1)} us`,
  );
  return ratio;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  hardStop(TIMEOUT_MS + 10 * 60_000, "bench:runtime: hard time limit reached, cleaning up");
  console.log(
    `bench:runtime parts=${[...PARTS].join(",")} txs=${N} senders=${SENDERS} batch=${BATCH} concurrency=${CONCURRENCY}` +
      ` raw-calls=${RAW_CALLS} maxFee=${MAX_FEE / GWEI} gwei tip=${TIP / GWEI} gwei`,
  );
  const built = await buildContracts({ only: ["erc20"] });
  const erc20 = built.erc20;
  let rc = 0;
  let tps = Number.NaN;
  let raw = Number.NaN;
  let overhead = Number.NaN;
  const part = async (name: string, f: () => Promise<void>) => {
    if (!PARTS.has(name)) return;
    try {
      await f();
    } catch (e) {
      console.error(`[${name}] FAILED: ${(e as Error).stack ?? e}`);
      rc = 1;
    }
  };
  await part("erc20", async () => {
    tps = (await benchErc20(erc20)).tps;
  });
  await part("raw", async () => {
    raw = (await benchRaw(erc20)).transferPerS;
  });
  await part("metering", async () => {
    overhead = await benchKernels();
    await benchErc20Metering(erc20);
  });
  console.log(`runtime erc20_tps=${fmt(tps)} raw_calls_per_s=${fmt(raw)} metering_overhead=${fmt(overhead, 2)}`);
  return rc;
}

process.exitCode = await main();
