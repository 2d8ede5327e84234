// Test support (never imported by production code): a well-formed block header with recognisable field values, for
// tests that need headers whose contents do not matter beyond the fields they set.
import { BLOOM_BYTES, type BlockHeader } from "./header.ts";

export function testHeader(overrides: Partial<BlockHeader> & { variant?: number } = {}): BlockHeader {
  const { variant = 0, ...fields } = overrides;
  const slot = fields.slot ?? 1n;
  return {
    parentHash: new Uint8Array(32).fill(1),
    slot,
    number: slot,
    proposerIndex: 0n,
    coinbase: new Uint8Array(20).fill(2),
    vrfProof: new Uint8Array(0),
    stateRoot: new Uint8Array(32).fill(3 + variant),
    transactionsRoot: new Uint8Array(32).fill(4),
    receiptsRoot: new Uint8Array(32).fill(5),
    logsBloom: new Uint8Array(BLOOM_BYTES),
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    baseFeePerGas: 1_000_000_000n,
    timestamp: 1_700_000_000n + slot,
    extraData: new Uint8Array(0),
    extrasRoot: new Uint8Array(32).fill(6),
    signature: new Uint8Array(96),
    ...fields,
  };
}
