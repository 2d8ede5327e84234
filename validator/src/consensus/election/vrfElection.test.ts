// The VRF proves one unique output per (key, chain, seed, slot); eligibility and the fallback pick follow the weights;
// a validator without weight is never elected. Statistical checks use fixed seeds, so they are deterministic.
import { blake3, blsKeypairFromSeed, bytesToBigint } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import {
  compareProposals,
  computeVrf,
  ElectionError,
  type ElectionErrorType,
  eligibilityThreshold,
  fallbackProposer,
  isEligible,
  MAX_AI_SCORE_BPS,
  nextEpochSeed,
  verifyProposerElection,
  verifyVrf,
  weightOf,
} from "./vrfElection.ts";

const CHAIN_ID = 7771n;
const enc = (s: string) => new TextEncoder().encode(s);
const SEED = blake3(enc("epoch seed 0"));
const keys = Array.from({ length: 5 }, (_, i) => blsKeypairFromSeed(blake3(enc(`validator ${i}`))));

function codeOf(fn: () => unknown): ElectionErrorType["code"] | "ok" {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof ElectionError) return e.type.code;
    throw e;
  }
}

describe("VRF proofs", () => {
  it("verify accepts the validator's own proof and returns the same output; proofs are deterministic", () => {
    const { proof, output } = computeVrf(keys[0].secretKey, CHAIN_ID, SEED, 42n);
    expect(proof).toHaveLength(96);
    expect(output).toBe(bytesToBigint(blake3(proof)));
    expect(verifyVrf(keys[0].publicKey, CHAIN_ID, SEED, 42n, proof)).toBe(output);
    expect(computeVrf(keys[0].secretKey, CHAIN_ID, SEED, 42n).proof).toEqual(proof);
  });

  it("verify rejects a wrong key, slot, seed, chain id, a tampered or truncated proof", () => {
    const { proof } = computeVrf(keys[0].secretKey, CHAIN_ID, SEED, 42n);
    expect(verifyVrf(keys[1].publicKey, CHAIN_ID, SEED, 42n, proof)).toBeUndefined();
    expect(verifyVrf(keys[0].publicKey, CHAIN_ID, SEED, 43n, proof)).toBeUndefined();
    expect(verifyVrf(keys[0].publicKey, CHAIN_ID, blake3(enc("other seed")), 42n, proof)).toBeUndefined();
    expect(verifyVrf(keys[0].publicKey, CHAIN_ID + 1n, SEED, 42n, proof)).toBeUndefined();
    for (const at of [0, 1, 47, 95]) {
      const tampered = Uint8Array.from(proof);
      tampered[at] ^= 0x01;
      expect(verifyVrf(keys[0].publicKey, CHAIN_ID, SEED, 42n, tampered), `byte ${at}`).toBeUndefined();
    }
    expect(verifyVrf(keys[0].publicKey, CHAIN_ID, SEED, 42n, proof.subarray(0, 95))).toBeUndefined();
    expect(verifyVrf(keys[0].publicKey.subarray(1), CHAIN_ID, SEED, 42n, proof)).toBeUndefined();
    // Another key's proof for the same slot is a different output.
    expect(computeVrf(keys[1].secretKey, CHAIN_ID, SEED, 42n).output).not.toBe(
      computeVrf(keys[0].secretKey, CHAIN_ID, SEED, 42n).output,
    );
  });

  it("rejects malformed inputs with typed errors", () => {
    expect(codeOf(() => computeVrf(keys[0].secretKey, CHAIN_ID, SEED.subarray(1), 1n))).toBe("INVALID_SEED");
    expect(codeOf(() => computeVrf(keys[0].secretKey, 1n << 64n, SEED, 1n))).toBe("U64_OUT_OF_RANGE");
    expect(codeOf(() => computeVrf(keys[0].secretKey, CHAIN_ID, SEED, -1n))).toBe("U64_OUT_OF_RANGE");
  });
});

