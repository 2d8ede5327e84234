// Nanoseconds per wasm instruction class (bench/gasCalibration.ts, part "wasm"). Each microbenchmark is a loop whose
// body repeats one pattern R times, as a dependent chain (each instruction waits for the previous one's result, the
// slowest way to run it); the time per pattern is the difference between R = 128 and R = 32, which cancels the loop
// itself. A pattern is measured plain and instrumented (the runtime's metering code): straight-line patterns form one
// basic block per loop body and cost the same both ways, while block-ending patterns pay the meter once per basic
// block, which gives the meter's own cost.
//
// The class costs are then solved in order: local first (a pattern of local moves), then alu, then each other class
// from its pattern minus the local and alu instructions and basic blocks it also contains.
import { instrumentModule, UNIT_COSTS } from "../../validator/src/runtime/wasm/instrument.ts";
import { encodeModule, sleb, T } from "./wasmEncoder.ts";

/** Instruction classes of validator/src/runtime/gasSchedule.ts, plus the meter's cost per basic block. */
export type TimedClass =
  | "perBlock"
  | "local"
  | "global"
  | "alu"
  | "mul"
  | "div"
  | "load"
  | "store"
  | "branch"
  | "brTable"
  | "call"
  | "callIndirect"
  | "memorySize"
  | "memoryGrow";

interface Pattern {
  name: string;
  /** The class this pattern measures. */
  measures: Exclude<TimedClass, "perBlock">;
  body: number[];
  /** How many instructions of each class one repetition executes (callee bodies included). */
  counts: Partial<Record<TimedClass, number>>;
  /** Basic blocks one repetition adds (0 for straight-line code). */
  blocks: number;
}

// Locals of `run(n, seed)`: 0 n, 1 seed (i32 params), 2 a, 3 b, 4 c (i32), 5 x, 6 y (i64). They all derive from
// `seed` (3, from the caller), so the compiler cannot fold the chains: b = seed, c = seed >> 8 = 0, a = seed,
// x = y = seed as i64.
const [N, SEED, A, B, C, X, Y] = [0, 1, 2, 3, 4, 5, 6];
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32c = (v: number) => [0x41, ...sleb(v)];
const i64c = (v: bigint) => [0x42, ...sleb(v)];
const chain = (head: number[], steps: number[][], tail: number[]) => [...head, ...steps.flat(), ...tail];

const ALU32 = [0x6a, 0x73, 0x77, 0x6b, 0x74, 0x76, 0x72, 0x6a]; // add xor rotl sub shl shr_u or add
const ALU64 = [0x7c, 0x85, 0x89, 0x7d, 0x86, 0x88, 0x84, 0x7c];

