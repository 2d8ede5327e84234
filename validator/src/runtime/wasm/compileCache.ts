// Compiled contract modules, cached by code hash (docs/runtime.md, "Metering"): the stored module is instrumented and
// compiled once, and later calls reuse the compiled `WebAssembly.Module` until it falls out of the LRU.

import { WasmError } from "./errors.ts";
import { defaultInstrumentOptions, type InstrumentOptions, instrumentModule } from "./instrument.ts";

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

  constructor(capacity: number = DEFAULT_MODULE_CACHE_SIZE, instrument: InstrumentOptions = defaultInstrumentOptions) {
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

  /**
   * The compiled module of `code`, whose hash is `codeHash` (the caller's key; it is not recomputed). On a miss the
   * code is instrumented and compiled, which throws `WasmError` if it is not a valid module.
   */
  get(codeHash: Uint8Array | string, code: Uint8Array): WebAssembly.Module {
    const key = hashKey(codeHash);
    const cached = this.modules.get(key);
    if (cached !== undefined) {
      this.hits++;
      // Refresh: Map iteration order is insertion order, so the first key is the least recently used.
      this.modules.delete(key);
      this.modules.set(key, cached);
      return cached;
    }
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
      if (oldest !== undefined) this.modules.delete(oldest);
    }
    return mod;
  }

  clear(): void {
    this.modules.clear();
  }
}
