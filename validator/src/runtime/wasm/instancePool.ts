// Reusable instances of one compiled contract module. Instantiating costs about 50 µs, half of it allocating the
// memory; putting an instance back to its initial state costs about 1.5 µs per 64 KiB page (bench/gasCalibration.ts,
// docs/runtime.md). A frame takes an instance for itself (a contract that calls itself gets a second one) and gives
// it back when it ends.
//
// An instance given back is indistinguishable from a fresh one, because everything a call can change is restored:
// - memory: its bytes are overwritten with the image of a fresh instance's memory (zeros and data segments), taken
//   once from the pool's first instance before it ran. A memory that grew cannot shrink: that instance is dropped;
// - globals: `__reset_globals` (added by instrumentModule) sets every mutable global back to its initializer, and the
//   meter and the stack height to 0;
// - tables: MVP code cannot change a table (table.set/grow/copy/init are rejected at deploy), nor can the host;
// - imports: only host functions, which keep no per-call state of their own (the runtime rebinds them per frame).
// An instance whose call ended in a node fault (an exception that is not a contract failure) is never given back.

/** What the pool needs of an instance. */
export interface ResettableInstance {
  readonly memory: WebAssembly.Memory;
  /** The module's `__reset_globals` export. */
  readonly resetGlobals: () => void;
}

export interface InstancePoolOptions {
  /**
   * Instances of one module kept idle at most; more are dropped on release. A module needs one instance per active
   * frame, so this covers a contract that recurses to the deepest call depth.
   */
  maxIdle: number;
  /**
   * Memories larger than this are dropped instead of reset. Resetting costs ~1.5 µs per page whatever the size, while a
   * fresh memory costs ~30 µs per page as the contract first writes it (the kernel supplies the pages), so every size
   * the runtime allows (64 pages) is reset by default; the limit is for tests.
   */
  maxResetBytes: number;
}

export const defaultInstancePoolOptions: InstancePoolOptions = { maxIdle: 65, maxResetBytes: 64 * 65536 };

/** The memory all the pools of one runtime may keep idle, shared between them. */
export class IdleBudget {
  used = 0;
  constructor(readonly maxBytes: number) {}
}

export class InstancePool<T extends ResettableInstance> {
  private readonly idle: T[] = [];
  /** The memory of a fresh instance, before any call. */
  private image: Uint8Array | undefined;
  created = 0;
  reused = 0;

  constructor(
    private readonly create: () => T,
    private readonly opts: InstancePoolOptions,
    private readonly budget: IdleBudget,
  ) {}

  /** An instance in its initial state, for the caller alone until it calls `release`. */
  acquire(): T {
    const pooled = this.idle.pop();
    if (pooled !== undefined) {
      this.budget.used -= pooled.memory.buffer.byteLength;
      this.reused++;
      return pooled;
    }
    const fresh = this.create();
    this.created++;
    this.image ??= new Uint8Array(fresh.memory.buffer).slice();
    return fresh;
  }

  /** Give back an instance whose frame has ended (success, revert, trap or out-of-gas): reset and kept, or dropped. */
  release(instance: T): void {
    const image = this.image as Uint8Array;
    const buffer = instance.memory.buffer;
    if (buffer.byteLength !== image.length || image.length > this.opts.maxResetBytes) return;
    if (this.idle.length >= this.opts.maxIdle || this.budget.used + image.length > this.budget.maxBytes) return;
    new Uint8Array(buffer).set(image);
    instance.resetGlobals();
    this.idle.push(instance);
    this.budget.used += image.length;
  }

  /** Drop the idle instances (their module left the cache), giving their memory back to the budget. */
  clear(): void {
    for (const x of this.idle) this.budget.used -= x.memory.buffer.byteLength;
    this.idle.length = 0;
  }

  get idleCount(): number {
    return this.idle.length;
  }
}