export const PATTERNS: Pattern[] = [
  {
    name: "local moves",
    measures: "local",
    body: [...get(A), ...set(B), ...get(B), ...set(A)],
    counts: { local: 4 },
    blocks: 0,
  },
  {
    name: "i32 alu chain",
    measures: "alu",
    body: chain(
      get(A),
      ALU32.map((op) => [...get(B), op]),
      set(A),
    ),
    counts: { local: 10, alu: 8 },
    blocks: 0,
  },
  {
    name: "i64 alu chain",
    measures: "alu",
    body: chain(
      get(X),
      ALU64.map((op) => [...get(Y), op]),
      set(X),
    ),
    counts: { local: 10, alu: 8 },
    blocks: 0,
  },
  {
    name: "compare + select",
    measures: "alu",
    body: [...get(A), ...get(B), ...get(A), ...get(B), 0x49, 0x1b, ...set(A)],
    counts: { local: 5, alu: 2 },
    blocks: 0,
  },
  {
    name: "i32.mul chain",
    measures: "mul",
    body: chain(
      get(A),
      Array.from({ length: 8 }, () => [...get(B), 0x6c]),
      set(A),
    ),
    counts: { local: 10, mul: 8 },
    blocks: 0,
  },
  {
    name: "i64.mul chain",
    measures: "mul",
    body: chain(
      get(X),
      Array.from({ length: 8 }, () => [...get(Y), 0x7e]),
      set(X),
    ),
    counts: { local: 10, mul: 8 },
    blocks: 0,
  },
  {
    name: "i32.div_u chain",
    measures: "div",
    body: chain(
      get(A),
      Array.from({ length: 4 }, () => [...i32c(0x40000000), 0x72, ...get(B), 0x6e]),
      set(A),
    ),
    counts: { local: 10, alu: 4, div: 4 },
    blocks: 0,
  },
  {
    name: "i64.div_u chain",
    measures: "div",
    body: chain(
      get(X),
      Array.from({ length: 4 }, () => [...i64c(1n << 62n), 0x84, ...get(Y), 0x80]),
      set(X),
    ),
    counts: { local: 10, alu: 4, div: 4 },
    blocks: 0,
  },
  {
    name: "i64.div_s chain",
    measures: "div",
    body: chain(
      get(X),
      Array.from({ length: 4 }, () => [...i64c(1n << 62n), 0x84, ...get(Y), 0x7f]),
      set(X),
    ),
    counts: { local: 10, alu: 4, div: 4 },
    blocks: 0,
  },
  {
    name: "i64.rem_u chain",
    measures: "div",
    body: chain(
      get(X),
      Array.from({ length: 4 }, () => [...i64c(1n << 62n), 0x84, ...get(Y), 0x82]),
      set(X),
    ),
    counts: { local: 10, alu: 4, div: 4 },
    blocks: 0,
  },
  {
    name: "i32.load chain",
    measures: "load",
    body: [...get(A), 0x28, 0x02, 0x00, ...set(A)],
    counts: { local: 2, load: 1 },
    blocks: 0,
  },
  {
    name: "i64.load chain",
    measures: "load",
    body: [...get(A), 0x29, 0x03, 0x00, 0xa7, ...set(A)],
    counts: { local: 2, load: 1, alu: 1 },
    blocks: 0,
  },
  {
    name: "i32.store",
    measures: "store",
    body: [...get(C), ...get(A), 0x36, 0x02, 0x00],
    counts: { local: 2, store: 1 },
    blocks: 0,
  },
  {
    name: "i64.store",
    measures: "store",
    body: [...get(C), ...get(X), 0x37, 0x03, 0x00],
    counts: { local: 2, store: 1 },
    blocks: 0,
  },
  {
    name: "global.get/set chain",
    measures: "global",
    body: [0x23, 0, ...i32c(1), 0x6a, 0x24, 0],
    counts: { global: 2, local: 1, alu: 1 },
    blocks: 0,
  },
  {
    // block; br_if 0 (not taken); end: three basic blocks (after block, after br_if, after end).
    name: "br_if not taken",
    measures: "branch",
    body: [0x02, 0x40, ...get(C), 0x0d, 0, 0x0b],
    counts: { local: 3, branch: 1 },
    blocks: 3,
  },
  {
    name: "br_if taken",
    measures: "branch",
    body: [0x02, 0x40, ...get(B), 0x0d, 0, ...get(A), ...set(B), 0x0b],
    counts: { local: 3, branch: 1 },
    blocks: 3,
  },
  {
    name: "if/else",
    measures: "branch",
    body: [...get(A), 0x04, 0x40, ...get(B), ...set(C), 0x05, ...get(B), ...set(B), 0x0b],
    counts: { local: 5, branch: 1 },
    blocks: 3,
  },
  {
    // Alternating targets by the loop counter's parity: an indirect jump the predictor cannot learn cheaply.
    name: "br_table",
    measures: "brTable",
    body: [0x02, 0x40, 0x02, 0x40, ...get(N), ...i32c(1), 0x71, 0x0e, 0x01, 0x00, 0x01, 0x0b, 0x0b],
    counts: { local: 5, alu: 1, brTable: 1 },
    blocks: 4,
  },
  {
    // Callee: local.get 0; end (its entry is a basic block, and it runs the instrumentation's stack check).
    name: "call",
    measures: "call",
    body: [...get(A), 0x10, 0x00, ...set(A)],
    counts: { local: 4, call: 1 },
    blocks: 2,
  },
  {
    name: "call_indirect",
    measures: "callIndirect",
    body: [...get(A), ...i32c(0), 0x11, 0x00, 0x00, ...set(A)],
    counts: { local: 5, callIndirect: 1 },
    blocks: 2,
  },
  {
    name: "memory.size",
    measures: "memorySize",
    body: [0x3f, 0x00, ...get(A), 0x6a, ...set(A)],
    counts: { local: 2, alu: 1, memorySize: 1 },
    blocks: 0,
  },
  {
    // memory.grow 0 (never changes the memory); instrumented it is a call to __grow, which charges the page price.
    name: "memory.grow 0",
    measures: "memoryGrow",
    body: [...i32c(0), 0x40, 0x00, ...get(A), 0x6a, ...set(A)],
    counts: { local: 3, alu: 1, memoryGrow: 1 },
    blocks: 0,
  },
];

