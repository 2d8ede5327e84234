// The runtime's gas schedule: part of the protocol (every validator must charge exactly this). docs/runtime.md gives
// the reasoning and the measurements behind each price; `npm run bench:gas` (bench/gasCalibration.ts) measures them.
//
// Calibration target: TARGET_GAS_PER_SECOND on the reference machine (the figures quoted here: 2 shared cores of an AMD
// EPYC under KVM, Node 24), i.e. 300 M gas (a devnet block) is at most about one second of execution whatever the
// block runs. Prices that also pay for something other than time (state that is kept forever, data every node stores
// or ships, reads that miss the cache) are above their time price and say so.
//
// The schedule is part of the protocol, and genesis has no fork or version switch for it: changing it is a devnet /
// testnet protocol change (every validator must run the same schedule; an existing chain's blocks would re-execute
// differently), recorded in docs/runtime.md.
import type { InstructionCosts, InstrumentOptions } from "./wasm/instrument.ts";
import { defaultWasmLimits } from "./wasm/validateModule.ts";

/** The gas rate every price is calibrated to: 300 M gas per second, 3.33 ns per gas. */
export const TARGET_GAS_PER_SECOND = 300_000_000;

/**
 * Inside a wasm frame the meter counts ink, a ten-thousandth of a gas (Arbitrum Stylus' name and ratio): one wasm
 * instruction takes a few hundredths of a nanosecond, far below one gas at the target rate, so instructions are priced
 * in ink and host functions in gas. A frame's gas becomes ink on entry and its unspent ink rounds down to gas on exit.
 */
export const INK_PER_GAS = 10_000n;

/**
 * Host-side prices, in gas. The measured time of each (bench/gasCalibration.ts, docs/runtime.md) is at most its price
 * at TARGET_GAS_PER_SECOND; where the price is higher, the comment says what else it pays for.
 */
export const Gas = {
  /** State growth: the code is kept forever (as EVM code deposit). */
  codeDepositPerByte: 200n,
  /** Validation, instrumentation and compilation at deploy: 0.18-0.23 µs per byte. */
  compilePerByte: 80n,
  /** Per page of initial memory, at the start of every frame: restoring a pooled instance's page, 1.5-3 µs. */
  memoryPage: 1_000n,
  /** Per page added by memory.grow: the grow and the kernel's first supply of the page when it is written, 37-62 µs. */
  memoryGrowPage: 20_000n,
  /** A slot read from the database: 4.3-5 µs from RocksDB's cache; the rest of the price is for reads that miss it. */
  storageReadCold: 2_100n,
  /** A slot already read or written in this transaction: 1.1-1.3 µs of host work. */
  storageReadWarm: 500n,
  /** A new slot: the write (1.5 µs) and its share of the block's commit (31-47 µs), and state kept forever. */
  storageWriteNew: 20_000n,
  /** A changed slot: the write (1.8 µs) and its share of the block's commit (tries, hashing, batch): 31-47 µs. */
  storageWriteChange: 12_000n,
  /** The same value again: nothing is written (the overlay keeps no dirty slot), a warm read's work. */
  storageWriteNoop: 500n,
  /**
   * A log: the call (0.7 µs, +0.2 per topic) and the block's work for it, its bloom (keccak256 of the address and of
   * each topic) and its RLP in the receipt: 3.4-4.5 µs with no topic, +1.6 µs per topic. Data is priced as Ethereum's
   * (receipts keep it; the time is 0.7 ns per byte).
   */
  logBase: 1_500n,
  logTopic: 500n,
  logDataByte: 8n,
  /**
   * A call to an account already touched: a frame on a pooled instance (5.6-6.1 µs, with the callee's first page), or
   * one that traps at once (10.6-10.9 µs, the callee's own gas paying its first page and block).
   */
  callWarm: 2_400n,
  /** The first call to an account in this transaction: callWarm and the account read, 11-13.5 µs without a trap. */
  callCold: 4_500n,
  /** Value moved with a call: two account changes kept in state (as Ethereum). */
  callValue: 9_000n,
  /** An account already touched: 0.9-1.35 µs of host work, code_hash 1.5-1.6 µs (it is priced the same). */
  balanceWarm: 600n,
  /** The first touch of an account: 6.4-7.3 µs from RocksDB's cache (also code_hash). */
  balanceCold: 2_600n,
  /** keccak256 and blake3: 1.05-1.35 µs for 32 bytes, 110 ns per further word (blake3 is about twice as fast). */
  hashBase: 400n,
  hashWord: 35n,
  /** A host round trip that moves at most a word: 60-115 ns. */
  hostCall: 40n,
  /** Per word copied between the host and the contract's memory (a memcpy: a few ns). */
  copyWord: 3n,
  mlpLayer: 100n,
  /** 20-25 ms measured (pure-JS BN254 pairings): priced by time at the target rate. */
  groth16Base: 8_000_000n,
  groth16PerInput: 100_000n,
  /** 62.5-65.5 µs (native libsecp256k1, the address's keccak256 and the host round trip). */
  secp256k1Recover: 20_000n,
  /** SHA-256 (@noble/hashes): 1.0-1.15 µs for 32 bytes, 18.2-19.2 µs for 4 KiB (140 ns per further word). */
  sha256Base: 350n,
  sha256Word: 45n,
} as const;

