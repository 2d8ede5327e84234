// The runtime's tracing seam: what a tracer (execution/callTracer.ts, geth's callTracer) sees of a transaction's
// execution. The runtime calls these hooks only when a tracer is attached to the transaction's context
// (`TxContext.tracer`); without one the cost is a property check per frame and per log.
import type { Log } from "@rustchain/shared";
import type { FrameResult } from "./contractRuntime.ts";

/** How a frame was entered: a message call (the host `call`, or a transaction to an account) or a creation. */
export type TracedFrameKind = "CALL" | "CREATE";

export interface TracedFrame {
  kind: TracedFrameKind;
  from: Uint8Array;
  /** The callee, or the address a creation installs code at. */
  to: Uint8Array;
  /** The calldata; for a creation, the creation data (artefact and constructor arguments). */
  input: Uint8Array;
  /** The gas the frame was given. */
  gas: bigint;
  value: bigint;
  /** 0 for the transaction's own frame. */
  depth: number;
}

export interface ExecutionTracer {
  /** A frame starts, before anything is checked or moved (a frame refused for depth or balance is traced too). */
  enter(frame: TracedFrame): void;
  /**
   * The frame entered last ends, whatever the ending, after its state changes and logs were undone if it failed.
   * `output` is the return or revert data, and for a successful creation the installed module.
   */
  exit(result: FrameResult, output: Uint8Array): void;
  /** The innermost running frame emitted a log (kept only if that frame and all its callers succeed). */
  log(log: Log): void;
}
