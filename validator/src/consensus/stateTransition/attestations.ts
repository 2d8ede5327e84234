// Attestation aggregates carried by a block: each decodes, is from an earlier slot, and carries a valid BLS aggregate
// signature of its participants. Returns the aggregates and one vote per participant, to be counted after import.
import { blake3, bytesToHex } from "@rustchain/shared";
import { ConsensusBlockError } from "../errors.ts";
import type { IndexedAttestation } from "../forkChoice/index.ts";
import {
  type AggregateAttestation,
  aggregateParticipants,
  decodeAggregateAttestation,
  verifyAggregate,
} from "../messages/attestation.ts";
import type { TransitionContext } from "./index.ts";

/** A bounded memo of aggregates (by encoding hash) whose signature verified; blocks re-include recent aggregates. */
export class VerifiedAggregates {
  private readonly ids = new Set<string>();
  constructor(private readonly limit = 4096) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    if (this.ids.size >= this.limit) this.ids.clear();
    this.ids.add(id);
  }
}

export function processAttestations(
  encoded: readonly Uint8Array[],
  ctx: TransitionContext,
): { aggregates: AggregateAttestation[]; votes: IndexedAttestation[] } {
  const limit = ctx.limits.maxAttestationsPerBlock;
  // Rule: at most maxAttestationsPerBlock aggregates.
  if (encoded.length > limit) {
    throw new ConsensusBlockError({ code: "BLOCK_TOO_MANY_ITEMS", kind: "attestation", count: encoded.length, limit });
  }
  const pubkeys = ctx.genesis.validators.map((v) => v.blsPublicKey);
  const aggregates: AggregateAttestation[] = [];
  const votes: IndexedAttestation[] = [];
  for (const [index, enc] of encoded.entries()) {
    let agg: AggregateAttestation;
    try {
      agg = decodeAggregateAttestation(enc);
    } catch (e) {
      throw new ConsensusBlockError({
        code: "BLOCK_ITEM_MALFORMED",
        kind: "attestation",
        index,
        reason: (e as Error).message,
      });
    }
    // Rule: a block carries votes of earlier slots only (a vote cannot see the block that carries it).
    if (BigInt(agg.data.slot) >= ctx.slot)
      throw new ConsensusBlockError({ code: "BLOCK_ATTESTATION_NOT_EARLIER", index });
    // Rule: the aggregate signature is its participants' over its data.
    const id = bytesToHex(blake3(enc));
    if (!ctx.verified.has(id)) {
      if (!verifyAggregate(agg, ctx.chainId, pubkeys)) {
        throw new ConsensusBlockError({ code: "BLOCK_ATTESTATION_BAD_SIGNATURE", index });
      }
      ctx.verified.add(id);
    }
    aggregates.push(agg);
    for (const v of aggregateParticipants(agg)) votes.push({ validatorIndex: v, data: agg.data });
  }
  return { aggregates, votes };
}
