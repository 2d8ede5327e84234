// BLS12-381 (min-pubkey-size, as Ethereum's beacon chain) through @chainsafe/blst, the binding Lodestar uses.
import { PublicKey, SecretKey, Signature, verify } from "@chainsafe/blst";
import { ChainError } from "./errors.ts";

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
