// The chain's own meta records (Bucket.meta): the one owner of their keys.
//
//   "genesis"        block hash of genesis, written once (a datadir is bound to one genesis)
//   "head"           block hash of the canonical head
//   "history-start"  u64 number of the first block whose body and receipts are stored (absent: 0). A warp-synced
//                    node has headers from genesis but bodies only after its snapshot block.
//   "state-floor"    u64 number of the first canonical block whose state (trie nodes) is kept (absent: the first
//                    block with state, 0 or a warp sync's snapshot block). Raised by the state pruner before it
//                    deletes anything (statePruner.ts), never lowered.
export const META_HEAD = new TextEncoder().encode("head");
export const META_GENESIS = new TextEncoder().encode("genesis");
export const META_HISTORY_START = new TextEncoder().encode("history-start");
export const META_STATE_FLOOR = new TextEncoder().encode("state-floor");
