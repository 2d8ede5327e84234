// The node's cryptography (CryptoProvider, cryptoProvider.ts): BLAKE3 and keccak256 from hash-wasm (~18x pure JS:
// 980 vs 53 MiB/s of BLAKE3), secp256k1 from the libsecp256k1 binding (~20k recoveries/s per core against ~900/s for
// pure JS, which is what makes 10k tx/s reachable), BLS12-381 from @chainsafe/blst (Lodestar's binding to
// supranational/blst). Node only: native addons and WebAssembly compiled at start-up. package.json's "#crypto" picks
// it everywhere but Workers and browsers (../crypto.ts).
import {
  aggregatePublicKeys,
  aggregateSignatures,
  fastAggregateVerify,
  PublicKey,
  SecretKey,
  Signature,
  verify,
} from "@chainsafe/blst";
import { createBLAKE3, createKeccak, type IHasher } from "hash-wasm";
import secp from "secp256k1";
import { type CryptoProvider, isCompressedBls } from "./cryptoProvider.ts";

// Created once (asynchronous WebAssembly instantiation), then used synchronously.
const blake3Hasher: IHasher = await createBLAKE3(256);
const keccakHasher: IHasher = await createKeccak(256);

export const cryptoProvider: CryptoProvider = {
  implementation: "native",
  blake3: (data) => blake3Hasher.init().update(data).digest("binary"),
  keccak256: (data) => keccakHasher.init().update(data).digest("binary"),

  secp256k1PublicKey: (privateKey) => secp.publicKeyCreate(privateKey, false),
  secp256k1Sign(digest, privateKey) {
    const { signature, recid } = secp.ecdsaSign(digest, privateKey);
    return { signature, recovery: recid };
  },
  secp256k1Recover: (digest, signature, recovery) => secp.ecdsaRecover(signature, recovery, digest, false),

  blsSecretKeyFromSeed: (ikm) => SecretKey.fromKeygen(ikm).toBytes(),
  blsPublicKey: (secretKey) => SecretKey.fromBytes(secretKey).toPublicKey().toBytes(),
  blsSign: (secretKey, message) => SecretKey.fromBytes(secretKey).sign(message).toBytes(),
  blsVerify(publicKey, message, signature) {
    if (!isCompressedBls([publicKey], signature)) return false;
    try {
      // true: key validation (not infinity, in G1) and signature subgroup check.
      return verify(message, PublicKey.fromBytes(publicKey, true), Signature.fromBytes(signature, true));
    } catch {
      return false;
    }
  },
  blsFastAggregateVerify(publicKeys, message, signature) {
    if (publicKeys.length === 0 || !isCompressedBls(publicKeys, signature)) return false;
    try {
      const keys = publicKeys.map((p) => PublicKey.fromBytes(p, true));
      return fastAggregateVerify(message, keys, Signature.fromBytes(signature, true));
    } catch {
      return false;
    }
  },
  // Inputs are validated while parsing, so the aggregation itself skips the checks.
  blsAggregateSignatures: (signatures) =>
    aggregateSignatures(
      signatures.map((s) => Signature.fromBytes(s, true)),
      false,
    ).toBytes(),
  blsAggregatePublicKeys: (publicKeys) =>
    aggregatePublicKeys(
      publicKeys.map((p) => PublicKey.fromBytes(p, true)),
      false,
    ).toBytes(),
};

/** What the finality-certificate verifier needs (a view of cryptoProvider). */
export const nativeCertificateCrypto = cryptoProvider;
