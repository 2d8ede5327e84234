// JSON-RPC over HTTP for the benches: single calls, batches, and many calls spread over batches with a few in flight.

export interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface RpcCall {
  method: string;
  params: unknown[];
}

/** Timeout of one HTTP request unless a caller gives another. */
export const REQUEST_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A JSON-RPC quantity ("0x…") as a number. */
export const hexNum = (v: unknown) => Number(BigInt(v as string));

/**
 * A server may close an idle keep-alive connection just as the client reuses it (hardhat node closes them after 5 s
 * idle, e.g. while the bench pre-signs): the request then fails before any response, and is sent once more on a new
 * connection. Every call the benches make is safe to repeat (a resent transaction is "already known").
 */
function closedBeforeResponse(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  return (e as Error).message === "fetch failed" && ["UND_ERR_SOCKET", "ECONNRESET"].includes(cause?.code ?? "");
}

export async function post(url: string, body: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
  const payload = JSON.stringify(body);
  const send = () =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
  const res = await send().catch((e: unknown) => {
    if (closedBeforeResponse(e)) return send();
    throw e;
  });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
}

/** One call; a JSON-RPC error is thrown as `method: message (code)`. */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const reply = (await post(url, { jsonrpc: "2.0", id: 1, method, params })) as RpcReply;
  if (reply.error) throw new Error(`${method}: ${reply.error.message} (${reply.error.code})`);
  return reply.result;
}

/** One JSON-RPC batch; replies in request order. A non-array answer (e.g. a batch-level error) fails every call. */
export async function batch(url: string, calls: RpcCall[], timeoutMs = REQUEST_TIMEOUT_MS): Promise<RpcReply[]> {
  const reply = await post(
    url,
    calls.map((c, i) => ({ jsonrpc: "2.0", id: i, method: c.method, params: c.params })),
    timeoutMs,
  );
  if (!Array.isArray(reply)) {
    const err = (reply as RpcReply).error ?? { code: 0, message: `unexpected batch reply ${JSON.stringify(reply)}` };
    return calls.map(() => ({ error: err }));
  }
  const out: RpcReply[] = calls.map(() => ({ error: { code: 0, message: "missing from batch reply" } }));
  for (const r of reply as (RpcReply & { id: number })[])
    if (typeof r.id === "number" && r.id < out.length) out[r.id] = r;
  return out;
}

/**
 * Run `work(start, end)` over [0, total) in chunks of `size`, with `concurrency` chunks in flight; chunks are handed
 * out in order.
 */
export async function inChunks(
  total: number,
  size: number,
  concurrency: number,
  work: (start: number, end: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const start = next;
      next += size;
      await work(start, Math.min(start + size, total));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface BatchShape {
  /** Calls per HTTP request. */
  size: number;
  /** Requests in flight. */
  concurrency: number;
  timeoutMs?: number;
}

/** Many calls, `size` per request, `concurrency` requests in flight; replies in call order, errors left in them. */
export async function batched(url: string, calls: RpcCall[], shape: BatchShape): Promise<RpcReply[]> {
  const out: RpcReply[] = new Array(calls.length);
  await inChunks(calls.length, shape.size, shape.concurrency, async (start, end) => {
    const replies = await batch(url, calls.slice(start, end), shape.timeoutMs);
    for (let i = 0; i < replies.length; i++) out[start + i] = replies[i];
  });
  return out;
}

/** Like `batched`, but the results only: the first error reply is thrown, naming the call. */
export async function batchedResults(url: string, calls: RpcCall[], shape: BatchShape): Promise<unknown[]> {
  const out: unknown[] = new Array(calls.length);
  await inChunks(calls.length, shape.size, shape.concurrency, async (start, end) => {
    const replies = await batch(url, calls.slice(start, end), shape.timeoutMs);
    replies.forEach((r, i) => {
      const c = calls[start + i];
      if (r.error) throw new Error(`${c.method}(${JSON.stringify(c.params).slice(0, 120)}): ${r.error.message}`);
      out[start + i] = r.result;
    });
  });
  return out;
}