/**
 * Ink per wasm instruction, by class, and per basic block (the metering code that runs at the start of each block).
 * Measured with dependent chains (latency, the slowest way to run each instruction) under both of V8's compilers; a
 * class costs the slower of the two (V8's baseline Liftoff, which runs every function until V8 tiers it up), at
 * 3,000 ink per ns (TARGET_GAS_PER_SECOND). Optimized code, and code whose instructions overlap, runs faster than the
 * target rate, never slower. docs/runtime.md has the measurements.
 */
export const WasmInk = {
  /** Charged at the start of every basic block: the meter's own subtract, compare and branch, 2.1-3.1 ns (Liftoff). */
  perBlock: 7_000,
  /** local.get/set/tee, i32/i64.const, drop, nop, block, loop, else, end: register moves or nothing (a floor). */
  local: 300,
  /** global.get, global.set: 0.7 ns. */
  global: 2_300,
  /** i32/i64 add, sub, bitwise, shifts, rotations, comparisons, eqz, clz, ctz, popcnt, wrap, extend, select: 0.7 ns. */
  alu: 2_300,
  /** i32.mul, i64.mul: 0.82 ns. */
  mul: 2_700,
  /** i32/i64 div_s, div_u, rem_s, rem_u: 4.0-4.3 ns. */
  div: 14_000,
  /** Loads of any width: 1.09 ns. */
  load: 3_600,
  /** Stores of any width: 0.3-0.4 ns. */
  store: 1_400,
  /** br, br_if, if, return: 0.35 ns. */
  branch: 1_200,
  /** br_table (an indirect jump): about 0.5 ns. */
  brTable: 1_800,
  /** call: the callee's entry, its stack-height check and its return, 3.7-3.9 ns. */
  call: 13_000,
  /** call_indirect: a call plus the table bounds and signature checks, 3.5-4.9 ns. */
  callIndirect: 16_000,
  /** memory.size: 0.3 ns. */
  memorySize: 1_000,
  /**
   * memory.grow, on top of `Gas.memoryGrowPage` per page: a grown memory cannot shrink, so the instance cannot be
   * reused and a later frame pays a fresh one (instantiation, and dropping the old memory: 20-70 µs): 30,000 gas.
   */
  memoryGrow: 300_000_000,
  /** unreachable: the trap unwinds the frame through a promise rejection, 5-6 µs: 1,800 gas. */
  unreachable: 18_000_000,
} as const;

export type WasmInstructionClass = Exclude<keyof typeof WasmInk, "perBlock">;

/** The class of a single-byte opcode (validation has rejected everything else). */
export function instructionClass(op: number): WasmInstructionClass {
  if (op === 0x00) return "unreachable";
  if (op <= 0x05 || op === 0x0b || op === 0x1a || (op >= 0x20 && op <= 0x22)) return "local";
  if (op === 0x41 || op === 0x42) return "local"; // i32.const, i64.const
  if (op === 0x0c || op === 0x0d || op === 0x0f) return "branch";
  if (op === 0x0e) return "brTable";
  if (op === 0x10) return "call";
  if (op === 0x11) return "callIndirect";
  if (op === 0x23 || op === 0x24) return "global";
  if (op >= 0x28 && op <= 0x35) return "load";
  if (op >= 0x36 && op <= 0x3e) return "store";
  if (op === 0x3f) return "memorySize";
  if (op === 0x40) return "memoryGrow";
  if (op === 0x6c || op === 0x7e) return "mul";
  if ((op >= 0x6d && op <= 0x70) || (op >= 0x7f && op <= 0x82)) return "div";
  return "alu"; // numeric operators, conversions, sign extension, select (0x1b)
}

/** The schedule of wasm instructions, in ink, for the instrumentation. */
export const WASM_INSTRUCTION_COSTS: InstructionCosts = Object.freeze({
  perOpcode: Object.freeze(Array.from({ length: 256 }, (_, op) => WasmInk[instructionClass(op)])),
  perBlock: WasmInk.perBlock,
});

/** Deepest wasm call stack of one frame, in wasm function frames (deterministic, unlike the engine's own limit). */
export const MAX_STACK_HEIGHT = 1024;

/** How contract code is metered: this schedule, in ink. */
export const meteringOptions: Readonly<InstrumentOptions> = Object.freeze({
  maxStackHeight: MAX_STACK_HEIGHT,
  pageCost: Gas.memoryGrowPage * INK_PER_GAS,
  costs: WASM_INSTRUCTION_COSTS,
  maxMemoryPages: defaultWasmLimits.maxMemoryPages,
});

/** Deepest cross-contract call stack. */
export const MAX_CALL_DEPTH = 64;
/** Largest return/revert data and calldata a frame may produce or receive. */
export const MAX_RETURN_DATA = 128 * 1024;
export const MAX_LOG_DATA = 64 * 1024;
