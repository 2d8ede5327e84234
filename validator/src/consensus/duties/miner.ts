// The Proof-of-AI mining duty (docs/ai.md): once per epoch, compute the epoch's task with the bit-exact int8 kernels,
// prove it with the circuit's Groth16 prover (proof bound to the miner's address), pool and gossip the proof.
import { bytesToHex, type Genesis } from "@rustchain/shared";
import type { Logger } from "pino";
import { type AiProof, encodeAiProof } from "../ai/proof.ts";
import { aiTaskInput } from "../ai/task.ts";
import type { ChainView } from "../chainView.ts";
import type { AiProofPool } from "../pools/aiProofPool.ts";
import type { GossipPublisher } from "./types.ts";

export class MinerDuty {
  private minedEpoch = -1n;

  constructor(
    private readonly opts: { address: Uint8Array; artefacts: { wasm: string; zkey: string } },
    private readonly modules: {
      genesis: Genesis;
      view: ChainView;
      headHash(): Uint8Array;
      pool: AiProofPool;
      publisher: GossipPublisher | undefined;
      logger: Logger;
    },
  ) {}

  async onSlot(slot: bigint): Promise<void> {
    const { genesis, view, pool, publisher, logger } = this.modules;
    const ai = genesis.ai;
    if (!ai) return;
    const epoch = view.epochOf(slot);
    if (epoch <= this.minedEpoch) return;
    this.minedEpoch = epoch;
    const seed = await view.seed(epoch, this.modules.headHash());
    const input = aiTaskInput(genesis.params.chainId, ai.model, seed, epoch);
    const started = performance.now();
    // The prover (snarkjs) is loaded only on mining nodes.
    const { proveAiTask } = await import("../ai/prover.ts");
    const { output, proof } = await proveAiTask({
      model: ai.model,
      input,
      miner: this.opts.address,
      artefacts: this.opts.artefacts,
    });
    const p: AiProof = { epoch, miner: this.opts.address, output, proof };
    const encoded = encodeAiProof(p);
    pool.add(p, encoded);
    logger.info(
      { epoch: Number(epoch), ms: Math.round(performance.now() - started), miner: bytesToHex(this.opts.address) },
      "Proof of AI computed",
    );
    await publisher?.publish("ai_proofs", encoded).catch(() => {});
  }
}
