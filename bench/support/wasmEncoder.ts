// A minimal WebAssembly module encoder for benches that need exact instruction sequences (a C compiler would fold
// or reorder them). MVP binary format only.

export const T = { i32: 0x7f, i64: 0x7e } as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    const b = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? b : b | 0x80);
  } while (v !== 0);
  return out;
}

export function sleb(n: bigint | number): number[] {
  let v = BigInt.asIntN(64, BigInt(n));
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const name = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};

export interface FunctionDef {
  type: number;
  /** [count, type] pairs. */
  locals?: [number, number][];
  /** Instructions, including the final `end`. */
  body: number[];
}

export interface ModuleDef {
  types: [number[], number[]][];
  /** Imported functions (module, name, type); they come first in the function index space. */
  imports?: [string, string, number][];
  functions: FunctionDef[];
  memoryPages?: number;
  /** Mutable globals: [type, initial value]. */
  globals?: [number, bigint][];
  /** A funcref table holding these function indices from 0 (for call_indirect). */
  table?: number[];
  /** Exported functions: [name, function index]. The memory is exported as "memory". */
  exports: [string, number][];
  /** Active data segment at offset 0. */
  data?: number[];
}

export function encodeModule(m: ModuleDef): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  out.push(...section(1, vec(m.types.map(([p, r]) => [0x60, ...vec(p.map((t) => [t])), ...vec(r.map((t) => [t]))]))));
  if (m.imports?.length)
    out.push(...section(2, vec(m.imports.map(([mod, n, t]) => [...name(mod), ...name(n), 0x00, ...uleb(t)]))));
  out.push(...section(3, vec(m.functions.map((f) => uleb(f.type)))));
  if (m.table) out.push(...section(4, vec([[0x70, 0x00, ...uleb(m.table.length)]])));
  out.push(...section(5, vec([[0x01, ...uleb(m.memoryPages ?? 1), ...uleb(64)]])));
  if (m.globals?.length) {
    const g = m.globals.map(([t, v]) => [t, 0x01, t === T.i32 ? 0x41 : 0x42, ...sleb(v), 0x0b]);
    out.push(...section(6, vec(g)));
  }
  const exports = [[...name("memory"), 0x02, 0x00], ...m.exports.map(([n, i]) => [...name(n), 0x00, ...uleb(i)])];
  out.push(...section(7, vec(exports)));
  if (m.table) out.push(...section(9, vec([[0x00, 0x41, 0x00, 0x0b, ...vec(m.table.map((i) => uleb(i)))]])));
  const bodies = m.functions.map((f) => {
    const body = [...vec((f.locals ?? []).map(([n, t]) => [...uleb(n), t])), ...f.body];
    return [...uleb(body.length), ...body];
  });
  out.push(...section(10, [...uleb(bodies.length), ...bodies.flat()]));
  if (m.data) out.push(...section(11, vec([[0x00, 0x41, 0x00, 0x0b, ...vec(m.data.map((b) => [b]))]])));
  return Uint8Array.from(out);
}
