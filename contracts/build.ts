// Builds the contracts (contracts/examples/*.c and the bridge's contracts/bridge/*.c) into deploy artefacts in
// contracts/build/ (gitignored). Names are unique across the two directories.
//
// For each <name>.c, with clang + wasm-ld (LLVM 14 or later) targeting wasm32 MVP:
//   <name>.module.wasm   the raw WebAssembly module (what the chain stores as code)
//   <name>.wasm          the deploy artefact: 0xEF 0x52 0x57 0x00 ‖ u32 BE module length ‖ module (docs/runtime.md)
//   <name>.abi.json      the hand-written Ethereum JSON ABI (copied from <dir>/<name>.abi.json)
//   <name>.json          { abi, bytecode: "0x<artefact>" } for viem's deployContract / ethers' ContractFactory
//
// Checks, so a broken contract fails here rather than at deploy:
//   - every RC_SEL("sig", 0x…) / RC_TOPIC("sig", "\x…") in the sources equals keccak256(sig), and the selectors and
//     topics of a contract (its source and the local headers it includes, such as sdk/erc20_core.h) match its ABI
//     (every ABI function and event is dispatched / emitted, and nothing else);
//   - the module imports only functions of the "rustchain" host module, exports exactly `memory`, `call` and, when
//     the ABI has a constructor with arguments, `deploy`; it has no start function, ≤ 64 memory pages, no f32/f64
//     types and only MVP opcodes (a quick scan: the full validator is validator/src/runtime/wasm).
//
// Fast and idempotent: a module is recompiled only when its source, its headers, the flags or the compiler change
// (a stamp holds their hash), and outputs are rewritten only when their content changes.
//
// Usage: npm run contracts:build [-- --force]

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import {
  type Abi,
  type AbiEvent,
  type AbiFunction,
  bytesToHex,
  type Hex,
  toEventSelector,
  toEventSignature,
  toFunctionSelector,
  toFunctionSignature,
} from "viem";
import { ARTEFACT_MAGIC, splitDeployData, toArtefact } from "../validator/src/runtime/contractRuntime.ts";
import { defaultWasmLimits, HOST_IMPORTS } from "../validator/src/runtime/wasm/validateModule.ts";

export { ARTEFACT_MAGIC, splitDeployData, toArtefact };

const run = promisify(execFile);

export const CONTRACTS_DIR = dirname(fileURLToPath(import.meta.url));
export const EXAMPLES_DIR = join(CONTRACTS_DIR, "examples");
export const BRIDGE_DIR = join(CONTRACTS_DIR, "bridge");
/** The directories whose *.c files (each with its <name>.abi.json) the build compiles. */
export const SOURCE_DIRS: readonly string[] = [EXAMPLES_DIR, BRIDGE_DIR];
export const SDK_HEADER = join(CONTRACTS_DIR, "sdk", "rustchain.h");
export const BUILD_DIR = join(CONTRACTS_DIR, "build");

/** The host functions of the "rustchain" import module (docs/runtime.md), as the node's validator defines them. */
export const HOST_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(HOST_IMPORTS));

export const MAX_MODULE_BYTES = defaultWasmLimits.maxModuleBytes;
export const MAX_MEMORY_PAGES = 64;
const STACK_BYTES = 16 * 1024;
const INITIAL_MEMORY_BYTES = 64 * 1024; // one page: stack + data + a small heap; rc_alloc grows it on demand

// -Oz rather than -O2: deploying costs 280 gas per byte of module (stored and compiled), and -Oz halves the module (the
// ERC-20 is 6 KiB instead of 14 KiB, 2.2 M gas less to deploy) for a few per-cent more executed instructions, which
// cost a fraction of a gas each.
export const CLANG_FLAGS: readonly string[] = [
  "--target=wasm32",
  "-mcpu=mvp", // no sign-ext, bulk-memory, SIMD…: the runtime accepts the MVP only
  "-std=c11",
  "-nostdlib",
  "-ffreestanding",
  "-Oz",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-fvisibility=hidden",
  "-Wl,--no-entry",
  "-Wl,--strip-all",
  "-Wl,--stack-first", // a stack overflow runs below address 0 and traps instead of corrupting the data
  `-Wl,-z,stack-size=${STACK_BYTES}`,
  `-Wl,--initial-memory=${INITIAL_MEMORY_BYTES}`,
  `-Wl,--max-memory=${MAX_MEMORY_PAGES * 65536}`,
];

export interface BuiltContract {
  abi: Abi;
  /** The deploy artefact as hex, ready for viem's `deployContract({ abi, bytecode, args })`. */
  bytecode: Hex;
  /** The raw WebAssembly module. */
  module: Uint8Array;
}

