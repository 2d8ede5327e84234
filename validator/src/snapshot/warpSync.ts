// Warp sync (docs/sync.md): restore the state of a certified finalized block from a snapshot instead of replaying
// history. Order of trust:
//   1. the manifest is parsed (bounded) and must be for our chain id and genesis;
//   2. its certificate chain verifies from our genesis (or a weak-subjectivity checkpoint) and ends at the manifest's
//      block; the headers link from genesis to that block. Only now is the state root trusted;
//   3. state chunks are downloaded in parallel, each checked against the manifest hash, decompressed (bounded) and
//      proven against the state root the moment it arrives, then written with its progress marker in one batch;
//   4. the proven ranges must tile the whole state (coverage.ts); then one batch anchors the chain at the block.
// A refused chunk writes nothing. Killed at any point, the next run skips the chunks whose markers it finds.
import { availableParallelism } from "node:os";
import {
  type BlockHeader,
  blake3,
  bytesToHex,
  describeError,
  equalBytes,
  type Genesis,
  RustChainError,
} from "@rustchain/shared";
import { type CertificateCrypto, CertificateVerifier } from "@rustchain/shared/consensus/certificateVerifier";
import type { Checkpoint } from "@rustchain/shared/consensus/checkpoint";
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { headerHash } from "@rustchain/shared/header";
import { decodeSummary, MAX_CHUNK_BYTES, type VerifiedChunk, verifyChunk } from "@rustchain/shared/snapshot/chunks";
import { SnapshotCoverage } from "@rustchain/shared/snapshot/coverage";
import { SnapshotError } from "@rustchain/shared/snapshot/errors";
import { type ChunkEntry, decodeManifest, type SnapshotManifest } from "@rustchain/shared/snapshot/manifest";
import type { Logger } from "pino";
import { Piscina } from "piscina";
import { buildGenesisBlock } from "../chain/genesisBlock.ts";
import { HeaderStore } from "../chain/headerStore.ts";
import { hasChain, writeSnapshotAnchor } from "../chain/snapshotAnchor.ts";
import { CheckpointStore } from "../db/checkpointStore.ts";
import { Bucket, type BucketId, type Database, WriteBatch } from "../db/database.ts";
import { StateDb } from "../state/stateDb.ts";
import { type ChunkTask, type ChunkTaskResult, unpackWrites, verifyStoredChunk, WriteTarget } from "./chunkWorker.ts";
import type { SyncProgress } from "./progress.ts";
import { pickSnapshot, type SnapshotSource, type SnapshotSourcing, snapshotSourcing } from "./sources.ts";
import { WarpSyncStore } from "./warpSyncStore.ts";

export interface WarpSyncOptions {
  /** Chunks downloaded and verified at once. */
  concurrency: number;
  /** Attempts per chunk across all sources before giving up (I/O failures back off exponentially). */
  attempts: number;
  /** A snapshot id to sync; default the newest any source lists. */
  snapshotId?: string;
  /** Weak-subjectivity checkpoint: verify certificates from this block instead of genesis. */
  checkpoint?: { number: bigint; hash: Uint8Array };
  /** Worker threads verifying state chunks (decompression and proofs run off the event loop). */
  verifyThreads: number;
  /** Download and verify everything, write nothing (`rustchain snapshot verify`). */
  dryRun?: boolean;
}
export const defaultWarpSyncOptions: WarpSyncOptions = {
  concurrency: 4,
  attempts: 6,
  verifyThreads: Math.max(1, Math.min(4, availableParallelism())),
};

export interface WarpSyncModules {
  db: Database;
  state: StateDb;
  genesis: Genesis;
  sources: readonly SnapshotSource[];
  crypto: CertificateCrypto;
  logger: Logger;
  progress?: SyncProgress;
  /** Default: a pool of `verifyThreads` workers for this sync. */
  verifier?: ChunkVerifier;
}

export interface WarpSyncResult {
  id: string;
  number: bigint;
  hash: Uint8Array;
  /** Chunks fetched in this run, and chunks a previous (interrupted) run had already verified. */
  downloaded: number;
  resumed: number;
}

