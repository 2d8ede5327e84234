// Hash functions. BLAKE3 for everything the chain commits to; keccak256 only where Ethereum compatibility needs it.
// hash-wasm is ~18x faster than pure-JS BLAKE3 here (980 vs 53 MiB/s), so it is the hot-path implementation. Its
// hashers are created once (async WebAssembly instantiation) and then used synchronously.
import { createBLAKE3, createKeccak, type IHasher } from "hash-wasm";

const blake3Hasher: IHasher = await createBLAKE3(256);
const keccakHasher: IHasher = await createKeccak(256);

export function blake3(data: Uint8Array): Uint8Array {
  return blake3Hasher.init().update(data).digest("binary");
}

export function keccak256(data: Uint8Array): Uint8Array {
  return keccakHasher.init().update(data).digest("binary");
}

/** keccak256 of the empty string: Ethereum's empty code hash, used for the logs bloom and selectors only. */
export const KECCAK_EMPTY = keccak256(new Uint8Array(0));
/** BLAKE3 of the empty string: the code hash of an account without code. */
export const BLAKE3_EMPTY = blake3(new Uint8Array(0));
