// ReplicaAccess (edge/src/app/contract.ts) over a Replica and its ReplicaReads in the same process: what the Node host
// uses directly and what the ChainReplica Durable Object exposes over RPC. Everything returned is plain JSON.
import { RpcCode, toRpcError } from "@rustchain/shared/rpcErrors";
import type { ChainTips, JsonRpcErrorObject, ReadOutcome, ReplicaAccess } from "../app/contract.ts";
import { FORWARD, type ReplicaReads } from "./reads.ts";
import type { Replica } from "./replica.ts";

export interface LocalReplicaAccessDeps {
  replica: Replica;
  reads: ReplicaReads;
  /** Told about unexpected faults of a read (answered as the core's internal error); never about bad params. */
  onError?: (err: unknown) => void;
}

export class LocalReplicaAccess implements ReplicaAccess {
  constructor(private readonly deps: LocalReplicaAccessDeps) {}

  /**
   * The replica's tips. `head` is the served head's block: the highest head ever held, so it never moves backwards;
   * after a reorg to a shorter branch it stays at the old height until the new branch passes it (its hash is then the
   * canonical head's, the best the replica knows).
   */
  async tips(): Promise<ChainTips> {
    const m = await this.deps.replica.meta();
    // Safe never moves backwards, but its block can leave the chain in a reorg: then it names no block until a newer
    // safe block arrives (reads of "safe" are forwarded meanwhile). Finalized blocks never leave.
    let safe = m.safe;
    if (safe && m.head && safe.number <= m.head.number) {
      if ((await this.deps.replica.canonicalHash(safe.number)) !== safe.hash) safe = null;
    } else if (safe) safe = null;
    const servedHead = Math.max(m.servedHead ?? -1, m.head?.number ?? -1);
    return {
      head: m.head,
      ...(servedHead >= 0 ? { servedHead } : {}),
      safe,
      finalized: m.finalized,
      seq: m.lastSeq,
    };
  }

  /** Answer one read. Never throws: bad params and the core's read errors come back as `error` outcomes. */
  async read(method: string, params: unknown): Promise<ReadOutcome> {
    try {
      const a = await this.deps.reads.answerWithPin(method, params);
      if (a === FORWARD) return { kind: "forward" };
      return a.pin
        ? { kind: "result", result: a.result, pin: a.pin, immutable: a.immutable }
        : { kind: "result", result: a.result, immutable: a.immutable };
    } catch (err) {
      const rpcErr = toRpcError(err);
      // A fault of ours (store down, corrupt record): let the core answer rather than fail the call.
      if (rpcErr.rpcCode === RpcCode.INTERNAL_ERROR) {
        this.deps.onError?.(err);
        return { kind: "forward" };
      }
      return { kind: "error", error: rpcErr.toJSON() as JsonRpcErrorObject };
    }
  }
}
