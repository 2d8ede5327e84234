// Proposer election: a BLS-based VRF weighted by stake × AI score, with a deterministic fallback so slots are rarely
// empty. Specification (also in ./README.md; all integers big-endian, ‖ is concatenation):
//
//   vrfInput  = blake3("RUSTCHAIN_VRF_V1" ‖ u64(chainId) ‖ epochSeed[32] ‖ u64(slot))
//   proof     = BLS.sign(sk, vrfInput)              96-byte compressed G2 signature (min-pubkey-size, as shared/bls.ts)
//   output    = blake3(proof) read as a 256-bit unsigned integer
//   eligible  ⇔ output < min(2^256 − 1, floor(2^256 × f × w_i / W))
//               w_i the validator's weight, W the total weight, f the expected number of leaders per slot (default 1)
//   winner    = among proposals from eligible validators, the smallest output (ties, which need a blake3 collision,
//               go to the lower validator index)
//   fallback  = if no eligible proposal arrives within `fallbackDelayMs`, the proposer is
//               weightedPick(blake3("RUSTCHAIN_FALLBACK_V1" ‖ u64(chainId) ‖ epochSeed[32] ‖ u64(slot)) mod W):
//               the first index i with r < w_0 + … + w_i. Its header still carries its VRF proof, flagged fallback,
//               and verification checks the proof and that the proposer is the fallback pick.
//   weight    = stake × (10_000 + aiScoreBps), aiScoreBps an integer clamped to [0, 10_000]: AI work can at most
//               double a validator's weight, and a validator without stake has no weight however good its AI score.
//   next seed = s ← prevSeed; for each VRF output of the epoch's blocks in slot order: s ← blake3(s ‖ u256(output));
//               with no blocks at all s ← blake3(prevSeed), so the seed still moves on.
//
// Why a BLS signature is a VRF: BLS signing is deterministic (sk · H(m) on G2), so for a given public key and input
// there is exactly one valid proof; the output is a hash of it, unpredictable without the secret key and verifiable
// with the public key. Uniqueness needs a valid, subgroup-checked public key and canonical proof encoding, which
// `blsVerify` enforces (keys and signatures are group-checked; only the 96-byte compressed form is accepted). The
// input is a BLAKE3 digest under its own domain tag, so it can never equal a block hash or attestation the same key
// signs. The weighted fallback pick is public, so that proposer is known in advance — acceptable for the rare slots
// where nobody was eligible. The last proposer of an epoch can bias the next seed by withholding its block (one bit),
// as in RANDAO.
import {
  BLS_SIGNATURE_LENGTH,
  bigintToBytes32,
  blake3,
  blsSign,
  blsVerify,
  bytesToBigint,
  concatBytes,
  RustChainError,
} from "@rustchain/shared";
import { aiWeightedStake, MAX_AI_SCORE_BPS } from "@rustchain/shared/consensus/registry";

export const VRF_DOMAIN = new TextEncoder().encode("RUSTCHAIN_VRF_V1");
export const FALLBACK_DOMAIN = new TextEncoder().encode("RUSTCHAIN_FALLBACK_V1");
export const EPOCH_SEED_LENGTH = 32;
export const VRF_PROOF_LENGTH = BLS_SIGNATURE_LENGTH;
/** AI score cap in basis points: 10_000 = +100 %, so weight ∈ [stake, 2 × stake] (× 10_000). */
export { MAX_AI_SCORE_BPS };

const TWO_POW_256 = 1n << 256n;
const MAX_U64 = (1n << 64n) - 1n;
/** f is taken to 9 decimal places so the threshold is exact integer arithmetic. */
const F_SCALE = 1_000_000_000n;

export interface ElectionOptions {
  /** Expected number of eligible proposers per slot (f). */
  expectedLeadersPerSlot: number;
  /** How long into a slot to wait for an eligible proposal before the fallback proposer may propose. */
  fallbackDelayMs: number;
}

export const defaultElectionOptions: ElectionOptions = {
  expectedLeadersPerSlot: 1.0,
  fallbackDelayMs: 2_000,
};

