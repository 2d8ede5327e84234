// `npm run bench:gas`: measures what each priced operation of the contract runtime costs in time, and what the gas
// schedule (validator/src/runtime/gasSchedule.ts) makes of it at TARGET_GAS_PER_SECOND. docs/runtime.md's tables come
// from this script's output.
//
// 1. wasm: nanoseconds per instruction class and per basic block of metering (bench/support/instructionTimings.ts),
//    in two child processes, one with V8's baseline compiler only (--liftoff-only) and one with its optimizing
//    compiler only (--no-liftoff). A contract runs Liftoff code until V8 has tiered it up (and a running call never
//    switches), so the price of a class follows the slower of the two. Also memory.grow per page (with a write to
//    each 4 KiB of the new page, which makes the kernel supply it) and the instantiation a grown memory costs later,
//    and the compute kernels' (bench/support/computeKernels.ts) gas per second under the schedule, per tier.
// 2. host: each host function through the real ContractRuntime on a StateDb over RocksDB in a temporary directory:
//    a C contract calls it n times in a loop; (time(n) - time(0)) / n is its cost. Cold storage and accounts are
//    read from the database (a fresh StateDb, no cache in front); storage writes include their share of the block's
//    commit (tries, hashing, the RocksDB batch). Also a whole frame (the top-level call of an empty contract), and
//    the ERC-20 transfer's gas per second.
// For each item it prints the measured ns, the schedule's price and the gas per second that makes, and the price the
// target rate would give. A rate above the target means the item is priced for more time than it takes (safe); below
// means a block of it would take longer than the target says.
//
// Ends with one line:
//   gas_calibration target_gas_per_s=<rate> worst_instruction_gas_per_s=<slowest class, either tier>
//     worst_host_gas_per_s=<slowest host item> kernels_gas_per_s=<geomean, slower tier> erc20_gas_per_s=<transfer>
//
// Options: --only wasm,host (a subset), --rounds R (best of R runs per measurement, 9), --run-ms MS (one timed run of
// an instruction pattern, 5). The machine's other load only makes figures slower: run it twice, keep the better.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import {
  bigintToBytes32,
  concatBytes,
  hexToBytes,
  keccak256,
  type Log,
  logsBloom,
  rlpEncode,
  signHash,
} from "@rustchain/shared";
import { encodeDeployData, encodeFunctionData, erc20Abi } from "viem";
import { buildContracts, CLANG_FLAGS, SDK_HEADER } from "../contracts/build.ts";
import { Database, WriteBatch } from "../validator/src/db/database.ts";
import type { BlockEnv } from "../validator/src/runtime/blockEnv.ts";
import { ContractRuntime, type TxContext } from "../validator/src/runtime/contractRuntime.ts";
import {
  Gas,
  INK_PER_GAS,
  instructionClass,
  meteringOptions,
  TARGET_GAS_PER_SECOND,
  WasmInk,
} from "../validator/src/runtime/gasSchedule.ts";
import { GAS_EXPORT, instrumentModule } from "../validator/src/runtime/wasm/instrument.ts";
import { validateModule } from "../validator/src/runtime/wasm/validateModule.ts";
import { EMPTY_TRIE_ROOT } from "../validator/src/state/account.ts";
import { defaultStateDbOptions, StateDb, type WorldState } from "../validator/src/state/stateDb.ts";
import { intOpt } from "./support/cli.ts";
import { compileKernel, KERNELS } from "./support/computeKernels.ts";
import { solveClasses, type TimedClass, timeGrowth, timePatterns } from "./support/instructionTimings.ts";
import { removeTempDir, tempDir } from "./support/processes.ts";

const { values: opts } = parseArgs({
  options: {
    only: { type: "string", default: "wasm,host" },
    rounds: { type: "string", default: "9" },
    "run-ms": { type: "string", default: "5" },
    child: { type: "string" },
  },
});
const ROUNDS = intOpt("rounds", opts.rounds, 1);
const RUN_MS = intOpt("run-ms", opts["run-ms"], 1);
const PARTS = new Set(opts.only.split(",").map((s) => s.trim()));
for (const p of PARTS) if (!["wasm", "host"].includes(p)) throw new Error(`--only: unknown part ${p}`);

