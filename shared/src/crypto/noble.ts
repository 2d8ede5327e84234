// Pure-JavaScript cryptography for code that runs where native bindings and run-time WebAssembly cannot (Cloudflare
// Workers, browsers): BLAKE3 from @noble/hashes and BLS12-381 from @noble/curves, both audited and maintained by the
// same author, and the libraries viem and libp2p already build on. BLS uses the same scheme as the node's blst
// (minimal-pubkey-size: 48-byte G1 keys, 96-byte G2 signatures, the Ethereum proof-of-possession ciphersuite), which
// the tests in noble.test.ts check against blst.
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import type { CertificateCrypto } from "../consensus/certificateVerifier.ts";

/** The ciphersuite of Ethereum's consensus layer and of @chainsafe/blst. */
export const BLS_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

const bls = bls12_381.longSignatures;

export function blake3(data: Uint8Array): Uint8Array {
  return nobleBlake3(data);
}

export function blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 48 || signature.length !== 96) return false;
  try {
    return bls.verify(signature, bls.hash(message, BLS_DST), publicKey);
  } catch {
    return false;
  }
}

export function blsFastAggregateVerify(publicKeys: Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKeys.length === 0 || signature.length !== 96 || publicKeys.some((p) => p.length !== 48)) return false;
  try {
    const aggregate = bls.aggregatePublicKeys(publicKeys.map((p) => bls12_381.G1.Point.fromBytes(p)));
    return bls.verify(signature, bls.hash(message, BLS_DST), aggregate);
  } catch {
    return false;
  }
}

/** Sign (tests and tools that run without the native binding). */
export function blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return bls.Signature.toBytes(bls.sign(bls.hash(message, BLS_DST), secretKey));
}

export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  return bls.getPublicKey(secretKey).toBytes();
}

export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  return bls.Signature.toBytes(bls.aggregateSignatures(signatures));
}

/** What the finality-certificate verifier needs, in pure JavaScript. */
export const nobleCertificateCrypto: CertificateCrypto = { blake3, blsVerify, blsFastAggregateVerify };
