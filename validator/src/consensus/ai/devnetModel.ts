// The devnet's Proof-of-AI model: a fixed int8 MLP 8 → 8 (relu) → 4 in the docs/ai.md model format. Weights and
// biases are expanded from a fixed seed with BLAKE3, so every node (and every circuit build) derives the same bytes
// without shipping them:
//
//   stream  = blake3(DEVNET_AI_MODEL_SEED ‖ u32 BE 0) ‖ blake3(DEVNET_AI_MODEL_SEED ‖ u32 BE 1) ‖ …
//   layer 0 = weights 8×8 (one int8 per stream byte), then biases 8 (one int8 per stream byte, times 64),
//             multiplier 233, shift 16, relu
//   layer 1 = weights 8×4, biases 4 (int8 × 64), multiplier 467, shift 16, no relu
//
// The multipliers map the typical accumulator spread (σ ≈ 15k for layer 0, ≈ 7k for layer 1) onto the int8 range, so
// outputs vary with the input and saturate only occasionally (≈ 2.5 % of outputs for uniform inputs). Biases stay
// within ±8192, far from the int32 wrap-around.

import { blake3, concatBytes } from "@rustchain/shared";
import { encodeMlpModel, type MlpLayer } from "../../runtime/ai/int8Kernels.ts";

export const DEVNET_AI_MODEL_SEED = new TextEncoder().encode("RUSTCHAIN_DEVNET_AI_MODEL_V1");

/** Deterministic byte stream: blake3(seed ‖ u32 BE counter) blocks, concatenated. */
function seedStream(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let block = 0, off = 0; off < length; block++, off += 32) {
    new DataView(counter.buffer).setUint32(0, block, false);
    out.set(blake3(concatBytes(seed, counter)).subarray(0, Math.min(32, length - off)), off);
  }
  return out;
}

interface LayerShape {
  inDim: number;
  outDim: number;
  multiplier: number;
  shift: number;
  relu: boolean;
}

const DEVNET_LAYERS: readonly LayerShape[] = [
  { inDim: 8, outDim: 8, multiplier: 233, shift: 16, relu: true },
  { inDim: 8, outDim: 4, multiplier: 467, shift: 16, relu: false },
];

/** The devnet model bytes (docs/ai.md format), identical on every call and every node. */
export function devnetAiModel(): Uint8Array {
  const needed = DEVNET_LAYERS.reduce((n, l) => n + l.inDim * l.outDim + l.outDim, 0);
  const stream = new Int8Array(seedStream(DEVNET_AI_MODEL_SEED, needed).buffer);
  let off = 0;
  const layers: MlpLayer[] = DEVNET_LAYERS.map((shape) => {
    const weights = stream.slice(off, off + shape.inDim * shape.outDim);
    off += weights.length;
    const bias = new Int32Array(shape.outDim);
    for (let j = 0; j < shape.outDim; j++) bias[j] = stream[off++] * 64;
    return { ...shape, weights, bias };
  });
  return encodeMlpModel({ layers });
}
