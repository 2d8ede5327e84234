// Proves a Proof-of-AI task with snarkjs (Node only): the witness from the circuit's WebAssembly witness generator,
// then a Groth16 proof with the circuit's zkey. snarkjs runs the heavy multi-exponentiations on its own worker
// threads; when the last proof in flight finishes, they are terminated so they do not keep the process alive.

import { bytesToBigint, equalBytes } from "@rustchain/shared";
import * as snarkjs from "snarkjs";
import { mlpForward, parseMlpModel } from "../../runtime/ai/int8Kernels.ts";
import { inputsFromSnarkjs, proofFromSnarkjs, type SnarkjsProof } from "../../runtime/groth16/groth16.ts";
import { AI_SIGNAL_OFFSET } from "./mlpCircuit.ts";
import { AI_MINER_LENGTH, AiProofError, aiPublicInputs } from "./proof.ts";

export interface AiProverArtefacts {
  /** The circuit's witness generator. */
  wasm: string;
  /** The circuit's proving key. */
  zkey: string;
}

export interface ProveAiTaskArgs {
  model: Uint8Array;
  input: Int8Array;
  /** The 20-byte address the proof is bound to. */
  miner: Uint8Array;
  artefacts: AiProverArtefacts;
}

/** A task answer: put it in an `AiProof` with the epoch and miner. */
export interface AiTaskAnswer {
  output: Int8Array;
  /** 256-byte Groth16 proof (groth16.ts binary format). */
  proof: Uint8Array;
}

let proofsInFlight = 0;

/**
 * The circuit's witness input (it has no private inputs): x = the task input, each int8 + 128, and the miner address
 * as an integer, in the decimal strings snarkjs takes. Throws AI_PROOF_MALFORMED when the miner is not 20 bytes.
 */
export function aiCircuitInput(input: Int8Array, miner: Uint8Array): { x: string[]; miner: string } {
  if (miner.length !== AI_MINER_LENGTH) {
    throw new AiProofError({ code: "AI_PROOF_MALFORMED", reason: `miner is not ${AI_MINER_LENGTH} bytes` });
  }
  return { x: [...input].map((v) => String(v + AI_SIGNAL_OFFSET)), miner: bytesToBigint(miner).toString() };
}

/**
 * Computes the output and a proof bound to `miner`. Throws AiError for a malformed model or input, AiProofError
 * AI_PROOF_MALFORMED for a bad miner, and AI_PROOF_WRONG_OUTPUT / AI_PROOF_INVALID when the circuit's public signals
 * disagree with the reference (artefacts built for another model).
 */
export async function proveAiTask(args: ProveAiTaskArgs): Promise<AiTaskAnswer> {
  const expected = mlpForward(parseMlpModel(args.model), args.input);
  const circuitInput = aiCircuitInput(args.input, args.miner);
  let result: Awaited<ReturnType<typeof snarkjs.groth16.fullProve>>;
  proofsInFlight++;
  try {
    result = await snarkjs.groth16.fullProve(circuitInput, args.artefacts.wasm, args.artefacts.zkey);
  } finally {
    if (--proofsInFlight === 0) await terminateSnarkjsCurve();
  }
  // The circuit must agree with the reference; it does unless the artefacts were built for another model.
  const signals = inputsFromSnarkjs(result.publicSignals);
  const want = aiPublicInputs(args.input, expected, args.miner);
  if (signals.length !== want.length) {
    throw new AiProofError({
      code: "AI_PROOF_INVALID",
      reason: `the circuit has ${signals.length} public signals, the model needs ${want.length}`,
    });
  }
  const mismatch = want.findIndex((w, i) => !equalBytes(w, signals[i]));
  if (mismatch >= 0 && mismatch < expected.length) {
    const got = result.publicSignals.slice(0, expected.length).map((s) => Number(s) - AI_SIGNAL_OFFSET);
    throw new AiProofError({ code: "AI_PROOF_WRONG_OUTPUT", expected: [...expected], got });
  }
  if (mismatch >= 0) {
    throw new AiProofError({ code: "AI_PROOF_INVALID", reason: "the circuit's public inputs differ from the task" });
  }
  return { output: expected, proof: proofFromSnarkjs(result.proof as unknown as SnarkjsProof) };
}

/** snarkjs (ffjavascript) keeps a global bn128 curve with worker threads alive; this ends them. */
async function terminateSnarkjsCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  await g.curve_bn128?.terminate();
}
