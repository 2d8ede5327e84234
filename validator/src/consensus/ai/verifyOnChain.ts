// A Proof-of-AI proof checked against its epoch's task on one chain: the task's input depends on the epoch seed, and
// seeds can differ across forks, so a proof is always verified on the chain ending at a given tip.
import type { ChainView } from "../chainView.ts";
import { ConsensusError } from "../errors.ts";
import { type AiProof, verifyAiProof } from "./proof.ts";

/** Throws AiProofError when `proof` does not verify on the chain ending at `tip` (ConsensusError without a task). */
export async function verifyAiProofOnChain(view: ChainView, proof: AiProof, tip: Uint8Array): Promise<void> {
  const ai = view.genesis.ai;
  if (!ai) throw new ConsensusError({ code: "CONSENSUS_AI_DISABLED" });
  const seed = await view.seed(proof.epoch, tip);
  verifyAiProof(proof, {
    chainId: view.genesis.params.chainId,
    model: ai,
    verifyingKey: ai.verifyingKey,
    seed,
    epoch: proof.epoch,
  });
}
