// The replication feed: every canonical-chain change (block, reorg, finality) becomes one bundle with the next seq,
// kept in a bounded in-memory ring; older bundles are rebuilt on demand from the database. Served to pullers over the
// admin HTTP server (GET, HMAC-authenticated) and pushed by ReplicationPusher. Format and semantics:
// shared/src/replication.ts and docs/edge.md.
//
// Pull endpoints (on the admin address; each GET signs its path and query in place of a body, i.e. the signature is
// HMAC(key, `${timestamp}.${pathAndQuery}`), headers x-rustchain-timestamp / x-rustchain-signature; 401 otherwise):
//   GET /replication/head                               {seq, oldestSeq, head: {number, hash}, finality}
//   GET /replication/bundles?from=<seq>&count=<n≤256>   {bundles: [...]} the feed from seq on (fewer at the head);
//                                                       410 when seq is older than the feed's history
//   GET /replication/bundles?fromBlock=<n>&count=<n≤256> canonical block bundles from block n, rebuilt from the
//                                                       database with seq 0 (not feed positions; for gap repair by
//                                                       block number) and the current finality
//
// Restarts: with `logFile`, each bundle's descriptor (the block hash and the finality it carried, or the whole small
// reorg/finality bundle) is appended before the bundle is published, so after a restart seq continues where it
// stopped and every logged bundle can be rebuilt byte for byte.
import { EventEmitter } from "node:events";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type BlockBundle,
  bytesToHex,
  canonicalJson,
  type FinalityBundle,
  hexToBytes,
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  REPLICATION_VERSION,
  type ReorgBundle,
  type ReplicationBundle,
  type ReplicationFinality,
  toQuantity,
  verifyReplicationRequest,
} from "@rustchain/shared";
import type { Logger } from "pino";
import type { Chain, ImportedBlock, ReorgEvent } from "../chain/chain.ts";
import type { AdminHttpRoutes } from "../rpc/adminServer.ts";
import type { StateDb } from "../state/stateDb.ts";
import { buildBlockBundle, type FinalityProvider } from "./bundles.ts";

export interface ReplicationFeedOptions {
  /** Bundles kept in memory (JSON included); older ones are rebuilt from descriptors. */
  ringSize: number;
  /** Descriptors kept in memory for rebuilding older bundles. */
  historySize: number;
  /** How often finality is checked for a change no block carried. */
  finalityPollMs: number;
  maxPullCount: number;
  /** Append-only descriptor log for seq continuity across restarts; undefined keeps the feed in memory only. */
  logFile?: string;
}

export const defaultReplicationFeedOptions: ReplicationFeedOptions = {
  ringSize: 4096,
  historySize: 1 << 18,
  finalityPollMs: 500,
  maxPullCount: 256,
};

/** What is needed to rebuild a bundle exactly: small bundles whole, block bundles by hash and their finality. */
type Descriptor =
  | { seq: number; kind: "block"; hash: string; finality: ReplicationFinality }
  | ReorgBundle
  | FinalityBundle;

export interface FeedEntry {
  seq: number;
  bundle: ReplicationBundle;
  /** The bundle's JSON, as pushed and pulled. */
  json: string;
}

type ChainChange = { kind: "block"; hash: Uint8Array } | { kind: "reorg"; ev: ReorgEvent } | { kind: "finality" };

export class ReplicationFeed extends EventEmitter<{ bundle: [FeedEntry] }> {
  private seq = 0;
  private readonly ring: FeedEntry[] = [];
  private readonly history = new Map<number, Descriptor>();
  private lastFinality = "";
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly onBlock = (b: ImportedBlock) => this.enqueue({ kind: "block", hash: b.hash });
  private readonly onReorg = (ev: ReorgEvent) => this.enqueue({ kind: "reorg", ev });

