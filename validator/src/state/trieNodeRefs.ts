// What a stored trie node points at, for the pruner's mark phase: the hashes of its children stored on their own
// (nodes of 32 bytes or more; shorter ones are embedded and walked in place) and, in the account trie, the storage
// trie roots of the accounts in its leaves. Account-trie and storage-trie nodes never share an encoding: an account
// leaf holds an account RLP of 70 bytes or more, a storage leaf a word of at most 33, and branches and extensions are
// equal only if everything under them is. So one mark set serves both kinds.
import { decodeTrieNode, type TrieNode } from "@rustchain/shared";
import { decodeAccount } from "@rustchain/shared/account";
import { EMPTY_TRIE_ROOT } from "./account.ts";

export interface NodeRefs {
  /** Hashes of child nodes stored under their own key. */
  children: Uint8Array[];
  /** Roots of storage tries (account trie only; the empty trie's root, which is never stored, left out). */
  storageRoots: Uint8Array[];
}

/** The references of the node encoded as `enc`, appended to `out`. Throws ChainError on a malformed node. */
export function collectNodeRefs(enc: Uint8Array, accountTrie: boolean, out: NodeRefs): void {
  walk(decodeTrieNode(enc), accountTrie, out);
}

function walk(node: TrieNode, accountTrie: boolean, out: NodeRefs): void {
  switch (node.t) {
    case 3:
      out.children.push(node.hash);
      return;
    case 0:
      if (accountTrie) storageRootOf(node.value, out);
      return;
    case 1:
      walk(node.child, accountTrie, out);
      return;
    case 2:
      for (const child of node.children) if (child) walk(child, accountTrie, out);
      if (accountTrie && node.value) storageRootOf(node.value, out);
      return;
  }
}

function storageRootOf(accountRlp: Uint8Array, out: NodeRefs): void {
  const { storageRoot } = decodeAccount(accountRlp);
  if (Buffer.compare(storageRoot, EMPTY_TRIE_ROOT) !== 0) out.storageRoots.push(storageRoot);
}
