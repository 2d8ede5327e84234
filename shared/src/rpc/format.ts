// JSON shapes of blocks, transactions, receipts and logs as the execution-apis schema defines them. Shared by the
// node and the edge so both answer byte-for-byte alike.
import { type BlockHeader, encodeHeader, type Log, type Receipt } from "../block.ts";
import { keccak256 } from "../hash.ts";
import { bytesToHex, type Hex, toQuantity } from "../hex.ts";
import { rlpEncode } from "../rlp.ts";
import { effectiveGasPrice, type SignedTransaction } from "../transaction.ts";

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

export function formatTransaction(stx: SignedTransaction, loc?: TxLocation) {
  const { tx } = stx;
  const out: Record<string, unknown> = {
    type: toQuantity(tx.type),
    hash: bytesToHex(stx.hash),
    nonce: toQuantity(tx.nonce),
    blockHash: loc ? bytesToHex(loc.blockHash) : null,
    blockNumber: loc ? toQuantity(loc.blockNumber) : null,
    blockTimestamp: loc ? toQuantity(loc.blockTimestamp) : null,
    transactionIndex: loc ? toQuantity(loc.index) : null,
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
    out.gasPrice = toQuantity(tx.maxFeePerGas);
    out.chainId = toQuantity(tx.chainId);
  } else {
    out.chainId = toQuantity(tx.chainId);
    out.yParity = toQuantity(tx.yParity);
    out.accessList = tx.accessList.map((a) => ({
      address: bytesToHex(a.address),
      storageKeys: a.storageKeys.map(bytesToHex),
    }));
    if (tx.type === 2) {
      out.maxFeePerGas = toQuantity(tx.maxFeePerGas);
      out.maxPriorityFeePerGas = toQuantity(tx.maxPriorityFeePerGas);
      out.gasPrice = toQuantity(loc ? effectiveGasPrice(tx, loc.baseFeePerGas) : tx.maxFeePerGas);
    } else {
      out.gasPrice = toQuantity(tx.maxFeePerGas);
    }
  }
  return out;
}

export function formatHeader(h: BlockHeader, hash: Uint8Array, sizeBytes: number) {
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
    uncles: [] as string[],
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

export function formatLog(log: Log, loc: LogLocation) {
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

export function formatReceipt(c: ReceiptContext) {
  return {
    type: toQuantity(c.stx.tx.type),
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
    status: toQuantity(c.receipt.status),
    effectiveGasPrice: toQuantity(effectiveGasPrice(c.stx.tx, c.baseFeePerGas)),
  };
}
