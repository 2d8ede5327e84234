// The epoch's Proof-of-AI task: the genesis model applied to an input drawn from chain randomness. All integers are
// big-endian; ‖ is concatenation.
//
//   modelHash = blake3(model bytes)
//   input     = first inDim bytes of blake3("RUSTCHAIN_AI_TASK_V1" ‖ u64(chainId) ‖ modelHash ‖ seed[32] ‖ u64(epoch)),
//               each read as an int8 (two's complement)
//   output    = mlpForward(model, input)            (docs/ai.md, bit-exact)
//
// One digest gives 32 bytes, so a PoAI model takes at most 32 inputs.

import { blake3, concatBytes } from "@rustchain/shared";
import { AiError, parseMlpModel } from "../../runtime/ai/int8Kernels.ts";

export const AI_TASK_DOMAIN = new TextEncoder().encode("RUSTCHAIN_AI_TASK_V1");
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

export function aiModelHash(model: Uint8Array): Uint8Array {
  return blake3(model);
}

/**
 * The task input for `epoch`. Throws AiError for a malformed model, a model with more than 32 inputs, a seed that is
 * not 32 bytes, or a chain id or epoch outside u64.
 */
export function aiTaskInput(chainId: bigint, model: Uint8Array, seed: Uint8Array, epoch: bigint): Int8Array {
  if (seed.length !== AI_TASK_SEED_LENGTH) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `task seed is ${seed.length} bytes, expected 32` });
  }
  const inDim = parseMlpModel(model).layers[0].inDim;
  if (inDim > AI_TASK_MAX_INPUTS) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `model takes ${inDim} inputs, at most 32 for a task` });
  }
  const digest = blake3(
    concatBytes(AI_TASK_DOMAIN, u64(chainId, "chainId"), aiModelHash(model), seed, u64(epoch, "epoch")),
  );
  return new Int8Array(digest.buffer.slice(digest.byteOffset, digest.byteOffset + inDim));
}
