// Proof of AI over a real network (two validator processes, 1 s slots, the devnet model and a freshly built circuit):
//   - genesis names the model by CID; the validator started with --miner and the model's file (--ai-model) computes
//     each epoch's task, its proof is gossiped, included in a block and scored: its AI score and its fee recipient's
//     balance rise on every node; the other validator's score stays 0;
//   - over gossip, a tampered proof, a proof for another input, and the miner's proof copied under another address are
//     rejected and cost the sender its score.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetFeeRecipient } from "../validator/src/cli/devnetGenesis.ts";
import { devnetAiModel, ensurePoaiCircuit, type PoaiCircuit } from "../validator/src/consensus/ai/index.ts";
import { type AiProof, decodeAiProof, encodeAiProof } from "../validator/src/consensus/ai/proof.ts";
import { proveAiTask } from "../validator/src/consensus/ai/prover.ts";
import { modelCid } from "../validator/src/models/modelCid.ts";
import { type Cluster, startCluster, startTestPeer, waitUntil } from "./support/cluster.ts";

const REWARD = 10n ** 18n; // genesis default `ai.reward`

describe("Proof of AI on a two-validator network", () => {
  let c: Cluster;
  let circuit: PoaiCircuit;
  let dir: string;
  const model = devnetAiModel();

  beforeAll(async () => {
    circuit = await ensurePoaiCircuit();
    dir = await mkdtemp(join(tmpdir(), "poai-e2e-"));
    const modelFile = join(dir, "model.bin");
    await writeFile(modelFile, model);
    c = await startCluster({
      validators: 2,
      slotMs: 1000,
      ai: { model, verifyingKey: circuit.verifyingKey },
      extraArgs: (i) => (i === 0 ? ["--miner", "--ai-model", modelFile] : []),
      logLevel: "debug",
    });
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a mined proof is accepted, included and scored on every node", async () => {
    const scores = await waitUntil(
      "validator 0's AI score to rise on both nodes",
      async () => {
        const s = await Promise.all([0, 1].map((i) => c.validatorSet(i)));
        return s.every((set) => set[0]!.aiScoreBps > 0) ? s : undefined;
      },
      60_000,
      500,
    );
    for (const set of scores) {
      expect(set[0]!.aiScoreBps % 500, "score rises in steps of scoreStepBps").toBe(0);
      expect(set[1]!.aiScoreBps, "validator 1 does not mine").toBe(0);
    }
    const balance = BigInt((await c.rpc(1, "eth_getBalance", [devnetFeeRecipient(0), "latest"])) as string);
    // One reward per accepted proof (the fee recipient also earns tips, but no transactions were sent).
    expect(balance).toBe(REWARD * BigInt(scores[1]![0]!.aiScoreBps / 500));
    const ai = (await c.rpc(0, "rustchain_aiScores")) as { enabled: boolean; model: unknown };
    expect(ai.enabled).toBe(true);
    expect(ai.model).toEqual({ cid: modelCid(model).toString(), inputs: 8, outputs: 4 });
  }, 90_000);

  it("rejects a tampered proof, a proof for another input and a copied proof, and penalises the sender", async () => {
    // Capture the miner's next gossiped proof as the genuine article to tamper with.
    const listener = await startTestPeer(c, 0, ["ai_proofs"]);
    let genuine: AiProof | undefined;
    const off = listener.onGossip((topic, data) => {
      if (topic === "ai_proofs") genuine ??= decodeAiProof(data);
    });
    try {
      await waitUntil("a proof on the ai_proofs topic", async () => genuine, 30_000, 200);
    } finally {
      off();
      await listener.stop();
    }
    const real = genuine as AiProof;
    expect(bytesToHex(real.miner)).toBe(devnetFeeRecipient(0));

    const tampered = { ...real, proof: real.proof.slice() };
    tampered.proof[40] = (tampered.proof[40] as number) ^ 1;
    // A genuine Groth16 proof of the model, for a random input instead of the epoch's task.
    const otherInput = new Int8Array(randomBytes(8).buffer);
    const forOther = await proveAiTask({
      model,
      input: otherInput,
      miner: real.miner,
      artefacts: { wasm: circuit.artefacts.wasm, zkey: circuit.artefacts.zkey },
    });
    const cases: { name: string; proof: AiProof }[] = [
      { name: "tampered proof", proof: tampered },
      { name: "proof for another input", proof: { ...real, output: forOther.output, proof: forOther.proof } },
      {
        name: "proof copied under another miner address",
        proof: { ...real, miner: hexToBytes(devnetFeeRecipient(7)) },
      },
    ];
    for (const kase of cases) {
      const net = await startTestPeer(c, 0, ["ai_proofs"]);
      try {
        const id = net.peerId.toString();
        const mark = c.nodes[0]!.logs.mark();
        await net.libp2p.services.pubsub.publish(net.topic("ai_proofs"), encodeAiProof(kase.proof));
        const score = await waitUntil(
          `node 0 to penalise the sender of a ${kase.name}`,
          async () => {
            const s = (await c.admin(0, "admin_peerScore", [id])) as { score: number };
            return s.score < 0 ? s.score : undefined;
          },
          10_000,
          100,
        );
        expect(score, kase.name).toBeLessThan(0);
        // Node 0 logs each penalty (at debug) with the rule's code.
        const code = await waitUntil(
          "the penalty's log line",
          async () =>
            c.nodes[0]!.logs.since(mark)
              .filter((l) => l.includes(id) && l.includes('"Peer penalised"'))
              .map((l) => (JSON.parse(l) as { code?: string }).code)[0],
          3_000,
          50,
        );
        expect(code, kase.name).toBe("AI_PROOF_INVALID");
      } finally {
        await net.stop();
      }
    }
    // The copied proof never paid the copier.
    const copier = BigInt((await c.rpc(0, "eth_getBalance", [devnetFeeRecipient(7), "latest"])) as string);
    expect(copier).toBe(0n);
  }, 120_000);
});
