// A bounded reader for the WebAssembly binary format: the MVP plus the sign-extension operators (and the data count
// section), which is everything RustChain contracts may use.
//
// Every read checks its bounds and every malformed input throws a `WasmError`; nothing here allocates more than the
// input can justify (vector counts are checked against the bytes left), recurses, or loops without consuming input.
// Encodings of post-MVP features the engine would accept but RustChain forbids (SIMD, threads, bulk memory, reference
// types, ...) throw `WASM_FORBIDDEN_OPCODE`: the reader cannot skip them, and it must never decode an instruction
// differently from the engine, because the metering instrumentation rewrites code from this decoding.
// Policy that needs no special decoding (floats, limits, imports, exports) is left to `validateModule`.

import { WasmError } from "./errors.ts";

export { WasmError } from "./errors.ts";

export const WASM_MAGIC = 0x6d736100; // "\0asm" read little-endian
export const WASM_VERSION = 1;

/** Value type codes. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
const V128 = 0x7b;

export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64;

export function valTypeName(t: number): string {
  switch (t) {
    case I32:
      return "i32";
    case I64:
      return "i64";
    case F32:
      return "f32";
    case F64:
      return "f64";
    default:
      return `0x${t.toString(16)}`;
  }
}

export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
} as const;

/** Position of each non-custom section id in the mandatory order (data count sits between element and code). */
const SECTION_RANK: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 7,
  8: 8,
  9: 9,
  12: 10,
  10: 11,
  11: 12,
};
/** Non-custom section ids in their mandatory order. */
export const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface Limits {
  min: number;
  max: number | null;
}

export interface TableType {
  /** Always funcref (0x70): other element types are reference-types features. */
  elemType: number;
  limits: Limits;
}

export interface GlobalType {
  type: ValType;
  mutable: boolean;
}

export type ExternKind = "func" | "table" | "memory" | "global";
const EXTERN_KINDS: readonly ExternKind[] = ["func", "table", "memory", "global"];

export type ImportDesc =
  | { kind: "func"; typeIndex: number }
  | { kind: "table"; table: TableType }
  | { kind: "memory"; memory: Limits }
  | { kind: "global"; global: GlobalType };

export type Import = { module: string; name: string; offset: number } & ImportDesc;

/** A constant expression: one instruction followed by `end`. `[start, end)` covers both. */
export interface ConstExpr {
  /** i32.const, i64.const, f32.const, f64.const or global.get. */
  op: number;
  /** The i32/i64 constant, or the global index of `global.get`; 0n for float constants. */
  value: bigint;
  start: number;
  end: number;
}

export interface Global {
  type: GlobalType;
  init: ConstExpr;
}

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface ElementSegment {
  offset: ConstExpr;
  functions: number[];
}

export interface DataSegment {
  offset: ConstExpr;
  /** Byte range of the segment's contents. */
  start: number;
  end: number;
}

export interface LocalDecl {
  count: number;
  type: ValType;
}

export interface FunctionBody {
  /** Index in the function index space (imported functions come first). */
  functionIndex: number;
  /** Byte range of the body after its size prefix: local declarations, then instructions. */
  start: number;
  end: number;
  /** Offset of the first instruction. */
  codeStart: number;
  locals: LocalDecl[];
  /** Declared locals (parameters not included). */
  localCount: number;
}

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the contents, after the size. */
  contentStart: number;
  end: number;
  /** Custom sections only. */
  name?: string;
}

export interface ParsedModule {
  bytes: Uint8Array;
  sections: Section[];
  types: FuncType[];
  imports: Import[];
  /** Type index of each defined function (not including imported ones). */
  functions: number[];
  tables: TableType[];
  memories: Limits[];
  globals: Global[];
  exports: Export[];
  start: number | null;
  elements: ElementSegment[];
  dataCount: number | null;
  code: FunctionBody[];
  data: DataSegment[];
  importedFunctions: number;
  importedTables: number;
  importedMemories: number;
  importedGlobals: number;
}

function malformed(reason: string, offset?: number): never {
  throw new WasmError({ code: "WASM_MALFORMED", reason, offset });
}

