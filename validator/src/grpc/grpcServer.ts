// The node's gRPC server (docs/grpc.md) on --grpc-addr: rustchain.v1.NodeService and ReplicationService
// (proto/rustchain/v1), the standard grpc.health.v1 health service, SERVING exactly when /health answers ready, and
// server reflection (v1 and v1alpha), so generic clients (grpcurl, grpcui, Postman) work with nothing but the address.
// Handlers call the node's own APIs (the JSON-RPC handlers, the block loader, the replication feed); this file only
// adapts them. Bounds: the receive size, the transaction batch, and each stream's queue (resumableStream.ts).
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { type BlockHeader, type BlockId, bytesToHex, domainCodeOf, toRpcError } from "@rustchain/shared";
import { verifyReplicationBearerToken } from "@rustchain/shared/replicationToken";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Logger } from "pino";
import type { Chain, ImportedBlock } from "../chain/chain.ts";
import type { FeedEntry, ReplicationFeed } from "../replication/feed.ts";
import { formatLoadedReceipts, loadBlock } from "../rpc/blockFormat.ts";
import type { EthApi } from "../rpc/ethApi.ts";
import { GrpcApiError, toServiceError } from "./errors.ts";
import {
  type BlockIdMessage,
  blockIdOf,
  blockMessage,
  certificateMessage,
  fixedBytes,
  headerMessage,
  proofMessage,
  receiptMessage,
  uint64,
} from "./messages.ts";
import { loadRustChainDefinitions } from "./protos.ts";
import { serveResumable } from "./resumableStream.ts";

export interface GrpcServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request message accepted (RESOURCE_EXHAUSTED above). */
  maxReceiveBytes: number;
  /** Largest response message (a replication bundle is at most 32 MiB). */
  maxSendBytes: number;
  /** Most transactions in one SubmitTransactions call (INVALID_ARGUMENT above). */
  maxBatchTransactions: number;
  /** Largest single transaction, as eth_sendRawTransaction allows. */
  maxTransactionBytes: number;
  /** Messages a stream may fall behind before it is ended RESOURCE_EXHAUSTED. */
  maxStreamQueue: number;
  /** How often the health service re-reads readiness. */
  healthPollMs: number;
}

export const defaultGrpcServerOptions: GrpcServerOptions = {
  host: "127.0.0.1",
  port: 9090,
  maxReceiveBytes: 8 * 1024 * 1024,
  maxSendBytes: 40 * 1024 * 1024,
  maxBatchTransactions: 1024,
  maxTransactionBytes: 128 * 1024,
  maxStreamQueue: 4096,
  healthPollMs: 250,
};

/** What the node's health says (node/nodeHealth.ts), the one source of /health and of the gRPC health status. */
export interface Readiness {
  report(): { ready: boolean };
  status(): { peers: number | undefined; currentSlot: number; headSlot: number; syncing: boolean };
}

export interface GrpcServerModules {
  chain: Chain;
  api: Pick<EthApi, "handlers" | "sendRawTransactions" | "tagNumber">;
  readiness: Readiness;
  /** The replication feed and its key; without them StreamReplicationBundles answers FAILED_PRECONDITION. */
  replication?: { feed: ReplicationFeed; key: Uint8Array };
  logger: Logger;
  now?: () => number;
}

/** The services whose health the health service reports ("" is the whole server). */
const HEALTH_SERVICES = ["", "rustchain.v1.NodeService", "rustchain.v1.ReplicationService"];

type Unary<Req> = (req: Req) => Promise<unknown>;

/** One new canonical block, as StreamHeads sends it. */
interface Head {
  hash: Uint8Array;
  header: BlockHeader;
}

export class GrpcServer {
  private readonly server: Server;
  private readonly health: HealthImplementation;
  private readonly stopStreams = new AbortController();
  private healthTimer: NodeJS.Timeout | undefined;
  private serving: ServingStatus | undefined;
  private boundPort = 0;

