import { describe, expect, it } from "vitest";
import { TokenBucketLimiter } from "./rateLimit.ts";

describe("TokenBucketLimiter", () => {
  const clock = () => {
    let now = 0;
    return { now: () => now, tick: (ms: number) => (now += ms) };
  };

  it("allows a burst, then refuses with the seconds until enough tokens", async () => {
    const t = clock();
    const l = new TokenBucketLimiter({ perSecond: 2, burst: 4, now: t.now });
    expect(await l.take("ip", 4)).toEqual({ allowed: true });
    expect(await l.take("ip", 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await l.take("ip", 4)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    t.tick(500); // one token back
    expect(await l.take("ip", 1)).toEqual({ allowed: true });
    expect(await l.take("ip", 1)).toMatchObject({ allowed: false });
  });

  it("refills up to the burst only", async () => {
    const t = clock();
    const l = new TokenBucketLimiter({ perSecond: 10, burst: 3, now: t.now });
    await l.take("ip", 3);
    t.tick(60_000);
    expect(await l.take("ip", 3)).toEqual({ allowed: true });
    expect((await l.take("ip", 1)).allowed).toBe(false);
  });

  it("keys are independent; the least recently seen key is forgotten past maxKeys", async () => {
    const t = clock();
    const l = new TokenBucketLimiter({ perSecond: 1, burst: 1, maxKeys: 2, now: t.now });
    expect((await l.take("a", 1)).allowed).toBe(true);
    expect((await l.take("b", 1)).allowed).toBe(true);
    expect((await l.take("a", 1)).allowed).toBe(false);
    await l.take("c", 1); // evicts b (a was touched more recently)
    expect((await l.take("b", 1)).allowed).toBe(true); // fresh bucket
  });

  it("a cost above the burst takes a full bucket (and waits for one)", async () => {
    const l = new TokenBucketLimiter({ perSecond: 5, burst: 10, now: () => 0 });
    expect(await l.take("ip", 50)).toEqual({ allowed: true });
    expect(await l.take("ip", 50)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(() => new TokenBucketLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
