// What the model tools refuse: a model or CAR they cannot address or archive, and an archive service's answer that
// does not match what was computed locally.
import { RustChainError } from "@rustchain/shared";

export type ModelErrorType =
  /** A model must have at least one byte (an empty file has a CID, but it is no model). */
  | { code: "MODEL_EMPTY" }
  | { code: "MODEL_TOO_LARGE"; size: number; limit: number }
  /** Filecoin pieces need at least 65 payload bytes (go-fil-commp-hashhash MinPiecePayload). */
  | { code: "PIECE_PAYLOAD_TOO_SMALL"; size: number; min: number }
  | { code: "PIECE_PAYLOAD_TOO_LARGE"; size: number; limit: number }
  /** A string that is not a CID of the expected kind (a model CID, a v2 piece CID). */
  | { code: "MODEL_CID_INVALID"; value: string; reason: string }
  /** Bytes offered as the model `expected` names hash to another CID (`got`; "none" when they have no model CID). */
  | { code: "MODEL_CID_MISMATCH"; expected: string; got: string }
  /** The archive service reports a piece CID other than the one computed here: it stored other bytes. */
  | { code: "ARCHIVE_PIECE_MISMATCH"; expected: string; got: string }
  /** The archive service failed or is misconfigured; `reason` is the service's own message. */
  | { code: "ARCHIVE_FAILED"; service: string; reason: string };

export class ModelError extends RustChainError<ModelErrorType> {}
