// The host-agnostic JSON-RPC pipeline: every HTTP body and every WebSocket message on both hosts goes through
// `RpcPipeline.handle`. It answers exactly as the core's RPC server would (validator/src/rpc/rpcServer.ts: the same
// envelope rules, error codes and HTTP statuses) and decides, per call, where the answer comes from:
// - refused at the edge: bad envelope, method not in the shared table (-32601, never forwarded), invalid params
//   (-32602, shared `parseParams`), rate limit (-32005, HTTP 429), a raw transaction the core would refuse;
// - static: eth_chainId, net_version, web3_clientVersion from the config;
// - cache, then replica: reads the replica serves (see REPLICA_METHODS); `forward` outcomes go to the core;
// - core: eth_call, eth_estimateGas, eth_getTransactionCount("pending"), eth_sendRawTransaction and everything else.
//
// Cache keys (the contract of ResponseCache: a key identifies exactly one answer):
// - `i|<method>|<params>`: an immutable answer; block tags in params are replaced by the block number the answer was
//   pinned at, so `eth_getBlockByNumber("finalized")` and `eth_getBlockByNumber("0x5")` share an entry once block 5 is
//   finalized;
// - `h|<block hash>|<method>|<params>`: any other answer, under the hash of the block it was computed at (`pin`).
// Lookups happen before the replica is asked, with the chain tips read once per body / message: a tag resolves to the
// tip's number and hash; a lookup can only hit an entry stored for that very block.
import type { Hex } from "@rustchain/shared/hex";
import {
  asErrorObject,
  errorReply,
  handleJsonRpc,
  type JsonRpcServer,
  type RpcCall,
  type RpcReply,
  toJson,
} from "@rustchain/shared/rpc/envelope";
import { isRpcMethod, type RpcMethodName, rpcMethods } from "@rustchain/shared/rpc/methods";
import { domainCodeOf, rpcErrors } from "@rustchain/shared/rpcErrors";
import type {
  BlockRef,
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

const toQuantity = (n: number | bigint): Hex => `0x${n.toString(16)}`;

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
      methods: rpcMethods,
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

// ---- cache keys ----

const TAGS: ReadonlySet<string> = new Set(["latest", "pending", "earliest", "safe", "finalized"]);

/** A block argument inside the normalised params: a tag, a block number (quantity) or a block hash. */
class BlockSlot {
  constructor(readonly value: string) {}
  get isTag(): boolean {
    return TAGS.has(this.value);
  }
}

/** How a method's answer is tied to the chain, with its params normalised for a key. */
interface CacheShape {
  /** Params with hex lowercased, defaults filled and block arguments as BlockSlot. */
  norm: unknown[];
  slots: BlockSlot[];
  /** The answer is about this block (a by-hash read): cacheable under its hash. */
  blockHash?: string;
  /** The answer is tied to where a transaction landed or to canonicality: only immutable answers are cached. */
  immutableOnly?: boolean;
  /** No block argument: the answer is computed at the head. */
  atHead?: boolean;
}

const HEX_RE = /^0x[0-9a-fA-F]*$/;
const lowerHex = (v: unknown): unknown => {
  if (typeof v === "string") return HEX_RE.test(v) ? v.toLowerCase() : v;
  if (Array.isArray(v)) return v.map(lowerHex);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = lowerHex((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
};

/** Where each cacheable method takes its block argument. */
const BLOCK_ARG: Partial<
  Record<RpcMethodName, { kind: "tag" | "id" | "hash" | "tx" | "logs" | "head"; index: number }>
> = {
  eth_getBlockByNumber: { kind: "tag", index: 0 },
  eth_getBlockTransactionCountByNumber: { kind: "tag", index: 0 },
  eth_getTransactionByBlockNumberAndIndex: { kind: "tag", index: 0 },
  eth_feeHistory: { kind: "tag", index: 1 },
  eth_getBlockByHash: { kind: "hash", index: 0 },
  eth_getBlockTransactionCountByHash: { kind: "hash", index: 0 },
  eth_getTransactionByBlockHashAndIndex: { kind: "hash", index: 0 },
  eth_getTransactionByHash: { kind: "tx", index: 0 },
  eth_getTransactionReceipt: { kind: "tx", index: 0 },
  eth_getBlockReceipts: { kind: "id", index: 0 },
  eth_getBalance: { kind: "id", index: 1 },
  eth_getTransactionCount: { kind: "id", index: 1 },
  eth_getCode: { kind: "id", index: 1 },
  eth_getStorageAt: { kind: "id", index: 2 },
  eth_getLogs: { kind: "logs", index: 0 },
  eth_gasPrice: { kind: "head", index: 0 },
  eth_maxPriorityFeePerGas: { kind: "head", index: 0 },
};

/** The normalised shape of a call whose params already passed `parseParams`, or undefined when not cacheable. */
export function cacheShape(method: RpcMethodName, params: unknown[]): CacheShape | undefined {
  const arg = BLOCK_ARG[method];
  if (!arg) return undefined;
  const required = rpcMethods[method].required;
  // parseParams reads a null optional argument as absent; so does the key.
  const list = params.map((v, i) => (v === null && i >= required ? undefined : v));
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop();
  const norm = list.map((v) => (v === undefined ? null : lowerHex(v)));
  const shape: CacheShape = { norm, slots: [] };
  const slot = (value: string) => {
    const s = new BlockSlot(value);
    shape.slots.push(s);
    return s;
  };
  switch (arg.kind) {
    case "head":
      shape.atHead = true;
      return shape;
    case "tx":
      shape.immutableOnly = true;
      return shape;
    case "hash":
      shape.blockHash = norm[arg.index] as string;
      return shape;
    case "tag":
      norm[arg.index] = slot(norm[arg.index] as string);
      return shape;
    case "id": {
      const v = norm[arg.index];
      if (v === undefined || v === null) {
        norm[arg.index] = slot("latest");
      } else if (typeof v === "string" && v.length === 66) {
        shape.blockHash = v;
      } else if (typeof v === "string") {
        norm[arg.index] = slot(v);
      } else {
        const o = v as Record<string, unknown>;
        if (typeof o.blockNumber === "string") norm[arg.index] = slot(o.blockNumber);
        else if (typeof o.blockHash === "string") {
          if (o.requireCanonical === true) shape.immutableOnly = true;
          else {
            norm[arg.index] = o.blockHash;
            shape.blockHash = o.blockHash;
          }
        } else return undefined;
      }
      while (norm.length <= arg.index) norm.push(null);
      return shape;
    }
    case "logs": {
      const f = { ...(norm[0] as Record<string, unknown>) };
      if (typeof f.blockHash === "string") {
        shape.blockHash = f.blockHash;
      } else {
        f.fromBlock = slot(typeof f.fromBlock === "string" ? f.fromBlock : "latest");
        f.toBlock = slot(typeof f.toBlock === "string" ? f.toBlock : "latest");
        // Two different moving tags (e.g. safe..latest) cannot be pinned to one block: not cached.
        const tags = new Set(shape.slots.filter((s) => s.isTag && s.value !== "earliest").map((s) => s.value));
        if (tags.size > 1) return undefined;
      }
      norm[0] = f;
      return shape;
    }
  }
}

/** Serialise the shape with each block slot replaced; undefined when a slot cannot be resolved. */
function render(method: string, shape: CacheShape, resolve: (s: BlockSlot) => number | undefined): string | undefined {
  let unresolved = false;
  const text = JSON.stringify(shape.norm, (_k, v) => {
    if (v instanceof BlockSlot) {
      const n = resolve(v);
      if (n === undefined) unresolved = true;
      return n === undefined ? null : toQuantity(n);
    }
    return v;
  });
  return unresolved ? undefined : `${method}|${text}`;
}

const numberOf = (s: BlockSlot): number | undefined =>
  s.isTag ? (s.value === "earliest" ? 0 : undefined) : Number.parseInt(s.value, 16);

function tipOf(s: BlockSlot, tips: ChainTips): { number: number; hash?: string } | undefined {
  const known = [tips.head, tips.safe, tips.finalized].filter((r): r is BlockRef => r !== null);
  const byNumber = (n: number) => ({ number: n, hash: known.find((r) => r.number === n)?.hash });
  switch (s.value) {
    case "latest":
    case "pending":
      return tips.head ?? undefined;
    case "safe":
      return tips.safe ?? undefined;
    case "finalized":
      return tips.finalized ?? undefined;
    case "earliest":
      return byNumber(0);
    default:
      return byNumber(Number.parseInt(s.value, 16));
  }
}

/** Keys under which an answer for this call may already be cached, given the tips read for this body. */
export function lookupKeys(method: string, shape: CacheShape, tips: ChainTips): string[] {
  const keys: string[] = [];
  const finalized = tips.finalized?.number ?? -1;
  if (shape.immutableOnly) {
    const k = render(method, shape, () => undefined);
    return k && shape.slots.length === 0 ? [`i|${k}`] : [];
  }
  const resolved = shape.slots.map((s) => tipOf(s, tips));
  if (resolved.some((r) => r === undefined)) return [];
  const numbers = resolved.map((r) => (r as { number: number }).number);
  const render_ = () => render(method, shape, (s) => numbers[shape.slots.indexOf(s)]);
  const body = render_();
  if (body === undefined) return [];
  const immutablePossible = shape.atHead ? false : numbers.every((n) => n <= finalized);
  if (shape.blockHash || immutablePossible) keys.push(`i|${body}`);
  let hash = shape.blockHash;
  if (!hash && !shape.atHead && shape.slots.length > 0) {
    // A single block argument (or one moving tag of a log range): the block it resolves to.
    const tagIndex = shape.slots.findIndex((s) => s.isTag && s.value !== "earliest");
    const pinned = resolved[tagIndex >= 0 ? tagIndex : shape.slots.length - 1];
    hash = method === "eth_getLogs" && tagIndex < 0 ? tips.head?.hash : pinned?.hash;
  }
  if (shape.atHead) hash = tips.head?.hash;
  if (hash) keys.push(`h|${hash}|${body}`);
  return keys;
}

/** The key an answer is stored under, or undefined when it must not be cached. */
export function storeKey(
  method: string,
  shape: CacheShape,
  pin: BlockRef | undefined,
  immutable: boolean,
): string | undefined {
  const needsPin = shape.slots.some((s) => s.isTag && s.value !== "earliest");
  if (needsPin && !pin) return undefined;
  const body = render(method, shape, (s) => (s.isTag && s.value !== "earliest" ? pin?.number : numberOf(s)));
  if (body === undefined) return undefined;
  if (immutable) return `i|${body}`;
  if (shape.immutableOnly || !pin) return undefined;
  return `h|${pin.hash}|${body}`;
}
