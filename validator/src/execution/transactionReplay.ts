// debug_traceTransaction's re-execution, as geth does it: the block's transactions before the traced one are applied
// to the parent block's state (untraced), then the traced one with the tracer attached. Block execution applies the
// consensus extras only after every transaction, so this state is exactly the one the transaction ran on.
import { type SignedTransaction, TxError } from "@rustchain/shared";
import type { ContractRuntime } from "../runtime/contractRuntime.ts";
import type { ExecutionTracer } from "../runtime/executionTracer.ts";
import type { WorldState } from "../state/stateDb.ts";
import { applyTransaction, type BlockEnv, type TxOutcome } from "./transactionExecutor.ts";

/** Replayed transactions between two yields to the event loop (a full block replays for up to half a second). */
const YIELD_EVERY_TXS = 100;

export interface ReplayInput {
  /** An overlay of the parent block's state. */
  ws: WorldState;
  /** The block's environment, as its import executed it. */
  env: BlockEnv & { gasLimit: bigint };
  /** The block's transactions, senders recovered. */
  txs: readonly SignedTransaction[];
  /** Which one to trace. */
  index: number;
  runtime: ContractRuntime;
  tracer: ExecutionTracer;
  /** Called between replayed transactions; throws to stop (the request's deadline). */
  interrupt: () => void;
}

/** Replay the block up to `txs[index]` and run that one traced; its outcome (gasUsed is the receipt's). */
export async function replayTransaction(input: ReplayInput): Promise<TxOutcome> {
  const { ws, env, txs, index, runtime } = input;
  let gasUsed = 0n;
  for (let i = 0; i <= index; i++) {
    if (i > 0 && i % YIELD_EVERY_TXS === 0) {
      await new Promise((r) => setImmediate(r));
      input.interrupt();
    }
    const tracer = i === index ? input.tracer : undefined;
    const outcome = await applyTransaction(
      ws,
      txs[i] as SignedTransaction,
      env,
      env.gasLimit - gasUsed,
      runtime,
      tracer,
    );
    // The block was valid when imported: a transaction that no longer applies means the state read is not the
    // parent's (a node fault), answered as the TxError it is.
    if (outcome instanceof TxError) throw outcome;
    if (i === index) return outcome;
    gasUsed += outcome.gasUsed;
  }
  throw new RangeError(`transaction index ${index} outside a block of ${txs.length}`);
}
