// Snapshot export (docs/sync.md, "Export"): the state at the block of the latest finality certificate, cut into chunks
// by a byte budget, each compressed with zstd and written to every store; the manifest goes last, so a snapshot that
// is listed is complete. Everything is read from the database at that block's finalized state root, pinned against
// state pruning for the export's duration, so block production carries on while an export runs: reads are async and
// the CPU work is per chunk.
import { promisify } from "node:util";
import { constants as zlibConstants, zstdCompress } from "node:zlib";
import {
  BLAKE3_EMPTY,
  type BlockHeader,
  blake3,
  bytesToBigint,
  bytesToHex,
  equalBytes,
  type HashFn,
  MerklePatriciaTrie,
  RustChainError,
  type TrieNodeReader,
} from "@rustchain/shared";
import { decodeAccount } from "@rustchain/shared/account";
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import {
  type AccountItem,
  encodeAccountsChunk,
  encodeCertificatesChunk,
  encodeCodeChunk,
  encodeHeadersChunk,
  encodeStorageChunk,
  type SlotItem,
  type StorageRange,
} from "@rustchain/shared/snapshot/chunks";
import {
  type ChunkEntry,
  type ChunkKind,
  encodeManifest,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotManifest,
  snapshotId,
  snapshotKeys,
} from "@rustchain/shared/snapshot/manifest";
import { createRangeProof, iterateTrie } from "@rustchain/shared/trieRange";
import type { Logger } from "pino";
import type { HeaderStore } from "../chain/headerStore.ts";
import type { CheckpointStore, StoredCertificate } from "../db/checkpointStore.ts";
import { Bucket, type Database } from "../db/database.ts";
import type { StateRetention } from "../state/stateRetention.ts";
import type { ObjectStore } from "./objectStore.ts";

const compress = promisify(zstdCompress);
const ZERO_KEY: Uint8Array = new Uint8Array(32);
const EMPTY_TRIE_ROOT = new MerklePatriciaTrie({ hash: blake3 }).commit().root;

export interface SnapshotExportOptions {
  /** Decompressed bytes per chunk (the budget a chunk closes at; one item may overrun it). */
  chunkBytes: number;
  /** zstd level: 3 is zstd's default, a good speed/size balance for already-dense RLP. */
  zstdLevel: number;
}
export const defaultSnapshotExportOptions: SnapshotExportOptions = { chunkBytes: 2 * 1024 * 1024, zstdLevel: 3 };

export type SnapshotExportErrorType =
  | { code: "EXPORT_NO_CERTIFICATE" }
  | { code: "EXPORT_CERTIFICATE_GAP"; slot: number; reason: string }
  | { code: "EXPORT_MISSING_DATA"; what: string };
export class SnapshotExportError extends RustChainError<SnapshotExportErrorType> {}

/** What the exporter reads from the node. */
export interface ExportSource {
  db: Database;
  headers: HeaderStore;
  checkpoints: CheckpointStore;
  genesisHash: Uint8Array;
  chainId: bigint;
  canonicalHash(number: bigint): Promise<Uint8Array | undefined>;
  /** A pruning node's state retention: the export pins its root, so the state it reads stays whole until it ends. */
  retention?: Pick<StateRetention, "pin">;
}

export interface ExportResult {
  id: string;
  /** Undefined when every store already had this snapshot (nothing was written). */
  manifest: SnapshotManifest | undefined;
}

/** Writes compressed chunks to every store and keeps their manifest entries. */
class ChunkWriter {
  readonly entries: ChunkEntry[] = [];
  constructor(
    private readonly id: string,
    private readonly stores: readonly ObjectStore[],
    private readonly level: number,
  ) {}

  async write(kind: ChunkKind, raw: Uint8Array, count: number, first: string, last: string): Promise<void> {
    const stored = new Uint8Array(
      await compress(raw, { params: { [zlibConstants.ZSTD_c_compressionLevel]: this.level } }),
    );
    const entry: ChunkEntry = {
      index: this.entries.length,
      kind,
      hash: blake3(stored),
      size: stored.length,
      rawSize: raw.length,
      count,
      first,
      last,
    };
    this.entries.push(entry);
    await Promise.all(this.stores.map((s) => s.put(snapshotKeys.chunk(this.id, entry), stored)));
  }
}

