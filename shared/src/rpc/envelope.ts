// The one JSON-RPC envelope: every HTTP body and WebSocket message of the node (validator/src/rpc/rpcServer.ts), both
// edge hosts (edge/src/rpc/pipeline.ts) and the admin API goes through `handleJsonRpc`. It owns the rules a client
// sees whichever server it talks to: the body limit (HTTP 413), parse errors, batches (empty, too long), the request
// object (jsonrpc "2.0", a string method, an id that is a string, number or null), notifications (no answer), unknown
// methods (-32601, never dispatched), parameters checked against the method table (-32602), thrown errors mapped by
// `toRpcError`, and the answer's serialisation. What a server does with a valid call is its `dispatch`.
import { type RpcErrorObject, rpcErrors, toRpcError } from "../rpcErrors.ts";
import { type MethodSpec, parseParamsWith } from "./methods.ts";

export type JsonRpcId = string | number | null;

/** A call's answer: a result to serialise, a result already serialised (a cache hit), or an error. */
export type RpcAnswer = { result: unknown } | { json: string } | { error: RpcErrorObject };

/** What to send back: `body` undefined means nothing (the request held only notifications). */
export interface RpcReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A call that passed the envelope and parameter checks. */
export interface RpcCall<P = unknown[]> {
  method: string;
  /** The parameters as parsed by the method table (bigints, bytes...). */
  params: P;
  /** The parameters as sent (an array; [] when absent). */
  raw: unknown[];
}

export interface JsonRpcServer<C> {
  maxBodyBytes: number;
  maxBatch: number;
  /** The methods this server answers, with their parameter specs. */
  methods: Readonly<Record<string, MethodSpec>>;
  /** Answer one valid call; a throw is answered through `toRpcError`. */
  dispatch(call: RpcCall, ctx: C): Promise<RpcAnswer> | RpcAnswer;
  /**
   * Answer the valid calls of a batch together (e.g. many eth_sendRawTransaction in one sender-recovery pass), or
   * return undefined to dispatch them one by one. Answers come back in the same order.
   */
  dispatchBatch?(calls: RpcCall[], ctx: C): Promise<RpcAnswer[]> | undefined;
  /**
   * Admission after parsing (a rate limit): a reply refuses the whole body. `cost` is the number of calls (1 for a
   * body that is not a batch, capped at maxBatch); `id` the single call's id, for the refusal's envelope.
   */
  admit?(cost: number, id: JsonRpcId, ctx: C): Promise<RpcReply | undefined>;
  /**
   * After each call with a method name, dispatched or refused (an unknown method, bad params; not a malformed
   * request object): metrics and logs. `thrown` is what a dispatch threw, if it did.
   */
  observe?(call: RpcCall, answer: RpcAnswer, ms: number, ctx: C, thrown?: unknown): void;
}

const jsonReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v);

/** JSON with bigints as quantities (how every result is serialised). */
export function toJson(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value, jsonReplacer);
}

