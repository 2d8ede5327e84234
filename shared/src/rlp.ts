// RLP with a size limit and typed errors. The codec itself is @ethereumjs/rlp; this wrapper bounds the input and turns
// its exceptions into ChainError so malformed peer or user input never surfaces as a generic exception.
import { type Input, RLP } from "@ethereumjs/rlp";
import { ChainError } from "./errors.ts";
import { bigintToBytes, bytesToBigint } from "./hex.ts";

export type RlpInput = Uint8Array | bigint | number | null | RlpInput[];
export type RlpDecoded = Uint8Array | RlpDecoded[];

export const DEFAULT_RLP_LIMIT = 16 * 1024 * 1024;

export function rlpEncode(input: RlpInput): Uint8Array {
  return RLP.encode(normalize(input));
}

function normalize(x: RlpInput): Input {
  if (x === null) return new Uint8Array(0);
  if (typeof x === "bigint") return bigintToBytes(x);
  if (typeof x === "number") return bigintToBytes(BigInt(x));
  if (Array.isArray(x)) return x.map(normalize);
  return x;
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
