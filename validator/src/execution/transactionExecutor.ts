// Applies one signed transaction to a WorldState: EIP-1559 fees (gas bought up front, unused gas refunded, base fee
// burned, tip to the proposer), then a value transfer, a contract call, or a contract creation through the WebAssembly
// runtime. Invalid transactions come back as TxError values so the block builder can skip them and the importer can
// reject the block; contract failures are receipts with status 0.
import {
  effectiveGasPrice,
  intrinsicGas,
  type Log,
  logsBloom,
  type Receipt,
  type SignedTransaction,
  TxError,
} from "@rustchain/shared";
import type { BlockEnv } from "../runtime/blockEnv.ts";
import type { ContractRuntime, FrameResult, TxContext } from "../runtime/contractRuntime.ts";
import type { ExecutionTracer } from "../runtime/executionTracer.ts";
import type { WorldState } from "../state/stateDb.ts";

export type { BlockEnv };

export interface TxOutcome {
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  status: 0 | 1;
  logs: Log[];
  contractAddress: Uint8Array | null;
  /** The top frame's result (return or revert data, failure reason). */
  frame: FrameResult;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Check that `stx` can run in this block against `ws`; returns the sender's nonce or the reason it cannot. */
async function checkExecutable(
  ws: WorldState,
  stx: SignedTransaction,
  env: BlockEnv,
  gasRemaining: bigint,
): Promise<TxError | undefined> {
  const { tx, from } = stx;
  if (tx.chainId !== env.chainId)
    return new TxError({ code: "TX_WRONG_CHAIN_ID", expected: env.chainId, got: tx.chainId });
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
  return undefined;
}

/**
 * The execution context of one transaction: warm set seeded with sender, recipient, proposer and access list, and the
 * tracer of a debug_trace* request (always a property, so traced and untraced contexts share one shape).
 */
export function txContext(
  ws: WorldState,
  env: BlockEnv,
  stx: Pick<SignedTransaction, "tx" | "from">,
  tracer?: ExecutionTracer,
): TxContext {
  const warmAddresses = new Set([hex(stx.from), hex(env.coinbase)]);
  if (stx.tx.to) warmAddresses.add(hex(stx.tx.to));
  const warmSlots = new Set<string>();
  for (const item of stx.tx.accessList) {
    warmAddresses.add(hex(item.address));
    for (const k of item.storageKeys) warmSlots.add(hex(item.address) + hex(k));
  }
  return { ws, env, origin: stx.from, logs: [], warmAddresses, warmSlots, tracer };
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
  runtime: ContractRuntime,
  tracer?: ExecutionTracer,
): Promise<TxOutcome | TxError> {
  const invalid = await checkExecutable(ws, stx, env, gasRemaining);
  if (invalid) return invalid;
  const { tx, from } = stx;
  const price = effectiveGasPrice(tx, env.baseFeePerGas);
  // Buy all the gas up front and bump the nonce; both stand even if execution fails.
  const sender = await ws.getAccount(from);
  const nonce = sender.nonce;
  sender.nonce += 1n;
  sender.balance -= tx.gasLimit * price;
  ws.setAccount(from, sender);

  const ctx = txContext(ws, env, stx, tracer);
  const gas = tx.gasLimit - intrinsicGas(tx);
  let frame: FrameResult;
  let contractAddress: Uint8Array | null = null;
  if (tx.to === null) {
    const deployed = await runtime.deploy(ctx, { caller: from, value: tx.value, gas, depth: 0 }, tx.data, nonce);
    frame = deployed.result;
    // As geth: the receipt names the CREATE address even when the deployment failed.
    contractAddress = deployed.address;
  } else {
    frame = await runtime.call(ctx, {
      caller: from,
      address: tx.to,
      value: tx.value,
      calldata: tx.data,
      gas,
      depth: 0,
    });
  }
  const gasUsed = tx.gasLimit - frame.gasLeft;
  const refunded = await ws.getAccount(from);
  refunded.balance += frame.gasLeft * price;
  ws.setAccount(from, refunded);
  const tip = (price - env.baseFeePerGas) * gasUsed;
  if (tip > 0n) {
    const proposer = await ws.getAccount(env.coinbase);
    proposer.balance += tip;
    ws.setAccount(env.coinbase, proposer);
  }
  const ok = frame.status === "success";
  return { gasUsed, effectiveGasPrice: price, status: ok ? 1 : 0, logs: ok ? ctx.logs : [], contractAddress, frame };
}

export function makeReceipt(type: number, outcome: TxOutcome, cumulativeGasUsed: bigint): Receipt {
  return { type, status: outcome.status, cumulativeGasUsed, logs: outcome.logs, logsBloom: logsBloom(outcome.logs) };
}
