// Bit-exact int8 AI kernels (docs/ai.md). Every node must compute identical results, so everything here is integer
// arithmetic on typed arrays:
// - int32 accumulation wraps modulo 2^32: products of two int8 values fit in 15 bits, and storing the (exact) double
//   sum into an Int32Array performs ToInt32, which is exactly reduction modulo 2^32.
// - requantize computes x·multiplier + half in doubles: |x·multiplier| < 2^47 and half ≤ 2^30, so the sum is an exact
//   integer, scaling by 2^−shift is exact (it only changes the exponent) and Math.floor gives the arithmetic shift.

import { RustChainError } from "@rustchain/shared";

export type AiErrorType =
  | { code: "AI_MODEL_MALFORMED"; reason: string }
  | { code: "AI_DIMENSION_MISMATCH"; what: string; expected: number; got: number }
  | { code: "AI_INVALID_ARGUMENT"; reason: string };

/** A kernel call or model that does not follow docs/ai.md. The calling contract traps. */
export class AiError extends RustChainError<AiErrorType> {
  constructor(type: AiErrorType) {
    super(type, aiErrorMessage(type));
  }
}

function aiErrorMessage(t: AiErrorType): string {
  switch (t.code) {
    case "AI_MODEL_MALFORMED":
      return `malformed MLP model: ${t.reason}`;
    case "AI_DIMENSION_MISMATCH":
      return `dimension mismatch (${t.what}): expected ${t.expected}, got ${t.got}`;
    case "AI_INVALID_ARGUMENT":
      return `invalid AI kernel argument: ${t.reason}`;
  }
}

/** Model format limits (docs/ai.md). */
export const MLP_MAX_LAYERS = 16;
export const MLP_MAX_DIM = 1024;
/** Fixed overhead per layer in `mlpPrice`. */
export const MLP_LAYER_OVERHEAD = 100n;

export interface MlpLayer {
  inDim: number;
  outDim: number;
  /** uint16 */
  multiplier: number;
  /** 0..31 */
  shift: number;
  relu: boolean;
  /** W[t][j] row-major: inDim × outDim. */
  weights: Int8Array;
  /** outDim entries. */
  bias: Int32Array;
}

export interface MlpModel {
  layers: MlpLayer[];
}

function assertDim(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `${what} must be a non-negative integer, got ${v}` });
  }
}

function assertLength(what: string, expected: number, got: number): void {
  if (expected !== got) throw new AiError({ code: "AI_DIMENSION_MISMATCH", what, expected, got });
}

function assertRequantParams(multiplier: number, shift: number): void {
  if (!Number.isInteger(multiplier) || multiplier < 0 || multiplier > 0xffff) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `multiplier must be a uint16, got ${multiplier}` });
  }
  if (!Number.isInteger(shift) || shift < 0 || shift > 31) {
    throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: `shift must be in 0..31, got ${shift}` });
  }
}

/** C = A (m×k) · B (k×n), row-major, int32 accumulation wrapping modulo 2^32. */
export function matmulI8(a: Int8Array, b: Int8Array, m: number, k: number, n: number): Int32Array {
  assertDim("m", m);
  assertDim("k", k);
  assertDim("n", n);
  assertLength("matmul A length (m·k)", m * k, a.length);
  assertLength("matmul B length (k·n)", k * n, b.length);
  const c = new Int32Array(m * n);
  // i-t-j order: the inner loop walks B and C rows contiguously. Each `c[..] + av * b[..]` is an exact double
  // (|int32| + 2^14 < 2^53), and the Int32Array store wraps it modulo 2^32.
  for (let i = 0; i < m; i++) {
    const cRow = i * n;
    const aRow = i * k;
    for (let t = 0; t < k; t++) {
      const av = a[aRow + t];
      if (av === 0) continue;
      const bRow = t * n;
      for (let j = 0; j < n; j++) c[cRow + j] = (c[cRow + j] + av * b[bRow + j]) | 0;
    }
  }
  return c;
}

