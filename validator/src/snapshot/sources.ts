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
  /** Snapshot ids this source holds, oldest first. */
  list(): Promise<string[]>;
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

/**
 * The snapshot to sync (the one asked for, else the one most sources list, the newest among equals) and the sources
 * that list it.
 */
export async function pickSnapshot(
  sources: readonly SnapshotSource[],
  wanted?: string,
): Promise<{ id: string; sources: SnapshotSource[]; offered: Record<string, string[]> }> {
  const listed = await Promise.all(sources.map((s) => s.list().catch(() => [] as string[])));
  const offered = Object.fromEntries(sources.map((s, i) => [s.name, listed[i] ?? []]));
  let id = wanted;
  if (!id) {
    const counts = new Map<string, number>();
    for (const ids of listed) for (const i of ids) counts.set(i, (counts.get(i) ?? 0) + 1);
    id = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1))[0]?.[0];
  }
  const having = sources.filter((_, i) => id !== undefined && listed[i]?.includes(id));
  if (!id || having.length === 0) {
    throw new SnapshotError({
      code: "SNAPSHOT_NOT_FOUND",
      location: `${sources.map((s) => s.name).join(", ")}${wanted ? ` (snapshot ${wanted})` : ""}`,
    });
  }
  return { id, sources: having, offered };
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
