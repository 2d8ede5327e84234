// Hash functions. BLAKE3 for everything the chain commits to; keccak256 only where Ethereum compatibility needs it.
// From the runtime's crypto provider (crypto.ts): hash-wasm on Node, @noble/hashes in Workers.
import { cryptoProvider } from "./crypto.ts";

export const blake3: (data: Uint8Array) => Uint8Array = cryptoProvider.blake3;

export const keccak256: (data: Uint8Array) => Uint8Array = cryptoProvider.keccak256;

/** keccak256 of the empty string: Ethereum's empty code hash, used for the logs bloom and selectors only. */
export const KECCAK_EMPTY = keccak256(new Uint8Array(0));
/** BLAKE3 of the empty string: the code hash of an account without code. */
export const BLAKE3_EMPTY = blake3(new Uint8Array(0));
