// RLP with a size limit and typed errors. Decoding is @ethereumjs/rlp (strict about canonical forms); this wrapper
// bounds the input and turns its exceptions into ChainError so malformed peer or user input never surfaces as a
// generic exception. Encoding is done here, in two passes into one buffer: @ethereumjs/rlp allocates and copies at
// every level (and formats lengths through hex strings), which made encoding a tenth of the node's main thread at
// 10,000 transactions a block (docs/performance.md). Output is byte-identical (property-tested against it).
import { RLP } from "@ethereumjs/rlp";
import { ChainError } from "./errors.ts";
import { bytesToBigint } from "./hex.ts";

export type RlpInput = Uint8Array | bigint | number | null | RlpInput[];
export type RlpDecoded = Uint8Array | RlpDecoded[];

export const DEFAULT_RLP_LIMIT = 16 * 1024 * 1024;

export function rlpEncode(input: RlpInput): Uint8Array {
  const out = new Uint8Array(encodedSize(input));
  writeItem(out, 0, input);
  return out;
}

/** Bytes of a non-negative integer's minimal big-endian form (0 for zero). */
function uintByteLength(n: bigint): number {
  if (n < 0n) throw new ChainError({ code: "NEGATIVE_INTEGER" });
  let len = 0;
  for (let v = n; v > 0n; v >>= 8n) len++;
  return len;
}

const toBigint = (x: bigint | number): bigint => (typeof x === "bigint" ? x : BigInt(x));

function encodedSize(x: RlpInput): number {
  if (x === null) return 1;
  if (x instanceof Uint8Array) return rlpStringSize(x);
  if (Array.isArray(x)) {
    const payload = listPayloadSize(x);
    return rlpHeaderSize(payload) + payload;
  }
  const n = toBigint(x);
  if (n < 0x80n) {
    if (n < 0n) throw new ChainError({ code: "NEGATIVE_INTEGER" });
    return 1;
  }
  return 1 + uintByteLength(n);
}

function listPayloadSize(items: RlpInput[]): number {
  let size = 0;
  for (const item of items) size += encodedSize(item);
  return size;
}

function writeItem(out: Uint8Array, pos: number, x: RlpInput): number {
  if (x === null) {
    out[pos] = 0x80;
    return pos + 1;
  }
  if (x instanceof Uint8Array) return writeRlpString(out, pos, x);
  if (Array.isArray(x)) {
    let p = writeRlpHeader(out, pos, listPayloadSize(x), 0xc0);
    for (const item of x) p = writeItem(out, p, item);
    return p;
  }
  const n = toBigint(x);
  if (n === 0n) {
    out[pos] = 0x80;
    return pos + 1;
  }
  if (n < 0x80n) {
    out[pos] = Number(n);
    return pos + 1;
  }
  const len = uintByteLength(n);
  out[pos] = 0x80 + len;
  let v = n;
  for (let i = len; i > 0; i--, v >>= 8n) out[pos + i] = Number(v & 0xffn);
  return pos + 1 + len;
}

/** Bytes the RLP string encoding of `b` takes. */
export function rlpStringSize(b: Uint8Array): number {
  if (b.length === 1 && (b[0] as number) < 0x80) return 1;
  return rlpHeaderSize(b.length) + b.length;
}

/** Bytes of an RLP string or list header for a payload of `length` bytes. */
export function rlpHeaderSize(length: number): number {
  if (length < 56) return 1;
  let n = 1;
  for (let l = length; l > 0; l = Math.floor(l / 256)) n++;
  return n;
}

/** Write an RLP string (offset 0x80) or list (0xc0) header for a payload of `length` bytes; returns the new offset. */
export function writeRlpHeader(out: Uint8Array, pos: number, length: number, offset: number): number {
  if (length < 56) {
    out[pos] = offset + length;
    return pos + 1;
  }
  const size = rlpHeaderSize(length) - 1;
  out[pos] = offset + 55 + size;
  for (let i = size, l = length; i > 0; i--, l = Math.floor(l / 256)) out[pos + i] = l % 256;
  return pos + 1 + size;
}

/** Write `b` as an RLP string; returns the new offset. */
export function writeRlpString(out: Uint8Array, pos: number, b: Uint8Array): number {
  if (b.length === 1 && (b[0] as number) < 0x80) {
    out[pos] = b[0] as number;
    return pos + 1;
  }
  const p = writeRlpHeader(out, pos, b.length, 0x80);
  out.set(b, p);
  return p + b.length;
}

/** Decode exactly one RLP item filling the whole input; throws ChainError on anything else. */
export function rlpDecode(data: Uint8Array, limit = DEFAULT_RLP_LIMIT): RlpDecoded {
  if (data.length > limit) throw new ChainError({ code: "RLP_TOO_LARGE", size: data.length, limit });
  try {
    return RLP.decode(data) as RlpDecoded;
  } catch (e) {
    throw new ChainError({ code: "RLP_INVALID", reason: (e as Error).message.slice(0, 120) });
  }
}

export function rlpList(item: RlpDecoded | undefined, what: string, length?: number): RlpDecoded[] {
  if (!Array.isArray(item)) throw new ChainError({ code: "RLP_INVALID", reason: `${what}: expected list` });
  if (length !== undefined && item.length !== length) {
    throw new ChainError({ code: "RLP_INVALID", reason: `${what}: expected ${length} items, got ${item.length}` });
  }
  return item;
}

export function rlpBytes(item: RlpDecoded | undefined, what: string, maxLen?: number): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new ChainError({ code: "RLP_INVALID", reason: `${what}: expected bytes` });
  if (maxLen !== undefined && item.length > maxLen) {
    throw new ChainError({ code: "RLP_INVALID", reason: `${what}: longer than ${maxLen} bytes` });
  }
  return item;
}

/** A canonical RLP integer: at most `maxBytes` bytes, no leading zero byte. */
export function rlpUint(item: RlpDecoded | undefined, what: string, maxBytes = 32): bigint {
  const b = rlpBytes(item, what, maxBytes);
  if (b.length > 0 && b[0] === 0) throw new ChainError({ code: "RLP_INVALID", reason: `${what}: leading zero` });
  return bytesToBigint(b);
}
