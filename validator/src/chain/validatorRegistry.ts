// The validator registry lives in the world state, so stake cuts and AI scores are part of the state root, follow
// forks, and are readable at any block. It is the storage of one system account that no transaction can reach (it has
// no code, and no key controls its address).
//
//   slot u256(index << 8 | 0)   stake in wei (genesis stake; cut by slashing)
//   slot u256(index << 8 | 1)   AI score in basis points (0 … 10_000)
//   slot u256(index << 8 | 2)   1 once the validator has been slashed
import { bytesToBigint, hexToBytes } from "@rustchain/shared";

/** 0x…5253_0001 ("RS"): the registry's system address. */
export const REGISTRY_ADDRESS = hexToBytes("0x0000000000000000000000000000000052530001");

export const RegistryField = { stake: 0, aiScoreBps: 1, slashed: 2 } as const;
export type RegistryField = (typeof RegistryField)[keyof typeof RegistryField];

export function registrySlot(index: number, field: RegistryField): Uint8Array {
  const out = new Uint8Array(32);
  const v = (BigInt(index) << 8n) | BigInt(field);
  new DataView(out.buffer).setBigUint64(24, v);
  return out;
}

export function u256(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const hex = v.toString(16).padStart(64, "0");
  out.set(Buffer.from(hex, "hex"));
  return out;
}

export interface ValidatorRecord {
  stake: bigint;
  aiScoreBps: number;
  slashed: boolean;
}

/** Anything that can read a storage slot of the registry at some state (a world-state overlay or a state root). */
export type RegistryReader = (slot: Uint8Array) => Promise<Uint8Array>;

export async function readValidator(read: RegistryReader, index: number): Promise<ValidatorRecord> {
  const [stake, score, slashed] = await Promise.all([
    read(registrySlot(index, RegistryField.stake)),
    read(registrySlot(index, RegistryField.aiScoreBps)),
    read(registrySlot(index, RegistryField.slashed)),
  ]);
  return {
    stake: bytesToBigint(stake),
    aiScoreBps: Number(bytesToBigint(score)),
    slashed: bytesToBigint(slashed) !== 0n,
  };
}

export async function readValidators(read: RegistryReader, count: number): Promise<ValidatorRecord[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => readValidator(read, i)));
}
