// The ChainReplica Durable Object: the edge's one replica of the chain on Workers (a singleton named "main"). It owns
// the SQLite-backed store, applies the core's bundles (POST /replication/ingest), answers reads over DO RPC
// (`tips()`, `read()`), pulls missing bundles from the core (on a gap, and on an alarm every few seconds when
// CORE_REPLICATION_URL is set), and holds every WebSocket client with the hibernation API.
//
// WebSockets: each socket's attachment holds only its identity (socket id, client IP); its subscriptions are stored in
// the object's storage under `ws:<socket id>` (attachments are limited to 2 KiB, a logs filter alone can exceed that),
// so both survive hibernation. Every message is a JSON-RPC body answered by this object's own RpcPipeline, so clients
// that send all their requests over the socket (viem's webSocket transport) work; eth_subscribe / eth_unsubscribe act on
// the socket. Events are published after the bundle committed, so a block is readable before its newHeads goes out.

import { DurableObject } from "cloudflare:workers";
import { rpcErrors } from "@rustchain/shared/rpcErrors";
import type { ChainTips, ReadOutcome, ReplicaAccess, SubscriptionEvent, Upstream } from "../app/contract.ts";
import { UpstreamUnavailableError } from "../app/contract.ts";
import { handleIngest, handleReplicaHead } from "../ingest/ingest.ts";
import { LocalReplicaAccess } from "../replica/access.ts";
import { ReplicaPuller } from "../replica/puller.ts";
import { createReplicaReads, FEE_METHODS, feeParamsLearner } from "../replica/reads.ts";
import { createReplica, defaultReplicaOptions, type Replica } from "../replica/replica.ts";
import { LruResponseCache } from "../rpc/cache.ts";
import { createRpcPipeline, type RpcPipeline, type RpcSession } from "../rpc/pipeline.ts";
import {
  MAX_SUBSCRIPTIONS_PER_SOCKET,
  newSubscriptionId,
  notificationsFor,
  parseSubscribeParams,
  type SubscriptionSpec,
  subscriptionNotification,
} from "../rpc/subscriptions.ts";
import { HttpUpstream } from "../rpc/upstream.ts";
import { DurableObjectReplicaStore } from "./doStore.ts";
import { chainIdHex, edgeConfigFromEnv, replicationKeyFromEnv, type WorkerEnv } from "./env.ts";
import { DurableObjectRateLimiter } from "./rateLimiter.ts";

/** Unsent bytes a socket may accumulate before it is closed 1008 as a slow consumer. */
export const MAX_SOCKET_BUFFERED_BYTES = 8 * 1024 * 1024;
/** How often the alarm pulls from the core when CORE_REPLICATION_URL is set, unless PULL_INTERVAL_SECONDS says. */
export const DEFAULT_PULL_INTERVAL_MS = 5_000;
/** The singleton's name. */
export const CHAIN_REPLICA_NAME = "main";

/** What a socket's attachment holds (it survives hibernation). */
interface SocketAttachment {
  sid: string;
  clientKey: string;
}

type SubscriptionTable = Record<string, SubscriptionSpec>;

const subsKey = (sid: string) => `ws:${sid}`;

const jsonResponse = (status: number, value: unknown): Response =>
  new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });

/** The core's JSON-RPC, or an upstream that always answers "core unavailable" when CORE_RPC_URL is unset. */
export function coreUpstream(env: WorkerEnv): Upstream {
  if (env.CORE_RPC_URL) return new HttpUpstream({ url: env.CORE_RPC_URL, timeoutMs: 10_000 });
  return {
    call: () => Promise.reject(new UpstreamUnavailableError("CORE_RPC_URL is not set")),
  };
}

export class ChainReplica extends DurableObject<WorkerEnv> {
  private readonly store: DurableObjectReplicaStore;
  private readonly replica: Replica;
  private readonly access: ReplicaAccess;
  private readonly pipeline: RpcPipeline;
  private readonly key: Uint8Array | undefined;
  private readonly puller: ReplicaPuller | undefined;
  private readonly pullIntervalMs: number;
  /** Subscriptions of live sockets, loaded from storage on first use after a wake-up. */
  private readonly subs = new Map<string, SubscriptionTable>();

  constructor(ctx: DurableObjectState, env: WorkerEnv) {
    super(ctx, env);
    const config = edgeConfigFromEnv(env);
    this.store = new DurableObjectReplicaStore(ctx.storage);
    this.replica = createReplica({ ...defaultReplicaOptions, chainId: chainIdHex(config) }, { store: this.store });
    const reads = createReplicaReads({}, { store: this.store });
    const upstream = coreUpstream(env);
    const local = new LocalReplicaAccess({
      replica: this.replica,
      reads,
      onError: (err) => console.error("replica read failed", err),
    });
    // The fee methods are answered from the replica once the core has told this object the chain's fee parameters.
    const ensureFees = feeParamsLearner(reads, upstream);
    this.access = {
      tips: () => local.tips(),
      read: async (method, params) => {
        if (FEE_METHODS.has(method)) await ensureFees();
        return local.read(method, params);
      },
    };
    this.key = replicationKeyFromEnv(env);
    const interval = Number(env.PULL_INTERVAL_SECONDS);
    this.pullIntervalMs = Number.isFinite(interval) && interval > 0 ? interval * 1000 : DEFAULT_PULL_INTERVAL_MS;
    if (env.CORE_REPLICATION_URL && this.key) {
      this.puller = new ReplicaPuller({
        replica: this.replica,
        store: this.store,
        coreUrl: env.CORE_REPLICATION_URL,
        key: this.key,
        publish: (events) => this.fanOut(events),
        onError: (err) => console.error("publishing pulled events failed", err),
      });
    }
    this.pipeline = createRpcPipeline({
      config,
      replica: this.access,
      upstream,
      cache: new LruResponseCache(),
      limiter: new DurableObjectRateLimiter(env.RATE_LIMITER),
      events: { publish: (event) => this.fanOut([event]) },
    });
    // Keepalive without waking the object: a "ping" text frame is answered "pong" by the runtime.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    if (this.puller) ctx.blockConcurrencyWhile(() => this.scheduleAlarm());
  }

