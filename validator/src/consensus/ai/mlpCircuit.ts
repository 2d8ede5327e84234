// Generates the circom 2 circuit of an int8 MLP (docs/ai.md): the model's weights, biases, multipliers and shifts
// become constants, and the circuit constrains exactly what `mlpForward` computes.
//
// Public signals, in snarkjs order (circom lists the main component's outputs first, then its public inputs in
// declaration order):
//   y[0 .. outDim−1]   the model output, each int8 v encoded as the field element v + 128 (0..255)
//   x[0 .. inDim−1]    the model input, encoded the same way (range-checked to 0..255 in the circuit)
//   miner              the miner's 20-byte address as a big-endian integer (< 2^160); squared into one constraint so
//                      it is part of the constraint system. Like every public input it enters the verifier's vk_x,
//                      so a proof made for one address does not verify for another.
//
// Per layer and output j, with layer input values a[t] (signed field elements: a = x − 128 for layer 0, the previous
// layer's y after that):
//   s     = Σ_t a[t]·W[t][j] + bias[j]                        exact integer, a linear combination (no constraint)
//   acc   = s as int32 (wrapping). When the static range of s fits int32 (always, unless a bias is near ±2^31),
//           acc = s. Otherwise Int32Wrap: acc = s − k·2^32 with k ∈ {−1, 0, 1} and acc + 2^31 ∈ [0, 2^32) by bits.
//   P     = acc·M + H,  H = shift > 0 ? 2^(shift−1) : 0      |P| < 2^48
//   q, r  : q·2^S + r = P, r ∈ [0, 2^S) by bits               so q = floor(P / 2^S): the arithmetic shift
//   lo/hi : booleans, not both; lo = 1 ⇔ q < LO, hi = 1 ⇔ q > 127, where LO = 0 with relu (relu(clamp(q, −128, 127))
//           = clamp(q, 0, 127)) and LO = −128 without
//   y     = (1 − lo − hi)·q + lo·LO + hi·127, with y − LO ∈ [0, 127 − LO] by bits (7 or 8 bits)
//   d     = lo·(LO − 1 − q) + hi·(q − 128) ∈ [0, 2^NB) by bits, NB from the static range of q
//           (y and d share the two products lo·q and hi·q)
// Why this is sound: each case bounds q to a small integer range (y's bits when in range, d's bits when clamped, and a
// negative d would be a huge field element), so q·2^S + r = P holds over the integers (both sides far below the field
// modulus), which makes q and r the true quotient and remainder; the booleans then select the only correct clamp.
// The bit decompositions (RangeBits) check that a value is in [0, 2^n) as an integer, for n far below 253.

import { modelCid } from "../../models/modelCid.ts";
import { type MlpLayer, parseMlpModel } from "../../runtime/ai/int8Kernels.ts";

/** int8 ↔ field element offset of the public signals. */
export const AI_SIGNAL_OFFSET = 128;

const INT32_MIN = -(1n << 31n);
const INT32_MAX = (1n << 31n) - 1n;

function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

interface Range {
  min: bigint;
  max: bigint;
}

/** Static ranges and circuit parameters of one output neuron. */
interface NeuronPlan {
  /** The exact sum may leave int32, so the wrap-around is constrained. */
  wrap: boolean;
  /** Bits of the clamp distance d. */
  nb: number;
}

function planNeuron(layer: MlpLayer, j: number, inRange: Range, lo: bigint): NeuronPlan {
  let min = BigInt(layer.bias[j]);
  let max = min;
  for (let t = 0; t < layer.inDim; t++) {
    const w = BigInt(layer.weights[t * layer.outDim + j]);
    const a = w * inRange.min;
    const b = w * inRange.max;
    min += a < b ? a : b;
    max += a < b ? b : a;
  }
  const wrap = min < INT32_MIN || max > INT32_MAX;
  const acc: Range = wrap ? { min: INT32_MIN, max: INT32_MAX } : { min, max };
  const m = BigInt(layer.multiplier);
  const half = layer.shift > 0 ? 1n << BigInt(layer.shift - 1) : 0n;
  const div = 1n << BigInt(layer.shift);
  // M ≥ 0, so P and q are monotone in acc.
  const qMin = floorDiv(acc.min * m + half, div);
  const qMax = floorDiv(acc.max * m + half, div);
  const dMax = [lo - 1n - qMin, qMax - 128n].reduce((x, y) => (x > y ? x : y), 0n);
  return { wrap, nb: bitLength(dMax) };
}

function term(coef: bigint, signal: string): string {
  return coef < 0n ? ` - ${-coef} * ${signal}` : ` + ${coef} * ${signal}`;
}

function linear(terms: [bigint, string][], constant: bigint): string {
  let out = constant.toString();
  for (const [coef, signal] of terms) if (coef !== 0n) out += term(coef, signal);
  return out;
}

