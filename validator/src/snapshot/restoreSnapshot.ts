// Restoring a datadir from a snapshot before the chain opens (`rustchain node --warp-sync`, `--sync-mode snap`): the
// wiring of sources (stores, peers) around warpSync(). A no-op once the datadir holds a chain.
import type { Genesis } from "@rustchain/shared";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import type { Logger } from "pino";
import { buildGenesisBlock } from "../chain/genesisBlock.ts";
import type { Database } from "../db/database.ts";
import { createNetwork, type Network } from "../network/network.ts";
import { type NetworkOptionsInput, networkOptions } from "../network/options.ts";
import type { ReqRespHandlers } from "../network/reqRespCodec.ts";
import type { StateDb } from "../state/stateDb.ts";
import type { ObjectStore } from "./objectStore.ts";
import { createSyncProgress } from "./progress.ts";
import { peerSources } from "./snapSync.ts";
import { type SnapshotSource, storeSource } from "./sources.ts";
import { defaultWarpSyncOptions, type WarpSyncOptions, warpSync } from "./warpSync.ts";

export interface RestoreOptions {
  stores: ObjectStore[];
  /** Snap sync: also fetch from the bootstrap peers (needs `network`). */
  fromPeers: boolean;
  options?: Partial<WarpSyncOptions>;
  /** How long to wait for a first peer. */
  peerWaitMs?: number;
  genesis: Genesis;
  datadir: string;
  network?: NetworkOptionsInput;
  checkpoint?: { number: bigint; hash: Uint8Array };
}

/** What a node serves while it snap-syncs: its genesis as head, and nothing else. */
function bootstrapHandlers(chainId: bigint, genesisHash: Uint8Array): ReqRespHandlers {
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

/**
 * Warp or snap sync into this datadir (a no-op once it holds a chain). For snap sync a short-lived libp2p node with
 * the node's own identity asks the bootstrap peers for snapshots; it stops before the real network starts.
 */
export async function restoreSnapshot(
  opts: RestoreOptions,
  parts: { db: Database; state: StateDb },
  logger: Logger,
): Promise<void> {
  const w = opts;
  const log = logger.child({ module: "warp-sync" });
  const sources: SnapshotSource[] = w.stores.map(storeSource);
  let network: Network | undefined;
  if (w.fromPeers && opts.network) {
    const { hash: genesisHash } = await buildGenesisBlock(opts.genesis, parts.state);
    network = createNetwork(networkOptions({ datadir: opts.datadir, ...opts.network }), {
      logger: logger.child({ module: "network" }),
      chainId: opts.genesis.params.chainId,
      handlers: bootstrapHandlers(opts.genesis.params.chainId, genesisHash),
    });
    await network.start();
    sources.push(...(await peerSources(network, log, { min: 1, waitMs: w.peerWaitMs ?? 15_000 })));
  }
  try {
    await warpSync(
      { ...defaultWarpSyncOptions, checkpoint: opts.checkpoint, ...w.options },
      {
        ...parts,
        genesis: opts.genesis,
        sources,
        crypto: nativeCertificateCrypto,
        logger: log,
        progress: createSyncProgress(log),
      },
    );
  } finally {
    await network?.stop();
  }
}
