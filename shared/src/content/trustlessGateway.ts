// The trustless gateway's rules (https://specs.ipfs.tech/http-gateways/trustless-gateway/), written once for the node
// (validator/src/content/gateway.ts, which serves from its store) and the edge (edge/src/gateway/, which serves what it
// fetched from the node and verified):
// - which CIDs are served: CIDv1 or CIDv0 text of at most MAX_CID_CHARS, codec dag-pb or raw, hash sha2-256 or identity
//   (the ones UnixFS importers emit; a hash we could not check is refused, never trusted);
// - when bytes are the block a CID names (their digest equals the CID's);
// - how a request picks its answer: `?format=raw|car` or Accept `application/vnd.ipld.raw|car`, 406 for neither (a
//   trustless gateway serves nothing deserialized), 400 for a bad CID or parameter, 501 for what is not built yet;
// - the headers of an answer (immutable caching, ETag of the CID and format) and the CARv1 header for a root.
// Runtime-neutral (Workers and Node): no Buffer, no node: modules.

import { sha256 } from "@noble/hashes/sha2.js";
import { varint } from "multiformats";
import { CID } from "multiformats/cid";
import { concatBytes, equalBytes } from "../hex.ts";

export const CODEC_DAG_PB = 0x70;
export const CODEC_RAW = 0x55;
export const HASH_SHA2_256 = 0x12;
export const HASH_IDENTITY = 0x00;
/** Longest CID text accepted (a sha2-256 CIDv1 in base32 is 59 characters). */
export const MAX_CID_CHARS = 256;
/** Longest `/ipfs/…` path and query accepted (414 above). */
export const MAX_GATEWAY_PATH_CHARS = 512;

export const RAW_TYPE = "application/vnd.ipld.raw";
export const CAR_TYPE = "application/vnd.ipld.car";
/** What a CAR answer is: CARv1, blocks depth-first from the root, each block once. */
export const CAR_CONTENT_TYPE = `${CAR_TYPE}; version=1; order=dfs; dups=n`;
/** Blocks never change under their CID: a year (the spec's 29030400 s), immutable. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=29030400, immutable";

/** Why a CID is not served (the codes are the node's ContentError codes of the same cases). */
export type CidProblem =
  | { code: "CONTENT_INVALID_CID"; cid: string }
  | { code: "CONTENT_UNSUPPORTED_HASH"; cid: string; hashCode: number }
  | { code: "CONTENT_UNSUPPORTED_CODEC"; cid: string; codec: number };

/** Parses CID text (CIDv1 multibase, or CIDv0 `Qm…`), bounded; a problem instead of a throw. */
export function decodeCidText(text: string): { cid: CID } | { problem: CidProblem } {
  const invalid = { problem: { code: "CONTENT_INVALID_CID", cid: text.slice(0, 100) } } as const;
  if (text.length === 0 || text.length > MAX_CID_CHARS) return invalid;
  try {
    return { cid: CID.parse(text) };
  } catch {
    return invalid;
  }
}

/**
 * Why `cid` cannot name an AI model (docs/models.md), undefined when it can: a model is a UnixFS file as `ipfs add
 * --cid-version=1` writes it, so a CIDv1 with sha2-256 and codec raw (one chunk) or dag-pb. The one rule for genesis
 * `ai.modelCid` and the model tools.
 */
export function modelCidProblem(cid: CID): string | undefined {
  if (cid.version !== 1) return "not a CIDv1";
  if (cid.code !== CODEC_RAW && cid.code !== CODEC_DAG_PB)
    return `codec 0x${cid.code.toString(16)} is not raw or dag-pb`;
  if (cid.multihash.code !== HASH_SHA2_256) return "multihash is not sha2-256";
  return undefined;
}

/** Undefined when the codec and the hash function are ones we serve and can verify. */
export function cidSupportProblem(cid: CID): CidProblem | undefined {
  if (cid.code !== CODEC_DAG_PB && cid.code !== CODEC_RAW) {
    return { code: "CONTENT_UNSUPPORTED_CODEC", cid: cid.toString(), codec: cid.code };
  }
  const hashCode = cid.multihash.code;
  if (hashCode !== HASH_SHA2_256 && hashCode !== HASH_IDENTITY) {
    return { code: "CONTENT_UNSUPPORTED_HASH", cid: cid.toString(), hashCode };
  }
  return undefined;
}

/** True when `bytes` hash to `cid`'s digest (false for a hash function we do not verify). */
export function blockMatchesCid(cid: CID, bytes: Uint8Array): boolean {
  const code = cid.multihash.code;
  if (code !== HASH_SHA2_256 && code !== HASH_IDENTITY) return false;
  return equalBytes(code === HASH_SHA2_256 ? sha256(bytes) : bytes, cid.multihash.digest);
}

export type GatewayFormat = "raw" | "car";

