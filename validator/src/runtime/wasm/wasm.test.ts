import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Gas, INK_PER_GAS, meteringOptions, WASM_INSTRUCTION_COSTS, WasmInk } from "../gasSchedule.ts";
import { ModuleCache } from "./compileCache.ts";
import { IdleBudget, InstancePool } from "./instancePool.ts";
import { basicBlockCosts, type InstrumentOptions, instrumentModule, UNIT_COSTS } from "./instrument.ts";
import { HOST_IMPORTS, validateModule, WasmError } from "./validateModule.ts";
import { decodeFunctionBody, parseModule, WasmReader } from "./wasmReader.ts";

// ---- a tiny wasm assembler ----

const T = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c } as const;
const VOID = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    const b = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? b : b | 0x80);
  } while (v !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const str = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const funcImport = (module: string, name: string, type: number) => [...str(module), ...str(name), 0x00, ...uleb(type)];

interface Func {
  type: number;
  locals?: Array<[count: number, type: number]>;
  body: number[];
}

interface Spec {
  types?: Array<[params: number[], results: number[]]>;
  /** Raw import entries; function imports are assumed when computing the default `call` export index. */
  imports?: number[][];
  funcs?: Func[];
  /** Raw table type. */
  table?: number[];
  /** Raw memory limits; null for no memory. */
  memory?: number[] | null;
  /** Raw global entries. */
  globals?: number[][];
  exports?: Array<[name: string, kind: number, index: number]>;
  start?: number;
  elements?: number[][];
  data?: number[][];
  customs?: Array<[name: string, payload: number[]]>;
}

/** A module; by default a minimal valid contract: memory (1 page) and `call: [] -> []`. */
function wasm(spec: Spec = {}): Uint8Array {
  const types = spec.types ?? [[[], []]];
  const funcs = spec.funcs ?? [{ type: 0, body: [0x0b] }];
  const importCount = spec.imports?.length ?? 0;
  const exports = spec.exports ?? [
    ["memory", 2, 0],
    ["call", 0, importCount],
  ];
  const memory = spec.memory === undefined ? [0x00, 1] : spec.memory;
  const out: number[][] = [[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]];
  out.push(section(1, vec(types.map(([p, r]) => [0x60, ...vec(p.map((x) => [x])), ...vec(r.map((x) => [x]))]))));
  if (spec.imports) out.push(section(2, vec(spec.imports)));
  out.push(section(3, vec(funcs.map((f) => uleb(f.type)))));
  if (spec.table) out.push(section(4, vec([spec.table])));
  if (memory) out.push(section(5, vec([memory])));
  if (spec.globals) out.push(section(6, vec(spec.globals)));
  out.push(section(7, vec(exports.map(([n, k, i]) => [...str(n), k, ...uleb(i)]))));
  if (spec.start !== undefined) out.push(section(8, uleb(spec.start)));
  if (spec.elements) out.push(section(9, vec(spec.elements)));
  out.push(
    section(
      10,
      vec(
        funcs.map((f) => {
          const b = [...vec((f.locals ?? []).map(([c, t]) => [...uleb(c), t])), ...f.body];
          return [...uleb(b.length), ...b];
        }),
      ),
    ),
  );
  if (spec.data) out.push(section(11, vec(spec.data)));
  for (const [name, payload] of spec.customs ?? []) out.push(section(0, [...str(name), ...payload]));
  return Uint8Array.from(out.flat());
}

/** A contract whose `call` has the given body (and locals). */
const withCallBody = (body: number[], locals?: Func["locals"]) => wasm({ funcs: [{ type: 0, locals, body }] });

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof WasmError) return e.type.code;
    throw e;
  }
  return "OK";
}

function expectRejected(bytes: Uint8Array, code: string): WasmError {
  try {
    validateModule(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(WasmError);
    const err = e as WasmError;
    expect(err.type.code, err.message).toBe(code);
    expect(err.message.length).toBeGreaterThan(10);
    return err;
  }
  throw new Error(`expected ${code}, but the module was accepted`);
}

type Exports = Record<string, unknown>;

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}): Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;
}

/**
 * The instrumentation's tests count in a unit schedule: 1 per instruction, nothing per block, 1,000 per page, so that
 * expected costs are instruction counts. The runtime's calibrated schedule has tests of its own below.
 */
const UNIT: InstrumentOptions = Object.freeze({ maxStackHeight: 1024, pageCost: 1000n, costs: UNIT_COSTS });

/** An instrumented instance with helpers to run an export under a budget (in the schedule's units). */
function metered(bytes: Uint8Array, imports: WebAssembly.Imports = {}, opts: InstrumentOptions = UNIT) {
  const exports = instantiate(instrumentModule(bytes, opts), imports);
  const gas = exports.__gas_left as WebAssembly.Global;
  const stack = exports.__stack_height as WebAssembly.Global;
  const run = (name: string, args: number[] = [], budget = 10n ** 12n) => {
    gas.value = budget;
    const result = (exports[name] as (...a: number[]) => unknown)(...args);
    return { result, used: budget - (gas.value as bigint) };
  };
  return { exports, gas, stack, run };
}

function trapOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

// ---- C modules built with clang ----

const C_PRELUDE = `
#define EXPORT(n) __attribute__((export_name(n)))
#define IMPORT(n) __attribute__((import_module("rustchain"), import_name(n)))
`;

const C_SOURCES: Record<string, { src: string; flags?: string[] }> = {
  contract: {
    src: `
IMPORT("calldata_size") int calldata_size(void);
IMPORT("calldata_copy") void calldata_copy(int dest, int offset, int len);
IMPORT("storage_read") void storage_read(int key, int out);
IMPORT("finish") void finish(int ptr, int len);
IMPORT("block_number") long long block_number(void);
IMPORT("call") int host_call(int addr, int value, long long gas, int data, int len);
static unsigned char buf[64];
EXPORT("call") void call(void) {
  int n = calldata_size();
  if (n > 32) n = 32;
  calldata_copy((int)buf, 0, n);
  storage_read((int)buf, (int)buf + 32);
  buf[0] = (unsigned char)block_number();
  finish((int)buf, 64);
}
EXPORT("deploy") void deploy(void) {}
EXPORT("ping") int ping(int x) { return host_call(0, 0, 5000, x, 0); }
`,
  },
  metered: {
    src: `
volatile int sink;
EXPORT("call") void call(void) { while (1) {} }
__attribute__((noinline)) int rec(int n) { if (n <= 0) return 0; int r = rec(n - 1); sink = r; return r + 1; }
EXPORT("depth") int depth(int n) { return rec(n); }
EXPORT("compute") int compute(int n) {
  unsigned h = 2166136261u;
  for (int i = 0; i < n; i++) { h ^= (unsigned)i; h *= 16777619u; if (h & 1) h += 7; else h = (h << 3) | (h >> 29); }
  return (int)h;
}
EXPORT("grow") int grow(int n) { return __builtin_wasm_memory_grow(0, n); }
EXPORT("pages") int pages(void) { return __builtin_wasm_memory_size(0); }
`,
  },
  floatSignature: {
    src: `EXPORT("call") void call(void) {}\nEXPORT("scale") float scale(float x) { return x * 1.5f; }`,
  },
  floatInternal: {
    src: `volatile float f = 2.0f; volatile int out;\nEXPORT("call") void call(void) { out = (int)(f * 3.0f); }`,
  },
  envImport: {
    src: `extern void env_thing(int);\nEXPORT("call") void call(void) { env_thing(1); }`,
    flags: ["-Wl,--allow-undefined"],
  },
  bigMemory: { src: `EXPORT("call") void call(void) {}`, flags: ["-Wl,--initial-memory=6553600"] },
  badSignature: { src: `IMPORT("finish") void finish(int ptr);\nEXPORT("call") void call(void) { finish(0); }` },
  noCall: { src: `EXPORT("run") void run(void) {}` },
};

