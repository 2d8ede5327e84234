// `rustchain edge`: the edge RPC on Node with Redis (docs/edge.md). The root `bin/rustchain.js` sends `rustchain edge …`
// here, so the validator's CLI never imports the edge.
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { pino } from "pino";
import { runEdgeCommand } from "./main.ts";

function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError("expected host:port, e.g. 127.0.0.1:8787");
  return { host: m[1] || "127.0.0.1", port: Number(m[2]) };
}

function checkHostPort(value: string): string {
  parseHostPort(value);
  return value;
}

function checkUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected an http(s) URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidArgumentError("expected an http(s) URL");
  return value;
}

function parseRateLimit(value: string): { perSecond: number; burst: number } {
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(value);
  const perSecond = Number(m?.[1]);
  if (!m || !(perSecond > 0)) throw new InvalidArgumentError("expected <perSecond>[/<burst>], e.g. 50/200");
  const burst = m[2] === undefined ? Math.max(1, Math.ceil(perSecond)) : Number(m[2]);
  if (!(burst >= 1)) throw new InvalidArgumentError("the burst must be at least 1");
  return { perSecond, burst };
}

function checkRedisUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected a redis:// or rediss:// URL");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new InvalidArgumentError("expected a redis:// or rediss:// URL");
  }
  return value;
}

function parseChainId(value: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(value) || BigInt(value) <= 0n) {
    throw new InvalidArgumentError("expected a positive chain id, decimal or 0x hex");
  }
  return BigInt(value);
}

const program = new Command()
  .name("rustchain edge")
  .description("run the edge RPC on Node with Redis: JSON-RPC and WebSocket from a replica the core pushes to")
  .option("--listen <host:port>", "JSON-RPC HTTP + WebSocket listen address", checkHostPort, "127.0.0.1:8787")
  .option(
    "--redis-url <url>",
    "Redis holding the replica (shared by edge instances)",
    checkRedisUrl,
    "redis://127.0.0.1:6379",
  )
  .requiredOption("--core-rpc <url>", "the core's JSON-RPC URL (forwarded calls)", checkUrl)
  .option("--core-admin <url>", "the core's admin base URL (gap repair and catch-up via GET /replication/*)", checkUrl)
  .option(
    "--core-grpc <host:port>",
    "the core's gRPC address (--grpc-addr): take replication from its stream instead of the push",
    checkHostPort,
  )
  .requiredOption("--replication-key-file <file>", "hex HMAC key shared with the core's replication feed")
  .option("--chain-id <id>", "chain id (default: asked from the core)", parseChainId)
  .option("--metrics-addr <host:port>", "Prometheus /metrics listen address", checkHostPort)
  .option(
    "--rate-limit <perSecond[/burst]>",
    "per-IP JSON-RPC calls per second and burst (default 50/200)",
    parseRateLimit,
  )
  .addOption(
    new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error"]).default("info"),
  )
  .addHelpText(
    "after",
    "\nReplication: with --core-grpc the edge follows the core's gRPC stream (docs/grpc.md); otherwise the core pushes\nbundles to POST <edge>/replication/ingest (rustchain node --replicate-to); see docs/edge.md.",
  )
  .action(async (o) => {
    const logger = pino({ level: o.logLevel, timestamp: pino.stdTimeFunctions.isoTime });
    await runEdgeCommand(
      {
        listen: parseHostPort(o.listen),
        redisUrl: o.redisUrl,
        coreRpcUrl: o.coreRpc,
        coreAdminUrl: o.coreAdmin,
        coreGrpcAddr: o.coreGrpc,
        replicationKeyFile: resolve(o.replicationKeyFile),
        chainId: o.chainId,
        metricsListen: o.metricsAddr ? parseHostPort(o.metricsAddr) : undefined,
        rateLimit: o.rateLimit,
      },
      logger,
    ).catch((e: Error) => program.error(`error: ${e.message}`));
  });

await program.parseAsync(process.argv);
