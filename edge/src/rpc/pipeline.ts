// The host-agnostic JSON-RPC pipeline: every HTTP body and every WebSocket message on both hosts goes through
// `RpcPipeline.handle`. The envelope is the core's own (shared/src/rpc/envelope.ts: the same rules, error codes and
// HTTP statuses as validator/src/rpc/rpcServer.ts); whole replies to repeated bodies come from the raw-body cache
// (rawCache.ts); per call, the pipeline decides where the answer comes from:
// - refused at the edge: bad envelope, method not in the shared public table (`publicRpcMethods`: the table without the
//   debug namespace; -32601, never forwarded), invalid params (-32602, shared `parseParams`), rate limit (-32005,
//   HTTP 429), a raw transaction the core would refuse;
// - static: eth_chainId, net_version, web3_clientVersion from the config;
// - cache, then replica: reads the replica serves (see REPLICA_METHODS); `forward` outcomes go to the core;
// - core: eth_call, eth_estimateGas, eth_getTransactionCount("pending"), eth_sendRawTransaction and everything else.
//
// Cache keys: edge/src/rpc/cacheKeys.ts.
import { type Hex, toQuantity } from "@rustchain/shared/hex";
import {
  asErrorObject,
  errorReply,
  handleJsonRpc,
  type JsonRpcServer,
  type RpcCall,
  type RpcReply,
  toJson,
} from "@rustchain/shared/rpc/envelope";
import { isRpcMethod, publicRpcMethods, type RpcMethodName } from "@rustchain/shared/rpc/methods";
import { domainCodeOf, rpcErrors } from "@rustchain/shared/rpcErrors";
import type {
  ChainTips,
  EdgeConfig,
  EdgeMetrics,
  EventPublisher,
  JsonRpcErrorObject,
  RateLimiter,
  ReplicaAccess,
  ResponseCache,
  Upstream,
} from "../app/contract.ts";
import { ReplicaReads } from "../replica/reads.ts";
import { cacheShape, lookupKeys, storeKey } from "./cacheKeys.ts";
import { RAW_CACHEABLE_METHODS, type RawCacheEntry, RawResponseCache } from "./rawCache.ts";
import { checkRawTransaction } from "./txCheck.ts";

/** Given by WebSocket hosts; absent over HTTP. */
export interface RpcSession {
  /** eth_subscribe: returns the subscription id; throws RpcError on bad params. */
  subscribe(params: unknown): Promise<string>;
  /** eth_unsubscribe. */
  unsubscribe(id: unknown): Promise<boolean>;
}

export interface RpcPipelineDeps {
  config: EdgeConfig;
  replica: ReplicaAccess;
  upstream: Upstream;
  cache: ResponseCache;
  limiter: RateLimiter;
  events?: EventPublisher;
  metrics?: EdgeMetrics;
  /** Whole replies to repeated bodies (edge/src/rpc/rawCache.ts); default one with the default bounds, null: none. */
  rawCache?: RawResponseCache | null;
  log?: (entry: Record<string, unknown>) => void;
}

export interface RpcRequestContext {
  clientKey: string;
  transport: "http" | "ws";
  session?: RpcSession;
}

export type { RpcReply };

type Source = "cache" | "replica" | "core" | "edge";
/** A call's answer: `json` is the result already serialised (a cache hit, a forwarded answer). */
type Answer = { json: string } | { error: JsonRpcErrorObject };

/** Reads the replica may answer (its own list minus eth_blockNumber, which the pipeline answers from the tips). */
const REPLICA_METHODS: ReadonlySet<string> = new Set<string>(
  ReplicaReads.methods.filter((m) => m !== "eth_blockNumber"),
);

export const CORE_UNAVAILABLE: JsonRpcErrorObject = rpcErrors.coreUnavailable().toJSON();
const INTERNAL: JsonRpcErrorObject = rpcErrors.internal().toJSON();

/** A cache is an optimisation: its failure (even a synchronous throw) is a miss, never a failed call. */
async function safely<T>(op: () => Promise<T>): Promise<T | undefined> {
  try {
    return await op();
  } catch {
    return undefined;
  }
}

/** The raw cache's view of the tips: any new bundle (seq) or head changes it; undefined without a head. */
const tipsKeyOf = (tips: ChainTips | undefined): string | undefined =>
  tips?.head ? `${tips.seq}|${tips.head.hash}` : undefined;

/** Everything one HTTP body / WebSocket message shares: the tips, read at most once, and where answers came from. */
class BodyState {
  private tipsPromise: Promise<ChainTips | undefined> | undefined;
  readonly sources = new Set<Source>();
  readonly methods: string[] = [];
  /** Each dispatched call's source, for its metrics. */
  readonly callSources = new Map<RpcCall, Source>();
  /** Each call's method and outcome, in the order observed (what a raw-cache hit counts again). */
  readonly calls: { method: string; ok: boolean }[] = [];
  /** Only pure reads answered without the core so far: the reply may go to the raw cache. */
  rawCacheable = true;
  /** What admission charged, and the single call's id (for a raw-cache hit's 429). */
  cost = 1;
  singleId: string | number | null = null;
  constructor(
    readonly request: RpcRequestContext,
    private readonly load: () => Promise<ChainTips | undefined>,
  ) {}
  tips(): Promise<ChainTips | undefined> {
    this.tipsPromise ??= this.load();
    return this.tipsPromise;
  }
}

