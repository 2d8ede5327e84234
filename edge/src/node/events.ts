// Subscription fan-out between Node edge instances over Redis pub/sub. Whichever instance applies a bundle (or accepts a
// transaction) PUBLISHes the resulting events on the chain's channel, `rustchain:edge:<chainId>:events`; every instance,
// the publisher included, receives them on a dedicated subscriber connection and delivers them to its own WebSocket
// sessions. Each message also carries the replica's tips after the bundle, so instances learn the head without
// polling Redis. One publisher's messages arrive in the order it published them (one connection, one channel), and
// it publishes only after the bundle is committed, so a block is readable on every instance before its newHeads.
//
// Pub/sub is fire-and-forget: an instance whose subscriber connection is down misses the events of that time (its
// WebSocket clients miss those notifications; reads are unaffected, they go to the shared store).
import type { ChainTips, EventPublisher, SubscriptionEvent } from "../app/contract.ts";
import { connectRedis, type RedisClient, redisKeyPrefix } from "./redisStore.ts";

/** One pub/sub message. `origin` tells instances apart (logs and tests). */
export interface FanoutMessage {
  v: 1;
  origin: string;
  events: SubscriptionEvent[];
  tips?: ChainTips;
}

export type FanoutListener = (events: SubscriptionEvent[], tips: ChainTips | undefined, origin: string) => void;

export function eventsChannel(chainId: bigint): string {
  return `${redisKeyPrefix(chainId)}events`;
}

export interface RedisEventFanoutOptions {
  url: string;
  chainId: bigint;
  /** This instance's id in messages (default: random). */
  origin?: string;
  /** Connection errors and undecodable messages. */
  onError?: (err: Error) => void;
}

export class RedisEventFanout implements EventPublisher {
  readonly channel: string;
  readonly origin: string;
  private readonly listeners = new Set<FanoutListener>();
  private closed = false;

  private constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    opts: RedisEventFanoutOptions,
  ) {
    this.channel = eventsChannel(opts.chainId);
    this.origin = opts.origin ?? crypto.randomUUID();
    this.onError = opts.onError;
  }

  private readonly onError: ((err: Error) => void) | undefined;

  /** Connect the publisher and the subscriber connections and subscribe to the channel. */
  static async connect(opts: RedisEventFanoutOptions): Promise<RedisEventFanout> {
    const publisher = await connectRedis({ url: opts.url, onError: opts.onError, name: "rustchain-edge-pub" });
    let subscriber: RedisClient;
    try {
      subscriber = await connectRedis({ url: opts.url, onError: opts.onError, name: "rustchain-edge-sub" });
    } catch (err) {
      publisher.destroy();
      throw err;
    }
    const fanout = new RedisEventFanout(publisher, subscriber, opts);
    // node-redis resubscribes by itself after a reconnect.
    await subscriber.subscribe(fanout.channel, (message: string) => fanout.deliver(message));
    return fanout;
  }

  /** Get every message published on the channel (own ones included), in order. Returns the unsubscribe function. */
  onMessage(listener: FanoutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** EventPublisher: one event (the pipeline's pending transactions). */
  async publish(event: SubscriptionEvent): Promise<void> {
    await this.publishMany([event]);
  }

  /** Publish `events` (in order, one message) and the tips they lead to. Nothing is sent for no events and no tips. */
  async publishMany(events: SubscriptionEvent[], tips?: ChainTips): Promise<void> {
    if (this.closed || (events.length === 0 && !tips)) return;
    const msg: FanoutMessage = { v: 1, origin: this.origin, events, ...(tips ? { tips } : {}) };
    await this.publisher.publish(this.channel, JSON.stringify(msg));
  }

  private deliver(message: string): void {
    let msg: FanoutMessage;
    try {
      msg = JSON.parse(message) as FanoutMessage;
      if (msg?.v !== 1 || !Array.isArray(msg.events)) throw new Error("not a fan-out message");
    } catch (err) {
      this.onError?.(new Error(`ignored a message on ${this.channel}: ${(err as Error).message}`));
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
    await Promise.allSettled([this.subscriber.unsubscribe(this.channel)]);
    await Promise.allSettled([this.publisher.close(), this.subscriber.close()]);
  }
}
