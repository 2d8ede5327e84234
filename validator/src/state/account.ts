import { BLAKE3_EMPTY, blake3, emptyTrieRoot } from "@rustchain/shared";
import type { Account } from "@rustchain/shared/account";

export { type Account, decodeAccount, encodeAccount } from "@rustchain/shared/account";

export const EMPTY_TRIE_ROOT = emptyTrieRoot(blake3);

export function emptyAccount(): Account {
  return { nonce: 0n, balance: 0n, storageRoot: EMPTY_TRIE_ROOT, codeHash: BLAKE3_EMPTY };
}

export function isEmptyAccount(a: Account): boolean {
  return (
    a.nonce === 0n &&
    a.balance === 0n &&
    Buffer.compare(a.codeHash, BLAKE3_EMPTY) === 0 &&
    Buffer.compare(a.storageRoot, EMPTY_TRIE_ROOT) === 0
  );
}
