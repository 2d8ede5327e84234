// Gap repair: the edge pulls the bundles it misses from the core's admin address (docs/edge.md, "Gap repair (pull)")
// and applies them in seq order, publishing their subscription events as ingest does. Fetch API only, so it runs in a
// Durable Object (alarm / waitUntil) and on Node alike. Every call is bounded: at most `maxBundlesPerCall` bundles,
// at most 256 per request, a timeout and a size cap per response.
import { RustChainError } from "@rustchain/shared/errors";
import { replicationAuthHeaders } from "@rustchain/shared/replication";
import type { SubscriptionEvent } from "../app/contract.ts";
import { readBodyBounded } from "../util/body.ts";
import { applyWithEvents } from "./events.ts";
import type { Replica } from "./replica.ts";
import type { ReplicaStore } from "./store.ts";

/** The core's per-request bound (validator/src/replication/feed.ts `maxPullCount`). */
export const MAX_PULL_COUNT = 256;

export interface ReplicaPullerDeps {
  replica: Replica;
  store: ReplicaStore;
  /** The core's admin base URL (`--admin-addr`), e.g. `http://127.0.0.1:8551`. */
  coreUrl: string;
  /** The replication HMAC key shared with the core. */
  key: Uint8Array;
  /** Told each applied bundle's events, in seq order, after the bundle committed. */
  publish?: (events: SubscriptionEvent[]) => Promise<void>;
  fetch?: typeof fetch;
  /** Clock for the request signatures (ms since the epoch). */
  now?: () => number;
  /** Most bundles applied by one catchUp() (default 1024); the next call continues. */
  maxBundlesPerCall?: number;
  /** Per-request timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** Largest response body read, in bytes (default 256 MiB). */
  maxResponseBytes?: number;
  /** Told about a failed `publish` (the bundle stays applied; pulling continues). */
  onError?: (err: unknown) => void;
}

export type ReplicaPullErrorType =
  /** The core refused our signature (wrong key, or clocks more than 60 s apart). */
  | { code: "PULL_UNAUTHORIZED"; status: number; reason: string }
  /** The core answered a 5xx or another unexpected status. */
  | { code: "PULL_CORE_ERROR"; status: number; path: string }
  /** No answer: connection refused, reset, or the timeout passed. */
  | { code: "PULL_UNREACHABLE"; path: string; reason: string }
  /** The answer is not what the feed protocol says (not JSON, too large, a bundle out of order...). */
  | { code: "PULL_BAD_RESPONSE"; path: string; reason: string }
  /** The bundles we miss are older than the core's history (410): the replica must be rebuilt. */
  | { code: "PULL_HISTORY_GONE"; from: number; oldestSeq: number | null };

export class ReplicaPullError extends RustChainError<ReplicaPullErrorType> {}

export interface CatchUpResult {
  /** Bundles applied by this call. */
  applied: number;
  /** The core's feed seq when the call started. */
  coreSeq: number;
  /** The replica's seq when the call ended. */
  lastSeq: number;
}

export class ReplicaPuller {
  private running: Promise<CatchUpResult> | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly maxPerCall: number;

  constructor(private readonly deps: ReplicaPullerDeps) {
    this.fetchFn = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.maxPerCall = Math.max(1, Math.floor(deps.maxBundlesPerCall ?? 1024));
  }

