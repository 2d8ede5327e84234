// Where snapshot manifests and chunks come from: an object store (S3 or a directory) or peers (snapSync.ts). No
// source is trusted: whatever one returns is checked against the manifest's hashes and the certified state root.

import { blake3, bytesToHex, describeError, equalBytes } from "@rustchain/shared";
import { SnapshotError } from "@rustchain/shared/snapshot/errors";
import {
  type ChunkEntry,
  decodeManifest,
  MAX_MANIFEST_BYTES,
  SNAPSHOT_ID_PATTERN,
  type SnapshotManifest,
  snapshotKeys,
} from "@rustchain/shared/snapshot/manifest";
import { type ObjectStore, ObjectStoreError } from "./objectStore.ts";

export interface SnapshotSource {
  /** For logs and errors: s3://bucket/prefix, a directory, or peer:<id>. */
  readonly name: string;
  /** Chunk requests this source takes at once (default unbounded: the pool's concurrency). */
  readonly maxInFlight?: number;
  /** Snapshot ids this source holds, oldest first (a peer lists only its newest: see `partialListing`). */
  list(): Promise<string[]>;
  /** The listing may leave out snapshots the source still serves (a peer announces only its newest). */
  readonly partialListing?: boolean;
  manifest(id: string): Promise<Uint8Array>;
  chunk(id: string, entry: ChunkEntry, signal?: AbortSignal): Promise<Uint8Array>;
  /** The source served a chunk that failed verification (a peer is scored down; a store is just reported). */
  reportBad?(reason: string): void;
}

/** Snapshot ids in a store: the directories that have a manifest (an export writes it last). */
export async function listSnapshotIds(store: ObjectStore): Promise<string[]> {
  const objects = await store.list("");
  const ids = objects
    .map((o) => o.key.split("/"))
    .filter((parts) => parts.length === 2 && parts[1] === "manifest.json" && SNAPSHOT_ID_PATTERN.test(parts[0] ?? ""))
    .map((parts) => parts[0] as string);
  return ids.sort();
}

export function storeSource(store: ObjectStore): SnapshotSource {
  return {
    name: store.location,
    list: () => listSnapshotIds(store),
    manifest: (id) => store.get(snapshotKeys.manifest(id), { maxBytes: MAX_MANIFEST_BYTES }),
    chunk: async (id, entry, signal) => {
      try {
        return await store.get(snapshotKeys.chunk(id, entry), { maxBytes: entry.size, signal });
      } catch (e) {
        // Larger than the manifest says: bad data (another chunk under this name), not a failure worth retrying.
        if (e instanceof ObjectStoreError && e.type.code === "OBJECT_TOO_LARGE") {
          throw new SnapshotError({
            code: "SNAPSHOT_CHUNK_HASH_MISMATCH",
            index: entry.index,
            expected: `${entry.size} bytes`,
            got: "a larger object",
          });
        }
        throw e;
      }
    },
  };
}

/** Snapshot ids sort by block number (zero-padded), so the newest is the greatest. At most this many are tried. */
const MAX_CANDIDATES = 8;

/**
 * The snapshot to sync and the sources that hold it: the one asked for; else the newest that at least two sources
 * hold (or one, when only one source has any), since more sources mean a faster, sturdier download than a few more
 * blocks of recency (range sync covers those). A source whose listing is partial (a peer lists only its newest) is
 * asked for each candidate's manifest, so a peer that exported a newer snapshot still counts for an older one it
 * keeps.
 */