const NS_PER_GAS = 1e9 / TARGET_GAS_PER_SECOND;
const INK = Number(INK_PER_GAS);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
/** Gas per second an item makes: its price over its time. */
const rate = (gas: number, ns: number) => (ns > 0 ? (gas / ns) * 1e9 : Number.POSITIVE_INFINITY);
const mgs = (gasPerS: number) => (Number.isFinite(gasPerS) ? `${fmt(gasPerS / 1e6)} M` : "inf");

// ---------------------------------------------------------------------------------------------------------------
// Part 1: wasm instructions, per tier (child processes)

interface TierResult {
  classes: Record<TimedClass, number>;
  growth: { perPageNs: number; growingFrameNs: number };
  /** Kernel → [gas used, ns] under the schedule. */
  kernels: Record<string, [number, number]>;
}

async function tierChild(): Promise<void> {
  const timings = timePatterns(RUN_MS, ROUNDS);
  const classes = solveClasses(timings);
  const growth = timeGrowth(Math.max(3, Math.ceil(ROUNDS / 3)));
  const wasm = await compileKernel();
  const inst = new WebAssembly.Instance(new WebAssembly.Module(instrumentModule(wasm, meteringOptions)), {});
  const gas = inst.exports[GAS_EXPORT] as WebAssembly.Global;
  const kernels: Record<string, [number, number]> = {};
  for (const k of KERNELS) {
    const f = inst.exports[k] as (n: number) => number;
    let iters = 1;
    const once = () => {
      gas.value = 1n << 62n;
      const t = process.hrtime.bigint();
      f(iters);
      return [Number((1n << 62n) - (gas.value as bigint)) / INK, Number(process.hrtime.bigint() - t)] as [
        number,
        number,
      ];
    };
    while (once()[1] < 20e6 && iters < 1 << 24) iters *= 2;
    let best = once();
    for (let r = 0; r < ROUNDS; r++) {
      const x = once();
      if (x[1] < best[1]) best = x;
    }
    kernels[k] = best;
  }
  process.stdout.write(`${JSON.stringify({ classes, growth, kernels, timings })}\n`);
}

const run = promisify(execFile);

async function tier(flag: string): Promise<TierResult> {
  const self = fileURLToPath(import.meta.url);
  const args = [
    flag,
    "--import",
    "tsx",
    self,
    "--child",
    "wasm",
    "--rounds",
    String(ROUNDS),
    "--run-ms",
    String(RUN_MS),
  ];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 << 20, timeout: 15 * 60_000 });
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as TierResult;
}

const CLASS_LABEL: Record<TimedClass, string> = {
  perBlock: "per basic block (the meter)",
  local: "local/const/drop/block/end",
  global: "global.get/set",
  alu: "i32/i64 alu, compare, select",
  mul: "i32/i64 mul",
  div: "i32/i64 div, rem",
  load: "loads",
  store: "stores",
  branch: "br, br_if, if, return",
  brTable: "br_table",
  call: "call",
  callIndirect: "call_indirect",
  memorySize: "memory.size",
  memoryGrow: "memory.grow (per call)",
};

interface WasmSummary {
  worstInstructionRate: number;
  kernelsRate: number;
}

