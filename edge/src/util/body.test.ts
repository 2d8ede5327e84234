import { describe, expect, it } from "vitest";
import { readBodyBounded } from "./body.ts";

/** A request whose body is `chunks` chunks of `size` bytes, counting how many were pulled and whether it was cancelled. */
function streamed(chunks: number, size: number, headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  const req = new Request("http://edge.test/", { method: "POST", body, headers, duplex: "half" } as RequestInit);
  return { req, seen };
}

describe("readBodyBounded", () => {
  it("returns the text within the limit", async () => {
    const { req } = streamed(3, 10);
    expect(await readBodyBounded(req, 30)).toBe("a".repeat(30));
  });

  it("stops at the limit by default, and drains up to drainUpTo so the sender can read its answer", async () => {
    const stop = streamed(10, 10);
    expect(await readBodyBounded(stop.req, 25)).toBeUndefined();
    expect(stop.seen.pulled).toBeLessThan(10);
    expect(stop.seen.cancelled).toBe(true);

    const drain = streamed(10, 10);
    expect(await readBodyBounded(drain.req, 25, { drainUpTo: 100 })).toBeUndefined();
    expect(drain.seen.pulled).toBe(10);
    expect(drain.seen.cancelled).toBe(false);

    const endless = streamed(1000, 10);
    expect(await readBodyBounded(endless.req, 25, { drainUpTo: 100 })).toBeUndefined();
    expect(endless.seen.pulled).toBeLessThan(20);
    expect(endless.seen.cancelled).toBe(true);
  });

  it("refuses a declared length over the limit, draining only when asked", async () => {
    const declared = { "content-length": "100" };
    const quick = streamed(10, 10, declared);
    expect(await readBodyBounded(quick.req, 25)).toBeUndefined();
    expect(quick.seen.pulled).toBeLessThanOrEqual(1);
    const drained = streamed(10, 10, declared);
    expect(await readBodyBounded(drained.req, 25, { drainUpTo: 100 })).toBeUndefined();
    expect(drained.seen.pulled).toBe(10);
  });
});
