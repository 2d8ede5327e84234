// Hex and integer conversions used across the chain. Hex strings are 0x-prefixed and lowercase.
//
// Plain Uint8Array code, so it runs on Node and inside Workers alike (no Buffer). Where the runtime has the native
// Uint8Array.prototype.toHex / Uint8Array.fromHex (TC39 "Uint8Array to/from base64 and hex"; workerd, Node >= 25) they
// are used; otherwise the JavaScript below, tuned for the node's hot path (hashes, addresses and raw transactions of
// 20-200 bytes at 10k tx/s) and measured against Buffer by bench/hex.ts.
import { ChainError } from "./errors.ts";

export type Hex = `0x${string}`;

interface NativeHex {
  toHex?: () => string;
}
interface NativeFromHex {
  fromHex?: (hex: string) => Uint8Array;
}
const NATIVE_HEX =
  typeof (Uint8Array.prototype as NativeHex).toHex === "function" &&
  typeof (Uint8Array as NativeFromHex).fromHex === "function";
const nativeFromHex = (Uint8Array as NativeFromHex).fromHex as (hex: string) => Uint8Array;

/** "00".."ff": concatenating these is the fastest encoder for short inputs. */
const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Byte b's two lower-case ASCII hex digits as one 16-bit word in memory order (the encoder of longer inputs). */
const HEX_WORDS = new Uint16Array(256);
/**
 * Two ASCII characters read as one 16-bit word in memory order, to the byte they spell or -1 (the decoder); 128 KiB,
 * left empty where the runtime decodes hex natively.
 */
const HEX_PAIR_VALUES = new Int16Array(NATIVE_HEX ? 0 : 65536).fill(-1);
const asWord = (() => {
  const pair = new Uint8Array(2);
  const word = new Uint16Array(pair.buffer);
  return (first: number, second: number): number => {
    pair[0] = first;
    pair[1] = second;
    return word[0] as number;
  };
})();
const HEX_PREFIX_WORD = asWord(0x30, 0x78);
{
  const lower = "0123456789abcdef";
  const upper = "0123456789ABCDEF";
  for (let b = 0; b < 256; b++) {
    HEX_WORDS[b] = asWord(lower.charCodeAt(b >> 4), lower.charCodeAt(b & 15));
    if (NATIVE_HEX) continue;
    for (const hi of [lower, upper])
      for (const lo of [lower, upper]) HEX_PAIR_VALUES[asWord(hi.charCodeAt(b >> 4), lo.charCodeAt(b & 15))] = b;
  }
}

/**
 * Up to this many bytes bytesToHex concatenates strings; above it, it writes ASCII and decodes it in one call.
 * Concatenation builds a rope (a V8 ConsString) once the result reaches 13 characters, and every later use as a key or
 * in a comparison flattens it again: with the result used as a Map key, the decoder is ~1.7x concatenation and about
 * Buffer's speed at 20-48 bytes (bench/hex.ts).
 */
const SHORT_HEX_BYTES = 5;
/** Scratch space kept between calls, as bytes and as 16-bit words (larger inputs get a buffer of their own). */
const SCRATCH_LIMIT_BYTES = 1 << 17;
let scratchBytes = new Uint8Array(512);
let scratchWords = new Uint16Array(scratchBytes.buffer);
const asciiDecoder = new TextDecoder();
const asciiEncoder = new TextEncoder();

/** Scratch space of at least `size` bytes (an even number). */
function scratchFor(size: number): Uint8Array {
  if (size <= scratchBytes.length) return scratchBytes;
  const grown = new Uint8Array(Math.max(size, 2 * scratchBytes.length));
  if (grown.length <= SCRATCH_LIMIT_BYTES) {
    scratchBytes = grown;
    scratchWords = new Uint16Array(grown.buffer);
  }
  return grown;
}

const wordsOf = (bytes: Uint8Array): Uint16Array =>
  bytes === scratchBytes ? scratchWords : new Uint16Array(bytes.buffer, 0, bytes.length >> 1);

