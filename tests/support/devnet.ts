// Starts `rustchain devnet` as a child process on free loopback ports with its own data directory, for end-to-end
// tests, the conformance runner and benchmarks.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type SignedTransaction, signTransaction } from "@rustchain/shared";
import { defineChain } from "viem";
import { freePort } from "../../validator/src/cli/devnetCluster.ts";

export { freePort };

const ROOT = resolve(import.meta.dirname, "../..");

/** The devnet as a viem chain: chain id 21076, RTC with 18 decimals. Give clients the node's own URL in the transport. */
export const devnetChain = defineChain({
  id: 21076,
  name: "RustChain devnet",
  nativeCurrency: { name: "RTC", symbol: "RTC", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } },
});

export interface Devnet {
  url: string;
  wsUrl: string;
  metricsUrl: string;
  /** host:port of the node's gRPC server (docs/grpc.md). */
  grpcAddr: string;
  datadir: string;
  proc: ChildProcess;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (crash tests). */
  kill(): Promise<void>;
  /** Remove the data directory. */
  cleanup(): Promise<void>;
}

export interface DevnetOptions {
  slotMs?: number;
  datadir?: string;
  /** Keep an existing data directory (restart); default creates a fresh one. */
  reuse?: boolean;
  rpcPort?: number;
  logLevel?: string;
  /** More `rustchain devnet` flags. */
  extraArgs?: string[];
}

export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
  return body.result;
}

export async function startDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  const datadir = opts.datadir ?? (await mkdtemp(join(tmpdir(), "rustchain-devnet-")));
  const port = opts.rpcPort ?? (await freePort());
  const metricsPort = await freePort();
  const grpcPort = await freePort();
  const args = [
    // tsx as a loader in this very process (not its CLI, which forks), so signals reach the node itself.
    "--import",
    "tsx",
    join(ROOT, "validator/src/cli/main.ts"),
    "devnet",
    "--datadir",
    datadir,
    "--rpc-addr",
    `127.0.0.1:${port}`,
    "--metrics-addr",
    `127.0.0.1:${metricsPort}`,
    "--grpc-addr",
    `127.0.0.1:${grpcPort}`,
    "--slot-ms",
    String(opts.slotMs ?? 500),
    "--log-level",
    opts.logLevel ?? "info",
    // These tests are about the execution layer; the Proof-of-AI circuit has its own tests.
    "--no-ai",
    ...(opts.extraArgs ?? []),
  ];
  // The IPC channel makes the devnet stop by itself if this test process dies without stopping it.
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`devnet exited early:\n${out}`);
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`devnet did not start:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    grpcAddr: `127.0.0.1:${grpcPort}`,
    datadir,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await exited;
    },
    kill: async () => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await exited;
    },
    cleanup: () => rm(datadir, { recursive: true, force: true }),
  };
}

/** Private keys of the 10 devnet accounts (well-known; from "test test ... junk"). */
export const DEV_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
] as const;

/** A signed EIP-1559 transfer (21 000 gas, 1 gwei tip, 100 gwei cap) from a raw private key. */
export function signedTransfer(
  chainId: bigint,
  key: Uint8Array,
  nonce: bigint,
  to: Uint8Array,
  value: bigint,
): SignedTransaction {
  return signTransaction(
    {
      type: 2,
      chainId,
      nonce,
      maxPriorityFeePerGas: 10n ** 9n,
      maxFeePerGas: 100n * 10n ** 9n,
      gasLimit: 21_000n,
      to,
      value,
      data: new Uint8Array(0),
      accessList: [],
    },
    key,
  );
}