function forbidden(opcode: string, feature: string, offset: number): never {
  throw new WasmError({ code: "WASM_FORBIDDEN_OPCODE", opcode, feature, offset });
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A cursor over `bytes[pos, end)`. */
export class WasmReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (start < 0 || end > bytes.length || start > end) malformed("reader range out of bounds");
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) malformed("unexpected end", this.pos);
    return this.bytes[this.pos++];
  }

  peek(): number {
    if (this.pos >= this.end) malformed("unexpected end", this.pos);
    return this.bytes[this.pos];
  }

  skip(n: number): void {
    if (n < 0 || n > this.end - this.pos) malformed(`${n} bytes needed, ${this.end - this.pos} left`, this.pos);
    this.pos += n;
  }

  take(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, this.pos);
  }

  u32le(): number {
    const b = this.take(4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  /** Unsigned LEB128, at most 5 bytes, value below 2^32. */
  u32(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0xf0) malformed("u32 LEB128 too long or out of range", start);
        return (result + b * 2 ** 28) >>> 0;
      }
      result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return result >>> 0;
    }
    return malformed("unreachable", start);
  }

  /** Signed LEB128, at most 5 bytes, value in the i32 range. */
  i32(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4) {
        // Bits 3..6 of the fifth byte are beyond bit 31 and must be the sign extension of bit 3.
        if (b & 0x80 || ((b & 0x78) !== 0 && (b & 0x78) !== 0x78))
          malformed("i32 LEB128 too long or out of range", start);
        return result | (b << 28);
      }
      result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) {
        const shift = 7 * (i + 1);
        return b & 0x40 ? result | (-1 << shift) : result;
      }
    }
    return malformed("unreachable", start);
  }

  /** Signed LEB128, at most 10 bytes, value in the i64 range. */
  i64(): bigint {
    const start = this.pos;
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      if (i === 9) {
        // Only bit 0 of the tenth byte is bit 63; bits 1..6 must be its sign extension.
        if (b & 0x80 || ((b & 0x7f) !== 0 && (b & 0x7f) !== 0x7f))
          malformed("i64 LEB128 too long or out of range", start);
        return BigInt.asIntN(64, result | (BigInt(b) << 63n));
      }
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        const shift = BigInt(7 * (i + 1));
        return b & 0x40 ? BigInt.asIntN(64, result - (1n << shift)) : result;
      }
    }
    return malformed("unreachable", start);
  }

  /** Validates and skips a signed 64-bit LEB128 without building its value. */
  skipI64(): void {
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      if (i === 9) {
        if (b & 0x80 || ((b & 0x7f) !== 0 && (b & 0x7f) !== 0x7f))
          malformed("i64 LEB128 too long or out of range", start);
        return;
      }
      if ((b & 0x80) === 0) return;
    }
  }

  /** A vector length: every element takes at least `minElementBytes`, so a count the input cannot hold is rejected. */
  vecLen(minElementBytes = 1): number {
    const at = this.pos;
    const n = this.u32();
    if (n * minElementBytes > this.end - this.pos) malformed(`vector of ${n} elements does not fit`, at);
    return n;
  }

  name(): string {
    const at = this.pos;
    const len = this.vecLen();
    const raw = this.take(len);
    try {
      return utf8.decode(raw);
    } catch {
      return malformed("name is not valid UTF-8", at);
    }
  }

  /** A reader over the next `len` bytes; this reader moves past them. */
  sub(len: number): WasmReader {
    const start = this.pos;
    this.skip(len);
    return new WasmReader(this.bytes, start, this.pos);
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) malformed(`${this.end - this.pos} unexpected bytes at the end of ${what}`, this.pos);
  }
}

/** A value type of a function signature, local or global. */
export function readValType(r: WasmReader): ValType {
  const at = r.pos;
  const t = r.u8();
  if (t === I32 || t === I64 || t === F32 || t === F64) return t;
  if (t === V128) forbidden("v128 value type", "SIMD", at);
  if (t === 0x70 || t === 0x6f || (t >= 0x63 && t <= 0x74)) forbidden(`${hex(t)} value type`, "reference types", at);
  return malformed(`unknown value type ${hex(t)}`, at);
}

