// A stand-in for the validator core, answering the Worker's outbound fetches in the workers test project
// (miniflare's outboundService, running in Node): the replication pull endpoints of the core's admin address at
// http://core.test, serving the bundles a test published with POST http://core.test/__feed, and checking the
// Worker's HMAC signatures as the core does. Every other outbound request, including the core's JSON-RPC, gets a 502:
// the core is unreachable.
import {
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  verifyReplicationRequest,
} from "@rustchain/shared/replication";

export const FAKE_CORE_ORIGIN = "http://core.test";

const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

export function createFakeCore(key: Uint8Array): (request: Request) => Promise<Response> {
  const feed = new Map<number, { seq: number }>();
  return async (request) => {
    const url = new URL(request.url);
    if (url.origin !== FAKE_CORE_ORIGIN) return new Response("unreachable", { status: 502 });
    if (url.pathname === "/__feed" && request.method === "POST") {
      for (const b of (await request.json()) as { seq: number }[]) feed.set(b.seq, b);
      return json(200, { size: feed.size });
    }
    const auth = await verifyReplicationRequest(
      key,
      request.headers.get(REPLICATION_TIMESTAMP_HEADER),
      request.headers.get(REPLICATION_SIGNATURE_HEADER),
      `${url.pathname}${url.search}`,
      Date.now(),
    );
    if (auth !== "ok") return json(401, { error: auth });
    const seqs = [...feed.keys()];
    const seq = seqs.length ? Math.max(...seqs) : 0;
    const oldestSeq = seqs.length ? Math.min(...seqs) : 0;
    if (url.pathname === "/replication/head") return json(200, { seq, oldestSeq, head: null, finality: null });
    if (url.pathname === "/replication/bundles") {
      const from = Number(url.searchParams.get("from"));
      const count = Math.min(256, Number(url.searchParams.get("count")));
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(count) || count < 1)
        return json(400, { error: "bad range" });
      if (seqs.length && from < oldestSeq) return json(410, { oldestSeq });
      const bundles = [];
      for (let s = from; s < from + count && feed.has(s); s++) bundles.push(feed.get(s));
      return json(200, { bundles });
    }
    return json(404, { error: "not found" });
  };
}
