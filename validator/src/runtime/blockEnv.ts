import type { BlockHeader } from "@rustchain/shared";

/** The block a transaction or call executes in. */
export interface BlockEnv {
  chainId: bigint;
  baseFeePerGas: bigint;
  coinbase: Uint8Array;
  number: bigint;
  timestamp: bigint;
}

/** The environment of an existing block, as its transactions ran in it (eth_call at it, traces replaying it). */
export function blockEnvOf(
  chainId: bigint,
  h: Pick<BlockHeader, "baseFeePerGas" | "coinbase" | "number" | "timestamp">,
): BlockEnv {
  return { chainId, baseFeePerGas: h.baseFeePerGas, coinbase: h.coinbase, number: h.number, timestamp: h.timestamp };
}
