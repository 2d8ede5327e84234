// The bridge committee (docs/bridge.md, "The committee"): the genesis validators that registered a secp256k1 bridge
// key, in genesis order, form guardian set 0. A key is registered with a proof: its signature over
// keccak256("RustChain bridge key v1" ‖ chainId u64 ‖ the validator's BLS public key), which shows the key's holder
// agreed to act for that validator on that chain (nobody can register a key they do not hold, or someone else's key
// under their own validator).
import { ChainError } from "../errors.ts";
import type { Genesis } from "../genesis.ts";
import { keccak256 } from "../hash.ts";
import { concatBytes, equalBytes } from "../hex.ts";
import { type GuardianSet, recoverSigner, signDigest } from "./vaa.ts";

const PROOF_DOMAIN = new TextEncoder().encode("RustChain bridge key v1");

export function bridgeKeyProofDigest(chainId: bigint, blsPublicKey: Uint8Array): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setBigUint64(0, chainId);
  return keccak256(concatBytes(PROOF_DOMAIN, id, blsPublicKey));
}

export function signBridgeKeyProof(privateKey: Uint8Array, chainId: bigint, blsPublicKey: Uint8Array): Uint8Array {
  return signDigest(bridgeKeyProofDigest(chainId, blsPublicKey), privateKey);
}

/** Refuse a genesis in which a bridge key's proof does not recover to it (INVALID_GENESIS naming the entry). */
export function checkBridgeKeyProofs(genesis: Genesis): void {
  for (const [i, v] of genesis.validators.entries()) {
    if (!v.bridge) continue;
    const signer = recoverSigner(bridgeKeyProofDigest(genesis.params.chainId, v.blsPublicKey), v.bridge.proof);
    if (!signer || !equalBytes(signer, v.bridge.address))
      throw new ChainError({
        code: "INVALID_GENESIS",
        reason: `validators.${i}.bridge.proof: not a signature of its bridge key over this validator and chain`,
      });
  }
}

/** Guardian set 0: the bridge keys of the genesis validators that have one, in genesis order. */
export function genesisGuardianSet(genesis: Genesis): GuardianSet & { validators: number[] } {
  const members = genesis.validators.flatMap((v, i) => (v.bridge ? [{ i, address: v.bridge.address }] : []));
  return { index: 0, keys: members.map((m) => m.address), validators: members.map((m) => m.i) };
}