const built: Record<string, Uint8Array> = {};
let dir = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rustchain-wasm-"));
  const run = promisify(execFile);
  await Promise.all(
    Object.entries(C_SOURCES).map(async ([name, { src, flags }]) => {
      const c = join(dir, `${name}.c`);
      const out = join(dir, `${name}.wasm`);
      writeFileSync(c, C_PRELUDE + src);
      await run("clang", [
        "--target=wasm32",
        "-nostdlib",
        "-O2",
        "-Wl,--no-entry",
        "-Wl,--export-dynamic",
        ...(flags ?? []),
        c,
        "-o",
        out,
      ]);
      built[name] = new Uint8Array(readFileSync(out));
    }),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- reader ----

describe("wasmReader", () => {
  const reader = (bytes: number[]) => new WasmReader(Uint8Array.from(bytes));

  it("decodes LEB128 within their length limits", () => {
    expect(reader([0xe5, 0x8e, 0x26]).u32()).toBe(624485);
    expect(reader([0xff, 0xff, 0xff, 0xff, 0x0f]).u32()).toBe(0xffffffff);
    expect(reader([0x7f]).i32()).toBe(-1);
    expect(reader([0x80, 0x80, 0x80, 0x80, 0x78]).i32()).toBe(-(2 ** 31));
    expect(reader([0xff, 0xff, 0xff, 0xff, 0x07]).i32()).toBe(2 ** 31 - 1);
    expect(reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]).i64()).toBe(-(2n ** 63n));
    expect(reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]).i64()).toBe(2n ** 63n - 1n);
    expect(reader([0xc0, 0xbb, 0x78]).i64()).toBe(-123456n);
    for (const bad of [
      () => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).u32(), // 6 bytes
      () => reader([0xff, 0xff, 0xff, 0xff, 0x1f]).u32(), // 2^33 - 1
      () => reader([0xff, 0xff, 0xff, 0xff, 0x17]).i32(), // unused bits not a sign extension
      () => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).i64(), // bit 64
      () => reader([0x80, 0x80]).u32(), // truncated
      () => reader([]).u8(),
    ]) {
      expect(errorCode(bad)).toBe("WASM_MALFORMED");
    }
  });

  it("parses every section of a module", () => {
    const bytes = wasm({
      types: [
        [[], []],
        [[T.i32, T.i32], []],
      ],
      imports: [funcImport("rustchain", "finish", 1)],
      funcs: [{ type: 0, locals: [[2, T.i32]], body: [0x41, 0, 0x41, 0, 0x10, 0, 0x0b] }],
      table: [0x70, 0x00, 1],
      globals: [[T.i64, 1, 0x42, 0x7f, 0x0b]],
      elements: [[0x00, 0x41, 0, 0x0b, ...vec([[1]])]],
      data: [[0x00, 0x41, 16, 0x0b, ...vec([[1], [2], [3]])]],
      customs: [["hello", [1, 2, 3]]],
    });
    const m = validateModule(bytes);
    expect(m.imports).toEqual([
      { module: "rustchain", name: "finish", offset: expect.any(Number), kind: "func", typeIndex: 1 },
    ]);
    expect(m.functions).toEqual([0]);
    expect(m.tables[0].limits).toEqual({ min: 1, max: null });
    expect(m.memories).toEqual([{ min: 1, max: null }]);
    expect(m.globals[0].init.value).toBe(-1n);
    expect(m.exports.map((e) => e.name)).toEqual(["memory", "call"]);
    expect(m.elements[0].functions).toEqual([1]);
    expect(Array.from(bytes.subarray(m.data[0].start, m.data[0].end))).toEqual([1, 2, 3]);
    expect(m.code[0].localCount).toBe(2);
    expect(m.sections.find((s) => s.id === 0)?.name).toBe("hello");
    const decoded = decodeFunctionBody(bytes, m.code[0]);
    expect(Array.from(decoded.ops)).toEqual([0x41, 0x41, 0x10, 0x0b]);
    expect(decoded.offsets[decoded.ops.length]).toBe(m.code[0].end);
  });

  it("rejects structural errors as WASM_MALFORMED", () => {
    const good = wasm();
    expect(errorCode(() => parseModule(good))).toBe("OK");
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), // version 2
      good.subarray(0, good.length - 1), // truncated
      Uint8Array.from([...good, 0x01, 0x01, 0x00]), // type section again, out of order
      Uint8Array.from([...good, 0x0e, 0x00]), // unknown section id
      Uint8Array.from([...good, 0x00, 0x03, 0x02, 0xc3, 0x28]), // custom section name not UTF-8
      withCallBody([0x02, 0x40, 0x0b]), // body without its final end
      withCallBody([0x0b, 0x0b]), // bytes after the final end
      withCallBody([0x05, 0x0b]), // else outside if
      withCallBody([0x27, 0x0b]), // unknown opcode
      withCallBody([0x41, 0x00, 0x0b]), // leaves a value: only the engine's type check sees this
      withCallBody([0x41, 0x00, 0x28, 0x40, 0x00, 0x00, 0x1a, 0x0b]), // alignment bit 6: multi-memory memarg
    ];
    for (const bytes of cases) expect(errorCode(() => validateModule(bytes))).toBe("WASM_MALFORMED");
  });
});

// ---- validation ----

