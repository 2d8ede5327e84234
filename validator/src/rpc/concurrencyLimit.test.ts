// The trace limit: at most `max` at once, `maxQueued` waiting in order, the rest refused at once; a failing task
// frees its slot.
import { describe, expect, it } from "vitest";
import { ConcurrencyLimit } from "./concurrencyLimit.ts";

const refuse = () => new RangeError("busy");

describe("ConcurrencyLimit", () => {
  it("runs `max` at once, queues `maxQueued`, refuses the rest, and frees slots on failure", async () => {
    const limit = new ConcurrencyLimit(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const task = (fail = false) =>
      limit.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
        if (fail) throw new TypeError("task failed");
        return "done";
      }, refuse);
    const a = task(true);
    const b = task();
    const c = task();
    await expect(task()).rejects.toThrow("busy");
    await Promise.resolve();
    expect(releases).toHaveLength(2);
    releases[0]!();
    await expect(a).rejects.toThrow("task failed");
    await new Promise((r) => setImmediate(r));
    expect(releases).toHaveLength(3); // the queued task took the freed slot
    releases[1]!();
    releases[2]!();
    expect([await b, await c]).toEqual(["done", "done"]);
    expect(peak).toBe(2);
    expect(await limit.run(async () => "again", refuse)).toBe("again");
  });
});
