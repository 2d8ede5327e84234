// Deploy-time validation of contract modules (docs/runtime.md, "Validation"). Every rule has its own WasmError code;
// the engine's own `WebAssembly.validate` runs last, for type checking that the reader does not do.

import { WasmError } from "./errors.ts";
import {
  decodeFunctionBody,
  F32,
  F64,
  type FuncType,
  formatFuncType,
  funcTypeOf,
  I32,
  I64,
  isFloatOpcode,
  Op,
  type ParsedModule,
  parseModule,
  type ValType,
  valTypeName,
} from "./wasmReader.ts";

export { WasmError, type WasmErrorCode, type WasmErrorType } from "./errors.ts";
export type { ParsedModule } from "./wasmReader.ts";

export interface WasmLimits {
  /** Module size in bytes. */
  maxModuleBytes: number;
  /** Initial and maximum memory, in 64 KiB pages. */
  maxMemoryPages: number;
  /** Table entries (initial and maximum). */
  maxTableSize: number;
  /** Functions, imported and defined. */
  maxFunctions: number;
  /** Globals. */
  maxGlobals: number;
  /** Locals of one function, parameters included. */
  maxLocals: number;
}

export const defaultWasmLimits: Readonly<WasmLimits> = Object.freeze({
  // Below the 128 KiB transaction size limit, so the module limit (not the transport) is what a deployer meets.
  maxModuleBytes: 120 * 1024,
  maxMemoryPages: 64,
  maxTableSize: 4096,
  maxFunctions: 2048,
  maxGlobals: 256,
  maxLocals: 10_000,
});

/** The import module every host function comes from. */
export const HOST_MODULE = "rustchain";

export interface HostSignature {
  readonly params: readonly ("i32" | "i64")[];
  readonly results: readonly ("i32" | "i64")[];
}

const fn = (params: readonly ("i32" | "i64")[], results: readonly ("i32" | "i64")[] = []): HostSignature =>
  Object.freeze({ params: Object.freeze(params), results: Object.freeze(results) });
const ptrs = (n: number) => Array<"i32">(n).fill("i32");

/** The host API of docs/runtime.md: import name → exact signature. Pointers and lengths are i32. */
export const HOST_IMPORTS = Object.freeze({
  calldata_size: fn([], ["i32"]),
  calldata_copy: fn(ptrs(3)),
  finish: fn(ptrs(2)),
  revert: fn(ptrs(2)),
  storage_read: fn(ptrs(2)),
  storage_write: fn(ptrs(2)),
  caller: fn(ptrs(1)),
  origin: fn(ptrs(1)),
  self_address: fn(ptrs(1)),
  call_value: fn(ptrs(1)),
  block_number: fn([], ["i64"]),
  block_timestamp: fn([], ["i64"]),
  chain_id: fn([], ["i64"]),
  gas_left: fn([], ["i64"]),
  emit_log: fn(ptrs(4)),
  balance: fn(ptrs(2)),
  call: fn(["i32", "i32", "i64", "i32", "i32"], ["i32"]),
  returndata_size: fn([], ["i32"]),
  returndata_copy: fn(ptrs(3)),
  keccak256: fn(ptrs(3)),
  blake3: fn(ptrs(3)),
  ai_matmul_i8: fn(ptrs(6)),
  ai_requantize: fn(ptrs(5)),
  ai_relu_i8: fn(ptrs(2)),
  ai_argmax_i8: fn(ptrs(2), ["i32"]),
  ai_mlp_forward: fn(ptrs(4), ["i32"]),
  groth16_verify: fn(ptrs(5), ["i32"]),
  secp256k1_recover: fn(ptrs(3), ["i32"]),
  sha256: fn(ptrs(3)),
  code_hash: fn(ptrs(2)),
} as const satisfies Record<string, HostSignature>);

/** The name of a host function; the runtime's import object is typed by it, so the two lists cannot drift apart. */
export type HostImportName = keyof typeof HOST_IMPORTS;

/** Export names the metering instrumentation adds; a contract may not use them. */
export const RESERVED_EXPORTS: readonly string[] = ["__gas_left", "__stack_height", "__reset_globals"];

export function isHostImport(name: string): name is HostImportName {
  return Object.hasOwn(HOST_IMPORTS, name);
}

function sameSignature(t: FuncType, s: HostSignature): boolean {
  const code = (v: "i32" | "i64"): ValType => (v === "i32" ? I32 : I64);
  return (
    t.params.length === s.params.length &&
    t.results.length === s.results.length &&
    t.params.every((p, i) => p === code(s.params[i])) &&
    t.results.every((r, i) => r === code(s.results[i]))
  );
}

const isFloat = (t: number) => t === F32 || t === F64;

/**
 * Checks a contract module against every deploy-time rule and returns its parsed form.
 * Throws `WasmError` with the code of the first rule broken.
 */
