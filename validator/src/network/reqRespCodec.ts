// Request/response wire format, pure and bounded (see README.md). Every request is one length-prefixed frame holding
// RLP; every response is a sequence of length-prefixed chunks, each a result byte followed by a payload.
import { ChainError, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "@rustchain/shared";
import { ReqRespError } from "./errors.ts";

export const REQ_RESP_PROTOCOL_NAMES = [
  "status",
  "blocks_by_range",
  "blocks_by_root",
  "finality_certificates",
  "snapshot_manifest",
  "snapshot_chunk",
] as const;
export type ReqRespProtocolName = (typeof REQ_RESP_PROTOCOL_NAMES)[number];

export function reqRespProtocol(chainId: bigint, name: ReqRespProtocolName): string {
  return `/rustchain/${chainId}/req/${name}/1`;
}

/** Most blocks one blocks_by_range / blocks_by_root request may ask for (and a response may carry). */
export const MAX_REQUEST_BLOCKS = 64;
/** Most finality certificates one finality_certificates request may ask for (and a response may carry). */
export const MAX_REQUEST_CERTIFICATES = 64;
/** Longest error message a server sends, and a client keeps. */
export const MAX_ERROR_MESSAGE_BYTES = 256;

export const RESULT_SUCCESS = 0x00;
export const RESULT_SERVER_ERROR = 0x01;

export interface Status {
  chainId: bigint;
  genesisHash: Uint8Array;
  headHash: Uint8Array;
  headNumber: bigint;
  finalizedHash: Uint8Array;
  finalizedNumber: bigint;
  /** Slot of the finalized checkpoint (a block can be the checkpoint of several slots: this tells them apart). */
  finalizedSlot: bigint;
}

export interface BlocksByRangeRequest {
  start: bigint;
  count: number;
}

/** Served by the chain; injected into the network. Missing blocks are simply left out of the returned list. */
export interface ReqRespHandlers {
  status(): Promise<Status>;
  blocksByRange(start: bigint, count: number): Promise<Uint8Array[]>;
  blocksByRoot(hashes: Uint8Array[]): Promise<Uint8Array[]>;
  /** Encoded finality certificates of checkpoints at slot >= `fromSlot`, in slot order, at most `count`. */
  finalityCertificates(fromSlot: bigint, count: number): Promise<Uint8Array[]>;
  /** The manifest of a local snapshot (`id`, or the newest when undefined); undefined when there is none. */
  snapshotManifest(id: string | undefined): Promise<Uint8Array | undefined>;
  /** A stored (compressed) chunk of a local snapshot; undefined when there is none. */
  snapshotChunk(id: string, index: number): Promise<Uint8Array | undefined>;
}

/**
 * What a node with no chain yet serves (a node that is snap-syncing, a test peer): its genesis as head and finalized
 * block, and nothing else.
 */
export function genesisOnlyHandlers(chainId: bigint, genesisHash: Uint8Array): ReqRespHandlers {
  return {
    status: async () => ({
      chainId,
      genesisHash,
      headHash: genesisHash,
      headNumber: 0n,
      finalizedHash: genesisHash,
      finalizedNumber: 0n,
      finalizedSlot: 0n,
    }),
    blocksByRange: async () => [],
    blocksByRoot: async () => [],
    finalityCertificates: async () => [],
    snapshotManifest: async () => undefined,
    snapshotChunk: async () => undefined,
  };
}

const HASH_BYTES = 32;
const MAX_STATUS_BYTES = 256;

function invalid(reason: string): ReqRespError {
  return new ReqRespError({ code: "REQ_INVALID_REQUEST", reason });
}

function badResponse(reason: string): ReqRespError {
  return new ReqRespError({ code: "REQ_INVALID_RESPONSE", reason });
}

/** Run an RLP decoder, turning its ChainError into the given req/resp error. */
function decodeWith<T>(fn: () => T, wrap: (reason: string) => ReqRespError): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ChainError) {
      const t = e.type;
      throw wrap(t.code === "RLP_INVALID" ? t.reason : t.code);
    }
    throw e;
  }
}

