// Applies one signed transaction to a WorldState: value transfers with EIP-1559 fees (base fee burned, tip to the
// proposer). Contract creation is refused until the WebAssembly runtime lands. Invalid transactions come back as
// TxError values so the block builder can skip them and the importer can reject the block.
import {
  effectiveGasPrice,
  intrinsicGas,
  type Log,
  logsBloom,
  type Receipt,
  type SignedTransaction,
  TxError,
} from "@rustchain/shared";
import type { WorldState } from "../state/stateDb.ts";

export interface BlockEnv {
  chainId: bigint;
  baseFeePerGas: bigint;
  coinbase: Uint8Array;
  number: bigint;
  timestamp: bigint;
}

export interface TxOutcome {
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  status: 0 | 1;
  logs: Log[];
  contractAddress: Uint8Array | null;
}

/**
 * Execute `stx` against `ws`. Returns the outcome, or a TxError (with `ws` unchanged) if the transaction is not
 * executable in this block: wrong chain, nonce, funds, fee cap or gas.
 */
export async function applyTransaction(
  ws: WorldState,
  stx: SignedTransaction,
  env: BlockEnv,
  gasRemaining: bigint,
): Promise<TxOutcome | TxError> {
  const { tx, from } = stx;
  if (tx.chainId !== env.chainId)
    return new TxError({ code: "TX_WRONG_CHAIN_ID", expected: env.chainId, got: tx.chainId });
  if (tx.to === null) return new TxError({ code: "TX_CONTRACT_CREATION_UNSUPPORTED" });
  if (tx.gasLimit > gasRemaining)
    return new TxError({ code: "TX_GAS_LIMIT_EXCEEDS_BLOCK", have: tx.gasLimit, limit: gasRemaining });
  if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) return new TxError({ code: "TX_TIP_ABOVE_FEE_CAP" });
  if (tx.maxFeePerGas < env.baseFeePerGas) {
    return new TxError({ code: "TX_FEE_CAP_TOO_LOW", maxFeePerGas: tx.maxFeePerGas, baseFee: env.baseFeePerGas });
  }
  const intrinsic = intrinsicGas(tx);
  if (tx.gasLimit < intrinsic)
    return new TxError({ code: "TX_INTRINSIC_GAS_TOO_LOW", have: tx.gasLimit, want: intrinsic });
  const sender = await ws.getAccount(from);
  if (tx.nonce < sender.nonce) return new TxError({ code: "TX_NONCE_TOO_LOW", expected: sender.nonce, got: tx.nonce });
  if (tx.nonce > sender.nonce) return new TxError({ code: "TX_NONCE_TOO_HIGH", expected: sender.nonce, got: tx.nonce });
  const maxCost = tx.gasLimit * tx.maxFeePerGas + tx.value;
  if (sender.balance < maxCost)
    return new TxError({ code: "TX_INSUFFICIENT_FUNDS", have: sender.balance, want: maxCost });

  const price = effectiveGasPrice(tx, env.baseFeePerGas);
  // A plain transfer (no contract code anywhere yet) uses exactly its intrinsic gas.
  const gasUsed = intrinsic;
  sender.nonce += 1n;
  sender.balance -= gasUsed * price + tx.value;
  ws.setAccount(from, sender);
  const recipient = await ws.getAccount(tx.to);
  recipient.balance += tx.value;
  ws.setAccount(tx.to, recipient);
  const tip = (price - env.baseFeePerGas) * gasUsed;
  if (tip > 0n) {
    const proposer = await ws.getAccount(env.coinbase);
    proposer.balance += tip;
    ws.setAccount(env.coinbase, proposer);
  }
  return { gasUsed, effectiveGasPrice: price, status: 1, logs: [], contractAddress: null };
}

export function makeReceipt(type: number, outcome: TxOutcome, cumulativeGasUsed: bigint): Receipt {
  return { type, status: outcome.status, cumulativeGasUsed, logs: outcome.logs, logsBloom: logsBloom(outcome.logs) };
}
