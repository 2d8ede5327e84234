// `npm run devnet:edge`: a one-validator devnet and a Node-hosted edge wired together, for dApp development against the
// edge. Starts, in order:
//   1. redis-server on a free loopback port, in its own temp directory, without persistence;
//   2. `rustchain devnet --reset` (datadir .rustchain/devnet-edge) serving its replication stream over gRPC (and the
//      gap-repair endpoints on an admin address); it writes the dev-only replication key to <datadir>/replication-key;
//   3. `rustchain edge` on 127.0.0.1:8787 (wrangler dev's default port) following that stream (--core-grpc) with that
//      key: the Node-hosted edge takes replication from the core's gRPC stream (docs/grpc.md); the HTTP push is for
//      Workers.
// Prints the URLs; Ctrl-C (or SIGTERM) stops all three. If one of them exits, the others are stopped too.
//
//   npm run devnet:edge [-- --edge-addr 127.0.0.1:8787] [--rpc-addr 127.0.0.1:8545] [--datadir <dir>]
//                       [--redis-server /usr/bin/redis-server] [--rate-limit 50/200] [any other `rustchain devnet` flag]
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type LocalRedis, RedisNotInstalledError, startLocalRedis } from "../edge/src/node/redisServer.ts";
import { freePort } from "../validator/src/cli/devnetCluster.ts";

// The `rustchain` command (bin/rustchain.js routes `edge` to the edge package, the rest to the validator).
const MAIN = fileURLToPath(new URL("../bin/rustchain.js", import.meta.url));

const { values: args, tokens } = parseArgs({
  options: {
    "edge-addr": { type: "string", default: "127.0.0.1:8787" },
    "rpc-addr": { type: "string", default: "127.0.0.1:8545" },
    datadir: { type: "string", default: ".rustchain/devnet-edge" },
    "redis-server": { type: "string" },
    "rate-limit": { type: "string" },
    "log-level": { type: "string", default: "info" },
  },
  strict: false,
  tokens: true,
});

/** Flags this script does not know go to `rustchain devnet` (e.g. --no-ai, --slot-ms 500). */
function devnetPassThrough(): string[] {
  const known = new Set(["edge-addr", "rpc-addr", "datadir", "redis-server", "rate-limit", "log-level"]);
  const out: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === "option" && !known.has(t.name)) {
      out.push(t.rawName);
      if (t.value !== undefined) out.push(t.value);
    } else if (t.kind === "positional") {
      out.push(t.value);
    }
  }
  return out;
}

const say = (msg: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg: `devnet:edge: ${msg}`, ...fields }));

function fail(msg: string): never {
  console.error(`devnet:edge: ${msg}`);
  process.exit(1);
}

const hostPort = (v: string, flag: string) => {
  const m = /^([^:]*):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) fail(`${flag} expects host:port, got ${v}`);
  return { host: m[1] || "127.0.0.1", port: Number(m[2]) };
};

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, alive: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`${what}: a process exited while starting`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s`);
}

async function rpcAnswers(url: string): Promise<boolean> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(2_000),
  });
  return typeof ((await res.json()) as { result?: unknown }).result === "string";
}

async function main(): Promise<void> {
  const edgeAddr = hostPort(String(args["edge-addr"]), "--edge-addr");
  const rpcAddr = hostPort(String(args["rpc-addr"]), "--rpc-addr");
  const datadir = resolve(String(args.datadir));
  const logLevel = String(args["log-level"]);
  const edgeUrl = `http://${edgeAddr.host}:${edgeAddr.port}`;
  const coreUrl = `http://${rpcAddr.host}:${rpcAddr.port}`;

  let redis: LocalRedis;
  try {
    redis = await startLocalRedis({
      port: await freePort(),
      binary: args["redis-server"] as string | undefined,
      detached: true,
    });
  } catch (e) {
    if (e instanceof RedisNotInstalledError) fail(e.message);
    throw e;
  }
  say("redis-server started", { url: redis.url });
  // Its own process group: if this script dies without stopping it, do not leave it running.
  process.on("exit", () => {
    try {
      if (redis.pid) process.kill(redis.pid, "SIGKILL");
    } catch {
      // already gone
    }
  });

  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  let exitCode = 0;
  const allExited = () =>
    Promise.all(
      children.map((c) =>
        c.child.exitCode === null && c.child.signalCode === null
          ? new Promise((r) => c.child.once("exit", r))
          : undefined,
      ),
    );
  const stopAll = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${why})`);
    // The edge first (it stops taking requests), then the core, then Redis.
    for (const { child } of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
      clearTimeout(killer);
    }
    await allExited();
    await redis.stop();
    say("stopped");
    process.exit(exitCode);
  };
  const run = (name: string, argv: string[]) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...argv], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    children.push({ name, child });
    child.once("exit", (code, signal) => {
      if (stopping) return;
      exitCode = 1;
      void stopAll(`${name} exited (code ${code}, signal ${signal})`);
    });
    return child;
  };
  process.on("SIGINT", () => void stopAll("SIGINT"));
  process.on("SIGTERM", () => void stopAll("SIGTERM"));

  try {
    const adminPort = await freePort();
    const metricsPort = await freePort();
    const grpcPort = await freePort();
    run("core", [
      "devnet",
      "--reset",
      "--datadir",
      datadir,
      "--rpc-addr",
      `${rpcAddr.host}:${rpcAddr.port}`,
      "--metrics-addr",
      `127.0.0.1:${metricsPort}`,
      "--grpc-addr",
      `127.0.0.1:${grpcPort}`,
      "--admin-addr",
      `127.0.0.1:${adminPort}`,
      "--replication",
      "--log-level",
      logLevel,
      ...devnetPassThrough(),
    ]);
    const alive = () => !stopping;
    // The first start may build the Proof-of-AI circuit (about 30 s) before the RPC is up.
    await waitFor("core RPC", () => rpcAnswers(coreUrl), 300_000, alive);
    const keyFile = `${datadir}/replication-key`;
    await waitFor("replication key", async () => existsSync(keyFile), 30_000, alive);

    const edgeMetricsPort = await freePort();
    run("edge", [
      "edge",
      "--listen",
      `${edgeAddr.host}:${edgeAddr.port}`,
      "--redis-url",
      redis.url,
      "--core-rpc",
      coreUrl,
      "--core-admin",
      `http://127.0.0.1:${adminPort}`,
      "--core-grpc",
      `127.0.0.1:${grpcPort}`,
      "--replication-key-file",
      keyFile,
      "--metrics-addr",
      `127.0.0.1:${edgeMetricsPort}`,
      "--log-level",
      logLevel,
      ...(args["rate-limit"] ? ["--rate-limit", String(args["rate-limit"])] : []),
    ]);
    await waitFor("edge RPC", () => rpcAnswers(edgeUrl), 60_000, alive);
    say("ready (dev-only keys; Ctrl-C stops everything)", {
      rpc: edgeUrl,
      ws: `ws://${edgeAddr.host}:${edgeAddr.port}`,
      edgeMetrics: `http://127.0.0.1:${edgeMetricsPort}/metrics`,
      coreRpc: coreUrl,
      coreAdmin: `http://127.0.0.1:${adminPort}`,
      redis: redis.url,
      datadir,
    });
  } catch (e) {
    exitCode = 1;
    console.error(`devnet:edge: ${(e as Error).message}`);
    await stopAll("start failed");
  }
}

await main();
