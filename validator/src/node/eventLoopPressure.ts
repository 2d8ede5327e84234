// Is the main thread keeping up? Block production, block import and votes all run on it, on the slot's timetable; a
// node offered more transactions than it can process falls behind on all of them, and on a loaded machine finality
// stops. This samples the event loop's delay (node:perf_hooks, the measure Fastify's under-pressure and toobusy use)
// over short windows; while the slowest turn of the last window exceeds the limit, the node counts as overloaded and
// sheds optional work first: new transactions (mempool.busy(), JSON-RPC "txpool is busy", gossip ignored).
import { type ELDHistogram, monitorEventLoopDelay } from "node:perf_hooks";

export interface EventLoopPressureOptions {
  /** An event-loop turn slower than this (ms) in the last window marks the node overloaded. */
  maxDelayMs: number;
  /** Length of a window (ms). */
  windowMs: number;
}

/** Defaults for a slot length: a quarter of the slot (250 ms at 1 s slots), judged over half-second windows. */
export function eventLoopPressureOptions(slotMs: number): EventLoopPressureOptions {
  return { maxDelayMs: Math.max(100, slotMs / 4), windowMs: 500 };
}

export class EventLoopPressure {
  private readonly histogram: ELDHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastDelayMs = 0;
  private lastSampleMs = performance.now();

  constructor(private readonly opts: EventLoopPressureOptions) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), opts.windowMs);
    this.timer.unref();
  }

  /** How far behind the event loop was in the last window (ms), when that is over the limit. */
  overloaded(): number | undefined {
    // The sampling timer is itself late when the loop is: a window that overran counts as that much delay.
    const overdue = performance.now() - this.lastSampleMs - this.opts.windowMs;
    const delay = Math.max(this.lastDelayMs, overdue);
    return delay > this.opts.maxDelayMs ? Math.round(delay) : undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private sample(): void {
    // This timer's own lateness counts too: the histogram may record a long turn only after this runs.
    const now = performance.now();
    this.lastDelayMs = Math.max(this.histogram.max / 1e6, now - this.lastSampleMs - this.opts.windowMs);
    this.lastSampleMs = now;
    this.histogram.reset();
  }
}
