// Per-client token buckets (the Node host's rate limiter; Workers use a Durable Object with the same arithmetic).
// Each client key holds up to `burst` tokens, refilled at `perSecond`; a request takes one token per JSON-RPC call.
import type { RateDecision, RateLimiter } from "../app/contract.ts";

export interface TokenBucketOptions {
  perSecond: number;
  burst: number;
  /** Most client keys tracked (default 100 000); the least recently seen is forgotten first (it was refilling anyway). */
  maxKeys?: number;
  /** Clock in milliseconds (tests pin it). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.perSecond > 0) || !(opts.burst > 0)) throw new RangeError("rate limit: perSecond and burst must be > 0");
    this.perSecond = opts.perSecond;
    this.burst = opts.burst;
    this.maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
    this.now = opts.now ?? Date.now;
  }

  async take(key: string, cost: number): Promise<RateDecision> {
    return this.takeSync(key, cost);
  }

  /** The same decision without a promise (the Durable Object and tests use it). */
  takeSync(key: string, cost: number): RateDecision {
    // A request costing more than the burst (a batch larger than the bucket) could never pass; it takes a full bucket.
    cost = Math.min(Math.max(0, cost), this.burst);
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      const elapsed = Math.max(0, now - bucket.at) / 1000;
      bucket = { tokens: Math.min(this.burst, bucket.tokens + elapsed * this.perSecond), at: now };
    } else {
      bucket = { tokens: this.burst, at: now };
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true };
    }
    const missing = cost - bucket.tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.perSecond)) };
  }
}
