// The runtime's gas schedule; docs/runtime.md gives the reasoning for each price.
export const Gas = {
  codeDepositPerByte: 200n,
  compilePerByte: 2n,
  memoryPage: 1_000n,
  storageReadCold: 2_100n,
  storageReadWarm: 100n,
  storageWriteNew: 20_000n,
  storageWriteChange: 2_900n,
  storageWriteNoop: 100n,
  logBase: 375n,
  logTopic: 375n,
  logDataByte: 8n,
  callWarm: 100n,
  callCold: 2_600n,
  callValue: 9_000n,
  balanceWarm: 100n,
  balanceCold: 2_600n,
  hashBase: 30n,
  hashWord: 6n,
  hostCall: 10n,
  copyWord: 3n,
  mlpLayer: 100n,
  groth16Base: 8_000_000n,
  groth16PerInput: 100_000n,
  secp256k1Recover: 3_000n,
  sha256Base: 40n,
  sha256Word: 8n,
} as const;

/** Deepest cross-contract call stack. */
export const MAX_CALL_DEPTH = 64;
/** Largest return/revert data and calldata a frame may produce or receive. */
export const MAX_RETURN_DATA = 128 * 1024;
export const MAX_LOG_DATA = 64 * 1024;
