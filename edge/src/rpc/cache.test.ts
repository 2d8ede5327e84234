import { describe, expect, it } from "vitest";
import { LruResponseCache } from "./cache.ts";

describe("LruResponseCache", () => {
  it("returns what was put, and undefined for unknown keys", async () => {
    const c = new LruResponseCache();
    await c.put("a", '"x"', true);
    expect(await c.get("a")).toBe('"x"');
    expect(await c.get("b")).toBeUndefined();
  });

  it("evicts the least recently used entry over maxEntries", async () => {
    const c = new LruResponseCache({ maxEntries: 2 });
    await c.put("a", "1", false);
    await c.put("b", "2", false);
    await c.get("a"); // a is now the most recently used
    await c.put("c", "3", false);
    expect(await c.get("b")).toBeUndefined();
    expect(await c.get("a")).toBe("1");
    expect(await c.get("c")).toBe("3");
    expect(c.size).toBe(2);
  });

  it("bounds the characters kept and skips a value larger than the whole budget", async () => {
    const c = new LruResponseCache({ maxBytes: 20 });
    await c.put("k1", "x".repeat(8), true); // 10
    await c.put("k2", "y".repeat(8), true); // 20
    await c.put("k3", "z".repeat(8), true); // evicts k1
    expect(await c.get("k1")).toBeUndefined();
    expect(await c.get("k3")).toBe("zzzzzzzz");
    await c.put("huge", "h".repeat(100), true);
    expect(await c.get("huge")).toBeUndefined();
    expect(await c.get("k3")).toBe("zzzzzzzz");
  });

  it("replacing a key does not double count it", async () => {
    const c = new LruResponseCache({ maxBytes: 12 });
    await c.put("a", "12345", true);
    await c.put("a", "123456789", true);
    await c.put("b", "1", true); // 10 + 2 = 12: both fit only if the first value of "a" was released
    expect(await c.get("a")).toBe("123456789");
    expect(await c.get("b")).toBe("1");
  });
});