const STATE_KINDS = new Set(["accounts", "storage", "code"]);

/** Run a warp sync into an empty (or interrupted) datadir. Undefined when the datadir already holds a chain. */
export async function warpSync(opts: WarpSyncOptions, m: WarpSyncModules): Promise<WarpSyncResult | undefined> {
  const { db, logger } = m;
  const progressStore = new WarpSyncStore(db);
  const underway = opts.dryRun ? undefined : await progressStore.current();
  if (!underway && !opts.dryRun && (await hasChain(db))) return undefined;

  const picked = await pickSnapshot(m.sources, underway?.id ?? opts.snapshotId);
  const id = picked.id;
  logger.info({ offered: picked.offered, picked: id }, "Snapshots offered");
  const sourcing = await snapshotSourcing(id, picked.sources, underway?.manifestHash);
  const { sources, manifest: manifestBytes } = sourcing;
  if (!manifestBytes) {
    throw new SnapshotError({
      code: underway ? "SNAPSHOT_MANIFEST_INVALID" : "SNAPSHOT_NOT_FOUND",
      ...(underway
        ? {
            reason: `no source has the manifest of snapshot ${id} this datadir started syncing; delete the datadir to start over`,
          }
        : { location: picked.sources.map((s) => s.name).join(", ") }),
    } as ConstructorParameters<typeof SnapshotError>[0]);
  }
  const manifestHash = blake3(manifestBytes);
  const manifest = decodeManifest(manifestBytes);
  const genesisHash = (await buildGenesisBlock(m.genesis, m.state)).hash;
  if (manifest.chainId !== m.genesis.params.chainId) {
    throw new SnapshotError({
      code: "SNAPSHOT_WRONG_CHAIN",
      reason: `chain id ${manifest.chainId}, ours is ${m.genesis.params.chainId}`,
    });
  }
  if (!equalBytes(manifest.genesisHash, genesisHash)) {
    throw new SnapshotError({
      code: "SNAPSHOT_WRONG_CHAIN",
      reason: `genesis ${bytesToHex(manifest.genesisHash)}, ours is ${bytesToHex(genesisHash)}`,
    });
  }
  logger.info(
    { id, number: Number(manifest.block.number), chunks: manifest.chunks.length, sources: sources.map((s) => s.name) },
    underway ? "Resuming warp sync" : "Warp sync started",
  );
  if (!underway && !opts.dryRun) await progressStore.begin(id, manifestHash);

  const done = opts.dryRun ? new Map<number, Uint8Array>() : await progressStore.done();
  /** What each state chunk proved: from this run, and from the markers of an earlier one. */
  const summaries = new Map<number, Uint8Array>();
  const verifier = m.verifier ?? createChunkVerifierPool(opts.verifyThreads);
  const fetcher = new ChunkFetcher(opts, id, manifest, sourcing, verifier, logger);
  const totalBytes = manifest.chunks.reduce((n, c) => n + c.size, 0);
  const doneBytes = manifest.chunks.filter((c) => done.has(c.index)).reduce((n, c) => n + c.size, 0);
  m.progress?.start(manifest.chunks.length, totalBytes, done.size, doneBytes);
  let downloaded = 0;
  try {
    // 2. The certificate chain and the headers: until they verify, the state root means nothing.
    const chainEntries = manifest.chunks.filter((c) => !STATE_KINDS.has(c.kind));
    const chainChunks = new Map<number, VerifiedChunk>();
    const fresh: { entry: ChunkEntry; raw: Uint8Array }[] = [];
    await runPool(chainEntries, opts.concurrency, async (entry) => {
      const stored = done.get(entry.index);
      if (stored) {
        chainChunks.set(entry.index, await verifyChunk(entry, stored, manifest.stateRoot));
        return;
      }
      const { raw } = await fetcher.fetch(entry);
      downloaded++;
      chainChunks.set(entry.index, await verifyChunk(entry, raw, manifest.stateRoot));
      fresh.push({ entry, raw });
    });
    const anchor = await verifyChain(opts, m, manifest, genesisHash, chainEntries, chainChunks);
    const batch = new WriteBatch();
    for (const { entry, raw } of fresh) {
      progressStore.markDone(batch, entry.index, raw);
      m.progress?.chunkDone(entry.size);
    }
    if (!opts.dryRun) await db.write(batch);

    // 3. State chunks, proven against the certified state root as they arrive.
    const stateEntries = manifest.chunks.filter((c) => STATE_KINDS.has(c.kind) && !done.has(c.index));
    await runPool(stateEntries, opts.concurrency, async (entry) => {
      const { summary, writes } = await fetcher.fetch(entry);
      summaries.set(entry.index, summary);
      if (!opts.dryRun) {
        const b = new WriteBatch();
        applyWrites(b, writes);
        progressStore.markDone(b, entry.index, summary);
        await db.write(b);
      }
      logger.debug({ chunk: entry.index, kind: entry.kind, bytes: entry.size }, "Chunk verified");
      downloaded++;
      m.progress?.chunkDone(entry.size);
    });

    // 4. Complete? Then anchor the chain at the snapshot block, in one batch.
    const coverage = new SnapshotCoverage();
    for (const c of manifest.chunks) {
      const summary = summaries.get(c.index) ?? done.get(c.index);
      if (STATE_KINDS.has(c.kind)) coverage.add(decodeSummary(summary as Uint8Array));
    }
    coverage.check();
    if (opts.dryRun) return { id, number: manifest.block.number, hash: manifest.block.hash, downloaded, resumed: 0 };
    const final = new WriteBatch();
    writeSnapshotAnchor(final, new HeaderStore(db), anchor.headers);
    new CheckpointStore(db).putSnapshotFinality(final, anchor.finalized, anchor.certificates);
    StateDb.markPreimagesRecorded(final);
    progressStore.finish(final);
    await db.write(final);
    await progressStore.clear();
  } finally {
    m.progress?.stop();
    if (!m.verifier) await verifier.close();
  }
  const result = {
    id,
    number: manifest.block.number,
    hash: manifest.block.hash,
    downloaded,
    resumed: done.size,
  };
  logger.info(
    { id, number: Number(result.number), hash: bytesToHex(result.hash), downloaded, resumed: done.size },
    "Warp sync finished",
  );
  return result;
}

