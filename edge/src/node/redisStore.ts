// The replica's store on Redis (node-redis), for the Node host of the edge: several edge instances share one Redis and
// one replica. Every key lives under a per-chain prefix (`rustchain:edge:<chainId>:`), every value is JSON text.
// `batch` is optimistic concurrency in Redis' own terms: WATCH the guard key, read and compare it, then MULTI / EXEC the
// writes. EXEC aborts (nothing written) when another client changed the guard key after the WATCH, so two edges
// applying bundles at once cannot both commit on the same `meta`: the loser sees `false` and re-reads.
import { createClient, WatchError } from "redis";
import type { ReplicaStore, ReplicaStoreGuard, ReplicaStoreOp } from "../replica/store.ts";

/** A node-redis client as `connectRedis` makes them (RESP3, no modules). */
export type RedisClient = ReturnType<typeof newClient>;

/** Keys of one chain's replica (and its event channel) start with this. */
export function redisKeyPrefix(chainId: bigint): string {
  return `rustchain:edge:${chainId}:`;
}

/** MGET at most this many keys per command, so one huge read does not block Redis. */
const MGET_CHUNK = 1000;

export interface RedisConnectOptions {
  url: string;
  /** Called with connection errors (node-redis reconnects by itself); without it they are ignored. */
  onError?: (err: Error) => void;
  /** Client name shown by CLIENT LIST. */
  name?: string;
}

/**
 * A connected node-redis client. Commands fail at once while the connection is down (no offline queue), so a request
 * never hangs on a lost Redis; the client keeps reconnecting (backoff capped at 2 s).
 */
export async function connectRedis(opts: RedisConnectOptions): Promise<RedisClient> {
  const state = { connected: false };
  const client = newClient(opts, state);
  client.on("error", (err: Error) => {
    if (state.connected) opts.onError?.(err);
  });
  await client.connect();
  state.connected = true;
  return client;
}

function newClient(opts: RedisConnectOptions, state: { connected: boolean }) {
  return createClient({
    url: opts.url,
    name: opts.name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      // The first connection gets a few quick tries, then fails the start; after that, reconnect forever.
      reconnectStrategy: (retries: number, cause: Error) =>
        !state.connected && retries >= 3
          ? new Error(`cannot connect to Redis at ${opts.url}: ${cause.message}`)
          : Math.min(50 * 2 ** retries, 2_000),
    },
  });
}

/** Resolves in call order: one holder at a time (the WATCH connection serves one transaction at a time). */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class RedisReplicaStore implements ReplicaStore {
  private readonly txLock = new Mutex();
  private closed = false;

  /**
   * `client` serves reads; `txClient` is a connection used only for WATCH / MULTI / EXEC (WATCH is per connection, so
   * transactions must not share it with other callers). Both are owned by the store from now on (`close`).
   */
  constructor(
    private readonly client: RedisClient,
    private readonly txClient: RedisClient,
    readonly prefix: string,
  ) {}

  /** Connect the two connections the store needs. */
  static async connect<T extends RedisReplicaStore>(
    this: new (
      client: RedisClient,
      txClient: RedisClient,
      prefix: string,
    ) => T,
    opts: RedisConnectOptions & { chainId: bigint; prefix?: string },
  ): Promise<T> {
    const client = await connectRedis({ ...opts, name: opts.name ?? "rustchain-edge" });
    let txClient: RedisClient;
    try {
      txClient = await connectRedis({ ...opts, name: `${opts.name ?? "rustchain-edge"}-tx` });
    } catch (err) {
      client.destroy();
      throw err;
    }
    return new this(client, txClient, opts.prefix ?? redisKeyPrefix(opts.chainId));
  }

  private key(k: string): string {
    return this.prefix + k;
  }

  async get(key: string): Promise<unknown> {
    const v = await this.client.get(this.key(key));
    return v === null || v === undefined ? undefined : JSON.parse(String(v));
  }

  async getMany(keys: readonly string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (let i = 0; i < keys.length; i += MGET_CHUNK) {
      const chunk = keys.slice(i, i + MGET_CHUNK);
      const values = await this.client.mGet(chunk.map((k) => this.key(k)));
      chunk.forEach((k, j) => {
        const v = values[j];
        if (v !== null && v !== undefined) out.set(k, JSON.parse(String(v)));
      });
    }
    return out;
  }

  async batch(ops: readonly ReplicaStoreOp[], guard?: ReplicaStoreGuard): Promise<boolean> {
    // Serialise everything first so a value that cannot be stored leaves the store untouched.
    const staged = ops.map((o) => {
      if (o.op === "delete") return { key: this.key(o.key), value: undefined };
      const value = JSON.stringify(o.value);
      if (value === undefined) throw new TypeError(`cannot store ${typeof o.value} at ${o.key}: delete it instead`);
      return { key: this.key(o.key), value };
    });
    return this.txLock.run(() => this.commit(staged, guard));
  }

  private async commit(
    staged: readonly { key: string; value: string | undefined }[],
    guard: ReplicaStoreGuard | undefined,
  ): Promise<boolean> {
    const c = this.txClient;
    if (guard) {
      const guardKey = this.key(guard.key);
      await c.watch(guardKey);
      let current: string | null;
      try {
        const v = await c.get(guardKey);
        current = v === null || v === undefined ? null : String(v);
      } catch (err) {
        await c.unwatch().catch(() => undefined);
        throw err;
      }
      if (!guardHolds(current, guard.equals)) {
        await c.unwatch();
        return false;
      }
    }
    await this.beforeExec();
    const multi = c.multi();
    for (const s of staged) {
      if (s.value === undefined) multi.del(s.key);
      else multi.set(s.key, s.value);
    }
    try {
      await multi.exec();
      return true;
    } catch (err) {
      // EXEC answered nil: the guard key changed after WATCH (or the connection dropped in between). Nothing written.
      if (err instanceof WatchError) return false;
      throw err;
    }
  }

  /** Test seam: runs after the guard check, before MULTI / EXEC (tests interleave another writer here). */
  protected async beforeExec(): Promise<void> {}

  /** Close both connections (pending commands finish first). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.client.close(), this.txClient.close()]);
  }

  /** The read connection, for the host's own use (blocking reads need separate connections; use `duplicate()`). */
  get redis(): RedisClient {
    return this.client;
  }
}

/** `stored` (JSON text or null for absent) is JSON-equal to `expected` (undefined = absent). */
function guardHolds(stored: string | null, expected: unknown): boolean {
  if (expected === undefined) return stored === null;
  if (stored === null) return false;
  if (stored === JSON.stringify(expected)) return true;
  // Same data written with another key order still holds.
  return canonical(JSON.parse(stored)) === canonical(expected);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
