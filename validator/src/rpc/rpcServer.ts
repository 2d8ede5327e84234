// JSON-RPC over HTTP and WebSocket on one port. Parsing is bounded (body size, batch length, WebSocket frame size);
// every failure is a JSON-RPC error object, and nothing a caller sends can throw out of the server.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  bytesToHex,
  encodeBlock,
  type FilterRequest,
  formatHeader,
  isRpcMethod,
  parseParams,
  RpcCode,
  RpcError,
  toRpcError,
} from "@rustchain/shared";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import type { Chain, ImportedBlock } from "../chain/chain.ts";
import type { Mempool } from "../mempool/mempool.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { EthApi, RpcContext } from "./ethApi.ts";
import type { FilterManager } from "./filters.ts";

export interface RpcServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxBatch: number;
  /** A WebSocket client further behind than this many bytes is disconnected. */
  maxWsBufferedBytes: number;
  maxSubscriptionsPerConnection: number;
  wsPingMs: number;
}

export const defaultRpcServerOptions: RpcServerOptions = {
  host: "127.0.0.1",
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  // geth's default batch limit: relayers and load generators submit transactions a thousand at a time.
  maxBatch: 1000,
  maxWsBufferedBytes: 16 * 1024 * 1024,
  maxSubscriptionsPerConnection: 100,
  wsPingMs: 30_000,
};

type Id = string | number | null;
interface Response {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

const errorResponse = (id: Id, err: RpcError): Response => ({ jsonrpc: "2.0", id, error: err.toJSON() });

const jsonReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v);

interface SendRawRequest {
  jsonrpc: "2.0";
  method: "eth_sendRawTransaction";
  id?: Id;
  params: unknown;
}

/** A well-formed eth_sendRawTransaction request (its parameters are still to be checked). */
function isSendRawTransaction(req: unknown): req is SendRawRequest {
  if (!req || typeof req !== "object" || Array.isArray(req)) return false;
  const r = req as Record<string, unknown>;
  if (r.jsonrpc !== "2.0" || r.method !== "eth_sendRawTransaction") return false;
  return !("id" in r) || r.id === null || typeof r.id === "string" || typeof r.id === "number";
}

interface Subscription {
  kind: "newHeads" | "logs" | "newPendingTransactions";
  filter?: FilterRequest;
}

export class RpcServer {
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Map<WebSocket, Map<string, Subscription>>();

  constructor(
    private readonly opts: RpcServerOptions,
    private readonly modules: {
      api: EthApi;
      chain: Chain;
      mempool: Mempool;
      filters: FilterManager;
      logger: Logger;
      metrics?: Metrics;
      /** GET /health (ready) and /live: the node's answer, status and body; without it /health is always 200. */
      health?: (path: string) => { status: number; body: unknown } | undefined;
    },
  ) {
    modules.chain.on("block", (b) => this.onBlock(b));
    modules.mempool.on("added", (stx) => {
      // Per transaction at 10,000 tx/s: nothing to do (not even the hex) unless someone listens.
      if (this.sockets.size === 0 && !modules.filters.has("pending")) return;
      const hash = bytesToHex(stx.hash);
      modules.filters.push("pending", hash);
      this.notifyAll("newPendingTransactions", () => hash);
    });
  }

