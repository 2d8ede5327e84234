// Quick structural checks of a compiled contract module, so a broken contract fails at build time rather than at
// deploy (the full validator is validator/src/runtime/wasm/validateModule.ts): only "rustchain" host imports; exactly
// the exports `memory`, `call` and, when the constructor has arguments, `deploy`; no start function; at most 64
// memory pages; no f32/f64 types and only MVP opcodes.
import { defaultWasmLimits, HOST_IMPORTS } from "../../validator/src/runtime/wasm/validateModule.ts";
import { ContractBuildError } from "./errors.ts";

/** The host functions of the "rustchain" import module (docs/runtime.md), as the node's validator defines them. */
export const HOST_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(HOST_IMPORTS));

export const MAX_MODULE_BYTES = defaultWasmLimits.maxModuleBytes;
export const MAX_MEMORY_PAGES = 64;
/** The only exports a contract module may have. */
export const CONTRACT_EXPORTS: readonly string[] = ["memory", "call", "deploy"];

export class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start = 0,
    readonly end = b.length,
  ) {
    this.pos = start;
  }
  u8(): number {
    if (this.pos >= this.end) throw new ContractBuildError("truncated module");
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new ContractBuildError("bad LEB128");
  }
  skipLeb(): void {
    while (this.u8() & 0x80);
  }
  skip(n: number): void {
    this.pos += n;
  }
}

const F32 = 0x7d;
const F64 = 0x7c;
const VALTYPES: Record<number, string> = { 127: "i32", 126: "i64", 125: "f32", 124: "f64", 123: "v128" };

function checkValtype(t: number, where: string, problems: string[]): void {
  if (t === F32 || t === F64) problems.push(`${VALTYPES[t]} type in ${where}`);
  else if (t !== 0x7f && t !== 0x7e) problems.push(`non-MVP value type 0x${t.toString(16)} in ${where}`);
}

/** Why an opcode is not allowed, or undefined if it is an MVP integer opcode. */
function forbiddenOpcode(op: number): string | undefined {
  if (op === 0x2a || op === 0x2b || op === 0x38 || op === 0x39) return "float load/store";
  if (op === 0x43 || op === 0x44) return "float constant";
  if (op >= 0x5b && op <= 0x66) return "float comparison";
  if (op >= 0x8b && op <= 0xa6) return "float arithmetic";
  if ((op >= 0xa8 && op <= 0xab) || (op >= 0xae && op <= 0xbf)) return "float conversion";
  if (op >= 0xc0 && op <= 0xc4) return "sign-extension (post-MVP)";
  if (op === 0x1c || op === 0x25 || op === 0x26 || (op >= 0xd0 && op <= 0xd2)) return "reference types";
  if (op === 0xfc) return "bulk memory / saturating conversion (0xFC prefix)";
  if (op === 0xfd) return "SIMD";
  if (op === 0xfe) return "threads";
  const known =
    op <= 0x05 ||
    (op >= 0x0b && op <= 0x11) ||
    op === 0x1a ||
    op === 0x1b ||
    (op >= 0x20 && op <= 0x24) ||
    (op >= 0x28 && op <= 0x42) ||
    (op >= 0x45 && op <= 0x5a) ||
    (op >= 0x67 && op <= 0x8a) ||
    op === 0xa7 ||
    op === 0xac ||
    op === 0xad;
  return known ? undefined : `unknown opcode 0x${op.toString(16)}`;
}