function nextKey(key: Uint8Array): Uint8Array {
  const n = bytesToBigint(key) + 1n;
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(64, "0"), "hex"));
}

/**
 * Export a snapshot at the block of `pin` (default: the latest certificate). Returns undefined when there is none;
 * skips the work when every store already has that snapshot's manifest.
 */
export async function exportSnapshot(
  opts: SnapshotExportOptions,
  src: ExportSource,
  stores: readonly ObjectStore[],
  logger: Logger,
  pin?: StoredCertificate,
): Promise<ExportResult | undefined> {
  const latest = pin ?? (await src.checkpoints.latestCertificate());
  if (!latest) return undefined;
  const cert = decodeFinalityCertificate(latest.encoded);
  const header = cert.header;
  const hash = Uint8Array.from(Buffer.from(cert.checkpoint.root.slice(2), "hex"));
  const id = snapshotId(header.number, hash);
  const present = await Promise.all(
    stores.map((s) =>
      s.list(snapshotKeys.manifest(id)).then((l) => l.some((o) => o.key === snapshotKeys.manifest(id))),
    ),
  );
  if (present.every(Boolean)) return { id, manifest: undefined };

  // Throws STATE_PRUNED when the node no longer holds that state (the service then picks a later block).
  const release = src.retention?.pin(header.number, header.stateRoot);
  try {
    return await exportPinned(opts, src, stores, logger, latest, header, hash, id);
  } finally {
    release?.();
  }
}

async function exportPinned(
  opts: SnapshotExportOptions,
  src: ExportSource,
  stores: readonly ObjectStore[],
  logger: Logger,
  latest: StoredCertificate,
  header: BlockHeader,
  hash: Uint8Array,
  id: string,
): Promise<ExportResult> {
  const started = Date.now();
  logger.info({ id, number: Number(header.number), slot: latest.slot }, "Snapshot export started");
  const writer = new ChunkWriter(id, stores, opts.zstdLevel);
  const { db } = src;
  const reader: TrieNodeReader = { getNode: (h) => db.get(Bucket.stateNodes, h) };

  await exportCertificates(opts, src, writer, latest.slot);
  await exportHeaders(opts, src, writer, header);
  const { withStorage, codeHashes } = await exportAccounts(opts, db, reader, header.stateRoot, writer);
  await exportStorage(opts, db, reader, header.stateRoot, withStorage, writer);
  await exportCode(opts, db, codeHashes, writer);

  const manifest: SnapshotManifest = {
    format: SNAPSHOT_FORMAT_VERSION,
    chainId: src.chainId,
    genesisHash: src.genesisHash,
    block: { number: header.number, hash, header },
    stateRoot: header.stateRoot,
    certificate: latest.encoded,
    createdAt: new Date().toISOString(),
    chunks: writer.entries,
  };
  // Last: a snapshot without its manifest is never listed, so a crash mid-export leaves nothing half-visible.
  const body = encodeManifest(manifest);
  await Promise.all(stores.map((s) => s.put(snapshotKeys.manifest(id), body)));
  const bytes = writer.entries.reduce((n, c) => n + c.size, 0);
  logger.info(
    { id, chunks: writer.entries.length, bytes, seconds: (Date.now() - started) / 1000 },
    "Snapshot export finished",
  );
  return { id, manifest };
}