describe("validateModule", () => {
  it("accepts a minimal contract and a clang-built contract using host imports", () => {
    expect(validateModule(wasm()).exports.length).toBe(2);
    const m = validateModule(built.contract);
    expect(m.imports.map((i) => i.name).sort()).toEqual(
      ["block_number", "call", "calldata_copy", "calldata_size", "finish", "storage_read"].sort(),
    );
    expect(validateModule(built.metered).exports.some((e) => e.name === "depth")).toBe(true);
  });

  it("lists the host API of docs/runtime.md", () => {
    expect(Object.keys(HOST_IMPORTS)).toHaveLength(30);
    expect(HOST_IMPORTS.call).toEqual({ params: ["i32", "i32", "i64", "i32", "i32"], results: ["i32"] });
    expect(HOST_IMPORTS.block_number).toEqual({ params: [], results: ["i64"] });
    expect(HOST_IMPORTS.gas_left.results).toEqual(["i64"]);
    expect(HOST_IMPORTS.calldata_size).toEqual({ params: [], results: ["i32"] });
    expect(HOST_IMPORTS.ai_matmul_i8.params).toHaveLength(6);
    expect(HOST_IMPORTS.code_hash).toEqual({ params: ["i32", "i32"], results: [] });
    expect(HOST_IMPORTS.sha256).toEqual({ params: ["i32", "i32", "i32"], results: [] });
    for (const name of [
      "returndata_size",
      "ai_argmax_i8",
      "ai_mlp_forward",
      "groth16_verify",
      "secp256k1_recover",
    ] as const) {
      expect(HOST_IMPORTS[name].results).toEqual(["i32"]);
    }
  });

  it("WASM_TOO_LARGE: more than 120 KiB", () => {
    const err = expectRejected(wasm({ customs: [["pad", new Array(120 * 1024).fill(0)]] }), "WASM_TOO_LARGE");
    expect(err.type).toMatchObject({ limit: 120 * 1024 });
    expect(validateModule(wasm({ customs: [["pad", new Array(1000).fill(0)]] })).exports).toHaveLength(2);
  });

  it("WASM_MALFORMED: garbage bytes", () => {
    expectRejected(new TextEncoder().encode("definitely not a wasm module"), "WASM_MALFORMED");
    expectRejected(
      Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      "WASM_MALFORMED",
    );
  });

  it("WASM_FLOAT: C code using float, float types, locals, globals and opcodes", () => {
    expectRejected(built.floatSignature, "WASM_FLOAT");
    expectRejected(built.floatInternal, "WASM_FLOAT");
    expectRejected(
      wasm({
        types: [
          [[], []],
          [[T.f64], []],
        ],
      }),
      "WASM_FLOAT",
    ); // unused type
    expectRejected(withCallBody([0x0b], [[1, T.f32]]), "WASM_FLOAT"); // local
    expectRejected(wasm({ globals: [[T.f64, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b]] }), "WASM_FLOAT");
    expectRejected(withCallBody([0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1a, 0x0b]), "WASM_FLOAT"); // f64.const 1
    expectRejected(withCallBody([0x41, 0, 0xbe, 0x1a, 0x0b]), "WASM_FLOAT"); // f32.reinterpret_i32
    expectRejected(withCallBody([0x41, 0, 0x2a, 0x02, 0x00, 0x1a, 0x0b]), "WASM_FLOAT"); // f32.load
    expectRejected(withCallBody([0x02, T.f32, 0x43, 0, 0, 0, 0, 0x0b, 0x1a, 0x0b]), "WASM_FLOAT"); // block (result f32)
    // Integer-only conversions that sit between float ones are fine.
    expect(validateModule(withCallBody([0x42, 1, 0xa7, 0xac, 0xa7, 0xc0, 0x1a, 0x0b])).code).toHaveLength(1);
  });

  it("WASM_FORBIDDEN_OPCODE: 0xFC, SIMD, atomics, reference types and their encodings", () => {
    const cases: number[][] = [
      [0x41, 0, 0xfc, 0x00, 0x1a, 0x0b], // i32.trunc_sat_f32_s
      [0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0b, 0x00, 0x0b], // memory.fill
      [0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x0b], // v128.const
      [0x41, 0, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b], // i32.atomic.load
      [0xd0, 0x70, 0x1a, 0x0b], // ref.null func
      [0x41, 0, 0x25, 0x00, 0x1a, 0x0b], // table.get
      [0x12, 0x00, 0x0b], // return_call
    ];
    for (const body of cases) expectRejected(withCallBody(body), "WASM_FORBIDDEN_OPCODE");
    expectRejected(withCallBody([0x0b], [[1, 0x7b]]), "WASM_FORBIDDEN_OPCODE"); // v128 local
    expectRejected(wasm({ memory: [0x03, 1, 1] }), "WASM_FORBIDDEN_OPCODE"); // shared memory
    expectRejected(wasm({ data: [[0x01, ...vec([[1]])]] }), "WASM_FORBIDDEN_OPCODE"); // passive data segment
    expectRejected(wasm({ table: [0x6f, 0x00, 1] }), "WASM_FORBIDDEN_OPCODE"); // externref table
  });

  it("WASM_START_FUNCTION", () => {
    expectRejected(wasm({ start: 0 }), "WASM_START_FUNCTION");
  });

  it("WASM_MEMORY_LIMIT: a C module with 100 pages, or a maximum above 64", () => {
    const err = expectRejected(built.bigMemory, "WASM_MEMORY_LIMIT");
    expect(err.type).toMatchObject({ pages: 100, limit: 64 });
    expectRejected(wasm({ memory: [0x01, 1, 65] }), "WASM_MEMORY_LIMIT");
    expect(validateModule(wasm({ memory: [0x01, 64, 64] })).memories).toEqual([{ min: 64, max: 64 }]);
  });

  it("WASM_TABLE_LIMIT", () => {
    expectRejected(wasm({ table: [0x70, 0x00, ...uleb(4097)] }), "WASM_TABLE_LIMIT");
    expectRejected(wasm({ table: [0x70, 0x01, 1, ...uleb(5000)] }), "WASM_TABLE_LIMIT");
    expect(validateModule(wasm({ table: [0x70, 0x01, 1, ...uleb(4096)] })).tables).toHaveLength(1);
  });

  it("WASM_FUNCTION_LIMIT", () => {
    const funcs = (n: number) => Array.from({ length: n }, () => ({ type: 0, body: [0x0b] }));
    expectRejected(wasm({ funcs: funcs(2049) }), "WASM_FUNCTION_LIMIT");
    expect(validateModule(wasm({ funcs: funcs(2048) })).functions).toHaveLength(2048);
  });

  it("WASM_GLOBAL_LIMIT", () => {
    const globals = (n: number) => Array.from({ length: n }, () => [T.i32, 1, 0x41, 0, 0x0b]);
    expectRejected(wasm({ globals: globals(257) }), "WASM_GLOBAL_LIMIT");
    expect(validateModule(wasm({ globals: globals(256) })).globals).toHaveLength(256);
  });

  it("WASM_LOCALS_LIMIT: declared locals plus parameters", () => {
    expectRejected(withCallBody([0x0b], [[10_001, T.i32]]), "WASM_LOCALS_LIMIT");
    expectRejected(withCallBody([0x0b], [[0xffffffff, T.i64]]), "WASM_LOCALS_LIMIT");
    const withParams = wasm({
      types: [
        [[], []],
        [[T.i32, T.i32], []],
      ],
      funcs: [
        { type: 0, body: [0x0b] },
        { type: 1, locals: [[9_999, T.i32]], body: [0x0b] },
      ],
    });
    expectRejected(withParams, "WASM_LOCALS_LIMIT");
    expect(validateModule(withCallBody([0x0b], [[10_000, T.i32]])).code[0].localCount).toBe(10_000);
  });

  it("WASM_FORBIDDEN_IMPORT: other modules, unknown names, non-function imports", () => {
    expectRejected(built.envImport, "WASM_FORBIDDEN_IMPORT");
    const sig = [
      [[], []],
      [[T.i32, T.i32], []],
    ] as Spec["types"];
    const funcImports = [
      funcImport("env", "finish", 1),
      funcImport("rustchain", "selfdestruct", 1),
      funcImport("rustchain", "toString", 1), // not an own property of the allow-list
      funcImport("rustchain", "__proto__", 1),
    ];
    for (const imp of funcImports) expectRejected(wasm({ types: sig, imports: [imp] }), "WASM_FORBIDDEN_IMPORT");
    // Non-function imports, even from "rustchain" under an allowed name.
    expectRejected(
      wasm({
        imports: [[...str("rustchain"), ...str("memory"), 0x02, 0x00, 1]],
        memory: null,
        exports: [
          ["memory", 2, 0],
          ["call", 0, 0],
        ],
      }),
      "WASM_FORBIDDEN_IMPORT",
    );
    expectRejected(
      wasm({
        imports: [[...str("rustchain"), ...str("gas_left"), 0x03, T.i64, 1]],
        exports: [
          ["memory", 2, 0],
          ["call", 0, 0],
        ],
      }),
      "WASM_FORBIDDEN_IMPORT",
    );
    expectRejected(
      wasm({
        imports: [[...str("rustchain"), ...str("finish"), 0x01, 0x70, 0x00, 1]],
        exports: [
          ["memory", 2, 0],
          ["call", 0, 0],
        ],
      }),
      "WASM_FORBIDDEN_IMPORT",
    );
  });

  it("WASM_IMPORT_SIGNATURE: the import's type must match exactly", () => {
    const err = expectRejected(built.badSignature, "WASM_IMPORT_SIGNATURE");
    expect(err.message).toContain("finish");
    const withImport = (name: string, params: number[], results: number[]) =>
      wasm({
        types: [
          [[], []],
          [params, results],
        ],
        imports: [funcImport("rustchain", name, 1)],
      });
    expectRejected(withImport("block_number", [], [T.i32]), "WASM_IMPORT_SIGNATURE");
    expectRejected(withImport("call", [T.i32, T.i32, T.i32, T.i32, T.i32], [T.i32]), "WASM_IMPORT_SIGNATURE");
    expectRejected(withImport("storage_write", [T.i32, T.i32], [T.i32]), "WASM_IMPORT_SIGNATURE");
    expect(validateModule(withImport("call", [T.i32, T.i32, T.i64, T.i32, T.i32], [T.i32])).imports).toHaveLength(1);
    expect(validateModule(withImport("gas_left", [], [T.i64])).imports).toHaveLength(1);
  });

  it("WASM_MISSING_EXPORT: memory and call ([] -> []) are required, deploy must be [] -> []", () => {
    expectRejected(built.noCall, "WASM_MISSING_EXPORT");
    expectRejected(wasm({ exports: [["call", 0, 0]] }), "WASM_MISSING_EXPORT");
    expectRejected(
      wasm({
        exports: [
          ["memory", 0, 0],
          ["call", 0, 0],
        ],
      }),
      "WASM_MISSING_EXPORT",
    );
    const typed = (callType: number, deployType: number) =>
      wasm({
        types: [
          [[], []],
          [[T.i32], []],
          [[], [T.i32]],
        ],
        funcs: [
          { type: callType, body: callType === 2 ? [0x41, 0, 0x0b] : [0x0b] },
          { type: deployType, body: deployType === 2 ? [0x41, 0, 0x0b] : [0x0b] },
        ],
        exports: [
          ["memory", 2, 0],
          ["call", 0, 0],
          ["deploy", 0, 1],
        ],
      });
    expectRejected(typed(1, 0), "WASM_MISSING_EXPORT");
    expectRejected(typed(2, 0), "WASM_MISSING_EXPORT");
    expectRejected(typed(0, 2), "WASM_MISSING_EXPORT");
    expect(validateModule(typed(0, 0)).exports).toHaveLength(3);
  });

  it("WASM_MULTI_VALUE: several results, or a block type index", () => {
    expectRejected(
      wasm({
        types: [
          [[], []],
          [[], [T.i32, T.i32]],
        ],
      }),
      "WASM_MULTI_VALUE",
    );
    expectRejected(withCallBody([0x02, 0x00, 0x0b, 0x0b]), "WASM_MULTI_VALUE");
  });

  it("WASM_RESERVED_EXPORT: the metering globals' names", () => {
    expectRejected(
      wasm({
        exports: [
          ["memory", 2, 0],
          ["call", 0, 0],
          ["__gas_left", 0, 0],
        ],
      }),
      "WASM_RESERVED_EXPORT",
    );
  });
});

