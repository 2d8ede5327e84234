// The overload signal follows the event loop: a turn that blocks longer than the limit marks the node overloaded
// for the window that saw it, and a few quiet windows clear it.
import { afterEach, describe, expect, it } from "vitest";
import { EventLoopPressure, eventLoopPressureOptions } from "./eventLoopPressure.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const block = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a synchronous task holding the event loop
  }
};

let pressure: EventLoopPressure | undefined;
afterEach(() => pressure?.stop());

describe("EventLoopPressure", () => {
  it("reports a blocked event loop, then clears once it keeps up again", async () => {
    pressure = new EventLoopPressure({ maxDelayMs: 100, windowMs: 100 });
    const p = pressure;
    // Polled rather than slept: a loaded test machine delays timers too.
    const clears = async () => {
      for (let i = 0; i < 100 && p.overloaded() !== undefined; i++) await sleep(50);
      return p.overloaded();
    };
    expect(await clears()).toBeUndefined();
    block(400);
    // Read right after the blocking turn: the window is overdue by about as much.
    expect(p.overloaded()).toBeGreaterThanOrEqual(250);
    await sleep(20);
    // The sample taken after it saw the slow turn.
    expect(p.overloaded()).toBeGreaterThan(100);
    expect(await clears()).toBeUndefined();
  });

  it("scales its limit with the slot", () => {
    expect(eventLoopPressureOptions(1000).maxDelayMs).toBe(250);
    expect(eventLoopPressureOptions(12_000).maxDelayMs).toBe(3000);
    expect(eventLoopPressureOptions(200).maxDelayMs).toBe(100);
  });
});
