// eth_call and eth_estimateGas: run a call or creation on a throwaway overlay of some block's state. No gas is paid
// and nothing is committed.
import { bytesToHex, type CallRequest, intrinsicGas, type RpcError, rpcErrors } from "@rustchain/shared";
import type { BlockEnv } from "../runtime/blockEnv.ts";
import type { ContractRuntime, FrameResult } from "../runtime/contractRuntime.ts";
import type { ExecutionTracer } from "../runtime/executionTracer.ts";
import type { WorldState } from "../state/stateDb.ts";
import { txContext } from "./transactionExecutor.ts";

const ZERO_ADDRESS = new Uint8Array(20);
/** Selector of Error(string), the standard revert reason. */
const ERROR_STRING_SELECTOR = "08c379a0";

export interface SimulationInput {
  makeOverlay: () => WorldState;
  env: BlockEnv;
  runtime: ContractRuntime;
  request: CallRequest;
  gasCap: bigint;
}

export interface Simulation {
  frame: FrameResult;
  gasUsed: bigint;
}

async function simulate(input: SimulationInput, gasLimit: bigint, tracer?: ExecutionTracer): Promise<Simulation> {
  const { request: req, env, runtime } = input;
  const ws = input.makeOverlay();
  const from = req.from ?? ZERO_ADDRESS;
  const to = req.to ?? null;
  const data = req.data ?? new Uint8Array(0);
  const value = req.value ?? 0n;
  const accessList = req.accessList ?? [];
  const unsigned = {
    type: 2 as const,
    chainId: env.chainId,
    nonce: 0n,
    maxFeePerGas: 0n,
    maxPriorityFeePerGas: 0n,
    gasLimit,
    to,
    value,
    data,
    accessList,
  };
  const intrinsic = intrinsicGas(unsigned);
  if (gasLimit < intrinsic) throw rpcErrors.callIntrinsicGasTooLow(gasLimit, intrinsic);
  const sender = await ws.getAccount(from);
  if (sender.balance < value) throw rpcErrors.callInsufficientFunds();
  const ctx = txContext(ws, env, { tx: { ...unsigned, r: 0n, s: 0n, yParity: 0, v: 0n }, from }, tracer);
  const gas = gasLimit - intrinsic;
  let frame: FrameResult;
  if (to === null) {
    sender.nonce += 1n;
    ws.setAccount(from, sender);
    frame = (await runtime.deploy(ctx, { caller: from, value, gas, depth: 0 }, data, sender.nonce - 1n)).result;
  } else {
    frame = await runtime.call(ctx, { caller: from, address: to, value, calldata: data, gas, depth: 0 });
  }
  return { frame, gasUsed: gasLimit - frame.gasLeft };
}

/** The JSON-RPC error for a failed call: code 3 with the revert data (and decoded reason), or -32000. */
export function callError(frame: FrameResult): RpcError {
  if (frame.status === "revert") {
    const reason = decodeRevertReason(frame.returnData);
    return rpcErrors.executionReverted(
      reason ? `execution reverted: ${reason}` : "execution reverted",
      bytesToHex(frame.returnData),
    );
  }
  if (frame.status === "outOfGas") return rpcErrors.outOfGas();
  return rpcErrors.executionFailed(`execution failed: ${frame.reason ?? "trap"}`);
}

/** Decode an ABI `Error(string)` payload; undefined for anything else. Bounded by the data's own length. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4 + 64 || Buffer.from(data.subarray(0, 4)).toString("hex") !== ERROR_STRING_SELECTOR)
    return undefined;
  const body = Buffer.from(data.subarray(4));
  const offset = Number(body.readBigUInt64BE(24));
  if (offset + 32 > body.length) return undefined;
  const len = Number(body.readBigUInt64BE(offset + 24));
  if (offset + 32 + len > body.length) return undefined;
  return body.subarray(offset + 32, offset + 32 + len).toString("utf8");
}

/** The gas limit a call runs with: the request's, at most the node's cap. */
const cappedGas = (input: SimulationInput) =>
  input.request.gas !== undefined && input.request.gas < input.gasCap ? input.request.gas : input.gasCap;

export async function ethCall(input: SimulationInput): Promise<Uint8Array> {
  const { frame } = await simulate(input, cappedGas(input));
  if (frame.status !== "success") throw callError(frame);
  return frame.returnData;
}

/** The least gas limit with which the call succeeds (binary search above the gas the capped run used). */
export async function estimateGas(input: SimulationInput): Promise<bigint> {
  const cap = cappedGas(input);
  const first = await simulate(input, cap);
  if (first.frame.status !== "success") throw callError(first.frame);
  let lo = first.gasUsed;
  if ((await simulate(input, lo)).frame.status === "success") return lo;
  let hi = cap;
  while (lo + 1n < hi) {
    const mid = (lo + hi) / 2n;
    if ((await simulate(input, mid)).frame.status === "success") hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * debug_traceCall: the call as eth_call runs it, with `tracer` attached. A failed call is a trace, not an error; a
 * call that cannot start (intrinsic gas, funds) throws as eth_call does.
 */
export async function traceCall(
  input: SimulationInput,
  tracer: ExecutionTracer,
): Promise<Simulation & { gasLimit: bigint }> {
  const gasLimit = cappedGas(input);
  return { ...(await simulate(input, gasLimit, tracer)), gasLimit };
}