// ---- fuzzing ----

describe("fuzz: malformed input only ever throws WasmError", () => {
  const expectOnlyWasmErrors = (bytes: Uint8Array) => {
    let parsed = false;
    try {
      validateModule(bytes);
      parsed = true;
    } catch (e) {
      if (!(e instanceof WasmError)) throw e;
    }
    if (parsed) expect(WebAssembly.validate(instrumentModule(bytes, meteringOptions))).toBe(true);
    try {
      instrumentModule(bytes, meteringOptions);
    } catch (e) {
      if (!(e instanceof WasmError)) throw e;
    }
  };

  it("random bytes, with and without a wasm header", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (tail, header) => {
        expectOnlyWasmErrors(header ? Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...tail]) : tail);
      }),
      { numRuns: 1000 },
    );
  });

  it("mutated valid modules (byte flips, insertions, deletions, truncation)", () => {
    const seeds = [
      built.contract,
      built.metered,
      wasm({
        types: [
          [[], []],
          [[T.i32], [T.i32]],
        ],
        funcs: [
          { type: 0, body: [0x02, 0x40, 0x03, 0x40, 0x41, 0, 0x0d, 1, 0x0b, 0x0b, 0x0b] },
          {
            type: 1,
            locals: [[1, T.i64]],
            body: [0x20, 0, 0x40, 0x00, 0x04, T.i32, 0x41, 1, 0x05, 0x41, 2, 0x0b, 0x0b],
          },
        ],
        table: [0x70, 0x00, 2],
        globals: [[T.i64, 1, 0x42, 5, 0x0b]],
        elements: [[0x00, 0x41, 0, 0x0b, ...vec([[0], [1]])]],
        data: [[0x00, 0x41, 8, 0x0b, ...vec([[1], [2]])]],
      }),
    ];
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), value: fc.constant(0) }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (s, muts) => {
        const b = [...seeds[s]];
        for (const { kind, at, value } of muts) {
          const i = at % (b.length + 1);
          if (kind === "flip" && i < b.length) b[i] = value;
          else if (kind === "insert") b.splice(i, 0, value);
          else if (kind === "delete") b.splice(i, 1);
          else if (kind === "truncate") b.length = Math.max(0, i);
        }
        expectOnlyWasmErrors(Uint8Array.from(b));
      }),
      { numRuns: 1500 },
    );
  });
});