export function validateModule(bytes: Uint8Array, limits: WasmLimits = defaultWasmLimits): ParsedModule {
  if (bytes.length > limits.maxModuleBytes) {
    throw new WasmError({ code: "WASM_TOO_LARGE", size: bytes.length, limit: limits.maxModuleBytes });
  }
  const m = parseModule(bytes);

  if (m.start !== null) throw new WasmError({ code: "WASM_START_FUNCTION", functionIndex: m.start });

  // Types: integer only, at most one result.
  m.types.forEach((t, i) => {
    const bad = [...t.params, ...t.results].find(isFloat);
    if (bad !== undefined)
      throw new WasmError({ code: "WASM_FLOAT", where: `type ${i} ${formatFuncType(t)} uses ${valTypeName(bad)}` });
    if (t.results.length > 1) {
      throw new WasmError({
        code: "WASM_MULTI_VALUE",
        where: `type ${i} ${formatFuncType(t)} has ${t.results.length} results`,
      });
    }
  });

  // Imports: only the host functions, with their exact signatures.
  for (const imp of m.imports) {
    if (imp.module !== HOST_MODULE || imp.kind !== "func" || !isHostImport(imp.name)) {
      throw new WasmError({ code: "WASM_FORBIDDEN_IMPORT", module: imp.module, name: imp.name, kind: imp.kind });
    }
    const expected = HOST_IMPORTS[imp.name];
    const got = m.types[imp.typeIndex];
    if (!sameSignature(got, expected)) {
      throw new WasmError({
        code: "WASM_IMPORT_SIGNATURE",
        name: imp.name,
        expected: `(${expected.params.join(", ")}) -> (${expected.results.join(", ")})`,
        got: formatFuncType(got),
      });
    }
  }

  // Sizes.
  const functionCount = m.importedFunctions + m.functions.length;
  if (functionCount > limits.maxFunctions) {
    throw new WasmError({ code: "WASM_FUNCTION_LIMIT", count: functionCount, limit: limits.maxFunctions });
  }
  for (const t of m.tables) {
    const size = Math.max(t.limits.min, t.limits.max ?? 0);
    if (size > limits.maxTableSize) throw new WasmError({ code: "WASM_TABLE_LIMIT", size, limit: limits.maxTableSize });
  }
  for (const mem of m.memories) {
    const pages = Math.max(mem.min, mem.max ?? 0);
    if (pages > limits.maxMemoryPages) {
      throw new WasmError({ code: "WASM_MEMORY_LIMIT", pages, limit: limits.maxMemoryPages });
    }
  }
  const globalCount = m.importedGlobals + m.globals.length;
  if (globalCount > limits.maxGlobals) {
    throw new WasmError({ code: "WASM_GLOBAL_LIMIT", count: globalCount, limit: limits.maxGlobals });
  }
  m.globals.forEach((g, i) => {
    if (isFloat(g.type.type) || isFloatOpcode(g.init.op)) {
      throw new WasmError({ code: "WASM_FLOAT", where: `global ${i} has type ${valTypeName(g.type.type)}` });
    }
  });

  // Exports: memory, call and optional deploy; names the runtime adds are reserved.
  for (const e of m.exports) {
    if (RESERVED_EXPORTS.includes(e.name)) throw new WasmError({ code: "WASM_RESERVED_EXPORT", name: e.name });
  }
  const memory = m.exports.find((e) => e.name === "memory");
  if (memory === undefined)
    throw new WasmError({
      code: "WASM_MISSING_EXPORT",
      name: "memory",
      reason: 'the module must export its memory as "memory"',
    });
  if (memory.kind !== "memory") {
    throw new WasmError({
      code: "WASM_MISSING_EXPORT",
      name: "memory",
      reason: `"memory" must be a memory, not a ${memory.kind}`,
    });
  }
  for (const name of ["call", "deploy"]) {
    const e = m.exports.find((x) => x.name === name);
    if (e === undefined) {
      if (name === "deploy") continue;
      throw new WasmError({ code: "WASM_MISSING_EXPORT", name, reason: 'the module must export a function "call"' });
    }
    if (e.kind !== "func") {
      throw new WasmError({
        code: "WASM_MISSING_EXPORT",
        name,
        reason: `"${name}" must be a function, not a ${e.kind}`,
      });
    }
    const t = funcTypeOf(m, e.index);
    if (t === undefined || t.params.length > 0 || t.results.length > 0) {
      throw new WasmError({
        code: "WASM_MISSING_EXPORT",
        name,
        reason: `"${name}" must take and return nothing, not ${t ? formatFuncType(t) : "?"}`,
      });
    }
  }

  // Code: locals, then every instruction.
  for (const body of m.code) {
    const params = m.types[m.functions[body.functionIndex - m.importedFunctions]].params.length;
    const count = params + body.localCount;
    if (count > limits.maxLocals) {
      throw new WasmError({
        code: "WASM_LOCALS_LIMIT",
        functionIndex: body.functionIndex,
        count,
        limit: limits.maxLocals,
      });
    }
    const floatLocal = body.locals.find((l) => isFloat(l.type));
    if (floatLocal) {
      throw new WasmError({
        code: "WASM_FLOAT",
        where: `function ${body.functionIndex} declares ${valTypeName(floatLocal.type)} locals`,
      });
    }
    const { ops, offsets } = decodeFunctionBody(bytes, body);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const floatBlock = (op === Op.block || op === Op.loop || op === Op.if) && isFloat(bytes[offsets[i] + 1]);
      if (isFloatOpcode(op) || floatBlock) {
        throw new WasmError({
          code: "WASM_FLOAT",
          where: `function ${body.functionIndex}, ${floatBlock ? "block type" : "opcode"} 0x${(floatBlock ? bytes[offsets[i] + 1] : op).toString(16)} at byte 0x${offsets[i].toString(16)}`,
        });
      }
    }
  }

  if (!WebAssembly.validate(bytes)) {
    throw new WasmError({ code: "WASM_MALFORMED", reason: "rejected by the WebAssembly engine (type check failed)" });
  }
  return m;
}