/** int32 → int8: `clamp((x·multiplier + (shift > 0 ? 2^(shift−1) : 0)) >> shift, −128, 127)`, arithmetic shift. */
export function requantize(x: Int32Array, multiplier: number, shift: number): Int8Array {
  assertRequantParams(multiplier, shift);
  const out = new Int8Array(x.length);
  const half = shift > 0 ? 2 ** (shift - 1) : 0;
  const scale = 2 ** -shift; // multiplying by a power of two is exact, like dividing by one
  for (let i = 0; i < x.length; i++) {
    const y = Math.floor((x[i] * multiplier + half) * scale);
    out[i] = y < -128 ? -128 : y > 127 ? 127 : y;
  }
  return out;
}

/** In place: x = max(x, 0). Returns the same array. */
export function reluI8(x: Int8Array): Int8Array {
  for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0;
  return x;
}

/** Index of the first maximum. `x` must not be empty. */
export function argmaxI8(x: Int8Array): number {
  if (x.length === 0) throw new AiError({ code: "AI_INVALID_ARGUMENT", reason: "argmax of an empty array" });
  let best = 0;
  let bestV = x[0];
  for (let i = 1; i < x.length; i++) {
    if (x[i] > bestV) {
      bestV = x[i];
      best = i;
    }
  }
  return best;
}

// ---- model format ----

const LAYER_HEADER = 8; // u16 inDim, u16 outDim, u16 multiplier, u8 shift, u8 relu (docs/ai.md)

function malformed(reason: string): AiError {
  return new AiError({ code: "AI_MODEL_MALFORMED", reason });
}

/**
 * Parses and validates model bytes (docs/ai.md). Throws AiError: AI_MODEL_MALFORMED for a truncated buffer, trailing
 * bytes or an out-of-range field; AI_DIMENSION_MISMATCH when a layer's inDim differs from the previous outDim.
 * Weights and biases are copied, so the result does not alias `bytes`.
 */
export function parseMlpModel(bytes: Uint8Array): MlpModel {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  if (len < 1) throw malformed("empty buffer");
  const layerCount = bytes[0];
  if (layerCount < 1 || layerCount > MLP_MAX_LAYERS) {
    throw malformed(`layer count ${layerCount} outside 1..${MLP_MAX_LAYERS}`);
  }
  let off = 1;
  const layers: MlpLayer[] = [];
  for (let l = 0; l < layerCount; l++) {
    if (off + LAYER_HEADER > len) throw malformed(`truncated header of layer ${l}`);
    const inDim = view.getUint16(off, true);
    const outDim = view.getUint16(off + 2, true);
    const multiplier = view.getUint16(off + 4, true);
    const shift = bytes[off + 6];
    const reluFlag = bytes[off + 7];
    off += LAYER_HEADER;
    if (inDim < 1 || inDim > MLP_MAX_DIM) throw malformed(`layer ${l} inDim ${inDim} outside 1..${MLP_MAX_DIM}`);
    if (outDim < 1 || outDim > MLP_MAX_DIM) throw malformed(`layer ${l} outDim ${outDim} outside 1..${MLP_MAX_DIM}`);
    if (shift > 31) throw malformed(`layer ${l} shift ${shift} outside 0..31`);
    if (reluFlag > 1) throw malformed(`layer ${l} relu flag ${reluFlag} is not 0 or 1`);
    if (l > 0 && inDim !== layers[l - 1].outDim) {
      throw new AiError({
        code: "AI_DIMENSION_MISMATCH",
        what: `layer ${l} inDim vs layer ${l - 1} outDim`,
        expected: layers[l - 1].outDim,
        got: inDim,
      });
    }
    const wLen = inDim * outDim;
    const bodyLen = wLen + 4 * outDim;
    if (off + bodyLen > len) throw malformed(`truncated weights or bias of layer ${l}`);
    const weights = new Int8Array(wLen);
    weights.set(new Int8Array(bytes.buffer, bytes.byteOffset + off, wLen));
    off += wLen;
    const bias = new Int32Array(outDim);
    for (let j = 0; j < outDim; j++) bias[j] = view.getInt32(off + 4 * j, true);
    off += 4 * outDim;
    layers.push({ inDim, outDim, multiplier, shift, relu: reluFlag === 1, weights, bias });
  }
  if (off !== len) throw malformed(`${len - off} trailing bytes`);
  return { layers };
}

