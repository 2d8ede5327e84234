// The Node edge's replication source when it knows the core's gRPC address (`rustchain edge --core-grpc`, docs/grpc.md):
// one StreamReplicationBundles call from the replica's seq + 1, each bundle applied in order exactly as a pushed one
// (applyWithEvents) and its events published after the commit; when the stream ends or fails it is opened again from
// wherever the replica is then, with capped exponential backoff. Several instances sharing one Redis may each follow:
// a bundle another instance applied first comes back "duplicate" and is skipped. The HTTP push (ingest) remains the
// Workers host's path. The .proto is read from proto/ at run time (RUSTCHAIN_PROTO_DIR overrides where).
import { fileURLToPath } from "node:url";
import {
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { replicationBearerToken } from "@rustchain/shared/replicationToken";
import type { SubscriptionEvent } from "../app/contract.ts";
import { applyWithEvents } from "../replica/events.ts";
import type { Replica } from "../replica/replica.ts";
import type { ReplicaStore } from "../replica/store.ts";
import type { EdgeLogger } from "./server.ts";

export interface GrpcReplicationOptions {
  /** The core's gRPC host:port. */
  address: string;
  /** The replication HMAC key shared with the core (signs the stream's bearer token). */
  key: Uint8Array;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Largest message accepted (a bundle is at most 32 MiB). */
  maxMessageBytes: number;
}

export const defaultGrpcReplicationOptions = {
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  maxMessageBytes: 40 * 1024 * 1024,
};

export interface GrpcReplicationDeps {
  replica: Replica;
  store: ReplicaStore;
  /** Told each applied bundle's events, in seq order, after the bundle committed. */
  publish(events: SubscriptionEvent[]): Promise<void>;
  logger: EdgeLogger;
}

interface BundleMessage {
  seq: string;
  bundleJson: string;
}

function replicationClient(address: string, maxMessageBytes: number) {
  // proto/ of the checkout (from edge/src/node/) or of the packaged release (from lib/); the first that has the file.
  const dirs = process.env.RUSTCHAIN_PROTO_DIR
    ? [process.env.RUSTCHAIN_PROTO_DIR]
    : ["../../../proto", "../proto"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const def = loadSync("rustchain/v1/replication.proto", { includeDirs: dirs, longs: String, defaults: true });
  const pkg = loadPackageDefinition(def) as unknown as {
    rustchain: { v1: { ReplicationService: ServiceClientConstructor } };
  };
  return new pkg.rustchain.v1.ReplicationService(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": maxMessageBytes,
  });
}

export class GrpcReplicationFollower {
  private readonly client: ReturnType<typeof replicationClient>;
  private running = false;
  private loop: Promise<void> | undefined;
  private stream: ClientReadableStream<BundleMessage> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly opts: GrpcReplicationOptions,
    private readonly deps: GrpcReplicationDeps,
  ) {
    this.client = replicationClient(opts.address, opts.maxMessageBytes);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.running = false;
    this.stream?.cancel();
    this.wake?.();
    await this.loop;
    this.client.close();
  }

  private async run(): Promise<void> {
    const { logger } = this.deps;
    let backoff = this.opts.initialBackoffMs;
    let failures = 0;
    while (this.running) {
      let applied = 0;
      try {
        applied = await this.follow();
      } catch (err) {
        if (!this.running) break;
        failures++;
        if (failures === 1 || failures % 10 === 0) {
          const e = err as { code?: number; details?: string; message?: string };
          logger.warn(
            { code: e.code, err: (e.details ?? e.message ?? String(err)).slice(0, 200), failures, retryMs: backoff },
            "Replication stream failed; reopening",
          );
        }
      }
      if (!this.running) break;
      if (applied > 0) {
        failures = 0;
        backoff = this.opts.initialBackoffMs;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoff);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
    }
  }

  /** One stream from the replica's position; the bundles applied before it ended. */
  private async follow(): Promise<number> {
    const { replica, store, publish, logger } = this.deps;
    const from = (await replica.meta()).lastSeq + 1;
    const metadata = new Metadata();
    metadata.set("authorization", await replicationBearerToken(this.opts.key));
    const stream = (
      this.client.streamReplicationBundles as (r: object, m: Metadata) => ClientReadableStream<BundleMessage>
    ).call(this.client, { fromSeq: String(from) }, metadata);
    this.stream = stream;
    logger.info({ core: this.opts.address, fromSeq: from }, "Replication stream opened");
    let applied = 0;
    // Async iteration reads one message at a time: the transport waits while a bundle is being applied.
    for await (const msg of stream as AsyncIterable<BundleMessage>) {
      const { result, events } = await applyWithEvents(replica, store, msg.bundleJson);
      if (result.status === "gap") {
        // Not the next bundle for this replica (another writer moved it): reopen from where it is.
        stream.cancel();
        break;
      }
      if (result.status !== "applied") continue;
      applied++;
      if (events.length)
        await publish(events).catch((err: unknown) => logger.warn({ err: String(err) }, "Publish failed"));
    }
    return applied;
  }
}
