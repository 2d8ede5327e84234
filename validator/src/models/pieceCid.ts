// Filecoin's piece commitment (CommP) of a payload, computed here, and its piece CIDs.
//
//   1. The payload is zero-padded to a whole number of 127-byte quads, and each quad is Fr32-padded to 128 bytes: its
//      1016 bits are laid out as four 254-bit words, each stored in 32 bytes (little-endian bit order) with the top
//      two bits zero, so every 32-byte node is a BLS12-381 field element.
//   2. The 32-byte words are the leaves of a binary Merkle tree whose width is the padded piece size / 32, a power of
//      two, at least 4 (a 128-byte piece). Leaves past the payload are zero; a subtree of zeros has a fixed root
//      (z0 = 32 zero bytes, z(k+1) = H(zk ‖ zk)), so only the payload's subtrees are hashed.
//   3. H(a ‖ b) = sha256(a ‖ b) with the two top bits of the last byte cleared (sha2-256-trunc254-padded).
// The root is CommP. Piece CIDs:
//   - v2 (FRC-0069, what Filecoin Onchain Cloud and data-segment use): CIDv1, codec raw (0x55), multihash
//     fr32-sha256-trunc254-padbintree (0x1011) over uvarint(padding) ‖ u8 height ‖ root, where height = log2(leaves)
//     and padding = unpadded piece size − payload size;
//   - v1 (lotus, go-fil-commp-hashhash): CIDv1, codec fil-commitment-unsealed (0xf101), multihash
//     sha2-256-trunc254-padded (0x1012) over the root; it does not carry the size.
// The rules follow go-fil-commp-hashhash; the tests check this code against data-segment and against lotus vectors.

import { createHash } from "node:crypto";
import { CODEC_RAW } from "@rustchain/shared/content/trustlessGateway";
import { varint } from "multiformats";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { ModelError } from "./errors.ts";

/** go-fil-commp-hashhash MinPiecePayload: below this a piece is not accepted by Filecoin tooling. */
export const PIECE_MIN_PAYLOAD = 65;
/** The payload capacity of a 1 GiB piece: the largest single piece Filecoin Onchain Cloud (PDP) takes. */
export const PIECE_MAX_PAYLOAD = ((1024 * 1024 * 1024) / 128) * 127;

const FR32_SHA256_TRUNC254_PADBINTREE = 0x1011;
const SHA2_256_TRUNC254_PADDED = 0x1012;
const FIL_COMMITMENT_UNSEALED = 0xf101;

export interface PieceCommitment {
  /** CommP, 32 bytes. */
  root: Uint8Array;
  /** log2 of the number of 32-byte leaves. */
  height: number;
  /** The padded piece size (a power of two, >= 128): what a deal's PieceSize is. */
  paddedSize: number;
  /** Zero bytes added to the payload to fill the unpadded piece (paddedSize / 128 × 127). */
  padding: number;
  payloadSize: number;
}

function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  const out = new Uint8Array(createHash("sha256").update(left).update(right).digest());
  out[31] = (out[31] as number) & 0x3f;
  return out;
}

/** Fr32-pads one 127-byte quad into 128 bytes at `out[o..o+128)`. */
function fr32Quad(input: Uint8Array, i: number, out: Uint8Array, o: number): void {
  // word 0: input bits 0..253
  for (let k = 0; k < 32; k++) out[o + k] = input[i + k] as number;
  out[o + 31] = (out[o + 31] as number) & 0x3f;
  // word 1: input bits 254..507 (starts at bit 6 of byte 31)
  for (let k = 0; k < 32; k++) {
    out[o + 32 + k] = ((input[i + 31 + k] as number) >> 6) | (((input[i + 32 + k] as number) << 2) & 0xff);
  }
  out[o + 63] = (out[o + 63] as number) & 0x3f;
  // word 2: input bits 508..761 (starts at bit 4 of byte 63)
  for (let k = 0; k < 32; k++) {
    out[o + 64 + k] = ((input[i + 63 + k] as number) >> 4) | (((input[i + 64 + k] as number) << 4) & 0xff);
  }
  out[o + 95] = (out[o + 95] as number) & 0x3f;
  // word 3: input bits 762..1015 (starts at bit 2 of byte 95)
  for (let k = 0; k < 31; k++) {
    out[o + 96 + k] = ((input[i + 95 + k] as number) >> 2) | (((input[i + 96 + k] as number) << 6) & 0xff);
  }
  out[o + 127] = (input[i + 126] as number) >> 2;
}

/** CommP of `payload` with its sizes. Throws `PIECE_PAYLOAD_TOO_SMALL` / `PIECE_PAYLOAD_TOO_LARGE`. */
export function pieceCommitment(payload: Uint8Array): PieceCommitment {
  if (payload.length < PIECE_MIN_PAYLOAD) {
    throw new ModelError({ code: "PIECE_PAYLOAD_TOO_SMALL", size: payload.length, min: PIECE_MIN_PAYLOAD });
  }
  if (payload.length > PIECE_MAX_PAYLOAD) {
    throw new ModelError({ code: "PIECE_PAYLOAD_TOO_LARGE", size: payload.length, limit: PIECE_MAX_PAYLOAD });
  }
  const quads = Math.ceil(payload.length / 127);
  let paddedSize = 128;
  while (paddedSize < quads * 128) paddedSize *= 2;
  const height = Math.log2(paddedSize / 32);

  const input = new Uint8Array(quads * 127);
  input.set(payload);
  const padded = new Uint8Array(quads * 128);
  for (let q = 0; q < quads; q++) fr32Quad(input, q * 127, padded, q * 128);

  // One buffer per level; an odd node at the end of a level pairs with the zero subtree of that level.
  let level = padded;
  let count = quads * 4;
  let zero: Uint8Array = new Uint8Array(32);
  for (let h = 0; h < height; h++) {
    const nextCount = Math.ceil(count / 2);
    const next = new Uint8Array(nextCount * 32);
    for (let k = 0; k < nextCount; k++) {
      const left = level.subarray(64 * k, 64 * k + 32);
      const right = 2 * k + 1 < count ? level.subarray(64 * k + 32, 64 * k + 64) : zero;
      next.set(hashPair(left, right), 32 * k);
    }
    level = next;
    count = nextCount;
    zero = hashPair(zero, zero);
  }
  return {
    root: level.slice(0, 32),
    height,
    paddedSize,
    padding: (paddedSize / 128) * 127 - payload.length,
    payloadSize: payload.length,
  };
}

/** The v2 piece CID (FRC-0069): `bafkzcib…`. */
export function pieceCidV2(commitment: PieceCommitment): CID {
  const prefixLength = varint.encodingLength(commitment.padding);
  const digest = new Uint8Array(prefixLength + 1 + 32);
  varint.encodeTo(commitment.padding, digest, 0);
  digest[prefixLength] = commitment.height;
  digest.set(commitment.root, prefixLength + 1);
  return CID.createV1(CODEC_RAW, Digest.create(FR32_SHA256_TRUNC254_PADBINTREE, digest));
}

/** The v1 piece CID (lotus): `baga6ea4seaq…`; carries the root only, the size travels beside it. */
export function pieceCidV1(commitment: PieceCommitment): CID {
  return CID.createV1(FIL_COMMITMENT_UNSEALED, Digest.create(SHA2_256_TRUNC254_PADDED, commitment.root));
}
