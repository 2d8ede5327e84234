// Prometheus metrics, served on their own port (off the public RPC port). Names carry units; labels are bounded
// (RPC method labels come from the fixed method table, never from caller input).
import { createServer, type Server } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly blocksTotal = new Counter({
    name: "rustchain_blocks_imported_total",
    help: "Blocks imported",
    registers: [this.registry],
  });
  readonly txsTotal = new Counter({
    name: "rustchain_transactions_included_total",
    help: "Transactions included in blocks",
    registers: [this.registry],
  });
  readonly headNumber = new Gauge({
    name: "rustchain_head_block_number",
    help: "Number of the head block",
    registers: [this.registry],
  });
  readonly mempoolSize = new Gauge({
    name: "rustchain_mempool_transactions",
    help: "Transactions in the mempool",
    registers: [this.registry],
  });
  readonly txJournalWriteErrorsTotal = new Counter({
    name: "rustchain_tx_journal_write_errors_total",
    help: "Failed writes or syncs of the transaction journal (each makes it rewrite itself from the pool)",
    registers: [this.registry],
  });
  readonly txJournalCompactionSeconds = new Histogram({
    name: "rustchain_tx_journal_compaction_seconds",
    help: "Time to rewrite the transaction journal from the pool",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly blockProductionSeconds = new Histogram({
    name: "rustchain_block_production_seconds",
    help: "Time to build, execute, sign and commit a block",
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly rpcSeconds = new Histogram({
    name: "rustchain_rpc_request_seconds",
    help: "JSON-RPC request latency by method",
    labelNames: ["method"],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly rpcErrorsTotal = new Counter({
    name: "rustchain_rpc_errors_total",
    help: "JSON-RPC error responses by method and code",
    labelNames: ["method", "code"],
    registers: [this.registry],
  });

  readonly justifiedSlot = new Gauge({
    name: "rustchain_justified_slot",
    help: "Slot of the latest justified checkpoint",
    registers: [this.registry],
  });
  readonly finalizedSlot = new Gauge({
    name: "rustchain_finalized_slot",
    help: "Slot of the latest finalized checkpoint",
    registers: [this.registry],
  });
  readonly finalityLagSlots = new Histogram({
    name: "rustchain_finality_lag_slots",
    help: "Slots between a checkpoint and the slot in which this node saw it finalized",
    buckets: [1, 2, 3, 4, 6, 8, 16, 32],
    registers: [this.registry],
  });
  readonly finalityCertificatesTotal = new Counter({
    name: "rustchain_finality_certificates_total",
    help: "Finality certificates this node built, by kind (fast: finalize votes; link: the 2-chain rule)",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly gossipMessagesTotal = new Counter({
    name: "rustchain_gossip_messages_total",
    help: "Gossip messages received, by topic and validation result (accept, ignore, reject).",
    labelNames: ["topic", "result"],
    registers: [this.registry],
  });
  readonly reqRespRequestsTotal = new Counter({
    name: "rustchain_reqresp_requests_total",
    help: "Req/resp exchanges by protocol, direction (in: served, out: made) and result (ok or an error code).",
    labelNames: ["protocol", "direction", "result"],
    registers: [this.registry],
  });
  readonly validatorDutiesTotal = new Counter({
    name: "rustchain_validator_duties_total",
    help: "This validator's duties: proposals made or missed, attestations sent or missed.",
    labelNames: ["duty", "result"],
    registers: [this.registry],
  });
  readonly slashingEvidenceTotal = new Counter({
    name: "rustchain_slashing_evidence_total",
    help: "Slashable offences this node detected",
    registers: [this.registry],
  });

  readonly statePruneRunsTotal = new Counter({
    name: "rustchain_state_prune_runs_total",
    help: "State pruning runs, by result (done, failed)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly statePrunedNodesTotal = new Counter({
    name: "rustchain_state_pruned_nodes_total",
    help: "Trie nodes deleted by state pruning",
    registers: [this.registry],
  });
  readonly statePrunedDiffsTotal = new Counter({
    name: "rustchain_state_pruned_flat_diffs_total",
    help: "Per-block flat-state diffs deleted by state pruning",
    registers: [this.registry],
  });
  readonly stateLiveNodes = new Gauge({
    name: "rustchain_state_live_nodes",
    help: "Trie nodes reachable from the kept states, counted by the last pruning run",
    registers: [this.registry],
  });
  readonly statePruneSeconds = new Histogram({
    name: "rustchain_state_prune_seconds",
    help: "Duration of a state pruning run (mark and sweep, in the background)",
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1200],
    registers: [this.registry],
  });
  readonly statePruneHorizonBlock = new Gauge({
    name: "rustchain_state_prune_horizon_block",
    help: "Kept-window start of the last completed pruning run: no state below it is left",
    registers: [this.registry],
  });
  readonly stateFirstAvailableBlock = new Gauge({
    name: "rustchain_state_first_available_block",
    help: "First block whose state this node answers queries for (older ones answer historical state unavailable)",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "rustchain_process_" });
  }

  onBlock(txs: number, _gasUsed: bigint, seconds: number): void {
    this.blocksTotal.inc();
    this.txsTotal.inc(txs);
    this.blockProductionSeconds.observe(seconds);
  }

  /**
   * Gauges read when Prometheus scrapes (peers, slots, sync distance, database and disk), each from `source` in its
   * own collect step, rather than kept up to date by the code that changes them.
   */
  sample(source: MetricsSource): void {
    const gauge = (name: string, help: string, read: () => number | Promise<number | undefined> | undefined) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const v = await read();
          if (v !== undefined) this.set(v);
        },
      });
    const status = () => source.status();
    gauge("rustchain_peers", "Connected libp2p peers.", () => status().peers ?? 0);
    gauge("rustchain_current_slot", "The slot clock's current slot.", () => status().currentSlot);
    gauge("rustchain_head_slot", "Slot of the head block.", () => status().headSlot);
    gauge("rustchain_sync_distance_slots", "Slots between the clock's current slot and the head's slot.", () => {
      const s = status();
      return Math.max(0, s.currentSlot - s.headSlot);
    });
    gauge("rustchain_syncing", "1 while the node is behind the clock by more than the health threshold.", () =>
      status().syncing ? 1 : 0,
    );
    // One filesystem walk per scrape feeds both disk gauges (the size is read first, in registration order).
    let disk: Promise<{ dbBytes: number; freeBytes: number } | undefined> = Promise.resolve(undefined);
    gauge("rustchain_db_size_bytes", "Bytes of the RocksDB directory (chaindata).", async () => {
      disk = source.disk().catch(() => undefined);
      return (await disk)?.dbBytes;
    });
    gauge(
      "rustchain_disk_free_bytes",
      "Bytes free for the node on the datadir's filesystem.",
      async () => (await disk)?.freeBytes,
    );
  }

  /** Serve /metrics (and the health endpoints, when given) on host:port; port 0 picks a free port. */
  listen(
    host: string,
    port: number,
    health?: (path: string) => { status: number; body: unknown } | undefined,
  ): Promise<Server> {
    const server = createServer(async (req, res) => {
      const answer = req.method === "GET" && req.url ? health?.(req.url) : undefined;
      if (answer) {
        res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
        return;
      }
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": this.registry.contentType });
      res.end(await this.registry.metrics());
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}

/** What the node tells its metrics at scrape time. */
export interface MetricsSource {
  status(): { peers: number | undefined; currentSlot: number; headSlot: number; syncing: boolean };
  disk(): Promise<{ dbBytes: number; freeBytes: number }>;
}
