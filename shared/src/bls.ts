// BLS12-381 (min-pubkey-size, as Ethereum's beacon chain) through @chainsafe/blst, the binding Lodestar uses.
import {
  aggregatePublicKeys,
  aggregateSignatures,
  fastAggregateVerify,
  PublicKey,
  SecretKey,
  Signature,
  verify,
} from "@chainsafe/blst";
import { proofOfPossessionRoot } from "./consensus/proofOfPossession.ts";
import { ChainError } from "./errors.ts";
import type { GenesisValidator } from "./genesis.ts";
import { blake3 } from "./hash.ts";

export const BLS_PUBKEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;

export interface BlsKeypair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function blsKeypairFromSeed(ikm: Uint8Array): BlsKeypair {
  if (ikm.length < 32) throw new ChainError({ code: "INVALID_BLS_KEY" });
  const sk = SecretKey.fromKeygen(ikm);
  return { secretKey: sk.toBytes(), publicKey: sk.toPublicKey().toBytes() };
}

export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  try {
    return SecretKey.fromBytes(secretKey).toPublicKey().toBytes();
  } catch {
    throw new ChainError({ code: "INVALID_BLS_KEY" });
  }
}

export function blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return SecretKey.fromBytes(secretKey).sign(message).toBytes();
}

/** Verify one signature; malformed keys or signatures verify as false instead of throwing. */
export function blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== BLS_PUBKEY_LENGTH || signature.length !== BLS_SIGNATURE_LENGTH) return false;
  try {
    return verify(message, PublicKey.fromBytes(publicKey, true), Signature.fromBytes(signature, true));
  } catch {
    return false;
  }
}

/**
 * Aggregate signatures (attestations of the same or different messages) into one. Every input must be a 96-byte
 * compressed, subgroup-checked signature; anything else throws INVALID_SIGNATURE.
 */
export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new ChainError({ code: "INVALID_SIGNATURE", reason: "nothing to aggregate" });
  let parsed: Signature[];
  try {
    parsed = signatures.map((s) => {
      if (s.length !== BLS_SIGNATURE_LENGTH) throw new ChainError({ code: "INVALID_SIGNATURE", reason: "length" });
      return Signature.fromBytes(s, true);
    });
  } catch {
    throw new ChainError({ code: "INVALID_SIGNATURE", reason: "malformed BLS signature" });
  }
  // Inputs are already group-checked above, so the aggregation itself skips the check.
  return aggregateSignatures(parsed, false).toBytes();
}

/** Aggregate public keys into one. Every input must be a valid 48-byte compressed key; otherwise INVALID_BLS_KEY. */
export function blsAggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array {
  if (publicKeys.length === 0) throw new ChainError({ code: "INVALID_BLS_KEY" });
  let parsed: PublicKey[];
  try {
    parsed = publicKeys.map((p) => {
      if (p.length !== BLS_PUBKEY_LENGTH) throw new ChainError({ code: "INVALID_BLS_KEY" });
      return PublicKey.fromBytes(p, true);
    });
  } catch {
    throw new ChainError({ code: "INVALID_BLS_KEY" });
  }
  return aggregatePublicKeys(parsed, false).toBytes();
}

/**
 * Verify one aggregate signature of `message` by all `publicKeys` (the keys must have proven possession of their
 * secret key when they were registered, or rogue-key attacks apply). An empty key list, or any malformed key or
 * signature, verifies as false instead of throwing.
 */
export function blsFastAggregateVerify(publicKeys: Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKeys.length === 0 || signature.length !== BLS_SIGNATURE_LENGTH) return false;
  if (publicKeys.some((p) => p.length !== BLS_PUBKEY_LENGTH)) return false;
  try {
    const pks = publicKeys.map((p) => PublicKey.fromBytes(p, true));
    return fastAggregateVerify(message, pks, Signature.fromBytes(signature, true));
  } catch {
    return false;
  }
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
