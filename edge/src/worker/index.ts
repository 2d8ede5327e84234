// The edge on Cloudflare Workers: the shared Hono app (edge/src/app/app.ts) wired to Workers services.
// - reads: the ChainReplica Durable Object over DO RPC (`tips()`, `read()`), a singleton named "main";
// - cache: in-isolate LRU for answers keyed by block hash; immutable answers also in the Cache API and KV FINALIZED;
// - rate limits: one RateLimiter Durable Object per client IP (cf-connecting-ip);
// - core: fetch to CORE_RPC_URL;
// - /ipfs/: the trustless gateway, from the core's gateway (CORE_RPC_URL's origin), verified, cached in caches.default;
// - ingest, /replication/head and WebSocket upgrades: forwarded to the ChainReplica object;
// - GET /metrics: a JSON snapshot, only with `Authorization: Bearer <METRICS_TOKEN>` (404 when no token is set).
// One pipeline per isolate (it remembers the highest head it served, so eth_blockNumber never goes backwards there).
import type { Context, Hono } from "hono";
import { createEdgeApp } from "../app/app.ts";
import type { ChainTips, EventPublisher, ReadOutcome, ReplicaAccess, SubscriptionEvent } from "../app/contract.ts";
import { createEdgeGateway, workerEdgeGatewayOptions } from "../gateway/gateway.ts";
import { LruResponseCache } from "../rpc/cache.ts";
import { EdgeMetricsRegistry } from "../rpc/metrics.ts";
import { createRpcPipeline } from "../rpc/pipeline.ts";
import { WorkerResponseCache } from "./cache.ts";
import { CHAIN_REPLICA_NAME, type ChainReplica, coreUpstream } from "./chainReplica.ts";
import { chainIdHex, edgeConfigFromEnv, replicationKeyFromEnv, type WorkerEnv } from "./env.ts";
import { CacheApiGatewayCache } from "./gatewayCache.ts";
import { DurableObjectRateLimiter } from "./rateLimiter.ts";

export { ChainReplica } from "./chainReplica.ts";
export { RateLimiter } from "./rateLimiter.ts";

/** The replica singleton's stub. A stub belongs to the request that made it, so one is made per call. */
const replicaStub = (env: WorkerEnv): DurableObjectStub<ChainReplica> =>
  env.CHAIN_REPLICA.get(env.CHAIN_REPLICA.idFromName(CHAIN_REPLICA_NAME));

/** ReplicaAccess and EventPublisher over DO RPC to the ChainReplica object (everything crossing is plain JSON). */
export class DurableObjectReplicaAccess implements ReplicaAccess, EventPublisher {
  constructor(private readonly env: WorkerEnv) {}

  async tips(): Promise<ChainTips> {
    return (await replicaStub(this.env).tips()) as ChainTips;
  }

  async read(method: string, params: unknown): Promise<ReadOutcome> {
    return (await replicaStub(this.env).read(method, params)) as ReadOutcome;
  }

  async publish(event: SubscriptionEvent): Promise<void> {
    await replicaStub(this.env).publish(event);
  }
}

interface WorkerEdge {
  app: Hono;
  metrics: EdgeMetricsRegistry;
  access: DurableObjectReplicaAccess;
}

function log(entry: Record<string, unknown>): void {
  // biome-ignore lint/suspicious/noConsole: Workers Logs collects console output; one JSON line per request.
  console.log(JSON.stringify(entry));
}

export function createWorkerEdge(env: WorkerEnv): WorkerEdge {
  const config = edgeConfigFromEnv(env);
  const metrics = new EdgeMetricsRegistry();
  const access = new DurableObjectReplicaAccess(env);
  const limiter = new DurableObjectRateLimiter(env.RATE_LIMITER);
  const defaultCache = typeof caches === "undefined" ? undefined : caches.default;
  const pipeline = createRpcPipeline({
    config,
    replica: access,
    upstream: coreUpstream(env),
    cache: new WorkerResponseCache({
      local: new LruResponseCache(),
      cache: defaultCache,
      kv: env.FINALIZED,
      namespace: chainIdHex(config),
    }),
    limiter,
    events: access,
    metrics,
    log,
  });
  const gateway = createEdgeGateway(
    { ...workerEdgeGatewayOptions, coreUrl: env.CORE_RPC_URL },
    { cache: new CacheApiGatewayCache(defaultCache, chainIdHex(config)), limiter, metrics, log },
  );
  const app = createEdgeApp({
    config,
    pipeline,
    clientKey: (c: Context) => c.req.header("cf-connecting-ip") ?? "unknown",
    ingest: (req) => replicaStub(env).fetch(req),
    replicationHead: () => replicaStub(env).fetch("https://chain-replica/replication/head"),
    replicationKey: replicationKeyFromEnv(env),
    gateway,
    websocket: (c: Context) => replicaStub(env).fetch(c.req.raw),
    health: async () => {
      const tips = await access.tips();
      return { ok: tips.head !== null, ...tips };
    },
    log,
  });
  return { app, metrics, access };
}

/** GET /metrics: the isolate's metrics and the replica's lag, as JSON, for the holder of METRICS_TOKEN. */
async function metricsResponse(request: Request, env: WorkerEnv, edge: WorkerEdge): Promise<Response> {
  const token = env.METRICS_TOKEN;
  if (!token || request.method !== "GET") return Response.json({ error: "not found" }, { status: 404 });
  if (!(await sameSecret(request.headers.get("authorization") ?? "", `Bearer ${token}`))) {
    return Response.json({ error: "unauthorized" }, { status: 401, headers: { "www-authenticate": "Bearer" } });
  }
  const tips = await edge.access.tips();
  const head = await edge.access.read("eth_getBlockByNumber", ["latest", false]);
  if (head.kind === "result" && head.result && typeof head.result === "object") {
    const ts = Number((head.result as { timestamp?: string }).timestamp ?? Number.NaN);
    if (Number.isFinite(ts)) edge.metrics.setReplicaLag(Math.max(0, Date.now() / 1000 - ts));
  }
  return Response.json({ replica: tips, ...edge.metrics.snapshot() }, { headers: { "cache-control": "no-store" } });
}

/** Compare two strings without leaking where they differ (both hashed, then compared in full). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

let isolateEdge: { env: WorkerEnv; edge: WorkerEdge } | undefined;

function edgeFor(env: WorkerEnv): WorkerEdge {
  if (isolateEdge?.env !== env) isolateEdge = { env, edge: createWorkerEdge(env) };
  return isolateEdge.edge;
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const edge = edgeFor(env);
    if (new URL(request.url).pathname === "/metrics") return metricsResponse(request, env, edge);
    return edge.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkerEnv>;
