// Sender recovery behind an interface: a worker-thread pool (piscina) in the node, inline for small tools and tests.
import { availableParallelism } from "node:os";
import { ChainError, type SignedTransaction, TxError } from "@rustchain/shared";
import { Piscina } from "piscina";
import { type RecoveryResult, recoverBatch } from "./recoveryWorker.ts";

export interface SenderRecovery {
  /** Recover each transaction; failures come back as TxError/ChainError values in the same position. */
  recover(raws: Uint8Array[]): Promise<(SignedTransaction | TxError | ChainError)[]>;
  close(): Promise<void>;
}

function toValue(r: RecoveryResult): SignedTransaction | TxError | ChainError {
  if (r.ok) return r.stx;
  return r.kind === "tx" ? new TxError(r.type) : new ChainError(r.type);
}

export function createInlineRecovery(): SenderRecovery {
  return {
    recover: async (raws) => recoverBatch(raws).map(toValue),
    close: async () => {},
  };
}

export interface RecoveryPoolOptions {
  threads: number;
  /** Transactions per task; larger chunks amortise the thread hop. */
  chunkSize: number;
}

export const defaultRecoveryPoolOptions: RecoveryPoolOptions = {
  threads: Math.max(1, Math.min(4, availableParallelism())),
  chunkSize: 256,
};

export function createRecoveryPool(opts: RecoveryPoolOptions = defaultRecoveryPoolOptions): SenderRecovery {
  const pool = new Piscina({
    filename: new URL("./recoveryWorker.ts", import.meta.url).href,
    minThreads: 1,
    maxThreads: opts.threads,
  });
  return {
    async recover(raws) {
      // Single transactions are cheaper inline (~50 µs) than a thread hop.
      if (raws.length <= 2) return recoverBatch(raws).map(toValue);
      const chunks: Promise<RecoveryResult[]>[] = [];
      for (let i = 0; i < raws.length; i += opts.chunkSize) {
        chunks.push(pool.run(raws.slice(i, i + opts.chunkSize)) as Promise<RecoveryResult[]>);
      }
      return (await Promise.all(chunks)).flat().map(toValue);
    },
    close: () => pool.destroy(),
  };
}