/** One response object's text. */
export function responseText(id: JsonRpcId, answer: RpcAnswer): string {
  const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},`;
  if ("json" in answer) return `${head}"result":${answer.json}}`;
  if ("result" in answer) return `${head}"result":${toJson(answer.result)}}`;
  return `${head}"error":${toJson(answer.error)}}`;
}

/** A whole reply refusing the request with `error` (id null unless given). */
export function errorReply(status: number, error: RpcErrorObject, id: JsonRpcId = null): RpcReply {
  return { status, body: responseText(id, { error }), headers: { "content-type": "application/json" } };
}

function utf8Length(text: string, limit: number): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: skip the encoding when the text cannot be over the limit.
  if (text.length * 3 <= limit) return text.length;
  return new TextEncoder().encode(text).length;
}

const isId = (id: unknown): id is JsonRpcId => id === null || typeof id === "string" || typeof id === "number";

/** A valid call, or the text refusing a request (with the call to report, when it named a method). */
type Checked =
  | { call: RpcCall; id: JsonRpcId; notification: boolean }
  | { text: string | undefined; refused?: { call: RpcCall; answer: RpcAnswer } };

const noParams: unknown[] = [];

/** Answer one HTTP body or WebSocket message. Never throws. */
export async function handleJsonRpc<C>(server: JsonRpcServer<C>, text: string, ctx: C): Promise<RpcReply> {
  try {
    return await handleBody(server, text, ctx);
  } catch {
    return errorReply(500, rpcErrors.internal().toJSON());
  }
}

async function handleBody<C>(server: JsonRpcServer<C>, text: string, ctx: C): Promise<RpcReply> {
  if (utf8Length(text, server.maxBodyBytes) > server.maxBodyBytes) {
    return errorReply(413, rpcErrors.bodyTooLarge(server.maxBodyBytes).toJSON());
  }
  let parsed: unknown;
  let parseFailed = false;
  try {
    parsed = JSON.parse(text);
  } catch {
    parseFailed = true;
  }
  const isBatch = Array.isArray(parsed);
  if (server.admit) {
    // One token per call; an envelope that is refused as a whole costs one.
    const cost = isBatch ? Math.min(Math.max(1, (parsed as unknown[]).length), server.maxBatch) : 1;
    const single = !isBatch && parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>).id : null;
    const refused = await server.admit(
      cost,
      typeof single === "string" || typeof single === "number" ? single : null,
      ctx,
    );
    if (refused) return refused;
  }
  if (parseFailed) return errorReply(200, rpcErrors.parseError().toJSON());
  if (!isBatch) {
    const checked = check(server, parsed);
    const body = "text" in checked ? refusal(server, checked, ctx) : await answerOne(server, checked, ctx);
    return { status: 200, body, headers: { "content-type": "application/json" } };
  }
  const items = parsed as unknown[];
  if (items.length === 0) return errorReply(200, rpcErrors.emptyBatch().toJSON());
  if (items.length > server.maxBatch) {
    return errorReply(200, rpcErrors.batchTooLarge(items.length, server.maxBatch).toJSON());
  }
  const checked = items.map((item) => check(server, item));
  const valid = checked.filter((c): c is Extract<Checked, { call: RpcCall }> => "call" in c);
  const together = valid.length > 1 ? await batchAnswers(server, valid, ctx) : undefined;
  let k = 0;
  const parts = await Promise.all(
    checked.map((c) => {
      if ("text" in c) return refusal(server, c, ctx);
      const i = k++;
      if (!together) return answerOne(server, c, ctx);
      const answer = together[i] as RpcAnswer;
      return c.notification ? undefined : responseText(c.id, answer);
    }),
  );
  const out = parts.filter((p): p is string => p !== undefined);
  return {
    status: 200,
    body: out.length ? `[${out.join(",")}]` : undefined,
    headers: { "content-type": "application/json" },
  };
}

/** The envelope and parameter checks of one request object: a valid call, or the text refusing it. */
function check<C>(server: JsonRpcServer<C>, req: unknown): Checked {
  if (!req || typeof req !== "object" || Array.isArray(req)) {
    return { text: responseText(null, { error: rpcErrors.invalidRequest().toJSON() }) };
  }
  const r = req as Record<string, unknown>;
  const notification = !("id" in r);
  const id = r.id;
  if (r.jsonrpc !== "2.0" || typeof r.method !== "string" || (!notification && !isId(id))) {
    return { text: responseText(isId(id) ? id : null, { error: rpcErrors.invalidRequest().toJSON() }) };
  }
  const answerId: JsonRpcId = notification ? null : (id as JsonRpcId);
  const method = r.method;
  const refuse = (e: unknown): Checked => {
    const answer = { error: toRpcError(e).toJSON() };
    const refused = { call: { method, params: noParams, raw: noParams }, answer };
    return { text: notification ? undefined : responseText(answerId, answer), refused };
  };
  const spec = Object.hasOwn(server.methods, method) ? server.methods[method] : undefined;
  if (!spec) return refuse(rpcErrors.methodNotFound(method));
  try {
    const params = parseParamsWith(spec, r.params);
    const raw = Array.isArray(r.params) ? r.params : [];
    return { call: { method, params, raw }, id: answerId, notification };
  } catch (e) {
    return refuse(e);
  }
}

/** A refused request's text, reported to `observe` in request order. */
function refusal<C>(server: JsonRpcServer<C>, c: Extract<Checked, { text: unknown }>, ctx: C): string | undefined {
  if (c.refused) server.observe?.(c.refused.call, c.refused.answer, 0, ctx);
  return c.text;
}

async function answerOne<C>(
  server: JsonRpcServer<C>,
  c: { call: RpcCall; id: JsonRpcId; notification: boolean },
  ctx: C,
): Promise<string | undefined> {
  const started = performance.now();
  let answer: RpcAnswer;
  let thrown: unknown;
  try {
    answer = await server.dispatch(c.call, ctx);
  } catch (e) {
    thrown = e;
    answer = { error: toRpcError(e).toJSON() };
  }
  server.observe?.(c.call, answer, performance.now() - started, ctx, thrown);
  return c.notification ? undefined : responseText(c.id, answer);
}

async function batchAnswers<C>(
  server: JsonRpcServer<C>,
  valid: { call: RpcCall }[],
  ctx: C,
): Promise<RpcAnswer[] | undefined> {
  if (!server.dispatchBatch) return undefined;
  const started = performance.now();
  let answers: RpcAnswer[] | undefined;
  try {
    answers = await server.dispatchBatch(
      valid.map((v) => v.call),
      ctx,
    );
  } catch (e) {
    const error = toRpcError(e).toJSON();
    answers = valid.map(() => ({ error }));
  }
  if (!answers) return undefined;
  const ms = performance.now() - started;
  for (const [i, v] of valid.entries()) server.observe?.(v.call, answers[i] as RpcAnswer, ms, ctx);
  return answers;
}

/** A thrown RpcError, a domain error, or a plain error object (what crosses a Durable Object boundary), as an error object. */
export function asErrorObject(e: unknown): RpcErrorObject {
  if (e && typeof e === "object" && !(e instanceof Error)) {
    const o = e as Record<string, unknown>;
    if (typeof o.code === "number" && typeof o.message === "string") {
      const out: RpcErrorObject = { code: o.code, message: o.message };
      if (o.data !== undefined) out.data = o.data;
      return out;
    }
  }
  return toRpcError(e).toJSON();
}
