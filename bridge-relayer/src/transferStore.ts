// The relayer's state in Redis, the one owner of its keys (prefix `rustchain:bridge:`):
//
//   messages                 stream: every message the watchers saw (at least once), read by the consumer group
//                            "relayer"; an entry is acknowledged only once its transfer record exists
//   t:<digest>               hash: one transfer (or refund) and where it stands (TransferRecord)
//   due                      sorted set: digest → when to look at it next (ms); terminal transfers leave it
//   idx:<tx hash|address>    set of digests: search by source tx hash, sender or recipient
//   cursor:<chain>           last source block whose messages are all in the stream
//   wh:m:<chain>/<emitter>/<sequence>   hash: a Wormhole message the relayer looked for (WormholeMessage): not signed
//                            yet, held by the guardians' governor, relayed (then `digest` names its t:<digest>) or
//                            skipped (another chain, not a transfer)
//   wh:cursor:<chain>/<emitter>  the emitter's first sequence not yet relayed or skipped
//   wh:requested             set of message ids users asked the relayer to pick up (left once resolved)
//
// Idempotency is by digest: a message seen twice finds its record (HSETNX on `digest`), so a restart at any point
// neither loses nor repeats a transfer; the gateways' replay protection is the last line (a digest completes once).
import { createClient } from "redis";

export type TransferState =
  | "observed"
  | "waiting_finality"
  | "signing"
  | "signed"
  | "submitted"
  | "completed"
  | "queued"
  | "refundable"
  | "refund_requested"
  | "refunded"
  | "awaiting_recipient";

/** Where a Wormhole message stands before it is a transfer record (docs/bridge.md, "The relayer"). */
export type WormholeMessageState = "waiting_signatures" | "queued" | "relayed" | "skipped";

export const RESOLVED_WORMHOLE_STATES: ReadonlySet<WormholeMessageState> = new Set(["relayed", "skipped"]);

export interface WormholeMessage {
  /** `<chain>/<emitter: 64 hex digits>/<sequence>`. */
  id: string;
  emitterChain: number;
  /** 0x + 64 hex digits. */
  emitterAddress: string;
  sequence: string;
  state: WormholeMessageState;
  /** Unix ms: when the VAA is expected (the governor's release time when queued); 0 once resolved. */
  eta: number;
  /** Unix seconds: the guardians' governor releases it then. */
  releaseTime?: number;
  /** The governor's USD value of it, as its API reports it. */
  notionalValue?: string;
  /** The source transaction, when the governor's list named it. */
  sourceTx?: string;
  /** Once signed and relayed: the transfer record's key. */
  digest?: string;
  /** Skipped: why (another target chain, not a transfer). */
  reason?: string;
  lastError?: string;
  observedAt: number;
  updatedAt: number;
  history: { state: WormholeMessageState; at: number }[];
}

export const TERMINAL_STATES: ReadonlySet<TransferState> = new Set(["completed", "refunded"]);

export interface TransferRecord {
  digest: string;
  kind: "transfer" | "refund" | "asset_meta";
  /** "wormhole": a VAA from Wormhole's guardians, completed on the Wormhole gateway; absent: the committee bridge. */
  bridge?: "wormhole";
  sourceChain: string;
  destinationChain: string;
  emitterChain: number;
  emitterAddress: string;
  sequence: string;
  sourceTx: string;
  sourceBlock: string;
  sender: string;
  recipient: string;
  /** Normalised (8-decimal) amount and fee as in the payload, decimal strings. */
  amount: string;
  fee: string;
  tokenChain: number;
  tokenAddress: string;
  state: TransferState;
  /** Unix ms: when the next state is expected (the status page's ETA). */
  eta: number;
  observedAt: number;
  updatedAt: number;
  vaa?: string;
  signatures?: number;
  quorum?: number;
  destinationTx?: string;
  /** Unix seconds: when a transfer the governor queued can be released. */
  releaseTime?: number;
  /** For a refund: the transfer it refunds; for a refunded transfer: the refund's digest. */
  related?: string;
  lastError?: string;
  attempts: number;
  /** Every state the transfer went through, with when (JSON in Redis). */
  history: { state: TransferState; at: number }[];
}

