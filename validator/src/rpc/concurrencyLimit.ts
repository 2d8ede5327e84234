// At most `max` tasks at once and `maxQueued` waiting for a turn; beyond that a task is refused at once, so a burst of
// expensive requests (traces) neither runs unbounded in parallel nor queues without end.
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly max: number,
    readonly maxQueued: number,
  ) {}

  /** Run `task` when a slot is free; throws `refuse()` when every slot and queue place is taken. */
  async run<T>(task: () => Promise<T>, refuse: () => Error): Promise<T> {
    if (this.running >= this.max) {
      if (this.waiting.length >= this.maxQueued) throw refuse();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so `running` never drops below the queue's demand.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
