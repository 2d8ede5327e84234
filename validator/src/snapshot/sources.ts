// Where snapshot manifests and chunks come from: an object store (S3 or a directory) or peers (snapSync.ts). No
// source is trusted: whatever one returns is checked against the manifest's hashes and the certified state root.

import { blake3, bytesToHex } from "@rustchain/shared";
import { SnapshotError } from "@rustchain/shared/snapshot/errors";
import {
  type ChunkEntry,
  MAX_MANIFEST_BYTES,
  SNAPSHOT_ID_PATTERN,
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
): Promise<{ id: string; sources: SnapshotSource[] }> {
  const listed = await Promise.all(sources.map((s) => s.list().catch(() => [] as string[])));
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
  return { id, sources: having };
}

/**
 * The sources that agree on one manifest: among those listing the chosen snapshot, the largest group with the same
 * manifest bytes (exports of one block by different validators can differ in their certificate chunks, whose
 * aggregates each node builds itself; state chunks are the same everywhere). Sources outside the group are dropped.
 */
export async function agreeingSources(
  id: string,
  sources: readonly SnapshotSource[],
  expected?: Uint8Array,
): Promise<{ sources: SnapshotSource[]; manifest: Uint8Array | undefined }> {
  const groups = new Map<string, SnapshotSource[]>();
  const bodies = new Map<string, Uint8Array>();
  await Promise.all(
    sources.map(async (s) => {
      const bytes = await s.manifest(id).catch(() => undefined);
      if (!bytes) return;
      const k = bytesToHex(blake3(bytes));
      if (expected && k !== bytesToHex(expected)) return;
      bodies.set(k, bytes);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }),
  );
  // Ties go to the group with a store in it (an operator chose that store), then to the first found.
  const ranked = [...groups.values()].sort(
    (a, b) =>
      b.length - a.length ||
      Number(b.some((s) => !s.name.startsWith("peer:"))) - Number(a.some((s) => !s.name.startsWith("peer:"))),
  );
  const best = ranked[0] ?? [];
  const manifest = [...bodies.entries()].find(([k]) => groups.get(k) === best)?.[1];
  return { sources: best, manifest };
}