export interface GatewayRequest {
  cid: CID;
  format: GatewayFormat;
  /** `dag-scope=block`: only the root block in the CAR. */
  rootOnly: boolean;
}

/** A gateway answer that is not content: status and a short text body. */
export interface GatewayRefusal {
  status: number;
  message: string;
}

/**
 * Parses the path (with query) and Accept header of a gateway request (pure, bounded). Returns undefined for a path
 * that is not under /ipfs/ (not ours), a refusal for a bad request, else what to serve.
 */
export function parseGatewayRequest(
  url: string,
  accept: string | undefined | null,
): GatewayRequest | GatewayRefusal | undefined {
  if (!url.startsWith("/ipfs/")) return undefined;
  if (url.length > MAX_GATEWAY_PATH_CHARS) return { status: 414, message: "path too long" };
  const parsed = new URL(url, "http://gateway");
  const segments = parsed.pathname
    .slice("/ipfs/".length)
    .split("/")
    .filter((s) => s.length > 0);
  if (segments.length === 0) return { status: 400, message: "missing CID" };
  if (segments.length > 1) return { status: 501, message: "paths below a CID are not served yet" };
  const decoded = decodeCidText(segments[0] as string);
  if ("problem" in decoded) return { status: 400, message: decoded.problem.code };
  const problem = cidSupportProblem(decoded.cid);
  if (problem) return { status: 400, message: problem.code };
  const format = parsed.searchParams.get("format");
  let chosen: GatewayFormat | undefined;
  if (format === "raw" || format === "car") chosen = format;
  else if (format !== null) return { status: 400, message: `format=${format.slice(0, 20)} is not served` };
  else if (accept?.includes(CAR_TYPE)) chosen = "car";
  else if (accept?.includes(RAW_TYPE)) chosen = "raw";
  if (chosen === undefined) {
    return { status: 406, message: `a trustless gateway: ask for ${RAW_TYPE} or ${CAR_TYPE} (or ?format=raw|car)` };
  }
  if (parsed.searchParams.has("entity-bytes")) return { status: 501, message: "entity-bytes is not served yet" };
  const scope = parsed.searchParams.get("dag-scope") ?? "all";
  if (scope !== "all" && scope !== "entity" && scope !== "block") {
    return { status: 400, message: "dag-scope must be block, entity or all" };
  }
  return { cid: decoded.cid, format: chosen, rootOnly: scope === "block" };
}

/** The ETag of an answer: its CID and what was served, e.g. `"bafy….car.block"`. */
export function gatewayEtag(request: GatewayRequest): string {
  const cidText = request.cid.toV1().toString();
  if (request.format === "raw") return `"${cidText}.raw"`;
  return `"${cidText}.car${request.rootOnly ? ".block" : ""}"`;
}

/** The headers of a 200 answer to `request` (raw: with its length). */
export function gatewayHeaders(request: GatewayRequest, rawLength?: number): Record<string, string> {
  const cidText = request.cid.toV1().toString();
  const raw = request.format === "raw";
  return {
    "content-type": raw ? RAW_TYPE : CAR_CONTENT_TYPE,
    ...(raw && rawLength !== undefined ? { "content-length": String(rawLength) } : {}),
    etag: gatewayEtag(request),
    "cache-control": IMMUTABLE_CACHE_CONTROL,
    "x-content-type-options": "nosniff",
    "x-ipfs-roots": cidText,
    "content-disposition": `attachment; filename="${cidText}.${raw ? "bin" : "car"}"`,
  };
}

/** dag-cbor text keys of the CARv1 header, each behind its major-type-3 length byte; "roots" sorts first. */
const ROOTS_KEY = new Uint8Array([0x65, 0x72, 0x6f, 0x6f, 0x74, 0x73]);
const VERSION_1 = new Uint8Array([0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x01]);

/**
 * The CARv1 header for one root (https://ipld.io/specs/transport/car/carv1/): a varint length, then the dag-cbor map
 * `{ roots: [root], version: 1 }`, the root as tag 42 over its bytes behind a 0x00 prefix. Written here rather than
 * with @ipld/car's cborg, which picks Buffer at load time when the runtime has one (workerd with nodejs_compat); a
 * test checks it against @ipld/car's writer byte for byte.
 */
export function carHeaderBytes(root: CID): Uint8Array {
  const linkLength = root.bytes.length + 1;
  const bytesHead =
    linkLength < 24
      ? [0x40 | linkLength]
      : linkLength < 256
        ? [0x58, linkLength]
        : [0x59, linkLength >> 8, linkLength & 0xff];
  const map = concatBytes(
    new Uint8Array([0xa2]),
    ROOTS_KEY,
    new Uint8Array([0x81, 0xd8, 0x2a, ...bytesHead, 0x00]),
    root.bytes,
    VERSION_1,
  );
  const prefix = new Uint8Array(varint.encodingLength(map.length));
  varint.encodeTo(map.length, prefix, 0);
  return concatBytes(prefix, map);
}