async function benchWasm(): Promise<WasmSummary> {
  console.log("[wasm] instruction classes: ns per instruction, liftoff-only and turbofan-only child processes");
  const [lift, turbo] = [await tier("--liftoff-only"), await tier("--no-liftoff")];
  console.log(
    `[wasm]   ${"class".padEnd(30)} ${"liftoff ns".padStart(10)} ${"turbofan ns".padStart(11)}` +
      ` ${"ink now".padStart(8)} ${"M gas/s".padStart(9)} ${"ink at target".padStart(13)}`,
  );
  let worst = Number.POSITIVE_INFINITY;
  const classes = Object.keys(CLASS_LABEL) as TimedClass[];
  for (const c of classes) {
    const ns = Math.max(lift.classes[c], turbo.classes[c]);
    const ink: number = WasmInk[c];
    // memory.grow is priced for the fresh instance its grown memory costs later, on top of the instruction.
    const nsPriced = c === "memoryGrow" ? ns + Math.max(lift.growth.growingFrameNs, turbo.growth.growingFrameNs) : ns;
    const r = rate(ink / INK, nsPriced);
    if (c !== "local") worst = Math.min(worst, r);
    console.log(
      `[wasm]   ${CLASS_LABEL[c].padEnd(30)} ${fmt(lift.classes[c], 3).padStart(10)} ${fmt(turbo.classes[c], 3).padStart(11)}` +
        ` ${String(ink).padStart(8)} ${mgs(r).padStart(9)} ${fmt((nsPriced / NS_PER_GAS) * INK).padStart(13)}`,
    );
  }
  for (const [name, t] of [
    ["liftoff", lift],
    ["turbofan", turbo],
  ] as const) {
    console.log(
      `[wasm]   memory.grow, ${name}: ${fmt(t.growth.perPageNs / 1000, 1)} us per page (grown and written),` +
        ` a growing frame's fresh instance ${fmt(t.growth.growingFrameNs / 1000, 1)} us; ${Gas.memoryGrowPage} gas/page =` +
        ` ${mgs(rate(Number(Gas.memoryGrowPage), t.growth.perPageNs))} gas/s`,
    );
  }
  const geo = (t: TierResult) =>
    Math.exp(
      Object.values(t.kernels)
        .map(([g, ns]) => Math.log(rate(g, ns)))
        .reduce((a, b) => a + b, 0) / KERNELS.length,
    );
  for (const k of KERNELS) {
    const [gl, nl] = lift.kernels[k] as [number, number];
    const [gt, nt] = turbo.kernels[k] as [number, number];
    console.log(
      `[wasm]   kernel ${k.padEnd(9)} liftoff ${mgs(rate(gl, nl))} gas/s, turbofan ${mgs(rate(gt, nt))} gas/s` +
        ` (${fmt(gt / 1e6, 1)} M gas in ${fmt(nt / 1e6, 1)} ms)`,
    );
  }
  const kernelsRate = Math.min(geo(lift), geo(turbo));
  console.log(`[wasm]   kernels geometric mean: liftoff ${mgs(geo(lift))} gas/s, turbofan ${mgs(geo(turbo))} gas/s`);
  return { worstInstructionRate: worst, kernelsRate };
}

// ---------------------------------------------------------------------------------------------------------------
// Part 2: host functions through the runtime