// ---- instrumentation ----

describe("instrumentModule", () => {
  it("produces valid modules exporting __gas_left (i64), __stack_height (i32) and __reset_globals", () => {
    for (const name of ["contract", "metered", "noCall", "floatSignature"]) {
      expect(WebAssembly.validate(instrumentModule(built[name], meteringOptions)), name).toBe(true);
    }
    const { gas, stack } = metered(built.metered);
    expect(typeof gas.value).toBe("bigint");
    expect(stack.value).toBe(0);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(instrumentModule(built.metered, UNIT)));
    expect(exports).toEqual(
      expect.arrayContaining([
        { name: "__gas_left", kind: "global" },
        { name: "__stack_height", kind: "global" },
        { name: "__reset_globals", kind: "function" },
      ]),
    );
  });

  it("C while(1){} traps once the gas runs out", () => {
    const { exports, gas } = metered(built.metered);
    gas.value = 1_000_000n;
    const err = trapOf(() => (exports.call as () => void)());
    expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((err as Error).message).toMatch(/unreachable/);
    expect(gas.value as bigint).toBeLessThanOrEqual(0n);
  });

  it("a straight computation gives the same result and a deterministic, growing gas cost", () => {
    const plain = instantiate(built.metered);
    const compute = plain.compute as (n: number) => number;
    const m = metered(built.metered);
    const a = m.run("compute", [1000]);
    const b = m.run("compute", [1000]);
    const c = m.run("compute", [2000]);
    expect(a.result).toBe(compute(1000));
    expect(c.result).toBe(compute(2000));
    expect(a.used).toBe(b.used);
    expect(metered(built.metered).run("compute", [1000]).used).toBe(a.used);
    expect(c.used).toBeGreaterThan(a.used);
    expect(a.used).toBeGreaterThan(1000n);
    // The exact budget suffices; one gas less traps.
    expect(m.run("compute", [1000], a.used).result).toBe(compute(1000));
    expect(m.gas.value).toBe(0n);
    expect(trapOf(() => m.run("compute", [1000], a.used - 1n))).toBeInstanceOf(WebAssembly.RuntimeError);
  });

  it("charges exactly one gas per instruction of each executed basic block", () => {
    const bytes = wasm({
      types: [
        [[], []],
        [[T.i32], [T.i32]],
        [[], [T.i32]],
      ],
      funcs: [
        { type: 0, body: [0x0b] },
        {
          // sum(n): acc = 0; while (n != 0) { acc += n; n -= 1 } return acc
          type: 1,
          locals: [[1, T.i32]],
          body: [
            ...[0x02, VOID, 0x03, VOID], // block loop
            ...[0x20, 0, 0x45, 0x0d, 1], // local.get 0; i32.eqz; br_if 1
            ...[0x20, 1, 0x20, 0, 0x6a, 0x21, 1], // acc += n
            ...[0x20, 0, 0x41, 1, 0x6b, 0x21, 0], // n -= 1
            ...[0x0c, 0, 0x0b, 0x0b], // br 0; end; end
            ...[0x20, 1, 0x0b], // local.get 1; end
          ],
        },
        { type: 2, body: [0x41, 1, 0x41, 2, 0x6a, 0x0b] },
      ],
      exports: [
        ["memory", 2, 0],
        ["call", 0, 0],
        ["sum", 0, 1],
        ["three", 0, 2],
      ],
    });
    const m = metered(bytes);
    expect(m.run("three")).toEqual({ result: 3, used: 4n });
    expect(m.run("call")).toEqual({ result: undefined, used: 1n });
    // block: 1, loop: 1, per test: 3, per iteration body: 9, exit: local.get + end = 2.
    for (const n of [0, 1, 10, 100])
      expect(m.run("sum", [n])).toEqual({ result: (n * (n + 1)) / 2, used: BigInt(12 * n + 7) });
    expect(
      Array.from(basicBlockCosts(Uint8Array.from([0x02, 0x03, 0x20, 0x45, 0x0d, 0x20, 0x0c, 0x0b, 0x0b, 0x20, 0x0b]))),
    ).toEqual([1, 1, 3, 0, 0, 2, 0, 1, 1, 2, 0]);
  });

  it("bounds the call depth deterministically: recursion to depth 1000 works, unbounded recursion traps", () => {
    const m = metered(built.metered);
    expect(m.run("depth", [1000]).result).toBe(1000);
    expect(m.stack.value).toBe(0);
    const deep = trapOf(() => m.run("depth", [1100]));
    expect(deep).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(m.stack.value).toBe(1025);

    const forever = wasm({ funcs: [{ type: 0, body: [0x10, 0, 0x0b] }] });
    expect(trapOf(() => (instantiate(forever).call as () => void)())).toBeInstanceOf(RangeError);
    const f = metered(forever);
    const err = trapOf(() => f.run("call"));
    expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(err).not.toBeInstanceOf(RangeError);
    expect(f.stack.value).toBe(1025);
  });

  it("lowers the stack height on every exit: return, br/br_if/br_table to the function label, fallthrough", () => {
    const bodies: number[][] = [
      [0x41, 7, 0x0f, 0x0b], // return
      [0x41, 7, 0x0c, 0, 0x0b], // br 0 (the function's label)
      [0x02, VOID, 0x41, 7, 0x0c, 1, 0x0b, 0x41, 8, 0x0b], // br 1 from a nested block
      [0x41, 7, 0x41, 1, 0x0d, 0, 0x0b], // br_if 0 taken
      [0x41, 7, 0x41, 0, 0x0e, 0, 0, 0x0b], // br_table [] default 0
      [0x41, 7, 0x0b], // fallthrough
    ];
    for (const body of bodies) {
      const bytes = wasm({
        types: [
          [[], []],
          [[], [T.i32]],
        ],
        funcs: [
          { type: 0, body: [0x0b] },
          { type: 1, body },
        ],
        exports: [
          ["memory", 2, 0],
          ["call", 0, 0],
          ["seven", 0, 1],
        ],
      });
      const m = metered(bytes);
      for (let i = 0; i < 2000; i++) expect(m.run("seven").result).toBe(7);
      expect(m.stack.value).toBe(0);
    }
  });

  it("charges pageCost per page before memory.grow, traps without the gas, and caps memory at 64 pages", () => {
    const m = metered(built.metered);
    const before = m.run("pages").result as number;
    const zero = m.run("grow", [0]);
    const three = m.run("grow", [3]);
    expect(three.result).toBe(before);
    expect(m.run("pages").result).toBe(before + 3);
    expect(three.used - zero.used).toBe(3000n);

    const pagesNow = m.run("pages").result as number;
    m.gas.value = 2500n;
    const err = trapOf(() => (m.exports.grow as (n: number) => number)(3));
    expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(m.gas.value as bigint).toBeLessThan(0n);
    expect(m.run("pages").result).toBe(pagesNow);

    expect(m.run("grow", [64]).result).toBe(-1);
    expect(m.run("grow", [64 - pagesNow]).result).toBe(pagesNow);
    expect(m.run("pages").result).toBe(64);

    const exact = wasm({
      types: [
        [[], []],
        [[T.i32], [T.i32]],
      ],
      funcs: [
        { type: 0, body: [0x0b] },
        { type: 1, body: [0x20, 0, 0x40, 0x00, 0x0b] },
      ],
      exports: [
        ["memory", 2, 0],
        ["call", 0, 0],
        ["grow", 0, 1],
      ],
    });
    const e = metered(exact);
    expect(e.run("grow", [2])).toEqual({ result: 1, used: 3n + 2000n });
    const custom = instantiate(instrumentModule(exact, { maxStackHeight: 10, pageCost: 7n, costs: UNIT_COSTS }));
    (custom.__gas_left as WebAssembly.Global).value = 100n;
    expect((custom.grow as (n: number) => number)(5)).toBe(1);
    expect((custom.__gas_left as WebAssembly.Global).value).toBe(100n - 3n - 35n);
  });

  it("keeps host calls working: same host interactions instrumented and not", () => {
    const log: string[] = [];
    const calldata = Uint8Array.from([1, 2, 3, 4, 5]);
    const hostFor = (memory: () => WebAssembly.Memory): WebAssembly.Imports => ({
      rustchain: {
        calldata_size: () => calldata.length,
        calldata_copy: (dest: number, offset: number, len: number) => {
          new Uint8Array(memory().buffer, dest, len).set(calldata.subarray(offset, offset + len));
        },
        storage_read: (key: number, out: number) => {
          log.push(`read ${key}`);
          new Uint8Array(memory().buffer, out, 32).fill(9);
        },
        finish: (ptr: number, len: number) => {
          log.push(`finish ${Array.from(new Uint8Array(memory().buffer, ptr, len)).join(",")}`);
        },
        block_number: () => 42n,
        call: (_a: number, _v: number, gas: bigint, data: number) => {
          log.push(`call gas=${gas} data=${data}`);
          return 1;
        },
      },
    });
    const runOnce = (bytes: Uint8Array) => {
      log.length = 0;
      let mem: WebAssembly.Memory | undefined;
      const exports = instantiate(
        bytes,
        hostFor(() => mem!),
      );
      mem = exports.memory as WebAssembly.Memory;
      if (exports.__gas_left) (exports.__gas_left as WebAssembly.Global).value = 1_000_000n;
      (exports.call as () => void)();
      const r = (exports.ping as (x: number) => number)(77);
      return [...log, `ping ${r}`];
    };
    const plain = runOnce(built.contract);
    expect(plain).toContain("call gas=5000 data=77");
    expect(plain.some((l) => l.startsWith("finish 42,2,3,4,5"))).toBe(true);
    expect(runOnce(instrumentModule(built.contract, UNIT))).toEqual(plain);
    expect(runOnce(instrumentModule(built.contract, meteringOptions))).toEqual(plain);
  });

  it("property: random structured programs behave identically instrumented, with exact gas accounting", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 3 }),
        (seed, inputs) => {
          const bytes = randomProgram(seed);
          validateModule(bytes);
          const instrumented = instrumentModule(bytes, UNIT);
          expect(WebAssembly.validate(instrumented)).toBe(true);
          const plain = instantiate(bytes).run as (x: number) => number;
          const m = metered(bytes);
          for (const x of inputs) {
            const a = m.run("run", [x]);
            expect(a.result).toBe(plain(x));
            expect(m.stack.value).toBe(0);
            expect(m.run("run", [x]).used).toBe(a.used);
            expect(m.run("run", [x], a.used).result).toBe(a.result);
            expect(trapOf(() => m.run("run", [x], a.used - 1n))).toBeInstanceOf(WebAssembly.RuntimeError);
            m.stack.value = 0;
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rejects out-of-range options and reserved exports", () => {
    expect(errorCode(() => instrumentModule(wasm(), { ...UNIT, maxStackHeight: 0 }))).toBe("WASM_INVALID_OPTIONS");
    expect(errorCode(() => instrumentModule(wasm(), { ...UNIT, pageCost: 1n << 40n }))).toBe("WASM_INVALID_OPTIONS");
    const badCosts = { perOpcode: new Array<number>(256).fill(1.5), perBlock: 0 };
    expect(errorCode(() => instrumentModule(wasm(), { ...UNIT, costs: badCosts }))).toBe("WASM_INVALID_OPTIONS");
    expect(errorCode(() => instrumentModule(wasm(), { ...UNIT, costs: { ...UNIT_COSTS, perBlock: 2 ** 31 } }))).toBe(
      "WASM_INVALID_OPTIONS",
    );
    const reserved = wasm({
      exports: [
        ["memory", 2, 0],
        ["call", 0, 0],
        ["__stack_height", 0, 0],
      ],
    });
    expect(errorCode(() => instrumentModule(reserved, UNIT))).toBe("WASM_RESERVED_EXPORT");
    const reset = wasm({
      exports: [
        ["memory", 2, 0],
        ["call", 0, 0],
        ["__reset_globals", 0, 0],
      ],
    });
    expect(errorCode(() => instrumentModule(reset, UNIT))).toBe("WASM_RESERVED_EXPORT");
    expectRejected(reset, "WASM_RESERVED_EXPORT");
  });
});

