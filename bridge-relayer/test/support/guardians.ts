// Test guardian sets and VAAs for the gateway tests, built with the shared codec (shared/src/bridge).

import { encodeVaaBody, signVaa, type VaaBody, vaaDigest } from "@rustchain/shared/bridge/vaa";
import { keccak256 } from "@rustchain/shared/hash";
import { privateKeyToAddress } from "@rustchain/shared/secp256k1";
import { bytesToHex, type Hex } from "viem";

export interface Guardian {
  index: number;
  privateKey: Uint8Array;
  address: Hex;
}

/** `n` deterministic guardian keys named after `label` (a different label gives a different set). */
export function guardianSet(label: string, n: number): Guardian[] {
  return Array.from({ length: n }, (_, index) => {
    const privateKey = keccak256(new TextEncoder().encode(`rustchain bridge test guardian ${label} ${index}`));
    return { index, privateKey, address: bytesToHex(privateKeyToAddress(privateKey)) };
  });
}

export interface Emitter {
  chain: number;
  /** 32 bytes */
  address: Uint8Array;
}

export interface SignedVaa {
  vaa: Hex;
  body: Hex;
  digest: Hex;
  sequence: bigint;
}

export interface VaaOptions {
  sequence?: bigint;
  nonce?: number;
  timestamp?: number;
  guardianSetIndex?: number;
  /** Who signs; default every guardian of `set`. */
  signers?: Guardian[];
}

let autoSequence = 1000n;

/** A VAA from `emitter` carrying `payload`, signed by `set` (or `opts.signers`). */
export function makeVaa(emitter: Emitter, payload: Uint8Array, set: Guardian[], opts: VaaOptions = {}): SignedVaa {
  const sequence = opts.sequence ?? autoSequence++;
  const body: VaaBody = {
    timestamp: opts.timestamp ?? 1_760_000_000,
    nonce: opts.nonce ?? 0,
    emitterChain: emitter.chain,
    emitterAddress: emitter.address,
    sequence,
    consistencyLevel: 1,
    payload,
  };
  const signers = opts.signers ?? set;
  const vaa = signVaa(body, opts.guardianSetIndex ?? 0, signers);
  const encodedBody = encodeVaaBody(body);
  return { vaa: bytesToHex(vaa), body: bytesToHex(encodedBody), digest: bytesToHex(vaaDigest(encodedBody)), sequence };
}
