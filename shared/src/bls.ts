// BLS12-381 (min-pubkey-size, as Ethereum's beacon chain): the rules (lengths, typed errors, proofs of possession)
// over the runtime's crypto provider (crypto.ts): @chainsafe/blst, the binding Lodestar uses, on Node; @noble/curves
// in Workers.
import { proofOfPossessionRoot } from "./consensus/proofOfPossession.ts";
import { BLS_PUBKEY_LENGTH, BLS_SIGNATURE_LENGTH } from "./crypto/cryptoProvider.ts";
import { cryptoProvider } from "./crypto.ts";
import { ChainError } from "./errors.ts";
import type { GenesisValidator } from "./genesis.ts";
import { blake3 } from "./hash.ts";

export { BLS_PUBKEY_LENGTH, BLS_SIGNATURE_LENGTH };

export interface BlsKeypair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function blsKeypairFromSeed(ikm: Uint8Array): BlsKeypair {
  if (ikm.length < 32) throw new ChainError({ code: "INVALID_BLS_KEY" });
  const secretKey = cryptoProvider.blsSecretKeyFromSeed(ikm);
  return { secretKey, publicKey: cryptoProvider.blsPublicKey(secretKey) };
}

export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  try {
    return cryptoProvider.blsPublicKey(secretKey);
  } catch {
    throw new ChainError({ code: "INVALID_BLS_KEY" });
  }
}

export function blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return cryptoProvider.blsSign(secretKey, message);
}

/** Verify one signature; malformed keys or signatures verify as false instead of throwing. */
export function blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return cryptoProvider.blsVerify(publicKey, message, signature);
}

/**
 * Aggregate signatures (attestations of the same or different messages) into one. Every input must be a 96-byte
 * compressed, subgroup-checked signature; anything else throws INVALID_SIGNATURE.
 */
export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new ChainError({ code: "INVALID_SIGNATURE", reason: "nothing to aggregate" });
  if (signatures.some((s) => s.length !== BLS_SIGNATURE_LENGTH)) {
    throw new ChainError({ code: "INVALID_SIGNATURE", reason: "malformed BLS signature" });
  }
  try {
    return cryptoProvider.blsAggregateSignatures(signatures);
  } catch {
    throw new ChainError({ code: "INVALID_SIGNATURE", reason: "malformed BLS signature" });
  }
}

/** Aggregate public keys into one. Every input must be a valid 48-byte compressed key; otherwise INVALID_BLS_KEY. */
export function blsAggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array {
  if (publicKeys.length === 0 || publicKeys.some((p) => p.length !== BLS_PUBKEY_LENGTH)) {
    throw new ChainError({ code: "INVALID_BLS_KEY" });
  }
  try {
    return cryptoProvider.blsAggregatePublicKeys(publicKeys);
  } catch {
    throw new ChainError({ code: "INVALID_BLS_KEY" });
  }
}

/**
 * Verify one aggregate signature of `message` by all `publicKeys` (the keys must have proven possession of their
 * secret key when they were registered, or rogue-key attacks apply). An empty key list, or any malformed key or
 * signature, verifies as false instead of throwing.
 */
export function blsFastAggregateVerify(publicKeys: Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean {
  return cryptoProvider.blsFastAggregateVerify(publicKeys, message, signature);
}

function popSigningRoot(publicKey: Uint8Array): Uint8Array {
  return proofOfPossessionRoot(blake3, publicKey);
}

/**
 * A proof that the holder of `secretKey` knows it: its signature over its own public key. Every genesis validator
 * key carries one, because aggregate verification (`blsFastAggregateVerify`) is only sound over keys that proved
 * possession: without it a party could register pk' = g^x - sum(other keys) and forge "everyone attested".
 */
export function blsProofOfPossession(secretKey: Uint8Array): Uint8Array {
  return blsSign(secretKey, popSigningRoot(blsPublicKey(secretKey)));
}

/** Check a proof of possession; malformed keys or proofs verify as false. */
export function blsVerifyProofOfPossession(publicKey: Uint8Array, proof: Uint8Array): boolean {
  return blsVerify(publicKey, popSigningRoot(publicKey), proof);
}

/**
 * Refuse a validator set in which any key lacks a valid proof of possession (INVALID_GENESIS naming the entry). A
 * node runs this on every start, before it trusts the set for aggregate verification.
 */
export function checkProofsOfPossession(validators: readonly GenesisValidator[]): void {
  for (const [i, v] of validators.entries()) {
    if (!blsVerifyProofOfPossession(v.blsPublicKey, v.proofOfPossession)) {
      throw new ChainError({
        code: "INVALID_GENESIS",
        reason: `validators.${i}.proofOfPossession: not a valid proof of possession of its BLS key`,
      });
    }
  }
}