export interface BuildOptions {
  /** Recompile even when the stamps match. */
  force?: boolean;
  /** Only these contracts (names without .c). */
  only?: readonly string[];
}

export class ContractBuildError extends Error {
  override name = "ContractBuildError";
}

// ---------------------------------------------------------------------------------------------------------------
// Toolchain
// ---------------------------------------------------------------------------------------------------------------

const INSTALL_HINT = "install the Debian packages `clang` and `lld` (apt-get install clang lld), or set CLANG";

let toolchain: Promise<{ clang: string; version: string }> | undefined;

function findToolchain(): Promise<{ clang: string; version: string }> {
  toolchain ??= (async () => {
    const clang = process.env.CLANG ?? "clang";
    let version: string;
    try {
      version = (await run(clang, ["--version"])).stdout;
    } catch (e) {
      throw new ContractBuildError(
        `clang not found (${clang}: ${(e as Error).message.split("\n")[0]}): ${INSTALL_HINT}`,
      );
    }
    // clang looks for wasm-ld next to itself, then on the PATH; -print-prog-name shows where it would find it.
    const ld = (await run(clang, ["--target=wasm32", "-print-prog-name=wasm-ld"])).stdout.trim() || "wasm-ld";
    try {
      version += (await run(ld, ["--version"])).stdout;
    } catch {
      throw new ContractBuildError(`wasm-ld (the WebAssembly linker) not found: ${INSTALL_HINT}`);
    }
    return { clang, version };
  })();
  toolchain.catch(() => {
    toolchain = undefined;
  });
  return toolchain;
}

// ---------------------------------------------------------------------------------------------------------------
// Selector and topic checks
// ---------------------------------------------------------------------------------------------------------------

/** C source without comments (strings and character literals kept), line continuations joined. */
export function stripCComments(src: string): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? src.length : end + 2;
      out += " ";
    } else if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/\\\r?\n/g, " ");
}

export interface SourceConstants {
  selectors: { signature: string; value: Hex }[];
  topics: { signature: string; value: Hex }[];
}

/** The RC_SEL / RC_TOPIC constants of a C source. */
export function parseConstants(source: string): SourceConstants {
  const src = stripCComments(source);
  const selectors: SourceConstants["selectors"] = [];
  const topics: SourceConstants["topics"] = [];
  for (const m of src.matchAll(/\bRC_SEL\s*\(((?:[^)"]|"(?:[^"\\]|\\.)*")*)\)/g)) {
    const args = /^\s*"([^"]+)"\s*,\s*0x([0-9a-fA-F]{8})\s*$/.exec(m[1]!);
    if (!args) {
      if (/^\s*signature\s*,\s*value\s*$/.test(m[1]!)) continue; // the macro definition itself
      throw new ContractBuildError(`RC_SEL(${m[1]}): expected RC_SEL("signature", 0x12345678)`);
    }
    selectors.push({ signature: args[1]!, value: `0x${args[2]!.toLowerCase()}` });
  }
  for (const m of src.matchAll(/\bRC_TOPIC\s*\(((?:[^)"]|"(?:[^"\\]|\\.)*")*)\)/g)) {
    const args = /^\s*"([^"]+)"\s*,((?:\s*"[^"]*")+)\s*$/.exec(m[1]!);
    if (!args) {
      if (/^\s*signature\s*,\s*bytes\s*$/.test(m[1]!)) continue;
      throw new ContractBuildError(`RC_TOPIC(${m[1]}): expected RC_TOPIC("signature", "\\xdd\\xf2…")`);
    }
    const body = [...args[2]!.matchAll(/"([^"]*)"/g)].map((s) => s[1]).join("");
    if (!/^(\\x[0-9a-fA-F]{2}){32}$/.test(body)) {
      throw new ContractBuildError(`RC_TOPIC("${args[1]}"): the topic must be 32 bytes written as \\xHH escapes`);
    }
    topics.push({ signature: args[1]!, value: `0x${body.replace(/\\x/g, "").toLowerCase()}` });
  }
  return { selectors, topics };
}

