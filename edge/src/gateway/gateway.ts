// The edge's trustless gateway (GET|HEAD /ipfs/<cid>, https://specs.ipfs.tech/http-gateways/trustless-gateway/), the
// same on both hosts. Requests are parsed by the node's own rules (shared/src/content/trustlessGateway.ts: formats,
// statuses, supported CIDs, headers); content is not in the replication feed, so the edge asks the core's gateway
// (the same origin as its JSON-RPC) and trusts none of its bytes:
// - raw: the block is read whole (at most `maxBlockBytes`) and served only if it hashes to the CID;
// - CAR: streamed through a CarVerifier; the status line goes out once the header and the root block verified (a bad
//   root is a 502), and a failure later errors the body, so the client's connection is cut: it never gets a
//   complete-looking CAR with a wrong or missing block.
// Verified answers are cached (GatewayCache: the Cache API on Workers, an LRU on Node) with the spec's immutable
// Cache-Control and an ETag of the CID and format. Every request costs one rate-limit token and is counted in metrics.

import {
  blockMatchesCid,
  CAR_TYPE,
  type GatewayRefusal,
  type GatewayRequest,
  gatewayHeaders,
  parseGatewayRequest,
  RAW_TYPE,
} from "@rustchain/shared/content/trustlessGateway";
import { describeError } from "@rustchain/shared/errors";
import { concatBytes } from "@rustchain/shared/hex";
import type { EdgeMetrics, GatewayCache, GatewayResult, RateLimiter } from "../app/contract.ts";
import { CarVerifier, type CarVerifierOptions, defaultCarVerifierOptions } from "./carVerifier.ts";
import { GatewayError } from "./errors.ts";

export interface EdgeGatewayOptions extends CarVerifierOptions {
  /** The core's base URL (its JSON-RPC URL: the node serves /ipfs/ on the same port); undefined: every fetch is 502. */
  coreUrl: string | undefined;
  /**
   * Longest wait for the core's status line (and a raw block's bytes). The core may first fetch a block over bitswap
   * (its own limit: 30 s, then 504), so a little more.
   */
  upstreamTimeoutMs: number;
  /**
   * Fetches from the core at once per instance (isolate on Workers); beyond, 429 with Retry-After. Each holds at most
   * one section being verified plus, while it may still be cached, `maxCachedCarBytes`: the product bounds memory.
   */
  maxConcurrent: number;
  /** CARs up to this size are also kept whole in the cache; bigger ones are only streamed. */
  maxCachedCarBytes: number;
}

/** Node: 32 fetches (the core's own gateway limit) of at most ~9 MiB held each, under 300 MiB in the worst case. */
export const defaultEdgeGatewayOptions: Omit<EdgeGatewayOptions, "coreUrl"> = {
  ...defaultCarVerifierOptions,
  upstreamTimeoutMs: 35_000,
  maxConcurrent: 32,
  maxCachedCarBytes: 8 * 1024 * 1024,
};

/** Workers: an isolate has 128 MB for everything, so 16 fetches of at most ~5 MiB held each (about 80 MiB). */
export const workerEdgeGatewayOptions: Omit<EdgeGatewayOptions, "coreUrl"> = {
  ...defaultEdgeGatewayOptions,
  maxConcurrent: 16,
  maxCachedCarBytes: 4 * 1024 * 1024,
};

