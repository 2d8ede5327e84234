import { blake3, keccak256 } from "./hash.ts";
import { BLOOM_BYTES, type BlockHeader, decodeHeaderFields, headerHash, unsignedHeaderFields } from "./header.ts";
import { concatBytes } from "./hex.ts";
import { type RlpInput, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "./rlp.ts";
import { trieRootOf } from "./trie.ts";

export const MAX_BLOCK_SIZE = 32 * 1024 * 1024;
export { BLOOM_BYTES, type BlockHeader, decodeHeader, encodeHeader } from "./header.ts";

/** The block hash: BLAKE3 of the header without its signature. The proposer signs this hash. */
export function blockHash(h: BlockHeader): Uint8Array {
  return headerHash(blake3, h);
}

export interface Block {
  header: BlockHeader;
  /** Raw signed transactions, in execution order. */
  transactions: Uint8Array[];
  attestations: Uint8Array[];
  aiProofs: Uint8Array[];
  evidence: Uint8Array[];
}

export interface Log {
  address: Uint8Array;
  topics: Uint8Array[];
  data: Uint8Array;
}

export interface Receipt {
  type: number;
  status: 0 | 1;
  cumulativeGasUsed: bigint;
  logsBloom: Uint8Array;
  logs: Log[];
}

/** Opaque consensus items of a body, each already encoded by the consensus layer (validated on import). */
export interface BlockExtras {
  attestations: Uint8Array[];
  aiProofs: Uint8Array[];
  evidence: Uint8Array[];
}

export const EMPTY_EXTRAS: BlockExtras = Object.freeze({ attestations: [], aiProofs: [], evidence: [] });

/** The header's commitment to the body's consensus items. */
export function blockExtrasRoot(e: BlockExtras): Uint8Array {
  return blake3(rlpEncode([e.attestations, e.aiProofs, e.evidence]));
}

/** Body as stored and sent: [transactions, attestations, aiProofs, evidence]. */
export function encodeBody(b: Omit<Block, "header">): Uint8Array {
  return rlpEncode([b.transactions, b.attestations, b.aiProofs, b.evidence]);
}

function bodyFromFields(f: ReturnType<typeof rlpList>): Omit<Block, "header"> {
  const items = (i: number, what: string) => rlpList(f[i], what).map((t) => rlpBytes(t, what));
  return {
    transactions: items(0, "transactions"),
    attestations: items(1, "attestations"),
    aiProofs: items(2, "aiProofs"),
    evidence: items(3, "evidence"),
  };
}

export function decodeBody(data: Uint8Array): Omit<Block, "header"> {
  return bodyFromFields(rlpList(rlpDecode(data, MAX_BLOCK_SIZE), "body", 4));
}

export function encodeBlock(b: Block): Uint8Array {
  return rlpEncode([
    [...unsignedHeaderFields(b.header), b.header.signature],
    b.transactions,
    b.attestations,
    b.aiProofs,
    b.evidence,
  ]);
}

export function decodeBlock(data: Uint8Array): Block {
  const f = rlpList(rlpDecode(data, MAX_BLOCK_SIZE), "block", 5);
  return { header: decodeHeaderFields(f[0]), ...bodyFromFields(f.slice(1)) };
}

export function encodeReceipt(r: Receipt): Uint8Array {
  const body = rlpEncode([
    r.status,
    r.cumulativeGasUsed,
    r.logsBloom,
    r.logs.map((l) => [l.address, l.topics, l.data] as RlpInput),
  ]);
  return r.type === 0 ? body : concatBytes(Uint8Array.of(r.type), body);
}

export function decodeReceipt(data: Uint8Array): Receipt {
  const typed = data.length > 0 && (data[0] as number) < 0x80;
  const type = typed ? (data[0] as number) : 0;
  const [status, cum, bloom, logs] = rlpList(rlpDecode(typed ? data.subarray(1) : data), "receipt", 4);
  return {
    type,
    status: rlpUint(status, "status", 1) === 1n ? 1 : 0,
    cumulativeGasUsed: rlpUint(cum, "cumulativeGasUsed", 8),
    logsBloom: rlpBytes(bloom, "logsBloom", BLOOM_BYTES),
    logs: rlpList(logs, "logs").map((l) => {
      const [address, topics, d] = rlpList(l, "log", 3);
      return {
        address: rlpBytes(address, "log address", 20),
        topics: rlpList(topics, "topics").map((t) => rlpBytes(t, "topic", 32)),
        data: rlpBytes(d, "log data"),
      };
    }),
  };
}

/** Add one value (address or topic) to a 2048-bit bloom, as Ethereum does. */
export function bloomAdd(bloom: Uint8Array, value: Uint8Array): void {
  const h = keccak256(value);
  for (let i = 0; i < 6; i += 2) {
    const bit = (((h[i] as number) << 8) | (h[i + 1] as number)) & 2047;
    const idx = BLOOM_BYTES - 1 - (bit >> 3);
    bloom[idx] = (bloom[idx] as number) | (1 << (bit & 7));
  }
}

export function bloomContains(bloom: Uint8Array, value: Uint8Array): boolean {
  const h = keccak256(value);
  for (let i = 0; i < 6; i += 2) {
    const bit = (((h[i] as number) << 8) | (h[i + 1] as number)) & 2047;
    if (((bloom[BLOOM_BYTES - 1 - (bit >> 3)] as number) & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

export function logsBloom(logs: Log[]): Uint8Array {
  const bloom = new Uint8Array(BLOOM_BYTES);
  for (const log of logs) {
    bloomAdd(bloom, log.address);
    for (const t of log.topics) bloomAdd(bloom, t);
  }
  return bloom;
}

/** Root of an ordered list (transactions, receipts): a BLAKE3 trie keyed by rlp(index), as Ethereum's. */
export function orderedListRoot(items: Uint8Array[]): Uint8Array {
  return trieRootOf(
    items.map((item, i) => [rlpEncode(i), item] as const),
    blake3,
  );
}
