// The seams of the edge. One host-agnostic JSON-RPC pipeline (edge/src/rpc/) answers every HTTP body and every
// WebSocket message on both hosts; what differs between Cloudflare Workers and Node is only how it reaches the replica,
// the core, the caches, the rate limiter and the subscribers. Each host implements the interfaces below:
//
// | seam              | Workers (edge/src/worker/)                         | Node (edge/src/node/)                        |
// |-------------------|----------------------------------------------------|----------------------------------------------|
// | ReplicaAccess     | RPC to the ChainReplica Durable Object             | Replica + ReplicaReads on the Redis store    |
// | Upstream          | fetch to CORE_RPC_URL                              | fetch to --core-rpc                          |
// | ResponseCache     | in-isolate LRU + Cache API / KV for immutable data | in-process LRU                               |
// | RateLimiter       | RateLimiter Durable Object per client IP           | in-process token buckets                     |
// | Subscriptions     | ChainReplica DO, WebSocket hibernation API         | `ws` server + Redis stream fan-out           |
// | GatewayCache      | Cache API (caches.default)                         | in-process LRU bounded in bytes              |
//
// Everything crossing a Durable Object RPC boundary is plain JSON (errors as JSON-RPC error objects, never thrown
// class instances), so these types are the wire format between the Worker and its Durable Objects too.
import type { Hex } from "@rustchain/shared/hex";
import type { RpcErrorObject } from "@rustchain/shared/rpcErrors";

/** A JSON-RPC 2.0 error object as sent to clients (shared/src/rpcErrors.ts). */
export type JsonRpcErrorObject = RpcErrorObject;

/** A block reference as the replica holds it. */
export interface BlockRef {
  number: number;
  hash: Hex;
}

/**
 * The replica's view of the chain tips. Every ref is a block of the canonical chain the replica holds now (a number and
 * the hash of the block at that number), so a tag resolves to exactly the block a read would use. `servedHead` is what
 * eth_blockNumber answers: the highest head ever held, which never moves backwards, even when a reorg leaves `head`
 * lower.
 */
export interface ChainTips {
  head: BlockRef | null;
  /** Absent: the head's number. */
  servedHead?: number;
  /** Null while the last safe block announced is not canonical (it left the chain in a reorg). */
  safe: BlockRef | null;
  finalized: BlockRef | null;
  /** Highest bundle seq applied. */
  seq: number;
}

/**
 * The answer to one read from the replica.
 * - `result`: the JSON result. `pin` is the block the answer was computed at (absent for answers not tied to a block,
 *   e.g. a transaction by hash). `immutable` is true when the answer can never change: it is at or below the
 *   finalized block (or a by-hash lookup of data in a finalized block). Immutable answers may be cached forever;
 *   the others only under a key that contains `pin.hash`.
 * - `error`: a JSON-RPC error the core would also answer (invalid params, range limits, unknown block...).
 * - `forward`: the replica cannot answer; ask the core.
 */
export type ReadOutcome =
  | { kind: "result"; result: unknown; pin?: BlockRef; immutable: boolean }
  | { kind: "error"; error: JsonRpcErrorObject }
  | { kind: "forward" };

/** The replica as the RPC pipeline sees it. */
export interface ReplicaAccess {
  tips(): Promise<ChainTips>;
  /** Answer `method` with its raw `params` from the replica. Never throws for bad input: answers `error`. */
  read(method: string, params: unknown): Promise<ReadOutcome>;
}

/** The validator core's JSON-RPC. */
export interface Upstream {
  /**
   * Send one JSON-RPC call to the core and return its `result`, or the core's error object. A transport failure
   * (core down, timeout, non-JSON answer) rejects with UpstreamUnavailableError.
   */
  call(method: string, params: unknown[]): Promise<{ result: unknown } | { error: JsonRpcErrorObject }>;
}

export class UpstreamUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`core unavailable: ${reason}`);
    this.name = "UpstreamUnavailableError";
  }
}

/** A cache of serialised results. Keys are opaque strings built by the pipeline. */
export interface ResponseCache {
  get(key: string): Promise<string | undefined>;
  /** `immutable`: the value can never change (finalized data); otherwise the key contains the block hash it is for. */
  put(key: string, json: string, immutable: boolean): Promise<void>;
}

/**
 * Verified gateway answers (edge/src/gateway/): a raw block or a whole CAR, keyed by CID and format. Blocks never change
 * under their CID, so an entry is never stale; only bytes the edge verified are put.
 */
export interface GatewayCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/** Outcome of a rate-limit check: allowed, or refused with the seconds after which to retry. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Take `cost` tokens (one per JSON-RPC call; a batch costs its length) for client `key` (its IP). */
  take(key: string, cost: number): Promise<RateDecision>;
}

/** What subscribers are told. The pipeline publishes pending transactions; the replica's host publishes the rest. */
export type SubscriptionEvent =
  /** A block became the head (already readable at the edge): its header JSON (eth_getBlockByNumber(n, false) without `transactions`) and its logs. */
  | { kind: "block"; header: Record<string, unknown>; logs: Record<string, unknown>[] }
  /** Logs of blocks removed by a reorg, each with `removed: true`. */
  | { kind: "removedLogs"; logs: Record<string, unknown>[] }
  /** A transaction accepted by the core through this edge. */
  | { kind: "pendingTransaction"; hash: Hex };

export interface EventPublisher {
  publish(event: SubscriptionEvent): Promise<void>;
}

/** Counters and timings the hosts expose (Prometheus text on Node, JSON on Workers). */
export interface EdgeMetrics {
  /** One JSON-RPC call answered: where from (`cache`, `replica`, `core`, `edge` for static/refused), method, ok or error. */
  call(method: string, source: "cache" | "replica" | "core" | "edge", ok: boolean): void;
  /** One call to the core took `ms`. */
  upstream(method: string, ms: number, ok: boolean): void;
  /** A request was refused by the rate limiter. */
  rateLimited(): void;
  /**
   * One `/ipfs/` request answered: `raw`, `car` or `none` (refused before a format was known), from the `cache`, the
   * `core` (verified on the way) or the `edge` itself; `result` says how it ended.
   */
  gateway(format: "raw" | "car" | "none", source: "cache" | "core" | "edge", result: GatewayResult): void;
}

/**
 * How a gateway request ended: `ok`; `refused` (bad request, rate limit, 404 from the core...); `unavailable` (the core
 * did not answer); `rejected` (the core's bytes failed verification: an error status, or a CAR cut midway).
 */
export type GatewayResult = "ok" | "refused" | "unavailable" | "rejected";

/** Limits and identity of one edge deployment. */
export interface EdgeConfig {
  chainId: bigint;
  /** web3_clientVersion's answer. */
  clientVersion: string;
  /** Largest HTTP body / WebSocket message, bytes (core's default: 5 MiB). */
  maxBodyBytes: number;
  /** Most calls in one batch (core's default: 100). */
  maxBatch: number;
  /** Largest raw transaction accepted, bytes (core's mempool limit: 128 KiB). */
  maxTxBytes: number;
  /** Per-IP budget: `burst` calls at once, refilled at `perSecond`. */
  rateLimit: { perSecond: number; burst: number };
  /** Origins allowed by CORS; `["*"]` for any. */
  corsOrigins: string[];
}

export const defaultEdgeConfig: Omit<EdgeConfig, "chainId"> = {
  clientVersion: "rustchain-edge/0.1.0",
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 1000,
  maxTxBytes: 128 * 1024,
  rateLimit: { perSecond: 50, burst: 200 },
  corsOrigins: ["*"],
};
