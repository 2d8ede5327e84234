// The bearer token of the node's gRPC replication stream (docs/grpc.md, proto/rustchain/v1/replication.proto): the
// feed's request authentication (replication.ts: HMAC-SHA256 under the replication key over `${timestamp}.${body}`,
// 60 s window) with the gRPC method path as the body, carried in one `authorization` metadata value as
// `Bearer <timestamp>.<hex signature>`. Signed by the edge, checked by the node.
import { signReplicationRequest, verifyReplicationRequest } from "./replication.ts";

/** The one method the token authorizes. */
export const REPLICATION_STREAM_METHOD = "/rustchain.v1.ReplicationService/StreamReplicationBundles";

/** `Bearer <timestamp>.<signature>` for a call made at `nowMs`. */
export async function replicationBearerToken(key: Uint8Array, nowMs = Date.now()): Promise<string> {
  return `Bearer ${nowMs}.${await signReplicationRequest(key, nowMs, REPLICATION_STREAM_METHOD)}`;
}

/** Check an `authorization` value: "ok", or why not (as verifyReplicationRequest says; "malformed" for the form). */
export function verifyReplicationBearerToken(
  key: Uint8Array,
  authorization: string | undefined,
  nowMs: number,
): Promise<"ok" | "bad_signature" | "stale" | "malformed"> {
  const m = /^Bearer (\d{1,16})\.([0-9a-fA-F]{64})$/.exec(authorization ?? "");
  if (!m) return Promise.resolve("malformed");
  return verifyReplicationRequest(key, m[1], m[2], REPLICATION_STREAM_METHOD, nowMs);
}
