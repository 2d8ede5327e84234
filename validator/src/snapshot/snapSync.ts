// Snap sync (docs/sync.md): the chunks of a warp sync served by peers over libp2p req/resp (`snapshot_manifest`,
// `snapshot_chunk`, with their own byte budget and deadline). Every node that exports snapshots keeps them in
// <datadir>/snapshots and serves them; a syncing node asks its peers for their newest manifest, keeps the peers that
// agree on the most common one, and fetches chunks from all of them at once (and from S3 too when given). Peers are
// not trusted any more than S3 is: a chunk that fails verification costs the peer its score and is fetched elsewhere.
import type { PeerId } from "@libp2p/interface";
import { describeError } from "@rustchain/shared";
import { SnapshotError } from "@rustchain/shared/snapshot/errors";
import { decodeManifest, snapshotId, snapshotKeys } from "@rustchain/shared/snapshot/manifest";
import type { Logger } from "pino";
import type { Network } from "../network/network.ts";
import type { ReqRespHandlers } from "../network/reqRespCodec.ts";
import type { ObjectStore } from "./objectStore.ts";
import { listSnapshotIds, type SnapshotSource } from "./sources.ts";

/** Serve the snapshots in `store` (the node's own exports) to peers. */
export function snapshotHandlers(
  store: ObjectStore | undefined,
): Pick<ReqRespHandlers, "snapshotManifest" | "snapshotChunk"> {
  const manifests = new Map<string, ReturnType<typeof decodeManifest>>();
  const manifestOf = async (id: string) => {
    const cached = manifests.get(id);
    if (cached) return cached;
    const decoded = decodeManifest(await (store as ObjectStore).get(snapshotKeys.manifest(id)));
    if (manifests.size >= 4) manifests.delete(manifests.keys().next().value as string);
    manifests.set(id, decoded);
    return decoded;
  };
  return {
    snapshotManifest: async (id) => {
      if (!store) return undefined;
      const target = id ?? (await listSnapshotIds(store)).at(-1);
      if (!target) return undefined;
      return store.get(snapshotKeys.manifest(target)).catch(() => undefined);
    },
    snapshotChunk: async (id, index) => {
      if (!store) return undefined;
      const manifest = await manifestOf(id).catch(() => undefined);
      const entry = manifest?.chunks[index];
      if (!entry) return undefined;
      return store.get(snapshotKeys.chunk(id, entry)).catch(() => undefined);
    },
  };
}

/** A peer as a snapshot source. */
export function peerSource(network: Network, peer: PeerId, logger: Logger): SnapshotSource {
  let newest: { id: string; bytes: Uint8Array } | undefined;
  const name = `peer:${peer.toString()}`;
  return {
    name,
    // One chunk at a time per peer: parallelism comes from asking several peers (and it keeps one peer's
    // connection from queueing megabytes of concurrent responses).
    maxInFlight: 1,
    // A peer announces its newest snapshot only; it may keep and serve older ones.
    partialListing: true,
    async list() {
      const bytes = await network.requestSnapshotManifest(peer, undefined);
      if (!bytes) return [];
      let decoded: ReturnType<typeof decodeManifest>;
      try {
        decoded = decodeManifest(bytes);
      } catch (e) {
        network.reportPeer(peer, "SNAPSHOT_BAD_MANIFEST", "invalid");
        logger.warn({ peer: peer.toString(), err: describeError(e) }, "Peer served a malformed snapshot manifest");
        return [];
      }
      newest = { id: snapshotId(decoded.block.number, decoded.block.hash), bytes };
      return [newest.id];
    },
    async manifest(id) {
      if (newest?.id === id) return newest.bytes;
      const bytes = await network.requestSnapshotManifest(peer, id);
      if (!bytes) throw new SnapshotError({ code: "SNAPSHOT_NOT_FOUND", location: `${name} (snapshot ${id})` });
      return bytes;
    },
    async chunk(id, entry) {
      const bytes = await network.requestSnapshotChunk(peer, id, entry.index);
      if (!bytes) throw new SnapshotError({ code: "SNAPSHOT_NOT_FOUND", location: `${name} (chunk ${entry.index})` });
      return bytes;
    },
    reportBad(reason) {
      logger.warn({ peer: peer.toString(), reason }, "Peer served a bad snapshot chunk; penalised");
      network.reportPeer(peer, "SNAPSHOT_BAD_CHUNK", "invalid");
    },
  };
}

/**
 * Wait for peers, then make a source of each: until `want` peers are connected, or `settleMs` after the first one
 * (so one fast peer does not leave the others out), or `waitMs` in all.
 */
export async function peerSources(
  network: Network,
  logger: Logger,
  opts: { want: number; settleMs: number; waitMs: number },
): Promise<SnapshotSource[]> {
  const deadline = Date.now() + opts.waitMs;
  let firstAt: number | undefined;
  for (;;) {
    const n = network.peers().length;
    if (n > 0) firstAt ??= Date.now();
    if (n >= opts.want || Date.now() >= deadline || (firstAt !== undefined && Date.now() - firstAt >= opts.settleMs))
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const peers = network.peers();
  logger.info({ peers: peers.length, want: opts.want }, "Snapshot peers connected");
  return peers.map((p) => peerSource(network, p, logger));
}
