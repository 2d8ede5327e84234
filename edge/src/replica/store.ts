// The replica's storage contract: a small async key-value API whose only write is an atomic batch. It is shaped for
// the two real backends: a Cloudflare Durable Object (SQLite-backed storage; `batch` runs inside
// `storage.transaction`, the DO's input gate serialises callers) and Redis (`batch` is WATCH guard / MULTI / EXEC). Values
// are plain JSON values; a backend with a per-value size limit (DO KV: 128 KiB) chunks large values itself.

/** One write of a batch. `put` of `undefined` is not allowed: delete instead. */
export type ReplicaStoreOp = { op: "put"; key: string; value: unknown } | { op: "delete"; key: string };

/**
 * Optimistic-concurrency guard for a batch: the batch commits only if the value stored at `key` is still
 * (JSON-)equal to `equals` (`undefined` = absent). Lets several writers share one store (Node edges on one Redis).
 */
export interface ReplicaStoreGuard {
  key: string;
  equals: unknown;
}

export interface ReplicaStore {
  get(key: string): Promise<unknown>;
  /** Values of `keys`; absent keys are absent from the map. */
  getMany(keys: readonly string[]): Promise<Map<string, unknown>>;
  /**
   * Apply every op atomically, in order (a later op on the same key wins), or none of them. Resolves `false`, having
   * written nothing, when the guard no longer holds.
   */
  batch(ops: readonly ReplicaStoreOp[], guard?: ReplicaStoreGuard): Promise<boolean>;
}

/** In-memory store for tests and single-process use. Values are deep-copied in and out, as a real backend would. */
export class MemoryReplicaStore implements ReplicaStore {
  private readonly data = new Map<string, string>();
  /** Number of committed batches (lets tests check that a rejected bundle wrote nothing). */
  commits = 0;

  async get(key: string): Promise<unknown> {
    const v = this.data.get(key);
    return v === undefined ? undefined : JSON.parse(v);
  }

  async getMany(keys: readonly string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const k of keys) {
      const v = this.data.get(k);
      if (v !== undefined) out.set(k, JSON.parse(v));
    }
    return out;
  }

  async batch(ops: readonly ReplicaStoreOp[], guard?: ReplicaStoreGuard): Promise<boolean> {
    if (guard) {
      const current = this.data.get(guard.key);
      const expected = guard.equals === undefined ? undefined : JSON.stringify(guard.equals);
      if (current !== expected) return false;
    }
    // Serialise everything first so a value that cannot be stored leaves the store untouched.
    const staged = ops.map((o) => (o.op === "put" ? ([o.key, JSON.stringify(o.value)] as const) : ([o.key] as const)));
    for (const s of staged) {
      if (s.length === 2) this.data.set(s[0], s[1]);
      else this.data.delete(s[0]);
    }
    this.commits++;
    return true;
  }

  /** A copy of every key and value (tests compare snapshots before and after a rejected bundle). */
  snapshot(): Map<string, string> {
    return new Map(this.data);
  }

  get size(): number {
    return this.data.size;
  }
}