describe("the calibrated schedule (gasSchedule.ts), in ink", () => {
  const ink = (gas: bigint) => gas * INK_PER_GAS;

  it("charges each executed basic block its per-block price plus its instructions' class prices", () => {
    const bytes = wasm({
      types: [
        [[], []],
        [[T.i32], [T.i32]],
        [[], [T.i32]],
      ],
      funcs: [
        { type: 0, body: [0x0b] },
        {
          // sum(n), as in the unit test above
          type: 1,
          locals: [[1, T.i32]],
          body: [
            ...[0x02, VOID, 0x03, VOID],
            ...[0x20, 0, 0x45, 0x0d, 1],
            ...[0x20, 1, 0x20, 0, 0x6a, 0x21, 1],
            ...[0x20, 0, 0x41, 1, 0x6b, 0x21, 0],
            ...[0x0c, 0, 0x0b, 0x0b],
            ...[0x20, 1, 0x0b],
          ],
        },
        { type: 2, body: [0x41, 1, 0x41, 2, 0x6a, 0x0b] },
      ],
      exports: [
        ["memory", 2, 0],
        ["call", 0, 0],
        ["sum", 0, 1],
        ["three", 0, 2],
      ],
    });
    const m = metered(bytes, {}, meteringOptions);
    // One block: i32.const, i32.const, i32.add, end.
    expect(m.run("three").used).toBe(BigInt(WasmInk.perBlock + 3 * WasmInk.local + WasmInk.alu));
    // An iteration runs two blocks: [local.get, i32.eqz, br_if] and [6 locals and consts, add, sub, br].
    const perIteration = 2 * WasmInk.perBlock + 7 * WasmInk.local + 3 * WasmInk.alu + 2 * WasmInk.branch;
    for (const n of [0, 1, 10]) {
      expect(m.run("sum", [n + 1]).used - m.run("sum", [n]).used).toBe(BigInt(perIteration));
    }
  });

  it("prices every opcode by its class", () => {
    const w = WASM_INSTRUCTION_COSTS.perOpcode;
    const cases: [number, number][] = [
      [0x20, WasmInk.local], // local.get
      [0x1b, WasmInk.alu], // select
      [0x6a, WasmInk.alu], // i32.add
      [0x7e, WasmInk.mul], // i64.mul
      [0x6e, WasmInk.div], // i32.div_u
      [0x82, WasmInk.div], // i64.rem_u
      [0x29, WasmInk.load], // i64.load
      [0x3a, WasmInk.store], // i32.store8
      [0x23, WasmInk.global], // global.get
      [0x0d, WasmInk.branch], // br_if
      [0x0e, WasmInk.brTable],
      [0x10, WasmInk.call],
      [0x11, WasmInk.callIndirect],
      [0x3f, WasmInk.memorySize],
      [0x40, WasmInk.memoryGrow],
      [0x00, WasmInk.unreachable],
    ];
    for (const [op, price] of cases) expect(w[op], `opcode 0x${op.toString(16)}`).toBe(price);
    expect(basicBlockCosts(Uint8Array.of(0x41, 0x41, 0x6a, 0x0b), WASM_INSTRUCTION_COSTS)[0]).toBe(
      WasmInk.perBlock + 3 * WasmInk.local + WasmInk.alu,
    );
  });

  it("memory.grow pays the instruction's price and Gas.memoryGrowPage per page, in ink", () => {
    const bytes = wasm({
      types: [
        [[], []],
        [[T.i32], [T.i32]],
      ],
      funcs: [
        { type: 0, body: [0x0b] },
        { type: 1, body: [0x20, 0, 0x40, 0x00, 0x0b] },
      ],
      exports: [
        ["memory", 2, 0],
        ["call", 0, 0],
        ["grow", 0, 1],
      ],
    });
    const block = BigInt(WasmInk.perBlock + 2 * WasmInk.local + WasmInk.memoryGrow);
    expect(metered(bytes, {}, meteringOptions).run("grow", [2])).toEqual({
      result: 1,
      used: block + 2n * ink(Gas.memoryGrowPage),
    });
  });
});

