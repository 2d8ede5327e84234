// The one interface to the chain's cryptography. Two implementations, chosen per runtime by package.json's "#crypto"
// import (see ../crypto.ts): native.ts on Node (hash-wasm, the libsecp256k1 binding, @chainsafe/blst) and noble.ts
// where native addons and run-time WebAssembly are not allowed (Cloudflare Workers, browsers: @noble/hashes and
// @noble/curves, pure JavaScript). Both are declared as this type, so neither can grow a member the other lacks, and
// crypto/cryptoProvider.test.ts checks that they give the same answers.
//
// Providers are primitives only. The chain's rules around them (EIP-2 low s and r/s ranges, key-derived addresses,
// typed errors, proofs of possession) live once, in secp256k1.ts and bls.ts.

export interface CryptoProvider {
  /** Which implementation this is: for tests and logs, never for behaviour. */
  readonly implementation: "native" | "noble";

  /** BLAKE3-256: everything the chain commits to. */
  blake3(data: Uint8Array): Uint8Array;
  /** Keccak-256 (Ethereum's, not SHA3-256): tx hashes, addresses, ABI selectors, event topics. */
  keccak256(data: Uint8Array): Uint8Array;

  /** The 65-byte uncompressed public key (0x04 ‖ x ‖ y) of a 32-byte secret key; throws for a key outside [1, n). */
  secp256k1PublicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * ECDSA over a 32-byte digest (no further hashing) with RFC 6979 nonces and low s: the same signature for the
   * same input from either implementation. `signature` is r ‖ s (64 bytes); throws for an invalid key.
   */
  secp256k1Sign(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recovery: number };
  /**
   * The 65-byte uncompressed public key that signed `digest`, from r ‖ s (64 bytes, both in [1, n)) and the recovery
   * id; throws when no key recovers. Range and low-s rules are the caller's (secp256k1.ts).
   */
  secp256k1Recover(digest: Uint8Array, signature: Uint8Array, recovery: number): Uint8Array;

  // BLS12-381, minimal-pubkey-size (48-byte G1 keys, 96-byte G2 signatures, compressed), the Ethereum
  // proof-of-possession ciphersuite BLS_DST. Secret keys are 32-byte big-endian scalars in [1, r).
  /** IETF BLS KeyGen (draft-irtf-cfrg-bls-signature-05 §2.3, as EIP-2333's HKDF_mod_r) from >= 32 bytes of seed. */
  blsSecretKeyFromSeed(ikm: Uint8Array): Uint8Array;
  /** Throws for an invalid secret key. */
  blsPublicKey(secretKey: Uint8Array): Uint8Array;
  /** Throws for an invalid secret key. */
  blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** One signature by one key. False, never a throw, for anything malformed (see isCompressedBls). */
  blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * One signature of `message` by all `publicKeys` (keys that proved possession of their secret key). False, never a
   * throw, for an empty key list or anything malformed.
   */
  blsFastAggregateVerify(publicKeys: Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean;
  /** Sum of signatures, each parsed and subgroup-checked; throws for an empty list or a malformed signature. */
  blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array;
  /** Sum of public keys, each parsed and validated; throws for an empty list or a malformed key. */
  blsAggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array;
}

/** The ciphersuite of Ethereum's consensus layer and of @chainsafe/blst's defaults. */
export const BLS_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
export const BLS_PUBKEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;

/**
 * Verification takes compressed points only. Both libraries would also parse the 96- and 192-byte uncompressed forms;
 * refusing them up front keeps every key and signature to one encoding.
 */
export function isCompressedBls(publicKeys: readonly Uint8Array[], signature: Uint8Array): boolean {
  if (signature.length !== BLS_SIGNATURE_LENGTH) return false;
  for (const p of publicKeys) if (p.length !== BLS_PUBKEY_LENGTH) return false;
  return true;
}
