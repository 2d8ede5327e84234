// `npm run devnet:bridge`: the whole bridge on one machine, for dApp and bridge development. Starts, in order:
//   1. `hardhat node` as Ethereum (chain id 31337, the "test … junk" accounts funded) on --eth-addr;
//   2. redis-server on a free loopback port, without persistence (the relayer's state);
//   3. `rustchain devnet --validators N --reset --no-ai` (datadir <datadir>/chain): every validator has a bridge key in
//      genesis and watches both gateways at their predicted addresses;
//   4. the contracts: both gateways, a test ERC-20 "TST" on Ethereum (1,000,000 to each of the first 5 accounts), and
//      the wrapped ETH, TST (RustChain) and wRTC (Ethereum), created from AssetMeta messages the committee signs;
//   5. the relayer (bridge-relayer/bin/rustchain-relayer.js) with a dev-only keystore for account #1, its status page
//      on --status-addr.
// Writes <datadir>/deployment.json (RPC URLs and chain ids, every contract address, the status URL), which the
// `rustchain bridge …` commands read by default. Ctrl-C (or SIGTERM) stops everything; if one part exits, all stop.
//
//   npm run devnet:bridge [-- --validators 4] [--slot-ms 1000] [--eth-addr 127.0.0.1:8546] [--rpc-addr 127.0.0.1:8545]
//                         [--status-addr 127.0.0.1:8790] [--datadir .rustchain/bridge]
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseGenesis } from "@rustchain/shared";
import { bytesToHex, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { startHardhatNode } from "../bridge-relayer/test/support/hardhatNode.ts";
import { type LocalRedis, RedisNotInstalledError, startLocalRedis } from "../edge/src/node/redisServer.ts";
import { freePort } from "../validator/src/cli/devnetCluster.ts";
import { deployBridge, predictGateways } from "./bridge/deployBridge.ts";
import { relayerArgs, writeDevRelayerKey } from "./bridge/devRelayer.ts";

const ROOT = resolve(import.meta.dirname, "..");
const MNEMONIC = "test test test test test test test test test test test junk";
const RUSTCHAIN_CHAIN_ID = 21076;

const { values: args } = parseArgs({
  options: {
    validators: { type: "string", default: "4" },
    "slot-ms": { type: "string", default: "1000" },
    "eth-addr": { type: "string", default: "127.0.0.1:8546" },
    "rpc-addr": { type: "string", default: "127.0.0.1:8545" },
    "status-addr": { type: "string", default: "127.0.0.1:8790" },
    datadir: { type: "string", default: ".rustchain/bridge" },
    "log-level": { type: "string", default: "info" },
  },
});

const say = (msg: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg: `devnet:bridge: ${msg}`, ...fields }));

function fail(msg: string): never {
  console.error(`devnet:bridge: ${msg}`);
  process.exit(1);
}

const port = (v: string, flag: string) => {
  const m = /^127\.0\.0\.1:(\d{1,5})$/.exec(v);
  if (!m || Number(m[1]) > 65535) fail(`${flag} expects 127.0.0.1:<port>, got ${v}`);
  return Number(m[1]);
};