function readLimits(r: WasmReader, what: "memory" | "table"): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags > 1) {
    if (what === "memory" && (flags === 2 || flags === 3)) forbidden("shared memory", "threads", at);
    if (what === "memory" && (flags & 4) !== 0 && flags < 8) forbidden("64-bit memory", "memory64", at);
    return malformed(`unknown ${what} limits flags ${hex(flags)}`, at);
  }
  const min = r.u32();
  const max = flags === 1 ? r.u32() : null;
  if (max !== null && max < min) malformed(`${what} maximum ${max} is below its minimum ${min}`, at);
  if (what === "memory" && (min > 65536 || (max !== null && max > 65536))) malformed("memory above 4 GiB", at);
  return { min, max };
}

function readTableType(r: WasmReader): TableType {
  const at = r.pos;
  const elemType = r.u8();
  if (elemType !== 0x70) {
    if (elemType === 0x6f || (elemType >= 0x63 && elemType <= 0x74))
      forbidden(`table of ${hex(elemType)}`, "reference types", at);
    malformed(`unknown table element type ${hex(elemType)}`, at);
  }
  return { elemType, limits: readLimits(r, "table") };
}

function readGlobalType(r: WasmReader): GlobalType {
  const type = readValType(r);
  const at = r.pos;
  const m = r.u8();
  if (m > 1) malformed(`invalid global mutability ${hex(m)}`, at);
  return { type, mutable: m === 1 };
}

/** An MVP constant expression: i32/i64/f32/f64.const or global.get, then `end`. */
export function readConstExpr(r: WasmReader): ConstExpr {
  const start = r.pos;
  const op = r.u8();
  let value = 0n;
  switch (op) {
    case 0x41:
      value = BigInt(r.i32());
      break;
    case 0x42:
      value = r.i64();
      break;
    case 0x43:
      r.skip(4);
      break;
    case 0x44:
      r.skip(8);
      break;
    case 0x23:
      value = BigInt(r.u32());
      break;
    case 0xd0:
    case 0xd2:
      forbidden(hex(op), "reference types", start);
      break;
    case 0xfd:
      forbidden(hex(op), "SIMD", start);
      break;
    default:
      malformed(`${hex(op)} is not allowed in a constant expression`, start);
  }
  const endAt = r.pos;
  if (r.u8() !== 0x0b) malformed("constant expression must be a single instruction followed by end", endAt);
  return { op, value, start, end: r.pos };
}

