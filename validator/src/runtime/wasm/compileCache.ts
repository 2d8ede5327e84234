// Compiled contract modules, cached by code hash (docs/runtime.md, "Metering"): the stored module is instrumented and
// compiled once, and later calls reuse the compiled `WebAssembly.Module` until it falls out of the LRU.

import { meteringOptions } from "../gasSchedule.ts";
import { WasmError } from "./errors.ts";
import { type InstrumentOptions, instrumentModule } from "./instrument.ts";

export const DEFAULT_MODULE_CACHE_SIZE = 256;

function hashKey(codeHash: Uint8Array | string): string {
  if (typeof codeHash !== "string")
    return Buffer.from(codeHash.buffer, codeHash.byteOffset, codeHash.byteLength).toString("hex");
  const h = codeHash.toLowerCase();
  return h.startsWith("0x") ? h.slice(2) : h;
}

/** A bounded LRU from code hash (hex) to the compiled, instrumented module. */
export class ModuleCache {
  readonly capacity: number;
  private readonly instrument: InstrumentOptions;
  private readonly modules = new Map<string, WebAssembly.Module>();
  hits = 0;
  misses = 0;

  constructor(
    capacity: number = DEFAULT_MODULE_CACHE_SIZE,
    instrument: InstrumentOptions = meteringOptions,
    /** Called with each module the LRU drops (the runtime drops its idle instances). */
    private readonly onEvict?: (mod: WebAssembly.Module) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new WasmError({
        code: "WASM_INVALID_OPTIONS",
        reason: `module cache capacity must be a positive integer, got ${capacity}`,
      });
    }
    this.capacity = capacity;
    this.instrument = instrument;
  }

  get size(): number {
    return this.modules.size;
  }

  has(codeHash: Uint8Array | string): boolean {
    return this.modules.has(hashKey(codeHash));
  }

  /** The compiled module of the code whose hash is `codeHash`, if cached (a hit), so a call need not read the code. */
  lookup(codeHash: Uint8Array | string): WebAssembly.Module | undefined {
    const key = hashKey(codeHash);
    const cached = this.modules.get(key);
    if (cached === undefined) return undefined;
    this.hits++;
    // Refresh: Map iteration order is insertion order, so the first key is the least recently used.
    this.modules.delete(key);
    this.modules.set(key, cached);
    return cached;
  }

  /**
   * The compiled module of `code`, whose hash is `codeHash` (the caller's key; it is not recomputed). On a miss the
   * code is instrumented and compiled, which throws `WasmError` if it is not a valid module.
   */
  get(codeHash: Uint8Array | string, code: Uint8Array): WebAssembly.Module {
    const cached = this.lookup(codeHash);
    if (cached !== undefined) return cached;
    const key = hashKey(codeHash);
    this.misses++;
    const instrumented = instrumentModule(code, this.instrument);
    let mod: WebAssembly.Module;
    try {
      mod = new WebAssembly.Module(instrumented);
    } catch (e) {
      throw new WasmError({ code: "WASM_MALFORMED", reason: `compilation failed: ${(e as Error).message}` });
    }
    this.modules.set(key, mod);
    if (this.modules.size > this.capacity) {
      const oldest = this.modules.keys().next().value;
      if (oldest !== undefined) {
        const evicted = this.modules.get(oldest) as WebAssembly.Module;
        this.modules.delete(oldest);
        this.onEvict?.(evicted);
      }
    }
    return mod;
  }

  clear(): void {
    for (const mod of this.modules.values()) this.onEvict?.(mod);
    this.modules.clear();
  }
}
