// The relayer's HTTP status API and page (docs/bridge.md, "Status"):
//   GET /api/transfers/<digest>         one transfer, 404 if unknown
//   GET /api/transfers?q=<tx|address>   transfers by source tx hash, sender or recipient (newest first, ≤ 200)
//   GET /api/wormhole/<chain>/<emitter>/<sequence>
//                                       a Wormhole message: {message, transfer} (waiting_signatures / queued with
//                                       the governor's release time / skipped / relayed with its transfer), 404 unknown
//   POST /api/wormhole/<chain>/<emitter>/<sequence>
//                                       ask the relayer to pick a message up (a watched emitter only): 202, then the
//                                       GET shows it; 400 for another emitter, 429 when too many requests wait
//   GET /health                         200 when Redis answers
//   GET /metrics                        Prometheus
//   GET /                               the status page (search box, each transfer's steps and ETA)
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { messageId, parseMessageId } from "./guardianApi.ts";
import type { RelayerMetrics } from "./metrics.ts";
import { STATUS_PAGE } from "./statusPage.ts";
import type { TransferRecord, TransferStore, WormholeMessage } from "./transferStore.ts";
import type { WormholeWatcher } from "./wormholeWatcher.ts";

const QUERY = /^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

/** What the API shows of a record: everything but the VAA's bytes, plus when the next step is expected. */
function view(t: TransferRecord) {
  const { vaa, ...rest } = t;
  return { ...rest, hasVaa: Boolean(vaa), etaSeconds: etaSeconds(t.eta) };
}

const etaSeconds = (eta: number) => (eta > 0 ? Math.max(0, Math.round((eta - Date.now()) / 1000)) : null);
const messageView = (w: WormholeMessage) => ({ ...w, etaSeconds: etaSeconds(w.eta) });

export function createStatusApp(m: { store: TransferStore; metrics: RelayerMetrics; wormhole?: WormholeWatcher }) {
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
  const wormholeQuery = (c: { req: { param(name: string): string } }) =>
    parseMessageId(`${c.req.param("chain")}/${c.req.param("emitter")}/${c.req.param("sequence")}`);
  const WORMHOLE_PATH = "/api/wormhole/:chain/:emitter/:sequence";
  app.get(WORMHOLE_PATH, async (c) => {
    const q = wormholeQuery(c);
    if (!q) return c.json({ error: "expected /api/wormhole/<chain>/<64 hex digit emitter>/<sequence>" }, 400);
    const message = await m.store.wormholeMessage(messageId(q));
    const transfer = message?.digest ? await m.store.get(message.digest) : undefined;
    if (!message)
      return c.json({ error: "unknown Wormhole message: POST to this URL to ask the relayer to pick it up" }, 404);
    return c.json({ message: messageView(message), transfer: transfer ? view(transfer) : null });
  });
  app.post(WORMHOLE_PATH, async (c) => {
    const q = wormholeQuery(c);
    if (!q) return c.json({ error: "expected /api/wormhole/<chain>/<64 hex digit emitter>/<sequence>" }, 400);
    if (!m.wormhole?.emitterOf(q))
      return c.json({ error: "this relayer does not watch that emitter (deployment.wormhole.emitters)" }, 400);
    if (!(await m.store.requestWormholeMessage(messageId(q))))
      return c.json({ error: "too many pick-up requests waiting; try again later" }, 429);
    return c.json({ requested: messageId(q) }, 202);
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
