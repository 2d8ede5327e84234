// `rustchain edge`: run one Node edge instance until SIGINT / SIGTERM. The validator's CLI parses and validates the
// flags (validator/src/cli/main.ts) and imports this module only for this subcommand.
import { readFile } from "node:fs/promises";
import { type EdgeLogger, type NodeEdge, startNodeEdge } from "./server.ts";

export interface EdgeCommandOptions {
  listen: { host: string; port: number };
  redisUrl: string;
  coreRpcUrl: string;
  coreAdminUrl?: string;
  /** The core's gRPC host:port (replication from its stream). */
  coreGrpcAddr?: string;
  replicationKeyFile: string;
  /** Without it, asked from the core (eth_chainId). */
  chainId?: bigint;
  metricsListen?: { host: string; port: number };
  rateLimit?: { perSecond: number; burst: number };
}

export class EdgeCommandError extends Error {
  override name = "EdgeCommandError";
}

/** Read a hex replication key file (at least 16 bytes, optional 0x), as the core does. */
export async function readReplicationKeyFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = (await readFile(path, "utf8")).trim().replace(/^0x/, "");
  } catch (e) {
    throw new EdgeCommandError(`replication key ${path}: ${(e as Error).message}`);
  }
  if (!/^([0-9a-fA-F]{2}){16,128}$/.test(text)) {
    throw new EdgeCommandError(`replication key ${path}: expected 16 to 128 hex bytes`);
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** The core's chain id (eth_chainId), retried for up to `timeoutMs` while the core is starting. */
export async function fetchChainId(coreRpcUrl: string, timeoutMs = 15_000): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    try {
      const res = await fetch(coreRpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await res.json()) as { result?: string };
      if (typeof body.result === "string" && /^0x[0-9a-f]+$/i.test(body.result)) return BigInt(body.result);
      last = `unexpected answer ${JSON.stringify(body).slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new EdgeCommandError(`cannot read eth_chainId from ${coreRpcUrl} (${last}); pass --chain-id`);
}

/** Start the edge, log "Edge listening", and stop cleanly on SIGINT / SIGTERM. */
export async function runEdgeCommand(o: EdgeCommandOptions, logger: EdgeLogger): Promise<void> {
  const replicationKey = await readReplicationKeyFile(o.replicationKeyFile);
  const chainId = o.chainId ?? (await fetchChainId(o.coreRpcUrl));
  const edge: NodeEdge = await startNodeEdge({
    listen: o.listen,
    redisUrl: o.redisUrl,
    coreRpcUrl: o.coreRpcUrl,
    coreAdminUrl: o.coreAdminUrl,
    coreGrpcAddr: o.coreGrpcAddr,
    replicationKey,
    chainId,
    metricsListen: o.metricsListen,
    config: o.rateLimit ? { rateLimit: o.rateLimit } : undefined,
    logger,
  });
  logger.info(
    { url: edge.url, wsUrl: edge.wsUrl, metricsUrl: edge.metricsUrl, chainId: Number(chainId), core: o.coreRpcUrl },
    "Edge listening",
  );
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      logger.info({}, "Edge stopping");
      void edge.close().then(done, done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
