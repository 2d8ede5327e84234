/** The block a transaction or call executes in. */
export interface BlockEnv {
  chainId: bigint;
  baseFeePerGas: bigint;
  coinbase: Uint8Array;
  number: bigint;
  timestamp: bigint;
}
