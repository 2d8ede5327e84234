// The Proof-of-AI mining duty (docs/ai.md): once per epoch, compute the epoch's task with the bit-exact int8 kernels,
// prove it with the circuit's Groth16 prover (proof bound to the miner's address), pool and gossip the proof. The model
// comes by its genesis CID from `model` (models/aiModelSource.ts); while it is not available the duty skips and asks
// again on the next slot.
import { bytesToHex, type Genesis } from "@rustchain/shared";
import type { Logger } from "pino";
import type { AiModelProvider } from "../../models/aiModelSource.ts";
import { type AiProof, encodeAiProof } from "../ai/proof.ts";
import { aiTaskInput } from "../ai/task.ts";
import type { ChainView } from "../chainView.ts";
import type { AiProofPool } from "../pools/aiProofPool.ts";
import type { GossipPublisher } from "./types.ts";

export class MinerDuty {
  private minedEpoch = -1n;
  private busy = false;

  constructor(
    private readonly opts: { address: Uint8Array; artefacts: { wasm: string; zkey: string } },
    private readonly modules: {
      genesis: Genesis;
      model: AiModelProvider;
      view: ChainView;
      headHash(): Uint8Array;
      pool: AiProofPool;
      publisher: GossipPublisher | undefined;
      logger: Logger;
    },
  ) {}

  async onSlot(slot: bigint): Promise<void> {
    const ai = this.modules.genesis.ai;
    if (!ai) return;
    const epoch = this.modules.view.epochOf(slot);
    if (epoch <= this.minedEpoch || this.busy) return;
    this.busy = true;
    try {
      await this.mine(epoch, ai);
    } finally {
      this.busy = false;
    }
  }

  private async mine(epoch: bigint, ai: NonNullable<Genesis["ai"]>): Promise<void> {
    const { genesis, view, pool, publisher, logger } = this.modules;
    const model = await this.modules.model.get();
    if (!model) return;
    this.minedEpoch = epoch;
    const seed = await view.seed(epoch, this.modules.headHash());
    const input = aiTaskInput(genesis.params.chainId, ai, seed, epoch);
    const started = performance.now();
    // The prover (snarkjs) is loaded only on mining nodes.
    const { proveAiTask } = await import("../ai/prover.ts");
    const { output, proof } = await proveAiTask({
      model,
      input,
      miner: this.opts.address,
      artefacts: this.opts.artefacts,
    });
    const p: AiProof = { epoch, miner: this.opts.address, output, proof };
    const encoded = encodeAiProof(p);
    pool.add(p, encoded);
    logger.info(
      {
        epoch: Number(epoch),
        ms: Math.round(performance.now() - started),
        miner: bytesToHex(this.opts.address),
        model: this.modules.model.cid,
      },
      "Proof of AI computed",
    );
    await publisher?.publish("ai_proofs", encoded).catch(() => {});
  }
}
