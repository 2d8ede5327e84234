// secp256k1 for Ethereum accounts. The native libsecp256k1 binding recovers ~20k signatures/s per core against ~900/s
// for pure JS, which is what makes 10k tx/s reachable; recovery is still run in worker threads by the validator.
import secp from "secp256k1";
import { ChainError } from "./errors.ts";
import { keccak256 } from "./hash.ts";
import { bigintToBytes32 } from "./hex.ts";

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
  return publicKeyToAddress(secp.publicKeyCreate(privateKey, false));
}

export function signHash(hash: Uint8Array, privateKey: Uint8Array): EcdsaSignature {
  const { signature, recid } = secp.ecdsaSign(hash, privateKey);
  return {
    r: BigInt(`0x${Buffer.from(signature.subarray(0, 32)).toString("hex")}`),
    s: BigInt(`0x${Buffer.from(signature.subarray(32)).toString("hex")}`),
    yParity: recid as 0 | 1,
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
    return publicKeyToAddress(secp.ecdsaRecover(compact, sig.yParity, hash, false));
  } catch {
    throw new ChainError({ code: "INVALID_SIGNATURE", reason: "recovery failed" });
  }
}
