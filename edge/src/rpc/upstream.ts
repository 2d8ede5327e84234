// The validator core's JSON-RPC over fetch (both hosts). A transport failure (refused, timeout, non-JSON answer) is
// UpstreamUnavailableError; a JSON-RPC error from the core is returned as a value, exactly as the core sent it.
import { type JsonRpcErrorObject, type Upstream, UpstreamUnavailableError } from "../app/contract.ts";

export interface HttpUpstreamOptions {
  url: string;
  /** Per call; the pipeline never waits longer than this for the core (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export class HttpUpstream implements Upstream {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private nextId = 1;

  constructor(opts: HttpUpstreamOptions) {
    this.url = opts.url;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.headers = opts.headers ?? {};
  }

  async call(method: string, params: unknown[]): Promise<{ result: unknown } | { error: JsonRpcErrorObject }> {
    const id = this.nextId++;
    if (this.nextId > Number.MAX_SAFE_INTEGER) this.nextId = 1;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let text: string;
    let status: number;
    try {
      const res = await this.fetchFn(this.url, {
        method: "POST",
        headers: { ...this.headers, "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: controller.signal,
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      throw new UpstreamUnavailableError(
        controller.signal.aborted ? `timeout after ${this.timeoutMs} ms` : errorName(e),
      );
    } finally {
      clearTimeout(timer);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new UpstreamUnavailableError(`HTTP ${status} with a non-JSON body`);
    }
    if (body && typeof body === "object" && !Array.isArray(body)) {
      const o = body as Record<string, unknown>;
      const err = o.error as Record<string, unknown> | undefined;
      if (err && typeof err === "object" && typeof err.code === "number" && typeof err.message === "string") {
        const error: JsonRpcErrorObject = { code: err.code, message: err.message };
        if (err.data !== undefined) error.data = err.data;
        return { error };
      }
      if (status === 200 && "result" in o) return { result: o.result };
    }
    throw new UpstreamUnavailableError(`HTTP ${status} without a JSON-RPC answer`);
  }
}

function errorName(e: unknown): string {
  if (e instanceof Error) return e.name === "TypeError" ? "connection failed" : e.name;
  return "connection failed";
}