export class RpcPipeline {
  /** The highest head this pipeline has served: eth_blockNumber never goes backwards. */
  private seenHead = -1;
  /** The edge's side of the shared JSON-RPC envelope (shared/src/rpc/envelope.ts). */
  private readonly server: JsonRpcServer<BodyState>;
  private readonly rawCache: RawResponseCache | undefined;

  constructor(private readonly deps: RpcPipelineDeps) {
    this.rawCache = deps.rawCache === undefined ? new RawResponseCache() : (deps.rawCache ?? undefined);
    const { config, limiter, metrics } = deps;
    this.server = {
      maxBodyBytes: config.maxBodyBytes,
      maxBatch: config.maxBatch,
      // Not the debug namespace: traces re-execute blocks on the core, a node operator's tool, not a public method.
      methods: publicRpcMethods,
      admit: async (cost, id, state) => {
        state.cost = cost;
        state.singleId = id;
        // A failing limiter (its Durable Object unreachable) lets the request through: the edge keeps serving.
        const decision = (await safely(() => limiter.take(state.request.clientKey, cost))) ?? { allowed: true };
        if (decision.allowed) return undefined;
        metrics?.rateLimited();
        const reply = errorReply(429, rpcErrors.rateLimited().toJSON(), id);
        return { ...reply, headers: { ...reply.headers, "retry-after": String(decision.retryAfterSeconds) } };
      },
      dispatch: async (call, state) => {
        state.methods.push(call.method);
        const { answer, source } = await this.dispatch(call.method as RpcMethodName, call.raw, state);
        state.callSources.set(call, source);
        return answer;
      },
      observe: (call, answer, _ms, state) => {
        const label = isRpcMethod(call.method) ? call.method : "unknown";
        const source = state.callSources.get(call);
        if (source === undefined) state.methods.push(label);
        state.sources.add(source ?? "edge");
        const ok = !("error" in answer);
        state.calls.push({ method: label, ok });
        if (source === "core" || !RAW_CACHEABLE_METHODS.has(label)) state.rawCacheable = false;
        metrics?.call(label, source ?? "edge", ok);
      },
    };
  }

  /** The head eth_blockNumber answers now (-1 before any). */
  get servedHead(): number {
    return this.seenHead;
  }

  async handle(text: string, ctx: RpcRequestContext): Promise<RpcReply> {
    const started = performance.now();
    const state = new BodyState(ctx, () => this.loadTips());
    const raw = this.rawCache;
    let tipsKey: string | undefined;
    if (raw?.accepts(text)) {
      tipsKey = tipsKeyOf(await state.tips());
      const hit = tipsKey === undefined ? undefined : raw.get(text, tipsKey);
      if (hit) return this.answerHit(hit, state, started);
    }
    const reply = await handleJsonRpc(this.server, text, state);
    if (raw && tipsKey !== undefined && reply.status === 200 && state.rawCacheable) {
      // Stored under the tips it was computed at: only if no bundle landed meanwhile.
      if (tipsKeyOf(await this.loadTips()) === tipsKey) {
        raw.set(text, { tipsKey, reply, calls: state.calls, cost: state.cost, id: state.singleId });
      }
    }
    this.logBody(state, reply.status, started);
    return reply;
  }

  /** A raw-cache hit: charged and counted like the calls it answers, without parsing anything. */
  private async answerHit(hit: RawCacheEntry, state: BodyState, started: number): Promise<RpcReply> {
    const refused = await this.server.admit?.(hit.cost, hit.id, state);
    if (refused) {
      state.sources.add("edge");
      this.logBody(state, refused.status, started);
      return refused;
    }
    for (const c of hit.calls) {
      state.methods.push(c.method);
      this.deps.metrics?.call(c.method, "cache", c.ok);
    }
    state.sources.add("cache");
    this.logBody(state, hit.reply.status, started);
    return hit.reply;
  }

