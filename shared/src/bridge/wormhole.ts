// RustChain in Wormhole (docs/bridge.md, "Wormhole"): the constants that make the second gateway deployment
// Wormhole's core and token bridge, and how a message's consistency level maps to RustChain's block tags.
//
// Emitter addresses are those of Wormhole mainnet as every guardian and token bridge knows them: the governance
// emitter (chain 1, 0x…04) and the token bridges of Solana (the emitter PDA of program
// wormDTUJ6AWPNvk59vGQbDvGJmqbDTdgWgAqcLBCgUb) and Ethereum (0x3ee18B2214AFF97000D974cf647E7C347E8fa585, padded).
import { hexToBytes } from "../hex.ts";
import { WORMHOLE_CHAIN } from "./vaa.ts";

/** Wormhole's governance emitter: the guardians sign governance as (Solana, 0x00…04). */
export const WORMHOLE_GOVERNANCE_EMITTER = {
  chain: WORMHOLE_CHAIN.solana,
  address: Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 4 : 0)),
} as const;

/** The mainnet token bridges RustChain registers (TokenBridge RegisterChain), as their VAAs name their emitter. */
export const WORMHOLE_TOKEN_BRIDGE_EMITTERS = {
  solana: {
    chain: WORMHOLE_CHAIN.solana,
    address: hexToBytes("0xec7372995d5cc8732397fb0ad35c0121e0eaa90d26f828a534cab54391b3a4f5"),
  },
  ethereum: {
    chain: WORMHOLE_CHAIN.ethereum,
    address: hexToBytes("0x0000000000000000000000003ee18b2214aff97000d974cf647e7c347e8fa585"),
  },
} as const;

/**
 * Consistency levels as Wormhole's EVM watchers read them: 200 = instant (observe at the head), 201 = safe, anything
 * else = finalized. RustChain maps them onto its JSON-RPC tags: the head is `latest`, `safe` is the justified block,
 * and `finalized` is final (within the slot it was proposed in; docs/consensus.md). A message is observed, and
 * signed, only once its block is at or below the tag.
 */
export const CONSISTENCY_INSTANT = 200;
export const CONSISTENCY_SAFE = 201;

export type ConsistencyTag = "latest" | "safe" | "finalized";

export function consistencyTag(level: number): ConsistencyTag {
  if (level === CONSISTENCY_INSTANT) return "latest";
  if (level === CONSISTENCY_SAFE) return "safe";
  return "finalized";
}