// calldata: [op][n: u24 LE][len: u24 LE][base: u32 LE][arg][target: 20 bytes] then, for secp256k1_recover, the
// hash (32) at 32 and the signature (65) at 64. The loop runs n times with key = base + i (big-endian in a word).
const CALIBRATOR_C = `
static uint8_t buf[8192];
static const uint8_t zero[32];
RC_EXPORT("call") void call(void) {
  uint8_t in[160] = {0};
  uint32_t size = (uint32_t)rc_host_calldata_size();
  rc_host_calldata_copy(in, 0, size < 160 ? size : 160);
  uint32_t op = in[0];
  uint32_t n = in[1] | (uint32_t)in[2] << 8 | (uint32_t)in[3] << 16;
  uint32_t len = in[4] | (uint32_t)in[5] << 8 | (uint32_t)in[6] << 16;
  uint32_t base = in[7] | (uint32_t)in[8] << 8 | (uint32_t)in[9] << 16 | (uint32_t)in[10] << 24;
  uint8_t arg = in[11];
  const uint8_t *target = in + 12;
  uint8_t key[32] = {0}, word[32] = {0}, out[32], addr[20];
  for (int j = 0; j < 20; j++) addr[j] = target[j];
  word[31] = arg;
  uint32_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = base + i;
    key[28] = (uint8_t)(k >> 24); key[29] = (uint8_t)(k >> 16); key[30] = (uint8_t)(k >> 8); key[31] = (uint8_t)k;
    addr[16] = key[28]; addr[17] = key[29]; addr[18] = key[30]; addr[19] = key[31];
    switch (op) {
      case 0: acc += key[31]; break;
      case 1: rc_host_caller(out); acc += out[0]; break;
      case 2: acc += (uint32_t)rc_host_block_number(); break;
      case 3: rc_host_calldata_copy(buf, 0, len); break;
      case 4: rc_host_storage_read(key, out); acc += out[31]; break;
      case 5: rc_host_storage_read(zero, out); acc += out[31]; break;
      case 6: rc_host_storage_write(key, word); break;
      case 7: rc_host_emit_log(buf, arg, buf, len); break;
      case 8: rc_host_keccak256(buf, len, out); acc += out[0]; break;
      case 9: rc_host_blake3(buf, len, out); acc += out[0]; break;
      case 10: rc_host_sha256(buf, len, out); acc += out[0]; break;
      case 11: rc_host_balance(addr, out); acc += out[31]; break;
      case 12: rc_host_balance(target, out); acc += out[31]; break;
      case 13: acc += (uint32_t)rc_host_call(target, zero, 0, buf, len); break;
      case 14: acc += (uint32_t)rc_host_call(addr, zero, 0, buf, len); break;
      case 15: rc_host_code_hash(target, out); acc += out[0]; break;
      case 16: acc += (uint32_t)rc_host_secp256k1_recover(in + 32, in + 64, out); break;
      case 17: rc_host_ai_matmul_i8((const int8_t *)buf, (const int8_t *)buf, (int32_t *)(buf + 4096), len, len, len); break;
      case 18: rc_host_ai_relu_i8((int8_t *)buf, len); break;
      case 19: acc += (uint32_t)rc_host_gas_left(); break;
      case 20: rc_host_storage_write(zero, word); word[31] ^= 1; break;
      case 21: acc += (uint32_t)rc_host_call(target, zero, 1, buf, len); break;
      case 22: acc += (uint32_t)rc_host_call(target, zero, 2000, buf, len); break;
    }
  }
  rc_host_finish(&acc, 4);
}`;

const CALLEE_C = `RC_EXPORT("call") void call(void) {}`;
const TRAPPER_C = `RC_EXPORT("call") void call(void) { __builtin_trap(); }`;

async function compileC(dir: string, name: string, source: string): Promise<Uint8Array> {
  const src = join(dir, `${name}.c`);
  const out = join(dir, `${name}.wasm`);
  await writeFile(src, `#include "${SDK_HEADER}"\n${source}`);
  await run(process.env.CLANG ?? "clang", [...CLANG_FLAGS, "-o", out, src], { timeout: 60_000 });
  return new Uint8Array(await readFile(out));
}

const address = (n: number) => {
  const a = new Uint8Array(20);
  a[0] = 0xca;
  new DataView(a.buffer).setUint32(16, n);
  return a;
};
const CAL = address(0xffff_fff0);
const EMPTY = new Uint8Array(0);
const CALLEE = address(0xffff_fff1);
const TRAPPER = address(0xffff_fff2);
/** Accounts holding the empty callee's code, at address(i) for i < COLD_ACCOUNTS (cold calls and balances). */
const COLD_ACCOUNTS = 4096;
/** Storage slots of CAL set to 1 in the database: 0 .. SLOTS-1. */
const SLOTS = 8192;

interface HostItem {
  name: string;
  ns: number;
  gas: number;
  /** What the price also pays for besides time (state growth, data every node keeps). */
  note?: string;
}

interface Harness {
  call(calldata: Uint8Array, opts?: { fresh?: boolean; warm?: Uint8Array[] }): Promise<{ ns: number; gas: number }>;
  commitNs(write: (ws: WorldState) => Promise<void>): Promise<number>;
}