describe("__reset_globals and InstancePool: a reused instance is indistinguishable from a fresh one", () => {
  // Mutable global 0 starts at 42, immutable global 1 is 5; memory has "hi" at 16. Exports: get, set, poke(addr, v),
  // peek(addr), grow(n), deep(n) (recursion, to leave the stack height raised by a trap).
  const bytes = wasm({
    types: [
      [[], []],
      [[], [T.i32]],
      [[T.i32], []],
      [[T.i32, T.i32], []],
      [[T.i32], [T.i32]],
    ],
    globals: [
      [T.i32, 1, 0x41, ...sleb(42), 0x0b],
      [T.i32, 0, 0x41, 5, 0x0b],
    ],
    funcs: [
      { type: 0, body: [0x0b] },
      { type: 1, body: [0x23, 0, 0x23, 1, 0x6a, 0x0b] }, // get: g0 + g1
      { type: 2, body: [0x20, 0, 0x24, 0, 0x0b] }, // set
      { type: 3, body: [0x20, 0, 0x20, 1, 0x3a, 0x00, 0x00, 0x0b] }, // poke: i32.store8
      { type: 4, body: [0x20, 0, 0x2d, 0x00, 0x00, 0x0b] }, // peek: i32.load8_u
      { type: 4, body: [0x20, 0, 0x40, 0x00, 0x0b] }, // grow
      { type: 4, body: [0x20, 0, 0x20, 0, 0x41, 1, 0x6b, 0x10, 6, 0x6a, 0x0b] }, // deep(n) = n + deep(n - 1)
    ],
    exports: [
      ["memory", 2, 0],
      ["call", 0, 0],
      ["get", 0, 1],
      ["set", 0, 2],
      ["poke", 0, 3],
      ["peek", 0, 4],
      ["grow", 0, 5],
      ["deep", 0, 6],
    ],
    data: [[0x00, 0x41, 16, 0x0b, ...vec([[0x68], [0x69]])]],
  });
  const mod = new WebAssembly.Module(instrumentModule(bytes, meteringOptions));
  type Inst = { memory: WebAssembly.Memory; resetGlobals: () => void; x: Exports };
  const create = (): Inst => {
    const x = new WebAssembly.Instance(mod).exports as Exports;
    return { memory: x.memory as WebAssembly.Memory, resetGlobals: x.__reset_globals as () => void, x };
  };
  const fn = (i: Inst, name: string) => i.x[name] as (...a: number[]) => number;
  /** Give an instance's meter plenty (a fresh or reset instance starts at 0: the runtime sets it per frame). */
  const fuel = (i: Inst) => {
    (i.x.__gas_left as WebAssembly.Global).value = 10n ** 15n;
  };

  it("__reset_globals restores every mutable global, the meter and the stack height", () => {
    const i = create();
    const gas = i.x.__gas_left as WebAssembly.Global;
    const stack = i.x.__stack_height as WebAssembly.Global;
    gas.value = 10n ** 12n;
    fn(i, "set")(7);
    expect(fn(i, "get")()).toBe(12);
    expect(trapOf(() => fn(i, "deep")(5000))).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(stack.value).toBeGreaterThan(1024);
    i.resetGlobals();
    expect({ gas: gas.value, stack: stack.value }).toEqual({ gas: 0n, stack: 0 });
    fuel(i);
    expect(fn(i, "get")()).toBe(47);
  });

  it("gives back the fresh memory image and globals, a separate instance to each holder, and drops grown ones", () => {
    const pool = new InstancePool(create, { maxIdle: 2, maxResetBytes: 65536 }, new IdleBudget(1 << 30));
    const a = pool.acquire();
    fuel(a);
    fn(a, "poke")(16, 0x58);
    fn(a, "poke")(60000, 9);
    fn(a, "set")(7);
    const b = pool.acquire(); // a is still held: another instance (re-entrancy)
    expect(b).not.toBe(a);
    fuel(b);
    expect(fn(b, "peek")(16)).toBe(0x68);
    pool.release(a);
    const again = pool.acquire();
    expect(again).toBe(a);
    expect((a.x.__gas_left as WebAssembly.Global).value).toBe(0n);
    fuel(a);
    expect([fn(a, "peek")(16), fn(a, "peek")(17), fn(a, "peek")(60000), fn(a, "get")()]).toEqual([0x68, 0x69, 0, 47]);
    // A memory that grew cannot shrink: that instance is not reused.
    expect(fn(a, "grow")(1)).toBe(1);
    pool.release(a);
    pool.release(b);
    expect(pool.idleCount).toBe(1);
    const c = pool.acquire();
    expect(c).toBe(b);
    const d = pool.acquire();
    expect(d).not.toBe(a);
    expect(d.memory.buffer.byteLength).toBe(65536);
    expect({ created: pool.created, reused: pool.reused }).toEqual({ created: 3, reused: 2 });
  });

  it("keeps at most maxIdle instances, within the shared idle budget", () => {
    const budget = new IdleBudget(3 * 65536);
    const pool = new InstancePool(create, { maxIdle: 2, maxResetBytes: 65536 }, budget);
    const held = [pool.acquire(), pool.acquire(), pool.acquire()];
    for (const i of held) pool.release(i);
    expect(pool.idleCount).toBe(2);
    const other = new InstancePool(create, { maxIdle: 5, maxResetBytes: 65536 }, budget);
    const more = [other.acquire(), other.acquire()];
    for (const i of more) other.release(i);
    expect(other.idleCount).toBe(1); // the budget holds three pages in all
    expect(budget.used).toBe(3 * 65536);
    pool.clear();
    expect(budget.used).toBe(65536);
    // Memories above maxResetBytes are never kept.
    const small = new InstancePool(create, { maxIdle: 5, maxResetBytes: 1024 }, budget);
    small.release(small.acquire());
    expect(small.idleCount).toBe(0);
  });
});

