// Gossip validation of Proof-of-AI proofs (docs/ai.md).
import { GossipValidationError } from "../../network/errors.ts";
import { type AiProof, decodeAiProof } from "../ai/proof.ts";

export interface AiProofGossipContext {
  /** Whether this chain has a Proof-of-AI task. */
  readonly enabled: boolean;
  currentEpoch(): bigint;
  /** Exactly these bytes are pooled already for the proof's miner and epoch. */
  isKnownExactly(proof: AiProof, data: Uint8Array): boolean;
  /** Another proof is pooled already for the proof's miner and epoch. */
  hasProofFor(proof: AiProof): boolean;
  poolFull(): boolean;
  /** Verifies against the epoch's task on the head chain; throws if it does not verify. */
  verify(proof: AiProof): Promise<void>;
}

export async function validateGossipAiProof(ctx: AiProofGossipContext, data: Uint8Array): Promise<AiProof> {
  if (!ctx.enabled) throw new GossipValidationError("IGNORE", { code: "AI_DISABLED" });
  let proof: AiProof;
  try {
    proof = decodeAiProof(data);
  } catch {
    // Rule: one canonical encoding (ai/proof.ts).
    throw new GossipValidationError("REJECT", { code: "AI_PROOF_MALFORMED" });
  }
  // Rule: proofs for this epoch's task or the previous one's (others are not includable: nobody's fault).
  const epoch = ctx.currentEpoch();
  if (proof.epoch > epoch || proof.epoch + 1n < epoch) {
    throw new GossipValidationError("IGNORE", { code: "AI_PROOF_EPOCH" });
  }
  if (ctx.isKnownExactly(proof, data)) throw new GossipValidationError("IGNORE", { code: "AI_PROOF_KNOWN" });
  // Rule: the proof verifies. A different message for a miner and epoch we already hold is verified too, so a
  // forged variant is REJECTed rather than ignored.
  try {
    await ctx.verify(proof);
  } catch {
    throw new GossipValidationError("REJECT", { code: "AI_PROOF_INVALID" });
  }
  if (ctx.hasProofFor(proof)) throw new GossipValidationError("IGNORE", { code: "AI_PROOF_KNOWN" });
  if (ctx.poolFull()) throw new GossipValidationError("IGNORE", { code: "AI_POOL_FULL" });
  return proof;
}
