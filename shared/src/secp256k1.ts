// secp256k1 for Ethereum accounts: the rules (EIP-2 low s, r and s ranges, keccak-derived addresses) over the
// runtime's crypto provider (crypto.ts). On Node that is the native libsecp256k1 binding, ~20k recoveries/s per core
// against ~900/s for pure JS, which is what makes 10k tx/s reachable; recovery is still run in worker threads by the
// validator.
import { cryptoProvider } from "./crypto.ts";
import { ChainError } from "./errors.ts";
import { keccak256 } from "./hash.ts";
import { bigintToBytes32, bytesToBigint } from "./hex.ts";

export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

export interface EcdsaSignature {
  r: bigint;
  s: bigint;
  yParity: 0 | 1;
}

export function publicKeyToAddress(uncompressed: Uint8Array): Uint8Array {
  return keccak256(uncompressed.subarray(1)).subarray(12);
}

export function privateKeyToAddress(privateKey: Uint8Array): Uint8Array {
  return publicKeyToAddress(cryptoProvider.secp256k1PublicKey(privateKey));
}

export function signHash(hash: Uint8Array, privateKey: Uint8Array): EcdsaSignature {
  const { signature, recovery } = cryptoProvider.secp256k1Sign(hash, privateKey);
  return {
    r: bytesToBigint(signature.subarray(0, 32)),
    s: bytesToBigint(signature.subarray(32)),
    // 2 and 3 need r >= n - p, which a signer meets with probability ~2^-127.
    yParity: recovery as 0 | 1,
  };
}

/** Recover the signer's address. Enforces EIP-2 (low s) and the r, s ranges; throws ChainError otherwise. */
export function recoverAddress(
  hash: Uint8Array,
  sig: EcdsaSignature,
  /** r and s as their minimal big-endian bytes, when the caller has them (a decoded transaction): saves two conversions. */
  rsBytes?: [Uint8Array, Uint8Array],
): Uint8Array {
  if (sig.r <= 0n || sig.r >= SECP256K1_N || sig.s <= 0n || sig.s > SECP256K1_HALF_N) {
    throw new ChainError({ code: "INVALID_SIGNATURE", reason: "r or s out of range" });
  }
  const compact = new Uint8Array(64);
  if (rsBytes) {
    // In range, so at most 32 bytes each.
    compact.set(rsBytes[0], 32 - rsBytes[0].length);
    compact.set(rsBytes[1], 64 - rsBytes[1].length);
  } else {
    compact.set(bigintToBytes32(sig.r), 0);
    compact.set(bigintToBytes32(sig.s), 32);
  }
  try {
    return publicKeyToAddress(cryptoProvider.secp256k1Recover(hash, compact, sig.yParity));
  } catch {
    throw new ChainError({ code: "INVALID_SIGNATURE", reason: "recovery failed" });
  }
}