export interface EdgeGatewayDeps {
  cache: GatewayCache;
  limiter: RateLimiter;
  metrics?: EdgeMetrics;
  log?: (entry: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

export interface EdgeGateway {
  /** Answers a GET or HEAD under /ipfs/ for client `clientKey` (its IP: the rate-limit key). */
  handle(req: Request, clientKey: string): Promise<Response>;
}

/** Statuses of the core passed on as they are (the request was the client's); anything else is the core's fault. */
const CLIENT_STATUSES = new Set([400, 404, 406, 413, 414, 501, 504]);

const text = (status: number, message: string, headers: Record<string, string> = {}): Response =>
  new Response(`${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/** The cache key of an answer: the CID as asked (a CIDv0 CAR names its root as v0) and what was served. */
const cacheKey = (r: GatewayRequest): string => `${r.cid.toString()}.${r.format}${r.rootOnly ? ".block" : ""}`;

export function createEdgeGateway(opts: EdgeGatewayOptions, deps: EdgeGatewayDeps): EdgeGateway {
  const fetchFn: typeof fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  let inFlight = 0;

  const done = (format: "raw" | "car" | "none", source: "cache" | "core" | "edge", result: GatewayResult) =>
    deps.metrics?.gateway(format, source, result);

  const refuse = (format: "raw" | "car" | "none", r: GatewayRefusal, headers?: Record<string, string>): Response => {
    done(format, "edge", "refused");
    return text(r.status, r.message, headers);
  };

  /** The core's answer (status line and headers), within the timeout; the body is the caller's to read. */
  const ask = async (
    request: GatewayRequest,
    method: "GET" | "HEAD",
    signal: AbortSignal,
  ): Promise<Response | GatewayRefusal> => {
    if (!opts.coreUrl) return { status: 502, message: "no core configured" };
    const url = new URL(`/ipfs/${request.cid.toString()}`, opts.coreUrl);
    url.searchParams.set("format", request.format);
    if (request.rootOnly) url.searchParams.set("dag-scope", "block");
    let res: Response;
    try {
      res = await fetchFn(url.toString(), {
        method,
        headers: { accept: request.format === "raw" ? RAW_TYPE : CAR_TYPE },
        signal,
      });
    } catch {
      return signal.aborted
        ? { status: 504, message: "the core did not answer in time" }
        : { status: 502, message: "core unavailable" };
    }
    if (res.status === 200) return res;
    const reason = await coreReason(res);
    if (CLIENT_STATUSES.has(res.status))
      return { status: res.status, message: reason ?? `the core answered ${res.status}` };
    if (res.status === 429) return { status: 503, message: "the core is busy, retry later" };
    return { status: 502, message: `the core answered ${res.status}` };
  };

  /** The core refused or did not answer: its status (mapped by `ask`) with our text, counted. */
  const coreRefusal = (format: "raw" | "car", r: GatewayRefusal): Response => {
    done(format, "core", r.status === 502 || r.status === 504 ? "unavailable" : "refused");
    return text(r.status, r.message, r.status === 503 ? { "retry-after": "1" } : {});
  };

  const serveRaw = async (request: GatewayRequest, head: boolean): Promise<Response> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.upstreamTimeoutMs);
    let block: Uint8Array | undefined;
    try {
      const res = await ask(request, "GET", controller.signal);
      if (!(res instanceof Response)) return coreRefusal("raw", res);
      block = await readBounded(res, opts.maxBlockBytes);
    } catch {
      block = undefined;
    } finally {
      clearTimeout(timer);
    }
    if (block === undefined) {
      done("raw", "core", "rejected");
      return text(502, "the core's block is too large or was cut");
    }
    if (!blockMatchesCid(request.cid, block)) {
      deps.log?.({ msg: "gateway: the core's block does not hash to its CID", cid: request.cid.toString() });
      done("raw", "core", "rejected");
      return text(502, "GATEWAY_HASH_MISMATCH");
    }
    await deps.cache.put(cacheKey(request), block).catch(() => undefined);
    done("raw", "core", "ok");
    return new Response(head ? null : block, { status: 200, headers: gatewayHeaders(request, block.length) });
  };

  const serveCarHead = async (request: GatewayRequest): Promise<Response> => {
    // Nothing to verify in a HEAD: the status is the core's, the headers ours.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.upstreamTimeoutMs);
    try {
      const res = await ask(request, "HEAD", controller.signal);
      if (!(res instanceof Response)) return coreRefusal("car", res);
      done("car", "core", "ok");
      return new Response(null, { status: 200, headers: gatewayHeaders(request) });
    } finally {
      clearTimeout(timer);
    }
  };

  /** Streams the core's CAR through a verifier. `release` runs once, when the stream is over however it ended. */
  const serveCar = async (request: GatewayRequest, release: () => void): Promise<Response> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.upstreamTimeoutMs);
    const res = await ask(request, "GET", controller.signal);
    clearTimeout(timer);
    if (!(res instanceof Response)) {
      release();
      return coreRefusal("car", res);
    }
    const verifier = new CarVerifier(request.cid, request.rootOnly, opts);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // A core that goes quiet mid-CAR is cut off too (the abort errors the pending read), so no slot is held forever.
    const read = async () => {
      const quiet = setTimeout(() => controller.abort(), opts.upstreamTimeoutMs);
      try {
        return await reader.read();
      } finally {
        clearTimeout(quiet);
      }
    };
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    const keep = (parts: Uint8Array[]) => {
      for (const p of parts) {
        if (keptBytes > opts.maxCachedCarBytes) return;
        keptBytes += p.length;
        kept.push(p);
        if (keptBytes > opts.maxCachedCarBytes) kept.length = 0; // too large to cache: stop holding it
      }
    };
    const fail = (e: unknown): GatewayError | undefined => {
      void reader.cancel().catch(() => undefined);
      release();
      const error = e instanceof GatewayError ? e : undefined;
      done("car", "core", error ? "rejected" : "unavailable");
      deps.log?.({ msg: "gateway: the core's CAR was refused", cid: request.cid.toString(), error: describeError(e) });
      return error;
    };
    // The header and the root block before the status line: a bad or missing root is an HTTP error.
    const first: Uint8Array[] = [];
    try {
      while (!verifier.rootVerified) {
        const { done: ended, value } = await read();
        if (ended) {
          verifier.end();
          break;
        }
        first.push(...verifier.push(value));
      }
    } catch (e) {
      const error = fail(e);
      return text(502, error ? error.type.code : "the core's CAR was cut");
    }
    keep(first);
    let finished = false;
    const body = new ReadableStream<Uint8Array>({
      start(out) {
        for (const part of first) out.enqueue(part);
      },
      async pull(out) {
        try {
          // Until something is handed out: a pull that enqueues nothing is not called again.
          for (;;) {
            const { done: ended, value } = await read();
            if (ended) {
              verifier.end();
              finished = true;
              release();
              done("car", "core", "ok");
              if (keptBytes <= opts.maxCachedCarBytes) {
                await deps.cache.put(cacheKey(request), concatBytes(...kept)).catch(() => undefined);
              }
              out.close();
              return;
            }
            const parts = verifier.push(value);
            keep(parts);
            for (const part of parts) out.enqueue(part);
            if (parts.length > 0) return;
          }
        } catch (e) {
          finished = true;
          fail(e);
          // Errors the response body: the host cuts the connection mid-CAR.
          out.error(e);
        }
      },
      cancel() {
        if (finished) return;
        finished = true;
        void reader.cancel().catch(() => undefined);
        release();
        done("car", "core", "refused");
      },
    });
    return new Response(body, { status: 200, headers: gatewayHeaders(request) });
  };

  return {
    async handle(req, clientKey) {
      const url = new URL(req.url);
      const parsed = parseGatewayRequest(`${url.pathname}${url.search}`, req.headers.get("accept"));
      // A failing limiter (its Durable Object unreachable) lets the request through, as for JSON-RPC.
      const decision = await deps.limiter.take(clientKey, 1).catch(() => ({ allowed: true }) as const);
      const format = parsed && "format" in parsed ? parsed.format : "none";
      if (!decision.allowed) {
        deps.metrics?.rateLimited();
        return refuse(
          format,
          { status: 429, message: "rate limit exceeded" },
          { "retry-after": String(decision.retryAfterSeconds) },
        );
      }
      if (parsed === undefined) return refuse(format, { status: 404, message: "not found" });
      if ("status" in parsed) return refuse(format, parsed);
      const head = req.method === "HEAD";
      const cached = await deps.cache.get(cacheKey(parsed)).catch(() => undefined);
      if (cached !== undefined) {
        done(parsed.format, "cache", "ok");
        const headers = gatewayHeaders(parsed, parsed.format === "raw" ? cached.length : undefined);
        return new Response(head ? null : cached, { status: 200, headers });
      }
      if (inFlight >= opts.maxConcurrent) {
        return refuse(format, { status: 429, message: "too many gateway requests in flight" }, { "retry-after": "1" });
      }
      inFlight++;
      let released = false;
      const release = () => {
        if (!released) inFlight--;
        released = true;
      };
      // A streamed CAR releases its slot when the stream ends; everything else when answered.
      const streams = parsed.format === "car" && !head;
      try {
        if (parsed.format === "raw") return await serveRaw(parsed, head);
        if (head) return await serveCarHead(parsed);
        return await serveCar(parsed, release);
      } catch (e) {
        release();
        throw e;
      } finally {
        if (!streams) release();
      }
    },
  };
}

/**
 * The code the core's gateway names in a refusal (its body is `<CODE>\n`, e.g. CONTENT_NOT_FOUND), passed on only when
 * it is one short line of plain characters; anything else is not repeated to the client.
 */
async function coreReason(res: Response): Promise<string | undefined> {
  const body = await readBounded(res, 256).catch(() => undefined);
  const line = body && new TextDecoder().decode(body).trim();
  return line && /^[A-Za-z0-9_ .,:=()/-]{1,200}$/.test(line) ? line : undefined;
}

/** The body, or undefined past `limit` bytes (a lying Content-Length changes nothing: the stream is counted). */
async function readBounded(res: Response, limit: number): Promise<Uint8Array | undefined> {
  if (Number(res.headers.get("content-length") ?? 0) > limit) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(...parts);
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    parts.push(value);
  }
}
