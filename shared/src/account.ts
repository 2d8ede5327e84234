// Account records as the state trie stores them: rlp([nonce, balance, storageRoot, codeHash]). Pure codec (no hash
// binding), so proofs against a state root can be checked anywhere (the finality-certificate verifier reads the
// validator registry's storage root with it).
import { rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "./rlp.ts";

export interface Account {
  nonce: bigint;
  balance: bigint;
  storageRoot: Uint8Array;
  codeHash: Uint8Array;
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

/** A storage value as the storage trie stores it: the RLP of the word as an integer (no leading zeros). */
export function decodeStorageWord(enc: Uint8Array): bigint {
  return rlpUint(rlpDecode(enc), "storage value");
}