/** Parses and structurally checks a whole module. Function bodies are delimited here and decoded by `decodeFunctionBody`. */
export function parseModule(bytes: Uint8Array): ParsedModule {
  const r = new WasmReader(bytes);
  if (bytes.length < 8) malformed("shorter than the 8-byte header", 0);
  if (r.u32le() !== WASM_MAGIC) malformed("bad magic number (not a wasm module)", 0);
  if (r.u32le() !== WASM_VERSION) malformed("unsupported binary version (expected 1)", 4);

  const m: ParsedModule = {
    bytes,
    sections: [],
    types: [],
    imports: [],
    functions: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    start: null,
    elements: [],
    dataCount: null,
    code: [],
    data: [],
    importedFunctions: 0,
    importedTables: 0,
    importedMemories: 0,
    importedGlobals: 0,
  };
  let lastRank = 0;
  let sawCodeSection = false;
  let sawDataSection = false;

  while (!r.atEnd()) {
    const start = r.pos;
    const id = r.u8();
    const size = r.u32();
    const s = r.sub(size);
    const section: Section = { id, start, contentStart: s.pos, end: s.end };
    if (id === SectionId.custom) {
      section.name = s.name();
      m.sections.push(section);
      continue;
    }
    const rank = SECTION_RANK[id];
    if (rank === undefined) {
      if (id === 13) forbidden("tag section", "exception handling", start);
      malformed(`unknown section id ${id}`, start);
    }
    if (rank <= lastRank) malformed(`section ${id} is duplicated or out of order`, start);
    lastRank = rank;
    m.sections.push(section);
    switch (id) {
      case SectionId.type:
        readTypeSection(s, m);
        break;
      case SectionId.import:
        readImportSection(s, m);
        break;
      case SectionId.function: {
        const n = s.vecLen();
        for (let i = 0; i < n; i++) {
          const at = s.pos;
          const t = s.u32();
          if (t >= m.types.length) malformed(`function type index ${t} out of range`, at);
          m.functions.push(t);
        }
        break;
      }
      case SectionId.table: {
        const n = s.vecLen(3);
        for (let i = 0; i < n; i++) m.tables.push(readTableType(s));
        break;
      }
      case SectionId.memory: {
        const n = s.vecLen(2);
        for (let i = 0; i < n; i++) m.memories.push(readLimits(s, "memory"));
        break;
      }
      case SectionId.global: {
        const n = s.vecLen(4);
        for (let i = 0; i < n; i++) {
          const type = readGlobalType(s);
          m.globals.push({ type, init: readConstExpr(s) });
        }
        break;
      }
      case SectionId.export:
        readExportSection(s, m);
        break;
      case SectionId.start: {
        const at = s.pos;
        m.start = s.u32();
        if (m.start >= m.importedFunctions + m.functions.length) malformed("start function index out of range", at);
        break;
      }
      case SectionId.element:
        readElementSection(s, m);
        break;
      case SectionId.dataCount:
        m.dataCount = s.u32();
        break;
      case SectionId.code:
        sawCodeSection = true;
        readCodeSection(s, m);
        break;
      case SectionId.data:
        sawDataSection = true;
        readDataSection(s, m);
        break;
    }
    s.expectEnd(`section ${id}`);
  }

  if (m.tables.length + m.importedTables > 1) malformed("more than one table (reference types)");
  if (m.memories.length + m.importedMemories > 1) malformed("more than one memory (multi-memory)");
  if (m.functions.length > 0 && !sawCodeSection) malformed("function section without code section");
  if (m.dataCount !== null && m.dataCount !== m.data.length)
    malformed(`data count ${m.dataCount} does not match ${m.data.length} data segments`);
  if (!sawDataSection && m.dataCount !== null && m.dataCount !== 0)
    malformed("data count section without data section");
  const funcCount = m.importedFunctions + m.functions.length;
  for (const e of m.exports) {
    const limit =
      e.kind === "func"
        ? funcCount
        : e.kind === "table"
          ? m.importedTables + m.tables.length
          : e.kind === "memory"
            ? m.importedMemories + m.memories.length
            : m.importedGlobals + m.globals.length;
    if (e.index >= limit)
      malformed(`export ${JSON.stringify(e.name)} refers to ${e.kind} ${e.index}, which does not exist`);
  }
  for (const seg of m.elements) {
    for (const f of seg.functions) if (f >= funcCount) malformed(`element segment refers to function ${f}`);
  }
  return m;
}

function readTypeSection(s: WasmReader, m: ParsedModule): void {
  const n = s.vecLen(3);
  for (let i = 0; i < n; i++) {
    const at = s.pos;
    const form = s.u8();
    if (form !== 0x60) {
      if (form === 0x5e || form === 0x5f || form === 0x50 || form === 0x4e || form === 0x4f)
        forbidden(`type form ${hex(form)}`, "garbage collection", at);
      malformed(`type ${i} is not a function type (form ${hex(form)})`, at);
    }
    const np = s.vecLen();
    const params: ValType[] = [];
    for (let j = 0; j < np; j++) params.push(readValType(s));
    const nr = s.vecLen();
    const results: ValType[] = [];
    for (let j = 0; j < nr; j++) results.push(readValType(s));
    m.types.push({ params, results });
  }
}

