import { describe, expect, it } from "vitest";
import { EdgeMetricsRegistry } from "./metrics.ts";

describe("EdgeMetricsRegistry", () => {
  it("counts calls by method, source and result; the hit ratio ignores edge answers", () => {
    const m = new EdgeMetricsRegistry();
    m.call("eth_getBalance", "cache", true);
    m.call("eth_getBalance", "cache", true);
    m.call("eth_getBalance", "replica", true);
    m.call("eth_call", "core", false);
    m.call("eth_chainId", "edge", true);
    expect(m.cacheHitRatio()).toBe(0.5);
    const text = m.prometheus();
    expect(text).toContain('rustchain_edge_rpc_calls_total{method="eth_getBalance",source="cache",result="ok"} 2');
    expect(text).toContain('rustchain_edge_rpc_calls_total{method="eth_call",source="core",result="error"} 1');
    expect(text).toContain("rustchain_edge_cache_hit_ratio 0.5");
  });

  it("keeps an upstream latency histogram in seconds, the rate-limited count and replica lag", () => {
    const m = new EdgeMetricsRegistry();
    m.upstream("eth_call", 7, true);
    m.upstream("eth_call", 300, false);
    m.rateLimited();
    m.setReplicaLag(2.5, 3);
    const text = m.prometheus();
    expect(text).toContain('rustchain_edge_upstream_seconds_bucket{method="eth_call",le="0.005"} 0');
    expect(text).toContain('rustchain_edge_upstream_seconds_bucket{method="eth_call",le="0.01"} 1');
    expect(text).toContain('rustchain_edge_upstream_seconds_bucket{method="eth_call",le="0.5"} 2');
    expect(text).toContain('rustchain_edge_upstream_seconds_bucket{method="eth_call",le="+Inf"} 2');
    expect(text).toContain('rustchain_edge_upstream_seconds_count{method="eth_call"} 2');
    expect(text).toContain('rustchain_edge_upstream_errors_total{method="eth_call"} 1');
    expect(text).toContain("rustchain_edge_rate_limited_total 1");
    expect(text).toContain("rustchain_edge_replica_lag_seconds 2.5");
    expect(text).toContain("rustchain_edge_replica_lag_blocks 3");
    expect(m.snapshot()).toMatchObject({
      rateLimited: 1,
      replicaLagSeconds: 2.5,
      replicaLagBlocks: 3,
      upstream: { eth_call: { count: 2, errors: 1 } },
    });
  });
});
