// Snapshot errors: every refusal of a manifest or chunk names the rule it broke. A refused chunk changes nothing
// (verification runs before any write), so these are always safe to retry from another source.
import { RustChainError } from "../errors.ts";

export type SnapshotErrorType =
  | { code: "SNAPSHOT_MANIFEST_INVALID"; reason: string }
  | { code: "SNAPSHOT_WRONG_CHAIN"; reason: string }
  | { code: "SNAPSHOT_CHUNK_HASH_MISMATCH"; index: number; expected: string; got: string }
  | { code: "SNAPSHOT_CHUNK_MALFORMED"; index: number; reason: string }
  | { code: "SNAPSHOT_CHUNK_PROOF_INVALID"; index: number; reason: string }
  | { code: "SNAPSHOT_CHUNK_MISMATCH"; index: number; reason: string }
  | { code: "SNAPSHOT_INCOMPLETE"; reason: string }
  | { code: "SNAPSHOT_CERTIFICATE_INVALID"; index: number; reason: string }
  | { code: "SNAPSHOT_NOT_FOUND"; location: string };

export class SnapshotError extends RustChainError<SnapshotErrorType> {}
