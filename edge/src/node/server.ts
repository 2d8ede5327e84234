// The Node host of the edge (`rustchain edge`): the same Hono app and RPC pipeline as on Cloudflare Workers, wired to
// Node pieces (edge/src/app/contract.ts lists the seams):
// - replica: Replica + ReplicaReads + LocalReplicaAccess on a RedisReplicaStore; several instances may share one Redis;
// - ingest: POST /replication/ingest applies the core's bundles; events (newHeads, logs) and the new tips go out on
//   a Redis stream, after the commit, so every instance's WebSocket clients are told about a block readable everywhere;
// - gap repair: a 409 gap, and every 2 s when the core's admin URL is known, run the ReplicaPuller;
// - upstream: HttpUpstream to the core's JSON-RPC; cache: in-process LRU; rate limits: in-process token buckets;
// - /ipfs/: the trustless gateway, from the core's gateway, verified, cached in an in-process LRU (LruGatewayCache);
// - WebSocket: a `ws` server on the HTTP server's upgrade (paths / and /ws);
// - metrics: Prometheus text on a separate listen address (/metrics), with the replica lag computed at scrape time.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { toQuantity } from "@rustchain/shared/hex";
import type { Context } from "hono";
import { answerJsonRpc, corsHeaders, createEdgeApp, INTERNAL_ERROR_BODY, readBodyBounded } from "../app/app.ts";
import {
  type ChainTips,
  defaultEdgeConfig,
  type EdgeConfig,
  type ReadOutcome,
  type ReplicaAccess,
  type SubscriptionEvent,
} from "../app/contract.ts";
import { createEdgeGateway, defaultEdgeGatewayOptions } from "../gateway/gateway.ts";
import { LruGatewayCache } from "../gateway/lruGatewayCache.ts";
import { handleIngest, handleReplicaHead } from "../ingest/ingest.ts";
import { LocalReplicaAccess } from "../replica/access.ts";
import { ReplicaPuller } from "../replica/puller.ts";
import { createReplicaReads, learnFeeParams } from "../replica/reads.ts";
import { createReplica, defaultReplicaOptions } from "../replica/replica.ts";
import { LruResponseCache } from "../rpc/cache.ts";
import { EdgeMetricsRegistry } from "../rpc/metrics.ts";
import { createRpcPipeline } from "../rpc/pipeline.ts";
import { TokenBucketLimiter } from "../rpc/rateLimit.ts";
import { HttpUpstream } from "../rpc/upstream.ts";
import { RedisEventFanout } from "./events.ts";
import { defaultGrpcReplicationOptions, GrpcReplicationFollower } from "./grpcReplication.ts";
import { RedisReplicaStore } from "./redisStore.ts";
import { defaultEdgeWsOptions, EdgeWebSocketServer, type EdgeWsOptions } from "./wsServer.ts";

/** The logger shape the edge uses: pino's (`logger.info({ ...fields }, "message")`). */
export interface EdgeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silentLogger: EdgeLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface NodeEdgeOptions {
  listen: { host: string; port: number };
  redisUrl: string;
  /** The core's JSON-RPC URL (forwarded calls). */
  coreRpcUrl: string;
  /** The core's admin base URL (GET /replication/*): gap repair and catch-up after a restart. */
  coreAdminUrl?: string;
  /** The core's gRPC host:port: replication comes from its stream (grpcReplication.ts) rather than the push. */
  coreGrpcAddr?: string;
  replicationKey: Uint8Array;
  chainId: bigint;
  metricsListen?: { host: string; port: number };
  /** Overrides of the edge limits (rate limit, body and batch size, CORS, client version). */
  config?: Partial<Omit<EdgeConfig, "chainId">>;
  /** Overrides of the WebSocket bounds (ping interval, subscriptions, buffering). */
  ws?: Partial<Omit<EdgeWsOptions, "maxPayloadBytes">>;
  /** How often the puller asks the core for missed bundles when coreAdminUrl is set (default 2 s). */
  pullIntervalMs?: number;
  /** Longest wait for one forwarded call (default 10 s). */
  upstreamTimeoutMs?: number;
  /** How long tips read from Redis are reused before reading them again (the event stream updates them sooner). */
  tipsTtlMs?: number;
  /** Redis key prefix (default `rustchain:edge:<chainId>:`). */
  redisPrefix?: string;
  logger?: EdgeLogger;
}

