// The relayer service: watchers on both gateways feed the Redis stream, the Wormhole watcher (when the deployment has
// a `wormhole` section) turns guardian-signed VAAs into transfer records, the processor moves transfers along, and
// the status API serves what it knows. State lives in Redis only, so the process can be killed at any moment. One
// source failing (a chain or the guardian API down) does not hold up the others.
import type { Logger } from "pino";
import type { Account } from "viem/accounts";
import { createBridgeClients } from "./clients.ts";
import type { ChainName, Deployment } from "./deployment.ts";
import { createRelayerMetrics } from "./metrics.ts";
import { Processor } from "./processor.ts";
import { SourceWatcher } from "./sourceWatcher.ts";
import { connectRedis, TransferStore } from "./transferStore.ts";
import { WormholeWatcher } from "./wormholeWatcher.ts";

export interface RelayerOptions {
  redisUrl: string;
  /** Consumer name in the stream's group (one per relayer process). */
  consumer: string;
  pollMs: number;
  maxLogRange: bigint;
}

export const defaultRelayerOptions: Omit<RelayerOptions, "redisUrl"> = {
  consumer: "relayer-1",
  pollMs: 500,
  maxLogRange: 2_000n,
};

export async function startRelayer(
  opts: RelayerOptions,
  m: { deployment: Deployment; accounts: Record<ChainName, Account>; logger: Logger },
) {
  const { deployment, logger } = m;
  const redis = await connectRedis(opts.redisUrl, (e) => logger.warn({ err: e.message }, "Redis connection error"));
  const store = new TransferStore(redis, opts.consumer);
  await store.init();
  const clients = createBridgeClients(deployment, m.accounts);
  const metrics = createRelayerMetrics();
  const processor = new Processor(
    { pollMs: opts.pollMs, maxBackoffMs: 30_000 },
    { deployment, clients, store, metrics, logger: logger.child({ module: "processor" }) },
  );
  const chainSources = (["ethereum", "rustchain"] as const).map((chain) => {
    const watcher = new SourceWatcher(
      {
        chain,
        wormholeChain: deployment[chain].wormholeChain,
        gateway: deployment[chain].gateway,
        fromBlock: BigInt(deployment[chain].fromBlock),
        maxRange: opts.maxLogRange,
      },
      { client: clients[chain].public, store, metrics, logger: logger.child({ module: "watcher", chain }) },
    );
    return { name: chain, poll: () => watcher.poll() };
  });

  const wormhole =
    deployment.wormhole && clients.wormhole
      ? new WormholeWatcher(
          {
            guardianApiUrl: deployment.wormhole.guardianApiUrl,
            emitters: deployment.wormhole.emitters,
            lookahead: deployment.wormhole.lookahead,
            blockTimeMs: deployment.rustchain.blockTimeMs,
          },
          { gateway: clients.wormhole, store, metrics, logger: logger.child({ module: "wormhole" }) },
        )
      : undefined;
  const sources = [...chainSources, ...(wormhole ? [{ name: "wormhole", poll: () => wormhole.poll() }] : [])];

  let stopped = false;
  // Messages read before a crash and never acknowledged come first.
  await processor.ingest(await store.read(1000, 0, true));
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const source of sources)
          await source
            .poll()
            .catch((e: Error) => logger.warn({ source: source.name, err: e.message }, "Source poll failed; retrying"));
        await processor.ingest(await store.read(100, 0, true));
        await processor.ingest(await store.read(100, 1, false));
        await processor.runDue();
      } catch (e) {
        logger.warn({ err: (e as Error).message }, "Relayer loop error; retrying");
      }
      await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  })();
  logger.info({ consumer: opts.consumer }, "Relayer started");
  return {
    store,
    metrics,
    wormhole,
    async stop() {
      stopped = true;
      await loop;
      await redis.quit().catch(() => undefined);
    },
  };
}

export type Relayer = Awaited<ReturnType<typeof startRelayer>>;
