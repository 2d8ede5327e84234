// The edge's one Hono app, the same on Cloudflare Workers and on Node: JSON-RPC over POST / (the pipeline), the
// WebSocket upgrade (handed to the host), health, the replication endpoints (handed to the host's ingest) and the
// trustless gateway (GET|HEAD /ipfs/<cid>, edge/src/gateway/). CORS on
// every answer per the config; errors never leak details. The app never touches `c.executionCtx` (absent on Node).
import {
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  verifyReplicationRequest,
} from "@rustchain/shared/replication";
import { errorReply } from "@rustchain/shared/rpc/envelope";
import { type RpcError, rpcErrors } from "@rustchain/shared/rpcErrors";
import { type Context, Hono } from "hono";
import type { EdgeGateway } from "../gateway/gateway.ts";
import type { RpcPipeline } from "../rpc/pipeline.ts";
import { readBodyBounded } from "../util/body.ts";
import type { EdgeConfig } from "./contract.ts";

export interface EdgeAppDeps {
  config: EdgeConfig;
  pipeline: RpcPipeline;
  /** The client's IP: the rate-limit key. */
  clientKey(c: Context): string;
  /** POST /replication/ingest. */
  ingest(req: Request): Promise<Response>;
  /** GET /replication/head, for operators: only with a request signed by `replicationKey` (404 without a key). */
  replicationHead(): Promise<Response>;
  /** The replication key: authenticates GET /replication/head like the core's pull endpoints (HMAC of path+query). */
  replicationKey?: Uint8Array;
  /** GET / (and GET /ws) with `Upgrade: websocket`. */
  websocket?(c: Context): Response | Promise<Response>;
  /** GET|HEAD /ipfs/<cid>: the trustless gateway (404 without one). */
  gateway?: EdgeGateway;
  /** GET /health (503 when !ok). */
  health(): Promise<{ ok: boolean; [k: string]: unknown }>;
  log?: (entry: Record<string, unknown>) => void;
  /**
   * Read the JSON-RPC body, bounded like readBodyBounded (undefined: over `limit`). Hosts with a cheaper path to the
   * raw bytes than the Fetch-API stream use it (Node reads the IncomingMessage directly); default readBodyBounded.
   */
  readBody?(c: Context, limit: number): Promise<string | undefined>;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** A whole answer refusing the request with one of the shared JSON-RPC errors (the core's envelope). */
const rpcError = (status: number, error: RpcError, headers: Record<string, string> = {}): Response =>
  new Response(errorReply(status, error.toJSON()).body, { status, headers: { ...JSON_HEADERS, ...headers } });

const json = (status: number, value: unknown): Response =>
  new Response(JSON.stringify(value), { status, headers: JSON_HEADERS });

export { readBodyBounded };

/** The CORS headers of an answer to a request from `origin` (the middleware's, and a host fast path's). */
export function corsHeaders(origins: string[], origin: string | undefined): Record<string, string> {
  if (origins.includes("*")) return { "access-control-allow-origin": "*" };
  if (origin && origins.includes(origin)) return { "access-control-allow-origin": origin, vary: "Origin" };
  return { vary: "Origin" };
}

/** An answer to POST / before CORS: the Hono route and a host's fast path (edge/src/node/server.ts) both send it. */
export interface JsonRpcAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * POST /: the JSON-RPC body (undefined when it passed `maxBodyBytes`) through the pipeline. One place for the 413 and
 * the answer's headers, whichever way the host reached the body.
 */
export async function answerJsonRpc(
  deps: Pick<EdgeAppDeps, "config" | "pipeline" | "log">,
  text: string | undefined,
  clientKey: string,
): Promise<JsonRpcAnswer> {
  const { config, pipeline } = deps;
  if (text === undefined) {
    deps.log?.({ msg: "rpc", transport: "http", status: 413, clientKey });
    return {
      status: 413,
      headers: JSON_HEADERS,
      body: errorReply(413, rpcErrors.bodyTooLarge(config.maxBodyBytes).toJSON()).body as string,
    };
  }
  const reply = await pipeline.handle(text, { clientKey, transport: "http" });
  if (reply.body === undefined) return { status: reply.status, headers: { ...reply.headers }, body: null };
  return { status: reply.status, headers: { ...JSON_HEADERS, ...reply.headers }, body: reply.body };
}

/** The answer to a request that failed inside the edge: details go to the log only. */
export const INTERNAL_ERROR_BODY = (): string => errorReply(500, rpcErrors.internal().toJSON()).body as string;

export function createEdgeApp(deps: EdgeAppDeps): Hono {
  const { config } = deps;
  const app = new Hono();

  // CORS on every answer, and the preflight for any path.
  app.use("*", async (c, next) => {
    const cors = corsHeaders(config.corsOrigins, c.req.header("origin"));
    if (c.req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          "access-control-allow-methods": "POST, GET, HEAD, OPTIONS",
          "access-control-allow-headers": c.req.header("access-control-request-headers") ?? "content-type",
          "access-control-max-age": "86400",
        },
      });
    }
    await next();
    // A WebSocket upgrade answer (101) keeps its own headers.
    if (c.res.status === 101) return;
    try {
      // In place: copying the response (new Response(c.res.body, c.res)) turned every answer into a stream, which the
      // Node adapter then pumps chunk by chunk; that copy was most of the Node edge's time per cached read.
      for (const [k, v] of Object.entries(cors)) c.res.headers.set(k, v);
    } catch {
      // Immutable headers (a response passed through from fetch): copy it after all.
      const res = new Response(c.res.body, c.res);
      for (const [k, v] of Object.entries(cors)) res.headers.set(k, v);
      c.res = res;
    }
  });

  const upgrade = (c: Context): Response | Promise<Response> | undefined => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return undefined;
    if (!deps.websocket) return json(426, { error: "websockets are not served here" });
    return deps.websocket(c);
  };

  app.post("/", async (c) => {
    // Lenient like the core: any content type is read as JSON-RPC.
    const text = deps.readBody
      ? await deps.readBody(c, config.maxBodyBytes)
      : await readBodyBounded(c.req.raw, config.maxBodyBytes, { drainUpTo: 4 * config.maxBodyBytes });
    const a = await answerJsonRpc(deps, text, deps.clientKey(c));
    return new Response(a.body, { status: a.status, headers: a.headers });
  });

  app.get("/", (c) => {
    const ws = upgrade(c);
    if (ws) return ws;
    return rpcError(405, rpcErrors.onlyPost(), { allow: "POST, OPTIONS" });
  });

  app.get("/ws", (c) => {
    const ws = upgrade(c);
    if (ws) return ws;
    return json(426, { error: "expected a WebSocket upgrade" });
  });

  app.get("/health", async () => {
    try {
      const h = await deps.health();
      return json(h.ok ? 200 : 503, h);
    } catch {
      return json(503, { ok: false });
    }
  });

  // Hono answers HEAD with the GET route (body dropped); the gateway reads the method itself.
  app.get("/ipfs/*", (c) =>
    deps.gateway ? deps.gateway.handle(c.req.raw, deps.clientKey(c)) : json(404, { error: "not found" }),
  );

  app.post("/replication/ingest", (c) => deps.ingest(c.req.raw));
  app.get("/replication/head", async (c) => {
    if (!deps.replicationKey) return json(404, { error: "not found" });
    const url = new URL(c.req.url);
    const verdict = await verifyReplicationRequest(
      deps.replicationKey,
      c.req.header(REPLICATION_TIMESTAMP_HEADER),
      c.req.header(REPLICATION_SIGNATURE_HEADER),
      `${url.pathname}${url.search}`,
      Date.now(),
    );
    if (verdict !== "ok") return json(401, { error: "INGEST_UNAUTHORIZED", reason: verdict });
    return deps.replicationHead();
  });

  app.all("/", () => rpcError(405, rpcErrors.onlyPost(), { allow: "POST, OPTIONS" }));
  app.notFound(() => json(404, { error: "not found" }));
  app.onError((err, c) => {
    deps.log?.({ msg: "edge app error", path: c.req.path, error: err instanceof Error ? err.name : "unknown" });
    return rpcError(500, rpcErrors.internal());
  });
  return app;
}
