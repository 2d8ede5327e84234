// Which historical states a node keeps (docs/node.md, "State pruning"). A full node keeps the state of every canonical
// block from `finalized - history` up, and of every block above the finalized one (forks included); an archive node
// keeps everything it ever stored. Below that the trie nodes may be gone, and reads answer StateError STATE_PRUNED.
// This is the interface the readers of old state see (RPC, snapshot export, consensus); chain/statePruner.ts
// implements it.
import { StateError } from "@rustchain/shared";

export interface StateRetention {
  /** True when nothing is pruned (`--archive`). */
  readonly archive: boolean;
  /** The first block whose state is kept: every canonical block from it to the head has its whole state. */
  firstAvailableBlock(): bigint;
  /** Throws StateError STATE_PRUNED when the state of canonical block `number` is not kept. */
  assertAvailable(number: bigint): void;
  /**
   * Keep the state of canonical block `number` (state root `root`) until the returned release is called, even once it
   * falls out of the kept window (a snapshot export reading it). Throws STATE_PRUNED when it is gone already.
   */
  pin(number: bigint, root: Uint8Array): () => void;
  /**
   * A reader of blocks' flat-state diffs (the replication feed rebuilding old bundles): diffs of canonical blocks from
   * the number `from` returns on are kept (undefined: no need).
   */
  holdFlatDiffs(from: () => Promise<bigint | undefined>): void;
}

/**
 * The first block whose state is kept: `floor` (what earlier pruning runs, or a warp sync, left) or, for a full node
 * that knows a finalized block, `finalized - history` if that is higher.
 */
export function firstAvailableBlock(p: {
  archive: boolean;
  history: number;
  finalized: bigint | undefined;
  floor: bigint;
}): bigint {
  if (p.archive || p.finalized === undefined) return p.floor;
  const window = p.finalized - BigInt(p.history);
  return window > p.floor ? window : p.floor;
}

/** The STATE_PRUNED error for a read at block `number`. */
export function statePruned(number: bigint, firstAvailable: bigint, archive: boolean, history: number): StateError {
  return new StateError({ code: "STATE_PRUNED", number, firstAvailable, keptBlocks: archive ? null : history });
}