describe("eligibility", () => {
  it("threshold is floor(2^256 · f · w / W), capped at 2^256 − 1; zero weight is never eligible", () => {
    const two256 = 1n << 256n;
    expect(eligibilityThreshold(1n, 4n, 1)).toBe(two256 / 4n);
    expect(eligibilityThreshold(3n, 10n, 0.5)).toBe((two256 * 3n) / 20n);
    expect(eligibilityThreshold(10n, 10n, 1)).toBe(two256 - 1n);
    expect(eligibilityThreshold(6n, 10n, 2)).toBe(two256 - 1n);
    expect(eligibilityThreshold(0n, 10n, 5)).toBe(0n);
    expect(isEligible(0n, 0n, 10n, 1)).toBe(false);
    expect(isEligible(0n, 1n, 10n, 1)).toBe(true);
    expect(isEligible(two256 / 10n, 1n, 10n, 1)).toBe(false);
    expect(codeOf(() => isEligible(0n, 1n, 10n, 0))).toBe("INVALID_EXPECTED_LEADERS");
    expect(codeOf(() => isEligible(0n, 1n, 10n, Number.NaN))).toBe("INVALID_EXPECTED_LEADERS");
    expect(codeOf(() => isEligible(0n, 11n, 10n, 1))).toBe("INVALID_WEIGHT_INPUT");
  });

  it("eligibility frequency over many slots is roughly proportional to weight (real BLS VRF, fixed keys)", () => {
    const weights = [1n, 2n, 3n, 4n, 0n];
    const total = 10n;
    const slots = 600;
    const counts = weights.map(() => 0);
    for (let slot = 0; slot < slots; slot++) {
      for (const [i, w] of weights.entries()) {
        const { output } = computeVrf(keys[i].secretKey, CHAIN_ID, SEED, BigInt(slot));
        if (isEligible(output, w, total, 1)) counts[i]++;
      }
    }
    expect(counts[4]).toBe(0);
    for (const [i, w] of weights.slice(0, 4).entries()) {
      const expected = (slots * Number(w)) / Number(total);
      // ±35 % is > 3σ for the smallest weight (expected 60, σ ≈ 7.3).
      expect(Math.abs(counts[i] - expected) / expected, `validator ${i}: ${counts[i]} vs ${expected}`).toBeLessThan(
        0.35,
      );
    }
  });

  it("with f = 1 the expected number of eligible validators per slot is about 1 (hash outputs, many slots)", () => {
    const weights = [5n, 1n, 1n, 3n, 10n, 0n, 20n];
    const total = weights.reduce((a, b) => a + b, 0n);
    const slots = 20_000;
    const counts = weights.map(() => 0);
    for (let slot = 0; slot < slots; slot++) {
      for (const [i, w] of weights.entries()) {
        // Stand-in for a VRF output: uniform 256-bit values, like blake3(proof).
        const output = bytesToBigint(blake3(enc(`out ${i} ${slot}`)));
        if (isEligible(output, w, total, 1)) counts[i]++;
      }
    }
    const eligiblePerSlot = counts.reduce((a, b) => a + b, 0) / slots;
    expect(eligiblePerSlot).toBeGreaterThan(0.95);
    expect(eligiblePerSlot).toBeLessThan(1.05);
    expect(counts[5]).toBe(0);
    for (const [i, w] of weights.entries()) {
      if (w === 0n) continue;
      const expected = (slots * Number(w)) / Number(total);
      expect(Math.abs(counts[i] - expected) / expected, `validator ${i}`).toBeLessThan(0.12);
    }
  });
});

describe("fallback proposer", () => {
  it("is deterministic and depends on chain id, seed and slot", () => {
    const weights = [3n, 1n, 4n, 1n, 5n, 9n, 2n, 6n];
    const picks = Array.from({ length: 64 }, (_, s) => fallbackProposer(CHAIN_ID, SEED, BigInt(s), weights));
    expect(Array.from({ length: 64 }, (_, s) => fallbackProposer(CHAIN_ID, SEED, BigInt(s), weights))).toEqual(picks);
    expect(new Set(picks).size).toBeGreaterThan(4);
    const otherSeed = Array.from({ length: 64 }, (_, s) =>
      fallbackProposer(CHAIN_ID, blake3(enc("x")), BigInt(s), weights),
    );
    const otherChain = Array.from({ length: 64 }, (_, s) => fallbackProposer(CHAIN_ID + 1n, SEED, BigInt(s), weights));
    expect(otherSeed).not.toEqual(picks);
    expect(otherChain).not.toEqual(picks);
  });

  it("picks proportionally to weight and never a zero-weight validator", () => {
    const weights = [0n, 10n, 0n, 30n, 60n, 0n];
    const slots = 20_000;
    const counts = weights.map(() => 0);
    for (let s = 0; s < slots; s++) counts[fallbackProposer(CHAIN_ID, SEED, BigInt(s), weights)]++;
    expect([counts[0], counts[2], counts[5]]).toEqual([0, 0, 0]);
    for (const i of [1, 3, 4]) {
      const expected = (slots * Number(weights[i])) / 100;
      expect(Math.abs(counts[i] - expected) / expected, `validator ${i}`).toBeLessThan(0.1);
    }
  });

  it("NO_WEIGHT when nobody has weight; single weighted validator always picked", () => {
    expect(codeOf(() => fallbackProposer(CHAIN_ID, SEED, 1n, [0n, 0n]))).toBe("NO_WEIGHT");
    expect(codeOf(() => fallbackProposer(CHAIN_ID, SEED, 1n, []))).toBe("NO_WEIGHT");
    expect(codeOf(() => fallbackProposer(CHAIN_ID, SEED, 1n, [1n, -1n]))).toBe("INVALID_WEIGHT_INPUT");
    for (let s = 0n; s < 50n; s++) expect(fallbackProposer(CHAIN_ID, SEED, s, [0n, 0n, 7n, 0n])).toBe(2);
  });
});