export type ElectionErrorType =
  | { code: "INVALID_SEED"; length: number }
  | { code: "U64_OUT_OF_RANGE"; field: string }
  | { code: "INVALID_WEIGHT_INPUT"; reason: string }
  | { code: "INVALID_EXPECTED_LEADERS"; value: number }
  | { code: "INVALID_VRF_OUTPUT" }
  | { code: "NO_WEIGHT" }
  | { code: "UNKNOWN_PROPOSER"; index: number }
  | { code: "VRF_PROOF_INVALID"; index: number }
  | { code: "PROPOSER_NOT_ELIGIBLE"; index: number }
  | { code: "NOT_FALLBACK_PROPOSER"; index: number; expected: number };

/** Bad election inputs, or a proposal whose proposer was not elected for its slot. */
export class ElectionError extends RustChainError<ElectionErrorType> {}

export interface VrfResult {
  proof: Uint8Array;
  /** blake3(proof) as a 256-bit integer. */
  output: bigint;
}

function u64(n: bigint, field: string): Uint8Array {
  if (n < 0n || n > MAX_U64) throw new ElectionError({ code: "U64_OUT_OF_RANGE", field });
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(n);
  return out;
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== EPOCH_SEED_LENGTH) throw new ElectionError({ code: "INVALID_SEED", length: seed.length });
}

/** The message a validator signs to prove its election at `slot`. */
export function vrfInput(chainId: bigint, seed: Uint8Array, slot: bigint): Uint8Array {
  checkSeed(seed);
  return blake3(concatBytes(VRF_DOMAIN, u64(chainId, "chainId"), seed, u64(slot, "slot")));
}

export function vrfOutput(proof: Uint8Array): bigint {
  return bytesToBigint(blake3(proof));
}

export function computeVrf(secretKey: Uint8Array, chainId: bigint, seed: Uint8Array, slot: bigint): VrfResult {
  const proof = blsSign(secretKey, vrfInput(chainId, seed, slot));
  return { proof, output: vrfOutput(proof) };
}

/** The VRF output if `proof` is `pubkey`'s valid proof for (chainId, seed, slot), else undefined. */
export function verifyVrf(
  pubkey: Uint8Array,
  chainId: bigint,
  seed: Uint8Array,
  slot: bigint,
  proof: Uint8Array,
): bigint | undefined {
  if (proof.length !== VRF_PROOF_LENGTH) return undefined;
  if (!blsVerify(pubkey, vrfInput(chainId, seed, slot), proof)) return undefined;
  return vrfOutput(proof);
}

/** floor(2^256 × f × weight / totalWeight), capped at 2^256 − 1; 0 for zero weight. */
export function eligibilityThreshold(weight: bigint, totalWeight: bigint, f: number): bigint {
  if (!Number.isFinite(f) || f <= 0) throw new ElectionError({ code: "INVALID_EXPECTED_LEADERS", value: f });
  if (weight < 0n || totalWeight < 0n || weight > totalWeight) {
    throw new ElectionError({ code: "INVALID_WEIGHT_INPUT", reason: "need 0 <= weight <= totalWeight" });
  }
  if (weight === 0n) return 0n;
  const fScaled = BigInt(Math.round(f * Number(F_SCALE)));
  const t = (TWO_POW_256 * fScaled * weight) / (totalWeight * F_SCALE);
  return t > TWO_POW_256 - 1n ? TWO_POW_256 - 1n : t;
}

export function isEligible(output: bigint, weight: bigint, totalWeight: bigint, f: number): boolean {
  return output < eligibilityThreshold(weight, totalWeight, f);
}

/** weight = stake × (10_000 + aiScoreBps), aiScoreBps clamped to [0, MAX_AI_SCORE_BPS]. */
export function weightOf(stake: bigint, aiScoreBps: number): bigint {
  if (stake < 0n) throw new ElectionError({ code: "INVALID_WEIGHT_INPUT", reason: "negative stake" });
  if (!Number.isSafeInteger(aiScoreBps)) {
    throw new ElectionError({ code: "INVALID_WEIGHT_INPUT", reason: "AI score must be an integer (basis points)" });
  }
  return aiWeightedStake(stake, aiScoreBps);
}

export function totalWeight(weights: readonly bigint[]): bigint {
  let total = 0n;
  for (const w of weights) {
    if (w < 0n) throw new ElectionError({ code: "INVALID_WEIGHT_INPUT", reason: "negative weight" });
    total += w;
  }
  return total;
}

