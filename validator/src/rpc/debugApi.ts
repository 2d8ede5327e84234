// debug_traceTransaction and debug_traceCall with geth's callTracer (execution/callTracer.ts), bounded: at most
// `maxConcurrentTraces` run at once and `maxQueuedTraces` wait (more are refused with -32005), and each stops at its
// deadline ("execution timeout"). Off unless the node runs with --rpc-debug (docs/node.md, "Traces").
import { rpcErrors } from "@rustchain/shared";
import type { TraceConfig } from "@rustchain/shared/rpc/params";
import type { CallFrameJson } from "@rustchain/shared/rpc/results";
import type { Chain } from "../chain/chain.ts";
import { type SimulationInput, traceCall } from "../execution/callSimulator.ts";
import { CallTracer } from "../execution/callTracer.ts";
import { replayTransaction } from "../execution/transactionReplay.ts";
import { blockEnvOf } from "../runtime/blockEnv.ts";
import type { ContractRuntime } from "../runtime/contractRuntime.ts";
import type { StateDb } from "../state/stateDb.ts";
import type { StateRetention } from "../state/stateRetention.ts";
import { loadBlock } from "./blockFormat.ts";
import { ConcurrencyLimit } from "./concurrencyLimit.ts";

export interface DebugApiOptions {
  /** A trace's deadline, from its arrival; a request's `timeout` may only shorten it. geth's default is 5 s. */
  traceTimeoutMs: number;
  maxConcurrentTraces: number;
  maxQueuedTraces: number;
}

export const defaultDebugApiOptions: DebugApiOptions = {
  traceTimeoutMs: 5_000,
  // Two cores: one trace may take one while blocks keep the other.
  maxConcurrentTraces: 2,
  maxQueuedTraces: 16,
};

export interface DebugApiModules {
  chain: Chain;
  state: StateDb;
  runtime: ContractRuntime;
  retention?: StateRetention;
}

/** The default trace config (no config given): geth's struct logger, which RustChain does not have. */
export const DEFAULT_TRACE_CONFIG: TraceConfig = { onlyTopCall: false, withLog: false };

export class DebugApi {
  private readonly limit: ConcurrencyLimit;

  constructor(
    private readonly opts: DebugApiOptions,
    private readonly modules: DebugApiModules,
  ) {
    this.limit = new ConcurrencyLimit(opts.maxConcurrentTraces, opts.maxQueuedTraces);
  }

  /** Refuse any tracer but callTracer, before any work. */
  checkTracer(config: TraceConfig): void {
    if (config.tracer !== "callTracer") throw rpcErrors.tracerNotSupported(config.tracer);
  }

  /** The trace of a mined transaction: its block replayed on the parent's state up to it. */
  async traceTransaction(hash: Uint8Array, config: TraceConfig): Promise<CallFrameJson> {
    this.checkTracer(config);
    const interrupt = this.deadline(config);
    const { chain, state, runtime, retention } = this.modules;
    const loc = await chain.txLocation(hash);
    const block = loc && (await loadBlock(chain, loc.blockHash));
    if (!loc || !block) throw rpcErrors.transactionNotFound();
    const h = block.block.header;
    const parent = await chain.getHeader(h.parentHash);
    if (!parent) throw rpcErrors.transactionNotFound();
    retention?.assertAvailable(parent.number);
    return this.limit.run(async () => {
      interrupt();
      const tracer = new CallTracer(config, interrupt);
      const stx = block.txs[loc.index]!;
      const outcome = await replayTransaction({
        ws: state.overlay(parent.stateRoot, false),
        env: { ...blockEnvOf(chain.chainId, h), gasLimit: h.gasLimit },
        txs: block.txs,
        index: loc.index,
        runtime,
        tracer,
        interrupt,
      });
      return finished(tracer, stx.tx.gasLimit, outcome.gasUsed);
    }, this.busy);
  }

  /** The trace of a call, run as eth_call runs it at the requested block. */
  async traceCall(simulation: SimulationInput, config: TraceConfig): Promise<CallFrameJson> {
    this.checkTracer(config);
    const interrupt = this.deadline(config);
    return this.limit.run(async () => {
      interrupt();
      const tracer = new CallTracer(config, interrupt);
      const { gasLimit, gasUsed } = await traceCall(simulation, tracer);
      return finished(tracer, gasLimit, gasUsed);
    }, this.busy);
  }

  private readonly busy = () => rpcErrors.tracesBusy(this.opts.maxConcurrentTraces + this.opts.maxQueuedTraces);

  /** A check that throws "execution timeout" once the request's deadline has passed. */
  private deadline(config: TraceConfig): () => void {
    const ms = Math.min(config.timeoutMs ?? this.opts.traceTimeoutMs, this.opts.traceTimeoutMs);
    const at = performance.now() + ms;
    return () => {
      if (performance.now() > at) throw rpcErrors.traceTimeout();
    };
  }
}

function finished(tracer: CallTracer, gasLimit: bigint, gasUsed: bigint): CallFrameJson {
  const trace = tracer.finish(gasLimit, gasUsed);
  // Every execution enters and leaves its top frame: no trace means the hooks were not called (a node fault).
  if (!trace) throw rpcErrors.internal();
  return trace;
}