function readImportSection(s: WasmReader, m: ParsedModule): void {
  const n = s.vecLen(4);
  for (let i = 0; i < n; i++) {
    const offset = s.pos;
    const module = s.name();
    const name = s.name();
    const at = s.pos;
    const kind = s.u8();
    switch (kind) {
      case 0: {
        const tAt = s.pos;
        const typeIndex = s.u32();
        if (typeIndex >= m.types.length) malformed(`import type index ${typeIndex} out of range`, tAt);
        m.imports.push({ module, name, offset, kind: "func", typeIndex });
        m.importedFunctions++;
        break;
      }
      case 1:
        m.imports.push({ module, name, offset, kind: "table", table: readTableType(s) });
        m.importedTables++;
        break;
      case 2:
        m.imports.push({ module, name, offset, kind: "memory", memory: readLimits(s, "memory") });
        m.importedMemories++;
        break;
      case 3:
        m.imports.push({ module, name, offset, kind: "global", global: readGlobalType(s) });
        m.importedGlobals++;
        break;
      case 4:
        forbidden("tag import", "exception handling", at);
        break;
      default:
        malformed(`unknown import kind ${hex(kind)}`, at);
    }
  }
}

function readExportSection(s: WasmReader, m: ParsedModule): void {
  const n = s.vecLen(3);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const at = s.pos;
    const name = s.name();
    const kAt = s.pos;
    const kind = s.u8();
    if (kind === 4) forbidden("tag export", "exception handling", kAt);
    if (kind > 3) malformed(`unknown export kind ${hex(kind)}`, kAt);
    const index = s.u32();
    if (seen.has(name)) malformed(`duplicate export ${JSON.stringify(name)}`, at);
    seen.add(name);
    m.exports.push({ name, kind: EXTERN_KINDS[kind], index });
  }
}

function readElementSection(s: WasmReader, m: ParsedModule): void {
  const n = s.vecLen(3);
  for (let i = 0; i < n; i++) {
    const at = s.pos;
    const flags = s.u32();
    if (flags !== 0) {
      if (flags < 8) forbidden(`element segment kind ${flags}`, "bulk memory and reference types", at);
      malformed(`unknown element segment kind ${flags}`, at);
    }
    const offset = readConstExpr(s);
    const count = s.vecLen();
    const functions: number[] = [];
    for (let j = 0; j < count; j++) functions.push(s.u32());
    m.elements.push({ offset, functions });
  }
}

function readDataSection(s: WasmReader, m: ParsedModule): void {
  const n = s.vecLen(2);
  for (let i = 0; i < n; i++) {
    const at = s.pos;
    const flags = s.u32();
    if (flags !== 0) {
      if (flags <= 2) forbidden(`data segment kind ${flags}`, "bulk memory", at);
      malformed(`unknown data segment kind ${flags}`, at);
    }
    const offset = readConstExpr(s);
    const len = s.vecLen();
    const start = s.pos;
    s.skip(len);
    m.data.push({ offset, start, end: s.pos });
  }
}

function readCodeSection(s: WasmReader, m: ParsedModule): void {
  const n = s.vecLen(2);
  if (n !== m.functions.length) malformed(`code section has ${n} bodies for ${m.functions.length} functions`, s.pos);
  for (let i = 0; i < n; i++) {
    const size = s.u32();
    const b = s.sub(size);
    const start = b.pos;
    const groups = b.vecLen(2);
    const locals: LocalDecl[] = [];
    let localCount = 0;
    for (let j = 0; j < groups; j++) {
      const count = b.u32();
      const type = readValType(b);
      localCount += count;
      locals.push({ count, type });
    }
    if (b.atEnd()) malformed(`function ${m.importedFunctions + i} has no code`, b.pos);
    m.code.push({ functionIndex: m.importedFunctions + i, start, end: b.end, codeStart: b.pos, locals, localCount });
  }
}

// ---- instructions ----

/** How an opcode's immediates are encoded (MVP and sign extension). */
const Imm = {
  None: 0,
  BlockType: 1,
  U32: 2,
  BrTable: 3,
  CallIndirect: 4,
  MemArg: 5,
  ZeroByte: 6,
  I32: 7,
  I64: 8,
  Bytes4: 9,
  Bytes8: 10,
  Forbidden: 254,
  Unknown: 255,
} as const;
type Imm = (typeof Imm)[keyof typeof Imm];

