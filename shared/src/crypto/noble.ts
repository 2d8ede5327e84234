// Pure-JavaScript cryptography (CryptoProvider, cryptoProvider.ts) for where native bindings and run-time WebAssembly
// cannot run: Cloudflare Workers, browsers. Hashes from @noble/hashes, secp256k1 and BLS12-381 from @noble/curves:
// audited, maintained by one author, and what viem and libp2p already build on. Same results as native.ts (RFC 6979
// signatures byte for byte, the blst ciphersuite and KeyGen), checked by cryptoProvider.test.ts. package.json's
// "#crypto" picks it under the "workerd", "worker" and "browser" conditions (../crypto.ts).
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToNumberBE, numberToBytesBE } from "@noble/curves/utils.js";
import { blake3 } from "@noble/hashes/blake3.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BLS_DST, type CryptoProvider, isCompressedBls } from "./cryptoProvider.ts";

const bls = bls12_381.longSignatures;
const BLS_ORDER = bls12_381.fields.Fr.ORDER;
const KEYGEN_SALT = new TextEncoder().encode("BLS-SIG-KEYGEN-SALT-");
/** KeyGen's L = ceil(3 * ceil(log2(r)) / 16): 48 bytes for BLS12-381. */
const KEYGEN_L = 48;

/**
 * draft-irtf-cfrg-bls-signature-05 §2.3 KeyGen with an empty key_info, as blst_keygen: salt = H(salt) before each
 * attempt; PRK = HKDF-Extract(salt, IKM ‖ I2OSP(0, 1)); OKM = HKDF-Expand(PRK, I2OSP(L, 2), L); SK = OS2IP(OKM) mod r,
 * again while SK = 0.
 */
function blsKeyGen(ikm: Uint8Array): Uint8Array {
  if (ikm.length < 32) throw new RangeError("BLS KeyGen needs at least 32 bytes of seed");
  const material = new Uint8Array(ikm.length + 1);
  material.set(ikm);
  let salt = KEYGEN_SALT;
  for (;;) {
    salt = sha256(salt);
    const okm = expand(sha256, extract(sha256, material, salt), Uint8Array.of(0, KEYGEN_L), KEYGEN_L);
    const sk = bytesToNumberBE(okm) % BLS_ORDER;
    if (sk !== 0n) return numberToBytesBE(sk, 32);
  }
}

const hashToG2 = (message: Uint8Array) => bls.hash(message, BLS_DST);

/** The key itself, if it is 32 bytes encoding a scalar in [1, r) as blst requires; noble would reduce larger ones. */
function blsSecretKey(secretKey: Uint8Array): Uint8Array {
  const n = secretKey.length === 32 ? bytesToNumberBE(secretKey) : 0n;
  if (n === 0n || n >= BLS_ORDER) throw new RangeError("BLS secret key out of range");
  return secretKey;
}

export const cryptoProvider: CryptoProvider = {
  implementation: "noble",
  blake3: (data) => blake3(data),
  keccak256: (data) => keccak_256(data),

  secp256k1PublicKey: (privateKey) => secp256k1.getPublicKey(privateKey, false),
  secp256k1Sign(digest, privateKey) {
    // "recovered" is recovery id ‖ r ‖ s.
    const sig = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered" });
    return { signature: sig.subarray(1), recovery: sig[0] as number };
  },
  secp256k1Recover: (digest, signature, recovery) =>
    secp256k1.Signature.fromBytes(signature, "compact")
      .addRecoveryBit(recovery)
      .recoverPublicKey(digest)
      .toBytes(false),

  blsSecretKeyFromSeed: blsKeyGen,
  blsPublicKey: (secretKey) => bls.getPublicKey(blsSecretKey(secretKey)).toBytes(),
  blsSign: (secretKey, message) => bls.Signature.toBytes(bls.sign(hashToG2(message), blsSecretKey(secretKey))),
  blsVerify(publicKey, message, signature) {
    if (!isCompressedBls([publicKey], signature)) return false;
    try {
      // Parsing checks the points are on the curve and in their subgroups; the pairing refuses infinity.
      return bls.verify(signature, hashToG2(message), publicKey);
    } catch {
      return false;
    }
  },
  blsFastAggregateVerify(publicKeys, message, signature) {
    if (publicKeys.length === 0 || !isCompressedBls(publicKeys, signature)) return false;
    try {
      return bls.verify(signature, hashToG2(message), aggregateKeys(publicKeys));
    } catch {
      return false;
    }
  },
  blsAggregateSignatures: (signatures) => bls.Signature.toBytes(bls.aggregateSignatures(signatures)),
  blsAggregatePublicKeys: (publicKeys) => aggregateKeys(publicKeys).toBytes(),
};

/** Sum of keys; like blst's key validation, an infinity key is refused (it would let any signature count for it). */
function aggregateKeys(publicKeys: Uint8Array[]) {
  const points = publicKeys.map((p) => bls12_381.G1.Point.fromBytes(p));
  if (points.some((p) => p.is0())) throw new RangeError("infinity public key");
  return bls.aggregatePublicKeys(points);
}

/** What the finality-certificate verifier needs (a view of cryptoProvider). */
export const nobleCertificateCrypto = cryptoProvider;
