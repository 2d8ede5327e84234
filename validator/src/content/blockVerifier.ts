// The one rule every block crosses before we store, serve or return it: its bytes hash to its CID.
// Invariants: only sha2-256 and identity multihashes are accepted (the ones UnixFS importers emit; anything else
// we could not check, so it is refused, not trusted); only the UnixFS codecs dag-pb and raw; at most `maxBlockBytes`.
// The rules themselves live in shared/src/content/trustlessGateway.ts (the edge's gateway applies them too); this file
// turns their verdicts into ContentErrors.

import {
  blockMatchesCid,
  CODEC_DAG_PB,
  CODEC_RAW,
  cidSupportProblem,
  decodeCidText,
} from "@rustchain/shared/content/trustlessGateway";
import type { CID } from "multiformats/cid";
import { ContentError } from "./errors.ts";

export { CODEC_DAG_PB, CODEC_RAW };

/** Parses a CID string (CIDv1 multibase, or a CIDv0 `Qm…`), bounded; throws CONTENT_INVALID_CID. */
export function parseCid(text: string): CID {
  const decoded = decodeCidText(text);
  if ("problem" in decoded) throw new ContentError(decoded.problem);
  return decoded.cid;
}

/** CIDv1 in base32, the one spelling we print and key files by (CIDv0 is upgraded: same multihash, dag-pb). */
export function cidToString(cid: CID): string {
  return cid.toV1().toString();
}

/** Refuses a CID whose codec or hash function we do not handle, before any I/O. */
export function checkCidSupported(cid: CID): void {
  const problem = cidSupportProblem(cid);
  if (problem) throw new ContentError(problem);
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
  if (!blockMatchesCid(cid, bytes)) {
    throw new ContentError({ code: "CONTENT_HASH_MISMATCH", cid: cid.toString() });
  }
}
