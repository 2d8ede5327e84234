// The whole bridge for end-to-end tests: `hardhat node` as Ethereum, a RustChain cluster whose validators form the
// committee (bridge keys in genesis, watching both gateways), redis-server, the contracts deployed by
// scripts/bridge/deployBridge.ts, and the relayer as its own process (bridge-relayer/bin/rustchain-relayer.js).
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import type { Deployment } from "../../bridge-relayer/src/deployment.ts";
import { type HardhatNode, startHardhatNode } from "../../bridge-relayer/test/support/hardhatNode.ts";
import { deployBridge, predictGateways } from "../../scripts/bridge/deployBridge.ts";
import { relayerArgs, writeDevRelayerKey } from "../../scripts/bridge/devRelayer.ts";
import { loadBridgeKey } from "../../validator/src/keys/bridgeKeystore.ts";
import { type Cluster, startCluster, waitUntil } from "./cluster.ts";
import { freePort } from "./devnet.ts";
import { type RedisServer, startRedis } from "./edge.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const MNEMONIC = "test test test test test test test test test test test junk";
/** The same "test … junk" accounts are funded on both chains. */
export const accounts = {
  deployer: mnemonicToAccount(MNEMONIC, { addressIndex: 0 }),
  relayer: mnemonicToAccount(MNEMONIC, { addressIndex: 1 }),
  alice: mnemonicToAccount(MNEMONIC, { addressIndex: 2 }),
  bob: mnemonicToAccount(MNEMONIC, { addressIndex: 3 }),
};
export const RUSTCHAIN_CHAIN_ID = 21076;

export interface RelayerProcess {
  proc: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface BridgeWorld {
  eth: HardhatNode;
  cluster: Cluster;
  redis: RedisServer;
  deployment: Deployment;
  deploymentPath: string;
  statusUrl: string;
  relayer: RelayerProcess | undefined;
  startRelayer(): Promise<RelayerProcess>;
  /** The committee's bridge private keys (from the validators' keystores), by guardian index. */
  committeeKeys(): Promise<Uint8Array[]>;
  stop(): Promise<void>;
}

export async function startBridgeWorld(opts: { validators: number; slotMs: number }): Promise<BridgeWorld> {
  const eth = await startHardhatNode();
  const redis = await startRedis();
  const ethAccess = { rpcUrl: eth.url, chainId: 31337, deployer: accounts.deployer, blockTimeMs: 1000 };
  const rcAccess = { rpcUrl: "", chainId: RUSTCHAIN_CHAIN_ID, deployer: accounts.deployer, blockTimeMs: opts.slotMs };
  const predicted = await predictGateways(ethAccess, rcAccess);
  const cluster = await startCluster({
    validators: opts.validators,
    slotMs: opts.slotMs,
    bridgeKeys: true,
    waitForPeers: "connected",
    extraArgs: [
      "--bridge-ethereum-rpc",
      eth.url,
      "--bridge-ethereum-gateway",
      predicted.ethereum,
      "--bridge-rustchain-gateway",
      predicted.rustchain,
    ],
  });
  const statusPort = await freePort();
  const statusUrl = `http://127.0.0.1:${statusPort}`;
  const guardians = cluster.genesis.validators.map((v) => v.bridge?.address as Hex);
  const deployment = await deployBridge({
    ethereum: ethAccess,
    rustchain: {
      ...rcAccess,
      rpcUrl: cluster.nodes[0]!.rpcUrl,
      signatureRpcUrls: cluster.nodes.map((n) => n.rpcUrl),
    },
    predicted,
    guardians,
    guardianSetExpiry: 0n,
    testToken: { symbol: "TST", holders: [accounts.alice.address], perHolder: 10n ** 24n },
    statusUrl,
  });
  const deploymentPath = join(cluster.dir, "deployment.json");
  await writeFile(deploymentPath, `${JSON.stringify(deployment, null, 2)}\n`);
  const relayerKey = await writeDevRelayerKey(cluster.dir, accounts.relayer);

  const world: BridgeWorld = {
    eth,
    cluster,
    redis,
    deployment,
    deploymentPath,
    statusUrl,
    relayer: undefined,
    async startRelayer() {
      const lines: string[] = [];
      const proc = spawn(
        process.execPath,
        relayerArgs({
          deployment: deploymentPath,
          key: relayerKey,
          redisUrl: redis.url,
          listenPort: statusPort,
          pollMs: 250,
        }),
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      const keep = (d: string) => {
        lines.push(...d.split("\n").filter((l) => l));
        if (lines.length > 400) lines.splice(0, lines.length - 400);
      };
      proc.stdout?.setEncoding("utf8").on("data", keep);
      proc.stderr?.setEncoding("utf8").on("data", keep);
      const exited = new Promise<void>((r) => proc.once("exit", () => r()));
      const relayer: RelayerProcess = {
        proc,
        output: () => lines.join("\n"),
        async stop(signal: NodeJS.Signals = "SIGTERM") {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          await exited;
        },
      };
      world.relayer = relayer;
      await waitUntil(
        "the relayer's status API",
        async () => {
          if (proc.exitCode !== null) throw new Error(`relayer exited:\n${relayer.output()}`);
          return (
            (await fetch(`${statusUrl}/health`)
              .then((r) => r.ok)
              .catch(() => false)) || undefined
          );
        },
        30_000,
      );
      return relayer;
    },
    async committeeKeys() {
      return Promise.all(
        cluster.nodes.map(
          async (n) =>
            (await loadBridgeKey(join(n.datadir, "bridge-keystore.json"), join(n.datadir, "password.txt"))).privateKey,
        ),
      );
    },
    async stop() {
      await world.relayer?.stop("SIGKILL");
      await cluster.stop();
      await redis.stop();
      await eth.stop();
    },
  };
  return world;
}
