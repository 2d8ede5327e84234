// Metering instrumentation (docs/runtime.md, "Metering"): rewrites a validated contract module so that it charges gas
// per basic block, bounds its call depth, charges for memory growth and can never grow its memory past the limit.
//
// What the output contains, besides the original code:
// - two mutable globals appended after the existing ones (so no global index shifts), exported as
//   `__gas_left` (i64: the host sets it before a call and reads it after) and `__stack_height` (i32, starts at 0);
// - at the start of every basic block: `gas -= cost; if (gas < 0) unreachable`, cost from `basicBlockCosts`;
// - in every function: on entry `stack += 1; if (stack > maxStackHeight) unreachable`, and `stack -= 1` before each
//   `return` and at the end of the body. The body is wrapped in a `block` of the function's result type so that
//   branches to the function's own label (which leave the function just like `return`) also pass the decrement;
// - if the code uses `memory.grow`, a function `__grow(pages: i32) -> i32` appended after the existing ones (no
//   function index shifts) that charges `pageGas × pages` and then grows; every `memory.grow` becomes `call __grow`;
// - the memory's maximum capped at `maxMemoryPages`, so `memory.grow` fails (returns -1) beyond it;
// - custom sections dropped, except "name".
// After a trap `__stack_height` is left as it was at the trap: the host uses a fresh instance per call frame (or
// resets it to 0).

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

export interface InstrumentOptions {
  /** Deepest allowed call stack, in wasm frames. */
  maxStackHeight: number;
  /** Gas charged per 64 KiB page requested by `memory.grow`. */
  pageGas: bigint;
  /** The memory's maximum is capped to this many pages (default 64). */
  maxMemoryPages?: number;
}

export const defaultInstrumentOptions: Readonly<InstrumentOptions> = Object.freeze({
  maxStackHeight: 1024,
  pageGas: 1000n,
  maxMemoryPages: 64,
});

export const GAS_EXPORT = "__gas_left";
export const STACK_EXPORT = "__stack_height";
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
 * The gas schedule of wasm code: the static cost of every basic block of a function body, 1 gas per instruction.
 *
 * A basic block starts at the function entry and right after every `block`, `loop`, `if`, `else`, `end`, `br`,
 * `br_if`, `br_table`, `return`, `call`, `call_indirect` and `unreachable`: exactly the places where execution can
 * arrive other than from the previous instruction (branch targets are just after `loop`, `end` and `else`, and a
 * call returns just after itself) or where it may stop going on. The block runs up to and including the next such
 * instruction, so every instruction of the body belongs to exactly one block, and the block's cost is its number of
 * instructions (at least 1, because each block contains at least the instruction that ends it; the body's final `end`
 * ends the last one). The cost is charged on entry to the block, before any of its instructions runs. Metering
 * instructions added by `instrumentModule` are not counted, and `memory.grow` is counted as one instruction (the page
 * price is charged separately).
 *
 * Returns, for each instruction index, the cost of the block that starts there, or 0 where no block starts.
 */
export function basicBlockCosts(ops: Uint8Array): Uint32Array {
  const costs = new Uint32Array(ops.length);
  let start = 0;
  for (let i = 0; i < ops.length; i++) {
    if (ENDS_BASIC_BLOCK[ops[i]] === 1 || i === ops.length - 1) {
      costs[start] = i - start + 1;
      start = i + 1;
    }
  }
  return costs;
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
export function instrumentModule(bytes: Uint8Array, opts: InstrumentOptions = defaultInstrumentOptions): Uint8Array {
  const maxStack = opts.maxStackHeight;
  const maxPages = opts.maxMemoryPages ?? 64;
  if (!Number.isInteger(maxStack) || maxStack < 1 || maxStack > 0x7fffffff) {
    invalidOptions(`maxStackHeight must be an integer in [1, 2^31), got ${maxStack}`);
  }
  // pages < 2^32, so pages × pageGas stays below 2^63 when pageGas < 2^31.
  if (opts.pageGas < 0n || opts.pageGas >= 1n << 31n)
    invalidOptions(`pageGas must be in [0, 2^31), got ${opts.pageGas}`);
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > 65536) {
    invalidOptions(`maxMemoryPages must be an integer in [0, 65536], got ${maxPages}`);
  }

  const m = parseModule(bytes);
  for (const e of m.exports) {
    if (e.name === GAS_EXPORT || e.name === STACK_EXPORT)
      throw new WasmError({ code: "WASM_RESERVED_EXPORT", name: e.name });
  }
  const decoded = m.code.map((body) => decodeFunctionBody(bytes, body));
  const usesGrow = decoded.some((d) => d.ops.includes(Op.memoryGrow));

  const gasGlobal = m.importedGlobals + m.globals.length;
  const stackGlobal = gasGlobal + 1;
  const growFunction = m.importedFunctions + m.functions.length;
  const growType = m.types.length;

  // Snippets, built once.
  const meter = (w: ByteWriter, cost: number) => {
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
    const costs = basicBlockCosts(ops);
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
    w.u8(Op.i64Const).s64(opts.pageGas).u8(0x7e); // i64.mul
    w.u8(0x7d); // i64.sub
    w.u8(Op.globalSet).u32(gasGlobal);
    chargeCheck(w);
    w.u8(Op.localGet).u32(0).u8(Op.memoryGrow).u8(0x00);
    w.u8(Op.end);
    return w;
  };

  const content = (id: number): ByteWriter | null => {
    switch (id) {
      case SectionId.type: {
        if (!usesGrow) return null;
        const { count, entries } = vectorEntries(m, id);
        return new ByteWriter()
          .u32(count + 1)
          .bytes(entries)
          .bytes([0x60, 1, I32, 1, I32]);
      }
      case SectionId.function: {
        if (!usesGrow) return null;
        const { count, entries } = vectorEntries(m, id);
        return new ByteWriter()
          .u32(count + 1)
          .bytes(entries)
          .u32(growType);
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
          .u32(count + 2)
          .bytes(entries)
          .name(GAS_EXPORT)
          .u8(3)
          .u32(gasGlobal)
          .name(STACK_EXPORT)
          .u8(3)
          .u32(stackGlobal);
      }
      case SectionId.code: {
        const w = new ByteWriter().u32(m.code.length + (usesGrow ? 1 : 0));
        m.code.forEach((body, i) => {
          w.sized(instrumentBody(body, decoded[i].ops, decoded[i].offsets));
        });
        if (usesGrow) w.sized(growBody());
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
    if (id === SectionId.code && s === undefined && !usesGrow) continue; // no functions
    out.u8(id).sized(c);
  }
  for (const s of m.sections) {
    if (s.id === SectionId.custom && s.name === "name") out.bytes(bytes.subarray(s.start, s.end));
  }
  return out.finish().slice();
}