  // ---- DO RPC (the Worker's ReplicaAccess and EventPublisher) ----

  async tips(): Promise<ChainTips> {
    return this.access.tips();
  }

  async read(method: string, params: unknown): Promise<ReadOutcome> {
    return this.access.read(method, params);
  }

  /** Events from a Worker isolate (pending transactions it forwarded), sent to the matching sockets. */
  async publish(event: SubscriptionEvent): Promise<void> {
    await this.fanOut([event]);
  }

  // ---- HTTP: ingest, head, WebSocket upgrade ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return this.acceptSocket(request);
    const path = new URL(request.url).pathname;
    if (path === "/replication/head") return handleReplicaHead(this.replica);
    if (path === "/replication/ingest") {
      // Refuse rather than accept unauthenticated bundles when the deployment forgot its key.
      if (!this.key) return jsonResponse(503, { error: "INGEST_NOT_CONFIGURED", reason: "REPLICATION_KEY is not set" });
      return handleIngest(request, {
        replica: this.replica,
        store: this.store,
        key: this.key,
        publish: (events) => this.fanOut(events),
        onGap: () => {
          if (this.puller) this.ctx.waitUntil(this.pull());
        },
        onError: (err) => console.error("ingest failed", err),
      });
    }
    return jsonResponse(404, { error: "not found" });
  }

  override async alarm(): Promise<void> {
    await this.pull();
    await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    if (!this.puller) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.pullIntervalMs);
  }

  /** One catch-up from the core; a failure (core down) is logged and retried on the next alarm or gap. */
  private async pull(): Promise<void> {
    try {
      await this.puller?.catchUp();
    } catch (err) {
      console.warn("replica pull failed", err instanceof Error ? err.message : String(err));
    }
  }

  // ---- WebSockets (hibernation API) ----

  private acceptSocket(request: Request): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const attachment: SocketAttachment = {
      sid: crypto.randomUUID(),
      clientKey: request.headers.get("cf-connecting-ip") ?? "unknown",
    };
    server.serializeAttachment(attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const att = ws.deserializeAttachment() as SocketAttachment | null;
    if (!att) return;
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    const reply = await this.pipeline.handle(text, {
      clientKey: att.clientKey,
      transport: "ws",
      session: this.session(att.sid),
    });
    if (reply.body !== undefined) this.send(ws, att.sid, reply.body);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.forget(ws);
    // Complete the closing handshake (1005/1006 cannot be sent back).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.forget(ws);
  }

  /** eth_subscribe / eth_unsubscribe for one socket. */
  private session(sid: string): RpcSession {
    return {
      subscribe: async (params) => {
        const spec = parseSubscribeParams(params);
        const table = this.subscriptions(sid);
        if (Object.keys(table).length >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
          throw rpcErrors.tooManySubscriptions(MAX_SUBSCRIPTIONS_PER_SOCKET);
        }
        const id = newSubscriptionId();
        this.saveSubscriptions(sid, { ...table, [id]: spec });
        return id;
      },
      unsubscribe: async (id) => {
        const table = this.subscriptions(sid);
        if (typeof id !== "string" || !(id in table)) return false;
        const { [id]: _removed, ...rest } = table;
        this.saveSubscriptions(sid, rest);
        return true;
      },
    };
  }

  private subscriptions(sid: string): SubscriptionTable {
    let table = this.subs.get(sid);
    if (!table) {
      table = (this.ctx.storage.kv.get(subsKey(sid)) as SubscriptionTable | undefined) ?? {};
      this.subs.set(sid, table);
    }
    return table;
  }

  private saveSubscriptions(sid: string, table: SubscriptionTable): void {
    this.subs.set(sid, table);
    if (Object.keys(table).length === 0) this.ctx.storage.kv.delete(subsKey(sid));
    else this.ctx.storage.kv.put(subsKey(sid), table);
  }

  private forget(ws: WebSocket): void {
    const att = ws.deserializeAttachment() as SocketAttachment | null;
    if (!att) return;
    this.subs.delete(att.sid);
    this.ctx.storage.kv.delete(subsKey(att.sid));
  }

  /** Send events, in order, to every socket whose subscriptions match. */
  private async fanOut(events: SubscriptionEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const ws of this.ctx.getWebSockets()) {
      const att = ws.deserializeAttachment() as SocketAttachment | null;
      if (!att) continue;
      const table = this.subscriptions(att.sid);
      const ids = Object.keys(table);
      if (ids.length === 0) continue;
      socket: for (const event of events) {
        for (const id of ids) {
          for (const result of notificationsFor(table[id], event)) {
            if (!this.send(ws, att.sid, subscriptionNotification(id, result))) break socket;
          }
        }
      }
    }
  }

  /** Send one frame; a socket that stopped draining is closed 1008 and forgotten. False when the socket is gone. */
  private send(ws: WebSocket, sid: string, text: string): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > MAX_SOCKET_BUFFERED_BYTES) {
      this.subs.delete(sid);
      this.ctx.storage.kv.delete(subsKey(sid));
      ws.close(1008, "slow consumer");
      return false;
    }
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }
}
