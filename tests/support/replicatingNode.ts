// An in-process validator node with its replication feed on (admin address for pulls, optionally pushing), for the
// tests that check a replica against the node's own JSON-RPC (tests/edgeIngest.e2e.test.ts, tests/edgePuller.e2e.test.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, type Genesis, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../../validator/src/cli/devnetGenesis.ts";
import { RustChainNode } from "../../validator/src/node/node.ts";

export interface ReplicatingNode {
  node: RustChainNode;
  genesis: Genesis;
  /** The node's JSON-RPC URL. */
  url: string;
  /** Stop the node (once; later calls do nothing). */
  stop(): Promise<void>;
  /** Stop the node if still running and delete its data directory. */
  dispose(): Promise<void>;
}

/** The genesis startReplicatingNode uses for `seed` (known before the node starts, e.g. to build its replica). */
export function replicatingGenesis(seed: number): Genesis {
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(seed));
  return parseGenesis(devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250));
}

/** Start a one-validator node (validator key from `seed`) whose feed is authenticated by `key`, pushing to `pushTo`. */
export async function startReplicatingNode(opts: {
  key: Uint8Array;
  seed: number;
  pushTo?: string;
  /** Also serve gRPC (the replication stream) on a free port: `node.grpcAddress`. */
  grpc?: boolean;
}): Promise<ReplicatingNode> {
  const datadir = await mkdtemp(join(tmpdir(), "rustchain-replicating-"));
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(opts.seed));
  const genesis = replicatingGenesis(opts.seed);
  const node = await RustChainNode.start(
    {
      datadir,
      genesis,
      secretKey: validator.secretKey,
      rpc: { host: "127.0.0.1", port: 0 },
      admin: { host: "127.0.0.1", port: 0 },
      grpc: opts.grpc ? { host: "127.0.0.1", port: 0 } : undefined,
      replication: opts.pushTo ? { key: opts.key, pushTo: opts.pushTo } : { key: opts.key },
    },
    pino({ level: "silent" }),
  );
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= node.stop();
    return stopping;
  };
  return {
    node,
    genesis,
    url: node.rpc.url,
    stop,
    dispose: async () => {
      await stop().catch(() => undefined);
      await rm(datadir, { recursive: true, force: true });
    },
  };
}

/** Poll `cond` every 25 ms until it holds; throws after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
