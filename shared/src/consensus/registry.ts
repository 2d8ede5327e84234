// The validator registry lives in the world state, so stake cuts and AI scores are part of the state root, follow
// forks, are readable at any block, and can be proven against a state root (finality certificates carry such proofs).
// It is the storage of one system account that no transaction can reach (it has no code, and no key controls its
// address). Storage slots are 32-byte big-endian words:
//
//   slot u256(index << 8 | 0)   stake in wei (genesis stake; halved by slashing)
//   slot u256(index << 8 | 1)   AI score in basis points (0 … 10_000)
//   slot u256(index << 8 | 2)   1 once the validator has been slashed
//
// Weight (docs/consensus.md, "Weights"): stake × (10_000 + AI score), 0 once slashed. The same weight elects
// proposers (at the parent block's state) and counts votes for justification and finality (at the last finalized
// block's state): controlling either takes AI work as well as stake.
import { bigintToBytes32, bytesToBigint, hexToBytes } from "../hex.ts";

/** 0x…5253_0001 ("RS"): the registry's system address. */
export const REGISTRY_ADDRESS = hexToBytes("0x0000000000000000000000000000000052530001");

export const RegistryField = { stake: 0, aiScoreBps: 1, slashed: 2 } as const;
export type RegistryField = (typeof RegistryField)[keyof typeof RegistryField];

/** The AI score saturates here (10_000 basis points doubles a validator's weight). */
export const MAX_AI_SCORE_BPS = 10_000;

export function registrySlot(index: number, field: RegistryField): Uint8Array {
  return bigintToBytes32((BigInt(index) << 8n) | BigInt(field));
}

/** A storage word (32 bytes, big-endian). */
export function u256(v: bigint): Uint8Array {
  return bigintToBytes32(v);
}

export interface ValidatorRecord {
  stake: bigint;
  aiScoreBps: number;
  slashed: boolean;
}

/** A record from its three storage words (absent words read as zero). */
export function validatorRecord(stake: Uint8Array, aiScoreBps: Uint8Array, slashed: Uint8Array): ValidatorRecord {
  const score = bytesToBigint(aiScoreBps);
  return {
    stake: bytesToBigint(stake),
    aiScoreBps: score > BigInt(MAX_AI_SCORE_BPS) ? MAX_AI_SCORE_BPS : Number(score),
    slashed: bytesToBigint(slashed) !== 0n,
  };
}

/** stake × (10_000 + AI score), the score clamped to [0, MAX_AI_SCORE_BPS]. */
export function aiWeightedStake(stake: bigint, aiScoreBps: number): bigint {
  const score = Math.min(Math.max(aiScoreBps, 0), MAX_AI_SCORE_BPS);
  return stake * BigInt(10_000 + score);
}

/** A validator's weight for proposer election and for votes: 0 once slashed. */
export function validatorWeight(record: ValidatorRecord): bigint {
  return record.slashed ? 0n : aiWeightedStake(record.stake, record.aiScoreBps);
}
