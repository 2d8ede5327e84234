// The root that binds a slashing-protection database to one chain: RustChain's genesis block hash, what the node
// calls `chain.genesisHash`. The signer has no chain database, so it builds the genesis block from the genesis file
// the way the chain does (chain/genesisBlock.ts), on a throwaway database that is deleted afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Genesis } from "@rustchain/shared";
import { buildGenesisBlock } from "../chain/genesisBlock.ts";
import { Database } from "../db/database.ts";
import { StateDb } from "../state/stateDb.ts";

export async function genesisValidatorsRoot(genesis: Genesis): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-genesis-"));
  try {
    const db = await Database.open(dir);
    try {
      const state = new StateDb({ nodeCacheSize: 1024, accountCacheSize: 1024 }, { db });
      return (await buildGenesisBlock(genesis, state)).hash;
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