/** The index whose cumulative weight range contains `r` (0 <= r < total); zero-weight entries own no range. */
export function weightedPick(r: bigint, weights: readonly bigint[]): number {
  let acc = 0n;
  for (const [i, w] of weights.entries()) {
    acc += w;
    if (r < acc) return i;
  }
  throw new ElectionError({ code: "NO_WEIGHT" });
}

/**
 * The deterministic fallback proposer of `slot`. The modulo bias is below W / 2^256, negligible for any real stake
 * total.
 */
export function fallbackProposer(chainId: bigint, seed: Uint8Array, slot: bigint, weights: readonly bigint[]): number {
  checkSeed(seed);
  const total = totalWeight(weights);
  if (total === 0n) throw new ElectionError({ code: "NO_WEIGHT" });
  const r = bytesToBigint(blake3(concatBytes(FALLBACK_DOMAIN, u64(chainId, "chainId"), seed, u64(slot, "slot"))));
  return weightedPick(r % total, weights);
}

/** Mix the epoch's VRF outputs (in slot order) into the next epoch's seed. */
export function nextEpochSeed(prevSeed: Uint8Array, ...vrfOutputs: bigint[]): Uint8Array {
  checkSeed(prevSeed);
  if (vrfOutputs.length === 0) return blake3(prevSeed);
  let seed = prevSeed;
  for (const o of vrfOutputs) {
    if (o < 0n || o >= TWO_POW_256) throw new ElectionError({ code: "INVALID_VRF_OUTPUT" });
    seed = blake3(concatBytes(seed, bigintToBytes32(o)));
  }
  return seed;
}

export interface ElectionContext {
  chainId: bigint;
  seed: Uint8Array;
  slot: bigint;
  /** Validator set of the epoch, indexed by validator index. */
  validators: readonly { pubkey: Uint8Array; weight: bigint }[];
  expectedLeadersPerSlot: number;
}

export interface ProposalClaim {
  proposerIndex: number;
  vrfProof: Uint8Array;
  /** Set in headers produced by the fallback proposer. */
  fallback: boolean;
}

/**
 * Check that a header's proposer was elected for its slot: the VRF proof verifies under the proposer's key and
 * either the output is below its eligibility threshold, or the header is flagged fallback and the proposer is the
 * fallback pick. Returns the VRF output (for fork choice between competing proposals and for seed mixing).
 */
export function verifyProposerElection(claim: ProposalClaim, ctx: ElectionContext): bigint {
  const v = ctx.validators[claim.proposerIndex];
  if (!Number.isSafeInteger(claim.proposerIndex) || v === undefined) {
    throw new ElectionError({ code: "UNKNOWN_PROPOSER", index: claim.proposerIndex });
  }
  const output = verifyVrf(v.pubkey, ctx.chainId, ctx.seed, ctx.slot, claim.vrfProof);
  if (output === undefined) throw new ElectionError({ code: "VRF_PROOF_INVALID", index: claim.proposerIndex });
  const weights = ctx.validators.map((x) => x.weight);
  if (claim.fallback) {
    const expected = fallbackProposer(ctx.chainId, ctx.seed, ctx.slot, weights);
    if (expected !== claim.proposerIndex) {
      throw new ElectionError({ code: "NOT_FALLBACK_PROPOSER", index: claim.proposerIndex, expected });
    }
  } else if (!isEligible(output, v.weight, totalWeight(weights), ctx.expectedLeadersPerSlot)) {
    throw new ElectionError({ code: "PROPOSER_NOT_ELIGIBLE", index: claim.proposerIndex });
  }
  return output;
}

/**
 * Order competing proposals of one slot: a VRF-elected proposal beats a fallback one; among elected ones the smaller
 * output wins, then the lower index. Negative when `a` wins.
 */
export function compareProposals(
  a: { output: bigint; proposerIndex: number; fallback: boolean },
  b: { output: bigint; proposerIndex: number; fallback: boolean },
): number {
  if (a.fallback !== b.fallback) return a.fallback ? 1 : -1;
  if (a.output !== b.output) return a.output < b.output ? -1 : 1;
  return a.proposerIndex - b.proposerIndex;
}
