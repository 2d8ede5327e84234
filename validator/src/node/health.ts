// What /health and /live mean (docs/operators.md, "Health"). Pure: the node passes in what it knows.
//
//   ready (/health): synced (the head is at most maxSyncDistanceSlots behind the clock), has peers (when it runs a
//                    network), and finality is recent (the finalized checkpoint at most maxFinalityLagSlots behind).
//                    A load balancer or a rollout waits for this; 503 with the failing checks otherwise.
//   live  (/live):   the node is not stopping and its head moved within liveStallMs. A node stuck that long, or a
//                    chain that stopped, is worth a restart or a page; a node that is merely syncing is live.

export interface HealthInputs {
  currentSlot: number;
  headSlot: number;
  finalizedSlot: number;
  /** Connected peers; undefined for a node without a network (a one-validator devnet). */
  peers: number | undefined;
  stopping: boolean;
  /** When the head last changed (ms since the epoch), and now. */
  lastHeadChangeMs: number;
  nowMs: number;
}

export interface HealthOptions {
  maxSyncDistanceSlots: number;
  maxFinalityLagSlots: number;
  minPeers: number;
  liveStallMs: number;
}

export const defaultHealthOptions: HealthOptions = {
  maxSyncDistanceSlots: 8,
  maxFinalityLagSlots: 32,
  minPeers: 1,
  liveStallMs: 10 * 60_000,
};

export interface HealthReport {
  ready: boolean;
  live: boolean;
  checks: {
    synced: { ok: boolean; distanceSlots: number };
    peers: { ok: boolean; count: number | null };
    finality: { ok: boolean; lagSlots: number };
    progress: { ok: boolean; headAgeMs: number };
  };
}

export function assessHealth(i: HealthInputs, o: HealthOptions = defaultHealthOptions): HealthReport {
  const distance = Math.max(0, i.currentSlot - i.headSlot);
  const lag = Math.max(0, i.currentSlot - i.finalizedSlot);
  const headAgeMs = Math.max(0, i.nowMs - i.lastHeadChangeMs);
  const checks = {
    synced: { ok: distance <= o.maxSyncDistanceSlots, distanceSlots: distance },
    peers: { ok: i.peers === undefined || i.peers >= o.minPeers, count: i.peers ?? null },
    finality: { ok: lag <= o.maxFinalityLagSlots, lagSlots: lag },
    progress: { ok: headAgeMs <= o.liveStallMs, headAgeMs },
  };
  return {
    ready: !i.stopping && checks.synced.ok && checks.peers.ok && checks.finality.ok,
    live: !i.stopping && checks.progress.ok,
    checks,
  };
}
