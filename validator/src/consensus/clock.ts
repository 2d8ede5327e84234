// The slot clock (docs/consensus.md, "Slot timing"): slot s starts at genesis.timestamp + s × slotMs. Pure arithmetic
// plus a scheduler whose timers all stop with it, so a stopped node leaves no duty behind.

export class SlotClock {
  constructor(
    /** Genesis time in ms since the epoch. */
    readonly genesisMs: number,
    readonly slotMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  currentSlot(at = this.now()): bigint {
    return BigInt(Math.max(0, Math.floor((at - this.genesisMs) / this.slotMs)));
  }

  slotStartMs(slot: bigint): number {
    return this.genesisMs + Number(slot) * this.slotMs;
  }

  msIntoSlot(at = this.now()): number {
    return at - this.slotStartMs(this.currentSlot(at));
  }
}

/**
 * Runs functions at wall-clock times; `stop` cancels everything scheduled, and nothing runs after it. `idle` waits for
 * the runs already under way, so a node closes its database only after its duties finished writing.
 */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = true;

  constructor(private readonly onError: (e: unknown) => void) {}

  start(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** Resolves once no scheduled function is running (after `stop`, none starts again). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Run `fn` at `ms` (wall clock); a rejected promise goes to `onError`. */
  at(ms: number, fn: () => Promise<void> | void): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (this.stopped) return;
        const run: Promise<void> = Promise.resolve()
          .then(fn)
          .catch(this.onError)
          .finally(() => this.running.delete(run));
        this.running.add(run);
      },
      Math.max(0, ms - Date.now()),
    );
    this.timers.add(t);
  }
}