export async function pickSnapshot(
  sources: readonly SnapshotSource[],
  wanted?: string,
): Promise<{ id: string; sources: SnapshotSource[]; offered: Record<string, string[]> }> {
  const listed = await Promise.all(sources.map((s) => s.list().catch(() => [] as string[])));
  const offered = Object.fromEntries(sources.map((s, i) => [s.name, listed[i] ?? []]));
  const candidates = wanted
    ? [wanted]
    : [...new Set(listed.flat())].sort((a, b) => (a < b ? 1 : -1)).slice(0, MAX_CANDIDATES);
  const holders = async (id: string) => {
    const holds = await Promise.all(
      sources.map(
        async (s, i) =>
          listed[i]?.includes(id) ||
          (s.partialListing === true &&
            (await s.manifest(id).then(
              (b) => b.length > 0,
              () => false,
            ))),
      ),
    );
    return sources.filter((_, i) => holds[i]);
  };
  const enough = Math.min(2, listed.filter((l) => l.length > 0).length);
  let best: { id: string; sources: SnapshotSource[] } | undefined;
  for (const id of candidates) {
    const having = await holders(id);
    if (having.length > (best?.sources.length ?? 0)) best = { id, sources: having };
    if (having.length >= Math.max(1, enough)) return { id, sources: having, offered };
  }
  if (!best) {
    throw new SnapshotError({
      code: "SNAPSHOT_NOT_FOUND",
      location: `${sources.map((s) => s.name).join(", ")}${wanted ? ` (snapshot ${wanted})` : ""}`,
    });
  }
  return { ...best, offered };
}

/** Where the chunks of one snapshot can come from. */
export interface SnapshotSourcing {
  /** The manifest to sync (the most common one, or the one an interrupted sync started with). */
  manifest: Uint8Array | undefined;
  /** Every source with a manifest for the same block and state root. */
  sources: SnapshotSource[];
  /** Whether a source holds chunk `entry` of that manifest: the same index with the same hash. */
  holds(source: SnapshotSource, entry: ChunkEntry): boolean;
}

/**
 * Fetch each source's manifest of snapshot `id` and pick one. Exports of one block by different validators agree on
 * the state, header and code chunks (deterministic for a chunk budget) but not on the certificate chunks, whose
 * aggregates each node assembles itself; so a source serves exactly the chunks its own manifest lists with the same
 * hash as the chosen one. Ties go to a manifest an operator's store holds.
 */
export async function snapshotSourcing(
  id: string,
  sources: readonly SnapshotSource[],
  expected?: Uint8Array,
): Promise<SnapshotSourcing> {
  const found: { source: SnapshotSource; bytes: Uint8Array; key: string; manifest: SnapshotManifest }[] = [];
  let refusal: unknown;
  await Promise.all(
    sources.map(async (source) => {
      const bytes = await source.manifest(id).catch(() => undefined);
      if (!bytes) return;
      try {
        found.push({ source, bytes, key: bytesToHex(blake3(bytes)), manifest: decodeManifest(bytes) });
      } catch (e) {
        refusal ??= e;
        source.reportBad?.(`manifest: ${describeError(e)}`);
      }
    }),
  );
  const count = (key: string) => found.filter((f) => f.key === key).length;
  const isStore = (f: { source: SnapshotSource }) => !f.source.name.startsWith("peer:");
  const chosen = expected
    ? found.find((f) => f.key === bytesToHex(expected))
    : [...found].sort((a, b) => count(b.key) - count(a.key) || Number(isStore(b)) - Number(isStore(a)))[0];
  if (!chosen) {
    // Nothing usable: say why when a source served a manifest we had to refuse.
    if (refusal) throw refusal;
    return { manifest: undefined, sources: [], holds: () => false };
  }
  const same = found.filter(
    (f) =>
      equalBytes(f.manifest.block.hash, chosen.manifest.block.hash) &&
      equalBytes(f.manifest.stateRoot, chosen.manifest.stateRoot),
  );
  const held = new Map(
    same.map((f) => [f.source, new Map(f.manifest.chunks.map((c) => [c.index, bytesToHex(c.hash)]))]),
  );
  return {
    manifest: chosen.bytes,
    sources: same.map((f) => f.source),
    holds: (source, entry) => held.get(source)?.get(entry.index) === bytesToHex(entry.hash),
  };
}
