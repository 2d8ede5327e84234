import { RustChainError } from "@rustchain/shared/errors";

/** What the core sent that the edge refuses to pass on (the edge trusts none of its bytes). */
export type GatewayErrorType =
  /** Not a CARv1 with exactly the header for the requested root, or a section that does not parse. */
  | { code: "GATEWAY_CAR_MALFORMED"; reason: string }
  /** The first block is not the requested root. */
  | { code: "GATEWAY_WRONG_ROOT"; cid: string }
  /** Bytes that do not hash to the CID they came with. */
  | { code: "GATEWAY_HASH_MISMATCH"; cid: string }
  /** A block no earlier block links to, a repeat (the CAR is dups=n), or any block after the root for dag-scope=block. */
  | { code: "GATEWAY_UNEXPECTED_BLOCK"; cid: string }
  /** A CID with a codec or hash we do not verify. */
  | { code: "GATEWAY_UNSUPPORTED_CID"; cid: string }
  /** A block (or a raw answer) over the block size limit. */
  | { code: "GATEWAY_BLOCK_TOO_LARGE"; limit: number }
  /** More blocks (received or linked) than the DAG limit. */
  | { code: "GATEWAY_DAG_TOO_LARGE"; limit: number }
  /** The CAR ended with linked blocks missing, or mid-section. */
  | { code: "GATEWAY_CAR_INCOMPLETE"; missing: number };

export class GatewayError extends RustChainError<GatewayErrorType> {}
