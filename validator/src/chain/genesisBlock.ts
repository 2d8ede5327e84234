// The genesis block and its state, built from the genesis file: the chain writes it on first start, and warp sync
// computes its hash (the trust anchor of a certificate chain) without writing anything.
import {
  BLOOM_BYTES,
  type Block,
  type BlockHeader,
  blockExtrasRoot,
  blockHash,
  EMPTY_EXTRAS,
  type Genesis,
  orderedListRoot,
} from "@rustchain/shared";
import { WriteBatch } from "../db/database.ts";
import { EMPTY_TRIE_ROOT } from "../state/account.ts";
import type { StateDb } from "../state/stateDb.ts";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, u256 } from "./validatorRegistry.ts";

/** The genesis block, its hash, and a batch holding its state (not yet written). */
export async function buildGenesisBlock(
  g: Genesis,
  state: StateDb,
): Promise<{ block: Block; hash: Uint8Array; batch: WriteBatch }> {
  const ws = state.overlay(EMPTY_TRIE_ROOT, false);
  for (const a of g.alloc) {
    const acc = await ws.getAccount(a.address);
    acc.balance = a.balance;
    acc.nonce = a.nonce;
    ws.setAccount(a.address, acc);
  }
  // The validator registry: genesis stakes (AI scores start at 0).
  const registry = await ws.getAccount(REGISTRY_ADDRESS);
  registry.nonce = 1n;
  ws.setAccount(REGISTRY_ADDRESS, registry);
  for (const [i, v] of g.validators.entries()) {
    await ws.setStorage(REGISTRY_ADDRESS, registrySlot(i, RegistryField.stake), u256(v.stake));
  }
  const batch = new WriteBatch();
  const stateRoot = await ws.commit(batch, true);
  const emptyRoot = orderedListRoot([]);
  const header: BlockHeader = {
    parentHash: new Uint8Array(32),
    slot: 0n,
    number: 0n,
    proposerIndex: 0n,
    coinbase: new Uint8Array(20),
    vrfProof: new Uint8Array(0),
    stateRoot,
    transactionsRoot: emptyRoot,
    receiptsRoot: emptyRoot,
    logsBloom: new Uint8Array(BLOOM_BYTES),
    gasLimit: g.gasLimit,
    gasUsed: 0n,
    baseFeePerGas: g.baseFeePerGas,
    timestamp: g.timestamp,
    extraData: g.extraData,
    extrasRoot: blockExtrasRoot(EMPTY_EXTRAS),
    signature: new Uint8Array(0),
  };
  const block: Block = { header, transactions: [], ...EMPTY_EXTRAS };
  return { block, hash: blockHash(header), batch };
}
