// JSON shapes of blocks, transactions, receipts and logs as the execution-apis schema defines them. Shared by the
// node and the edge so both answer byte-for-byte alike.
import { type BlockHeader, encodeHeader, type Log, type Receipt } from "../block.ts";
import { keccak256 } from "../hash.ts";
import { bytesToHex, type Hex, toQuantity } from "../hex.ts";
import { rlpEncode } from "../rlp.ts";
import { effectiveGasPrice, type SignedTransaction } from "../transaction.ts";
import type { HeaderJson, LogJson, MinedTransactionJson, PendingTransactionJson, ReceiptJson } from "./results.ts";

const ZERO32: Hex = `0x${"0".repeat(64)}`;
/** keccak256(rlp([])): the uncle hash of a block without uncles, what clients expect in sha3Uncles. */
export const EMPTY_UNCLES_HASH: Hex = bytesToHex(keccak256(rlpEncode([])));

export interface TxLocation {
  blockHash: Uint8Array;
  blockNumber: bigint;
  index: number;
  baseFeePerGas: bigint;
  /** The including block's timestamp: the execution-apis schema requires `blockTimestamp` on mined transactions. */
  blockTimestamp: bigint;
}

const TX_TYPE = ["0x0", "0x1", "0x2"] as const;
const bit = (b: 0 | 1) => (b ? "0x1" : "0x0") as "0x0" | "0x1";

/** A transaction as JSON: mined (with its location) or pending (location fields null). */
export function formatTransaction(stx: SignedTransaction, loc: TxLocation): MinedTransactionJson;
export function formatTransaction(stx: SignedTransaction): PendingTransactionJson;
export function formatTransaction(
  stx: SignedTransaction,
  loc?: TxLocation,
): MinedTransactionJson | PendingTransactionJson;
export function formatTransaction(
  stx: SignedTransaction,
  loc?: TxLocation,
): MinedTransactionJson | PendingTransactionJson {
  const { tx } = stx;
  // Key order is the wire's: node and edge answer byte-for-byte alike.
  const common = {
    hash: bytesToHex(stx.hash),
    nonce: toQuantity(tx.nonce),
    ...(loc
      ? {
          blockHash: bytesToHex(loc.blockHash),
          blockNumber: toQuantity(loc.blockNumber),
          blockTimestamp: toQuantity(loc.blockTimestamp),
          transactionIndex: toQuantity(loc.index),
        }
      : { blockHash: null, blockNumber: null, blockTimestamp: null, transactionIndex: null }),
    from: bytesToHex(stx.from),
    to: tx.to ? bytesToHex(tx.to) : null,
    value: toQuantity(tx.value),
    gas: toQuantity(tx.gasLimit),
    input: bytesToHex(tx.data),
    r: toQuantity(tx.r),
    s: toQuantity(tx.s),
    v: toQuantity(tx.v),
  };
  if (tx.type === 0) {
    return { type: TX_TYPE[0], ...common, gasPrice: toQuantity(tx.maxFeePerGas), chainId: toQuantity(tx.chainId) };
  }
  const typed = {
    ...common,
    chainId: toQuantity(tx.chainId),
    yParity: bit(tx.yParity),
    accessList: tx.accessList.map((a) => ({
      address: bytesToHex(a.address),
      storageKeys: a.storageKeys.map(bytesToHex),
    })),
  };
  if (tx.type === 1) return { type: TX_TYPE[1], ...typed, gasPrice: toQuantity(tx.maxFeePerGas) };
  return {
    type: TX_TYPE[2],
    ...typed,
    maxFeePerGas: toQuantity(tx.maxFeePerGas),
    maxPriorityFeePerGas: toQuantity(tx.maxPriorityFeePerGas),
    gasPrice: toQuantity(loc ? effectiveGasPrice(tx, loc.baseFeePerGas) : tx.maxFeePerGas),
  };
}

export function formatHeader(h: BlockHeader, hash: Uint8Array, sizeBytes: number): HeaderJson {
  return {
    number: toQuantity(h.number),
    hash: bytesToHex(hash),
    parentHash: bytesToHex(h.parentHash),
    nonce: "0x0000000000000000",
    sha3Uncles: EMPTY_UNCLES_HASH,
    logsBloom: bytesToHex(h.logsBloom),
    transactionsRoot: bytesToHex(h.transactionsRoot),
    stateRoot: bytesToHex(h.stateRoot),
    receiptsRoot: bytesToHex(h.receiptsRoot),
    miner: bytesToHex(h.coinbase),
    difficulty: "0x0",
    totalDifficulty: "0x0",
    extraData: bytesToHex(h.extraData),
    size: toQuantity(sizeBytes),
    gasLimit: toQuantity(h.gasLimit),
    gasUsed: toQuantity(h.gasUsed),
    timestamp: toQuantity(h.timestamp),
    // No PoW/RANDAO: mixHash carries nothing, as after the merge it carries prevRandao.
    mixHash: ZERO32,
    baseFeePerGas: toQuantity(h.baseFeePerGas),
    uncles: [],
    // RustChain-specific, ignored by Ethereum clients.
    slot: toQuantity(h.slot),
    proposerIndex: toQuantity(h.proposerIndex),
  };
}

export function headerSize(h: BlockHeader): number {
  return encodeHeader(h).length;
}

export interface LogLocation {
  blockHash: Uint8Array;
  blockNumber: bigint;
  transactionHash: Uint8Array;
  transactionIndex: number;
  logIndex: number;
  removed?: boolean;
}

export function formatLog(log: Log, loc: LogLocation): LogJson {
  return {
    removed: loc.removed ?? false,
    logIndex: toQuantity(loc.logIndex),
    transactionIndex: toQuantity(loc.transactionIndex),
    transactionHash: bytesToHex(loc.transactionHash),
    blockHash: bytesToHex(loc.blockHash),
    blockNumber: toQuantity(loc.blockNumber),
    address: bytesToHex(log.address),
    data: bytesToHex(log.data),
    topics: log.topics.map(bytesToHex),
  };
}

export interface ReceiptContext {
  stx: SignedTransaction;
  receipt: Receipt;
  gasUsed: bigint;
  contractAddress: Uint8Array | null;
  blockHash: Uint8Array;
  blockNumber: bigint;
  baseFeePerGas: bigint;
  index: number;
  /** Index of this receipt's first log within the block. */
  firstLogIndex: number;
}

export function formatReceipt(c: ReceiptContext): ReceiptJson {
  return {
    type: TX_TYPE[c.stx.tx.type],
    transactionHash: bytesToHex(c.stx.hash),
    transactionIndex: toQuantity(c.index),
    blockHash: bytesToHex(c.blockHash),
    blockNumber: toQuantity(c.blockNumber),
    from: bytesToHex(c.stx.from),
    to: c.stx.tx.to ? bytesToHex(c.stx.tx.to) : null,
    cumulativeGasUsed: toQuantity(c.receipt.cumulativeGasUsed),
    gasUsed: toQuantity(c.gasUsed),
    contractAddress: c.contractAddress ? bytesToHex(c.contractAddress) : null,
    logs: c.receipt.logs.map((l, i) =>
      formatLog(l, {
        blockHash: c.blockHash,
        blockNumber: c.blockNumber,
        transactionHash: c.stx.hash,
        transactionIndex: c.index,
        logIndex: c.firstLogIndex + i,
      }),
    ),
    logsBloom: bytesToHex(c.receipt.logsBloom),
    status: bit(c.receipt.status),
    effectiveGasPrice: toQuantity(effectiveGasPrice(c.stx.tx, c.baseFeePerGas)),
  };
}
