// BN254 Groth16 verification for the `groth16_verify` host function (docs/runtime.md), synchronous, on
// @noble/curves.
//
// Binary formats (all integers big-endian, every coordinate 32 bytes and < p, the BN254 base field modulus):
//   G1     = x ‖ y                                  64 bytes; all-zero = point at infinity (EIP-196)
//   G2     = x_c1 ‖ x_c0 ‖ y_c1 ‖ y_c0              128 bytes, imaginary part first as in the EVM pairing precompile
//            (EIP-197) and snarkjs' Solidity verifier; x = x_c0 + x_c1·u. All-zero = point at infinity.
//   proof  = A (G1) ‖ B (G2) ‖ C (G1)               exactly 256 bytes
//   vk     = α (G1) ‖ β (G2) ‖ γ (G2) ‖ δ (G2) ‖ u32 icCount ‖ IC[icCount] (G1 each)
//            exactly 452 + 64·icCount bytes, 1 ≤ icCount ≤ 1 + GROTH16_MAX_PUBLIC_INPUTS
//   input  = 32-byte field element < r (the BN254 scalar field order); there must be exactly icCount − 1 of them.
//
// Points must be on their curve, and G2 points in the prime-order subgroup (G1 has cofactor 1). The vk's α, β, γ, δ
// must not be the point at infinity; IC points and proof points may be.
//
// Outcome: a well-formed proof that fails the pairing check returns false. Malformed encodings (wrong length, a
// coordinate ≥ p, a point off the curve or outside the subgroup, an input ≥ r, the wrong number of inputs) throw a
// Groth16Error, like the EVM precompile, which fails (rather than returning false) on such input; the host decides
// whether that traps the contract or reads as 0.
//
// Check: e(A, B) = e(α, β)·e(vk_x, γ)·e(C, δ) with vk_x = IC_0 + Σ input_i·IC_{i+1}, evaluated as the single product
// e(−A, B)·e(α, β)·e(vk_x, γ)·e(C, δ) = 1 with one shared final exponentiation. Parsed verifying keys (subgroup
// checks, line precomputes for γ and δ, the Miller loop of e(α, β)) are cached by their bytes, so repeated
// verifications against the same key skip that work; the cache changes timing only, never results.

import { bn254 } from "@noble/curves/bn254.js";
import { RustChainError } from "@rustchain/shared";

export type Groth16ErrorType =
  | { code: "GROTH16_MALFORMED_VK"; reason: string }
  | { code: "GROTH16_MALFORMED_PROOF"; reason: string }
  | { code: "GROTH16_MALFORMED_INPUT"; index: number; reason: string }
  | { code: "GROTH16_INPUT_COUNT_MISMATCH"; expected: number; got: number };

/** A verifying key, proof or public input that is not a valid encoding (see the format above). */
export class Groth16Error extends RustChainError<Groth16ErrorType> {
  constructor(type: Groth16ErrorType) {
    super(type, groth16ErrorMessage(type));
  }
}

function groth16ErrorMessage(t: Groth16ErrorType): string {
  switch (t.code) {
    case "GROTH16_MALFORMED_VK":
      return `malformed Groth16 verifying key: ${t.reason}`;
    case "GROTH16_MALFORMED_PROOF":
      return `malformed Groth16 proof: ${t.reason}`;
    case "GROTH16_MALFORMED_INPUT":
      return `malformed Groth16 public input ${t.index}: ${t.reason}`;
    case "GROTH16_INPUT_COUNT_MISMATCH":
      return `Groth16 public input count: expected ${t.expected}, got ${t.got}`;
  }
}

export const G1_SIZE = 64;
export const G2_SIZE = 128;
export const FIELD_SIZE = 32;
export const PROOF_SIZE = 2 * G1_SIZE + G2_SIZE;
/** α ‖ β ‖ γ ‖ δ ‖ u32 icCount, before the IC points. */
export const VK_HEADER_SIZE = G1_SIZE + 3 * G2_SIZE + 4;
export const GROTH16_MAX_PUBLIC_INPUTS = 1024;