async function exportCertificates(
  opts: SnapshotExportOptions,
  src: ExportSource,
  writer: ChunkWriter,
  lastSlot: number,
): Promise<void> {
  let expectedParent = `0:${bytesToHex(src.genesisHash)}`;
  let pending: Uint8Array[] = [];
  let bytes = 0;
  let firstSlot = 0;
  let lastWritten = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await writer.write(
      "certificates",
      encodeCertificatesChunk(pending),
      pending.length,
      `${firstSlot}`,
      `${lastWritten}`,
    );
    pending = [];
    bytes = 0;
  };
  let from = 0;
  while (from <= lastSlot) {
    const page = await src.checkpoints.certificatesFrom(from, 256);
    if (page.length === 0) break;
    for (const c of page) {
      if (c.slot > lastSlot) break;
      const decoded = decodeFinalityCertificate(c.encoded);
      // The chain must link from genesis: each certificate's parent is the previous one's checkpoint.
      const parent = `${decoded.parent.slot}:${decoded.parent.root}`;
      if (parent !== expectedParent) {
        throw new SnapshotExportError({
          code: "EXPORT_CERTIFICATE_GAP",
          slot: c.slot,
          reason: `its parent is ${parent}, the previous certificate's checkpoint is ${expectedParent}`,
        });
      }
      expectedParent = `${decoded.checkpoint.slot}:${decoded.checkpoint.root}`;
      if (pending.length === 0) firstSlot = c.slot;
      pending.push(c.encoded);
      bytes += c.encoded.length;
      lastWritten = c.slot;
      if (bytes >= opts.chunkBytes) await flush();
    }
    from = (page.at(-1)?.slot ?? lastSlot) + 1;
  }
  if (lastWritten !== lastSlot) {
    throw new SnapshotExportError({ code: "EXPORT_CERTIFICATE_GAP", slot: lastSlot, reason: "chain ends early" });
  }
  await flush();
}

async function exportHeaders(
  opts: SnapshotExportOptions,
  src: ExportSource,
  writer: ChunkWriter,
  top: BlockHeader,
): Promise<void> {
  let pending: BlockHeader[] = [];
  let bytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const first = pending[0] as BlockHeader;
    const last = pending.at(-1) as BlockHeader;
    await writer.write("headers", encodeHeadersChunk(pending), pending.length, `${first.number}`, `${last.number}`);
    pending = [];
    bytes = 0;
  };
  for (let n = 0n; n <= top.number; n++) {
    const hash = await src.canonicalHash(n);
    const h = hash && (await src.headers.get(hash));
    if (!h) throw new SnapshotExportError({ code: "EXPORT_MISSING_DATA", what: `canonical header ${n}` });
    pending.push(h);
    bytes += 600;
    if (bytes >= opts.chunkBytes) await flush();
  }
  await flush();
}

interface StorageOwner {
  address: Uint8Array;
  key: Uint8Array;
  root: Uint8Array;
}

async function preimage(db: Database, key: Uint8Array, what: string): Promise<Uint8Array> {
  const p = await db.get(Bucket.preimages, key);
  if (!p)
    throw new SnapshotExportError({ code: "EXPORT_MISSING_DATA", what: `preimage of ${what} ${bytesToHex(key)}` });
  return p;
}

async function exportAccounts(
  opts: SnapshotExportOptions,
  db: Database,
  reader: TrieNodeReader,
  root: Uint8Array,
  writer: ChunkWriter,
): Promise<{ withStorage: StorageOwner[]; codeHashes: Uint8Array[] }> {
  const hash: HashFn = blake3;
  const withStorage: StorageOwner[] = [];
  const codes = new Map<string, Uint8Array>();
  let pending: AccountItem[] = [];
  let lastKey = ZERO_KEY;
  let firstKey = ZERO_KEY;
  let bytes = 0;
  const flush = async () => {
    const proof = await createRangeProof({ hash, root, reader }, firstKey, lastKey);
    await writer.write(
      "accounts",
      encodeAccountsChunk(firstKey, pending, proof),
      pending.length,
      bytesToHex(firstKey),
      bytesToHex(lastKey),
    );
    pending = [];
    bytes = 0;
    firstKey = nextKey(lastKey);
  };
  for await (const { key, value } of iterateTrie({ hash, root, reader })) {
    const address = await preimage(db, key, "account");
    const account = decodeAccount(value);
    if (!equalBytes(account.storageRoot, EMPTY_TRIE_ROOT))
      withStorage.push({ address, key, root: account.storageRoot });
    if (!equalBytes(account.codeHash, BLAKE3_EMPTY)) codes.set(bytesToHex(account.codeHash), account.codeHash);
    pending.push({ address, encoded: value });
    lastKey = key;
    bytes += 20 + value.length + 8;
    if (bytes >= opts.chunkBytes) await flush();
  }
  if (pending.length > 0) await flush();
  return { withStorage, codeHashes: [...codes.values()] };
}