export function patternModule(p: Pattern, reps: number): Uint8Array {
  const init = [
    ...[...get(SEED), ...set(A), ...get(SEED), ...set(B), ...get(SEED), ...i32c(8), 0x76, ...set(C)],
    ...[...get(SEED), 0xad, ...set(X), ...get(SEED), 0xad, ...set(Y)],
  ];
  const loop = [
    0x03,
    0x40,
    ...Array.from({ length: reps }, () => p.body).flat(),
    ...get(N),
    ...i32c(1),
    0x6b,
    0x22,
    N,
    0x0d,
    0,
    0x0b,
  ];
  const result = [
    ...get(A),
    0xad,
    ...get(X),
    0x7c,
    ...get(Y),
    0x7c,
    ...get(B),
    0xad,
    0x7c,
    ...get(C),
    0xad,
    0x7c,
    0x0b,
  ];
  return encodeModule({
    types: [
      [[T.i32], [T.i32]],
      [[T.i32, T.i32], [T.i64]],
    ],
    functions: [
      { type: 0, body: [...get(0), 0x0b] },
      {
        type: 1,
        locals: [
          [3, T.i32],
          [2, T.i64],
        ],
        body: [...init, ...loop, ...result],
      },
    ],
    globals: [[T.i32, 0n]],
    table: [0],
    exports: [
      ["run", 1],
      ["call", 0],
    ],
  });
}

const METER_OPTIONS = { maxStackHeight: 1024, pageCost: 0n, costs: UNIT_COSTS };
const NO_LIMIT = 1n << 62n;

/** A runner of `run(iters)` on a fresh instance, returning ns per loop iteration. */
function runner(bytes: Uint8Array, metered: boolean, iters: number): () => number {
  const inst = new WebAssembly.Instance(
    new WebAssembly.Module(metered ? instrumentModule(bytes, METER_OPTIONS) : bytes),
  );
  const run = inst.exports.run as (n: number, seed: number) => bigint;
  const gas = inst.exports.__gas_left as WebAssembly.Global | undefined;
  return () => {
    if (gas) gas.value = NO_LIMIT;
    const t = process.hrtime.bigint();
    run(iters, 3);
    return Number(process.hrtime.bigint() - t) / iters;
  };
}

const LOW = 32;
const HIGH = 128;

export interface PatternTiming {
  name: string;
  measures: string;
  plainNs: number;
  meteredNs: number;
}

/**
 * ns per repetition of each pattern, plain and metered, in this process's tier configuration: the best of `rounds`
 * interleaved runs of about `runMs` each (the best filters out the other processes of a shared machine).
 */
export function timePatterns(runMs: number, rounds: number): PatternTiming[] {
  return PATTERNS.map((p) => {
    const lo = patternModule(p, LOW);
    const hi = patternModule(p, HIGH);
    let iters = 16;
    for (;;) {
      const ns = runner(hi, false, iters)() * iters;
      if (ns > runMs * 2e5 || iters > 1 << 24) {
        iters = Math.max(16, Math.round((iters * runMs * 1e6) / ns));
        break;
      }
      iters *= 4;
    }
    const per = (metered: boolean) => {
      const [runLo, runHi] = [runner(lo, metered, iters), runner(hi, metered, iters)];
      // Warm up: V8 tiers a hot function up for its next call, never inside one (wasm has no on-stack replacement).
      for (let i = 0; i < 3; i++) {
        runLo();
        runHi();
      }
      let [bestLo, bestHi] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
      for (let r = 0; r < rounds; r++) {
        bestLo = Math.min(bestLo, runLo());
        bestHi = Math.min(bestHi, runHi());
      }
      return Math.max(0, (bestHi - bestLo) / (HIGH - LOW));
    };
    return { name: p.name, measures: p.measures, plainNs: per(false), meteredNs: per(true) };
  });
}

/** Classes whose instrumented form runs extra code of its own: call and call_indirect enter and leave (stack height),
 * memory.grow calls __grow. */