export interface NodeEdge {
  url: string;
  wsUrl: string;
  metricsUrl?: string;
  /** This instance's id in event stream entries. */
  instanceId: string;
  /** Run one catch-up with the core now (tests, operators); undefined without coreAdminUrl. */
  catchUp?(): Promise<{ applied: number; coreSeq: number; lastSeq: number }>;
  /** Open WebSocket connections and subscriptions. */
  wsStats(): { connections: number; subscriptions: number };
  close(): Promise<void>;
}

/**
 * Tips with a short reuse window, refreshed at once by event stream entries. Never moves backwards: of two views the one
 * with the higher seq wins.
 */
class TipsCache implements ReplicaAccess {
  private known: ChainTips | undefined;
  private at = 0;

  constructor(
    private readonly inner: ReplicaAccess,
    private readonly ttlMs: number,
  ) {}

  offer(tips: ChainTips): void {
    if (!this.known || tips.seq >= this.known.seq) {
      this.known = tips;
      this.at = Date.now();
    }
  }

  async tips(): Promise<ChainTips> {
    if (this.known && Date.now() - this.at < this.ttlMs) return this.known;
    this.offer(await this.inner.tips());
    return this.known as ChainTips;
  }

  async fresh(): Promise<ChainTips> {
    this.offer(await this.inner.tips());
    return this.known as ChainTips;
  }

  read(method: string, params: unknown): Promise<ReadOutcome> {
    return this.inner.read(method, params);
  }
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stop accepting, let requests in flight finish (at most `graceMs`), then drop what is left. */
function closeServer(server: Server, graceMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

const urlHost = (host: string) => (host.includes(":") ? `[${host}]` : host);

/** Start one Node edge instance. Everything it opened is released by `close()` (also when start fails midway). */
export async function startNodeEdge(opts: NodeEdgeOptions): Promise<NodeEdge> {
  const logger = opts.logger ?? silentLogger;
  const config: EdgeConfig = { ...defaultEdgeConfig, ...opts.config, chainId: opts.chainId };
  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const onRedisError = (err: Error) => logger.warn({ err: err.message }, "Redis connection error");
    const store = await RedisReplicaStore.connect({
      url: opts.redisUrl,
      chainId: opts.chainId,
      prefix: opts.redisPrefix,
      onError: onRedisError,
    });
    cleanups.push(() => store.close());
    const fanout = await RedisEventFanout.connect({ url: opts.redisUrl, chainId: opts.chainId, onError: onRedisError });
    cleanups.push(() => fanout.close());

    const replica = createReplica({ ...defaultReplicaOptions, chainId: toQuantity(opts.chainId) }, { store });
    const reads = createReplicaReads({}, { store });
    const access = new TipsCache(new LocalReplicaAccess({ replica, reads }), opts.tipsTtlMs ?? 1_000);
    const metrics = new EdgeMetricsRegistry();
    const log = (entry: Record<string, unknown>) => logger.info(entry, "rpc");

    const upstream = new HttpUpstream({ url: opts.coreRpcUrl, timeoutMs: opts.upstreamTimeoutMs ?? 10_000 });
    // The fee methods are answered from the replica once the core has told us the chain's fee parameters.
    if (!(await learnFeeParams(reads, upstream))) {
      const feeTimer = setInterval(() => {
        void learnFeeParams(reads, upstream).then((ok) => ok && clearInterval(feeTimer));
      }, 5_000);
      feeTimer.unref();
      cleanups.push(async () => clearInterval(feeTimer));
    }
    const limiter = new TokenBucketLimiter(config.rateLimit);
    const pipeline = createRpcPipeline({
      config,
      replica: access,
      upstream,
      cache: new LruResponseCache(),
      limiter,
      events: fanout,
      metrics,
      log,
    });
    // /ipfs/: verified against CIDs here, fetched from the core's gateway (on its JSON-RPC port).
    const gateway = createEdgeGateway(
      { ...defaultEdgeGatewayOptions, coreUrl: opts.coreRpcUrl },
      { cache: new LruGatewayCache(), limiter, metrics, log: (e) => logger.warn(e, "gateway") },
    );

    const ws = new EdgeWebSocketServer(
      { ...defaultEdgeWsOptions, ...opts.ws, maxPayloadBytes: config.maxBodyBytes },
      { pipeline, clientKey: (req) => req.socket.remoteAddress ?? "unknown", log: (e) => logger.info(e, "ws") },
    );
    // Every instance (this one included) hears every instance's events: tips first, then the notifications, so a
    // client told about block N gets eth_blockNumber >= N from this instance.
    fanout.onMessage((events, tips) => {
      if (tips) access.offer(tips);
      ws.deliver(events);
    });

    // After a commit: the new tips and the bundle's events, in one message.
    const publish = async (events: SubscriptionEvent[]) => {
      const tips = await access.fresh();
      await fanout.publishMany(events, tips);
    };

    let puller: ReplicaPuller | undefined;
    let lastCatchUp: { coreSeq: number; lastSeq: number } | undefined;
    let pulling: Promise<void> | undefined;
    const catchUp = async () => {
      if (!puller) throw new Error("no core admin URL: catch-up is off");
      const res = await puller.catchUp();
      lastCatchUp = res;
      if (res.applied > 0) logger.info(res, "Replica caught up from the core");
      return res;
    };
    /** Run the puller in the background; one run at a time, failures logged. */
    const pullSoon = () => {
      if (!puller || pulling) return;
      pulling = catchUp()
        .then(() => undefined)
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, "Replica catch-up failed"))
        .finally(() => {
          pulling = undefined;
        });
    };
    if (opts.coreAdminUrl) {
      puller = new ReplicaPuller({ replica, store, coreUrl: opts.coreAdminUrl, key: opts.replicationKey, publish });
      const timer = setInterval(pullSoon, opts.pullIntervalMs ?? 2_000);
      timer.unref();
      cleanups.push(async () => {
        clearInterval(timer);
        await pulling;
      });
      pullSoon();
    }

