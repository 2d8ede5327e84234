// The node's health endpoints and scrape-time gauges: what /health and /live answer (rules in health.ts) and what
// the metrics sample (peers, slots, sync distance, database size, free disk), from the chain, the slot clock and the
// network. Served on the RPC port and on the metrics port.
import { readdir, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Chain } from "../chain/chain.ts";
import type { MetricsSource } from "../metrics/metrics.ts";
import { assessHealth, defaultHealthOptions, type HealthOptions, type HealthReport } from "./health.ts";

export interface NodeHealthModules {
  chain: Chain;
  currentSlot(): bigint;
  finalizedSlot(): number;
  /** Connected peers, or undefined when the node runs without a network. */
  peers(): number | undefined;
  datadir: string;
}

export class NodeHealth implements MetricsSource {
  private lastHeadChangeMs = Date.now();
  private stopping = false;

  constructor(
    private readonly modules: NodeHealthModules,
    private readonly opts: HealthOptions = defaultHealthOptions,
  ) {
    let head = modules.chain.headHash;
    modules.chain.on("block", () => {
      if (Buffer.compare(modules.chain.headHash, head) !== 0) {
        head = modules.chain.headHash;
        this.lastHeadChangeMs = Date.now();
      }
    });
  }

  /** From now on /health and /live answer 503: the node is shutting down. */
  markStopping(): void {
    this.stopping = true;
  }

  report(): HealthReport {
    const m = this.modules;
    return assessHealth(
      {
        currentSlot: Number(m.currentSlot()),
        headSlot: Number(m.chain.head.slot),
        finalizedSlot: m.finalizedSlot(),
        peers: m.peers(),
        stopping: this.stopping,
        lastHeadChangeMs: this.lastHeadChangeMs,
        nowMs: Date.now(),
      },
      this.opts,
    );
  }

  /** The answer to GET `path` when it is a health endpoint: `/health` (ready) or `/live`. */
  respond(path: string): { status: number; body: unknown } | undefined {
    const route = path.split("?")[0];
    if (route !== "/health" && route !== "/live") return undefined;
    const r = this.report();
    const ok = route === "/health" ? r.ready : r.live;
    return {
      status: ok ? 200 : 503,
      body: {
        status: ok ? "ok" : route === "/health" ? "not ready" : "not live",
        head: Number(this.modules.chain.head.number),
        ...r,
      },
    };
  }

  status() {
    const r = this.report();
    return {
      peers: this.modules.peers(),
      currentSlot: Number(this.modules.currentSlot()),
      headSlot: Number(this.modules.chain.head.slot),
      syncing: !r.checks.synced.ok,
    };
  }

  async disk(): Promise<{ dbBytes: number; freeBytes: number }> {
    const dir = join(this.modules.datadir, "chaindata");
    let dbBytes = 0;
    for (const name of await readdir(dir)) dbBytes += (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
    const fs = await statfs(this.modules.datadir);
    return { dbBytes, freeBytes: fs.bavail * fs.bsize };
  }
}