/** Checks the constants against keccak256 and, when an ABI is given, against the ABI. */
export function checkConstants(name: string, constants: SourceConstants, abi?: Abi): void {
  const errors: string[] = [];
  for (const s of constants.selectors) {
    const want = toFunctionSelector(s.signature);
    if (want !== s.value) errors.push(`selector of ${s.signature} is ${want}, not ${s.value}`);
  }
  for (const t of constants.topics) {
    const want = toEventSelector(t.signature);
    if (want !== t.value) errors.push(`topic of ${t.signature} is ${want}, not ${t.value}`);
  }
  if (abi) {
    const sigs = new Set(constants.selectors.map((s) => s.signature));
    const events = new Set(constants.topics.map((t) => t.signature));
    const abiSigs = new Set<string>();
    const abiEvents = new Set<string>();
    for (const item of abi) {
      if (item.type === "function") {
        const sig = toFunctionSignature(item as AbiFunction);
        abiSigs.add(sig);
        if (!sigs.has(sig)) errors.push(`ABI function ${sig} has no RC_SEL in the source`);
      } else if (item.type === "event") {
        const sig = toEventSignature(item as AbiEvent);
        abiEvents.add(sig);
        if (!events.has(sig)) errors.push(`ABI event ${sig} has no RC_TOPIC in the source`);
      }
    }
    for (const sig of sigs) if (!abiSigs.has(sig)) errors.push(`RC_SEL ${sig} is not in the ABI`);
    for (const sig of events) if (!abiEvents.has(sig)) errors.push(`RC_TOPIC ${sig} is not in the ABI`);
  }
  if (errors.length > 0) throw new ContractBuildError(`${name}: ${errors.join("; ")}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Module checks
// ---------------------------------------------------------------------------------------------------------------

class Reader {
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
    if (!["memory", "call", "deploy"].includes(e.name)) problems.push(`unexpected export ${e.name} (${e.kind})`);
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

// ---------------------------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------------------------

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Writes atomically (temp file + rename), and only if the content differs. Returns whether it wrote. */
async function writeIfChanged(path: string, data: Uint8Array | string): Promise<boolean> {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.length);
  const old = await readIfExists(path);
  if (old?.equals(bytes)) return false;
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return true;
}

async function compile(
  name: string,
  sourcePath: string,
  outDir: string,
  stamp: string,
  force: boolean,
): Promise<Uint8Array> {
  const modulePath = join(outDir, `${name}.module.wasm`);
  const stampPath = join(outDir, `${name}.stamp`);
  if (!force && (await readIfExists(stampPath))?.toString() === stamp) {
    const cached = await readIfExists(modulePath);
    if (cached) return new Uint8Array(cached);
  }
  const { clang } = await findToolchain();
  const tmp = join(outDir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}.wasm`);
  try {
    await run(clang, [...CLANG_FLAGS, "-o", tmp, sourcePath], { cwd: CONTRACTS_DIR });
    const module = new Uint8Array(await readFile(tmp));
    await writeIfChanged(modulePath, module);
    await writeIfChanged(stampPath, stamp);
    return module;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    if (err instanceof ContractBuildError) throw err;
    const stderr = err.stderr?.trim() || err.message;
    if (/wasm-ld/.test(stderr) && /(not found|doesn't exist|No such file)/i.test(stderr)) {
      throw new ContractBuildError(`${name}: wasm-ld not found: ${INSTALL_HINT}\n${stderr}`);
    }
    throw new ContractBuildError(`${name}: clang failed\n${stderr}`);
  } finally {
    await rm(tmp, { force: true });
  }
}

export interface CompileOptions {
  /** Output name (default: the source's base name). */
  name?: string;
  /** The contract's ABI: its selectors and topics are checked against the source, its constructor against `deploy`. */
  abi?: Abi;
  /** Where <name>.module.wasm and its stamp go (default contracts/build). */
  outDir?: string;
  force?: boolean;
}

/**
 * Compiles one C contract to a checked WebAssembly module (cached by a stamp of the source, the SDK header, the
 * flags and the compiler). Writes only <outDir>/<name>.module.wasm; buildContracts adds the artefacts.
 */
export async function compileContract(sourcePath: string, options: CompileOptions = {}): Promise<Uint8Array> {
  const name = options.name ?? basename(sourcePath, ".c");
  const outDir = options.outDir ?? BUILD_DIR;
  await mkdir(outDir, { recursive: true });
  const [header, source, { version }] = await Promise.all([
    readFile(SDK_HEADER, "utf8"),
    readFile(sourcePath, "utf8"),
    findToolchain(),
  ]);
  const headers = await localHeaders(sourcePath, source);
  checkConstants("sdk/rustchain.h", parseConstants(header));
  // The contract's constants are those of its source and of the headers it includes (sdk/erc20_core.h…).
  const constants = [source, ...headers.map((h) => h.text)].map(parseConstants);
  checkConstants(
    `${name}.c`,
    { selectors: constants.flatMap((c) => c.selectors), topics: constants.flatMap((c) => c.topics) },
    options.abi,
  );
  const stamp = createHash("sha256")
    .update(JSON.stringify([CLANG_FLAGS, version, header, source, headers]))
    .digest("hex");
  const module = await compile(name, sourcePath, outDir, stamp, options.force ?? false);
  const ctor = options.abi?.find((i) => i.type === "constructor");
  checkModule(name, module, (ctor?.inputs.length ?? 0) > 0);
  return module;
}

/**
 * The local headers a source includes with `#include "…"`, transitively, except the SDK header (stamped on its own):
 * their text is part of the stamp and their RC_SEL / RC_TOPIC constants part of the contract's.
 */
async function localHeaders(sourcePath: string, source: string): Promise<{ path: string; text: string }[]> {
  const found: { path: string; text: string }[] = [];
  const seen = new Set([resolve(sourcePath), resolve(SDK_HEADER)]);
  const visit = async (from: string, text: string): Promise<void> => {
    for (const m of stripCComments(text).matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) {
      const path = resolve(dirname(from), m[1]!);
      if (seen.has(path)) continue;
      seen.add(path);
      const included = await readIfExists(path);
      if (!included) throw new ContractBuildError(`${basename(from)}: #include "${m[1]}" not found`);
      found.push({ path: relative(CONTRACTS_DIR, path), text: included.toString() });
      await visit(path, included.toString());
    }
  };
  await visit(sourcePath, source);
  return found;
}

/** Names of the contracts (contracts/examples/*.c and contracts/bridge/*.c). */
export async function contractNames(): Promise<string[]> {
  return [...(await contractSources()).keys()].sort();
}

/** Each contract's name → the directory holding its <name>.c and <name>.abi.json. */
async function contractSources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const dir of SOURCE_DIRS) {
    for (const f of (await readdir(dir)).filter((f) => f.endsWith(".c"))) {
      const name = basename(f, ".c");
      if (sources.has(name)) throw new ContractBuildError(`${name}: defined in both ${sources.get(name)} and ${dir}`);
      sources.set(name, dir);
    }
  }
  return sources;
}

