// Metering instrumentation (docs/runtime.md, "Metering"): rewrites a validated contract module so that it charges gas
// per basic block, bounds its call depth, charges for memory growth, can never grow its memory past the limit, and can
// be reset to its initial globals so that one instance serves many calls.
//
// What the output contains, besides the original code:
// - two mutable globals appended after the existing ones (so no global index shifts), exported as
//   `__gas_left` (i64: the meter, in the units of `InstrumentOptions.costs`; the host sets it before a call and reads
//   it after) and `__stack_height` (i32, starts at 0);
// - at the start of every basic block: `meter -= cost; if (meter < 0) unreachable`, cost from `basicBlockCosts`;
// - in every function: on entry `stack += 1; if (stack > maxStackHeight) unreachable`, and `stack -= 1` before each
//   `return` and at the end of the body. The body is wrapped in a `block` of the function's result type so that
//   branches to the function's own label (which leave the function just like `return`) also pass the decrement;
// - if the code uses `memory.grow`, a function `__grow(pages: i32) -> i32` appended after the existing ones (no
//   function index shifts) that charges `pageCost × pages` and then grows; every `memory.grow` becomes `call __grow`;
// - a function exported as `__reset_globals` (appended last) that sets every mutable global of the module back to
//   its initial value, and the meter and the stack height to 0. With the memory restored to its initial bytes (the
//   host's job, see instancePool.ts), an instance is then indistinguishable from a fresh one: MVP code cannot change
//   a table, and a module imports nothing but host functions;
// - the memory's maximum capped at `maxMemoryPages`, so `memory.grow` fails (returns -1) beyond it;
// - custom sections dropped, except "name".
// After a trap `__stack_height` is left as it was at the trap: the host resets the instance before reusing it.

import { WasmError } from "./errors.ts";
import {
  decodeFunctionBody,
  type FunctionBody,
  I32,
  I64,
  Op,
  type ParsedModule,
  parseModule,
  SECTION_ORDER,
  SectionId,
  WasmReader,
} from "./wasmReader.ts";

/**
 * What the meter charges, in its own units (the runtime's are ink, `INK_PER_GAS` per gas: gasSchedule.ts). Costs are
 * integers below 2^31 each.
 */
export interface InstructionCosts {
  /** The cost of each single-byte opcode (prefixed opcodes are rejected by validation). */
  readonly perOpcode: ArrayLike<number>;
  /** Charged once per basic block on top of its instructions: the metering code itself runs there. */
  readonly perBlock: number;
}

/** One unit per instruction and nothing per block: the simplest schedule, for tests of the instrumentation itself. */
export const UNIT_COSTS: InstructionCosts = Object.freeze({
  perOpcode: Object.freeze(new Array<number>(256).fill(1)),
  perBlock: 0,
});

export interface InstrumentOptions {
  /** Deepest allowed call stack, in wasm frames. */
  maxStackHeight: number;
  /** Meter units charged per 64 KiB page requested by `memory.grow`. */
  pageCost: bigint;
  /** Meter units charged per instruction and per basic block. */
  costs: InstructionCosts;
  /** The memory's maximum is capped to this many pages (default 64). */
  maxMemoryPages?: number;
}

export const GAS_EXPORT = "__gas_left";
export const STACK_EXPORT = "__stack_height";
export const RESET_EXPORT = "__reset_globals";
export const GROW_FUNCTION_NAME = "__grow";

/** Opcodes after which a new basic block starts: control flow, calls and traps. */
const ENDS_BASIC_BLOCK = new Uint8Array(256);
for (const op of [
  Op.block,
  Op.loop,
  Op.if,
  Op.else,
  Op.end,
  Op.br,
  Op.brIf,
  Op.brTable,
  Op.return,
  Op.call,
  Op.callIndirect,
  Op.unreachable,
]) {
  ENDS_BASIC_BLOCK[op] = 1;
}

