// A warp-synced chain's starting point: the headers from genesis to the snapshot block (verified by the caller: hash
// links up to a certified block), made canonical, with that block as the head. Bodies and receipts start after it
// (META_HISTORY_START), so the chain serves headers for all of history and blocks from the snapshot on.
import { type BlockHeader, blockHash } from "@rustchain/shared";
import { Bucket, u64Key, type WriteBatch } from "../db/database.ts";
import { META_GENESIS, META_HEAD, META_HISTORY_START } from "./chainMeta.ts";
import type { HeaderStore } from "./headerStore.ts";

/** Add the anchor to `batch`; `headers` run from genesis (number 0) to the snapshot block, each the parent of the next. */
export function writeSnapshotAnchor(batch: WriteBatch, store: HeaderStore, headers: readonly BlockHeader[]): void {
  let hash: Uint8Array | undefined;
  for (const h of headers) {
    hash = blockHash(h);
    store.put(batch, hash, h);
    batch.put(Bucket.blockNumbers, hash, u64Key(h.number));
    batch.put(Bucket.canonical, u64Key(h.number), hash);
    if (h.number === 0n) batch.put(Bucket.meta, META_GENESIS, hash);
  }
  const top = headers.at(-1);
  if (!top || !hash) return;
  batch.put(Bucket.meta, META_HEAD, hash);
  batch.put(Bucket.meta, META_HISTORY_START, u64Key(top.number + 1n));
}

/** Whether the datadir already holds a chain (a finished warp sync or a node that ran before). */
export async function hasChain(db: {
  get(b: number, k: Uint8Array): Promise<Uint8Array | undefined>;
}): Promise<boolean> {
  return (await db.get(Bucket.meta, META_GENESIS)) !== undefined;
}