/**
 * A random terminating program `run(x: i32) -> i32` over locals x (0), acc (1) and loop counters (2..4): arithmetic,
 * nested block/loop/if, br/br_if/br_table to enclosing blocks or the function label, return, calls, memory.grow 0
 * and memory.size. Loops run a bounded number of times and are never branch targets of their bodies.
 */
function randomProgram(seed: number): Uint8Array {
  let s = seed >>> 0;
  const rand = (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  // labels[i] describes the label at relative depth i: "block" | "loop" | "fn".
  const stmts = (labels: string[], loops: number, depth: number): number[] => {
    const out: number[] = [];
    const n = rand(4);
    for (let i = 0; i < n; i++) out.push(...stmt(labels, loops, depth));
    return out;
  };
  const targets = (labels: string[]) => labels.map((k, i) => [k, i] as const).filter(([k]) => k !== "loop");
  const stmt = (labels: string[], loops: number, depth: number): number[] => {
    const choice = rand(depth >= 3 ? 4 : 11);
    const acc = (op: number) => [0x20, 1, 0x41, ...sleb(rand(200) - 100), op, 0x21, 1];
    switch (choice) {
      case 0:
        return acc(0x6a); // add
      case 1:
        return acc(0x6c); // mul
      case 2:
        return [0x20, 1, 0x20, 0, 0x73, 0x21, 1]; // acc ^= x
      case 3:
        return [0x20, 1, 0x10, 1, 0x21, 1]; // acc = helper(acc)
      case 4:
        return [0x02, VOID, ...stmts(["block", ...labels], loops, depth + 1), 0x0b];
      case 5: {
        if (loops >= 3) return [0x01];
        const counter = 2 + loops;
        return [
          ...[0x41, rand(5), 0x21, counter, 0x03, VOID],
          ...stmts(["loop", ...labels], loops + 1, depth + 1),
          ...[0x20, counter, 0x41, 1, 0x6b, 0x22, counter, 0x41, 0, 0x4a, 0x0d, 0, 0x0b], // while (--c > 0)
        ];
      }
      case 6:
        return [
          ...[0x20, 1, 0x20, 0, 0x6a, 0x41, 1, 0x71, 0x04, VOID],
          ...stmts(["block", ...labels], loops, depth + 1),
          0x05,
          ...stmts(["block", ...labels], loops, depth + 1),
          0x0b,
        ];
      case 7: {
        const t = targets(labels);
        const [kind, index] = t[rand(t.length)];
        const cond = [0x20, 1, 0x20, 0, 0x73, 0x41, 3, 0x71, 0x45]; // ((acc ^ x) & 3) == 0
        if (kind === "fn") return rand(2) ? [0x20, 1, ...cond, 0x0d, index, 0x1a] : [0x20, 1, 0x0c, index];
        return rand(2) ? [...cond, 0x0d, index] : [0x0c, index];
      }
      case 8: {
        const t = targets(labels).filter(([k]) => k === "block");
        if (t.length === 0) return [0x20, 1, 0x0f]; // return acc
        const pick = () => t[rand(t.length)][1];
        const table = Array.from({ length: rand(3) }, pick);
        return [0x20, 0, 0x41, 3, 0x71, 0x0e, ...vec(table.map((l) => [l])), pick()];
      }
      case 9:
        return [0x41, 0, 0x40, 0x00, 0x20, 1, 0x6a, 0x21, 1]; // acc += memory.grow(0)
      default:
        return [0x3f, 0x00, 0x20, 1, 0x6a, 0x21, 1]; // acc += memory.size
    }
  };
  const body = [0x20, 0, 0x21, 1, ...stmts(["fn"], 0, 0), 0x20, 1, 0x0b];
  return wasm({
    types: [
      [[], []],
      [[T.i32], [T.i32]],
    ],
    funcs: [
      { type: 0, body: [0x0b] },
      { type: 1, body: [0x20, 0, 0x41, 3, 0x6c, 0x41, 1, 0x6a, 0x0b] }, // helper(v) = 3v + 1
      { type: 1, locals: [[4, T.i32]], body },
    ],
    exports: [
      ["memory", 2, 0],
      ["call", 0, 0],
      ["run", 0, 2],
    ],
  });
}

// ---- compile cache ----

describe("ModuleCache", () => {
  it("compiles instrumented modules on a miss, reuses them on a hit, evicts the least recently used", () => {
    const evicted: WebAssembly.Module[] = [];
    const cache = new ModuleCache(2, UNIT, (m) => evicted.push(m));
    const a = wasm();
    const b = withCallBody([0x01, 0x0b]);
    const c = withCallBody([0x01, 0x01, 0x0b]);
    const ha = new Uint8Array(32).fill(0xaa);
    const ma = cache.get(ha, a);
    expect(cache.get(`0x${"AA".repeat(32)}`, a)).toBe(ma);
    expect(WebAssembly.Module.exports(ma).map((e) => e.name)).toContain("__gas_left");
    const mb = cache.get("bb", b);
    cache.get(ha, a); // a is now the most recent
    cache.get("cc", c); // evicts b
    expect(evicted).toEqual([mb]);
    expect(cache.size).toBe(2);
    expect(cache.has(ha)).toBe(true);
    expect(cache.has("bb")).toBe(false);
    expect(cache.has("0xCC")).toBe(true);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 3 });
    expect(cache.lookup("dd")).toBeUndefined();
    expect(cache.lookup(ha)).toBe(ma);
    const inst = new WebAssembly.Instance(cache.get("cc", c), {});
    (inst.exports.__gas_left as WebAssembly.Global).value = 10n;
    (inst.exports.call as () => void)();
    expect((inst.exports.__gas_left as WebAssembly.Global).value).toBe(7n);
    expect(errorCode(() => cache.get("dd", Uint8Array.from([1, 2, 3])))).toBe("WASM_MALFORMED");
    expect(errorCode(() => new ModuleCache(0))).toBe("WASM_INVALID_OPTIONS");
  });
});