// --- status: request is the empty RLP list (a zero-length frame cannot be told apart from no frame) ---

export const STATUS_REQUEST = rlpEncode([]);

export function decodeStatusRequest(data: Uint8Array): void {
  decodeWith(() => rlpList(rlpDecode(data, MAX_STATUS_BYTES), "status request", 0), invalid);
}

export function encodeStatus(s: Status): Uint8Array {
  return rlpEncode([
    s.chainId,
    s.genesisHash,
    s.headHash,
    s.headNumber,
    s.finalizedHash,
    s.finalizedNumber,
    s.finalizedSlot,
  ]);
}

export function decodeStatus(data: Uint8Array): Status {
  return decodeWith(() => {
    const f = rlpList(rlpDecode(data, MAX_STATUS_BYTES), "status", 7);
    return {
      chainId: rlpUint(f[0], "chainId", 32),
      genesisHash: hash32(f[1], "genesisHash"),
      headHash: hash32(f[2], "headHash"),
      headNumber: rlpUint(f[3], "headNumber", 8),
      finalizedHash: hash32(f[4], "finalizedHash"),
      finalizedNumber: rlpUint(f[5], "finalizedNumber", 8),
      finalizedSlot: rlpUint(f[6], "finalizedSlot", 8),
    };
  }, badResponse);
}

// --- blocks_by_range: [start, count], 1 <= count <= 64 ---

export function checkBlockCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_REQUEST_BLOCKS) {
    throw invalid(`count must be 1..${MAX_REQUEST_BLOCKS}, got ${count}`);
  }
}

export function encodeBlocksByRangeRequest(start: bigint, count: number): Uint8Array {
  checkBlockCount(count);
  if (start < 0n || start >= 2n ** 64n) throw invalid("start out of range");
  return rlpEncode([start, count]);
}

export function decodeBlocksByRangeRequest(data: Uint8Array): BlocksByRangeRequest {
  const { start, count } = decodeWith(() => {
    const f = rlpList(rlpDecode(data, 64), "blocks_by_range request", 2);
    return { start: rlpUint(f[0], "start", 8), count: rlpUint(f[1], "count", 8) };
  }, invalid);
  if (count < 1n || count > BigInt(MAX_REQUEST_BLOCKS)) throw invalid(`count must be 1..${MAX_REQUEST_BLOCKS}`);
  return { start, count: Number(count) };
}

// --- finality_certificates: [fromSlot, count], 1 <= count <= 64 ---

export function encodeCertificatesRequest(fromSlot: bigint, count: number): Uint8Array {
  if (!Number.isInteger(count) || count < 1 || count > MAX_REQUEST_CERTIFICATES) {
    throw invalid(`count must be 1..${MAX_REQUEST_CERTIFICATES}, got ${count}`);
  }
  if (fromSlot < 0n || fromSlot >= 2n ** 64n) throw invalid("fromSlot out of range");
  return rlpEncode([fromSlot, count]);
}

export function decodeCertificatesRequest(data: Uint8Array): { fromSlot: bigint; count: number } {
  const { fromSlot, count } = decodeWith(() => {
    const f = rlpList(rlpDecode(data, 64), "finality_certificates request", 2);
    return { fromSlot: rlpUint(f[0], "fromSlot", 8), count: rlpUint(f[1], "count", 8) };
  }, invalid);
  if (count < 1n || count > BigInt(MAX_REQUEST_CERTIFICATES))
    throw invalid(`count must be 1..${MAX_REQUEST_CERTIFICATES}`);
  return { fromSlot, count: Number(count) };
}

// --- blocks_by_root: [hash, ...], 1..64 hashes of 32 bytes ---

export function encodeBlocksByRootRequest(hashes: Uint8Array[]): Uint8Array {
  checkBlockCount(hashes.length);
  for (const h of hashes) if (h.length !== HASH_BYTES) throw invalid("block hashes are 32 bytes");
  return rlpEncode(hashes);
}