async function main(): Promise<void> {
  const validators = Number(args.validators);
  if (!Number.isInteger(validators) || validators < 1 || validators > 16) fail("--validators must be 1..16");
  const slotMs = Number(args["slot-ms"]);
  const ethPort = port(String(args["eth-addr"]), "--eth-addr");
  const rpcAddr = String(args["rpc-addr"]);
  port(rpcAddr, "--rpc-addr");
  const statusPort = port(String(args["status-addr"]), "--status-addr");
  const datadir = resolve(String(args.datadir));
  await mkdir(datadir, { recursive: true, mode: 0o700 });

  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  let exitCode = 0;
  let redis: LocalRedis | undefined;
  let stopEthereum: (() => Promise<void>) | undefined;
  const stopAll = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${why})`);
    for (const { child } of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await new Promise((r) => child.once("exit", r));
        clearTimeout(killer);
      }
    }
    await stopEthereum?.();
    await redis?.stop();
    say("stopped");
    process.exit(exitCode);
  };
  process.on("SIGINT", () => void stopAll("SIGINT"));
  process.on("SIGTERM", () => void stopAll("SIGTERM"));
  const run = (name: string, argv: string[], onLine?: (line: string) => void) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let partial = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      process.stdout.write(d);
      const lines = (partial + d).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) onLine?.(l);
    });
    children.push({ name, child });
    child.once("exit", (code, signal) => {
      if (stopping) return;
      exitCode = 1;
      void stopAll(`${name} exited (code ${code}, signal ${signal})`);
    });
    return child;
  };

  try {
    const eth = await startHardhatNode({ port: ethPort });
    stopEthereum = () => eth.stop();
    say("hardhat node started", { url: eth.url, chainId: 31337 });
    try {
      redis = await startLocalRedis({ port: await freePort(), detached: true });
    } catch (e) {
      if (e instanceof RedisNotInstalledError) fail(e.message);
      throw e;
    }
    say("redis-server started", { url: redis.url });

    const deployer = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
    const ethAccess = { rpcUrl: eth.url, chainId: 31337, deployer, blockTimeMs: 1000 };
    const rcUrl = `http://${rpcAddr}`;
    const rcAccess = { rpcUrl: rcUrl, chainId: RUSTCHAIN_CHAIN_ID, deployer, blockTimeMs: slotMs };
    const predicted = await predictGateways(ethAccess, rcAccess);
    const rpcUrls: string[] = [];
    const chainDir = join(datadir, "chain");
    run(
      "rustchain devnet",
      [
        join(ROOT, "validator/bin/rustchain.js"),
        "devnet",
        "--reset",
        "--no-ai",
        "--datadir",
        chainDir,
        "--validators",
        String(validators),
        "--slot-ms",
        String(slotMs),
        "--rpc-addr",
        rpcAddr,
        "--metrics-addr",
        `127.0.0.1:${await freePort()}`,
        "--grpc-addr",
        `127.0.0.1:${await freePort()}`,
        "--log-level",
        String(args["log-level"]),
        "--bridge-ethereum-rpc",
        eth.url,
        "--bridge-ethereum-gateway",
        predicted.ethereum,
        "--bridge-rustchain-gateway",
        predicted.rustchain,
      ],
      (line) => {
        // Each validator's RPC, from the supervisor's "Started validator process" lines (or the one-validator devnet).
        if (!line.includes("Started validator process")) return;
        try {
          const rpc = (JSON.parse(line) as { rpc?: string }).rpc;
          if (rpc) rpcUrls.push(`http://${rpc}`);
        } catch {
          // not JSON
        }
      },
    );
    const deadline = Date.now() + 120_000;
    while (!(await rpcAnswers(rcUrl))) {
      if (stopping) return;
      if (Date.now() > deadline) throw new Error("the RustChain devnet RPC did not answer in 120 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    const genesis = parseGenesis(JSON.parse(await readFile(join(chainDir, "genesis.json"), "utf8")));
    const guardians = genesis.validators.map((v) => {
      if (!v.bridge) throw new Error("a devnet validator without a bridge key: recreate the devnet");
      return bytesToHex(v.bridge.address) as Hex;
    });
    const statusUrl = `http://127.0.0.1:${statusPort}`;
    const holders = [0, 1, 2, 3, 4].map((i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }).address);
    say("deploying the bridge contracts");
    const deployment = await deployBridge({
      ethereum: ethAccess,
      rustchain: { ...rcAccess, signatureRpcUrls: rpcUrls.length > 0 ? rpcUrls : [rcUrl] },
      predicted,
      guardians,
      guardianSetExpiry: 86_400n,
      testToken: { symbol: "TST", holders, perHolder: 10n ** 24n },
      statusUrl,
      log: (m) => say(m),
    });
    const deploymentPath = join(datadir, "deployment.json");
    await writeFile(deploymentPath, `${JSON.stringify(deployment, null, 2)}\n`);
    say("deployment written", { path: deploymentPath });

    // The relayer: account #1, in a dev-only keystore.
    const key = await writeDevRelayerKey(datadir, mnemonicToAccount(MNEMONIC, { addressIndex: 1 }));
    run(
      "relayer",
      relayerArgs({
        deployment: deploymentPath,
        key,
        redisUrl: redis.url,
        listenPort: statusPort,
        logLevel: String(args["log-level"]),
      }),
    );
    say("bridge devnet running; Ctrl-C to stop", {
      ethereum: eth.url,
      rustchain: rcUrl,
      status: statusUrl,
      deployment: deploymentPath,
      tokens: deployment.tokens.map(
        (t) => `${t.symbol}: ethereum ${t.ethereum ?? "-"} rustchain ${t.rustchain ?? "-"}`,
      ),
    });
  } catch (e) {
    exitCode = 1;
    say(`failed: ${(e as Error).message}`);
    await stopAll("start-up failed");
  }
}

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(2_000),
    });
    return typeof ((await res.json()) as { result?: unknown }).result === "string";
  } catch {
    return false;
  }
}

await main();
