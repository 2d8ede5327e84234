// The edge's counters and timings: calls by method / source / outcome (cache hit ratio = cache answers over all
// answers of cacheable methods), upstream latency histogram, rate-limit refusals and replica lag. Prometheus text on
// Node (`prometheus()`), JSON on Workers (`snapshot()`). Labels are bounded: the pipeline passes only method names from
// the shared table (or "unknown").
import type { EdgeMetrics, GatewayResult } from "../app/contract.ts";

type Source = "cache" | "replica" | "core" | "edge";

/** Upstream latency buckets, seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class EdgeMetricsRegistry implements EdgeMetrics {
  private readonly calls = new Map<string, number>();
  private readonly upstreamSeconds = new Map<string, Histogram>();
  private readonly upstreamErrors = new Map<string, number>();
  private readonly gatewayRequests = new Map<string, number>();
  private rateLimitedTotal = 0;
  private lagSeconds = 0;
  private lagBlocks = 0;

  call(method: string, source: Source, ok: boolean): void {
    const key = `${method}\u0000${source}\u0000${ok ? "ok" : "error"}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  upstream(method: string, ms: number, ok: boolean): void {
    let h = this.upstreamSeconds.get(method);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.upstreamSeconds.set(method, h);
    }
    const s = ms / 1000;
    for (let i = 0; i < BUCKETS.length; i++) if (s <= (BUCKETS[i] as number)) h.counts[i] = (h.counts[i] as number) + 1;
    h.sum += s;
    h.count++;
    if (!ok) this.upstreamErrors.set(method, (this.upstreamErrors.get(method) ?? 0) + 1);
  }

  rateLimited(): void {
    this.rateLimitedTotal++;
  }

  gateway(format: "raw" | "car" | "none", source: "cache" | "core" | "edge", result: GatewayResult): void {
    const key = `${format}\u0000${source}\u0000${result}`;
    this.gatewayRequests.set(key, (this.gatewayRequests.get(key) ?? 0) + 1);
  }

  setReplicaLag(seconds: number, blocks?: number): void {
    this.lagSeconds = seconds;
    if (blocks !== undefined) this.lagBlocks = blocks;
  }

  /** Cache answers over cache + replica + core answers, all methods (0 before any). */
  cacheHitRatio(): number {
    let hits = 0;
    let all = 0;
    for (const [key, n] of this.calls) {
      const source = key.split("\u0000")[1];
      if (source === "edge") continue;
      all += n;
      if (source === "cache") hits += n;
    }
    return all === 0 ? 0 : hits / all;
  }

  snapshot(): Record<string, unknown> {
    const calls: { method: string; source: string; result: string; count: number }[] = [];
    for (const [key, count] of this.calls) {
      const [method, source, result] = key.split("\u0000") as [string, string, string];
      calls.push({ method, source, result, count });
    }
    const upstream: Record<string, { count: number; sumSeconds: number; errors: number }> = {};
    for (const [method, h] of this.upstreamSeconds)
      upstream[method] = { count: h.count, sumSeconds: h.sum, errors: this.upstreamErrors.get(method) ?? 0 };
    const gateway: { format: string; source: string; result: string; count: number }[] = [];
    for (const [key, count] of this.gatewayRequests) {
      const [format, source, result] = key.split("\u0000") as [string, string, string];
      gateway.push({ format, source, result, count });
    }
    return {
      calls,
      gateway,
      cacheHitRatio: this.cacheHitRatio(),
      upstream,
      rateLimited: this.rateLimitedTotal,
      replicaLagSeconds: this.lagSeconds,
      replicaLagBlocks: this.lagBlocks,
    };
  }

  prometheus(): string {
    const out: string[] = [];
    out.push("# HELP rustchain_edge_rpc_calls_total JSON-RPC calls answered, by method, source and result.");
    out.push("# TYPE rustchain_edge_rpc_calls_total counter");
    for (const [key, n] of this.calls) {
      const [method, source, result] = key.split("\u0000") as [string, string, string];
      out.push(
        `rustchain_edge_rpc_calls_total{method="${escapeLabel(method)}",source="${source}",result="${result}"} ${n}`,
      );
    }
    out.push(
      "# HELP rustchain_edge_cache_hit_ratio Calls answered from the cache over calls answered by cache, replica or core.",
    );
    out.push("# TYPE rustchain_edge_cache_hit_ratio gauge");
    out.push(`rustchain_edge_cache_hit_ratio ${this.cacheHitRatio()}`);
    out.push("# HELP rustchain_edge_upstream_seconds Latency of calls to the core.");
    out.push("# TYPE rustchain_edge_upstream_seconds histogram");
    for (const [method, h] of this.upstreamSeconds) {
      const m = escapeLabel(method);
      BUCKETS.forEach((b, i) => {
        out.push(`rustchain_edge_upstream_seconds_bucket{method="${m}",le="${b}"} ${h.counts[i]}`);
      });
      out.push(`rustchain_edge_upstream_seconds_bucket{method="${m}",le="+Inf"} ${h.count}`);
      out.push(`rustchain_edge_upstream_seconds_sum{method="${m}"} ${h.sum}`);
      out.push(`rustchain_edge_upstream_seconds_count{method="${m}"} ${h.count}`);
    }
    out.push("# HELP rustchain_edge_upstream_errors_total Calls to the core that failed (unavailable or timed out).");
    out.push("# TYPE rustchain_edge_upstream_errors_total counter");
    for (const [method, n] of this.upstreamErrors)
      out.push(`rustchain_edge_upstream_errors_total{method="${escapeLabel(method)}"} ${n}`);
    out.push("# HELP rustchain_edge_gateway_requests_total /ipfs/ requests answered, by format, source and result.");
    out.push("# TYPE rustchain_edge_gateway_requests_total counter");
    for (const [key, n] of this.gatewayRequests) {
      const [format, source, result] = key.split("\u0000") as [string, string, string];
      out.push(`rustchain_edge_gateway_requests_total{format="${format}",source="${source}",result="${result}"} ${n}`);
    }
    out.push("# HELP rustchain_edge_rate_limited_total Requests refused by the rate limiter.");
    out.push("# TYPE rustchain_edge_rate_limited_total counter");
    out.push(`rustchain_edge_rate_limited_total ${this.rateLimitedTotal}`);
    out.push("# HELP rustchain_edge_replica_lag_seconds Age of the replica's head block.");
    out.push("# TYPE rustchain_edge_replica_lag_seconds gauge");
    out.push(`rustchain_edge_replica_lag_seconds ${this.lagSeconds}`);
    out.push("# HELP rustchain_edge_replica_lag_blocks Blocks the replica is behind the core.");
    out.push("# TYPE rustchain_edge_replica_lag_blocks gauge");
    out.push(`rustchain_edge_replica_lag_blocks ${this.lagBlocks}`);
    return `${out.join("\n")}\n`;
  }
}