/**
 * The static cost of every basic block of a function body: `costs.perBlock` plus the cost of each of its instructions.
 *
 * A basic block starts at the function entry and right after every `block`, `loop`, `if`, `else`, `end`, `br`,
 * `br_if`, `br_table`, `return`, `call`, `call_indirect` and `unreachable`: exactly the places where execution can
 * arrive other than from the previous instruction (branch targets are just after `loop`, `end` and `else`, and a
 * call returns just after itself) or where it may stop going on. The block runs up to and including the next such
 * instruction, so every instruction of the body belongs to exactly one block, and the block's cost is its number of
 * instructions (at least 1, because each block contains at least the instruction that ends it; the body's final `end`
 * ends the last one). The cost is charged on entry to the block, before any of its instructions runs. Metering
 * instructions added by `instrumentModule` are priced by `perBlock`, not counted, and `memory.grow` is priced as an
 * instruction (the page price is charged separately, by `__grow`).
 *
 * Returns, for each instruction index, the cost of the block that starts there, or 0 where no block starts (with
 * UNIT_COSTS, the block's number of instructions). Costs are exact integers (a block of at most 2^17 instructions of
 * at most 2^31 each stays far below 2^53).
 */
export function basicBlockCosts(ops: Uint8Array, costs: InstructionCosts = UNIT_COSTS): Float64Array {
  const out = new Float64Array(ops.length);
  const perOpcode = costs.perOpcode;
  let start = 0;
  let sum = costs.perBlock;
  for (let i = 0; i < ops.length; i++) {
    sum += perOpcode[ops[i]] as number;
    if (ENDS_BASIC_BLOCK[ops[i]] === 1 || i === ops.length - 1) {
      out[start] = sum;
      start = i + 1;
      sum = costs.perBlock;
    }
  }
  return out;
}

function checkCosts(costs: InstructionCosts): void {
  const ok = (x: number) => Number.isInteger(x) && x >= 0 && x < 2 ** 31;
  if (costs.perOpcode.length !== 256 || !Array.from(costs.perOpcode).every(ok) || !ok(costs.perBlock)) {
    invalidOptions("instruction costs must be 256 per-opcode and one per-block integers in [0, 2^31)");
  }
}

