// Verified slashing evidence waiting for a block, by offence id. Bounded by `maxPooled`; evidence against validators
// already slashed on the head chain has done its work and is dropped.
import { type Evidence, encodeEvidence, evidenceId } from "../messages/evidence.ts";

export interface PooledEvidence {
  readonly evidence: Evidence;
  readonly offender: number;
}

export class EvidencePool {
  private readonly pool = new Map<string, PooledEvidence>();

  constructor(private readonly opts: { maxPooled: number }) {}

  get size(): number {
    return this.pool.size;
  }

  has(id: string): boolean {
    return this.pool.has(id);
  }

  /** Adds verified evidence; "known" if held already, "full" at the bound. */
  add(evidence: Evidence, offender: number): "added" | "known" | "full" {
    const id = evidenceId(evidence);
    if (this.pool.has(id)) return "known";
    if (this.pool.size >= this.opts.maxPooled) return "full";
    this.pool.set(id, { evidence, offender });
    return "added";
  }

  /** Drops evidence whose offender `isSlashed` says is slashed already. */
  prune(isSlashed: (offender: number) => boolean): void {
    for (const [id, e] of this.pool) if (isSlashed(e.offender)) this.pool.delete(id);
  }

  /** Evidence for a block: one per offender (a second would make the block invalid), not yet slashed, at most `max`. */
  forBlock(max: number, isSlashed: (offender: number) => boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    const offenders = new Set<number>();
    for (const [id, e] of this.pool) {
      if (out.length >= max) break;
      if (isSlashed(e.offender)) {
        this.pool.delete(id);
        continue;
      }
      if (offenders.has(e.offender)) continue;
      offenders.add(e.offender);
      out.push(encodeEvidence(e.evidence));
    }
    return out;
  }
}
