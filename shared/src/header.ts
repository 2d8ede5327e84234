// Block header format. Pure codec with no hash binding, so it runs anywhere (the edge Worker, the finality-certificate
// verifier); block.ts binds the chain's BLAKE3 for `blockHash`.
import { ChainError } from "./errors.ts";
import { type RlpDecoded, type RlpInput, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "./rlp.ts";

export const BLOOM_BYTES = 256;

export interface BlockHeader {
  parentHash: Uint8Array;
  slot: bigint;
  number: bigint;
  proposerIndex: bigint;
  /** Fee recipient of the proposer (the `miner` field of JSON-RPC blocks). */
  coinbase: Uint8Array;
  /** VRF proof of proposer election; empty until the multi-validator consensus fills it. */
  vrfProof: Uint8Array;
  stateRoot: Uint8Array;
  transactionsRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  logsBloom: Uint8Array;
  gasLimit: bigint;
  gasUsed: bigint;
  baseFeePerGas: bigint;
  timestamp: bigint;
  extraData: Uint8Array;
  /** BLAKE3 of the RLP list [attestations, aiProofs, evidence] of the body (`blockExtrasRoot`). */
  extrasRoot: Uint8Array;
  /** BLS signature of the proposer over the block hash (which excludes this field). */
  signature: Uint8Array;
}

export function unsignedHeaderFields(h: BlockHeader): RlpInput[] {
  return [
    h.parentHash,
    h.slot,
    h.number,
    h.proposerIndex,
    h.coinbase,
    h.vrfProof,
    h.stateRoot,
    h.transactionsRoot,
    h.receiptsRoot,
    h.logsBloom,
    h.gasLimit,
    h.gasUsed,
    h.baseFeePerGas,
    h.timestamp,
    h.extraData,
    h.extrasRoot,
  ];
}

/**
 * The block hash: `hash` (BLAKE3 on the chain) of the header without its signature. The proposer signs this hash.
 * The hash function is a parameter so this module runs without hash-wasm (block.ts binds it: `blockHash`).
 */
export function headerHash(hash: (data: Uint8Array) => Uint8Array, h: BlockHeader): Uint8Array {
  return hash(rlpEncode(unsignedHeaderFields(h)));
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return rlpEncode([...unsignedHeaderFields(h), h.signature]);
}

function headerFromFields(f: ReturnType<typeof rlpList>): BlockHeader {
  const fixed = (i: number, what: string, len: number) => {
    const b = rlpBytes(f[i], what, len);
    if (b.length !== len) throw new ChainError({ code: "RLP_INVALID", reason: `${what}: expected ${len} bytes` });
    return b;
  };
  return {
    parentHash: fixed(0, "parentHash", 32),
    slot: rlpUint(f[1], "slot", 8),
    number: rlpUint(f[2], "number", 8),
    proposerIndex: rlpUint(f[3], "proposerIndex", 8),
    coinbase: fixed(4, "coinbase", 20),
    vrfProof: rlpBytes(f[5], "vrfProof", 256),
    stateRoot: fixed(6, "stateRoot", 32),
    transactionsRoot: fixed(7, "transactionsRoot", 32),
    receiptsRoot: fixed(8, "receiptsRoot", 32),
    logsBloom: fixed(9, "logsBloom", BLOOM_BYTES),
    gasLimit: rlpUint(f[10], "gasLimit", 8),
    gasUsed: rlpUint(f[11], "gasUsed", 8),
    baseFeePerGas: rlpUint(f[12], "baseFeePerGas"),
    timestamp: rlpUint(f[13], "timestamp", 8),
    extraData: rlpBytes(f[14], "extraData", 32),
    extrasRoot: fixed(15, "extrasRoot", 32),
    signature: rlpBytes(f[16], "signature", 96),
  };
}

/** Largest encoded header accepted (decodeHeader refuses anything longer). */
export const MAX_HEADER_BYTES = 4096;

export function decodeHeader(data: Uint8Array): BlockHeader {
  return headerFromFields(rlpList(rlpDecode(data, MAX_HEADER_BYTES), "header", HEADER_FIELDS));
}

/** A header from its decoded RLP list (inside a block). */
export function decodeHeaderFields(item: RlpDecoded | undefined): BlockHeader {
  return headerFromFields(rlpList(item, "header", HEADER_FIELDS));
}

const HEADER_FIELDS = 17;
