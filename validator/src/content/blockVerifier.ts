// The one rule every block crosses before we store, serve or return it: its bytes hash to its CID.
// Invariants: only sha2-256 and identity multihashes are accepted (the ones UnixFS importers emit; anything else
// we could not check, so it is refused, not trusted); only the UnixFS codecs dag-pb and raw; at most `maxBlockBytes`.

import { sha256 } from "@noble/hashes/sha2.js";
import { CID } from "multiformats/cid";
import { ContentError } from "./errors.ts";

export const CODEC_DAG_PB = 0x70;
export const CODEC_RAW = 0x55;
const HASH_SHA2_256 = 0x12;
const HASH_IDENTITY = 0x00;

/** Parses a CID string (CIDv1 multibase, or a CIDv0 `Qm…`), bounded; throws CONTENT_INVALID_CID. */
export function parseCid(text: string): CID {
  if (text.length === 0 || text.length > 256)
    throw new ContentError({ code: "CONTENT_INVALID_CID", cid: text.slice(0, 100) });
  try {
    return CID.parse(text);
  } catch {
    throw new ContentError({ code: "CONTENT_INVALID_CID", cid: text.slice(0, 100) });
  }
}

/** CIDv1 in base32, the one spelling we print and key files by (CIDv0 is upgraded: same multihash, dag-pb). */
export function cidToString(cid: CID): string {
  return cid.toV1().toString();
}

/** Refuses a CID whose codec or hash function we do not handle, before any I/O. */
export function checkCidSupported(cid: CID): void {
  if (cid.code !== CODEC_DAG_PB && cid.code !== CODEC_RAW) {
    throw new ContentError({ code: "CONTENT_UNSUPPORTED_CODEC", cid: cid.toString(), codec: cid.code });
  }
  const hashCode = cid.multihash.code;
  if (hashCode !== HASH_SHA2_256 && hashCode !== HASH_IDENTITY) {
    throw new ContentError({ code: "CONTENT_UNSUPPORTED_HASH", cid: cid.toString(), hashCode });
  }
}

/** Throws unless `bytes` is the block `cid` names (size limit, supported codec and hash, digest equality). */
export function verifyBlock(cid: CID, bytes: Uint8Array, maxBlockBytes: number): void {
  if (bytes.length > maxBlockBytes) {
    throw new ContentError({
      code: "CONTENT_BLOCK_TOO_LARGE",
      cid: cid.toString(),
      size: bytes.length,
      limit: maxBlockBytes,
    });
  }
  checkCidSupported(cid);
  const digest = cid.multihash.code === HASH_SHA2_256 ? sha256(bytes) : bytes;
  if (!equalBytes(digest, cid.multihash.digest)) {
    throw new ContentError({ code: "CONTENT_HASH_MISMATCH", cid: cid.toString() });
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