  get url(): string {
    const addr = this.server?.address();
    if (!addr || typeof addr === "string") return "";
    return `http://${addr.address}:${addr.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.onHttp(req, res));
    server.keepAliveTimeout = 65_000;
    this.wss = new WebSocketServer({ server, maxPayload: this.opts.maxBodyBytes });
    this.wss.on("connection", (ws) => this.onConnection(ws));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets.keys()) ws.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  // ---- HTTP ----

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("access-control-allow-origin", "*");
    if (req.method === "OPTIONS") {
      res
        .writeHead(204, {
          "access-control-allow-methods": "POST, GET, OPTIONS",
          "access-control-allow-headers": "content-type",
        })
        .end();
      return;
    }
    if (req.method === "GET") {
      const path = req.url === "/" ? "/health" : (req.url ?? "");
      const answer =
        this.modules.health?.(path) ?? (path === "/health" ? { status: 200, body: { status: "ok" } } : undefined);
      if (answer) {
        this.send(res, answer.status, answer.body);
        return;
      }
    }
    if (req.method !== "POST") {
      this.send(res, 405, errorResponse(null, new RpcError(RpcCode.INVALID_REQUEST, "only POST is supported")));
      return;
    }
    const body = await this.readBody(req);
    if (body === undefined) {
      if (res.destroyed) return;
      const err = new RpcError(RpcCode.LIMIT_EXCEEDED, `request body exceeds ${this.opts.maxBodyBytes} bytes`);
      this.send(res, 413, errorResponse(null, err));
      return;
    }
    const out = await this.handleText(body, {});
    if (out === undefined) res.writeHead(200, { "content-length": 0 }).end();
    else this.send(res, 200, out);
  }

  /**
   * Read the body up to maxBodyBytes. An oversized body is drained and discarded (so the client gets its 413 rather
   * than a reset) up to a hard cap, past which the connection is dropped.
   */
  private readBody(req: IncomingMessage): Promise<string | undefined> {
    const hardCap = this.opts.maxBodyBytes * 4;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = Number(req.headers["content-length"] ?? 0) > this.opts.maxBodyBytes;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > hardCap) {
          req.destroy();
          return;
        }
        if (size > this.opts.maxBodyBytes) over = true;
        if (!over) chunks.push(c);
      });
      req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks).toString("utf8")));
      req.on("error", () => resolve(undefined));
      req.on("close", () => resolve(undefined));
    });
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    const body = JSON.stringify(payload, jsonReplacer);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  }

  /** Parse and dispatch one HTTP body or WebSocket message; undefined means no response (notifications only). */
  async handleText(text: string, ctx: RpcContext): Promise<Response | Response[] | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return errorResponse(null, new RpcError(RpcCode.PARSE_ERROR, "parse error"));
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return errorResponse(null, new RpcError(RpcCode.INVALID_REQUEST, "empty batch"));
      if (parsed.length > this.opts.maxBatch) {
        return errorResponse(
          null,
          new RpcError(RpcCode.LIMIT_EXCEEDED, `batch of ${parsed.length} exceeds limit ${this.opts.maxBatch}`),
        );
      }
      if (parsed.every(isSendRawTransaction)) return this.handleSendRawBatch(parsed);
      const results = await Promise.all(parsed.map((r) => this.handleOne(r, ctx)));
      const out = results.filter((r): r is Response => r !== undefined);
      return out.length ? out : undefined;
    }
    return this.handleOne(parsed, ctx);
  }

  /**
   * A batch made only of eth_sendRawTransaction calls (how wallets' relayers and load generators submit): the same
   * parameter rules and errors as one call each, but one sender-recovery call for the whole batch, so ingestion costs
   * per batch, not per transaction.
   */
  private async handleSendRawBatch(reqs: SendRawRequest[]): Promise<Response[] | undefined> {
    const started = performance.now();
    const method = "eth_sendRawTransaction";
    const answers: (Uint8Array | unknown)[] = new Array(reqs.length);
    const raws: Uint8Array[] = [];
    const at: number[] = [];
    reqs.forEach((r, i) => {
      try {
        raws.push(parseParams(method, r.params)[0]);
        at.push(i);
      } catch (e) {
        answers[i] = e;
      }
    });
    const results = await this.modules.api.sendRawTransactions(raws);
    results.forEach((res, k) => {
      answers[at[k] as number] = res;
    });
    const metrics = this.modules.metrics;
    const seconds = (performance.now() - started) / 1000;
    const out: Response[] = [];
    reqs.forEach((r, i) => {
      const a = answers[i];
      const id = (r.id ?? null) as Id;
      if (a instanceof Uint8Array) {
        if ("id" in r) out.push({ jsonrpc: "2.0", id, result: bytesToHex(a) });
      } else {
        const err = toRpcError(a);
        if (err.rpcCode === RpcCode.INTERNAL_ERROR) this.modules.logger.error({ err: a, method }, "RPC handler failed");
        metrics?.rpcErrorsTotal.inc({ method, code: String(err.rpcCode) });
        if ("id" in r) out.push(errorResponse(id, err));
      }
      metrics?.rpcSeconds.observe({ method }, seconds);
    });
    return out.length ? out : undefined;
  }

  private async handleOne(req: unknown, ctx: RpcContext): Promise<Response | undefined> {
    if (!req || typeof req !== "object" || Array.isArray(req)) {
      return errorResponse(null, new RpcError(RpcCode.INVALID_REQUEST, "invalid request"));
    }
    const r = req as Record<string, unknown>;
    const hasId = "id" in r;
    const id = r.id;
    const validId = id === null || typeof id === "string" || typeof id === "number";
    if (r.jsonrpc !== "2.0" || typeof r.method !== "string" || (hasId && !validId)) {
      return errorResponse(validId ? (id as Id) : null, new RpcError(RpcCode.INVALID_REQUEST, "invalid request"));
    }
    const method = r.method;
    const started = performance.now();
    let response: Response;
    const label = isRpcMethod(method) ? method : "unknown";
    try {
      if (!isRpcMethod(method)) {
        throw new RpcError(
          RpcCode.METHOD_NOT_FOUND,
          `the method ${method.slice(0, 64)} does not exist/is not available`,
        );
      }
      const params = parseParams(method, r.params);
      const handler = this.modules.api.handlers[method] as (p: unknown, c: RpcContext) => unknown;
      const result = await handler(params, ctx);
      response = { jsonrpc: "2.0", id: (id ?? null) as Id, result: result === undefined ? null : result };
    } catch (e) {
      const err = toRpcError(e);
      if (err.rpcCode === RpcCode.INTERNAL_ERROR)
        this.modules.logger.error({ err: e, method: label }, "RPC handler failed");
      this.modules.metrics?.rpcErrorsTotal.inc({ method: label, code: String(err.rpcCode) });
      response = errorResponse((id ?? null) as Id, err);
    }
    this.modules.metrics?.rpcSeconds.observe({ method: label }, (performance.now() - started) / 1000);
    return hasId ? response : undefined;
  }

  // ---- WebSocket ----

  private onConnection(ws: WebSocket): void {
    const subs = new Map<string, Subscription>();
    this.sockets.set(ws, subs);
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, this.opts.wsPingMs);
    ping.unref();
    ws.on("pong", () => {
      alive = true;
    });
    const ctx: RpcContext = {
      subscribe: (kind, filter) => {
        if (subs.size >= this.opts.maxSubscriptionsPerConnection)
          throw new RpcError(RpcCode.LIMIT_EXCEEDED, "too many subscriptions");
        const sid = `0x${randomBytes(16).toString("hex")}`;
        subs.set(sid, { kind, filter });
        return sid;
      },
      unsubscribe: (sid) => subs.delete(sid),
    };
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
      void this.handleText(text, ctx).then((out) => {
        if (out !== undefined) this.wsSend(ws, out);
      });
    });
    ws.on("close", () => {
      clearInterval(ping);
      this.sockets.delete(ws);
    });
    ws.on("error", () => ws.terminate());
  }

  private wsSend(ws: WebSocket, payload: unknown): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A client that does not read its notifications is cut off rather than buffered without bound.
    if (ws.bufferedAmount > this.opts.maxWsBufferedBytes) {
      ws.close(1008, "client too slow");
      return;
    }
    ws.send(JSON.stringify(payload, jsonReplacer));
  }

  private notifyAll(kind: Subscription["kind"], make: (s: Subscription) => unknown): void {
    for (const [ws, subs] of this.sockets) {
      for (const [sid, s] of subs) {
        if (s.kind !== kind) continue;
        const result = make(s);
        if (result === undefined) continue;
        if (Array.isArray(result)) {
          for (const item of result)
            this.wsSend(ws, {
              jsonrpc: "2.0",
              method: "eth_subscription",
              params: { subscription: sid, result: item },
            });
        } else {
          this.wsSend(ws, { jsonrpc: "2.0", method: "eth_subscription", params: { subscription: sid, result } });
        }
      }
    }
  }

  /** Called after the block is committed, so anything notified is already readable over RPC. */
  private onBlock(b: ImportedBlock): void {
    const { api, filters } = this.modules;
    const hash = bytesToHex(b.hash);
    filters.push("blocks", hash);
    const loaded = { block: b.block, hash: b.hash, receipts: b.receipts, txs: b.txs };
    for (const f of filters.logFilters()) {
      if (f.kind === "logs") filters.append(f, api.blockLogs(loaded, f.request));
    }
    const header = formatHeader(b.block.header, b.hash, encodeBlock(b.block).length);
    this.notifyAll("newHeads", () => header);
    this.notifyAll("logs", (s) => {
      const logs = api.blockLogs(loaded, s.filter as FilterRequest);
      return logs.length ? logs : undefined;
    });
  }
}
