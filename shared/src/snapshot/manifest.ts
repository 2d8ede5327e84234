// The snapshot manifest (docs/sync.md, "Format"): JSON, so operators can read it with any tool. It pins a snapshot to
// one certified finalized block and lists the chunks with their BLAKE3 hashes, sizes and key ranges.
//
// Nothing in a manifest is trusted. The block header must hash to the block hash, the state root must be the
// header's, and the header must be the checkpoint block of the last certificate of a chain that verifies from genesis
// (or a weak-subjectivity checkpoint). The chunk list only tells where to look: each chunk is proven against the
// state root on its own, and completeness comes from the proven ranges tiling the key space, not from the list.
import { z } from "zod";
import { blake3 } from "../hash.ts";
import { type BlockHeader, decodeHeader, encodeHeader, headerHash } from "../header.ts";
import { bytesToHex, hexToBytes } from "../hex.ts";
import { SnapshotError } from "./errors.ts";

export const SNAPSHOT_FORMAT_VERSION = 1;
/** A manifest above this is refused before parsing (a 1M-account state needs ~100 chunks: a few tens of KiB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
export const MAX_CHUNKS = 100_000;

export const CHUNK_KINDS = ["certificates", "headers", "accounts", "storage", "code"] as const;
export type ChunkKind = (typeof CHUNK_KINDS)[number];

export interface ChunkEntry {
  readonly index: number;
  readonly kind: ChunkKind;
  /** BLAKE3 of the stored (compressed) bytes: checked before anything is decompressed. */
  readonly hash: Uint8Array;
  /** Stored (compressed) size and decompressed size, in bytes. */
  readonly size: number;
  readonly rawSize: number;
  /** Items in the chunk (certificates, headers, accounts, storage slots, code blobs). */
  readonly count: number;
  /**
   * The range it covers, for people and for the coverage check: certificates and headers "first-last" numbers
   * (slots, block numbers); accounts the first and last hashed keys; storage "<hashed address>/<hashed slot>" at each
   * end; code "" (content-addressed).
   */
  readonly first: string;
  readonly last: string;
}

export interface SnapshotManifest {
  readonly format: number;
  readonly chainId: bigint;
  readonly genesisHash: Uint8Array;
  readonly block: { readonly number: bigint; readonly hash: Uint8Array; readonly header: BlockHeader };
  readonly stateRoot: Uint8Array;
  /** The finality certificate whose checkpoint block is `block` (the last of the certificate chunks). */
  readonly certificate: Uint8Array;
  readonly createdAt: string;
  readonly chunks: readonly ChunkEntry[];
}

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, "32-byte lowercase hex");
const hexBytes = z.string().regex(/^0x([0-9a-f]{2})*$/, "lowercase hex bytes");
const uint = z.string().regex(/^(0|[1-9][0-9]{0,19})$/, "decimal integer");
const size = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 40);

const manifestSchema = z.object({
  format: z.number().int(),
  chainId: uint,
  genesisHash: hex32,
  block: z.object({ number: uint, hash: hex32, header: hexBytes.max(16_384) }),
  stateRoot: hex32,
  certificate: hexBytes.max(4 * 1024 * 1024),
  createdAt: z.string().max(64),
  chunks: z
    .array(
      z.object({
        kind: z.enum(CHUNK_KINDS),
        hash: hex32,
        size,
        rawSize: size,
        count: size,
        first: z.string().max(200),
        last: z.string().max(200),
      }),
    )
    .max(MAX_CHUNKS),
});

function invalid(reason: string): SnapshotError {
  return new SnapshotError({ code: "SNAPSHOT_MANIFEST_INVALID", reason });
}

export function encodeManifest(m: SnapshotManifest): Uint8Array {
  const json = {
    format: m.format,
    chainId: m.chainId.toString(),
    genesisHash: bytesToHex(m.genesisHash),
    block: {
      number: m.block.number.toString(),
      hash: bytesToHex(m.block.hash),
      header: bytesToHex(encodeHeader(m.block.header)),
    },
    stateRoot: bytesToHex(m.stateRoot),
    certificate: bytesToHex(m.certificate),
    createdAt: m.createdAt,
    chunks: m.chunks.map((c) => ({
      kind: c.kind,
      hash: bytesToHex(c.hash),
      size: c.size,
      rawSize: c.rawSize,
      count: c.count,
      first: c.first,
      last: c.last,
    })),
  };
  return new TextEncoder().encode(`${JSON.stringify(json, null, 1)}\n`);
}

/**
 * Parse and check a manifest's self-consistency: the header hashes to the block hash, the state root is the header's,
 * and the chunk kinds come in order (certificates, headers, accounts, storage, code). Trust is established later, by
 * the certificate chain.
 */
export function decodeManifest(data: Uint8Array): SnapshotManifest {
  if (data.length > MAX_MANIFEST_BYTES) throw invalid(`larger than ${MAX_MANIFEST_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    throw invalid("not JSON");
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  const j = parsed.data;
  if (j.format !== SNAPSHOT_FORMAT_VERSION) throw invalid(`unsupported format version ${j.format}`);
  let header: BlockHeader;
  try {
    header = decodeHeader(hexToBytes(j.block.header));
  } catch (e) {
    throw invalid(`block.header: ${(e as Error).message}`);
  }
  const hash = hexToBytes(j.block.hash);
  if (bytesToHex(headerHash(blake3, header)) !== j.block.hash)
    throw invalid("block.header does not hash to block.hash");
  if (header.number !== BigInt(j.block.number)) throw invalid("block.number is not the header's number");
  if (bytesToHex(header.stateRoot) !== j.stateRoot) throw invalid("stateRoot is not the block header's state root");
  let previous = 0;
  for (const [i, c] of j.chunks.entries()) {
    const order = CHUNK_KINDS.indexOf(c.kind);
    if (order < previous) throw invalid(`chunks.${i}: ${c.kind} chunk after a later kind`);
    previous = order;
  }
  for (const kind of ["certificates", "headers", "accounts"] as const) {
    if (!j.chunks.some((c) => c.kind === kind)) throw invalid(`no ${kind} chunk`);
  }
  return {
    format: j.format,
    chainId: BigInt(j.chainId),
    genesisHash: hexToBytes(j.genesisHash),
    block: { number: header.number, hash, header },
    stateRoot: header.stateRoot,
    certificate: hexToBytes(j.certificate),
    createdAt: j.createdAt,
    chunks: j.chunks.map((c, index) => ({ ...c, index, hash: hexToBytes(c.hash) })),
  };
}

/** The snapshot's name in a store: block number (zero-padded, so names sort by height) and a short block hash. */
export function snapshotId(number: bigint, hash: Uint8Array): string {
  return `${number.toString().padStart(12, "0")}-${bytesToHex(hash).slice(2, 10)}`;
}

export const SNAPSHOT_ID_PATTERN = /^\d{12}-[0-9a-f]{8}$/;

/** Where a snapshot's objects live under a store's prefix. The manifest is written last. */
export const snapshotKeys = {
  manifest: (id: string) => `${id}/manifest.json`,
  chunk: (id: string, c: Pick<ChunkEntry, "index" | "hash">) =>
    `${id}/chunks/${c.index.toString().padStart(6, "0")}-${bytesToHex(c.hash).slice(2)}.zst`,
} as const;