    if (opts.coreGrpcAddr) {
      const follower = new GrpcReplicationFollower(
        { ...defaultGrpcReplicationOptions, address: opts.coreGrpcAddr, key: opts.replicationKey },
        { replica, store, publish, logger },
      );
      follower.start();
      cleanups.push(() => follower.close());
    }

    const app = createEdgeApp({
      config,
      pipeline,
      readBody: (c: Context, limit: number) => {
        const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
        return incoming ? readIncomingBounded(incoming, limit) : readBodyBounded(c.req.raw, limit);
      },
      clientKey: (c: Context) =>
        (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? "unknown",
      ingest: (req: Request) =>
        handleIngest(req, {
          replica,
          store,
          key: opts.replicationKey,
          publish,
          onGap: (missing) => {
            logger.info({ missing }, "Replication gap: pulling from the core");
            pullSoon();
          },
          onError: (err) => logger.error({ err: String(err) }, "Ingest failed"),
        }),
      replicationHead: () => handleReplicaHead(replica),
      replicationKey: opts.replicationKey,
      gateway,
      health: async () => {
        try {
          const tips = await access.fresh();
          return { ok: true, head: tips.head, finalized: tips.finalized, seq: tips.seq, ws: ws.stats() };
        } catch (err) {
          return { ok: false, error: `redis: ${(err as Error).message}` };
        }
      },
      log,
    });

    // JSON-RPC POSTs skip Hono: the same answer (answerJsonRpc, corsHeaders), written straight to node:http. Building
    // Fetch-API Request and Response objects for each call was most of what a cached read cost here. Everything else
    // (GETs, OPTIONS, ingest, health, WebSocket upgrades) goes through the app.
    const honoListener = getRequestListener(app.fetch, { hostname: opts.listen.host });
    const answerPost = async (req: IncomingMessage, res: ServerResponse) => {
      const cors = corsHeaders(config.corsOrigins, req.headers.origin);
      try {
        const text = await readIncomingBounded(req, config.maxBodyBytes);
        const a = await answerJsonRpc({ config, pipeline, log }, text, req.socket.remoteAddress ?? "unknown");
        res.writeHead(a.status, { ...a.headers, ...cors }).end(a.body ?? undefined);
      } catch (err) {
        logger.warn({ err: String(err) }, "edge app error");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json", ...cors });
        res.end(INTERNAL_ERROR_BODY());
      }
    };
    const server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method === "POST" && path === "/" && req.headers.upgrade === undefined) void answerPost(req, res);
      else void honoListener(req, res);
    });
    ws.attach(server);
    const addr = await listen(server, opts.listen.host, opts.listen.port);
    cleanups.push(() => closeServer(server));
    // Runs before the HTTP server's close: sockets get a 1001 close frame rather than a reset.
    cleanups.push(() => ws.close());
    const base = `${urlHost(opts.listen.host)}:${addr.port}`;

    let metricsUrl: string | undefined;
    if (opts.metricsListen) {
      const metricsServer = createServer((req, res) => {
        if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
          res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
          return;
        }
        void replicaLag(access, lastCatchUp)
          .then((lag) => {
            if (lag) metrics.setReplicaLag(lag.seconds, lag.blocks);
          })
          .catch(() => undefined)
          .then(() => {
            const wsStats = ws.stats();
            const extra = [
              "# HELP rustchain_edge_ws_connections Open WebSocket connections.",
              "# TYPE rustchain_edge_ws_connections gauge",
              `rustchain_edge_ws_connections ${wsStats.connections}`,
              "# HELP rustchain_edge_ws_subscriptions Active eth_subscribe subscriptions.",
              "# TYPE rustchain_edge_ws_subscriptions gauge",
              `rustchain_edge_ws_subscriptions ${wsStats.subscriptions}`,
              "",
            ].join("\n");
            res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.prometheus() + extra);
          });
      });
      const m = await listen(metricsServer, opts.metricsListen.host, opts.metricsListen.port);
      cleanups.push(() => closeServer(metricsServer));
      metricsUrl = `http://${urlHost(opts.metricsListen.host)}:${m.port}/metrics`;
    }

    const edge: NodeEdge = {
      url: `http://${base}`,
      wsUrl: `ws://${base}`,
      metricsUrl,
      instanceId: fanout.origin,
      catchUp: puller ? catchUp : undefined,
      wsStats: () => ws.stats(),
      close: closeAll,
    };
    return edge;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Replica lag: seconds since the head block's timestamp, and how many bundles the core has that the replica has not
 * applied (from the last catch-up; 0 when unknown).
 */
