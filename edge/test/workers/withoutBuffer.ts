// Runs code inside workerd with the Buffer global (which nodejs_compat provides) removed, so any use of it throws.
import { expect } from "vitest";

export async function withoutBuffer(f: () => unknown): Promise<void> {
  const g = globalThis as { Buffer?: unknown };
  const saved = g.Buffer;
  delete g.Buffer;
  try {
    expect(typeof g.Buffer).toBe("undefined");
    await f();
  } finally {
    g.Buffer = saved;
  }
}
