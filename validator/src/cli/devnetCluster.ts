// `rustchain devnet --validators N`: N validator processes on 127.0.0.1, each `rustchain node` with its own datadir,
// p2p port and keystore, all knowing each other through the bootstrap list. RPC, metrics and gRPC are on the first
// one at the given addresses; the others pick free ports.
// Ctrl-C (or SIGTERM) is forwarded to every child; the command exits once they have all stopped. Each child also holds
// an IPC channel to this process and stops by itself when it closes, so even a SIGKILLed devnet leaves no validator
// running.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { Logger } from "pino";
import { loadOrCreatePeerKey } from "../network/peerKey.ts";

export interface ClusterNode {
  datadir: string;
  keystorePath: string;
  passwordPath: string;
}

export interface ClusterOptions {
  genesisPath: string;
  nodes: ClusterNode[];
  rpcAddr: string;
  metricsAddr: string;
  /** host:port or "off". */
  grpcAddr: string;
  logLevel: string;
  miner: boolean;
  logger: Logger;
  /** Extra `rustchain node` arguments per validator index (snapshot flags: only the first uploads to S3). */
  extraArgs?: (index: number) => string[];
}

/**
 * Ports handed out by `freePort` are drawn below the kernel's ephemeral range. A port picked from the
 * ephemeral range (listen on 0) can be taken by any outgoing connection (libp2p dials, HTTP clients)
 * between the moment it is released here and the moment the child binds it; below that range only
 * another listener can take it.
 */
const PORT_LOW = 20_000;
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > PORT_LOW + 1000) return low;
  } catch {
    // not Linux: use the IANA dynamic range's start
  }
  return 49_152;
}

function tryBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1, outside the ephemeral range (bound and released; the child binds it right after). */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_LOW + Math.floor(Math.random() * (high - PORT_LOW));
    if (handedOut.has(port)) continue;
    if (await tryBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port on 127.0.0.1 between ${PORT_LOW} and ${high}`);
}

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

export interface ValidatorProcess {
  datadir: string;
  genesisPath: string;
  keystorePath: string;
  passwordPath: string;
  rpcAddr: string;
  metricsAddr: string;
  /** host:port or "off". */
  grpcAddr: string;
  p2pAddr: string;
  bootstrap: string[];
  maxPeersPerPrefix: number;
  logLevel: string;
  logName: string;
  /** More `rustchain node` flags. */
  extra?: string[];
}

/** Arguments for `node` that run one validator of a loopback cluster (`rustchain node` under tsx, in-process). */
export function validatorNodeArgs(v: ValidatorProcess): string[] {
  return [
    "--import",
    "tsx",
    MAIN,
    "node",
    "--datadir",
    v.datadir,
    "--genesis",
    v.genesisPath,
    "--key",
    v.keystorePath,
    "--password-file",
    v.passwordPath,
    "--rpc-addr",
    v.rpcAddr,
    "--metrics-addr",
    v.metricsAddr,
    "--grpc-addr",
    v.grpcAddr,
    "--p2p-addr",
    v.p2pAddr,
    "--bootstrap",
    v.bootstrap.join(","),
    "--max-peers-per-prefix",
    String(v.maxPeersPerPrefix),
    "--log-level",
    v.logLevel,
    "--log-name",
    v.logName,
    ...(v.extra ?? []),
  ];
}

/** Runs until Ctrl-C or a validator exits; resolves true when every validator stopped because it was asked to. */
export async function runDevnetCluster(o: ClusterOptions): Promise<boolean> {
  const { logger } = o;
  // Peer ids are fixed by each node's p2p key, created here once so every node's bootstrap list is known up front.
  const peers = await Promise.all(
    o.nodes.map(async (n) => {
      const key = await loadOrCreatePeerKey(n.datadir, logger);
      return { id: peerIdFromPrivateKey(key).toString(), port: await freePort() };
    }),
  );
  const addr = (i: number) => `/ip4/127.0.0.1/tcp/${peers[i]!.port}/p2p/${peers[i]!.id}`;
  const children: ChildProcess[] = [];
  for (const [i, n] of o.nodes.entries()) {
    const rpc = i === 0 ? o.rpcAddr : `127.0.0.1:${await freePort()}`;
    const metrics = i === 0 ? o.metricsAddr : `127.0.0.1:${await freePort()}`;
    const grpc = i === 0 || o.grpcAddr === "off" ? o.grpcAddr : `127.0.0.1:${await freePort()}`;
    const args = validatorNodeArgs({
      datadir: n.datadir,
      genesisPath: o.genesisPath,
      keystorePath: n.keystorePath,
      passwordPath: n.passwordPath,
      rpcAddr: rpc,
      metricsAddr: metrics,
      grpcAddr: grpc,
      p2pAddr: `127.0.0.1:${peers[i]!.port}`,
      bootstrap: o.nodes
        .map((_, j) => j)
        .filter((j) => j !== i)
        .map(addr),
      maxPeersPerPrefix: Math.max(8, o.nodes.length * 2),
      logLevel: o.logLevel,
      logName: `v${i}`,
      extra: [...(o.miner ? ["--miner"] : []), ...(o.extraArgs?.(i) ?? [])],
    });
    const child = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.push(child);
    logger.info({ node: `v${i}`, pid: child.pid, rpc, p2p: addr(i) }, "Started validator process");
  }
  logger.info({ validators: o.nodes.length, rpc: o.rpcAddr }, "Devnet running; Ctrl-C to stop all validators");

  return new Promise<boolean>((done) => {
    let stopping = false;
    let clean = true;
    let alive = children.length;
    const stopAll = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "Stopping all validators");
      for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
      // A child that does not stop within 20 s is killed; its last committed block is intact either way.
      setTimeout(() => {
        for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
      }, 20_000).unref();
    };
    for (const [i, c] of children.entries()) {
      c.once("exit", (code, signal) => {
        alive--;
        if (!stopping) {
          clean = false;
          logger.error({ node: `v${i}`, code, signal }, "Validator process exited; stopping the devnet");
          stopAll("SIGTERM");
        } else if (code !== 0) {
          clean = false;
          logger.error({ node: `v${i}`, code, signal }, "Validator process did not stop cleanly");
        }
        if (alive === 0) {
          logger.info({ clean }, "All validators stopped");
          done(clean);
        }
      });
    }
    process.on("SIGINT", () => stopAll("SIGINT"));
    process.on("SIGTERM", () => stopAll("SIGTERM"));
  });
}
