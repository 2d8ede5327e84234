// Blocks and receipts as JSON-RPC answers them (eth_getBlockBy*, eth_getBlockReceipts), shared by the RPC handlers
// and the replication feed so the edge's replica serves byte-identical answers.
import {
  type Block,
  bytesToHex,
  decodeTransaction,
  encodeBlock,
  formatHeader,
  formatReceipt,
  formatTransaction,
  keccak256,
  type SignedTransaction,
} from "@rustchain/shared";
import type { Chain, StoredReceipt } from "../chain/chain.ts";

export interface LoadedBlock {
  block: Block;
  hash: Uint8Array;
  receipts: StoredReceipt[];
  txs: SignedTransaction[];
}

/** A stored block (canonical or not) with its receipts and transactions, without any signature recovery. */
export async function loadBlock(chain: Chain, hash: Uint8Array): Promise<LoadedBlock | undefined> {
  const [block, receipts] = await Promise.all([chain.getBlock(hash), chain.getReceipts(hash)]);
  if (!block || !receipts) return undefined;
  // Senders were recovered at import and stored with the receipts, so no signature work here.
  const txs = block.transactions.map((raw, i) => ({
    tx: decodeTransaction(raw),
    raw,
    hash: keccak256(raw),
    from: receipts[i]!.from,
  }));
  return { block, hash, receipts, txs };
}

export function formatLoadedBlock(b: LoadedBlock, full: boolean) {
  const h = b.block.header;
  const loc = (i: number) => ({
    blockHash: b.hash,
    blockNumber: h.number,
    blockTimestamp: h.timestamp,
    index: i,
    baseFeePerGas: h.baseFeePerGas,
  });
  return {
    ...formatHeader(h, b.hash, encodeBlock(b.block).length),
    transactions: full ? b.txs.map((t, i) => formatTransaction(t, loc(i))) : b.txs.map((t) => bytesToHex(t.hash)),
  };
}

export function formatLoadedReceipts(b: LoadedBlock) {
  let logIndex = 0;
  return b.txs.map((stx, i) => {
    const r = b.receipts[i]!;
    const out = formatReceipt({
      stx,
      receipt: r.receipt,
      gasUsed: r.gasUsed,
      contractAddress: r.contractAddress,
      blockHash: b.hash,
      blockNumber: b.block.header.number,
      baseFeePerGas: b.block.header.baseFeePerGas,
      index: i,
      firstLogIndex: logIndex,
    });
    logIndex += r.receipt.logs.length;
    return out;
  });
}