/**
 * Compiles every contract (examples and bridge) and writes its artefacts to contracts/build/.
 * Returns, by name, the ABI, the deploy artefact as hex (`bytecode`) and the raw module.
 */
export async function buildContracts(options: BuildOptions = {}): Promise<Record<string, BuiltContract>> {
  const sources = await contractSources();
  const names = [...sources.keys()].sort().filter((n) => !options.only || options.only.includes(n));
  const built = await Promise.all(
    names.map(async (name): Promise<[string, BuiltContract]> => {
      const dir = sources.get(name)!;
      const abiText = await readIfExists(join(dir, `${name}.abi.json`));
      if (!abiText) throw new ContractBuildError(`${name}: missing ${relative(CONTRACTS_DIR, dir)}/${name}.abi.json`);
      let abi: Abi;
      try {
        abi = JSON.parse(abiText.toString()) as Abi;
      } catch (e) {
        throw new ContractBuildError(`${name}.abi.json: ${(e as Error).message}`);
      }
      const module = await compileContract(join(dir, `${name}.c`), { abi, force: options.force });
      const artefact = toArtefact(module);
      const bytecode = bytesToHex(artefact);
      await Promise.all([
        writeIfChanged(join(BUILD_DIR, `${name}.wasm`), artefact),
        writeIfChanged(join(BUILD_DIR, `${name}.abi.json`), `${JSON.stringify(abi, null, 2)}\n`),
        writeIfChanged(join(BUILD_DIR, `${name}.json`), `${JSON.stringify({ abi, bytecode }, null, 2)}\n`),
      ]);
      return [name, { abi, bytecode, module }];
    }),
  );
  return Object.fromEntries(built);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const start = performance.now();
  try {
    const built = await buildContracts({ force: process.argv.includes("--force") });
    const rows = [["contract", "module bytes", "artefact bytes", "deploy", "imports"]];
    for (const [name, c] of Object.entries(built)) {
      const info = checkModule(name, c.module, false);
      rows.push([
        name,
        String(c.module.length),
        String(c.module.length + 8),
        info.exports.includes("deploy") ? "yes" : "no",
        String(info.imports.length),
      ]);
    }
    process.stdout.write(`${table(rows)}\n`);
    process.stdout.write(
      `built ${rows.length - 1} contracts into ${BUILD_DIR} in ${Math.round(performance.now() - start)} ms\n`,
    );
  } catch (e) {
    console.error(e instanceof ContractBuildError ? `contracts:build: ${e.message}` : e);
    process.exitCode = 1;
  }
}
