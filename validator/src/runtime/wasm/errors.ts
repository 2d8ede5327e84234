// Typed errors of the WebAssembly contract pipeline (reader, validation, instrumentation, compilation).
// Callers match on `err.type.code`; each deploy-time validation rule of docs/runtime.md has its own code.

import { RustChainError } from "@rustchain/shared";

export type WasmErrorType =
  /** Not a well-formed module in the supported binary format (MVP plus sign-extension), or rejected by the engine. */
  | { code: "WASM_MALFORMED"; reason: string; offset?: number }
  | { code: "WASM_TOO_LARGE"; size: number; limit: number }
  /** An f32/f64 value type or a floating-point instruction. */
  | { code: "WASM_FLOAT"; where: string }
  /** An instruction, type or encoding of a post-MVP feature RustChain forbids (SIMD, threads, bulk memory, ...). */
  | { code: "WASM_FORBIDDEN_OPCODE"; opcode: string; feature: string; offset: number }
  | { code: "WASM_START_FUNCTION"; functionIndex: number }
  | { code: "WASM_MEMORY_LIMIT"; pages: number; limit: number }
  | { code: "WASM_TABLE_LIMIT"; size: number; limit: number }
  | { code: "WASM_FUNCTION_LIMIT"; count: number; limit: number }
  | { code: "WASM_GLOBAL_LIMIT"; count: number; limit: number }
  | { code: "WASM_LOCALS_LIMIT"; functionIndex: number; count: number; limit: number }
  | { code: "WASM_FORBIDDEN_IMPORT"; module: string; name: string; kind: string }
  | { code: "WASM_IMPORT_SIGNATURE"; name: string; expected: string; got: string }
  | { code: "WASM_MISSING_EXPORT"; name: string; reason: string }
  /** The module exports a name the metering instrumentation adds itself (`__gas_left`, `__stack_height`). */
  | { code: "WASM_RESERVED_EXPORT"; name: string }
  | { code: "WASM_MULTI_VALUE"; where: string }
  /** Programming error: instrumentation or cache options out of range. */
  | { code: "WASM_INVALID_OPTIONS"; reason: string };

export type WasmErrorCode = WasmErrorType["code"];

/** A contract module rejected by the reader, the deploy-time validation or the instrumentation. */
export class WasmError extends RustChainError<WasmErrorType> {
  constructor(type: WasmErrorType) {
    super(type, wasmErrorMessage(type));
  }
}

const at = (offset: number | undefined) => (offset === undefined ? "" : ` at byte 0x${offset.toString(16)}`);

export function wasmErrorMessage(t: WasmErrorType): string {
  switch (t.code) {
    case "WASM_MALFORMED":
      return `malformed wasm module${at(t.offset)}: ${t.reason}`;
    case "WASM_TOO_LARGE":
      return `wasm module is ${t.size} bytes, the limit is ${t.limit}`;
    case "WASM_FLOAT":
      return `floating point is not allowed in contracts: ${t.where}`;
    case "WASM_FORBIDDEN_OPCODE":
      return `${t.feature} is not allowed in contracts: ${t.opcode}${at(t.offset)}`;
    case "WASM_START_FUNCTION":
      return `contracts may not have a start function (function ${t.functionIndex})`;
    case "WASM_MEMORY_LIMIT":
      return `memory of ${t.pages} pages exceeds the limit of ${t.limit} pages`;
    case "WASM_TABLE_LIMIT":
      return `table of ${t.size} entries exceeds the limit of ${t.limit}`;
    case "WASM_FUNCTION_LIMIT":
      return `${t.count} functions exceed the limit of ${t.limit}`;
    case "WASM_GLOBAL_LIMIT":
      return `${t.count} globals exceed the limit of ${t.limit}`;
    case "WASM_LOCALS_LIMIT":
      return `function ${t.functionIndex} has ${t.count} locals, the limit is ${t.limit}`;
    case "WASM_FORBIDDEN_IMPORT":
      return `import ${JSON.stringify(t.module)}.${JSON.stringify(t.name)} (${t.kind}) is not allowed: contracts may only import the functions of module "rustchain" listed in docs/runtime.md`;
    case "WASM_IMPORT_SIGNATURE":
      return `import rustchain.${t.name} has type ${t.got}, expected ${t.expected}`;
    case "WASM_MISSING_EXPORT":
      return `export ${JSON.stringify(t.name)}: ${t.reason}`;
    case "WASM_RESERVED_EXPORT":
      return `export name ${JSON.stringify(t.name)} is reserved for the runtime's metering`;
    case "WASM_MULTI_VALUE":
      return `multi-value is not allowed in contracts: ${t.where}`;
    case "WASM_INVALID_OPTIONS":
      return `invalid wasm runtime options: ${t.reason}`;
  }
}
