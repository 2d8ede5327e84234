// rustchain.v1 messages (proto/rustchain/v1/*.proto) from the node's data, and request fields to the node's types.
// Chain data is formatted once, by the code JSON-RPC uses (rpc/blockFormat.ts, shared/src/rpc/format.ts, the
// eth_getProof and rustchain_getFinalityCertificate handlers); this file only changes the encoding of those values
// (0x hex to bytes, quantities to uint64 or decimal strings). Requests arrive as proto-loader decodes them (protos.ts
// PROTO_OPTIONS): bytes as Buffers, 64-bit integers as decimal strings, enums by name, oneofs named.
import { type BlockHeader, type BlockId, type BlockTag, encodeBlock, hexToBytes } from "@rustchain/shared";
import type { LoadedBlock } from "../rpc/blockFormat.ts";
import { GrpcApiError } from "./errors.ts";

type Hex = string;

const invalid = (reason: string) => new GrpcApiError({ code: "GRPC_INVALID_ARGUMENT", reason }, reason);

/** A bytes field of exactly `length` bytes. */
export function fixedBytes(value: Uint8Array | undefined, length: number, field: string): Uint8Array {
  if (!value || value.length !== length) throw invalid(`${field}: expected ${length} bytes`);
  return new Uint8Array(value);
}

/** A uint64 field (a decimal string from proto-loader) as a bigint. */
export function uint64(value: string | number | undefined): bigint {
  return BigInt(value ?? 0);
}

export interface BlockIdMessage {
  id?: "number" | "hash" | "tag";
  number?: string;
  hash?: Uint8Array;
  tag?: string;
}

const TAGS: Record<string, BlockTag> = {
  BLOCK_TAG_UNSPECIFIED: "latest",
  BLOCK_TAG_LATEST: "latest",
  BLOCK_TAG_SAFE: "safe",
  BLOCK_TAG_FINALIZED: "finalized",
  BLOCK_TAG_EARLIEST: "earliest",
};

/** A BlockId message as the JSON-RPC layer's BlockId; unset is the latest block. */
export function blockIdOf(m: BlockIdMessage | null | undefined): BlockId {
  if (!m?.id) return { tag: "latest" };
  if (m.id === "number") return { tag: uint64(m.number) };
  if (m.id === "hash") return { hash: fixedBytes(m.hash, 32, "block.hash"), requireCanonical: false };
  const tag = TAGS[m.tag ?? ""];
  if (!tag) throw invalid(`block.tag: unknown tag ${String(m.tag).slice(0, 40)}`);
  return { tag };
}

const bytes = (hex: Hex | null | undefined): Uint8Array => (hex ? hexToBytes(hex) : new Uint8Array(0));
const quantityString = (hex: Hex | null | undefined): string => BigInt(hex ?? "0x0").toString();
const quantityNumber = (hex: Hex | null | undefined): number => Number(BigInt(hex ?? "0x0"));

export function headerMessage(h: BlockHeader) {
  return {
    parentHash: h.parentHash,
    slot: h.slot.toString(),
    number: h.number.toString(),
    proposerIndex: h.proposerIndex.toString(),
    coinbase: h.coinbase,
    vrfProof: h.vrfProof,
    stateRoot: h.stateRoot,
    transactionsRoot: h.transactionsRoot,
    receiptsRoot: h.receiptsRoot,
    logsBloom: h.logsBloom,
    gasLimit: h.gasLimit.toString(),
    gasUsed: h.gasUsed.toString(),
    baseFeePerGas: h.baseFeePerGas.toString(),
    timestamp: h.timestamp.toString(),
    extraData: h.extraData,
    extrasRoot: h.extrasRoot,
    signature: h.signature,
  };
}

export function blockMessage(b: LoadedBlock, full: boolean) {
  return {
    hash: b.hash,
    header: headerMessage(b.block.header),
    size: String(encodeBlock(b.block).length),
    transactionHashes: b.txs.map((t) => t.hash),
    transactions: full ? b.block.transactions : [],
  };
}

/** The JSON-RPC receipt (formatReceipt) as a Receipt message. */
export function receiptMessage(r: Record<string, unknown>) {
  const hex = (k: string) => r[k] as Hex | null;
  const logs = r.logs as { address: Hex; topics: Hex[]; data: Hex; logIndex: Hex }[];
  return {
    transactionHash: bytes(hex("transactionHash")),
    transactionIndex: quantityNumber(hex("transactionIndex")),
    blockHash: bytes(hex("blockHash")),
    blockNumber: quantityString(hex("blockNumber")),
    from: bytes(hex("from")),
    to: bytes(hex("to")),
    contractAddress: bytes(hex("contractAddress")),
    success: hex("status") === "0x1",
    gasUsed: quantityString(hex("gasUsed")),
    cumulativeGasUsed: quantityString(hex("cumulativeGasUsed")),
    effectiveGasPrice: quantityString(hex("effectiveGasPrice")),
    type: quantityNumber(hex("type")),
    logsBloom: bytes(hex("logsBloom")),
    logs: logs.map((l) => ({
      address: bytes(l.address),
      topics: l.topics.map(bytes),
      data: bytes(l.data),
      logIndex: quantityNumber(l.logIndex),
    })),
  };
}

/** A quantity as a 32-byte big-endian word. */
function word(hex: Hex): Uint8Array {
  return hexToBytes(`0x${BigInt(hex).toString(16).padStart(64, "0")}`);
}

/** The eth_getProof answer as a GetProofResponse. */
export function proofMessage(
  p: {
    address: Hex;
    accountProof: Hex[];
    balance: Hex;
    codeHash: Hex;
    nonce: Hex;
    storageHash: Hex;
    storageProof: { key: Hex; value: Hex; proof: Hex[] }[];
  },
  block: { number: bigint; hash: Uint8Array },
) {
  return {
    address: bytes(p.address),
    accountProof: p.accountProof.map(bytes),
    balance: quantityString(p.balance),
    codeHash: bytes(p.codeHash),
    nonce: quantityString(p.nonce),
    storageHash: bytes(p.storageHash),
    storageProof: p.storageProof.map((s) => ({ key: bytes(s.key), value: word(s.value), proof: s.proof.map(bytes) })),
    block: { number: block.number.toString(), hash: block.hash },
  };
}

interface CheckpointJson {
  slot: Hex;
  number: Hex | null;
  hash: Hex;
}

/** The rustchain_getFinalityCertificate answer as a GetFinalityCertificateResponse. */
export function certificateMessage(c: {
  checkpoint: CheckpointJson;
  parent: CheckpointJson;
  kind: string;
  aggregates: number;
  certificate: Hex;
}) {
  const checkpoint = (x: CheckpointJson) => ({
    slot: quantityString(x.slot),
    number: quantityString(x.number),
    hash: bytes(x.hash),
  });
  return {
    checkpoint: checkpoint(c.checkpoint),
    parent: checkpoint(c.parent),
    kind: c.kind,
    aggregates: c.aggregates,
    certificate: bytes(c.certificate),
  };
}
