// The epoch's Proof-of-AI task: the genesis model, named by its CID, applied to an input drawn from chain randomness.
// All integers are big-endian; ‖ is concatenation.
//
//   modelCid = the model's CIDv1 in binary form (genesis `ai.modelCid`, docs/models.md)
//   input    = first `inputs` bytes of blake3("RUSTCHAIN_AI_TASK_V2" ‖ u64(chainId) ‖ u16(len(modelCid)) ‖ modelCid ‖
//              seed[32] ‖ u64(epoch)), each read as an int8 (two's complement)
//   output   = mlpForward(model, input)             (docs/ai.md, bit-exact)
//
// The input needs only the CID and the input count, so validators draw it (and verify proofs) without the model's
// bytes; only miners fetch them. One digest gives 32 bytes, so a PoAI model takes at most 32 inputs.

import { blake3, concatBytes } from "@rustchain/shared";
import { modelCid } from "../../models/modelCid.ts";
import { AiError, parseMlpModel } from "../../runtime/ai/int8Kernels.ts";

export const AI_TASK_DOMAIN = new TextEncoder().encode("RUSTCHAIN_AI_TASK_V2");
export const AI_TASK_SEED_LENGTH = 32;
/** Inputs come from one BLAKE3 digest. */
export const AI_TASK_MAX_INPUTS = 32;

const MAX_U64 = (1n << 64n) - 1n;

function u64(n: bigint, what: string): Uint8Array {
  if (n < 0n || n > MAX_U64) throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `${what} is not a u64` });
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
}

/** What a task needs to know about its model: its CID (binary) and its input count. */
export interface AiTaskModel {
  modelCid: Uint8Array;
  inputs: number;
}

/**
 * The task input for `epoch`. Throws AiError for an input count outside 1..32, a CID longer than a u16 can say, a seed
 * that is not 32 bytes, or a chain id or epoch outside u64.
 */
export function aiTaskInput(chainId: bigint, model: AiTaskModel, seed: Uint8Array, epoch: bigint): Int8Array {
  if (seed.length !== AI_TASK_SEED_LENGTH) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `task seed is ${seed.length} bytes, expected 32` });
  }
  const { modelCid, inputs } = model;
  if (!Number.isInteger(inputs) || inputs < 1 || inputs > AI_TASK_MAX_INPUTS) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `model takes ${inputs} inputs, 1 to 32 for a task` });
  }
  if (modelCid.length === 0 || modelCid.length > 0xffff) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `model CID is ${modelCid.length} bytes` });
  }
  const cidLength = new Uint8Array(2);
  new DataView(cidLength.buffer).setUint16(0, modelCid.length, false);
  const digest = blake3(
    concatBytes(AI_TASK_DOMAIN, u64(chainId, "chainId"), cidLength, modelCid, seed, u64(epoch, "epoch")),
  );
  return new Int8Array(digest.buffer.slice(digest.byteOffset, digest.byteOffset + inputs));
}

/** A model's input and output counts, as genesis `ai.inputs`/`ai.outputs` state them. AiError if malformed. */
export function mlpShape(model: Uint8Array): { inputs: number; outputs: number } {
  const layers = parseMlpModel(model).layers;
  return { inputs: layers[0].inDim, outputs: layers[layers.length - 1].outDim };
}

/** The task model of a model's bytes: its CID (docs/models.md's layout) and its input count. */
export function aiTaskModelOf(model: Uint8Array): AiTaskModel {
  return { modelCid: modelCid(model).bytes, inputs: mlpShape(model).inputs };
}
