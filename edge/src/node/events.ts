// Subscription fan-out between Node edge instances over a Redis stream. Whichever instance applies a bundle (or
// accepts a transaction) appends the resulting events to the chain's stream, `rustchain:edge:<chainId>:events`
// (XADD, trimmed to about the last 10,000 entries); every instance, the appender included, reads the stream on a
// dedicated connection (XREAD BLOCK) and delivers the events to its own WebSocket sessions. Each entry also carries the
// replica's tips after the bundle, so instances learn the head without polling Redis. The stream orders entries from
// every instance in one sequence, and an instance appends only after the bundle is committed, so a block is readable
// on every instance before its newHeads.
//
// A stream, not pub/sub: an instance whose connection drops reads on from the last entry it delivered once it is back,
// so its WebSocket clients miss nothing (pub/sub would drop whatever was published meanwhile). An outage longer than
// the stream's length (10,000 entries: hours of blocks) loses the trimmed entries; reads are unaffected either way,
// they go to the shared store.
import type { ChainTips, EventPublisher, SubscriptionEvent } from "../app/contract.ts";
import { connectRedis, type RedisClient, redisKeyPrefix } from "./redisStore.ts";

/** One stream entry's message (field `m`, JSON). `origin` tells instances apart (logs and tests). */
export interface FanoutMessage {
  v: 1;
  origin: string;
  events: SubscriptionEvent[];
  tips?: ChainTips;
}

export type FanoutListener = (events: SubscriptionEvent[], tips: ChainTips | undefined, origin: string) => void;

export function eventsStream(chainId: bigint): string {
  return `${redisKeyPrefix(chainId)}events`;
}

/** Entries kept in the stream (approximate trimming): how long an instance may be away and still miss nothing. */
export const EVENTS_STREAM_LENGTH = 10_000;
/** How long one XREAD waits for new entries before asking again (and how late close() is noticed at most). */
const READ_BLOCK_MS = 1_000;
const READ_COUNT = 256;
/** Pause between reads while the connection is down (node-redis reconnects meanwhile). */
const RETRY_MS = 100;

export interface RedisEventFanoutOptions {
  url: string;
  chainId: bigint;
  /** This instance's id in messages (default: random). */
  origin?: string;
  /** Connection errors and undecodable entries. */
  onError?: (err: Error) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RedisEventFanout implements EventPublisher {
  readonly stream: string;
  readonly origin: string;
  private readonly listeners = new Set<FanoutListener>();
  private readonly onError: ((err: Error) => void) | undefined;
  private closed = false;
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly publisher: RedisClient,
    private readonly reader: RedisClient,
    opts: RedisEventFanoutOptions,
    /** The id of the last entry delivered (or present when this instance started). */
    private lastId: string,
  ) {
    this.stream = eventsStream(opts.chainId);
    this.origin = opts.origin ?? crypto.randomUUID();
    this.onError = opts.onError;
  }

  /** Connect the appending and the reading connections; deliver every entry appended from now on. */
  static async connect(opts: RedisEventFanoutOptions): Promise<RedisEventFanout> {
    const publisher = await connectRedis({ url: opts.url, onError: opts.onError, name: "rustchain-edge-pub" });
    let reader: RedisClient;
    try {
      reader = await connectRedis({ url: opts.url, onError: opts.onError, name: "rustchain-edge-sub" });
    } catch (err) {
      publisher.destroy();
      throw err;
    }
    try {
      const last = await publisher.xRevRange(eventsStream(opts.chainId), "+", "-", { COUNT: 1 });
      const fanout = new RedisEventFanout(publisher, reader, opts, last?.[0]?.id ?? "0-0");
      fanout.reading = fanout.readLoop();
      return fanout;
    } catch (err) {
      publisher.destroy();
      reader.destroy();
      throw err;
    }
  }

  /** Get every entry appended to the stream (own ones included), in order. Returns the unsubscribe function. */
  onMessage(listener: FanoutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** EventPublisher: one event (the pipeline's pending transactions). */
  async publish(event: SubscriptionEvent): Promise<void> {
    await this.publishMany([event]);
  }

  /** Append `events` (in order, one entry) and the tips they lead to. Nothing is sent for no events and no tips. */
  async publishMany(events: SubscriptionEvent[], tips?: ChainTips): Promise<void> {
    if (this.closed || (events.length === 0 && !tips)) return;
    const msg: FanoutMessage = { v: 1, origin: this.origin, events, ...(tips ? { tips } : {}) };
    await this.publisher.xAdd(
      this.stream,
      "*",
      { m: JSON.stringify(msg) },
      { TRIM: { strategy: "MAXLEN", strategyModifier: "~", threshold: EVENTS_STREAM_LENGTH } },
    );
  }

  /** Read on from `lastId` until closed; while the connection is down, wait for it and read on from the same entry. */
  private async readLoop(): Promise<void> {
    let down = false;
    while (!this.closed) {
      let reply: { messages: { id: string; message: Record<string, string> }[] }[] | null;
      try {
        reply = (await this.reader.xRead(
          { key: this.stream, id: this.lastId },
          { BLOCK: READ_BLOCK_MS, COUNT: READ_COUNT },
        )) as typeof reply;
      } catch (err) {
        if (this.closed) return;
        // Said once per outage: node-redis reconnects by itself, and each read fails at once until it has.
        if (!down) this.onError?.(new Error(`reading ${this.stream}: ${(err as Error).message}; retrying`));
        down = true;
        await sleep(RETRY_MS);
        continue;
      }
      down = false;
      for (const { messages } of reply ?? []) {
        for (const { id, message } of messages) {
          this.lastId = id;
          this.deliver(message.m);
        }
      }
    }
  }

  private deliver(message: string | undefined): void {
    let msg: FanoutMessage;
    try {
      msg = JSON.parse(message ?? "") as FanoutMessage;
      if (msg?.v !== 1 || !Array.isArray(msg.events)) throw new Error("not a fan-out message");
    } catch (err) {
      this.onError?.(new Error(`ignored an entry of ${this.stream}: ${(err as Error).message}`));
      return;
    }
    for (const l of this.listeners) {
      try {
        l(msg.events, msg.tips, msg.origin);
      } catch (err) {
        this.onError?.(err as Error);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    // The reader may sit in a blocking XREAD: drop its connection rather than wait for it.
    this.reader.destroy();
    await this.reading;
    await Promise.allSettled([this.publisher.close()]);
  }
}
