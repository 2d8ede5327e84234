// Our own per-peer score, next to gossipsub's: every protocol violation we detect (gossip REJECT, malformed req/resp)
// subtracts a penalty; scores decay toward 0 with a half-life; a peer below the ban threshold is banned for a while.
// Decay is computed on read, so there is no timer and no loop over peers; the map is bounded by maxTrackedPeers.
import type { PeerScoreOptions } from "./options.ts";

interface ScoreEntry {
  score: number;
  updatedAt: number;
  bannedUntil: number;
}

export type PenaltyResult = { banned: false; score: number } | { banned: true; score: number };

export class PeerScoreTracker {
  private readonly entries = new Map<string, ScoreEntry>();

  constructor(
    private readonly opts: PeerScoreOptions,
    private readonly now: () => number = Date.now,
  ) {}

  score(peer: string): number {
    const e = this.entries.get(peer);
    return e === undefined ? 0 : this.decayed(e, this.now());
  }

  isBanned(peer: string): boolean {
    const e = this.entries.get(peer);
    return e !== undefined && e.bannedUntil > this.now();
  }

  /** Subtract `penalty`; reports whether the peer is now (newly or still) banned. */
  penalize(peer: string, penalty: number): PenaltyResult {
    const now = this.now();
    let e = this.entries.get(peer);
    if (e === undefined) {
      e = { score: 0, updatedAt: now, bannedUntil: 0 };
      this.entries.set(peer, e);
      this.evictIfFull();
    }
    e.score = this.decayed(e, now) - penalty;
    e.updatedAt = now;
    if (e.score < this.opts.banThreshold) e.bannedUntil = now + this.opts.banDurationMs;
    return { banned: e.bannedUntil > now, score: e.score };
  }

  private decayed(e: ScoreEntry, now: number): number {
    const dt = now - e.updatedAt;
    return dt <= 0 ? e.score : e.score * 0.5 ** (dt / this.opts.halfLifeMs);
  }

  private evictIfFull(): void {
    if (this.entries.size <= this.opts.maxTrackedPeers) return;
    const now = this.now();
    // Map iteration is insertion order, so this drops the oldest unbanned entry; a bounded scan.
    let scanned = 0;
    for (const [peer, e] of this.entries) {
      if (++scanned > this.entries.size) break;
      if (e.bannedUntil <= now) {
        this.entries.delete(peer);
        return;
      }
    }
    // Everyone is banned: drop the oldest anyway, the bound wins.
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }
}