/**
 * Encodes a model in the docs/ai.md format. Only checks that each field fits its width and that the weight and bias
 * arrays match the layer's dimensions; the semantic limits (layer count 1..16, dims 1..1024, chained dims, shift ≤ 31)
 * are enforced by `parseMlpModel`, so tests can encode invalid models on purpose.
 */
export function encodeMlpModel(model: MlpModel): Uint8Array {
  const { layers } = model;
  if (layers.length > 0xff) throw malformed(`layer count ${layers.length} does not fit a u8`);
  let size = 1;
  for (const [l, layer] of layers.entries()) {
    for (const [name, v, max] of [
      ["inDim", layer.inDim, 0xffff],
      ["outDim", layer.outDim, 0xffff],
      ["multiplier", layer.multiplier, 0xffff],
      ["shift", layer.shift, 0xff],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > max) throw malformed(`layer ${l} ${name} ${v} does not fit`);
    }
    assertLength(`layer ${l} weights (inDim·outDim)`, layer.inDim * layer.outDim, layer.weights.length);
    assertLength(`layer ${l} bias (outDim)`, layer.outDim, layer.bias.length);
    size += LAYER_HEADER + layer.weights.length + 4 * layer.bias.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = layers.length;
  let off = 1;
  for (const layer of layers) {
    view.setUint16(off, layer.inDim, true);
    view.setUint16(off + 2, layer.outDim, true);
    view.setUint16(off + 4, layer.multiplier, true);
    out[off + 6] = layer.shift;
    out[off + 7] = layer.relu ? 1 : 0;
    off += LAYER_HEADER;
    out.set(new Uint8Array(layer.weights.buffer, layer.weights.byteOffset, layer.weights.length), off);
    off += layer.weights.length;
    for (let j = 0; j < layer.bias.length; j++) view.setInt32(off + 4 * j, layer.bias[j], true);
    off += 4 * layer.bias.length;
  }
  return out;
}

/**
 * Runs the MLP: per layer `acc = x·W + bias` (int32, wrapping), `x = requantize(acc)`, then relu if flagged.
 * `model` must come from `parseMlpModel` (or be equally valid); `input` must have the first layer's inDim.
 */
export function mlpForward(model: MlpModel, input: Int8Array): Int8Array {
  if (model.layers.length === 0) throw malformed("no layers");
  assertLength("MLP input length (layer 0 inDim)", model.layers[0].inDim, input.length);
  let x = input;
  for (const layer of model.layers) {
    const { inDim, outDim, weights, bias } = layer;
    assertLength("MLP layer input", inDim, x.length);
    assertRequantParams(layer.multiplier, layer.shift);
    const acc = matmulI8(x, weights, 1, inDim, outDim);
    for (let j = 0; j < outDim; j++) acc[j] = (acc[j] + bias[j]) | 0;
    const y = requantize(acc, layer.multiplier, layer.shift);
    if (layer.relu) reluI8(y);
    x = y;
  }
  return x;
}

// ---- prices (AI compute units, 1 gas each) ----

/** `m·k·n` multiply-accumulates. */
export function matmulPrice(m: number, k: number, n: number): bigint {
  assertDim("m", m);
  assertDim("k", k);
  assertDim("n", n);
  return BigInt(m) * BigInt(k) * BigInt(n);
}

/** requantize, relu and argmax: one unit per element. */
export function elementwisePrice(len: number): bigint {
  assertDim("len", len);
  return BigInt(len);
}

/** `Σ_layers (inDim·outDim + 2·outDim + 100)`: the layer's matmul, requantize and relu, plus a fixed overhead. */
export function mlpPrice(model: MlpModel): bigint {
  let total = 0n;
  for (const { inDim, outDim } of model.layers) {
    total += matmulPrice(1, inDim, outDim) + 2n * elementwisePrice(outDim) + MLP_LAYER_OVERHEAD;
  }
  return total;
}
