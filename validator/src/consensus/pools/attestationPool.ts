// The pool of attestations waiting to go into a block. It keeps one aggregate per distinct AttestationData: single
// attestations are folded into it (BLS signature aggregation), and a gossiped aggregate is merged when its
// participants are disjoint from the pooled one, or replaces it when it has more participants. Everything that enters
// has already been verified (gossip validation); the pool never verifies signatures itself.
//
// Memory is bounded: at most `maxSlotsKept` slots, at most `maxDataPerSlot` aggregates per slot, and each aggregate is
// at most ~1.2 KiB (8192-bit field, 96-byte signature, data). When a slot is full, a new AttestationData evicts the
// one with the fewest participants (the oldest among equals) if it has at least as many, so a few equivocating
// validators cannot lock honest data out for long; gossip validation (one vote per validator per target slot) is
// what keeps such junk rare in the first place. Adding a slot beyond `maxSlotsKept` drops the oldest slot, so only
// attestations whose slot passed gossip's clock window must be added.

import { BLS_SIGNATURE_LENGTH, blsAggregateSignatures, RustChainError } from "@rustchain/shared";
import type { AttestationData } from "../forkChoice/checkpoint.ts";
import {
  type AggregateAttestation,
  aggregateFromAttestation,
  attestationDataKey,
  checkAttestationData,
  participantCount,
  type SignedAttestation,
} from "../messages/attestation.ts";

export interface AttestationPoolOptions {
  /** Slots kept, and how far back `forBlock` looks: data.slot >= slot - maxSlotsKept. */
  maxSlotsKept: number;
  /** Distinct AttestationData kept per slot (honest validators agree on one or two). */
  maxDataPerSlot: number;
}

export const defaultAttestationPoolOptions: AttestationPoolOptions = {
  maxSlotsKept: 32,
  maxDataPerSlot: 16,
};

export interface AttestationPoolModules {
  /** Size of the current validator set: aggregates carry ceil(validatorCount / 8) bytes of bits. */
  validatorCount(): number;
}

/**
 * What `add` / `addAggregate` did:
 *   created   first attestation for this data;
 *   merged    participants added to the pooled aggregate;
 *   replaced  an overlapping aggregate with more participants took the pooled one's place;
 *   known     nothing new (the bit was already set, or an overlapping aggregate with no more participants);
 *   too_old   its slot was pruned or fell out of the window;
 *   full      the slot holds maxDataPerSlot aggregates that all have more participants;
 *   invalid   not an aggregate of the current validator set (bits length, bit beyond the set, no bit, bad signature).
 * Only `created`, `merged` and `replaced` change the pool.
 */
export type PoolAddResult = "created" | "merged" | "replaced" | "known" | "too_old" | "full" | "invalid";

export type AttestationPoolErrorType = { code: "ATTESTATION_POOL_INVALID_OPTIONS"; reason: string };

export class AttestationPoolError extends RustChainError<AttestationPoolErrorType> {}

interface PoolEntry {
  readonly aggregate: AggregateAttestation;
  readonly count: number;
  /** Insertion order, for eviction among equals and a stable order in `forBlock`. */
  readonly seq: number;
}

export class AttestationPool {
  private readonly opts: AttestationPoolOptions;
  private readonly modules: AttestationPoolModules;
  /** slot -> data key -> entry. */
  private readonly bySlot = new Map<number, Map<string, PoolEntry>>();
  /** Slots below this were pruned; attestations for them are refused. */
  private minSlot = 0;
  private seq = 0;