const BUCKET_OF: Record<WriteTarget, BucketId> = {
  [WriteTarget.flatAccount]: Bucket.flatAccounts,
  [WriteTarget.flatStorage]: Bucket.flatStorage,
  [WriteTarget.preimage]: Bucket.preimages,
  [WriteTarget.trieNode]: Bucket.stateNodes,
  [WriteTarget.code]: Bucket.code,
};

/** A verified chunk's writes (chunkWorker.ts packs them) into the batch: flat view, preimages, trie nodes, code. */
function applyWrites(batch: WriteBatch, packed: Uint8Array): void {
  for (const [target, key, value] of unpackWrites(packed)) batch.put(BUCKET_OF[target], key, value);
}

/** Verifies stored chunks: a worker-thread pool in a node, inline in small tools. */
export interface ChunkVerifier {
  verify(task: ChunkTask): Promise<ChunkTaskResult>;
  close(): Promise<void>;
}

export const inlineChunkVerifier: ChunkVerifier = { verify: verifyStoredChunk, close: async () => {} };

export function createChunkVerifierPool(threads: number): ChunkVerifier {
  const pool = new Piscina({
    filename: new URL("./chunkWorker.ts", import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  return {
    // One buffer each way (the stored chunk, the packed writes), so the structured clone stays cheap.
    verify: (task) => pool.run(task) as Promise<ChunkTaskResult>,
    close: () => pool.destroy(),
  };
}

interface VerifiedAnchor {
  headers: BlockHeader[];
  finalized: Checkpoint;
  certificates: { slot: number; number: bigint; encoded: Uint8Array }[];
}

/** The certificate chain from genesis (or the checkpoint) ends at the manifest's block; headers link genesis to it. */
async function verifyChain(
  opts: WarpSyncOptions,
  m: WarpSyncModules,
  manifest: SnapshotManifest,
  genesisHash: Uint8Array,
  entries: ChunkEntry[],
  chunks: Map<number, VerifiedChunk>,
): Promise<VerifiedAnchor> {
  const certs: { index: number; encoded: Uint8Array }[] = [];
  const headers: { index: number; header: BlockHeader }[] = [];
  for (const e of entries) {
    const v = chunks.get(e.index);
    if (v?.kind === "certificates") for (const c of v.certificates) certs.push({ index: e.index, encoded: c });
    if (v?.kind === "headers") for (const h of v.headers) headers.push({ index: e.index, header: h });
  }
  const certificateError = (index: number, reason: string) =>
    new SnapshotError({ code: "SNAPSHOT_CERTIFICATE_INVALID", index, reason });

  // Where trust starts: genesis, or the certificate whose checkpoint is the weak-subjectivity block.
  let start: Checkpoint = { slot: 0, root: bytesToHex(genesisHash) };
  let first = 0;
  const cp = opts.checkpoint;
  if (cp) {
    const at = certs.findIndex((c) => {
      const d = decodeFinalityCertificate(c.encoded);
      return d.checkpoint.root === bytesToHex(cp.hash) && d.header.number === cp.number;
    });
    if (at < 0) {
      throw new SnapshotError({
        code: "SNAPSHOT_WRONG_CHAIN",
        reason: `the checkpoint ${cp.number}:${bytesToHex(cp.hash)} is not a certified checkpoint of this snapshot`,
      });
    }
    start = decodeFinalityCertificate((certs[at] as { encoded: Uint8Array }).encoded).checkpoint;
    first = at + 1;
  }
  const verifier = new CertificateVerifier(
    { chainId: m.genesis.params.chainId, validators: m.genesis.validators, crypto: m.crypto },
    { checkpoint: start },
  );
  const adopted: VerifiedAnchor["certificates"] = [];
  for (const [i, c] of certs.entries()) {
    const decoded = decodeFinalityCertificate(c.encoded);
    if (i >= first) {
      try {
        await verifier.verifyNext(c.encoded);
      } catch (e) {
        const code = e instanceof RustChainError ? `${(e.type as { code: string }).code}: ` : "";
        throw certificateError(c.index, `certificate for slot ${decoded.checkpoint.slot}: ${code}${describeError(e)}`);
      }
    }
    adopted.push({ slot: decoded.checkpoint.slot, number: decoded.header.number, encoded: c.encoded });
  }
  const verified = verifier.verified;
  const last = certs.at(-1);
  if (
    verified.checkpoint.root !== bytesToHex(manifest.block.hash) ||
    !last ||
    !equalBytes(last.encoded, manifest.certificate)
  ) {
    throw certificateError(last?.index ?? 0, "the certificate chain does not end at the snapshot's block");
  }

  // Headers: numbers 0..N in order, genesis first, each the parent of the next, the last the snapshot block.
  for (const [n, { index, header }] of headers.entries()) {
    if (header.number !== BigInt(n)) {
      throw new SnapshotError({
        code: "SNAPSHOT_CHUNK_MISMATCH",
        index,
        reason: `header ${header.number} at position ${n}`,
      });
    }
    const expectedParent = n === 0 ? undefined : headerHash(blake3, (headers[n - 1] as { header: BlockHeader }).header);
    if (
      n === 0
        ? !equalBytes(headerHash(blake3, header), genesisHash)
        : !equalBytes(header.parentHash, expectedParent as Uint8Array)
    ) {
      throw new SnapshotError({
        code: "SNAPSHOT_CHUNK_PROOF_INVALID",
        index,
        reason: n === 0 ? "the first header is not our genesis" : `header ${n} does not link to header ${n - 1}`,
      });
    }
  }
  const top = headers.at(-1);
  if (!top || !equalBytes(headerHash(blake3, top.header), manifest.block.hash)) {
    throw new SnapshotError({
      code: "SNAPSHOT_CHUNK_PROOF_INVALID",
      index: top?.index ?? 0,
      reason: "the headers do not end at the snapshot's block",
    });
  }
  return { headers: headers.map((h) => h.header), finalized: verified.checkpoint, certificates: adopted };
}

/** Fetches one chunk from the sources, verifying it; rotates sources on failures and backs off on I/O errors. */
class ChunkFetcher {
  constructor(
    private readonly opts: WarpSyncOptions,
    private readonly id: string,
    private readonly manifest: SnapshotManifest,
    private readonly sourcing: SnapshotSourcing,
    private readonly verifier: ChunkVerifier,
    private readonly logger: Logger,
  ) {}
  private next = 0;
  private readonly inFlight = new Map<SnapshotSource, number>();
  private waiters: (() => void)[] = [];

  /** A source with a free request slot (a peer serves one chunk at a time), waiting for one if need be. */
  private async acquire(candidates: SnapshotSource[]): Promise<SnapshotSource> {
    for (;;) {
      const free = candidates.filter((s) => (this.inFlight.get(s) ?? 0) < (s.maxInFlight ?? Number.POSITIVE_INFINITY));
      if (free.length > 0) {
        const source = free[this.next++ % free.length] as SnapshotSource;
        this.inFlight.set(source, (this.inFlight.get(source) ?? 0) + 1);
        return source;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private release(source: SnapshotSource): void {
    this.inFlight.set(source, (this.inFlight.get(source) ?? 1) - 1);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The chunk, verified: what it proved (encoded summary), its writes (packed) and its decompressed bytes. */
  async fetch(entry: ChunkEntry): Promise<{ summary: Uint8Array; writes: Uint8Array; raw: Uint8Array }> {
    if (entry.rawSize > MAX_CHUNK_BYTES) {
      throw new SnapshotError({
        code: "SNAPSHOT_CHUNK_MALFORMED",
        index: entry.index,
        reason: "rawSize above the limit",
      });
    }
    const refused = new Set<SnapshotSource>();
    /** Sources that failed this chunk with an I/O error: the others are tried first (a peer may have gone). */
    const failed = new Set<SnapshotSource>();
    let lastError: unknown;
    for (let attempt = 0; attempt < this.opts.attempts; attempt++) {
      const holding = this.sourcing.sources.filter((s) => !refused.has(s) && this.sourcing.holds(s, entry));
      if (holding.length === 0) break;
      const untried = holding.filter((s) => !failed.has(s));
      const candidates = untried.length > 0 ? untried : holding;
      const source = await this.acquire(candidates);
      let stored: Uint8Array;
      try {
        stored = await source.chunk(this.id, entry).finally(() => this.release(source));
      } catch (e) {
        lastError = e;
        failed.add(source);
        this.logger.warn({ chunk: entry.index, source: source.name, err: describeError(e) }, "Chunk download failed");
        await sleep(Math.min(5000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2));
        continue;
      }
      const outcome = await this.verifier.verify({ entry, stored, stateRoot: this.manifest.stateRoot });
      if (outcome.ok) return outcome;
      // Bad data, not bad luck: this source is not asked for this chunk again.
      const refusal = new SnapshotError(outcome.error);
      lastError = refusal;
      refused.add(source);
      source.reportBad?.(describeError(refusal));
      this.logger.warn({ chunk: entry.index, source: source.name, err: describeError(refusal) }, "Chunk refused");
    }
    if (lastError instanceof SnapshotError) throw lastError;
    throw new SnapshotError({
      code: "SNAPSHOT_INCOMPLETE",
      reason: `chunk ${entry.index} could not be fetched: ${describeError(lastError)}`,
    });
  }
}

/** Run `task` over `items` with at most `concurrency` at once; the first failure stops new work and is thrown. */
async function runPool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && i < items.length) {
      const item = items[i++] as T;
      try {
        await task(item);
      } catch (e) {
        failed ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed) throw failed.error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
