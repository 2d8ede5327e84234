// Proof-of-AI proofs carried by a block (docs/ai.md): each decodes, is for the block's epoch or the one before, verifies
// against that epoch's task on this chain, and was not rewarded before. Effects: the miner is paid `ai.reward`, and
// every validator whose fee recipient is the miner gains `ai.scoreStepBps` of AI score (capped).
import { blake3, bytesToBigint, concatBytes, equalBytes } from "@rustchain/shared";
import { MAX_AI_SCORE_BPS } from "@rustchain/shared/consensus/registry";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, u256 } from "../../chain/validatorRegistry.ts";
import type { WorldState } from "../../state/stateDb.ts";
import { type AiProof, decodeAiProof, verifyAiProof } from "../ai/proof.ts";
import { ConsensusBlockError } from "../errors.ts";
import type { TransitionContext } from "./index.ts";

const AI_USED_DOMAIN = new TextEncoder().encode("RUSTCHAIN_AI_USED_V1");

/** Registry slot marking that `miner`'s proof for `epoch` was rewarded (one reward per miner and epoch). */
export function aiUsedSlot(miner: Uint8Array, epoch: bigint): Uint8Array {
  const e = new Uint8Array(8);
  new DataView(e.buffer).setBigUint64(0, epoch);
  return blake3(concatBytes(AI_USED_DOMAIN, miner, e));
}

export async function applyAiProofs(
  ws: WorldState,
  encoded: readonly Uint8Array[],
  ctx: TransitionContext,
): Promise<AiProof[]> {
  if (encoded.length === 0) return [];
  const limit = ctx.limits.maxAiProofsPerBlock;
  // Rule: at most maxAiProofsPerBlock proofs.
  if (encoded.length > limit) {
    throw new ConsensusBlockError({ code: "BLOCK_TOO_MANY_ITEMS", kind: "aiProof", count: encoded.length, limit });
  }
  const ai = ctx.genesis.ai;
  // Rule: only a chain with a Proof-of-AI task takes proofs.
  if (!ai) throw new ConsensusBlockError({ code: "BLOCK_AI_DISABLED" });
  const epoch = ctx.epochOf(ctx.slot);
  const rewarded: AiProof[] = [];
  for (const [index, enc] of encoded.entries()) {
    let proof: AiProof;
    try {
      proof = decodeAiProof(enc);
    } catch (e) {
      throw new ConsensusBlockError({
        code: "BLOCK_ITEM_MALFORMED",
        kind: "aiProof",
        index,
        reason: (e as Error).message,
      });
    }
    // Rule: proofs of this epoch's task or the previous one's.
    if (proof.epoch !== epoch && proof.epoch + 1n !== epoch) {
      throw new ConsensusBlockError({ code: "BLOCK_AI_PROOF_WRONG_EPOCH", index });
    }
    // Rule: the proof verifies against its epoch's task on this chain.
    const seed = await ctx.seed(proof.epoch, ctx.parentHash);
    try {
      verifyAiProof(proof, {
        chainId: ctx.chainId,
        model: ai,
        verifyingKey: ai.verifyingKey,
        seed,
        epoch: proof.epoch,
      });
    } catch (e) {
      throw new ConsensusBlockError({ code: "BLOCK_AI_PROOF_INVALID", index, reason: (e as Error).message });
    }
    // Rule: one reward per miner and epoch.
    const used = aiUsedSlot(proof.miner, proof.epoch);
    if (bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, used)) !== 0n) {
      throw new ConsensusBlockError({ code: "BLOCK_AI_PROOF_ALREADY_REWARDED", index });
    }
    await ws.setStorage(REGISTRY_ADDRESS, used, u256(1n));
    const miner = await ws.getAccount(proof.miner);
    miner.balance += ai.reward;
    ws.setAccount(proof.miner, miner);
    for (const [i, v] of ctx.genesis.validators.entries()) {
      if (!equalBytes(v.feeRecipient, proof.miner)) continue;
      const slot = registrySlot(i, RegistryField.aiScoreBps);
      const next = bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, slot)) + BigInt(ai.scoreStepBps);
      await ws.setStorage(
        REGISTRY_ADDRESS,
        slot,
        u256(next > BigInt(MAX_AI_SCORE_BPS) ? BigInt(MAX_AI_SCORE_BPS) : next),
      );
    }
    rewarded.push(proof);
  }
  return rewarded;
}
