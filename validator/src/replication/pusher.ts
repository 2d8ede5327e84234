// Pushes the replication feed to one receiver (the edge's ingest URL), strictly in seq order: each bundle is POSTed
// with the HMAC headers until the receiver acknowledges it, retrying with capped exponential backoff, never skipping
// or reordering. The receiver answers every POST it authenticated with `{ "ackSeq": n }`, the highest seq it has
// applied; the pusher continues from n + 1, so a receiver that restarted, lost bundles or is ahead steers the pusher.
import { replicationAuthHeaders } from "@rustchain/shared";
import type { Logger } from "pino";
import type { FeedEntry, ReplicationFeed } from "./feed.ts";

export interface ReplicationPusherOptions {
  url: string;
  key: Uint8Array;
  initialBackoffMs: number;
  maxBackoffMs: number;
  requestTimeoutMs: number;
  /** Log the lag at info level at most this often while the receiver is behind. */
  lagLogIntervalMs: number;
}

export const defaultReplicationPusherOptions = {
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  requestTimeoutMs: 10_000,
  lagLogIntervalMs: 5_000,
};

export class ReplicationPusher {
  /** The receiver's last acknowledged seq (0 before it answered). */
  ackSeq = 0;
  private next = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private abort = new AbortController();
  private lastLagLog = 0;
  private readonly onBundle = () => this.wake?.();

  constructor(
    private readonly opts: ReplicationPusherOptions,
    private readonly modules: { feed: ReplicationFeed; logger: Logger },
  ) {}

  /** The next seq the receiver needs, once it has answered (undefined before: where it stands is not known yet). */
  get pendingSeq(): number | undefined {
    return this.next > 0 ? this.next : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.modules.feed.on("bundle", this.onBundle);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.modules.feed.off("bundle", this.onBundle);
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const { feed, logger } = this.modules;
    let backoff = this.opts.initialBackoffMs;
    let failures = 0;
    while (this.running) {
      // Until the receiver has answered once, offer the newest bundle: its answer says where to continue.
      const seq = this.next || feed.headSeq;
      if (seq === 0 || seq > feed.headSeq) {
        await this.sleep(60_000);
        continue;
      }
      let entry: FeedEntry | undefined;
      try {
        entry = await feed.get(seq);
      } catch (e) {
        logger.error({ seq, err: (e as Error).message }, "Replication: cannot rebuild bundle");
      }
      if (!entry) {
        // Older than the feed's history: the receiver has to repair by block number (pull fromBlock).
        logger.error({ seq, oldestSeq: feed.oldestSeq }, "Replication: receiver is behind the feed's history");
        await this.sleep(this.opts.maxBackoffMs);
        continue;
      }
      const ack = await this.post(entry);
      if (!this.running) break;
      // No answer, or the receiver refuses this very bundle (it still wants `seq`): retry the same bundle later.
      if (ack === undefined || ack + 1 === seq) {
        failures++;
        if (failures === 1 || failures % 10 === 0) {
          const reason = ack === undefined ? "no acknowledgement" : "bundle refused";
          logger.warn({ seq, failures, retryMs: backoff, reason }, "Replication push failed; retrying");
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
        continue;
      }
      if (failures > 0) logger.info({ seq, failures }, "Replication push recovered");
      failures = 0;
      backoff = this.opts.initialBackoffMs;
      if (ack !== seq) logger.info({ sent: seq, ackSeq: ack }, "Replication: continuing from the receiver's ackSeq");
      if (ack > feed.headSeq) logger.warn({ ackSeq: ack, headSeq: feed.headSeq }, "Replication: receiver is ahead");
      this.ackSeq = ack;
      this.next = ack + 1;
      const lag = feed.headSeq - ack;
      const now = Date.now();
      if (lag > 0 && now - this.lastLagLog >= this.opts.lagLogIntervalMs) {
        this.lastLagLog = now;
        logger.info({ ackSeq: ack, headSeq: feed.headSeq, lag }, "Replication lag");
      } else {
        logger.debug({ ackSeq: ack, lag }, "Replication pushed");
      }
    }
  }

  /** POST one bundle; the receiver's ackSeq, or undefined on any failure (to be retried). */
  private async post(entry: FeedEntry): Promise<number | undefined> {
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs);
    try {
      const res = await fetch(this.opts.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(await replicationAuthHeaders(this.opts.key, entry.json)) },
        body: entry.json,
        signal: AbortSignal.any([timeout, this.abort.signal]),
      });
      const text = await res.text();
      if (res.status === 401 || res.status >= 500) return undefined;
      const body = JSON.parse(text) as { ackSeq?: unknown };
      const ack = body.ackSeq;
      return typeof ack === "number" && Number.isSafeInteger(ack) && ack >= 0 ? ack : undefined;
    } catch {
      return undefined;
    }
  }
}