  private logBody(state: BodyState, status: number, started: number): void {
    const ctx = state.request;
    if (!this.deps.log) return;
    // Refused before any call was looked at (size, rate limit, parse, envelope): answered by the edge itself.
    if (state.sources.size === 0) state.sources.add("edge");
    const methods = state.methods;
    this.deps.log({
      msg: "rpc",
      transport: ctx.transport,
      clientKey: ctx.clientKey,
      methods: methods.length > 10 ? [...methods.slice(0, 10), `+${methods.length - 10}`] : methods,
      status,
      source: [...state.sources].join(","),
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
  }

  private async dispatch(
    method: RpcMethodName,
    params: unknown[],
    state: BodyState,
  ): Promise<{ answer: Answer; source: Source }> {
    const { config } = this.deps;
    const ctx = state.request;
    const edge = (answer: Answer) => ({ answer, source: "edge" as const });
    switch (method) {
      case "eth_chainId":
        return edge({ json: toJson(toQuantity(config.chainId)) });
      case "net_version":
        return edge({ json: toJson(config.chainId.toString()) });
      case "web3_clientVersion":
        return edge({ json: toJson(config.clientVersion) });
      case "eth_subscribe":
      case "eth_unsubscribe": {
        if (!ctx.session) return edge({ error: rpcErrors.notificationsNotSupported().toJSON() });
        try {
          const out =
            method === "eth_subscribe" ? await ctx.session.subscribe(params) : await ctx.session.unsubscribe(params[0]);
          return edge({ json: toJson(out) });
        } catch (e) {
          return edge({ error: asErrorObject(e) });
        }
      }
      case "eth_sendRawTransaction":
        return this.sendRawTransaction(params[0] as Hex);
      case "eth_blockNumber":
        return this.blockNumber(state);
      case "eth_getTransactionCount":
        if (params[1] === "pending") return { answer: await this.forward(method, params), source: "core" };
        break;
    }
    if (REPLICA_METHODS.has(method)) return this.readThrough(method, params, state);
    return { answer: await this.forward(method, params), source: "core" };
  }

  private async loadTips(): Promise<ChainTips | undefined> {
    try {
      const tips = await this.deps.replica.tips();
      const served = tips.servedHead ?? tips.head?.number;
      if (served !== undefined && served > this.seenHead) this.seenHead = served;
      return tips;
    } catch {
      return undefined;
    }
  }

  private async blockNumber(state: BodyState): Promise<{ answer: Answer; source: Source }> {
    const tips = await state.tips();
    if (tips?.head) return { answer: { json: toJson(toQuantity(this.seenHead)) }, source: "replica" };
    const answer = await this.forward("eth_blockNumber", []);
    if ("json" in answer) {
      const n = Number.parseInt(JSON.parse(answer.json) as string, 16);
      if (Number.isSafeInteger(n) && n > this.seenHead) this.seenHead = n;
      if (this.seenHead >= 0) return { answer: { json: toJson(toQuantity(this.seenHead)) }, source: "core" };
    }
    return { answer, source: "core" };
  }

  private async readThrough(
    method: RpcMethodName,
    params: unknown[],
    state: BodyState,
  ): Promise<{ answer: Answer; source: Source }> {
    const { cache, replica } = this.deps;
    const shape = cacheShape(method, params);
    const tips = shape ? await state.tips() : undefined;
    if (shape && tips) {
      for (const key of lookupKeys(method, shape, tips)) {
        const hit = await safely(() => cache.get(key));
        if (hit !== undefined) return { answer: { json: hit }, source: "cache" };
      }
    }
    let outcome: Awaited<ReturnType<ReplicaAccess["read"]>>;
    try {
      outcome = await replica.read(method, params);
    } catch {
      outcome = { kind: "forward" };
    }
    if (outcome.kind === "error") return { answer: { error: outcome.error }, source: "replica" };
    if (outcome.kind === "forward") return { answer: await this.forward(method, params), source: "core" };
    const json = toJson(outcome.result);
    if (shape && outcome.result !== null && outcome.result !== undefined) {
      const key = storeKey(method, shape, outcome.pin, outcome.immutable);
      if (key !== undefined) await safely(() => cache.put(key, json, outcome.immutable));
    }
    return { answer: { json }, source: "replica" };
  }

  private async forward(method: string, params: unknown[]): Promise<Answer> {
    const started = performance.now();
    try {
      const out = await this.deps.upstream.call(method, params);
      this.deps.metrics?.upstream(method, performance.now() - started, true);
      return "error" in out ? { error: out.error } : { json: toJson(out.result) };
    } catch (e) {
      this.deps.metrics?.upstream(method, performance.now() - started, false);
      if ((e as Error | undefined)?.name === "UpstreamUnavailableError") return { error: CORE_UNAVAILABLE };
      return { error: INTERNAL };
    }
  }

  private async sendRawTransaction(raw: Hex): Promise<{ answer: Answer; source: Source }> {
    const { config, events } = this.deps;
    const check = checkRawTransaction(raw, { chainId: config.chainId, maxTxBytes: config.maxTxBytes });
    if (!check.ok) return { answer: { error: check.error }, source: "edge" };
    const answer = await this.forward("eth_sendRawTransaction", [raw]);
    // Idempotent: the same transaction sent again (a retry after a lost answer) is the core's "already known".
    if ("error" in answer) {
      if (domainCodeOf(answer.error) === "TX_ALREADY_KNOWN")
        return { answer: { json: toJson(check.hash) }, source: "core" };
      return { answer, source: "core" };
    }
    if (events) await safely(() => events.publish({ kind: "pendingTransaction", hash: check.hash }));
    return { answer, source: "core" };
  }
}

export function createRpcPipeline(deps: RpcPipelineDeps): RpcPipeline {
  return new RpcPipeline(deps);
}