async function makeHarness(dir: string, runtime: ContractRuntime): Promise<Harness & { close(): Promise<void> }> {
  const db = await Database.open(join(dir, "chaindata"));
  const state = new StateDb(defaultStateDbOptions, { db });
  const calibrator = await compileC(dir, "calibrator", CALIBRATOR_C);
  const callee = await compileC(dir, "callee", CALLEE_C);
  const trapper = await compileC(dir, "trapper", TRAPPER_C);
  const env: BlockEnv = { chainId: 21076n, baseFeePerGas: 1n, coinbase: new Uint8Array(20), number: 1n, timestamp: 1n };
  const install = async (ws: WorldState, a: Uint8Array, code: Uint8Array) => {
    const acc = await ws.getAccount(a);
    acc.nonce = 1n;
    acc.balance = 1n;
    ws.setAccount(a, acc);
    await ws.setCode(a, code);
  };
  let root = EMPTY_TRIE_ROOT;
  const commit = async (ws: WorldState) => {
    const batch = new WriteBatch();
    root = await ws.commit(batch, true);
    await db.write(batch);
    state.onHeadCommitted(ws.accountUpdates);
  };
  const setup = state.overlay(root, false);
  await install(setup, CAL, calibrator);
  await install(setup, CALLEE, callee);
  await install(setup, TRAPPER, trapper);
  for (let i = 0; i < COLD_ACCOUNTS; i++) await install(setup, address(i), callee);
  for (let i = 0; i < SLOTS; i++) await setup.setStorage(CAL, bigintToBytes32(BigInt(i)), bigintToBytes32(1n));
  await commit(setup);
  const GAS = 1_000_000_000n;
  return {
    async call(calldata, o = {}) {
      // A fresh StateDb has no account cache: cold accounts come from RocksDB. (Its trie node cache is empty too, which
      // only the commit uses: commitNs runs on the harness's own StateDb, whose node cache holds the tries.)
      const ws = (o.fresh ? new StateDb(defaultStateDbOptions, { db }) : state).overlay(root, true);
      const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
      const ctx: TxContext = {
        ws,
        env,
        origin: CALLEE,
        logs: [],
        warmAddresses: new Set([hex(CAL), ...(o.warm ?? []).map(hex)]),
        warmSlots: new Set(),
      };
      const t = process.hrtime.bigint();
      const r = await runtime.call(ctx, { caller: CALLEE, address: CAL, value: 0n, calldata, gas: GAS, depth: 0 });
      const ns = Number(process.hrtime.bigint() - t);
      if (r.status !== "success") throw new Error(`host: calibrator call ${r.status}: ${r.reason}`);
      return { ns, gas: Number(GAS - r.gasLeft) };
    },
    async commitNs(write) {
      const ws = state.overlay(root, true);
      await write(ws);
      const t = process.hrtime.bigint();
      await commit(ws);
      return Number(process.hrtime.bigint() - t);
    },
    close: () => db.close(),
  };
}

function calldata(op: number, n: number, o: { len?: number; base?: number; arg?: number; target?: Uint8Array } = {}) {
  const d = new Uint8Array(160);
  const v = new DataView(d.buffer);
  d[0] = op;
  v.setUint32(1, n, true);
  v.setUint32(4, o.len ?? 0, true);
  v.setUint32(7, o.base ?? 0, true);
  d[11] = o.arg ?? 0;
  d.set(o.target ?? CALLEE, 12);
  return d;
}