async function replicaLag(
  access: ReplicaAccess,
  lastCatchUp: { coreSeq: number; lastSeq: number } | undefined,
): Promise<{ seconds: number; blocks: number } | undefined> {
  const head = await access.read("eth_getBlockByNumber", ["latest", false]);
  if (head.kind !== "result" || !head.result || typeof head.result !== "object") return undefined;
  const ts = Number((head.result as { timestamp?: string }).timestamp);
  if (!Number.isFinite(ts)) return undefined;
  const tips = await access.tips();
  const behind = lastCatchUp ? Math.max(0, lastCatchUp.coreSeq - Math.max(tips.seq, lastCatchUp.lastSeq)) : 0;
  return { seconds: Math.max(0, Date.now() / 1000 - ts), blocks: behind };
}

/**
 * The request body straight from node:http, bounded like readBodyBounded: undefined once it passes `limit` (the rest is
 * drained unread so the 413 still reaches the client). Skips building a Fetch-API Request and stream per call, the
 * largest cost of the Node host's hot path.
 */
function readIncomingBounded(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers["content-length"] ?? 0);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = declared > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit * 4) req.destroy(); // a client that keeps sending long past the limit gets no answer
      if (over || size > limit) {
        over = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks, size).toString("utf8")));
    req.on("close", () => resolve(undefined)); // destroyed before the end: nothing to answer with
    req.on("error", reject);
  });
}