  constructor(
    private readonly opts: GrpcServerOptions,
    private readonly modules: GrpcServerModules,
  ) {
    const defs = loadRustChainDefinitions();
    this.server = new Server({
      "grpc.max_receive_message_length": opts.maxReceiveBytes,
      "grpc.max_send_message_length": opts.maxSendBytes,
    });
    this.server.addService(defs.nodeService, this.nodeService());
    this.server.addService(defs.replicationService, {
      streamReplicationBundles: (call: ServerWritableStream<{ fromSeq: string }, unknown>) =>
        void this.streamBundles(call),
    });
    this.health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "NOT_SERVING"])));
    this.health.addToServer(this.server);
    new ReflectionService(defs.all).addToServer(this.server);
  }

  /** host:port the server listens on. */
  get address(): string {
    const h = this.opts.host;
    return `${h.includes(":") ? `[${h}]` : h}:${this.boundPort}`;
  }

  async listen(): Promise<void> {
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${this.opts.host.includes(":") ? `[${this.opts.host}]` : this.opts.host}:${this.opts.port}`,
        ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    this.updateHealth();
    this.healthTimer = setInterval(() => this.updateHealth(), this.opts.healthPollMs);
    this.healthTimer.unref();
  }

  /** Health NOT_SERVING, streams ended, calls in flight given a moment, then the server closed. */
  async close(): Promise<void> {
    clearInterval(this.healthTimer);
    for (const s of HEALTH_SERVICES) this.health.setStatus(s, "NOT_SERVING");
    this.stopStreams.abort();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private updateHealth(): void {
    const status: ServingStatus = this.modules.readiness.report().ready ? "SERVING" : "NOT_SERVING";
    if (status === this.serving) return;
    this.serving = status;
    for (const s of HEALTH_SERVICES) this.health.setStatus(s, status);
    this.modules.logger.debug({ status }, "gRPC health");
  }

  // ---- NodeService ----

  private nodeService(): UntypedServiceImplementation {
    const unary =
      <Req>(f: Unary<Req>) =>
      (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => {
        f(call.request).then(
          (res) => callback(null, res),
          (err) => callback(toServiceError(err)),
        );
      };
    return {
      getStatus: unary(() => this.status()),
      getBlock: unary((r: { block: BlockIdMessage | null; fullTransactions: boolean }) =>
        this.block(r.block, r.fullTransactions),
      ),
      getReceipt: unary((r: { transactionHash: Uint8Array }) => this.receipt(r.transactionHash)),
      getBlockReceipts: unary((r: { block: BlockIdMessage | null }) => this.blockReceipts(r.block)),
      getProof: unary((r: { address: Uint8Array; storageKeys: Uint8Array[]; block: BlockIdMessage | null }) =>
        this.proof(r),
      ),
      getFinalityCertificate: unary((r: { block: BlockIdMessage | null }) => this.certificate(r.block)),
      submitTransactions: unary((r: { transactions: Uint8Array[] }) => this.submit(r.transactions)),
      streamHeads: (call: ServerWritableStream<{ fromNumber: string }, unknown>) => void this.streamHeads(call),
    };
  }

  private async ref(n: bigint) {
    const hash = await this.modules.chain.canonicalHash(n);
    return { number: n.toString(), hash: hash ?? new Uint8Array(0) };
  }

  private async status() {
    const { chain, api, readiness } = this.modules;
    const s = readiness.status();
    return {
      chainId: chain.chainId.toString(),
      head: { number: chain.head.number.toString(), hash: chain.headHash },
      headSlot: chain.head.slot.toString(),
      safe: await this.ref(api.tagNumber("safe")),
      finalized: await this.ref(api.tagNumber("finalized")),
      currentSlot: String(s.currentSlot),
      syncing: s.syncing,
      peerCount: s.peers ?? 0,
      ready: readiness.report().ready,
    };
  }

  /** The hash of the block `id` names, or NOT_FOUND. */
  private async resolve(id: BlockId): Promise<Uint8Array> {
    const { chain, api } = this.modules;
    const hash = "hash" in id ? id.hash : await chain.canonicalHash(api.tagNumber(id.tag));
    if (!hash || !(await chain.getHeader(hash))) throw notFound("block");
    return hash;
  }

  private async loaded(m: BlockIdMessage | null) {
    const b = await loadBlock(this.modules.chain, await this.resolve(blockIdOf(m)));
    if (!b) throw notFound("block");
    return b;
  }

  private async block(m: BlockIdMessage | null, full: boolean) {
    return { block: blockMessage(await this.loaded(m), full) };
  }

  private async receipt(txHash: Uint8Array) {
    const hash = fixedBytes(txHash, 32, "transaction_hash");
    const r = await this.modules.api.handlers.eth_getTransactionReceipt([hash], {});
    if (!r) throw notFound("receipt");
    return { receipt: receiptMessage(r as Record<string, unknown>) };
  }

  private async blockReceipts(m: BlockIdMessage | null) {
    const b = await this.loaded(m);
    return {
      blockHash: b.hash,
      blockNumber: b.block.header.number.toString(),
      receipts: formatLoadedReceipts(b).map((r) => receiptMessage(r)),
    };
  }

  private async proof(r: { address: Uint8Array; storageKeys: Uint8Array[]; block: BlockIdMessage | null }) {
    const address = fixedBytes(r.address, 20, "address");
    if (r.storageKeys.length > 1024) throw invalid("storage_keys: at most 1024");
    const keys = r.storageKeys.map((k, i) => fixedBytes(k, 32, `storage_keys[${i}]`));
    const hash = await this.resolve(blockIdOf(r.block));
    const header = await this.modules.chain.getHeader(hash);
    const p = await this.modules.api.handlers.eth_getProof([address, keys, { hash, requireCanonical: false }], {});
    return proofMessage(p as Parameters<typeof proofMessage>[0], { number: header?.number ?? 0n, hash });
  }

  private async certificate(m: BlockIdMessage | null) {
    const id = blockIdOf(m);
    const c = await this.modules.api.handlers.rustchain_getFinalityCertificate([id], {});
    if (!c) throw notFound("finality certificate (the block is not final)");
    return certificateMessage(c as Parameters<typeof certificateMessage>[0]);
  }

  private async submit(raws: Uint8Array[]) {
    const o = this.opts;
    if (raws.length === 0) throw invalid("transactions: empty batch");
    if (raws.length > o.maxBatchTransactions) {
      throw invalid(`transactions: ${raws.length} exceeds the batch limit ${o.maxBatchTransactions}`);
    }
    const big = raws.findIndex((t) => t.length > o.maxTransactionBytes);
    if (big >= 0) throw invalid(`transactions[${big}]: longer than ${o.maxTransactionBytes} bytes`);
    const results = await this.modules.api.sendRawTransactions(raws.map((t) => new Uint8Array(t)));
    return {
      results: results.map((r) => {
        if (r instanceof Uint8Array) return { hash: r };
        const e = toRpcError(r).toJSON();
        return { error: { rpcCode: e.code, message: e.message, code: domainCodeOf(e) ?? "" } };
      }),
    };
  }

  private async streamHeads(call: ServerWritableStream<{ fromNumber: string }, unknown>): Promise<void> {
    const { chain } = this.modules;
    const from = uint64(call.request.fromNumber);
    /** What the backlog sent, by number: a live block already sent is skipped (bounded by the queue's size). */
    const sent = new Map<bigint, string>();
    const maxQueued = this.opts.maxStreamQueue;
    await serveResumable<Head, unknown>(
      call,
      {
        subscribe: (push) => {
          const on = (b: ImportedBlock) => {
            if (b.block.header.number >= from) push({ hash: b.hash, header: b.block.header });
          };
          chain.on("block", on);
          return () => chain.off("block", on);
        },
        backlog: async function* () {
          for (let n = from === 0n ? chain.head.number : from; ; n++) {
            const hash = await chain.canonicalHash(n);
            const header = hash && (await chain.getHeader(hash));
            if (!hash || !header) return;
            sent.set(n, bytesToHex(hash));
            if (sent.size > maxQueued) sent.delete(n - BigInt(maxQueued));
            yield { hash, header };
          }
        },
        sent: (h) => sent.get(h.header.number) === bytesToHex(h.hash),
        message: (h) => ({ hash: h.hash, header: headerMessage(h.header) }),
        maxQueued,
      },
      this.stopStreams.signal,
    );
  }

  // ---- ReplicationService ----

  private async streamBundles(call: ServerWritableStream<{ fromSeq: string }, unknown>): Promise<void> {
    const { replication } = this.modules;
    const refuse = (err: GrpcApiError) => {
      call.emit("error", toServiceError(err));
    };
    const auth = call.metadata.get("authorization");
    if (!replication) {
      const reason = "the replication feed is off on this node (--replication-key-file; devnet: --replication)";
      return refuse(new GrpcApiError({ code: "GRPC_FAILED_PRECONDITION", reason }, reason));
    }
    const verdict = await verifyReplicationBearerToken(
      replication.key,
      auth.length === 1 && typeof auth[0] === "string" ? auth[0] : undefined,
      (this.modules.now ?? Date.now)(),
    );
    if (verdict !== "ok") {
      const reason = `replication token ${verdict}`;
      return refuse(new GrpcApiError({ code: "GRPC_UNAUTHENTICATED", reason }, reason));
    }
    const { feed } = replication;
    const from = Number(uint64(call.request.fromSeq));
    if (from > feed.headSeq + 1 || (from > 0 && from < feed.oldestSeq && from <= feed.headSeq)) {
      const reason = `from_seq ${from} is outside the feed (oldest ${feed.oldestSeq}, head ${feed.headSeq})`;
      return refuse(new GrpcApiError({ code: "GRPC_OUT_OF_RANGE", reason }, reason));
    }
    let last = from === 0 ? feed.headSeq : from - 1;
    await serveResumable<FeedEntry, unknown>(
      call,
      {
        subscribe: (push) => {
          feed.on("bundle", push);
          return () => feed.off("bundle", push);
        },
        backlog: async function* () {
          while (last < feed.headSeq) {
            const entries = await feed.range(last + 1, 256);
            if (!entries?.length) {
              const reason = `seq ${last + 1} is no longer in the feed's history`;
              throw new GrpcApiError({ code: "GRPC_OUT_OF_RANGE", reason }, reason);
            }
            for (const e of entries) {
              last = e.seq;
              yield e;
            }
          }
        },
        sent: (e) => e.seq <= last,
        message: (e) => ({ seq: String(e.seq), bundleJson: e.json }),
        maxQueued: this.opts.maxStreamQueue,
      },
      this.stopStreams.signal,
    );
  }
}

function invalid(reason: string): GrpcApiError {
  return new GrpcApiError({ code: "GRPC_INVALID_ARGUMENT", reason }, reason);
}

function notFound(what: string): GrpcApiError {
  return new GrpcApiError({ code: "GRPC_NOT_FOUND", what }, `${what} not found`);
}