async function benchHost(): Promise<{ worstHostRate: number; erc20Rate: number }> {
  const dir = tempDir("rustchain-bench-gas-");
  const runtime = new ContractRuntime();
  const h = await makeHarness(dir, runtime);
  const items: HostItem[] = [];
  try {
    /** Per-operation ns and gas of `op`: (time(n) - time(0)) / n, best of ROUNDS; gas likewise. */
    const perOp = async (
      op: number,
      n: number,
      o: { len?: number; base?: (r: number) => number; arg?: number; target?: Uint8Array; fresh?: boolean } = {},
    ) => {
      let best = Number.POSITIVE_INFINITY;
      let gas = 0;
      for (let r = 0; r < ROUNDS + 1; r++) {
        const base = o.base?.(r) ?? 0;
        const zero = await h.call(calldata(0, n, { base }), { fresh: o.fresh });
        const full = await h.call(calldata(op, n, { ...o, base }), { fresh: o.fresh });
        if (r === 0) continue; // warm-up
        best = Math.min(best, (full.ns - zero.ns) / n);
        gas = (full.gas - zero.gas) / n;
      }
      return { ns: best, gas };
    };
    const add = (name: string, m: { ns: number; gas: number }, note?: string) => {
      items.push({ name, ns: m.ns, gas: m.gas, note });
      console.log(
        `[host]   ${name.padEnd(40)} ${fmt(m.ns, 0).padStart(8)} ns ${fmt(m.gas, 1).padStart(9)} gas` +
          ` ${mgs(rate(m.gas, m.ns)).padStart(8)} gas/s  target ${fmt(m.ns / NS_PER_GAS).padStart(6)} gas${note ? `  (${note})` : ""}`,
      );
    };
    console.log(`[host] host functions through ContractRuntime (StateDb over RocksDB), best of ${ROUNDS}:`);

    // A whole frame: the top-level call of the calibrator with nothing to do (instance from the pool, reset, JSPI).
    let frame = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 200; r++) frame = Math.min(frame, (await h.call(calldata(0, 0))).ns);
    add("frame (top-level call, pooled instance)", { ns: frame, gas: 0 }, "the transaction's intrinsic gas pays it");

    add("caller (a host round trip, 20 B out)", await perOp(1, 4000));
    add("block_number (no memory)", await perOp(2, 4000));
    add("gas_left", await perOp(19, 4000));
    const cd32 = await perOp(3, 4000, { len: 32 });
    const cd128 = await perOp(3, 4000, { len: 128 });
    add("calldata_copy 32 B", cd32);
    add("calldata_copy 128 B", cd128);
    add("storage_read cold (RocksDB)", await perOp(4, 1000, { fresh: true }));
    add("storage_read warm", await perOp(5, 4000));
    add("storage_write cold, changed (in-call)", await perOp(6, 1000, { arg: 2, fresh: true }));
    add("storage_write warm, changed (in-call)", await perOp(20, 4000, { arg: 2 }));
    add(
      "storage_write cold, new slot (in-call)",
      await perOp(6, 1000, { arg: 2, base: (r) => 1_000_000 + r * 1000, fresh: true }),
    );
    // The commit's share per written slot: tries, hashing, the RocksDB batch (a block pays it once per slot).
    const commitPerSlot = async (fresh: boolean) => {
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < Math.max(3, Math.ceil(ROUNDS / 2)); r++) {
        const base = fresh ? 2_000_000 + r * 2000 : 0;
        const value = bigintToBytes32(BigInt(3 + r));
        const ns = await h.commitNs(async (ws) => {
          for (let i = 0; i < 2000; i++) {
            // As storage_write does: the current value is read (and cached by the overlay) before the write.
            const slot = bigintToBytes32(BigInt(base + i));
            await ws.getStorage(CAL, slot);
            await ws.setStorage(CAL, slot, value);
          }
        });
        best = Math.min(best, ns / 2000);
      }
      return best;
    };
    add("commit per changed slot", { ns: await commitPerSlot(false), gas: 0 }, "in the write's price");
    add("commit per new slot", { ns: await commitPerSlot(true), gas: 0 }, "in the write's price");
    const log0 = await perOp(7, 2000, { arg: 0, len: 0 });
    const log4 = await perOp(7, 2000, { arg: 4, len: 0 });
    const log4k = await perOp(7, 500, { arg: 4, len: 4096 });
    // What a log costs the block besides the call: its bloom bits (keccak256 of the address and each topic) and its
    // RLP in the receipt (encoded for the receipts root and again for storage).
    const blockSide = (topics: number) => {
      const log: Log = {
        address: CAL,
        topics: Array.from({ length: topics }, () => new Uint8Array(32).fill(7)),
        data: EMPTY,
      };
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < ROUNDS; r++) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < 1000; i++) {
          logsBloom([log]);
          rlpEncode([log.address, log.topics, log.data]);
          rlpEncode([log.address, log.topics, log.data]);
        }
        best = Math.min(best, Number(process.hrtime.bigint() - t) / 1000);
      }
      return best;
    };
    const [bloom0, bloom4] = [blockSide(0), blockSide(4)];
    add("emit_log 0 topics, 0 B, with its bloom and receipt RLP", { ns: log0.ns + bloom0, gas: log0.gas });
    add("emit_log 4 topics, 0 B, with its bloom and receipt RLP", { ns: log4.ns + bloom4, gas: log4.gas });
    add("emit_log 4 topics, 4 KiB", log4k, "receipts keep the data");
    for (const [name, op] of [
      ["keccak256", 8],
      ["blake3", 9],
      ["sha256", 10],
    ] as const) {
      add(`${name} 32 B`, await perOp(op, 4000, { len: 32 }));
      add(`${name} 4 KiB`, await perOp(op, 500, { len: 4096 }));
    }
    add("balance cold (RocksDB)", await perOp(11, 1000, { fresh: true }));
    add("balance warm", await perOp(12, 4000));
    add("code_hash warm", await perOp(15, 4000));
    add("call warm (empty callee, pooled)", await perOp(13, 2000));
    add("call cold (empty callee, account from RocksDB)", await perOp(14, 1000, { fresh: true }));
    // The trapping callee is given 2,000 gas, about the least that lets it reach its trap (its first page costs 1,000),
    // and consumes it all.
    add("call warm, callee traps (unreachable)", await perOp(22, 1000, { target: TRAPPER }));
    add("call warm with 1 gas (callee out of gas)", await perOp(21, 1000));
    // secp256k1_recover of a valid signature.
    const hash = keccak256(new TextEncoder().encode("calibration"));
    const sig = signHash(hash, new Uint8Array(32).fill(7));
    const sigBytes = concatBytes(bigintToBytes32(sig.r), bigintToBytes32(sig.s), Uint8Array.of(sig.yParity));
    const recover = async () => {
      let best = Number.POSITIVE_INFINITY;
      let gas = 0;
      for (let r = 0; r < ROUNDS + 1; r++) {
        const withSig = (op: number) => {
          const d = calldata(op, 200);
          d.set(hash, 32);
          d.set(sigBytes, 64);
          return d;
        };
        const zero = await h.call(withSig(0));
        const full = await h.call(withSig(16));
        if (r === 0) continue;
        best = Math.min(best, (full.ns - zero.ns) / 200);
        gas = (full.gas - zero.gas) / 200;
      }
      return { ns: best, gas };
    };
    add("secp256k1_recover", await recover());
    add("ai_matmul_i8 32x32x32 (32768 MAC)", await perOp(17, 100, { len: 32 }));
    add("ai_relu_i8 4096", await perOp(18, 1000, { len: 4096 }));

    // Deploying: validation, instrumentation and compilation of the module, per byte (the ERC-20's module).
    const { erc20 } = await buildContracts({ only: ["erc20"] });
    let deployNs = Number.POSITIVE_INFINITY;
    for (let r = 0; r < ROUNDS + 1; r++) {
      const t = process.hrtime.bigint();
      validateModule(erc20.module);
      new WebAssembly.Module(instrumentModule(erc20.module, meteringOptions));
      if (r > 0) deployNs = Math.min(deployNs, Number(process.hrtime.bigint() - t) / erc20.module.length);
    }
    add("deploy: validate + instrument + compile, per byte", { ns: deployNs, gas: Number(Gas.compilePerByte) });

    // The ERC-20's transfer: gas per second of its execution (the calldata and intrinsic gas are not the runtime's).
    const erc20Rate = await benchErc20Rate(runtime, dir);
    const timeItems = items.filter((i) => i.gas > 0 && !i.note);
    const worst = timeItems.reduce((a, i) => Math.min(a, rate(i.gas, i.ns)), Number.POSITIVE_INFINITY);
    const worstItem = timeItems.find((i) => rate(i.gas, i.ns) === worst);
    console.log(`[host]   slowest per gas: ${worstItem?.name} at ${mgs(worst)} gas/s`);
    return { worstHostRate: worst, erc20Rate };
  } finally {
    await h.close();
    removeTempDir(dir);
  }
}

