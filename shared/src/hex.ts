// Hex and integer conversions used across the chain. Hex strings are 0x-prefixed and lowercase.
import { ChainError } from "./errors.ts";

export type Hex = `0x${string}`;

export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

export function hexToBytes(hex: string): Uint8Array {
  const bytes = decodeHexData(hex);
  if (!bytes) throw new ChainError({ code: "INVALID_HEX", value: hex.slice(0, 20) });
  return bytes;
}

/**
 * "0x" and whole bytes of hex digits (either case) to bytes in their own buffer; undefined for anything else. One
 * pass: Buffer's hex decoder stops at the first pair that is not two hex digits, so a short write means bad input.
 */
export function decodeHexData(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !hex.startsWith("0x")) return undefined;
  const out = new Uint8Array((hex.length - 2) / 2);
  const written = Buffer.from(out.buffer).write(hex.slice(2), "hex");
  return written === out.length ? out : undefined;
}

/** Quantity encoding of execution-apis: no leading zeros, 0x0 for zero. */
export function toQuantity(n: bigint | number): Hex {
  return `0x${n.toString(16)}`;
}

export function bigintToBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new ChainError({ code: "NEGATIVE_INTEGER" });
  if (n === 0n) return new Uint8Array(0);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return new Uint8Array(Buffer.from(hex, "hex"));
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
  return new Uint8Array(Buffer.concat(parts));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
