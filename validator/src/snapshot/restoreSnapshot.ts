// Restoring a datadir from a snapshot before the chain opens (`rustchain node --warp-sync`, `--sync-mode snap`): the
// wiring of sources (stores, peers) around warpSync(). A no-op once the datadir holds a chain.
import type { Genesis } from "@rustchain/shared";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import type { Logger } from "pino";
import { buildGenesisBlock } from "../chain/genesisBlock.ts";
import type { Database } from "../db/database.ts";
import { createNetwork, type Network } from "../network/network.ts";
import { type NetworkOptionsInput, networkOptions } from "../network/options.ts";
import { genesisOnlyHandlers } from "../network/reqRespCodec.ts";
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
      handlers: genesisOnlyHandlers(opts.genesis.params.chainId, genesisHash),
    });
    await network.start();
    const want = Math.max(1, opts.network.bootstrap?.length ?? 1);
    sources.push(...(await peerSources(network, log, { want, settleMs: 5_000, waitMs: w.peerWaitMs ?? 15_000 })));
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
