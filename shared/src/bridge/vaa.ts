// Wormhole VAA v1 (docs/bridge.md, "The envelope"): the header with the guardian signatures, the body, its digest,
// signing and verification against a guardian set. Every bridge message (transfers, refunds, governance) travels in
// one; the same code verifies the RustChain committee's VAAs and Wormhole guardians' VAAs.
//
// Bounds: at most 255 signatures (the count is a u8), a payload of at most MAX_VAA_PAYLOAD bytes; anything longer,
// shorter or trailing is VAA_MALFORMED before any signature is looked at.
import { keccak256 } from "../hash.ts";
import { bigintToBytes32, bytesToBigint, concatBytes, equalBytes } from "../hex.ts";
import { recoverAddress, signHash } from "../secp256k1.ts";
import { BridgeError } from "./errors.ts";
import { decodeWith, encodeWith, vaaBodyLayout, vaaHeaderLayout } from "./layouts.ts";

/** Wormhole chain ids the bridge uses (docs/bridge.md, "Chain ids"). RustChain's is ours: 0x5253, "RS". */
export const WORMHOLE_CHAIN = { solana: 1, ethereum: 2, sepolia: 10002, rustchain: 21075 } as const;

/** consistencyLevel of every committee message: signed only once final on the source chain. */
export const CONSISTENCY_FINALIZED = 1;
export const MAX_VAA_PAYLOAD = 64 * 1024;
const BODY_FIXED = 51;
const SIGNATURE_BYTES = 66;
export const MAX_VAA_BYTES = 6 + 255 * SIGNATURE_BYTES + BODY_FIXED + MAX_VAA_PAYLOAD;

export interface VaaBody {
  timestamp: number;
  nonce: number;
  emitterChain: number;
  /** The emitter's address left-padded to 32 bytes. */
  emitterAddress: Uint8Array;
  sequence: bigint;
  consistencyLevel: number;
  payload: Uint8Array;
}

export interface VaaSignature {
  guardianIndex: number;
  /** r ‖ s ‖ v, v the recovery id (0 or 1). */
  signature: Uint8Array;
}

export interface Vaa extends VaaBody {
  guardianSetIndex: number;
  signatures: VaaSignature[];
  /** The encoded body, as signed. */
  body: Uint8Array;
  /** keccak256(keccak256(body)). */
  digest: Uint8Array;
}

export interface GuardianSet {
  index: number;
  /** 20-byte addresses, by guardian index. */
  keys: Uint8Array[];
  /** Unix seconds after which the set no longer verifies; undefined: current set, never expires. */
  expiresAt?: number;
}

/** Signatures needed from a set of n guardians: more than two thirds, as Wormhole. */
export function quorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

export function encodeVaaBody(b: VaaBody): Uint8Array {
  if (b.payload.length > MAX_VAA_PAYLOAD)
    throw new BridgeError({ code: "VAA_MALFORMED", reason: `payload of ${b.payload.length} bytes` });
  const fixed = encodeWith(
    vaaBodyLayout,
    {
      timestamp: b.timestamp,
      nonce: b.nonce,
      emitterChain: b.emitterChain,
      emitterAddress: b.emitterAddress,
      sequence: b.sequence,
      consistencyLevel: b.consistencyLevel,
    },
    "VAA body",
  );
  return concatBytes(fixed, b.payload);
}

export function decodeVaaBody(body: Uint8Array): VaaBody {
  if (body.length < BODY_FIXED || body.length > BODY_FIXED + MAX_VAA_PAYLOAD)
    throw new BridgeError({ code: "VAA_MALFORMED", reason: `body of ${body.length} bytes` });
  const fixed = decodeWith<Omit<VaaBody, "payload">>(vaaBodyLayout, body.subarray(0, BODY_FIXED), "VAA body");
  return { ...fixed, payload: body.slice(BODY_FIXED) };
}

export function vaaDigest(body: Uint8Array): Uint8Array {
  return keccak256(keccak256(body));
}

export function encodeVaa(v: { guardianSetIndex: number; signatures: VaaSignature[]; body: Uint8Array }): Uint8Array {
  const header = encodeWith(
    vaaHeaderLayout,
    {
      guardianSet: v.guardianSetIndex,
      signatures: v.signatures.map((s) => {
        if (s.signature.length !== 65)
          throw new BridgeError({ code: "VAA_MALFORMED", reason: "a signature is 65 bytes" });
        return {
          guardianIndex: s.guardianIndex,
          signature: {
            r: bytesToBigint(s.signature.subarray(0, 32)),
            s: bytesToBigint(s.signature.subarray(32, 64)),
            v: s.signature[64],
          },
        };
      }),
    },
    "VAA header",
  );
  return concatBytes(header, v.body);
}

