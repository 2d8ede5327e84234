// Sender recovery behind an interface: a worker-thread pool (piscina) in the node, inline for small tools and tests.
import { availableParallelism } from "node:os";
import { ChainError, keccak256, type SignedTransaction, TxError } from "@rustchain/shared";
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
    close: async () => {
      // A thread terminated while it still loads its modules can take the whole process down: the secp256k1 addon's
      // initialisation throws a C++ exception when its environment goes away under it ("terminate called after
      // throwing an instance of 'Napi::Error'"), seen when a node stopped within seconds of starting on a loaded
      // machine. So let every thread finish starting first: one short task per thread, all at once (each thread
      // takes one task at a time, so each lands on its own).
      await Promise.allSettled(Array.from({ length: opts.threads }, () => pool.run(20, { name: "hold" })));
      await pool.destroy();
    },
  };
}

/**
 * Recovery that first looks each transaction up by hash among those already recovered (the pool: a block's
 * transactions usually reached this node by gossip before the block did), and recovers only the rest. Importing a
 * 10,000-transaction block then costs 10,000 hashes instead of 10,000 signature recoveries.
 */
export function withKnownSenders(
  recovery: SenderRecovery,
  known: (hash: Uint8Array) => SignedTransaction | undefined,
): SenderRecovery {
  return {
    recover: async (raws) => {
      const out: (SignedTransaction | TxError | ChainError | undefined)[] = raws.map((raw) => {
        const stx = known(keccak256(raw));
        return stx && Buffer.compare(stx.raw, raw) === 0 ? stx : undefined;
      });
      const missing: number[] = [];
      out.forEach((r, i) => {
        if (r === undefined) missing.push(i);
      });
      if (missing.length > 0) {
        const recovered = await recovery.recover(missing.map((i) => raws[i] as Uint8Array));
        recovered.forEach((r, k) => {
          out[missing[k] as number] = r;
        });
      }
      return out as (SignedTransaction | TxError | ChainError)[];
    },
    close: () => recovery.close(),
  };
}
