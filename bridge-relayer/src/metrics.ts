// Prometheus metrics of the relayer: what it saw, finished and submitted, its failures by code, queue depth and how
// far each watcher is behind its chain.
import { Counter, Gauge, Registry } from "prom-client";

export function createRelayerMetrics() {
  const registry = new Registry();
  const labels = <T extends string>(names: T[]) => ({ labelNames: names, registers: [registry] });
  return {
    registry,
    observed: new Counter({
      name: "bridge_relayer_messages_observed_total",
      help: "Bridge messages seen on a source chain",
      ...labels(["chain", "kind"]),
    }),
    finished: new Counter({
      name: "bridge_relayer_transfers_finished_total",
      help: "Transfers that reached a final state",
      ...labels(["state", "kind"]),
    }),
    submitted: new Counter({
      name: "bridge_relayer_submissions_total",
      help: "Transactions sent to a destination gateway",
      ...labels(["chain", "fn"]),
    }),
    failures: new Counter({
      name: "bridge_relayer_failures_total",
      help: "Failed transfer steps (retried), by revert code",
      ...labels(["code"]),
    }),
    queueDepth: new Gauge({
      name: "bridge_relayer_queue_depth",
      help: "Transfers not yet in a final state",
      registers: [registry],
    }),
    wormholeMessages: new Counter({
      name: "bridge_relayer_wormhole_messages_total",
      help: "Signed Wormhole messages of watched emitters: relayed (a transfer to RustChain) or skipped",
      ...labels(["outcome"]),
    }),
    lagBlocks: new Gauge({
      name: "bridge_relayer_source_lag_blocks",
      help: "Blocks between a chain's head and the watcher's cursor",
      ...labels(["chain"]),
    }),
  };
}

export type RelayerMetrics = ReturnType<typeof createRelayerMetrics>;