/** Feature names of the post-MVP opcodes the reader recognises in order to reject them clearly. */
const FORBIDDEN_FEATURE = new Map<number, string>();
const IMMEDIATES = new Uint8Array(256).fill(Imm.Unknown);
{
  const set = (from: number, to: number, imm: Imm) => IMMEDIATES.fill(imm, from, to + 1);
  set(0x00, 0x01, Imm.None); // unreachable, nop
  set(0x02, 0x04, Imm.BlockType); // block, loop, if
  set(0x05, 0x05, Imm.None); // else
  set(0x0b, 0x0b, Imm.None); // end
  set(0x0c, 0x0d, Imm.U32); // br, br_if
  set(0x0e, 0x0e, Imm.BrTable);
  set(0x0f, 0x0f, Imm.None); // return
  set(0x10, 0x10, Imm.U32); // call
  set(0x11, 0x11, Imm.CallIndirect);
  set(0x1a, 0x1b, Imm.None); // drop, select
  set(0x20, 0x24, Imm.U32); // local.get/set/tee, global.get/set
  set(0x28, 0x3e, Imm.MemArg); // loads and stores
  set(0x3f, 0x40, Imm.ZeroByte); // memory.size, memory.grow
  set(0x41, 0x41, Imm.I32);
  set(0x42, 0x42, Imm.I64);
  set(0x43, 0x43, Imm.Bytes4);
  set(0x44, 0x44, Imm.Bytes8);
  set(0x45, 0xc4, Imm.None); // numeric operators, conversions, sign extension
  const forbid = (ops: number[], feature: string) => {
    for (const op of ops) {
      IMMEDIATES[op] = Imm.Forbidden;
      FORBIDDEN_FEATURE.set(op, feature);
    }
  };
  forbid([0x06, 0x07, 0x08, 0x09, 0x0a, 0x18, 0x19, 0x1f], "exception handling");
  forbid([0x12, 0x13], "tail calls");
  forbid([0x14, 0x15, 0xd3, 0xd4, 0xd5, 0xd6], "typed function references");
  forbid([0x1c, 0x25, 0x26, 0xd0, 0xd1, 0xd2], "reference types");
  forbid([0xfb], "garbage collection");
  forbid([0xfc], "bulk memory and saturating float-to-int conversion (0xFC prefix)");
  forbid([0xfd], "SIMD (0xFD prefix)");
  forbid([0xfe], "threads and atomics (0xFE prefix)");
}

/**
 * Largest alignment exponent the engine accepts for any memory access (8 bytes). Larger values are rejected rather
 * than decoded: with multi-memory, bit 6 of the alignment announces an extra memory-index immediate, so decoding it
 * as MVP would desynchronise the reader from the engine.
 */
const MAX_ALIGN = 3;

export const Op = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  drop: 0x1a,
  localGet: 0x20,
  globalGet: 0x23,
  globalSet: 0x24,
  memorySize: 0x3f,
  memoryGrow: 0x40,
  i32Const: 0x41,
  i64Const: 0x42,
} as const;

/** The instructions of one function body, as parallel arrays. */
export interface DecodedBody {
  /** The opcode of each instruction (all single-byte: prefixed opcodes are rejected). */
  ops: Uint8Array;
  /** Module offset of each instruction; `offsets[ops.length]` is the end of the body. */
  offsets: Uint32Array;
}

/**
 * Decodes a function body's instructions and checks that its control structure is balanced: every block, loop and if
 * is closed, `else` only appears in an if, and the body ends with the `end` that closes the function.
 */