/** Walks an expression up to its end (body end or the final `end` at depth 0 for init expressions). */
function scanCode(r: Reader, where: string, problems: string[], untilEnd: boolean): void {
  let depth = 0;
  while (r.pos < r.end) {
    const op = r.u8();
    const bad = forbiddenOpcode(op);
    if (bad) {
      problems.push(`${bad} in ${where} (opcode 0x${op.toString(16)} at byte ${r.pos - 1})`);
      return; // immediates unknown: stop scanning this body
    }
    switch (op) {
      case 0x02:
      case 0x03:
      case 0x04: {
        const bt = r.u8();
        if (bt !== 0x40) checkValtype(bt, `a block type of ${where}`, problems);
        depth++;
        break;
      }
      case 0x0b:
        if (depth === 0 && untilEnd) return;
        depth--;
        break;
      case 0x0c:
      case 0x0d:
      case 0x10:
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x23:
      case 0x24:
        r.u32();
        break;
      case 0x0e: {
        const n = r.u32();
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case 0x11:
        r.u32();
        if (r.u8() !== 0) problems.push(`call_indirect with a table index in ${where}`);
        break;
      case 0x3f:
      case 0x40:
        r.u8();
        break;
      case 0x41:
      case 0x42:
        r.skipLeb();
        break;
      default:
        if (op >= 0x28 && op <= 0x3e) {
          r.u32(); // alignment
          r.u32(); // offset
        }
    }
  }
}

export interface ModuleInfo {
  imports: string[];
  exports: string[];
  memoryPages: { initial: number; maximum: number | undefined };
  functions: number;
}

/** Quick structural checks of a contract module (see the header comment); throws with every problem found. */
export function checkModule(name: string, module: Uint8Array, needsDeploy: boolean): ModuleInfo {
  const problems: string[] = [];
  if (module.length > MAX_MODULE_BYTES)
    problems.push(`module is ${module.length} bytes, above ${MAX_MODULE_BYTES / 1024} KiB`);
  let compiled: WebAssembly.Module;
  try {
    compiled = new WebAssembly.Module(module);
  } catch (e) {
    throw new ContractBuildError(`${name}: not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const imports = WebAssembly.Module.imports(compiled);
  for (const i of imports) {
    if (i.module !== "rustchain") problems.push(`import ${i.module}.${i.name}: only the "rustchain" module is allowed`);
    else if (i.kind !== "function") problems.push(`import rustchain.${i.name} is a ${i.kind}, not a function`);
    else if (!HOST_FUNCTIONS.has(i.name)) problems.push(`import rustchain.${i.name} is not a host function`);
  }
  const exports = WebAssembly.Module.exports(compiled);
  const byName = new Map(exports.map((e) => [e.name, e.kind]));
  if (byName.get("memory") !== "memory") problems.push("memory is not exported as `memory`");
  if (byName.get("call") !== "function") problems.push("no exported function `call`");
  if (byName.has("deploy") && byName.get("deploy") !== "function") problems.push("`deploy` is not a function");
  if (needsDeploy && !byName.has("deploy")) problems.push("the ABI has constructor arguments but there is no `deploy`");
  for (const e of exports) {
    if (!CONTRACT_EXPORTS.includes(e.name)) problems.push(`unexpected export ${e.name} (${e.kind})`);
  }

  // Section walk: types, globals, locals and opcodes.
  const r = new Reader(module, 8);
  const types: { params: number[]; results: number[] }[] = [];
  const funcTypes: number[] = [];
  const importedFuncTypes: number[] = [];
  let memoryPages: ModuleInfo["memoryPages"] = { initial: 0, maximum: undefined };
  let functions = 0;
  while (r.pos < module.length) {
    const id = r.u8();
    const size = r.u32();
    const s = new Reader(module, r.pos, r.pos + size);
    r.skip(size);
    switch (id) {
      case 1: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          if (s.u8() !== 0x60) problems.push(`type ${i} is not a function type`);
          const params = Array.from({ length: s.u32() }, () => s.u8());
          const results = Array.from({ length: s.u32() }, () => s.u8());
          for (const t of [...params, ...results]) checkValtype(t, `type ${i}`, problems);
          if (results.length > 1) problems.push(`type ${i} has multiple results (multi-value)`);
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          s.skip(s.u32());
          s.skip(s.u32());
          const kind = s.u8();
          if (kind !== 0) break; // non-function imports are reported above
          importedFuncTypes.push(s.u32());
        }
        break;
      }
      case 3: {
        const n = s.u32();
        for (let i = 0; i < n; i++) funcTypes.push(s.u32());
        break;
      }
      case 5: {
        const n = s.u32();
        if (n !== 1) problems.push(`${n} memories`);
        if (n >= 1) {
          const flags = s.u8();
          if (flags > 1) problems.push("shared or 64-bit memory");
          const initial = s.u32();
          const maximum = flags === 1 ? s.u32() : undefined;
          memoryPages = { initial, maximum };
          if (initial > MAX_MEMORY_PAGES || (maximum ?? 0) > MAX_MEMORY_PAGES) {
            problems.push(`memory declares more than ${MAX_MEMORY_PAGES} pages`);
          }
        }
        break;
      }
      case 6: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          checkValtype(s.u8(), `global ${i}`, problems);
          s.u8();
          scanCode(s, `the initialiser of global ${i}`, problems, true);
        }
        break;
      }
      case 8:
        problems.push("start function");
        break;
      case 10: {
        functions = s.u32();
        for (let i = 0; i < functions; i++) {
          const bodySize = s.u32();
          const body = new Reader(module, s.pos, s.pos + bodySize);
          s.skip(bodySize);
          const where = `function ${importedFuncTypes.length + i}`;
          let locals = 0;
          const groups = body.u32();
          for (let g = 0; g < groups; g++) {
            locals += body.u32();
            checkValtype(body.u8(), `the locals of ${where}`, problems);
          }
          if (locals > 10_000) problems.push(`${where} has ${locals} locals`);
          scanCode(body, where, problems, false);
        }
        break;
      }
      case 12:
        problems.push("data count section (bulk memory)");
        break;
    }
  }
  for (const name of ["call", "deploy"]) {
    const idx = exportedFunctionIndex(module, name);
    if (idx === undefined) continue;
    const typeIdx = idx < importedFuncTypes.length ? importedFuncTypes[idx] : funcTypes[idx - importedFuncTypes.length];
    const t = typeIdx === undefined ? undefined : types[typeIdx];
    if (!t || t.params.length > 0 || t.results.length > 0) problems.push(`\`${name}\` must take and return nothing`);
  }
  if (problems.length > 0) throw new ContractBuildError(`${name}: ${problems.join("; ")}`);
  return {
    imports: imports.map((i) => i.name),
    exports: exports.map((e) => e.name),
    memoryPages,
    functions,
  };
}

/** Index of an exported function, from the export section. */
function exportedFunctionIndex(module: Uint8Array, exportName: string): number | undefined {
  const r = new Reader(module, 8);
  while (r.pos < module.length) {
    const id = r.u8();
    const size = r.u32();
    if (id === 7) {
      const s = new Reader(module, r.pos, r.pos + size);
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const len = s.u32();
        const nm = new TextDecoder().decode(module.subarray(s.pos, s.pos + len));
        s.skip(len);
        const kind = s.u8();
        const idx = s.u32();
        if (kind === 0 && nm === exportName) return idx;
      }
      return undefined;
    }
    r.skip(size);
  }
  return undefined;
}
