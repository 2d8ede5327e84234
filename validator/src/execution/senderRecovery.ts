// Sender recovery behind an interface: a worker-thread pool (piscina) in the node, inline for small tools and tests.
import { availableParallelism } from "node:os";
import { ChainError, type SignedTransaction, TxError } from "@rustchain/shared";
import { Piscina } from "piscina";
import { packRaws, type RecoveryResult, recoverBatch } from "./recoveryWorker.ts";

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
    // A fixed set of long-lived workers: starting one reloads the TypeScript loader and modules (~0.5 s of CPU).
    minThreads: opts.threads,
    maxThreads: opts.threads,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  // Calls made in the same tick (e.g. the 100 eth_sendRawTransaction of one JSON-RPC batch) are coalesced into one
  // queue and recovered together in the pool.
  let queue: { raw: Uint8Array; resolve: (r: RecoveryResult) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const items = queue;
    queue = [];
    // A lone transaction is cheaper inline (~50 µs) than a thread hop.
    if (items.length <= 2) {
      recoverBatch(items.map((i) => i.raw)).forEach((r, k) => {
        items[k]?.resolve(r);
      });
      return;
    }
    for (let i = 0; i < items.length; i += opts.chunkSize) {
      const chunk = items.slice(i, i + opts.chunkSize);
      (pool.run(packRaws(chunk.map((c) => c.raw))) as Promise<RecoveryResult[]>).then(
        (results) => {
          results.forEach((r, k) => {
            chunk[k]?.resolve(r);
          });
        },
        (err) => {
          for (const c of chunk) c.reject(err);
        },
      );
    }
  };
  const recoverOne = (raw: Uint8Array) =>
    new Promise<RecoveryResult>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ raw, resolve, reject });
    });
  return {
    recover: async (raws) => (await Promise.all(raws.map(recoverOne))).map(toValue),
    close: () => pool.destroy(),
  };
}