export function decodeFunctionBody(bytes: Uint8Array, body: FunctionBody): DecodedBody {
  const r = new WasmReader(bytes, body.codeStart, body.end);
  const ops: number[] = [];
  const offsets: number[] = [];
  // Open control constructs: 0x02/0x03/0x04 as opened, 0x05 for an if that has seen its else. The function is 0x00.
  const control: number[] = [0x00];
  while (control.length > 0) {
    const at = r.pos;
    if (r.atEnd()) malformed(`function ${body.functionIndex} ends inside a block`, at);
    const op = r.u8();
    ops.push(op);
    offsets.push(at);
    switch (IMMEDIATES[op]) {
      case Imm.None:
        if (op === Op.end) control.pop();
        else if (op === Op.else) {
          if (control[control.length - 1] !== Op.if) malformed("else outside an if", at);
          control[control.length - 1] = Op.else;
        }
        break;
      case Imm.BlockType: {
        const bAt = r.pos;
        const bt = r.u8();
        if (bt !== 0x40 && bt !== I32 && bt !== I64 && bt !== F32 && bt !== F64) {
          if (bt === V128) forbidden("v128 block type", "SIMD", bAt);
          // A non-negative s33 (bit 6 clear) is a type index: a block with parameters or several results.
          if ((bt & 0x40) === 0)
            throw new WasmError({ code: "WASM_MULTI_VALUE", where: `block type index at byte 0x${bAt.toString(16)}` });
          forbidden(`block type ${hex(bt)}`, "reference types", bAt);
        }
        control.push(op);
        break;
      }
      case Imm.U32:
        r.u32();
        break;
      case Imm.BrTable: {
        const n = r.vecLen();
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case Imm.CallIndirect: {
        r.u32();
        const tAt = r.pos;
        if (r.u32() !== 0) malformed("call_indirect table index must be 0", tAt);
        break;
      }
      case Imm.MemArg: {
        const aAt = r.pos;
        if (r.u32() > MAX_ALIGN) malformed("memory access alignment too large", aAt);
        r.u32();
        break;
      }
      case Imm.ZeroByte:
        if (r.u8() !== 0) malformed("memory index must be the single byte 0x00", at + 1);
        break;
      case Imm.I32:
        r.i32();
        break;
      case Imm.I64:
        r.skipI64();
        break;
      case Imm.Bytes4:
        r.skip(4);
        break;
      case Imm.Bytes8:
        r.skip(8);
        break;
      case Imm.Forbidden: {
        let name = hex(op);
        if (op >= 0xfc && r.remaining > 0) {
          const sub = r.pos;
          try {
            name += ` ${r.u32()}`;
          } catch {
            r.pos = sub;
          }
        }
        forbidden(`opcode ${name}`, FORBIDDEN_FEATURE.get(op) ?? "post-MVP feature", at);
        break;
      }
      default:
        malformed(`unknown opcode ${hex(op)}`, at);
    }
  }
  if (!r.atEnd()) malformed(`function ${body.functionIndex} has bytes after its final end`, r.pos);
  offsets.push(r.pos);
  return { ops: Uint8Array.from(ops), offsets: Uint32Array.from(offsets) };
}

/** Floating-point instructions: loads/stores, constants, comparisons, arithmetic, conversions and reinterpretations. */
export function isFloatOpcode(op: number): boolean {
  return (
    op === 0x2a || // f32.load
    op === 0x2b || // f64.load
    op === 0x38 || // f32.store
    op === 0x39 || // f64.store
    op === 0x43 || // f32.const
    op === 0x44 || // f64.const
    (op >= 0x5b && op <= 0x66) || // f32/f64 comparisons
    (op >= 0x8b && op <= 0xa6) || // f32/f64 arithmetic
    (op >= 0xa8 && op <= 0xab) || // i32.trunc_f32/f64_s/u
    (op >= 0xae && op <= 0xbf) // i64.trunc_f*, f*.convert_i*, demote/promote, reinterpret
  );
}

export function funcTypeOf(m: ParsedModule, functionIndex: number): FuncType | undefined {
  if (functionIndex < m.importedFunctions) {
    let i = 0;
    for (const imp of m.imports) {
      if (imp.kind !== "func") continue;
      if (i++ === functionIndex) return m.types[imp.typeIndex];
    }
    return undefined;
  }
  const t = m.functions[functionIndex - m.importedFunctions];
  return t === undefined ? undefined : m.types[t];
}

export function formatFuncType(t: FuncType): string {
  return `(${t.params.map(valTypeName).join(", ")}) -> (${t.results.map(valTypeName).join(", ")})`;
}
