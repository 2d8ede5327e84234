// What a stored trie node points at, for the pruner's mark phase: the hashes of its children stored on their own
// (nodes of 32 bytes or more; shorter ones are embedded and walked in place) and, in the account trie, the storage
// trie roots of the accounts in its leaves. Account-trie and storage-trie nodes never share an encoding: an account
// leaf holds an account RLP of 70 bytes or more, a storage leaf a word of at most 33, and branches and extensions are
// equal only if everything under them is. So one mark set serves both kinds.
//
// The mark reads every live node once per run, so this scans the RLP in place (no decoded node objects, no copies):
// a node is a list of 17 items (branch: 16 children and a value) or of 2 (hex-prefixed path, then a leaf's value or
// an extension's child); a child is empty, a 32-byte hash, or an embedded node (a list). Anything else is a damaged
// database and throws ChainError.
import { ChainError } from "@rustchain/shared";
import { EMPTY_TRIE_ROOT } from "./account.ts";

export interface NodeRefs {
  /** Hashes of child nodes stored under their own key. */
  children: Uint8Array[];
  /** Roots of storage tries (account trie only; the empty trie's root, which is never stored, left out). */
  storageRoots: Uint8Array[];
}

const bad = (reason: string) => new ChainError({ code: "RLP_INVALID", reason: `trie node: ${reason}` });

// The item readItem() found: its payload [start, end) and whether it is a list. Module state, so scanning allocates
// nothing; the functions below are synchronous and never re-entered across an await.
let itemStart = 0;
let itemEnd = 0;
let itemIsList = false;

/** Read the RLP item at `pos` (before `limit`); returns the position after it. */
function readItem(b: Uint8Array, pos: number, limit: number): number {
  if (pos >= limit) throw bad("truncated");
  const h = b[pos] as number;
  let start: number;
  let length: number;
  if (h < 0x80) {
    itemIsList = false;
    start = pos;
    length = 1;
  } else if (h <= 0xb7) {
    itemIsList = false;
    start = pos + 1;
    length = h - 0x80;
  } else if (h < 0xc0) {
    itemIsList = false;
    [start, length] = longLength(b, pos, h - 0xb7, limit);
  } else if (h <= 0xf7) {
    itemIsList = true;
    start = pos + 1;
    length = h - 0xc0;
  } else {
    itemIsList = true;
    [start, length] = longLength(b, pos, h - 0xf7, limit);
  }
  if (start + length > limit) throw bad("item overruns its list");
  itemStart = start;
  itemEnd = start + length;
  return itemEnd;
}

function longLength(b: Uint8Array, pos: number, bytes: number, limit: number): [number, number] {
  if (bytes > 4 || pos + 1 + bytes > limit) throw bad("bad length");
  let length = 0;
  for (let i = 1; i <= bytes; i++) length = length * 256 + (b[pos + i] as number);
  return [pos + 1 + bytes, length];
}

/** The references of the node encoded as `enc`, appended to `out`. Throws ChainError on a malformed node. */
export function collectNodeRefs(enc: Uint8Array, accountTrie: boolean, out: NodeRefs): void {
  readItem(enc, 0, enc.length);
  if (!itemIsList || itemEnd !== enc.length) throw bad("not a list");
  walkNode(enc, itemStart, itemEnd, accountTrie, out);
}

/** The node whose list payload is enc[start, end). */
function walkNode(enc: Uint8Array, start: number, end: number, accountTrie: boolean, out: NodeRefs): void {
  // Count the items first: 2 (leaf or extension) or 17 (branch).
  let count = 0;
  for (let p = start; p < end; count++) p = readItem(enc, p, end);
  if (count === 17) {
    let p = start;
    for (let i = 0; i < 16; i++) {
      p = readItem(enc, p, end);
      child(enc, accountTrie, out);
    }
    readItem(enc, p, end);
    if (itemIsList) throw bad("branch value is a list");
    if (accountTrie && itemEnd > itemStart) storageRootOf(enc, itemStart, itemEnd, out);
    return;
  }
  if (count !== 2) throw bad(`${count} items`);
  const p = readItem(enc, start, end);
  if (itemIsList || itemEnd === itemStart) throw bad("bad path");
  const leaf = (enc[itemStart] as number) >> 4 >= 2;
  readItem(enc, p, end);
  if (!leaf) {
    if (itemEnd === itemStart && !itemIsList) throw bad("empty extension");
    child(enc, accountTrie, out);
  } else {
    if (itemIsList) throw bad("leaf value is a list");
    if (accountTrie) storageRootOf(enc, itemStart, itemEnd, out);
  }
}

/** The child item just read: nothing, a hash, or an embedded node walked in place. */
function child(enc: Uint8Array, accountTrie: boolean, out: NodeRefs): void {
  if (itemIsList) {
    walkNode(enc, itemStart, itemEnd, accountTrie, out);
    return;
  }
  const length = itemEnd - itemStart;
  if (length === 32) out.children.push(enc.subarray(itemStart, itemEnd));
  else if (length !== 0) throw bad("bad child reference");
}

/** An account RLP [nonce, balance, storageRoot, codeHash] at enc[start, end): its storage root if not empty. */
function storageRootOf(enc: Uint8Array, start: number, end: number, out: NodeRefs): void {
  readItem(enc, start, end);
  if (!itemIsList || itemEnd !== end) throw bad("account is not a list");
  const listEnd = itemEnd;
  let p = readItem(enc, itemStart, listEnd); // nonce
  p = readItem(enc, p, listEnd); // balance
  readItem(enc, p, listEnd); // storage root
  if (itemIsList || itemEnd - itemStart !== 32) throw bad("bad storage root");
  const root = enc.subarray(itemStart, itemEnd);
  if (Buffer.compare(root, EMPTY_TRIE_ROOT) !== 0) out.storageRoots.push(root);
}