const EXTRA_WHEN_METERED = new Set<TimedClass>(["call", "callIndirect", "memoryGrow"]);

/**
 * Solve the class costs, ns per instruction (and per basic block for the meter's code), from the pattern timings:
 * an instruction's own cost from the plain timing, the meter's per block from what instrumenting adds to the
 * branching patterns, and for calls and memory.grow also what instrumenting adds to them beyond their blocks.
 */
export function solveClasses(timings: PatternTiming[]): Record<TimedClass, number> {
  const byName = new Map(timings.map((t) => [t.name, t]));
  const timing = (p: Pattern) => byName.get(p.name) as PatternTiming;
  const cost: Partial<Record<TimedClass, number>> = {};
  cost.perBlock = Math.max(
    ...PATTERNS.filter((p) => p.blocks > 0 && !EXTRA_WHEN_METERED.has(p.measures)).map(
      (p) => Math.max(0, timing(p).meteredNs - timing(p).plainNs) / p.blocks,
    ),
  );
  const order: Exclude<TimedClass, "perBlock">[] = [
    "local",
    "alu",
    "global",
    "mul",
    "div",
    "load",
    "store",
    "branch",
    "brTable",
    "call",
    "callIndirect",
    "memorySize",
    "memoryGrow",
  ];
  for (const cls of order) {
    let worst = 0;
    for (const p of PATTERNS.filter((x) => x.measures === cls)) {
      const t = timing(p);
      let own = t.plainNs;
      for (const [other, n] of Object.entries(p.counts) as [TimedClass, number][]) {
        if (other !== cls) own -= n * (cost[other] ?? 0);
      }
      if (EXTRA_WHEN_METERED.has(cls))
        own += Math.max(0, t.meteredNs - t.plainNs - p.blocks * (cost.perBlock as number));
      worst = Math.max(worst, own / (p.counts[cls] as number));
    }
    cost[cls] = Math.max(worst, 0);
  }
  return cost as Record<TimedClass, number>;
}

/**
 * memory.grow: the cost per page (grown by one page at a time up to the 64-page limit, with a write to each 4 KiB of
 * it, which makes the kernel supply it), and the cost per growing frame of a one-page contract: a grown instance
 * cannot be reused (a memory never shrinks), so a frame that grows pays a fresh instance later, and dropping the
 * old memory. Measured as a loop { instantiate a one-page module; grow it by one page and write it }, minus a page.
 */
export function timeGrowth(rounds: number): { perPageNs: number; growingFrameNs: number } {
  const bytes = encodeModule({
    types: [[[T.i32], [T.i32]]],
    functions: [
      {
        // grow(k): repeat k times { p = memory.grow(1); touch every 4 KiB of page p }; returns the last p.
        type: 0,
        locals: [[2, T.i32]],
        body: [
          ...[0x03, 0x40, ...i32c(1), 0x40, 0x00, ...set(1), ...i32c(0), ...set(2)],
          ...[0x03, 0x40, ...get(1), ...i32c(16), 0x74, ...get(2), ...i32c(12), 0x74, 0x6a, ...i32c(1)],
          ...[0x36, 0x00, 0x00, ...get(2), ...i32c(1), 0x6a, 0x22, 2, ...i32c(16), 0x49, 0x0d, 0, 0x0b],
          ...[...get(0), ...i32c(1), 0x6b, 0x22, 0, 0x0d, 0, 0x0b, ...get(1), 0x0b],
        ],
      },
    ],
    exports: [["grow", 0]],
  });
  const mod = new WebAssembly.Module(bytes);
  const grow = (k: number) => (new WebAssembly.Instance(mod).exports.grow as (k: number) => number)(k);
  let perPage = Number.POSITIVE_INFINITY;
  let frame = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds + 2; r++) {
    const n = 20;
    let t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) grow(63);
    const pageNs = Number(process.hrtime.bigint() - t) / (n * 63);
    t = process.hrtime.bigint();
    for (let i = 0; i < 50 * n; i++) grow(1);
    const frameNs = Number(process.hrtime.bigint() - t) / (50 * n);
    if (r >= 2) {
      perPage = Math.min(perPage, pageNs);
      frame = Math.min(frame, frameNs - pageNs);
    }
  }
  return { perPageNs: perPage, growingFrameNs: frame };
}
