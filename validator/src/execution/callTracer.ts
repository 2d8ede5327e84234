// geth's callTracer (eth/tracers/native/call.go) over the runtime's tracing hooks: one JSON frame per call or
// creation, nested as they ran, so explorers and debuggers built for geth read RustChain's traces. The rules, geth's:
// - the top frame's `gas` is the transaction's gas limit and its `gasUsed` the receipt's (set by `finish`); a nested
//   frame's `gas` is what its caller gave it and `gasUsed` what it did not hand back;
// - `output` is the return data of a success (for a creation: the installed module, what eth_getCode answers), or the
//   revert data of a revert; absent when empty and for any other failure;
// - `error` is geth's text ("execution reverted", "out of gas", "max call depth exceeded", "insufficient balance for
//   transfer", "contract address collision"); a WebAssembly trap, which the EVM has no word for, gives its reason;
// - `revertReason` decodes `Error(string)` and `Panic(uint256)` revert data, as geth's abi.UnpackRevert does;
// - a failed creation has no `to`;
// - with `withLog`, each frame's logs carry `position`, the number of calls the frame had made before the log; a
//   frame that failed, and every frame under it, reports no logs (they were undone);
// - with `onlyTopCall`, nested frames and their logs are left out.
import { bytesToHex, type Log, toQuantity } from "@rustchain/shared";
import type { CallFrameJson, CallLogJson } from "@rustchain/shared/rpc/results";
import type { FrameResult } from "../runtime/contractRuntime.ts";
import type { ExecutionTracer, TracedFrame } from "../runtime/executionTracer.ts";
import { decodeRevertReason } from "./callSimulator.ts";

export interface CallTracerConfig {
  onlyTopCall: boolean;
  withLog: boolean;
}

interface OpenFrame {
  frame: TracedFrame;
  calls: CallFrameJson[];
  logs: CallLogJson[];
}

/** Solidity's panic codes as geth words them (accounts/abi, panicReasons). */
const PANIC_REASONS: Record<number, string> = {
  0: "generic panic",
  1: "assert(false)",
  17: "arithmetic underflow or overflow",
  18: "division or modulo by zero",
  33: "enum overflow",
  34: "invalid encoded storage byte array accessed",
  49: "out-of-bounds array access; popping on an empty array",
  50: "out-of-bounds access of an array or bytesN",
  65: "out of memory",
  81: "uninitialized function",
};
const PANIC_SELECTOR = "4e487b71";

/** The reason geth's abi.UnpackRevert gives for revert data: Error(string)'s message or Panic(uint256)'s meaning. */
export function revertReason(data: Uint8Array): string | undefined {
  const text = decodeRevertReason(data);
  if (text !== undefined) return text;
  if (data.length !== 36 || Buffer.from(data.subarray(0, 4)).toString("hex") !== PANIC_SELECTOR) return undefined;
  const code = BigInt(bytesToHex(data.subarray(4)));
  return PANIC_REASONS[Number(code)] ?? `unknown panic code: 0x${code.toString(16)}`;
}

const REVERTED = "execution reverted";

/** geth's `error` text for a frame that did not succeed. */
function errorText(result: FrameResult): string {
  switch (result.status) {
    case "revert":
      return result.reason === "insufficient balance for value" ? "insufficient balance for transfer" : REVERTED;
    case "outOfGas":
      return "out of gas";
    default:
      return result.reason === "call depth exceeded" ? "max call depth exceeded" : (result.reason ?? "trap");
  }
}

/** A failed frame's logs were undone, and so were those of every frame under it. */
function dropLogs(frame: CallFrameJson): void {
  delete frame.logs;
  for (const c of frame.calls ?? []) dropLogs(c);
}

export class CallTracer implements ExecutionTracer {
  private readonly open: OpenFrame[] = [];
  /** Frames entered and not yet left, traced or not (onlyTopCall skips the nested ones). */
  private nesting = 0;
  private top: CallFrameJson | undefined;

  /** `interrupt` is called at every event and throws to stop the execution (the request's deadline). */
  constructor(
    private readonly config: CallTracerConfig,
    private readonly interrupt: () => void = () => {},
  ) {}

  enter(frame: TracedFrame): void {
    this.interrupt();
    this.nesting++;
    if (this.config.onlyTopCall && this.nesting > 1) return;
    this.open.push({ frame, calls: [], logs: [] });
  }

  exit(result: FrameResult, output: Uint8Array): void {
    this.interrupt();
    this.nesting--;
    if (this.config.onlyTopCall && this.nesting > 0) return;
    const open = this.open.pop();
    if (!open) return;
    const json = this.toJson(open, result, output);
    const parent = this.open[this.open.length - 1];
    if (parent) parent.calls.push(json);
    else this.top = json;
  }

  log(log: Log): void {
    this.interrupt();
    if (!this.config.withLog || (this.config.onlyTopCall && this.nesting > 1)) return;
    const open = this.open[this.open.length - 1];
    if (!open) return;
    open.logs.push({
      address: bytesToHex(log.address),
      topics: log.topics.map(bytesToHex),
      data: bytesToHex(log.data),
      position: toQuantity(open.calls.length),
    });
  }

  /** The trace, once the top frame has ended: its gas is the transaction's limit, its gasUsed the receipt's. */
  finish(gasLimit: bigint, gasUsed: bigint): CallFrameJson | undefined {
    if (!this.top) return undefined;
    this.top.gas = toQuantity(gasLimit);
    this.top.gasUsed = toQuantity(gasUsed);
    return this.top;
  }

  private toJson({ frame, calls, logs }: OpenFrame, result: FrameResult, output: Uint8Array): CallFrameJson {
    const ok = result.status === "success";
    const error = ok ? undefined : errorText(result);
    const reverted = error === REVERTED;
    const hasOutput = (ok || reverted) && output.length > 0;
    const reason = reverted ? revertReason(output) : undefined;
    if (!ok) for (const c of calls) dropLogs(c);
    return {
      from: bytesToHex(frame.from),
      gas: toQuantity(frame.gas),
      gasUsed: toQuantity(frame.gas - result.gasLeft),
      ...(ok || frame.kind === "CALL" ? { to: bytesToHex(frame.to) } : {}),
      input: bytesToHex(frame.input),
      ...(hasOutput ? { output: bytesToHex(output) } : {}),
      ...(error ? { error } : {}),
      ...(reason ? { revertReason: reason } : {}),
      ...(calls.length > 0 ? { calls } : {}),
      ...(ok && logs.length > 0 ? { logs } : {}),
      value: toQuantity(frame.value),
      type: frame.kind,
    };
  }
}