export function bytesToHex(bytes: Uint8Array): Hex {
  if (NATIVE_HEX) return `0x${(bytes as NativeHex as Required<NativeHex>).toHex()}`;
  const n = bytes.length;
  if (n <= SHORT_HEX_BYTES) {
    let hex = "0x";
    for (let i = 0; i < n; i++) hex += HEX_PAIRS[bytes[i] as number];
    return hex as Hex;
  }
  const ascii = scratchFor(2 * (n + 1));
  const words = wordsOf(ascii);
  words[0] = HEX_PREFIX_WORD;
  for (let i = 0; i < n; i++) words[i + 1] = HEX_WORDS[bytes[i] as number] as number;
  // ASCII only, so UTF-8 decoding is a straight copy into a one-byte string.
  return asciiDecoder.decode(ascii.subarray(0, 2 * (n + 1))) as Hex;
}

export function hexToBytes(hex: string): Uint8Array {
  const bytes = decodeHexData(hex);
  if (!bytes) throw new ChainError({ code: "INVALID_HEX", value: hex.slice(0, 20) });
  return bytes;
}

/**
 * "0x" and whole bytes of hex digits (either case) to bytes in their own buffer; undefined for anything else (odd
 * length, no or an upper-case prefix, any other character).
 */
export function decodeHexData(hex: string): Uint8Array | undefined {
  const n = hex.length;
  if (n % 2 !== 0 || hex.charCodeAt(0) !== 0x30 || hex.charCodeAt(1) !== 0x78) return undefined;
  if (NATIVE_HEX) {
    try {
      return nativeFromHex(hex.slice(2));
    } catch {
      return undefined;
    }
  }
  // Encode the text as ASCII into scratch space (one native call), then read it two characters at a time: any
  // non-ASCII character makes the UTF-8 longer than the text, and any other pair maps to -1.
  const ascii = scratchFor(n);
  const { read, written } = asciiEncoder.encodeInto(hex, ascii);
  if (read !== n || written !== n) return undefined;
  const words = wordsOf(ascii);
  const out = new Uint8Array((n - 2) >> 1);
  for (let i = 0; i < out.length; i++) {
    const b = HEX_PAIR_VALUES[words[i + 1] as number] as number;
    if (b < 0) return undefined;
    out[i] = b;
  }
  return out;
}

/** Quantity encoding of execution-apis: no leading zeros, 0x0 for zero. */
export function toQuantity(n: bigint | number): Hex {
  return `0x${n.toString(16)}`;
}

export function bigintToBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new ChainError({ code: "NEGATIVE_INTEGER" });
  if (n === 0n) return new Uint8Array(0);
  const hex = n.toString(16);
  return decodeHexData(hex.length % 2 ? `0x0${hex}` : `0x${hex}`) as Uint8Array;
}

export function bigintToBytes32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const b = bigintToBytes(n);
  if (b.length > 32) throw new ChainError({ code: "INTEGER_OVERFLOW" });
  out.set(b, 32 - b.length);
  return out;
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(bytesToHex(bytes));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// A plain loop beats Buffer.compare (a call into C++) for the 20- and 32-byte keys and hashes these mostly see.
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let i = 0;
  // Longer inputs (encodings checked for canonical form, chunks) four bytes at a time when both are 4-byte aligned,
  // as fresh arrays are: ~4x the byte loop at 1 KiB.
  if (n >= 64 && ((a.byteOffset | b.byteOffset) & 3) === 0) {
    const words = n >> 2;
    const x = new Int32Array(a.buffer, a.byteOffset, words);
    const y = new Int32Array(b.buffer, b.byteOffset, words);
    for (let w = 0; w < words; w++) if (x[w] !== y[w]) return false;
    i = words << 2;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic order, shorter first on a common prefix: -1, 0 or 1 (as Buffer.compare). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