async function exportStorage(
  opts: SnapshotExportOptions,
  db: Database,
  reader: TrieNodeReader,
  stateRoot: Uint8Array,
  owners: StorageOwner[],
  writer: ChunkWriter,
): Promise<void> {
  const hash: HashFn = blake3;
  let ranges: StorageRange[] = [];
  let owned: StorageOwner[] = [];
  let bytes = 0;
  let count = 0;
  const flush = async () => {
    if (ranges.length === 0) return;
    // One proof for every account of the chunk: the union of their paths in the account trie.
    const accountTrie = new MerklePatriciaTrie({ hash, root: stateRoot, reader });
    const nodes = new Map<string, Uint8Array>();
    for (const o of owned) for (const n of await accountTrie.createProof(o.key)) nodes.set(bytesToHex(n), n);
    const firstRange = ranges[0] as StorageRange;
    const lastRange = ranges.at(-1) as StorageRange;
    const first = `${bytesToHex(blake3(firstRange.address))}/${bytesToHex(firstRange.firstKey)}`;
    const lastSlot = lastRange.slots.at(-1);
    const last = `${bytesToHex(blake3(lastRange.address))}/${lastSlot ? bytesToHex(blake3(lastSlot.slot)) : ""}`;
    await writer.write("storage", encodeStorageChunk([...nodes.values()], ranges), count, first, last);
    ranges = [];
    owned = [];
    bytes = 0;
    count = 0;
  };
  for (const owner of owners) {
    let rangeFirst = ZERO_KEY;
    let slots: SlotItem[] = [];
    let lastKey = ZERO_KEY;
    const closeRange = async (atEnd: boolean) => {
      const whole = atEnd && equalBytes(rangeFirst, ZERO_KEY);
      // An empty range (the budget closed the previous one at the trie's last key) proves nothing lies after it.
      const last = slots.length > 0 ? lastKey : rangeFirst;
      const proof = whole ? [] : await createRangeProof({ hash, root: owner.root, reader }, rangeFirst, last);
      ranges.push({ address: owner.address, firstKey: rangeFirst, slots, proof, whole });
      owned.push(owner);
      slots = [];
    };
    for await (const { key, value } of iterateTrie({ hash, root: owner.root, reader })) {
      slots.push({ slot: await preimage(db, key, "slot"), encoded: value });
      lastKey = key;
      count++;
      bytes += 32 + value.length + 4;
      if (bytes >= opts.chunkBytes) {
        await closeRange(false);
        await flush();
        rangeFirst = nextKey(lastKey);
      }
    }
    if (slots.length > 0 || !equalBytes(rangeFirst, ZERO_KEY)) await closeRange(true);
    bytes += 200;
  }
  await flush();
}

async function exportCode(
  opts: SnapshotExportOptions,
  db: Database,
  hashes: Uint8Array[],
  writer: ChunkWriter,
): Promise<void> {
  let pending: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await writer.write("code", encodeCodeChunk(pending), pending.length, "", "");
    pending = [];
    bytes = 0;
  };
  for (const h of hashes) {
    const code = await db.get(Bucket.code, h);
    if (!code) throw new SnapshotExportError({ code: "EXPORT_MISSING_DATA", what: `code ${bytesToHex(h)}` });
    pending.push(code);
    bytes += code.length;
    if (bytes >= opts.chunkBytes) await flush();
  }
  await flush();
}
