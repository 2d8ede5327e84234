// JSON-RPC over HTTP and WebSocket on one port. Parsing is bounded (body size, batch length, WebSocket frame size);
// every failure is a JSON-RPC error object, and nothing a caller sends can throw out of the server.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  bytesToHex,
  encodeBlock,
  type FilterRequest,
  formatHeader,
  publicRpcMethods,
  RpcCode,
  type RpcMethodName,
  rpcErrors,
  rpcMethods,
  toRpcError,
} from "@rustchain/shared";
import {
  errorReply,
  handleJsonRpc,
  type JsonRpcServer,
  type RpcAnswer,
  type RpcCall,
  type RpcReply,
  toJson,
} from "@rustchain/shared/rpc/envelope";
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
      /** Other GET/HEAD routes on this port (the trustless gateway, content/gateway.ts); true = answered. */
      routes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
    },
  ) {
    this.jsonRpc.maxBodyBytes = opts.maxBodyBytes;
    this.jsonRpc.maxBatch = opts.maxBatch;
    // Without --rpc-debug the debug namespace is not there at all, as in geth without it.
    this.jsonRpc.methods = modules.api.debugEnabled ? rpcMethods : publicRpcMethods;
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
    if ((req.method === "GET" || req.method === "HEAD") && (await this.modules.routes?.(req, res))) return;
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
      const reply = errorReply(405, rpcErrors.onlyPost().toJSON());
      this.sendText(res, reply.status, reply.body as string);
      return;
    }
    const body = await this.readBody(req);
    if (body === undefined) {
      if (res.destroyed) return;
      const reply = errorReply(413, rpcErrors.bodyTooLarge(this.opts.maxBodyBytes).toJSON());
      this.sendText(res, reply.status, reply.body as string);
      return;
    }
    const reply = await this.handleText(body, {});
    if (reply.body === undefined) res.writeHead(reply.status, { "content-length": 0 }).end();
    else this.sendText(res, reply.status, reply.body);
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
    this.sendText(res, status, toJson(payload));
  }

  private sendText(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  }

  /** Parse and dispatch one HTTP body or WebSocket message (the shared envelope, shared/src/rpc/envelope.ts). */
  handleText(text: string, ctx: RpcContext): Promise<RpcReply> {
    return handleJsonRpc(this.jsonRpc, text, ctx);
  }

  /** This node's side of the shared envelope: the handler table, the batch path and metrics. */
  private readonly jsonRpc: JsonRpcServer<RpcContext> = {
    maxBodyBytes: 0,
    maxBatch: 0,
    methods: publicRpcMethods,
    dispatch: async ({ method, params }, ctx) => {
      const handler = this.modules.api.handlers[method as RpcMethodName] as (p: unknown, c: RpcContext) => unknown;
      return { result: await handler(params, ctx) };
    },
    dispatchBatch: (calls) =>
      calls.every((c) => c.method === "eth_sendRawTransaction") ? this.sendRawBatch(calls) : undefined,
    observe: ({ method: name }, answer, ms, _ctx, thrown) => {
      const method = Object.hasOwn(rpcMethods, name) ? name : "unknown";
      const metrics = this.modules.metrics;
      if ("error" in answer) {
        if (answer.error.code === RpcCode.INTERNAL_ERROR)
          this.modules.logger.error({ err: thrown, method }, "RPC handler failed");
        metrics?.rpcErrorsTotal.inc({ method, code: String(answer.error.code) });
      }
      metrics?.rpcSeconds.observe({ method }, ms / 1000);
    },
  };

  /**
   * A batch made only of eth_sendRawTransaction calls (how wallets' relayers and load generators submit): the same
   * parameter rules and errors as one call each, but one sender-recovery call for the whole batch, so ingestion costs
   * per batch, not per transaction.
   */
  private async sendRawBatch(calls: RpcCall[]): Promise<RpcAnswer[]> {
    const results = await this.modules.api.sendRawTransactions(calls.map((c) => c.params[0] as Uint8Array));
    return results.map((r) => {
      if (r instanceof Uint8Array) return { result: bytesToHex(r) };
      const error = toRpcError(r).toJSON();
      if (error.code === RpcCode.INTERNAL_ERROR)
        this.modules.logger.error({ err: r, method: "eth_sendRawTransaction" }, "RPC handler failed");
      return { error };
    });
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
          throw rpcErrors.tooManySubscriptions(this.opts.maxSubscriptionsPerConnection);
        const sid = `0x${randomBytes(16).toString("hex")}`;
        subs.set(sid, { kind, filter });
        return sid;
      },
      unsubscribe: (sid) => subs.delete(sid),
    };
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
      void this.handleText(text, ctx).then((reply) => {
        if (reply.body !== undefined) this.wsSendText(ws, reply.body);
      });
    });
    ws.on("close", () => {
      clearInterval(ping);
      this.sockets.delete(ws);
    });
    ws.on("error", () => ws.terminate());
  }

  private wsSend(ws: WebSocket, payload: unknown): void {
    this.wsSendText(ws, toJson(payload));
  }

  private wsSendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A client that does not read its notifications is cut off rather than buffered without bound.
    if (ws.bufferedAmount > this.opts.maxWsBufferedBytes) {
      ws.close(1008, "client too slow");
      return;
    }
    ws.send(text);
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
