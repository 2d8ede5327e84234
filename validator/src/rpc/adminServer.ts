// The admin API: JSON-RPC over HTTP on its own address (never the public RPC port), every request authenticated with
// a bearer token that the node writes to `<datadir>/admin-token` (mode 0600) on first start. Methods:
//   admin_nodeInfo                 peer id and listen multiaddrs
//   admin_peers                    connected peer ids
//   admin_peerScores               our score of every connected peer (lower after invalid messages) and bans
//   admin_peerScore [id]           our score of one peer, connected or not (bans outlive connections)
//   admin_setDeniedPeers [ids]     cut these peers off (both directions) until the list changes; [] heals
//   admin_contentPin [cid]         fetch a DAG (bitswap) and pin it; admin_contentUnpin [cid]; admin_contentPins
// With the content store on, POST /content/add (same token, raw bytes as the body) adds a file (docs/content.md).
// With replication on, GET /replication/head and /replication/bundles are served here too, authenticated with the
// replication HMAC instead of the token (validator/src/replication/feed.ts).
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { methodSpec, rpcErrors, rpcParams } from "@rustchain/shared";
import { errorReply, handleJsonRpc, type JsonRpcServer, type RpcReply } from "@rustchain/shared/rpc/envelope";
import type { Logger } from "pino";
import type { ContentStore } from "../content/contentStore.ts";
import { ContentError, contentRpcError } from "../content/errors.ts";
import type { Network } from "../network/network.ts";

const MAX_BODY_BYTES = 64 * 1024;
const MAX_PEERS_IN_LIST = 1024;

/** The admin API's methods and their parameters, checked by the shared envelope like the public table. */
const adminMethods = {
  admin_nodeInfo: methodSpec(0),
  admin_peers: methodSpec(0),
  admin_peerScores: methodSpec(0),
  admin_peerScore: methodSpec(1, rpcParams.string),
  admin_setDeniedPeers: methodSpec(1, rpcParams.stringList(MAX_PEERS_IN_LIST)),
  admin_contentPin: methodSpec(1, rpcParams.string),
  admin_contentUnpin: methodSpec(1, rpcParams.string),
  admin_contentPins: methodSpec(0),
} as const;

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
    private readonly modules: {
      network: Network | undefined;
      logger: Logger;
      routes?: AdminHttpRoutes;
      content?: ContentStore;
    },
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
    const send = (reply: RpcReply) => {
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "");
    };
    if (this.modules.routes && (await this.modules.routes.handle(req, res))) return;
    if (req.method !== "POST") return send(errorReply(405, rpcErrors.onlyPost().toJSON()));
    if (!this.authorized(req)) return send(errorReply(401, rpcErrors.unauthorized().toJSON()));
    if (req.url === "/content/add") return send(await this.contentAdd(req));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) return send(errorReply(413, rpcErrors.bodyTooLarge(MAX_BODY_BYTES).toJSON()));
      chunks.push(c as Buffer);
    }
    send(await handleJsonRpc(this.jsonRpc, Buffer.concat(chunks).toString("utf8"), undefined));
  }

  /** The body, streamed into the store (bounded by its maxAddBytes); the answer is `{ cid, size }` or an error object. */
  private async contentAdd(req: IncomingMessage): Promise<RpcReply> {
    const json = (status: number, body: unknown): RpcReply => ({
      status,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const content = this.modules.content;
    if (!content) return json(404, { error: rpcErrors.notEnabled("content").toJSON() });
    try {
      return json(200, await content.addStream(req));
    } catch (e) {
      if (!(e instanceof ContentError)) throw e;
      return json(e.type.code === "CONTENT_TOO_LARGE" ? 413 : 400, { error: contentRpcError(e).toJSON() });
    }
  }

  private readonly jsonRpc: JsonRpcServer<undefined> = {
    maxBodyBytes: MAX_BODY_BYTES,
    maxBatch: 16,
    methods: adminMethods,
    dispatch: async ({ method, params }) => ({ result: await this.call(method, params) }),
    observe: ({ method }, answer, _ms, _ctx, thrown) => {
      if ("error" in answer && thrown) this.modules.logger.warn({ err: thrown, method }, "Admin call failed");
    },
  };

  private async call(method: string, params: unknown[]): Promise<unknown> {
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
        const id = params[0] as string;
        if (!net) throw networkingOff();
        const { peerIdFromString } = await import("@libp2p/peer-id");
        let p: ReturnType<typeof peerIdFromString>;
        try {
          p = peerIdFromString(id);
        } catch {
          throw rpcErrors.invalidParams("invalid argument 0: peer id expected");
        }
        return { peerId: id, score: net.peerScore(p), banned: net.isBanned(p) };
      }
      case "admin_setDeniedPeers": {
        const list = params[0] as string[];
        if (!net) throw networkingOff();
        await net.setDeniedPeers(list);
        this.modules.logger.warn({ denied: list.length }, "Admin: deny list replaced");
        return true;
      }
      case "admin_contentPin":
      case "admin_contentUnpin":
      case "admin_contentPins": {
        const content = this.modules.content;
        if (!content) throw rpcErrors.notEnabled("content");
        try {
          if (method === "admin_contentPins") return await content.pins();
          if (method === "admin_contentUnpin") return await content.unpin(params[0] as string);
          return await content.pin(params[0] as string);
        } catch (e) {
          throw e instanceof ContentError ? contentRpcError(e) : e;
        }
      }
      default:
        throw rpcErrors.methodNotFound(method);
    }
  }
}

const networkingOff = () => rpcErrors.notEnabled("networking");
