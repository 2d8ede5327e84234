// The Node edge's WebSocket endpoint: a `ws` server on the HTTP server's `upgrade` event (paths `/` and `/ws`). Every
// message goes through the same RpcPipeline as HTTP bodies (transport "ws"); each connection is an RpcSession holding
// its subscriptions. Events (from the Redis fan-out) become eth_subscription notifications, in event order.
//
// Bounds, as the core's own WebSocket server (validator/src/rpc/rpcServer.ts): a message at most maxBodyBytes (larger:
// closed with 1009 by `ws`), at most 100 subscriptions per socket (-32005 "too many subscriptions (limit 100)"), a ping every 30 s
// and the socket terminated when the previous ping got no pong, a client more than maxBufferedBytes behind closed with
// 1008, and at most maxInFlight messages of one socket being answered at once (more: closed with 1008).
//
// A subscription is announced (its id answered) before any of its notifications: notifications for a subscription
// whose eth_subscribe answer has not been sent yet wait in a small queue and follow right after the answer.

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { responseText } from "@rustchain/shared/rpc/envelope";
import { rpcErrors } from "@rustchain/shared/rpcErrors";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { SubscriptionEvent } from "../app/contract.ts";
import type { RpcReply, RpcRequestContext, RpcSession } from "../rpc/pipeline.ts";
import {
  MAX_SUBSCRIPTIONS_PER_SOCKET,
  newSubscriptionId,
  notificationsFor,
  parseSubscribeParams,
  type SubscriptionSpec,
  subscriptionNotification,
} from "../rpc/subscriptions.ts";

export interface EdgeWsOptions {
  /** Largest message, bytes (config.maxBodyBytes). */
  maxPayloadBytes: number;
  maxSubscriptionsPerConnection: number;
  pingIntervalMs: number;
  /** A client further behind than this many bytes is closed with 1008. */
  maxBufferedBytes: number;
  /** Messages of one socket answered concurrently; one more closes the socket with 1008. */
  maxInFlight: number;
  /** Notifications held for a subscription whose id is not answered yet; more closes the socket with 1008. */
  maxQueuedNotifications: number;
}

export const defaultEdgeWsOptions: Omit<EdgeWsOptions, "maxPayloadBytes"> = {
  maxSubscriptionsPerConnection: MAX_SUBSCRIPTIONS_PER_SOCKET,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxInFlight: 256,
  maxQueuedNotifications: 10_000,
};

export interface EdgeWsDeps {
  pipeline: { handle(text: string, ctx: RpcRequestContext): Promise<RpcReply> };
  /** The client's key for rate limits (its IP). */
  clientKey(req: IncomingMessage): string;
  log?: (entry: Record<string, unknown>) => void;
}

const WS_PATHS = new Set(["/", "/ws"]);

interface Subscription {
  spec: SubscriptionSpec;
  /** Undefined once the eth_subscribe answer is sent; until then, the notifications waiting for it. */
  waiting: string[] | undefined;
}

class Connection {
  readonly subs = new Map<string, Subscription>();
  private inFlight = 0;
  private alive = true;
  private readonly ping: ReturnType<typeof setInterval>;

  constructor(
    readonly ws: WebSocket,
    readonly clientKey: string,
    private readonly opts: EdgeWsOptions,
    private readonly deps: EdgeWsDeps,
  ) {
    this.ping = setInterval(() => {
      if (!this.alive) {
        this.deps.log?.({ msg: "WebSocket closed: no pong", clientKey });
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, opts.pingIntervalMs);
    this.ping.unref();
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("error", () => ws.terminate());
  }

  stop(): void {
    clearInterval(this.ping);
    this.subs.clear();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.inFlight >= this.opts.maxInFlight) {
      this.ws.close(1008, "too many requests in flight");
      return;
    }
    const text = isBinary || typeof data !== "string" ? rawToString(data) : data;
    this.inFlight++;
    // Subscriptions created by this message: announced with its answer, their notifications released after it.
    const created: string[] = [];
    const session: RpcSession = {
      subscribe: async (params) => {
        const spec = parseSubscribeParams(params);
        if (this.subs.size >= this.opts.maxSubscriptionsPerConnection) {
          throw rpcErrors.tooManySubscriptions(this.opts.maxSubscriptionsPerConnection);
        }
        const id = newSubscriptionId();
        this.subs.set(id, { spec, waiting: [] });
        created.push(id);
        return id;
      },
      unsubscribe: async (id) => typeof id === "string" && this.subs.delete(id),
    };
    void this.deps.pipeline
      .handle(text, { clientKey: this.clientKey, transport: "ws", session })
      .then(
        (reply) => {
          if (reply.body !== undefined) this.send(reply.body);
        },
        (err) => {
          // The pipeline answers every failure itself; this is a bug. Answer like the core does for internals.
          this.deps.log?.({ msg: "WebSocket message failed", err: String(err), clientKey: this.clientKey });
          this.send(responseText(null, { error: rpcErrors.internal().toJSON() }));
        },
      )
      .finally(() => {
        this.inFlight--;
        for (const id of created) {
          const sub = this.subs.get(id);
          if (!sub?.waiting) continue;
          const waiting = sub.waiting;
          sub.waiting = undefined;
          for (const n of waiting) this.send(n);
        }
      });
  }

  /** Queue or send the notifications `event` produces for this socket's subscriptions. */
  notify(event: SubscriptionEvent): void {
    for (const [id, sub] of this.subs) {
      const results = notificationsFor(sub.spec, event);
      for (const r of results) {
        const text = subscriptionNotification(id, r);
        if (sub.waiting) {
          if (sub.waiting.length >= this.opts.maxQueuedNotifications) {
            this.ws.close(1008, "client too slow");
            return;
          }
          sub.waiting.push(text);
        } else if (!this.send(text)) return;
      }
    }
  }

  /** Send, unless the socket is closed or too far behind (then closed with 1008). False when nothing more can go. */
  send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.deps.log?.({ msg: "WebSocket closed: client too slow", clientKey: this.clientKey });
      this.ws.close(1008, "client too slow");
      return false;
    }
    this.ws.send(text);
    return true;
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

export class EdgeWebSocketServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly opts: EdgeWsOptions,
    private readonly deps: EdgeWsDeps,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes });
  }

  /** Take over WebSocket upgrades of `server` on `/` and `/ws`; other paths are refused with 404. */
  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (!WS_PATHS.has(path)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    socket.on("error", () => socket.destroy());
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new Connection(ws, this.deps.clientKey(req), this.opts, this.deps);
      this.connections.add(conn);
      ws.on("close", () => {
        conn.stop();
        this.connections.delete(conn);
      });
    });
  }

  /** Deliver events, in order, to every socket's subscriptions. */
  deliver(events: readonly SubscriptionEvent[]): void {
    for (const event of events) for (const conn of this.connections) conn.notify(event);
  }

  /** Open sockets and their subscriptions (metrics, tests). */
  stats(): { connections: number; subscriptions: number } {
    let subscriptions = 0;
    for (const c of this.connections) subscriptions += c.subs.size;
    return { connections: this.connections.size, subscriptions };
  }

  /** Close every socket (1001 going away) and stop accepting. */
  async close(): Promise<void> {
    for (const c of this.connections) {
      c.stop();
      c.ws.close(1001, "server shutting down");
    }
    const deadline = setTimeout(() => {
      for (const c of this.connections) c.ws.terminate();
    }, 1_000);
    deadline.unref();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const c of this.connections) c.ws.terminate();
    clearTimeout(deadline);
    this.connections.clear();
  }
}