  /**
   * Pull and apply bundles until the replica reaches the core's seq (as of the call's start) or the per-call bound.
   * Concurrent calls share one run. Throws ReplicaPullError for transport and protocol failures and what the replica
   * throws for a bundle it refuses; bundles applied before the failure stay applied.
   */
  catchUp(): Promise<CatchUpResult> {
    if (!this.running) {
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async run(): Promise<CatchUpResult> {
    const { replica, store } = this.deps;
    const head = (await this.get("/replication/head")) as { seq?: unknown };
    if (typeof head?.seq !== "number" || !Number.isSafeInteger(head.seq) || head.seq < 0) {
      throw new ReplicaPullError({ code: "PULL_BAD_RESPONSE", path: "/replication/head", reason: "no seq" });
    }
    const coreSeq = head.seq;
    let lastSeq = (await replica.meta()).lastSeq;
    let applied = 0;
    // Every round either applies a bundle or ends the call, so the loop is bounded by maxPerCall rounds.
    while (lastSeq < coreSeq && applied < this.maxPerCall) {
      const from = lastSeq + 1;
      const count = Math.min(MAX_PULL_COUNT, this.maxPerCall - applied, coreSeq - lastSeq);
      const path = `/replication/bundles?from=${from}&count=${count}`;
      const body = (await this.get(path, from)) as { bundles?: unknown };
      if (!body || !Array.isArray(body.bundles) || body.bundles.length > count) {
        throw new ReplicaPullError({ code: "PULL_BAD_RESPONSE", path, reason: "expected { bundles: [...] }" });
      }
      if (body.bundles.length === 0) break;
      let progressed = false;
      for (const bundle of body.bundles as unknown[]) {
        const seq = (bundle as { seq?: unknown } | null)?.seq;
        // Only the very next seq is ever handed to the replica (which would refuse anything else anyway).
        if (seq !== lastSeq + 1) {
          throw new ReplicaPullError({
            code: "PULL_BAD_RESPONSE",
            path,
            reason: `bundle seq ${String(seq)} where ${lastSeq + 1} was expected`,
          });
        }
        const { result, events } = await applyWithEvents(replica, store, bundle);
        if (result.status === "applied") {
          applied++;
          progressed = true;
          lastSeq = result.ackSeq;
          if (events.length && this.deps.publish) {
            try {
              await this.deps.publish(events);
            } catch (err) {
              this.deps.onError?.(err);
            }
          }
          continue;
        }
        // Someone else (the pusher through ingest) got there first: continue from where the replica is now.
        const now = (await replica.meta()).lastSeq;
        progressed ||= now > lastSeq;
        lastSeq = now;
        break;
      }
      if (!progressed) break;
    }
    return { applied, coreSeq, lastSeq };
  }

  /** A signed GET to the core's admin address; its JSON body. */
  private async get(pathAndQuery: string, from?: number): Promise<unknown> {
    const url = `${this.deps.coreUrl.replace(/\/+$/, "")}${pathAndQuery}`;
    const signed = new URL(url);
    const headers = await replicationAuthHeaders(
      this.deps.key,
      `${signed.pathname}${signed.search}`,
      (this.deps.now ?? Date.now)(),
    );
    const path = signed.pathname;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method: "GET",
        headers,
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new ReplicaPullError({
        code: "PULL_UNREACHABLE",
        path,
        reason: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : "fetch failed",
      });
    }
    const text = await readBodyBounded(res, this.deps.maxResponseBytes ?? 256 * 1024 * 1024).catch((err: unknown) => {
      throw new ReplicaPullError({
        code: "PULL_UNREACHABLE",
        path,
        reason: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : "read failed",
      });
    });
    if (res.status === 401) {
      throw new ReplicaPullError(
        { code: "PULL_UNAUTHORIZED", status: 401, reason: errorField(text) ?? "unauthorized" },
        `the core refused the replication signature (${errorField(text) ?? "401"}): check the key and the clock`,
      );
    }
    if (res.status === 410 && from !== undefined) {
      const oldest = parseJson(text) as { oldestSeq?: unknown } | undefined;
      throw new ReplicaPullError({
        code: "PULL_HISTORY_GONE",
        from,
        oldestSeq: typeof oldest?.oldestSeq === "number" ? oldest.oldestSeq : null,
      });
    }
    if (res.status !== 200) {
      throw new ReplicaPullError(
        { code: "PULL_CORE_ERROR", status: res.status, path },
        `the core answered ${res.status} to ${path}`,
      );
    }
    if (text === undefined) {
      throw new ReplicaPullError({ code: "PULL_BAD_RESPONSE", path, reason: "response too large" });
    }
    const value = parseJson(text);
    if (value === undefined) throw new ReplicaPullError({ code: "PULL_BAD_RESPONSE", path, reason: "not JSON" });
    return value;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorField(text: string | undefined): string | undefined {
  const v = parseJson(text) as { error?: unknown } | undefined;
  return typeof v?.error === "string" ? v.error.slice(0, 64) : undefined;
}