  constructor(opts: Partial<AttestationPoolOptions>, modules: AttestationPoolModules) {
    this.opts = { ...defaultAttestationPoolOptions, ...opts };
    for (const [name, value] of Object.entries(this.opts)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new AttestationPoolError({ code: "ATTESTATION_POOL_INVALID_OPTIONS", reason: name });
      }
    }
    this.modules = modules;
  }

  /** Number of aggregates held. */
  get size(): number {
    let n = 0;
    for (const byData of this.bySlot.values()) n += byData.size;
    return n;
  }

  /** Adds a verified single attestation, folding it into the aggregate for its data. */
  add(att: SignedAttestation): PoolAddResult {
    let single: AggregateAttestation;
    try {
      single = aggregateFromAttestation(att, this.modules.validatorCount());
    } catch {
      return "invalid";
    }
    if (att.signature.length !== BLS_SIGNATURE_LENGTH) return "invalid";
    return this.insert(single, 1);
  }

  /** Adds a verified aggregate: merged when disjoint from the pooled one, otherwise the bigger of the two is kept. */
  addAggregate(agg: AggregateAttestation): PoolAddResult {
    const validatorCount = this.modules.validatorCount();
    try {
      checkAttestationData(agg.data);
    } catch {
      return "invalid";
    }
    const bits = agg.bits;
    if (!(bits instanceof Uint8Array) || bits.length !== Math.ceil(validatorCount / 8)) return "invalid";
    if (validatorCount % 8 !== 0 && (bits[bits.length - 1] as number) >> (validatorCount % 8) !== 0) return "invalid";
    if (!(agg.signature instanceof Uint8Array) || agg.signature.length !== BLS_SIGNATURE_LENGTH) return "invalid";
    const count = participantCount(bits);
    if (count === 0) return "invalid";
    return this.insert({ data: agg.data, bits: bits.slice(), signature: agg.signature.slice() }, count);
  }

  /**
   * Aggregates a block proposed at `slot` may include: data.slot < slot and data.slot >= slot - maxSlotsKept, for the
   * current validator set, accepted by `isUsable` (e.g. source is the justified checkpoint, target on our chain), at
   * most `maxCount`, most participants first (then newer slot first).
   */
  forBlock(slot: number, maxCount: number, isUsable?: (data: AttestationData) => boolean): AggregateAttestation[] {
    const bitsLength = Math.ceil(this.modules.validatorCount() / 8);
    const candidates: { entry: PoolEntry; slot: number }[] = [];
    for (const [s, byData] of this.bySlot) {
      if (s >= slot || s < slot - this.opts.maxSlotsKept) continue;
      for (const entry of byData.values()) {
        if (entry.aggregate.bits.length !== bitsLength) continue;
        if (isUsable !== undefined && !isUsable(entry.aggregate.data)) continue;
        candidates.push({ entry, slot: s });
      }
    }
    candidates.sort((a, b) => b.entry.count - a.entry.count || b.slot - a.slot || a.entry.seq - b.entry.seq);
    return candidates.slice(0, Math.max(0, maxCount)).map((c) => c.entry.aggregate);
  }

  /** Every pooled aggregate whose data passes `matches` (e.g. the votes of one FFG link, for a certificate). */
  aggregatesFor(slot: number, matches: (data: AttestationData) => boolean): AggregateAttestation[] {
    return [...(this.bySlot.get(slot)?.values() ?? [])].map((e) => e.aggregate).filter((a) => matches(a.data));
  }

  /** Forgets every slot below `minSlot` and refuses attestations for them from now on. */
  prune(minSlot: number): void {
    if (minSlot <= this.minSlot) return;
    this.minSlot = minSlot;
    for (const s of this.bySlot.keys()) if (s < minSlot) this.bySlot.delete(s);
  }

  private insert(agg: AggregateAttestation, count: number): PoolAddResult {
    const slot = agg.data.slot;
    if (slot < this.minSlot) return "too_old";
    let byData = this.bySlot.get(slot);
    if (byData === undefined) {
      if (this.bySlot.size >= this.opts.maxSlotsKept) {
        const oldest = Math.min(...this.bySlot.keys());
        if (slot < oldest) return "too_old";
        this.bySlot.delete(oldest);
      }
      byData = new Map();
      this.bySlot.set(slot, byData);
    }
    const key = attestationDataKey(agg.data);
    const existing = byData.get(key);
    if (existing === undefined) {
      if (byData.size >= this.opts.maxDataPerSlot) {
        const [victimKey, victim] = fewestParticipants(byData);
        if (count < victim.count) return "full";
        byData.delete(victimKey);
      }
      byData.set(key, { aggregate: agg, count, seq: this.seq++ });
      return "created";
    }
    const old = existing.aggregate;
    // A different bits length means the validator set changed since the pooled one: it can no longer be included.
    if (old.bits.length === agg.bits.length && disjoint(old.bits, agg.bits)) {
      let signature: Uint8Array;
      try {
        signature = blsAggregateSignatures([old.signature, agg.signature]);
      } catch {
        return "invalid";
      }
      const bits = old.bits.slice();
      for (let i = 0; i < bits.length; i++) bits[i] = (bits[i] as number) | (agg.bits[i] as number);
      byData.set(key, {
        aggregate: { data: old.data, bits, signature },
        count: existing.count + count,
        seq: existing.seq,
      });
      return "merged";
    }
    if (old.bits.length === agg.bits.length && count <= existing.count) return "known";
    byData.set(key, { aggregate: agg, count, seq: existing.seq });
    return "replaced";
  }
}

function disjoint(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (((a[i] as number) & (b[i] as number)) !== 0) return false;
  return true;
}

function fewestParticipants(byData: Map<string, PoolEntry>): [string, PoolEntry] {
  let best: [string, PoolEntry] | undefined;
  for (const kv of byData) {
    if (
      best === undefined ||
      kv[1].count < best[1].count ||
      (kv[1].count === best[1].count && kv[1].seq < best[1].seq)
    ) {
      best = kv;
    }
  }
  return best as [string, PoolEntry];
}