/** A growable byte buffer with LEB128 writers. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(b: ArrayLike<number>): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  u32(n: number): this {
    let v = n >>> 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.u8(v === 0 ? b : b | 0x80);
    } while (v !== 0);
    return this;
  }

  s64(n: bigint): this {
    let v = BigInt.asIntN(64, n);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.u8(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  s32(n: number): this {
    return this.s64(BigInt(n | 0));
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** Appends `content` with a u32 length prefix. */
  sized(content: ByteWriter): this {
    return this.u32(content.length).bytes(content.finish());
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function invalidOptions(reason: string): never {
  throw new WasmError({ code: "WASM_INVALID_OPTIONS", reason });
}

/** The vector entries of a section after its count. */
function vectorEntries(m: ParsedModule, id: number): { count: number; entries: Uint8Array } {
  const s = m.sections.find((x) => x.id === id);
  if (s === undefined) return { count: 0, entries: new Uint8Array(0) };
  const r = new WasmReader(m.bytes, s.contentStart, s.end);
  const count = r.u32();
  return { count, entries: m.bytes.subarray(r.pos, s.end) };
}

/**
 * Rewrites a validated contract module with gas metering, a call-depth limit and priced memory growth (see the
 * comment at the top of this file). The result passes `WebAssembly.validate`.
 */
export function instrumentModule(bytes: Uint8Array, opts: InstrumentOptions): Uint8Array {
  const maxStack = opts.maxStackHeight;
  const maxPages = opts.maxMemoryPages ?? 64;
  if (!Number.isInteger(maxStack) || maxStack < 1 || maxStack > 0x7fffffff) {
    invalidOptions(`maxStackHeight must be an integer in [1, 2^31), got ${maxStack}`);
  }
  // pages < 2^32, so pages × pageCost stays below 2^63 when pageCost < 2^31.
  if (opts.pageCost < 0n || opts.pageCost >= 1n << 31n)
    invalidOptions(`pageCost must be in [0, 2^31), got ${opts.pageCost}`);
  checkCosts(opts.costs);
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > 65536) {
    invalidOptions(`maxMemoryPages must be an integer in [0, 65536], got ${maxPages}`);
  }

  const m = parseModule(bytes);
  for (const e of m.exports) {
    if (e.name === GAS_EXPORT || e.name === STACK_EXPORT || e.name === RESET_EXPORT)
      throw new WasmError({ code: "WASM_RESERVED_EXPORT", name: e.name });
  }
  const decoded = m.code.map((body) => decodeFunctionBody(bytes, body));
  const usesGrow = decoded.some((d) => d.ops.includes(Op.memoryGrow));

  const gasGlobal = m.importedGlobals + m.globals.length;
  const stackGlobal = gasGlobal + 1;
  const growFunction = m.importedFunctions + m.functions.length;
  const resetFunction = growFunction + (usesGrow ? 1 : 0);
  const growType = m.types.length;
  const resetType = growType + (usesGrow ? 1 : 0);

  // Snippets, built once.
  const meter = (w: ByteWriter, cost: number) => {
    if (cost === 0) return;
    w.u8(Op.globalGet).u32(gasGlobal).u8(Op.i64Const).s64(BigInt(cost)).u8(0x7d); // i64.sub
    w.u8(Op.globalSet).u32(gasGlobal);
    chargeCheck(w);
  };
  const chargeCheck = (w: ByteWriter) => {
    w.u8(Op.globalGet).u32(gasGlobal).u8(Op.i64Const).s64(0n).u8(0x53); // i64.lt_s
    w.u8(Op.if).u8(0x40).u8(Op.unreachable).u8(Op.end);
  };
  const enter = new ByteWriter();
  enter.u8(Op.globalGet).u32(stackGlobal).u8(Op.i32Const).s32(1).u8(0x6a); // i32.add
  enter.u8(Op.globalSet).u32(stackGlobal);
  enter.u8(Op.globalGet).u32(stackGlobal).u8(Op.i32Const).s32(maxStack).u8(0x4b); // i32.gt_u
  enter.u8(Op.if).u8(0x40).u8(Op.unreachable).u8(Op.end);
  const enterBytes = enter.finish();
  const leave = new ByteWriter();
  leave.u8(Op.globalGet).u32(stackGlobal).u8(Op.i32Const).s32(1).u8(0x6b); // i32.sub
  leave.u8(Op.globalSet).u32(stackGlobal);
  const leaveBytes = leave.finish();

  const instrumentBody = (body: FunctionBody, ops: Uint8Array, offsets: Uint32Array): ByteWriter => {
    const costs = basicBlockCosts(ops, opts.costs);
    const type = m.types[m.functions[body.functionIndex - m.importedFunctions]];
    const w = new ByteWriter();
    w.bytes(bytes.subarray(body.start, body.codeStart)); // local declarations
    w.bytes(enterBytes);
    w.u8(Op.block).u8(type.results.length === 0 ? 0x40 : type.results[0]);
    const last = ops.length - 1; // the function's final end
    for (let i = 0; i <= last; i++) {
      if (costs[i] > 0) meter(w, costs[i]);
      const op = ops[i];
      if (i === last) break;
      if (op === Op.return) w.bytes(leaveBytes);
      if (op === Op.memoryGrow) w.u8(Op.call).u32(growFunction);
      else w.bytes(bytes.subarray(offsets[i], offsets[i + 1]));
    }
    w.u8(Op.end); // closes the wrapper block: the original final end
    w.bytes(leaveBytes);
    w.u8(Op.end);
    return w;
  };

  const growBody = (): ByteWriter => {
    const w = new ByteWriter();
    w.u32(0); // no locals
    w.u8(Op.globalGet).u32(gasGlobal);
    w.u8(Op.localGet).u32(0).u8(0xad); // i64.extend_i32_u
    w.u8(Op.i64Const).s64(opts.pageCost).u8(0x7e); // i64.mul
    w.u8(0x7d); // i64.sub
    w.u8(Op.globalSet).u32(gasGlobal);
    chargeCheck(w);
    w.u8(Op.localGet).u32(0).u8(Op.memoryGrow).u8(0x00);
    w.u8(Op.end);
    return w;
  };

  const resetBody = (): ByteWriter => {
    const w = new ByteWriter();
    w.u32(0); // no locals
    m.globals.forEach((g, i) => {
      if (!g.type.mutable) return;
      w.bytes(bytes.subarray(g.init.start, g.init.end - 1)); // the constant expression without its `end`
      w.u8(Op.globalSet).u32(m.importedGlobals + i);
    });
    w.u8(Op.i64Const).s64(0n).u8(Op.globalSet).u32(gasGlobal);
    w.u8(Op.i32Const).s32(0).u8(Op.globalSet).u32(stackGlobal);
    w.u8(Op.end);
    return w;
  };

  const content = (id: number): ByteWriter | null => {
    switch (id) {
      case SectionId.type: {
        const { count, entries } = vectorEntries(m, id);
        const w = new ByteWriter().u32(count + (usesGrow ? 2 : 1)).bytes(entries);
        if (usesGrow) w.bytes([0x60, 1, I32, 1, I32]);
        return w.bytes([0x60, 0, 0]);
      }
      case SectionId.function: {
        const { count, entries } = vectorEntries(m, id);
        const w = new ByteWriter().u32(count + (usesGrow ? 2 : 1)).bytes(entries);
        if (usesGrow) w.u32(growType);
        return w.u32(resetType);
      }
      case SectionId.memory: {
        const w = new ByteWriter().u32(m.memories.length);
        for (const mem of m.memories) {
          const max = Math.max(mem.min, Math.min(mem.max ?? maxPages, maxPages));
          w.u8(1).u32(mem.min).u32(max);
        }
        return w;
      }
      case SectionId.global: {
        const { count, entries } = vectorEntries(m, id);
        return new ByteWriter()
          .u32(count + 2)
          .bytes(entries)
          .bytes([I64, 1, Op.i64Const, 0, Op.end])
          .bytes([I32, 1, Op.i32Const, 0, Op.end]);
      }
      case SectionId.export: {
        const { count, entries } = vectorEntries(m, id);
        return new ByteWriter()
          .u32(count + 3)
          .bytes(entries)
          .name(GAS_EXPORT)
          .u8(3)
          .u32(gasGlobal)
          .name(STACK_EXPORT)
          .u8(3)
          .u32(stackGlobal)
          .name(RESET_EXPORT)
          .u8(0)
          .u32(resetFunction);
      }
      case SectionId.code: {
        const w = new ByteWriter().u32(m.code.length + (usesGrow ? 2 : 1));
        m.code.forEach((body, i) => {
          w.sized(instrumentBody(body, decoded[i].ops, decoded[i].offsets));
        });
        if (usesGrow) w.sized(growBody());
        w.sized(resetBody());
        return w;
      }
      default:
        return null;
    }
  };

  const out = new ByteWriter();
  out.bytes(bytes.subarray(0, 8));
  for (const id of SECTION_ORDER) {
    const s = m.sections.find((x) => x.id === id);
    const c = content(id);
    if (c === null) {
      if (s !== undefined) out.bytes(bytes.subarray(s.start, s.end));
      continue;
    }
    if (id === SectionId.memory && s === undefined) continue; // no memory to cap
    out.u8(id).sized(c);
  }
  for (const s of m.sections) {
    if (s.id === SectionId.custom && s.name === "name") out.bytes(bytes.subarray(s.start, s.end));
  }
  return out.finish().slice();
}
