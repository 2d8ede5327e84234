// The edge's ingest endpoint: the receiving end of the core's replication pusher (validator/src/replication/pusher.ts,
// docs/edge.md "Ingest"). Framework-free and Fetch-API based, so the same handler runs in a Worker / Durable Object and
// behind node:http. It answers what the pusher steers by:
// - 200 `{ ackSeq }`: applied, duplicate, stale or backfilled; the pusher continues from ackSeq + 1;
// - 409 `{ ackSeq, missing }`: a gap; the pusher resumes from ackSeq + 1;
// - 422 `{ ackSeq, error }`: a bundle the replica refuses (conflict); nothing was written, the pusher retries it;
// - 400 `{ ackSeq, error, reason }`: malformed bundle; 401 / 413 / 405: refused before anything was read or trusted;
// - 500 / 503: a fault of ours (no details leave the process); the pusher retries.
// An applied bundle's subscription events go to `publish` after its batch committed and before the 200 (a block is
// readable before its newHeads is sent); a gap is also told to `onGap`, so the host can pull the missing range.
import {
  MAX_REPLICATION_BUNDLE_BYTES,
  parseReplicationBundle,
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  ReplicationError,
  verifyReplicationRequest,
} from "@rustchain/shared/replication";
import type { SubscriptionEvent } from "../app/contract.ts";
import { applyWithEvents } from "../replica/events.ts";
import { type Replica, ReplicaError } from "../replica/replica.ts";
import type { ReplicaStore } from "../replica/store.ts";
import { readBodyBounded } from "../util/body.ts";

export interface IngestDeps {
  replica: Replica;
  /** The replica's store (read for the logs a reorg removes). */
  store: ReplicaStore;
  /**
   * Told the subscription events of an applied bundle, after its batch committed (a block is readable before its
   * newHeads is sent) and before the 200 is answered. A failure here does not undo or fail the bundle: it is reported
   * to `onError` and the answer stays 200.
   */
  publish?: (events: SubscriptionEvent[]) => Promise<void>;
  /** Told about a gap (409): the seqs the replica misses. Hosts start the puller here; must not throw. */
  onGap?: (missing: { from: number; to: number }) => void;
  /** The HMAC key shared with the core (`--replication-key`). */
  key: Uint8Array;
  /** Clock in ms since the epoch (tests pin it to check the timestamp window). */
  now?: () => number;
  /** Largest body accepted, in bytes (default: the bundle parser's limit, 32 MiB). */
  maxBodyBytes?: number;
  /** Told about unexpected faults (answered 500); the response itself never carries details. */
  onError?: (err: unknown) => void;
}

/** Codes of the `error` field of ingest answers (replica refusals carry the ReplicaError code instead). */
export type IngestErrorCode =
  | "INGEST_METHOD_NOT_ALLOWED"
  | "INGEST_BODY_TOO_LARGE"
  | "INGEST_UNAUTHORIZED"
  | "INGEST_INTERNAL"
  | "REPLICATION_MALFORMED";

const json = (status: number, value: unknown, headers?: Record<string, string>): Response =>
  new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });

/** Handle one POSTed bundle. Never throws: every outcome is a Response. */
export async function handleIngest(request: Request, deps: IngestDeps): Promise<Response> {
  try {
    return await ingest(request, deps);
  } catch (err) {
    deps.onError?.(err);
    return json(500, { error: "INGEST_INTERNAL" satisfies IngestErrorCode });
  }
}

async function ingest(request: Request, deps: IngestDeps): Promise<Response> {
  const { replica, key } = deps;
  if (request.method !== "POST") {
    return json(405, { error: "INGEST_METHOD_NOT_ALLOWED" satisfies IngestErrorCode }, { allow: "POST" });
  }
  const limit = deps.maxBodyBytes ?? MAX_REPLICATION_BUNDLE_BYTES;
  const body = await readBodyBounded(request, limit);
  if (body === undefined) return json(413, { error: "INGEST_BODY_TOO_LARGE" satisfies IngestErrorCode, limit });

  // Authenticate before parsing: an unauthenticated sender learns nothing about the replica (no ackSeq).
  const auth = await verifyReplicationRequest(
    key,
    request.headers.get(REPLICATION_TIMESTAMP_HEADER),
    request.headers.get(REPLICATION_SIGNATURE_HEADER),
    body,
    (deps.now ?? Date.now)(),
  );
  if (auth !== "ok") return json(401, { error: "INGEST_UNAUTHORIZED" satisfies IngestErrorCode, reason: auth });

  let bundle: unknown;
  try {
    bundle = parseReplicationBundle(body);
  } catch (err) {
    if (!(err instanceof ReplicationError)) throw err;
    if (err.type.code === "REPLICATION_TOO_LARGE") {
      return json(413, { error: "INGEST_BODY_TOO_LARGE" satisfies IngestErrorCode, limit: err.type.limit });
    }
    const ackSeq = (await replica.meta()).lastSeq;
    return json(400, { ackSeq, error: err.type.code, reason: err.type.reason });
  }

  try {
    const { result, events } = await applyWithEvents(replica, deps.store, bundle);
    if (result.status === "gap") {
      try {
        deps.onGap?.(result.missing);
      } catch (err) {
        deps.onError?.(err);
      }
      return json(409, { ackSeq: result.ackSeq, missing: result.missing });
    }
    if (events.length && deps.publish) {
      try {
        await deps.publish(events);
      } catch (err) {
        deps.onError?.(err);
      }
    }
    return json(200, { ackSeq: result.ackSeq });
  } catch (err) {
    if (!(err instanceof ReplicaError)) throw err;
    const ackSeq = (await replica.meta()).lastSeq;
    // Another writer kept winning the store guard: transient, so a 5xx the pusher simply retries.
    if (err.type.code === "REPLICA_STORE_CONFLICT") return json(503, { ackSeq, error: err.type.code });
    return json(422, { ackSeq, error: err.type.code });
  }
}

/** The replica's position for operators: feed seq, held range, head, served head and finality. */
export async function handleReplicaHead(replica: Replica): Promise<Response> {
  const m = await replica.meta();
  return json(200, {
    chainId: m.chainId,
    seq: m.lastSeq,
    base: m.base,
    head: m.head,
    servedHead: m.servedHead,
    safe: m.safe,
    finalized: m.finalized,
  });
}