  constructor(
    private readonly opts: ReplicationFeedOptions,
    private readonly modules: {
      chain: Chain;
      state: StateDb;
      finality: FinalityProvider;
      logger: Logger;
      /** HMAC key of the pull endpoints; without it `handle` answers nothing. */
      key?: Uint8Array;
      now?: () => number;
    },
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** The last seq issued (0 before the first bundle). */
  get headSeq(): number {
    return this.seq;
  }

  /** The oldest seq this feed can still serve. */
  get oldestSeq(): number {
    const oldest = this.history.keys().next().value ?? this.ring[0]?.seq;
    return oldest ?? this.seq + 1;
  }

  /** Restore seq and history from the descriptor log, then follow the chain. */
  async start(): Promise<void> {
    const { logFile } = this.opts;
    /** The head the logged bundles left a receiver at. */
    let feedHead: string | undefined;
    if (logFile && existsSync(logFile)) {
      for (const line of readFileSync(logFile, "utf8").split("\n")) {
        if (!line) continue;
        let d: Descriptor;
        try {
          d = JSON.parse(line);
        } catch {
          continue; // a line cut by a crash: its bundle was never published
        }
        this.remember(d);
        this.seq = d.seq;
        if (d.kind !== "reorg") this.lastFinality = canonicalJson(d.finality);
        if (d.kind === "block") feedHead = d.hash;
        else if (d.kind === "reorg") feedHead = d.to.hash;
      }
      this.modules.logger.info({ seq: this.seq, logFile }, "Replication feed resumed");
    }
    if (feedHead) await this.reconcile(feedHead);
    this.modules.chain.on("block", this.onBlock);
    this.modules.chain.on("reorg", this.onReorg);
    this.timer = setInterval(() => this.enqueue({ kind: "finality" }), this.opts.finalityPollMs);
    this.timer.unref();
  }

  /**
   * Bring a resumed feed level with the chain. A block can be committed after the feed stopped (a stop or a crash
   * while a block was being imported), so the logged bundles may end below the chain's head, or on a block a reorg
   * has since replaced. Queue what a receiver needs to reach the chain's head: a reorg back to the common ancestor if
   * the feed's head left the canonical chain, then every canonical block above it, in order.
   */
  private async reconcile(feedHeadHex: string): Promise<void> {
    const { chain, logger } = this.modules;
    const feedHash = hexToBytes(feedHeadHex as `0x${string}`);
    const feedHeader = await chain.getHeader(feedHash);
    if (!feedHeader) {
      logger.warn({ feedHead: feedHeadHex }, "Replication feed: its last block is not in the database; not reconciled");
      return;
    }
    let ancestor = feedHeader;
    let ancestorHash = feedHash;
    for (;;) {
      const canonical = await chain.canonicalHash(ancestor.number);
      if (canonical && bytesToHex(canonical) === bytesToHex(ancestorHash)) break;
      const parent = await chain.getHeader(ancestor.parentHash);
      if (!parent) {
        logger.warn({ feedHead: feedHeadHex }, "Replication feed: no common ancestor with the chain; not reconciled");
        return;
      }
      ancestorHash = ancestor.parentHash;
      ancestor = parent;
    }
    const depth = Number(feedHeader.number - ancestor.number);
    const missing = Number(chain.head.number - ancestor.number);
    if (depth === 0 && missing <= 0) return;
    if (depth > 0)
      this.enqueue({ kind: "reorg", ev: { oldHead: feedHash, newHead: chain.headHash, depth, orphanedTxs: [] } });
    for (let n = ancestor.number + 1n; n <= chain.head.number; n++) {
      const hash = await chain.canonicalHash(n);
      if (hash) this.enqueue({ kind: "block", hash });
    }
    logger.info({ depth, blocks: missing }, "Replication feed: caught up with blocks committed after it stopped");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.modules.chain.off("block", this.onBlock);
    this.modules.chain.off("reorg", this.onReorg);
    clearInterval(this.timer);
    await this.queue;
  }

  /** Wait until every chain event seen so far has become a bundle. */
  settled(): Promise<void> {
    return this.queue;
  }

  // Events arrive synchronously in chain order; bundles are built one at a time in that order. Everything read is
  // keyed by block hash, so a later head change cannot alter a bundle being built.
  private enqueue(change: ChainChange): void {
    if (this.stopped) return;
    this.queue = this.queue
      .then(() => this.process(change))
      .catch((e) =>
        this.modules.logger.error({ err: (e as Error).message, kind: change.kind }, "Replication bundle failed"),
      );
  }

  private async process(change: ChainChange): Promise<void> {
    const { chain } = this.modules;
    const chainId = toQuantity(chain.chainId);
    const finality = await this.modules.finality();
    if (change.kind === "block") {
      const bundle = await buildBlockBundle(this.modules, change.hash, this.seq + 1, finality);
      if (!bundle) return;
      this.append(bundle, { seq: bundle.seq, kind: "block", hash: bytesToHex(change.hash), finality });
      this.lastFinality = canonicalJson(finality);
    } else if (change.kind === "reorg") {
      const ref = async (hash: Uint8Array) => {
        const h = await chain.getHeader(hash);
        return { number: toQuantity(h?.number ?? 0n), hash: bytesToHex(hash) };
      };
      const bundle: ReorgBundle = {
        version: REPLICATION_VERSION,
        chainId,
        seq: this.seq + 1,
        kind: "reorg",
        from: await ref(change.ev.oldHead),
        to: await ref(change.ev.newHead),
        depth: change.ev.depth,
      };
      this.append(bundle, bundle);
    } else {
      const key = canonicalJson(finality);
      if (key === this.lastFinality || this.seq === 0) return; // the first block bundle will carry it
      const bundle: FinalityBundle = {
        version: REPLICATION_VERSION,
        chainId,
        seq: this.seq + 1,
        kind: "finality",
        finality,
      };
      this.append(bundle, bundle);
      this.lastFinality = key;
    }
  }

  private append(bundle: ReplicationBundle, descriptor: Descriptor): void {
    if (this.opts.logFile) appendFileSync(this.opts.logFile, `${JSON.stringify(descriptor)}\n`);
    this.seq = bundle.seq;
    this.remember(descriptor);
    const entry: FeedEntry = { seq: bundle.seq, bundle, json: JSON.stringify(bundle) };
    this.ring.push(entry);
    if (this.ring.length > this.opts.ringSize) this.ring.shift();
    this.emit("bundle", entry);
  }

  private remember(d: Descriptor): void {
    this.history.set(d.seq, d);
    if (this.history.size > this.opts.historySize) {
      const oldest = this.history.keys().next().value;
      if (oldest !== undefined) this.history.delete(oldest);
    }
  }

  /** The bundle at `seq`: from the ring, else rebuilt from its descriptor; undefined when outside the history. */
  async get(seq: number): Promise<FeedEntry | undefined> {
    const first = this.ring[0];
    if (first && seq >= first.seq && seq <= this.seq) return this.ring[seq - first.seq];
    const d = this.history.get(seq);
    if (!d) return undefined;
    let bundle: ReplicationBundle | undefined;
    if (d.kind === "block") {
      bundle = await buildBlockBundle(this.modules, hexToBytes(d.hash), d.seq, d.finality);
    } else {
      bundle = d;
    }
    return bundle && { seq, bundle, json: JSON.stringify(bundle) };
  }

  /**
   * The number of the first block whose bundle, from seq `from` on, would be rebuilt from the database (is older than
   * the in-memory ring); undefined when there is none. State pruning keeps the flat diffs of blocks from there on.
   */
  async firstRebuiltBlock(from: number): Promise<bigint | undefined> {
    const ringStart = this.ring[0]?.seq ?? this.seq + 1;
    for (let s = Math.max(from, this.oldestSeq); s < ringStart; s++) {
      const d = this.history.get(s);
      if (d?.kind === "block") return (await this.modules.chain.getHeader(hexToBytes(d.hash)))?.number;
    }
    return undefined;
  }

  /** Up to `count` consecutive bundles from `from` (none past the head); undefined when `from` is too old. */
  async range(from: number, count: number): Promise<FeedEntry[] | undefined> {
    if (from < this.oldestSeq && from <= this.seq) return undefined;
    const out: FeedEntry[] = [];
    for (let s = from; s <= this.seq && out.length < count; s++) {
      const e = await this.get(s);
      if (!e) return out.length ? out : undefined;
      out.push(e);
    }
    return out;
  }

  /** Canonical block bundles from block `number` on, rebuilt now with seq 0 and the current finality. */
  async blocksFrom(number: bigint, count: number): Promise<BlockBundle[]> {
    const finality = await this.modules.finality();
    const out: BlockBundle[] = [];
    for (let n = number; out.length < count; n++) {
      const hash = await this.modules.chain.canonicalHash(n);
      if (!hash) break;
      const b = await buildBlockBundle(this.modules, hash, 0, finality);
      if (!b) break;
      out.push(b);
    }
    return out;
  }

  // ---- pull endpoints on the admin server ----

  /** The admin server's extra routes: GET /replication/head and /replication/bundles. */
  routes(): AdminHttpRoutes {
    return { handle: (req, res) => this.handle(req, res) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const pathAndQuery = req.url ?? "";
    const url = new URL(pathAndQuery, "http://admin");
    if (!url.pathname.startsWith("/replication/")) return false;
    const reply = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    };
    const { key } = this.modules;
    if (req.method !== "GET") {
      reply(405, JSON.stringify({ error: "GET only" }));
      return true;
    }
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? undefined : v;
    };
    const auth = key
      ? await verifyReplicationRequest(
          key,
          header(REPLICATION_TIMESTAMP_HEADER),
          header(REPLICATION_SIGNATURE_HEADER),
          pathAndQuery,
          (this.modules.now ?? Date.now)(),
        )
      : "bad_signature";
    if (auth !== "ok") {
      reply(401, JSON.stringify({ error: auth }));
      return true;
    }
    const q = url.searchParams;
    const int = (name: string) => {
      const v = q.get(name);
      return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
    };
    if (url.pathname === "/replication/head") {
      const { chain } = this.modules;
      reply(
        200,
        JSON.stringify({
          seq: this.seq,
          oldestSeq: this.oldestSeq,
          head: { number: toQuantity(chain.head.number), hash: bytesToHex(chain.headHash) },
          finality: await this.modules.finality(),
        }),
      );
      return true;
    }
    if (url.pathname === "/replication/bundles") {
      const count = int("count") ?? this.opts.maxPullCount;
      if (count < 1 || count > this.opts.maxPullCount) {
        reply(400, JSON.stringify({ error: `count must be 1..${this.opts.maxPullCount}` }));
        return true;
      }
      const from = int("from");
      const fromBlock = int("fromBlock");
      if ((from === undefined) === (fromBlock === undefined) || from === 0) {
        reply(400, JSON.stringify({ error: "expected from=<seq ≥ 1> or fromBlock=<number>" }));
        return true;
      }
      if (fromBlock !== undefined) {
        const bundles = await this.blocksFrom(BigInt(fromBlock), count);
        reply(200, `{"bundles":[${bundles.map((b) => JSON.stringify(b)).join(",")}]}`);
        return true;
      }
      const entries = await this.range(from as number, count);
      if (!entries) {
        reply(410, JSON.stringify({ error: "seq is older than the feed's history", oldestSeq: this.oldestSeq }));
        return true;
      }
      reply(200, `{"bundles":[${entries.map((e) => e.json).join(",")}]}`);
      return true;
    }
    reply(404, JSON.stringify({ error: "not found" }));
    return true;
  }
}
