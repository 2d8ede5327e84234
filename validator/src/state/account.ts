import {
  BLAKE3_EMPTY,
  blake3,
  emptyTrieRoot,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  rlpUint,
} from "@rustchain/shared";

export interface Account {
  nonce: bigint;
  balance: bigint;
  storageRoot: Uint8Array;
  codeHash: Uint8Array;
}

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

export function encodeAccount(a: Account): Uint8Array {
  return rlpEncode([a.nonce, a.balance, a.storageRoot, a.codeHash]);
}

export function decodeAccount(data: Uint8Array): Account {
  const [nonce, balance, storageRoot, codeHash] = rlpList(rlpDecode(data), "account", 4);
  return {
    nonce: rlpUint(nonce, "nonce", 8),
    balance: rlpUint(balance, "balance"),
    storageRoot: rlpBytes(storageRoot, "storageRoot", 32),
    codeHash: rlpBytes(codeHash, "codeHash", 32),
  };
}
