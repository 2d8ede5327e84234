// Reading the validator registry from state. Its layout and the weight rule are shared/src/consensus/registry.ts
// (the finality-certificate verifier proves the same slots against a state root).
import {
  RegistryField,
  registrySlot,
  type ValidatorRecord,
  validatorRecord,
} from "@rustchain/shared/consensus/registry";

export * from "@rustchain/shared/consensus/registry";

/** Anything that can read a storage slot of the registry at some state (a world-state overlay or a state root). */
export type RegistryReader = (slot: Uint8Array) => Promise<Uint8Array>;

export async function readValidator(read: RegistryReader, index: number): Promise<ValidatorRecord> {
  const [stake, score, slashed] = await Promise.all([
    read(registrySlot(index, RegistryField.stake)),
    read(registrySlot(index, RegistryField.aiScoreBps)),
    read(registrySlot(index, RegistryField.slashed)),
  ]);
  return validatorRecord(stake, score, slashed);
}

export async function readValidators(read: RegistryReader, count: number): Promise<ValidatorRecord[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => readValidator(read, i)));
}