export type RedisClient = ReturnType<typeof newClient>;

const P = "rustchain:bridge:";
/** Users' pick-up requests waiting at once: each costs a guardian API request per poll. */
export const MAX_WORMHOLE_REQUESTS = 200;
const GROUP = "relayer";

/** A client that fails commands at once while Redis is down (no offline queue) and reconnects forever after start. */
export async function connectRedis(url: string, onError: (e: Error) => void): Promise<RedisClient> {
  const state = { connected: false };
  const client = newClient(url, state);
  client.on("error", (e: Error) => state.connected && onError(e));
  await client.connect();
  state.connected = true;
  return client;
}

function newClient(url: string, state: { connected: boolean }) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number, cause: Error) =>
        !state.connected && retries >= 3
          ? new Error(`cannot connect to Redis at ${url}: ${cause.message}`)
          : Math.min(50 * 2 ** retries, 2_000),
    },
  });
}

export interface StreamEntry {
  id: string;
  message: Record<string, string>;
}

export class TransferStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly consumer: string,
  ) {}

  async init(): Promise<void> {
    try {
      await this.redis.xGroupCreate(`${P}messages`, GROUP, "0", { MKSTREAM: true });
    } catch (e) {
      if (!String((e as Error).message).includes("BUSYGROUP")) throw e;
    }
  }

  /** Append a seen message (a JSON-encoded observation). */
  async append(observation: Record<string, string>): Promise<void> {
    await this.redis.xAdd(`${P}messages`, "*", observation);
  }

  /**
   * Stream entries for this consumer: first those it read before a crash and never acknowledged, then new ones
   * (waiting up to `blockMs`).
   */
  async read(count: number, blockMs: number, pendingFirst: boolean): Promise<StreamEntry[]> {
    const res = (await this.redis.xReadGroup(
      GROUP,
      this.consumer,
      { key: `${P}messages`, id: pendingFirst ? "0" : ">" },
      { COUNT: count, ...(pendingFirst ? {} : { BLOCK: blockMs }) },
    )) as unknown;
    const streams = (res ?? []) as { messages: { id: string; message: Record<string, string> }[] }[];
    return streams.flatMap((s) => s.messages.map((m) => ({ id: m.id, message: { ...m.message } })));
  }

  async ack(id: string): Promise<void> {
    await this.redis.xAck(`${P}messages`, GROUP, id);
  }

  /** Create a record unless one exists; true when this call created it. */
  async create(t: TransferRecord): Promise<boolean> {
    const key = `${P}t:${t.digest}`;
    const created = await this.redis.hSetNX(key, "digest", t.digest);
    if (!created) return false;
    await this.redis.hSet(key, serialize(t));
    const idx = [t.sourceTx, t.sender, t.recipient].filter((x) => x).map((x) => x.toLowerCase());
    for (const k of new Set(idx)) await this.redis.sAdd(`${P}idx:${k}`, t.digest);
    await this.schedule(t.digest, Date.now());
    return true;
  }

  async get(digest: string): Promise<TransferRecord | undefined> {
    const h = (await this.redis.hGetAll(`${P}t:${digest.toLowerCase()}`)) as Record<string, string>;
    return h.digest ? deserialize(h) : undefined;
  }

  async update(digest: string, patch: Partial<TransferRecord>): Promise<void> {
    const key = `${P}t:${digest}`;
    const fields = serialize({ ...patch, updatedAt: Date.now() });
    if (patch.state) {
      const [state, history] = (await this.redis.hmGet(key, ["state", "history"])) as (string | null)[];
      if (state !== patch.state) {
        const list = history ? (JSON.parse(history) as TransferRecord["history"]) : [];
        list.push({ state: patch.state, at: Date.now() });
        fields.history = JSON.stringify(list);
      }
    }
    await this.redis.hSet(key, fields);
  }

  async search(key: string): Promise<TransferRecord[]> {
    const k = key.toLowerCase();
    const digests = new Set<string>((await this.redis.sMembers(`${P}idx:${k}`)) as string[]);
    if (/^0x[0-9a-f]{64}$/.test(k)) digests.add(k);
    const out: TransferRecord[] = [];
    for (const d of [...digests].slice(0, 200)) {
      const t = await this.get(d);
      if (t) out.push(t);
    }
    return out.sort((a, b) => b.observedAt - a.observedAt);
  }

  async schedule(digest: string, at: number): Promise<void> {
    await this.redis.zAdd(`${P}due`, { score: at, value: digest });
  }

  async done(digest: string): Promise<void> {
    await this.redis.zRem(`${P}due`, digest);
  }

  async due(now: number, limit: number): Promise<string[]> {
    return (await this.redis.zRangeByScore(`${P}due`, 0, now, { LIMIT: { offset: 0, count: limit } })) as string[];
  }

  async queueDepth(): Promise<number> {
    return Number(await this.redis.zCard(`${P}due`));
  }

  async wormholeMessage(id: string): Promise<WormholeMessage | undefined> {
    const h = (await this.redis.hGetAll(`${P}wh:m:${id}`)) as Record<string, string>;
    return h.id ? (deserialize(h) as unknown as WormholeMessage) : undefined;
  }

  /** Create or update a Wormhole message; a state change is added to its history. Returns the stored message. */
  async saveWormholeMessage(
    id: string,
    patch: Partial<WormholeMessage> & Pick<WormholeMessage, "state">,
    fresh: () => Omit<WormholeMessage, "state" | "history" | "observedAt" | "updatedAt">,
  ): Promise<WormholeMessage> {
    const now = Date.now();
    const known = await this.wormholeMessage(id);
    const history = known?.history ?? [];
    if (known?.state !== patch.state) history.push({ state: patch.state, at: now });
    const m: WormholeMessage = {
      ...(known ?? { ...fresh(), observedAt: now }),
      ...patch,
      history,
      updatedAt: now,
    } as WormholeMessage;
    await this.redis.hSet(`${P}wh:m:${id}`, serialize(m));
    return m;
  }

  async wormholeCursor(emitter: string): Promise<bigint | undefined> {
    const v = await this.redis.get(`${P}wh:cursor:${emitter}`);
    return v ? BigInt(v as string) : undefined;
  }

  async setWormholeCursor(emitter: string, sequence: bigint): Promise<void> {
    await this.redis.set(`${P}wh:cursor:${emitter}`, sequence.toString());
  }

  /** Ask for a message to be picked up; false when MAX_WORMHOLE_REQUESTS are already waiting. */
  async requestWormholeMessage(id: string): Promise<boolean> {
    if (Number(await this.redis.sCard(`${P}wh:requested`)) >= MAX_WORMHOLE_REQUESTS) return false;
    await this.redis.sAdd(`${P}wh:requested`, id);
    return true;
  }

  async requestedWormholeMessages(): Promise<string[]> {
    return ((await this.redis.sMembers(`${P}wh:requested`)) as string[]).sort();
  }

  async forgetWormholeRequest(id: string): Promise<void> {
    await this.redis.sRem(`${P}wh:requested`, id);
  }

  async cursor(chain: string): Promise<bigint | undefined> {
    const v = await this.redis.get(`${P}cursor:${chain}`);
    return v ? BigInt(v as string) : undefined;
  }

  async setCursor(chain: string, block: bigint): Promise<void> {
    await this.redis.set(`${P}cursor:${chain}`, block.toString());
  }
}

function serialize(t: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t))
    if (v !== undefined) out[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
  return out;
}

const NUMERIC = new Set([
  "emitterChain",
  "tokenChain",
  "eta",
  "observedAt",
  "updatedAt",
  "signatures",
  "quorum",
  "releaseTime",
  "attempts",
]);

function deserialize(h: Record<string, string>): TransferRecord {
  // history is JSON; the numeric fields are numbers (both record types share these names)
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) out[k] = NUMERIC.has(k) ? Number(v) : k === "history" ? JSON.parse(v) : v;
  return out as unknown as TransferRecord;
}
