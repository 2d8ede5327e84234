// Per-client rate limiting on Workers: one RateLimiter Durable Object per client IP (`idFromName(ip)`), holding that
// client's token bucket, so every isolate and colo draws on the same budget. The bucket lives in memory: an evicted
// (idle) object starts again with a full bucket, which is what an idle client would have anyway.
import { DurableObject } from "cloudflare:workers";
import type { RateDecision, RateLimiter as RateLimiterSeam } from "../app/contract.ts";
import { TokenBucketLimiter } from "../rpc/rateLimit.ts";
import { edgeConfigFromEnv, type WorkerEnv } from "./env.ts";

export class RateLimiter extends DurableObject<WorkerEnv> {
  private readonly bucket: TokenBucketLimiter;

  constructor(ctx: DurableObjectState, env: WorkerEnv) {
    super(ctx, env);
    this.bucket = new TokenBucketLimiter({ ...edgeConfigFromEnv(env).rateLimit, maxKeys: 1 });
  }

  /** Take `cost` tokens from this client's bucket (DO RPC). */
  async take(cost: number): Promise<RateDecision> {
    return this.bucket.take("client", cost);
  }
}

/** The pipeline's RateLimiter seam backed by RateLimiter Durable Objects. */
export class DurableObjectRateLimiter implements RateLimiterSeam {
  constructor(private readonly ns: DurableObjectNamespace<RateLimiter>) {}

  take(key: string, cost: number): Promise<RateDecision> {
    return this.ns.get(this.ns.idFromName(key)).take(cost);
  }
}
