// The admin API: JSON-RPC over HTTP on its own address (never the public RPC port), every request authenticated with
// a bearer token that the node writes to `<datadir>/admin-token` (mode 0600) on first start. Methods:
//   admin_nodeInfo                 peer id and listen multiaddrs
//   admin_peers                    connected peer ids
//   admin_peerScores               our score of every connected peer (lower after invalid messages) and bans
//   admin_peerScore [id]           our score of one peer, connected or not (bans outlive connections)
//   admin_setDeniedPeers [ids]     cut these peers off (both directions) until the list changes; [] heals
// With replication on, GET /replication/head and /replication/bundles are served here too, authenticated with the
// replication HMAC instead of the token (validator/src/replication/feed.ts).
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Network } from "../network/network.ts";

const MAX_BODY_BYTES = 64 * 1024;
const MAX_PEERS_IN_LIST = 1024;

class UnknownMethod extends Error {}

export interface AdminServerOptions {
  host: string;
  port: number;
  tokenFile: string;
}

export async function loadOrCreateAdminToken(path: string): Promise<string> {
  if (existsSync(path)) return (await readFile(path, "utf8")).trim();
  const token = randomBytes(32).toString("hex");
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Extra HTTP routes on the admin address with their own authentication (the replication pull endpoints). */
export interface AdminHttpRoutes {
  /** Answer the request and return true, or return false to leave it to the admin JSON-RPC. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

export class AdminServer {
  private server: Server | undefined;
  private token = "";
  url = "";

  constructor(
    private readonly opts: AdminServerOptions,
    private readonly modules: { network: Network | undefined; logger: Logger; routes?: AdminHttpRoutes },
  ) {}

  async listen(): Promise<void> {
    this.token = await loadOrCreateAdminToken(this.opts.tokenFile);
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
    const a = server.address();
    if (a && typeof a !== "string") this.url = `http://${a.address}:${a.port}`;
    this.modules.logger.info({ url: this.url, tokenFile: this.opts.tokenFile }, "Admin API listening");
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private authorized(req: IncomingMessage): boolean {
    const given = Buffer.from(String(req.headers.authorization ?? "").replace(/^Bearer /, ""));
    const want = Buffer.from(this.token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (this.modules.routes && (await this.modules.routes.handle(req, res))) return;
    if (req.method !== "POST") return reply(405, { error: "POST only" });
    if (!this.authorized(req)) return reply(401, { error: "missing or wrong bearer token" });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) return reply(413, { error: "body too large" });
      chunks.push(c as Buffer);
    }
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(200, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    }
    const id = msg.id ?? null;
    try {
      const result = await this.call(String(msg.method), msg.params);
      reply(200, { jsonrpc: "2.0", id, result });
    } catch (e) {
      const code = e instanceof UnknownMethod ? -32601 : -32602;
      reply(200, { jsonrpc: "2.0", id, error: { code, message: (e as Error).message } });
    }
  }

  private async call(method: string, params: unknown): Promise<unknown> {
    const net = this.modules.network;
    switch (method) {
      case "admin_nodeInfo":
        return net ? { peerId: net.peerId.toString(), multiaddrs: net.multiaddrs() } : { peerId: null, multiaddrs: [] };
      case "admin_peers":
        return net ? net.peers().map((p) => p.toString()) : [];
      case "admin_peerScores":
        return net
          ? net.peers().map((p) => ({
              peerId: p.toString(),
              score: net.peerScore(p),
              gossipScore: net.gossipScore(p),
              banned: net.isBanned(p),
            }))
          : [];
      case "admin_peerScore": {
        const id = Array.isArray(params) ? params[0] : undefined;
        if (typeof id !== "string" || id.length > 128) throw new Error("expected [peerId: string]");
        if (!net) throw new Error("networking is off");
        const { peerIdFromString } = await import("@libp2p/peer-id");
        const p = peerIdFromString(id);
        return { peerId: id, score: net.peerScore(p), banned: net.isBanned(p) };
      }
      case "admin_setDeniedPeers": {
        const list = Array.isArray(params) ? params[0] : undefined;
        if (
          !Array.isArray(list) ||
          list.length > MAX_PEERS_IN_LIST ||
          !list.every((x) => typeof x === "string" && x.length < 128)
        ) {
          throw new Error("expected [peerIds: string[]]");
        }
        if (!net) throw new Error("networking is off");
        await net.setDeniedPeers(list as string[]);
        this.modules.logger.warn({ denied: list.length }, "Admin: deny list replaced");
        return true;
      }
      default:
        throw new UnknownMethod(`unknown method ${method.slice(0, 64)}`);
    }
  }
}
