// Replication bundles built from the chain's stored data: the block and receipts exactly as JSON-RPC formats them, the
// state diff from the block's stored flat-state diff, and finality from consensus (docs/edge.md, "Replication feed").
import {
  BLAKE3_EMPTY,
  type BlockBundle,
  type BlockRef,
  bytesToHex,
  equalBytes,
  type Hex,
  REPLICATION_VERSION,
  type ReplicatedAccount,
  type ReplicationFinality,
  type ReplicationStateDiff,
  toQuantity,
} from "@rustchain/shared";
import type { Chain } from "../chain/chain.ts";
import { Bucket } from "../db/database.ts";
import { formatLoadedBlock, formatLoadedReceipts, type LoadedBlock, loadBlock } from "../rpc/blockFormat.ts";
import { decodeAccount } from "../state/account.ts";
import type { StateDb } from "../state/stateDb.ts";

/** Finality as the feed reports it; injected so the feed does not depend on the consensus engine. */
export type FinalityProvider = () => Promise<ReplicationFinality>;

const ZERO32 = new Uint8Array(32);

/** A finality provider over block numbers (justified = safe, finalized), hashes from the canonical index. */
export function chainFinality(chain: Chain, numbers: () => { safe: bigint; finalized: bigint }): FinalityProvider {
  const ref = async (n: bigint): Promise<BlockRef> => {
    const number = n > chain.head.number ? chain.head.number : n;
    const hash = (await chain.canonicalHash(number)) ?? ZERO32;
    return { number: toQuantity(number), hash: bytesToHex(hash) };
  };
  return async () => {
    const { safe, finalized } = numbers();
    return { safe: await ref(safe), finalized: await ref(finalized) };
  };
}

/**
 * The accounts and storage slots a stored block changed, from its flat diff. Code is included when an account ends
 * with a code hash it did not have before the block (new contracts), read from the code store. Undefined when the
 * diff is gone (a full node prunes the diffs of blocks below its kept window, chain/statePruner.ts): a bundle
 * without its state diff would silently leave a replica wrong.
 */
export async function blockStateDiff(
  chain: Chain,
  state: StateDb,
  hash: Uint8Array,
): Promise<ReplicationStateDiff | undefined> {
  const accounts: Record<string, ReplicatedAccount | null> = {};
  const storage: Record<string, Record<string, Hex>> = {};
  const diff = await chain.getFlatDiff(hash);
  if (!diff) return undefined;
  for (const c of diff) {
    if (c.bucket === Bucket.flatAccounts) {
      const address = bytesToHex(c.key);
      if (!c.after) {
        accounts[address] = null;
        continue;
      }
      const after = decodeAccount(c.after);
      const out: ReplicatedAccount = {
        nonce: toQuantity(after.nonce),
        balance: toQuantity(after.balance),
        codeHash: bytesToHex(after.codeHash),
      };
      const beforeCodeHash = c.before ? decodeAccount(c.before).codeHash : BLAKE3_EMPTY;
      if (!equalBytes(after.codeHash, beforeCodeHash) && !equalBytes(after.codeHash, BLAKE3_EMPTY)) {
        const code = await state.getCode(after.codeHash);
        if (code) out.code = bytesToHex(code);
      }
      accounts[address] = out;
    } else {
      const address = bytesToHex(c.key.subarray(0, 20));
      const slot = bytesToHex(c.key.subarray(20));
      const slots = storage[address] ?? {};
      storage[address] = slots;
      slots[slot] = bytesToHex(c.after ?? ZERO32);
    }
  }
  return { accounts, storage };
}

/**
 * A block bundle for a stored block: `loaded` when the caller has the block at hand (an import event). Undefined when
 * the block or its state diff is no longer stored (the feed then answers that the bundle is outside its history).
 */
export async function buildBlockBundle(
  modules: { chain: Chain; state: StateDb },
  hash: Uint8Array,
  seq: number,
  finality: ReplicationFinality,
  loaded?: LoadedBlock,
): Promise<BlockBundle | undefined> {
  const b = loaded ?? (await loadBlock(modules.chain, hash));
  if (!b) return undefined;
  const stateDiff = await blockStateDiff(modules.chain, modules.state, hash);
  if (!stateDiff) return undefined;
  return {
    version: REPLICATION_VERSION,
    chainId: toQuantity(modules.chain.chainId),
    seq,
    kind: "block",
    block: formatLoadedBlock(b, true) as unknown as BlockBundle["block"],
    receipts: formatLoadedReceipts(b),
    stateDiff,
    finality,
  };
}
