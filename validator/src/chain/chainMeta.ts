// The chain's own meta records (Bucket.meta): the one owner of their keys.
//
//   "genesis"        block hash of genesis, written once (a datadir is bound to one genesis)
//   "head"           block hash of the canonical head
//   "history-start"  u64 number of the first block whose body and receipts are stored (absent: 0). A warp-synced
//                    node has headers from genesis but bodies only after its snapshot block.
export const META_HEAD = new TextEncoder().encode("head");
export const META_GENESIS = new TextEncoder().encode("genesis");
export const META_HISTORY_START = new TextEncoder().encode("history-start");
