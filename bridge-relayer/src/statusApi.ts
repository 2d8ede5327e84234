// The relayer's HTTP status API and page (docs/bridge.md, "Status"):
//   GET /api/transfers/<digest>         one transfer, 404 if unknown
//   GET /api/transfers?q=<tx|address>   transfers by source tx hash, sender or recipient (newest first, ≤ 200)
//   GET /health                         200 when Redis answers
//   GET /metrics                        Prometheus
//   GET /                               the status page (search box, each transfer's steps and ETA)
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { RelayerMetrics } from "./metrics.ts";
import { STATUS_PAGE } from "./statusPage.ts";
import type { TransferRecord, TransferStore } from "./transferStore.ts";

const QUERY = /^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

/** What the API shows of a record: everything but the VAA's bytes, plus when the next step is expected. */
function view(t: TransferRecord) {
  const { vaa, ...rest } = t;
  return {
    ...rest,
    hasVaa: Boolean(vaa),
    etaSeconds: t.eta > 0 ? Math.max(0, Math.round((t.eta - Date.now()) / 1000)) : null,
  };
}

export function createStatusApp(m: { store: TransferStore; metrics: RelayerMetrics }) {
  const app = new Hono();
  app.get("/api/transfers/:digest", async (c) => {
    const digest = c.req.param("digest");
    if (!/^0x[0-9a-fA-F]{64}$/.test(digest)) return c.json({ error: "expected a 32-byte 0x digest" }, 400);
    const t = await m.store.get(digest);
    return t ? c.json(view(t)) : c.json({ error: "unknown transfer" }, 404);
  });
  app.get("/api/transfers", async (c) => {
    const q = c.req.query("q") ?? "";
    if (!QUERY.test(q)) return c.json({ error: "q: a 0x transaction hash, digest or address" }, 400);
    return c.json({ transfers: (await m.store.search(q)).map(view) });
  });
  app.get("/health", async (c) => {
    try {
      await m.store.queueDepth();
      return c.json({ ok: true });
    } catch (e) {
      return c.json({ ok: false, error: (e as Error).message }, 503);
    }
  });
  app.get("/metrics", async (c) =>
    c.text(await m.metrics.registry.metrics(), 200, { "content-type": m.metrics.registry.contentType }),
  );
  app.get("/", (c) => c.html(STATUS_PAGE));
  app.onError((e, c) => c.json({ error: e.message }, 500));
  return app;
}

export async function listenStatus(
  app: Hono,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) =>
      resolve({
        url: `http://${host}:${info.port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
  });
}