describe("weights and seeds", () => {
  it("weightOf = stake × (10_000 + aiScoreBps), score clamped to [0, 10_000]", () => {
    expect(weightOf(100n, 0)).toBe(1_000_000n);
    expect(weightOf(100n, 2_500)).toBe(1_250_000n);
    expect(weightOf(100n, MAX_AI_SCORE_BPS)).toBe(2_000_000n);
    expect(weightOf(100n, 1_000_000)).toBe(2_000_000n);
    expect(weightOf(100n, -5)).toBe(1_000_000n);
    expect(weightOf(0n, 10_000)).toBe(0n);
    expect(codeOf(() => weightOf(-1n, 0))).toBe("INVALID_WEIGHT_INPUT");
    expect(codeOf(() => weightOf(1n, 0.5))).toBe("INVALID_WEIGHT_INPUT");
  });

  it("nextEpochSeed chains blake3(seed ‖ output) in order and always moves on", () => {
    const a = 5n;
    const b = (1n << 255n) + 3n;
    const be32 = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, "0"), "hex"));
    const step1 = blake3(Uint8Array.from([...SEED, ...be32(a)]));
    expect(nextEpochSeed(SEED, a)).toEqual(step1);
    expect(nextEpochSeed(SEED, a, b)).toEqual(blake3(Uint8Array.from([...step1, ...be32(b)])));
    expect(nextEpochSeed(SEED, a, b)).not.toEqual(nextEpochSeed(SEED, b, a));
    expect(nextEpochSeed(SEED)).toEqual(blake3(SEED));
    expect(codeOf(() => nextEpochSeed(SEED, 1n << 256n))).toBe("INVALID_VRF_OUTPUT");
    expect(codeOf(() => nextEpochSeed(SEED.subarray(2), 1n))).toBe("INVALID_SEED");
  });
});

describe("verifyProposerElection", () => {
  const validators = keys.map((k, i) => ({ pubkey: k.publicKey, weight: [4n, 3n, 2n, 1n, 0n][i] }));
  const weights = validators.map((v) => v.weight);
  const ctx = (slot: bigint) => ({ chainId: CHAIN_ID, seed: SEED, slot, validators, expectedLeadersPerSlot: 1 });

  it("accepts eligible proposers, rejects ineligible ones, accepts only the fallback pick when flagged fallback", () => {
    let sawEligible = false;
    let sawIneligible = false;
    for (let slot = 0n; slot < 40n; slot++) {
      const fb = fallbackProposer(CHAIN_ID, SEED, slot, weights);
      for (const [i, k] of keys.entries()) {
        const { proof, output } = computeVrf(k.secretKey, CHAIN_ID, SEED, slot);
        const eligible = isEligible(output, weights[i], 10n, 1);
        const normal = codeOf(() =>
          verifyProposerElection({ proposerIndex: i, vrfProof: proof, fallback: false }, ctx(slot)),
        );
        expect(normal).toBe(eligible ? "ok" : "PROPOSER_NOT_ELIGIBLE");
        sawEligible ||= eligible;
        sawIneligible ||= !eligible;
        const fallback = codeOf(() =>
          verifyProposerElection({ proposerIndex: i, vrfProof: proof, fallback: true }, ctx(slot)),
        );
        expect(fallback).toBe(i === fb ? "ok" : "NOT_FALLBACK_PROPOSER");
        expect(i === 4 && (eligible || i === fb)).toBe(false); // zero weight: never elected either way
      }
    }
    expect(sawEligible && sawIneligible).toBe(true);
  });

  it("VRF_PROOF_INVALID for another key's or another slot's proof; UNKNOWN_PROPOSER for a bad index", () => {
    const { proof } = computeVrf(keys[1].secretKey, CHAIN_ID, SEED, 9n);
    const claim = (proposerIndex: number, p: Uint8Array) => ({ proposerIndex, vrfProof: p, fallback: false });
    expect(codeOf(() => verifyProposerElection(claim(0, proof), ctx(9n)))).toBe("VRF_PROOF_INVALID");
    expect(codeOf(() => verifyProposerElection(claim(1, proof), ctx(10n)))).toBe("VRF_PROOF_INVALID");
    expect(codeOf(() => verifyProposerElection(claim(5, proof), ctx(9n)))).toBe("UNKNOWN_PROPOSER");
    expect(codeOf(() => verifyProposerElection(claim(-1, proof), ctx(9n)))).toBe("UNKNOWN_PROPOSER");
  });

  it("compareProposals: elected beats fallback, then smaller output, then lower index", () => {
    const p = (output: bigint, proposerIndex: number, fallback = false) => ({ output, proposerIndex, fallback });
    const sorted = [p(5n, 0, true), p(9n, 3), p(2n, 2), p(9n, 1)].sort(compareProposals);
    expect(sorted).toEqual([p(2n, 2), p(9n, 1), p(9n, 3), p(5n, 0, true)]);
  });
});