export function decodeVaa(bytes: Uint8Array): Vaa {
  if (bytes.length > MAX_VAA_BYTES)
    throw new BridgeError({ code: "VAA_MALFORMED", reason: `${bytes.length} bytes, at most ${MAX_VAA_BYTES}` });
  if (bytes.length < 6 + BODY_FIXED) throw new BridgeError({ code: "VAA_MALFORMED", reason: "too short" });
  if (bytes[0] !== 1) throw new BridgeError({ code: "VAA_VERSION", reason: `version ${bytes[0]}, expected 1` });
  const headerLength = 6 + SIGNATURE_BYTES * (bytes[5] as number);
  if (bytes.length < headerLength + BODY_FIXED) throw new BridgeError({ code: "VAA_MALFORMED", reason: "too short" });
  const header = decodeWith<{
    guardianSet: number;
    signatures: { guardianIndex: number; signature: { r: bigint; s: bigint; v: number } }[];
  }>(vaaHeaderLayout, bytes.subarray(0, headerLength), "VAA header");
  const body = bytes.slice(headerLength);
  return {
    ...decodeVaaBody(body),
    guardianSetIndex: header.guardianSet,
    signatures: header.signatures.map(({ guardianIndex, signature: { r, s, v } }) => ({
      guardianIndex,
      signature: concatBytes(bigintToBytes32(r), bigintToBytes32(s), Uint8Array.of(v)),
    })),
    body,
    digest: vaaDigest(body),
  };
}

/** One guardian's signature over a digest: r ‖ s ‖ recovery id. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const { r, s, yParity } = signHash(digest, privateKey);
  return concatBytes(bigintToBytes32(r), bigintToBytes32(s), Uint8Array.of(yParity));
}

/** The signer of a guardian signature, or undefined for one that does not recover (bad v, r, s or high s). */
export function recoverSigner(digest: Uint8Array, signature: Uint8Array): Uint8Array | undefined {
  if (signature.length !== 65 || (signature[64] !== 0 && signature[64] !== 1)) return undefined;
  try {
    return recoverAddress(digest, {
      r: bytesToBigint(signature.subarray(0, 32)),
      s: bytesToBigint(signature.subarray(32, 64)),
      yParity: signature[64] as 0 | 1,
    });
  } catch {
    return undefined;
  }
}

/** A full VAA over `body` signed by `keys` (sorted by index here). Tests, governance and the validators use it. */
export function signVaa(
  body: VaaBody,
  guardianSetIndex: number,
  keys: { index: number; privateKey: Uint8Array }[],
): Uint8Array {
  const encoded = encodeVaaBody(body);
  const digest = vaaDigest(encoded);
  const signatures = [...keys]
    .sort((a, b) => a.index - b.index)
    .map((k) => ({ guardianIndex: k.index, signature: signDigest(digest, k.privateKey) }));
  return encodeVaa({ guardianSetIndex, signatures, body: encoded });
}

/**
 * The checks a gateway makes before it looks at the payload: the set is the VAA's and has not expired at `now`
 * (unix seconds), indices strictly ascend within the set, every signature recovers to its guardian, and there are
 * at least quorum(n) of them. Throws BridgeError naming the first broken rule.
 */
export function verifyVaa(vaa: Vaa, set: GuardianSet, now: number): void {
  if (vaa.guardianSetIndex !== set.index)
    throw new BridgeError({
      code: "VAA_UNKNOWN_GUARDIAN_SET",
      reason: `signed by set ${vaa.guardianSetIndex}, verifying against ${set.index}`,
    });
  if (set.expiresAt !== undefined && now > set.expiresAt)
    throw new BridgeError({ code: "VAA_GUARDIAN_SET_EXPIRED", reason: `set ${set.index} expired at ${set.expiresAt}` });
  const need = quorum(set.keys.length);
  if (vaa.signatures.length < need)
    throw new BridgeError({ code: "VAA_QUORUM", reason: `${vaa.signatures.length} signatures, ${need} needed` });
  let last = -1;
  for (const { guardianIndex, signature } of vaa.signatures) {
    if (guardianIndex <= last || guardianIndex >= set.keys.length)
      throw new BridgeError({ code: "VAA_SIGNATURE_ORDER", reason: `guardian index ${guardianIndex} after ${last}` });
    last = guardianIndex;
    const signer = recoverSigner(vaa.digest, signature);
    const key = set.keys[guardianIndex] as Uint8Array;
    if (!signer || !equalBytes(signer, key))
      throw new BridgeError({
        code: "VAA_BAD_SIGNATURE",
        reason: `signature of guardian ${guardianIndex} does not recover to its key`,
      });
  }
}

/** A 20-byte address as a Wormhole 32-byte address (left-padded), and back (the upper 12 bytes must be zero). */
export function toUniversalAddress(address: Uint8Array): Uint8Array {
  if (address.length === 32) return address;
  const out = new Uint8Array(32);
  out.set(address, 32 - address.length);
  return out;
}

export function fromUniversalAddress(address: Uint8Array): Uint8Array {
  if (address.length !== 32 || address.subarray(0, 12).some((b) => b !== 0))
    throw new BridgeError({ code: "VAA_PAYLOAD", reason: "not a 20-byte address" });
  return address.slice(12);
}