const TEMPLATES = `// 0 <= in < 2^n as integers (n <= 252).
template RangeBits(n) {
    signal input in;
    signal bits[n];
    var sum = 0;
    var e = 1;
    for (var i = 0; i < n; i++) {
        bits[i] <-- (in >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        sum += bits[i] * e;
        e = e + e;
    }
    sum === in;
}

// acc = s mod 2^32 as a signed int32, for |s| < 2^31 + 2^24 (so s = acc + k * 2^32 with k in {-1, 0, 1}).
template Int32Wrap() {
    signal input s;
    signal output acc;
    signal k;
    signal k2;
    k <-- (s + (1 << 31) + 4 * (1 << 32)) \\ (1 << 32) - 4;
    k2 <== k * k;
    k2 * k === k;
    acc <== s - k * (1 << 32);
    component bits = RangeBits(32);
    bits.in <== acc + (1 << 31);
}

// y = clamp(floor((acc * M + H) / 2^S), LO, 127) for an int32 acc.
// LO = 0: requantize, then relu; LO = -128: requantize only.
template Requantize(M, H, S, LO, NB) {
    signal input acc;
    signal output y;
    signal q;
    signal r;
    signal lo;
    signal hi;
    signal loQ;
    signal hiQ;
    // Witness only: an offset of 2^50 * 2^S keeps the dividend non-negative (|acc * M + H| < 2^48).
    r <-- (acc * M + H + (1 << 50) * (1 << S)) % (1 << S);
    q <-- (acc * M + H + (1 << 50) * (1 << S)) \\ (1 << S) - (1 << 50);
    lo <-- q < LO ? 1 : 0;
    hi <-- q > 127 ? 1 : 0;

    q * (1 << S) + r === acc * M + H;
    component rBits = RangeBits(S);
    rBits.in <== r;
    lo * (lo - 1) === 0;
    hi * (hi - 1) === 0;
    lo * hi === 0;
    loQ <== lo * q;
    hiQ <== hi * q;
    // y = (1 - lo - hi) * q + lo * LO + hi * 127
    y <== q - loQ - hiQ + lo * LO + hi * 127;
    component yBits = RangeBits(LO == 0 ? 7 : 8);
    yBits.in <== y - LO;
    // d = lo * (LO - 1 - q) + hi * (q - 128): how far q lies outside [LO, 127]
    component dBits = RangeBits(NB);
    dBits.in <== hiQ - loQ + lo * (LO - 1) - hi * 128;
}
`;

/**
 * circom 2 source of the circuit proving `y = mlpForward(model, x)` with public signals (y, x, miner) as described
 * at the top of this file. Throws AiError for a malformed model.
 */
export function mlpCircuitSource(model: Uint8Array): string {
  const { layers } = parseMlpModel(model);
  const inDim = layers[0].inDim;
  const outDim = layers[layers.length - 1].outDim;
  const lines: string[] = [];
  const emit = (s: string) => lines.push(`    ${s}`);

  emit(`signal input x[${inDim}];`);
  emit("signal input miner;");
  emit(`signal output y[${outDim}];`);
  emit("signal minerSquared;");
  emit("minerSquared <== miner * miner;");
  emit(`component xBits[${inDim}];`);
  emit(`for (var i = 0; i < ${inDim}; i++) {`);
  emit("    xBits[i] = RangeBits(8);");
  emit("    xBits[i].in <== x[i];");
  emit("}");

  // Layer 0 reads a[t] = x[t] − 128, folded into the constant of each linear combination.
  let inputs: string[] = Array.from({ length: inDim }, (_, t) => `x[${t}]`);
  let inputOffset = -BigInt(AI_SIGNAL_OFFSET);
  let inRange: Range = { min: -128n, max: 127n };
  for (const [l, layer] of layers.entries()) {
    const lo = layer.relu ? 0n : -128n;
    const half = layer.shift > 0 ? 1n << BigInt(layer.shift - 1) : 0n;
    emit("");
    emit(
      `// layer ${l}: ${layer.inDim} -> ${layer.outDim}, multiplier ${layer.multiplier}, shift ${layer.shift}` +
        (layer.relu ? ", relu" : ""),
    );
    emit(`component l${l}[${layer.outDim}];`);
    for (let j = 0; j < layer.outDim; j++) {
      const plan = planNeuron(layer, j, inRange, lo);
      const terms: [bigint, string][] = [];
      let constant = BigInt(layer.bias[j]);
      for (let t = 0; t < layer.inDim; t++) {
        const w = BigInt(layer.weights[t * layer.outDim + j]);
        terms.push([w, inputs[t]]);
        constant += w * inputOffset;
      }
      emit(`l${l}[${j}] = Requantize(${layer.multiplier}, ${half}, ${layer.shift}, ${lo}, ${plan.nb});`);
      if (plan.wrap) {
        emit(`component w${l}_${j} = Int32Wrap();`);
        emit(`w${l}_${j}.s <== ${linear(terms, constant)};`);
        emit(`l${l}[${j}].acc <== w${l}_${j}.acc;`);
      } else {
        emit(`l${l}[${j}].acc <== ${linear(terms, constant)};`);
      }
    }
    inputs = Array.from({ length: layer.outDim }, (_, j) => `l${l}[${j}].y`);
    inputOffset = 0n;
    inRange = { min: lo, max: 127n };
  }
  emit("");
  emit(`for (var j = 0; j < ${outDim}; j++) y[j] <== l${layers.length - 1}[j].y + ${AI_SIGNAL_OFFSET};`);

  return [
    "pragma circom 2.0.0;",
    "",
    "// GENERATED by mlpCircuitSource (validator/src/consensus/ai/mlpCircuit.ts) from the model with",
    `// model ${modelCid(model).toString()}. Do not edit: regenerate from the model.`,
    `// Public signals: y[${outDim}] (outputs, int8 + 128), x[${inDim}] (inputs, int8 + 128), miner (address).`,
    "",
    TEMPLATES,
    "template Mlp() {",
    ...lines,
    "}",
    "",
    "component main {public [x, miner]} = Mlp();",
    "",
  ].join("\n");
}