const { Fp, Fp2, Fp12, Fr } = bn254.fields;
/** BN254 base field modulus. */
export const BN254_P: bigint = Fp.ORDER;
/** BN254 scalar field order. */
export const BN254_R: bigint = Fr.ORDER;

type G1Point = InstanceType<typeof bn254.G1.Point>;
type G2Point = InstanceType<typeof bn254.G2.Point>;
type Gt = ReturnType<typeof bn254.pairing>;
type LinePrecompute = ReturnType<typeof bn254.utils.calcPairingPrecomputes>;

// ---- decoding ----

function readU256(bytes: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let i = 0; i < 32; i++) v = (v << 8n) | BigInt(bytes[off + i]);
  return v;
}

function writeU256(out: Uint8Array, off: number, v: bigint): void {
  for (let i = 31; i >= 0; i--) {
    out[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

type Fail = (reason: string) => Groth16Error;

function readFp(bytes: Uint8Array, off: number, what: string, fail: Fail): bigint {
  const v = readU256(bytes, off);
  if (v >= BN254_P) throw fail(`${what} coordinate is not below the field modulus`);
  return v;
}

function decodeG1(bytes: Uint8Array, off: number, what: string, fail: Fail): G1Point {
  const x = readFp(bytes, off, what, fail);
  const y = readFp(bytes, off + 32, what, fail);
  if (x === 0n && y === 0n) return bn254.G1.Point.ZERO;
  try {
    const p = bn254.G1.Point.fromAffine({ x, y });
    p.assertValidity();
    return p;
  } catch {
    throw fail(`${what} is not on the curve`);
  }
}

function decodeG2(bytes: Uint8Array, off: number, what: string, fail: Fail): G2Point {
  const x1 = readFp(bytes, off, what, fail);
  const x0 = readFp(bytes, off + 32, what, fail);
  const y1 = readFp(bytes, off + 64, what, fail);
  const y0 = readFp(bytes, off + 96, what, fail);
  if (x0 === 0n && x1 === 0n && y0 === 0n && y1 === 0n) return bn254.G2.Point.ZERO;
  try {
    const p = bn254.G2.Point.fromAffine({ x: Fp2.create({ c0: x0, c1: x1 }), y: Fp2.create({ c0: y0, c1: y1 }) });
    p.assertValidity(); // on the twist and in the prime-order subgroup
    return p;
  } catch {
    throw fail(`${what} is not on the curve or not in the G2 subgroup`);
  }
}

/** A decoded verifying key with its pairing precomputes. */
export interface Groth16Vk {
  /** IC points; `ic.length − 1` public inputs. */
  ic: G1Point[];
  gammaPre: LinePrecompute;
  deltaPre: LinePrecompute;
  /** Miller loop of e(α, β), before the final exponentiation. */
  alphaBetaMiller: Gt;
}

const vkFail: Fail = (reason) => new Groth16Error({ code: "GROTH16_MALFORMED_VK", reason });
const proofFail: Fail = (reason) => new Groth16Error({ code: "GROTH16_MALFORMED_PROOF", reason });

/** Decodes and validates verifying-key bytes (uncached). Throws Groth16Error GROTH16_MALFORMED_VK. */
export function parseGroth16Vk(vk: Uint8Array): Groth16Vk {
  if (vk.length < VK_HEADER_SIZE) throw vkFail(`${vk.length} bytes is shorter than the ${VK_HEADER_SIZE}-byte header`);
  const icCount = new DataView(vk.buffer, vk.byteOffset, vk.byteLength).getUint32(VK_HEADER_SIZE - 4, false);
  if (icCount < 1 || icCount > GROTH16_MAX_PUBLIC_INPUTS + 1) {
    throw vkFail(`icCount ${icCount} outside 1..${GROTH16_MAX_PUBLIC_INPUTS + 1}`);
  }
  const expected = VK_HEADER_SIZE + icCount * G1_SIZE;
  if (vk.length !== expected) throw vkFail(`length ${vk.length}, expected ${expected} for ${icCount} IC points`);
  const alpha = decodeG1(vk, 0, "alpha", vkFail);
  const beta = decodeG2(vk, G1_SIZE, "beta", vkFail);
  const gamma = decodeG2(vk, G1_SIZE + G2_SIZE, "gamma", vkFail);
  const delta = decodeG2(vk, G1_SIZE + 2 * G2_SIZE, "delta", vkFail);
  if (alpha.is0() || beta.is0() || gamma.is0() || delta.is0()) {
    throw vkFail("alpha, beta, gamma and delta must not be the point at infinity");
  }
  const ic: G1Point[] = [];
  for (let i = 0; i < icCount; i++) ic.push(decodeG1(vk, VK_HEADER_SIZE + i * G1_SIZE, `IC[${i}]`, vkFail));
  const { calcPairingPrecomputes } = bn254.utils;
  const a = alpha.toAffine();
  return {
    ic,
    gammaPre: calcPairingPrecomputes(gamma),
    deltaPre: calcPairingPrecomputes(delta),
    alphaBetaMiller: bn254.millerLoopBatch([[calcPairingPrecomputes(beta), a.x, a.y]]),
  };
}

const VK_CACHE_LIMIT = 32;
const vkCache = new Map<string, Groth16Vk>();

function cachedVk(vk: Uint8Array): Groth16Vk {
  const key = Buffer.from(vk.buffer, vk.byteOffset, vk.byteLength).toString("hex");
  const hit = vkCache.get(key);
  if (hit) return hit;
  const parsed = parseGroth16Vk(vk);
  if (vkCache.size >= VK_CACHE_LIMIT) vkCache.delete(vkCache.keys().next().value as string);
  vkCache.set(key, parsed);
  return parsed;
}

/** Decodes the public inputs as scalars. Throws Groth16Error on a wrong size, a value ≥ r or a wrong count. */
export function parseGroth16Inputs(inputs: readonly Uint8Array[], expectedCount: number): bigint[] {
  if (inputs.length !== expectedCount) {
    throw new Groth16Error({ code: "GROTH16_INPUT_COUNT_MISMATCH", expected: expectedCount, got: inputs.length });
  }
  return inputs.map((bytes, index) => {
    if (bytes.length !== FIELD_SIZE) {
      throw new Groth16Error({ code: "GROTH16_MALFORMED_INPUT", index, reason: `${bytes.length} bytes, expected 32` });
    }
    const v = readU256(bytes, 0);
    if (v >= BN254_R) throw new Groth16Error({ code: "GROTH16_MALFORMED_INPUT", index, reason: "not below r" });
    return v;
  });
}

/** Verifies against a decoded key (see `parseGroth16Vk`). Same outcomes as `verifyGroth16`. */
export function verifyGroth16Parsed(vk: Groth16Vk, proof: Uint8Array, inputs: readonly Uint8Array[]): boolean {
  if (proof.length !== PROOF_SIZE) throw proofFail(`length ${proof.length}, expected ${PROOF_SIZE}`);
  const scalars = parseGroth16Inputs(inputs, vk.ic.length - 1);
  const a = decodeG1(proof, 0, "A", proofFail);
  const b = decodeG2(proof, G1_SIZE, "B", proofFail);
  const c = decodeG1(proof, G1_SIZE + G2_SIZE, "C", proofFail);

  let vkX = vk.ic[0];
  for (let i = 0; i < scalars.length; i++) {
    if (scalars[i] !== 0n) vkX = vkX.add(vk.ic[i + 1].multiplyUnsafe(scalars[i]));
  }

  // e(P, O) = e(O, Q) = 1, so terms with a point at infinity drop out of the product.
  const terms: [LinePrecompute, bigint, bigint][] = [];
  if (!a.is0() && !b.is0()) {
    const negA = a.negate().toAffine();
    terms.push([bn254.utils.calcPairingPrecomputes(b), negA.x, negA.y]);
  }
  if (!vkX.is0()) {
    const p = vkX.toAffine();
    terms.push([vk.gammaPre, p.x, p.y]);
  }
  if (!c.is0()) {
    const p = c.toAffine();
    terms.push([vk.deltaPre, p.x, p.y]);
  }
  const miller = Fp12.mul(bn254.millerLoopBatch(terms), vk.alphaBetaMiller);
  return Fp12.eql(Fp12.finalExponentiate(miller), Fp12.ONE);
}

/**
 * BN254 Groth16 verification. Returns true for a valid proof and false for a well-formed proof that does not verify;
 * throws Groth16Error for malformed vk, proof or input encodings (see the format comment at the top of this file).
 */
export function verifyGroth16(vk: Uint8Array, proof: Uint8Array, inputs: readonly Uint8Array[]): boolean {
  return verifyGroth16Parsed(cachedVk(vk), proof, inputs);
}

// ---- snarkjs JSON converters ----

/** snarkjs `verification_key.json` (groth16, bn128): decimal strings, projective [x, y, z] with z = 1 (or 0). */
export interface SnarkjsVerificationKey {
  protocol?: string;
  curve?: string;
  nPublic?: number;
  vk_alpha_1: readonly string[];
  vk_beta_2: readonly (readonly string[])[];
  vk_gamma_2: readonly (readonly string[])[];
  vk_delta_2: readonly (readonly string[])[];
  IC: readonly (readonly string[])[];
}

/** snarkjs `proof.json` (groth16, bn128). */
export interface SnarkjsProof {
  protocol?: string;
  curve?: string;
  pi_a: readonly string[];
  pi_b: readonly (readonly string[])[];
  pi_c: readonly string[];
}

function parseDecimal(s: unknown, bound: bigint, what: string, fail: Fail): bigint {
  if (typeof s !== "string" || !/^[0-9]{1,80}$/.test(s)) throw fail(`${what} is not a decimal string`);
  const v = BigInt(s);
  if (v >= bound) throw fail(`${what} is out of range`);
  return v;
}

function checkHeader(protocol: unknown, curve: unknown, fail: Fail): void {
  if (protocol !== undefined && protocol !== "groth16") throw fail(`protocol ${String(protocol)} is not groth16`);
  if (curve !== undefined && curve !== "bn128") throw fail(`curve ${String(curve)} is not bn128`);
}

function g1FromJson(p: unknown, what: string, out: Uint8Array, off: number, fail: Fail): void {
  if (!Array.isArray(p) || p.length !== 3) throw fail(`${what} is not [x, y, z]`);
  const z = parseDecimal(p[2], BN254_P, `${what}.z`, fail);
  if (z === 0n) return; // infinity: all zero
  if (z !== 1n) throw fail(`${what} is not affine (z must be 1 or 0)`);
  writeU256(out, off, parseDecimal(p[0], BN254_P, `${what}.x`, fail));
  writeU256(out, off + 32, parseDecimal(p[1], BN254_P, `${what}.y`, fail));
}

function g2FromJson(p: unknown, what: string, out: Uint8Array, off: number, fail: Fail): void {
  const isPair = (v: unknown): v is unknown[] => Array.isArray(v) && v.length === 2;
  if (!Array.isArray(p) || p.length !== 3 || !p.every(isPair)) throw fail(`${what} is not [[x0, x1], [y0, y1], z]`);
  const [x, y, z] = p as unknown[][];
  const z0 = parseDecimal(z[0], BN254_P, `${what}.z`, fail);
  const z1 = parseDecimal(z[1], BN254_P, `${what}.z`, fail);
  if (z0 === 0n && z1 === 0n) return; // infinity: all zero
  if (z0 !== 1n || z1 !== 0n) throw fail(`${what} is not affine (z must be [1, 0] or [0, 0])`);
  // snarkjs lists Fp2 elements as [c0, c1]; the binary format puts c1 (the imaginary part) first.
  writeU256(out, off, parseDecimal(x[1], BN254_P, `${what}.x.c1`, fail));
  writeU256(out, off + 32, parseDecimal(x[0], BN254_P, `${what}.x.c0`, fail));
  writeU256(out, off + 64, parseDecimal(y[1], BN254_P, `${what}.y.c1`, fail));
  writeU256(out, off + 96, parseDecimal(y[0], BN254_P, `${what}.y.c0`, fail));
}

/** snarkjs verification_key.json → vk bytes. Only re-encodes; curve checks happen in `verifyGroth16`. */
export function vkFromSnarkjs(vkJson: SnarkjsVerificationKey): Uint8Array {
  checkHeader(vkJson.protocol, vkJson.curve, vkFail);
  const ic = vkJson.IC;
  if (!Array.isArray(ic) || ic.length < 1 || ic.length > GROTH16_MAX_PUBLIC_INPUTS + 1) {
    throw vkFail("IC must list 1 to 1025 points");
  }
  if (vkJson.nPublic !== undefined && vkJson.nPublic !== ic.length - 1) {
    throw vkFail(`nPublic ${vkJson.nPublic} does not match ${ic.length} IC points`);
  }
  const out = new Uint8Array(VK_HEADER_SIZE + ic.length * G1_SIZE);
  g1FromJson(vkJson.vk_alpha_1, "vk_alpha_1", out, 0, vkFail);
  g2FromJson(vkJson.vk_beta_2, "vk_beta_2", out, G1_SIZE, vkFail);
  g2FromJson(vkJson.vk_gamma_2, "vk_gamma_2", out, G1_SIZE + G2_SIZE, vkFail);
  g2FromJson(vkJson.vk_delta_2, "vk_delta_2", out, G1_SIZE + 2 * G2_SIZE, vkFail);
  new DataView(out.buffer).setUint32(VK_HEADER_SIZE - 4, ic.length, false);
  ic.forEach((p, i) => {
    g1FromJson(p, `IC[${i}]`, out, VK_HEADER_SIZE + i * G1_SIZE, vkFail);
  });
  return out;
}

/** snarkjs proof.json → 256 proof bytes. */
export function proofFromSnarkjs(proofJson: SnarkjsProof): Uint8Array {
  checkHeader(proofJson.protocol, proofJson.curve, proofFail);
  const out = new Uint8Array(PROOF_SIZE);
  g1FromJson(proofJson.pi_a, "pi_a", out, 0, proofFail);
  g2FromJson(proofJson.pi_b, "pi_b", out, G1_SIZE, proofFail);
  g1FromJson(proofJson.pi_c, "pi_c", out, G1_SIZE + G2_SIZE, proofFail);
  return out;
}

/** snarkjs public.json (decimal strings) → 32-byte big-endian inputs. */
export function inputsFromSnarkjs(publicSignals: readonly string[]): Uint8Array[] {
  return publicSignals.map((s, index) => {
    const out = new Uint8Array(FIELD_SIZE);
    const fail: Fail = (reason) => new Groth16Error({ code: "GROTH16_MALFORMED_INPUT", index, reason });
    writeU256(out, 0, parseDecimal(s, BN254_R, `signal ${index}`, fail));
    return out;
  });
}

/** Encodes a noble G1 point (x ‖ y; infinity = 64 zero bytes). */
export function encodeG1(p: G1Point): Uint8Array {
  const out = new Uint8Array(G1_SIZE);
  if (p.is0()) return out;
  const { x, y } = p.toAffine();
  writeU256(out, 0, x);
  writeU256(out, 32, y);
  return out;
}

/** Encodes a noble G2 point (x_c1 ‖ x_c0 ‖ y_c1 ‖ y_c0; infinity = 128 zero bytes). */
export function encodeG2(p: G2Point): Uint8Array {
  const out = new Uint8Array(G2_SIZE);
  if (p.is0()) return out;
  const { x, y } = p.toAffine();
  writeU256(out, 0, x.c1);
  writeU256(out, 32, x.c0);
  writeU256(out, 64, y.c1);
  writeU256(out, 96, y.c0);
  return out;
}

/** Encodes a field element (< r) as a 32-byte big-endian public input. */
export function encodeGroth16Input(v: bigint): Uint8Array {
  if (v < 0n || v >= BN254_R) {
    throw new Groth16Error({ code: "GROTH16_MALFORMED_INPUT", index: 0, reason: "not in 0..r-1" });
  }
  const out = new Uint8Array(FIELD_SIZE);
  writeU256(out, 0, v);
  return out;
}