async function benchErc20Rate(runtime: ContractRuntime, dir: string): Promise<number> {
  const { erc20 } = await buildContracts({ only: ["erc20"] });
  const db = await Database.open(join(dir, "erc20"));
  try {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, true);
    const env: BlockEnv = {
      chainId: 21076n,
      baseFeePerGas: 1n,
      coinbase: new Uint8Array(20),
      number: 1n,
      timestamp: 1n,
    };
    const owner = address(0xeeee_0001);
    const ctx = (): TxContext => ({ ws, env, origin: owner, logs: [], warmAddresses: new Set(), warmSlots: new Set() });
    const data = hexToBytes(
      encodeDeployData({ abi: erc20.abi, bytecode: erc20.bytecode, args: ["Cal", "CAL", 18, 10n ** 30n] }),
    );
    const dep = await runtime.deploy(ctx(), { caller: owner, value: 0n, gas: 50_000_000n, depth: 0 }, data, 0n);
    if (dep.result.status !== "success") throw new Error(`erc20 deploy: ${dep.result.reason}`);
    const holders = Array.from({ length: 100 }, (_, i) => address(0xeeee_1000 + i));
    const hexOf = (a: Uint8Array) => `0x${Buffer.from(a).toString("hex")}` as const;
    const transfer = (to: Uint8Array) =>
      hexToBytes(encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [hexOf(to), 1n] }));
    const call = (to: Uint8Array) =>
      runtime.call(ctx(), {
        caller: owner,
        address: dep.address,
        value: 0n,
        calldata: transfer(to),
        gas: 1_000_000n,
        depth: 0,
      });
    for (const x of holders) await call(x); // every balance slot exists: changes, not new slots
    let best = 0;
    for (let r = 0; r < ROUNDS; r++) {
      let gas = 0n;
      const t = process.hrtime.bigint();
      for (let i = 0; i < 2000; i++) {
        const res = await call(holders[i % holders.length] as Uint8Array);
        gas += 1_000_000n - res.gasLeft;
      }
      best = Math.max(best, rate(Number(gas), Number(process.hrtime.bigint() - t)));
    }
    console.log(`[host]   ERC-20 transfer execution (cold slots, as in a transaction): ${mgs(best)} gas/s`);
    return best;
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (opts.child === "wasm") return tierChild();
  console.log(
    `bench:gas target ${mgs(TARGET_GAS_PER_SECOND)} gas/s (${fmt(NS_PER_GAS, 2)} ns/gas, ${INK} ink/gas);` +
      ` best of ${ROUNDS}; instruction classes: ${[...new Set(Array.from({ length: 256 }, (_, op) => instructionClass(op)))].length}`,
  );
  let wasm: WasmSummary = { worstInstructionRate: Number.NaN, kernelsRate: Number.NaN };
  let host = { worstHostRate: Number.NaN, erc20Rate: Number.NaN };
  if (PARTS.has("wasm")) wasm = await benchWasm();
  if (PARTS.has("host")) host = await benchHost();
  console.log(
    `gas_calibration target_gas_per_s=${TARGET_GAS_PER_SECOND} worst_instruction_gas_per_s=${fmt(wasm.worstInstructionRate)}` +
      ` worst_host_gas_per_s=${fmt(host.worstHostRate)} kernels_gas_per_s=${fmt(wasm.kernelsRate)}` +
      ` erc20_gas_per_s=${fmt(host.erc20Rate)}`,
  );
}

await main();