export function decodeBlocksByRootRequest(data: Uint8Array): Uint8Array[] {
  return decodeWith(() => {
    const list = rlpList(rlpDecode(data, 4 + MAX_REQUEST_BLOCKS * (HASH_BYTES + 1)), "blocks_by_root request");
    if (list.length < 1 || list.length > MAX_REQUEST_BLOCKS) {
      throw invalid(`between 1 and ${MAX_REQUEST_BLOCKS} hashes, got ${list.length}`);
    }
    return list.map((h, i) => hash32(h, `hash ${i}`));
  }, invalid);
}

function hash32(item: Parameters<typeof rlpBytes>[0], what: string): Uint8Array {
  const b = rlpBytes(item, what, HASH_BYTES);
  if (b.length !== HASH_BYTES) throw new ChainError({ code: "RLP_INVALID", reason: `${what}: expected 32 bytes` });
  return b;
}

// --- response chunks: result byte + payload ---

export function successChunk(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + payload.length);
  out[0] = RESULT_SUCCESS;
  out.set(payload, 1);
  return out;
}

export function errorChunk(message: string): Uint8Array {
  const text = new TextEncoder().encode(message).subarray(0, MAX_ERROR_MESSAGE_BYTES);
  const out = new Uint8Array(1 + text.length);
  out[0] = RESULT_SERVER_ERROR;
  out.set(text, 1);
  return out;
}

/** Split one response chunk: the payload of a success, or throws the error it carries / a malformed-chunk error. */
export function decodeResponseChunk(chunk: Uint8Array): Uint8Array {
  if (chunk.length === 0) throw badResponse("empty chunk");
  const result = chunk[0];
  if (result === RESULT_SUCCESS) return chunk.subarray(1);
  if (result === RESULT_SERVER_ERROR) {
    const text = new TextDecoder("utf-8", { fatal: false }).decode(chunk.subarray(1, 1 + MAX_ERROR_MESSAGE_BYTES));
    throw new ReqRespError({ code: "REQ_SERVER_ERROR", message: text });
  }
  throw badResponse(`unknown result code ${result}`);
}

// --- snapshot_manifest: [id] (empty id: the newest); snapshot_chunk: [id, index] ---

const SNAPSHOT_ID = /^\d{12}-[0-9a-f]{8}$/;
const MAX_SNAPSHOT_REQUEST_BYTES = 64;

function snapshotIdFrom(item: Parameters<typeof rlpBytes>[0], allowEmpty: boolean): string | undefined {
  const id = new TextDecoder().decode(rlpBytes(item, "snapshot id", 21));
  if (id === "" && allowEmpty) return undefined;
  if (!SNAPSHOT_ID.test(id)) throw new ChainError({ code: "RLP_INVALID", reason: "snapshot id: not <number>-<hash>" });
  return id;
}

export function encodeSnapshotManifestRequest(id: string | undefined): Uint8Array {
  if (id !== undefined && !SNAPSHOT_ID.test(id)) throw invalid("snapshot id: not <number>-<hash>");
  return rlpEncode([new TextEncoder().encode(id ?? "")]);
}

export function decodeSnapshotManifestRequest(data: Uint8Array): string | undefined {
  return decodeWith(() => {
    const f = rlpList(rlpDecode(data, MAX_SNAPSHOT_REQUEST_BYTES), "snapshot_manifest request", 1);
    return snapshotIdFrom(f[0], true);
  }, invalid);
}

export function encodeSnapshotChunkRequest(id: string, index: number): Uint8Array {
  if (!SNAPSHOT_ID.test(id)) throw invalid("snapshot id: not <number>-<hash>");
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 32) throw invalid("chunk index out of range");
  return rlpEncode([new TextEncoder().encode(id), index]);
}

export function decodeSnapshotChunkRequest(data: Uint8Array): { id: string; index: number } {
  return decodeWith(() => {
    const f = rlpList(rlpDecode(data, MAX_SNAPSHOT_REQUEST_BYTES), "snapshot_chunk request", 2);
    return { id: snapshotIdFrom(f[0], false) as string, index: Number(rlpUint(f[1], "index", 4)) };
  }, invalid);
}
