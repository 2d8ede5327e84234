// The `rustchain` command: node, devnet, keys.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  blsKeypairFromSeed,
  blsPublicKey,
  DEVNET_ACCOUNTS,
  DEVNET_CHAIN_ID,
  DEVNET_MNEMONIC,
  describeError,
  type Genesis,
  hexToBytes,
  parseGenesis,
  RustChainError,
} from "@rustchain/shared";
import { Command, InvalidArgumentError, Option } from "commander";
import { type Logger, pino } from "pino";
import { BYZANTINE_KINDS, type ByzantineKind } from "../consensus/testing/byzantinePublisher.ts";
import { createBridgeKey, writeBridgeKeystore } from "../keys/bridgeKeystore.ts";
import { encryptBlsKey, loadValidatorKey, writeKeystoreFile } from "../keys/keystore.ts";
import { loadGenesisFile, RustChainNode } from "../node/node.ts";
import { loadReplicationKey } from "../replication/replicationKey.ts";
import { checkUrl, parseCheckpoint } from "./argParsers.ts";
import { addBridgeOptions, bridgeArgs, bridgeNodeOptions } from "./bridgeOptions.ts";
import { applyConfig } from "./configFile.ts";
import { registerContentCommand } from "./contentCommand.ts";
import { registerContractsCommand } from "./contractsCommand.ts";
import { runDevnetCluster } from "./devnetCluster.ts";
import { type DevnetValidatorKey, devnetFeeRecipient, devnetGenesis } from "./devnetGenesis.ts";
import { registerKeysCommand } from "./keysCommand.ts";
import { registerModelCommand } from "./modelCommand.ts";
import { addRemoteSignerOptions, registerSignerCommand, remoteSignerNodeOptions } from "./signerCommand.ts";
import { registerSlashingProtectionCommand } from "./slashingProtectionCommand.ts";
import {
  addSnapshotExportOptions,
  addWarpSyncOptions,
  registerSnapshotCommand,
  snapshotNodeOptions,
} from "./snapshotCommand.ts";
import { addStateOptions, pruningNodeOptions, stateArgs } from "./stateOptions.ts";

function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError("expected host:port, e.g. 127.0.0.1:8545");
  return { host: m[1] || "127.0.0.1", port: Number(m[2]) };
}

/** Validates a host:port option value and keeps it as written (parsed in the action). */
function checkHostPort(value: string): string {
  parseHostPort(value);
  return value;
}

/** --grpc-addr: host:port, or "off" for no gRPC server. */
function checkGrpcAddr(value: string): string {
  return value === "off" ? value : checkHostPort(value);
}

const GRPC_ADDR_HELP =
  'gRPC listen address (docs/grpc.md): node status and data, heads and replication streams; "off" disables';

const RPC_DEBUG_HELP =
  "serve debug_traceTransaction and debug_traceCall (callTracer) on the RPC port: each re-executes up to a block, " +
  "2 at a time, 5 s at most (docs/node.md, Traces)";

function grpcNodeOptions(value: string): { host: string; port: number } | undefined {
  return value === "off" ? undefined : parseHostPort(value);
}

/** host:port as a libp2p TCP multiaddr: /ip4/… for an IPv4 address, /ip6/… for [v6], /dns/… for a name. */
function announceMultiaddr(value: string): string {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!m || Number(m[3]) > 65535) throw new CliError(`--announce-addr: expected host:port, got ${value}`);
  if (m[1]) return `/ip6/${m[1]}/tcp/${m[3]}`;
  const host = m[2] as string;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? `/ip4/${host}/tcp/${m[3]}` : `/dns/${host}/tcp/${m[3]}`;
}

function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function makeLogger(level: string, name?: string): Logger {
  return pino({ level, base: name ? { node: name } : undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

async function runUntilSignal(node: RustChainNode, logger: Logger): Promise<void> {
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void node.stop().then(done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    // Started by a supervisor over an IPC channel (`rustchain devnet --validators N`, test clusters): stop cleanly
    // when the supervisor is gone, even if it was SIGKILLed and could forward nothing. The channel itself must not
    // keep the process alive once the node has stopped.
    if (process.send) {
      process.channel?.unref();
      process.once("disconnect", () => {
        logger.warn("Supervisor process exited; stopping");
        stop();
      });
    }
  });
}

/**
 * Create the devnet on first start: per validator a directory with an encrypted keystore and a dev password (DEV
 * ONLY: the password sits next to the keystore so the devnet starts unattended), and one genesis for all of them.
 * Later starts reuse everything.
 */
async function prepareDevnet(datadir: string, count: number, slotMs: number, withAi: boolean, logger: Logger) {
  const genesisPath = `${datadir}/genesis.json`;
  const aiModelPath = `${datadir}/ai-model.bin`;
  const nodeDir = (i: number) => (count === 1 ? datadir : `${datadir}/node-${i}`);
  const files = Array.from({ length: count }, (_, i) => ({
    datadir: nodeDir(i),
    keystorePath: `${nodeDir(i)}/validator-keystore.json`,
    bridgeKeystorePath: `${nodeDir(i)}/bridge-keystore.json`,
    passwordPath: `${nodeDir(i)}/dev-password.txt`,
  }));
  if (existsSync(genesisPath)) {
    let existing: Genesis;
    try {
      existing = parseGenesis(JSON.parse(await readFile(genesisPath, "utf8")));
    } catch (err) {
      throw new CliError(
        `${genesisPath} is not a valid genesis (${describeError(err)}); a devnet made by an older version must be recreated: use --reset`,
      );
    }
    if (existing.validators.length !== count) {
      throw new CliError(
        `${datadir} holds a devnet of ${existing.validators.length} validator(s); use --reset or another --datadir`,
      );
    }
    return { genesisPath, files, aiModelPath: existing.ai && existsSync(aiModelPath) ? aiModelPath : undefined };
  }
  await mkdir(datadir, { recursive: true, mode: 0o700 });
  const keys: DevnetValidatorKey[] = [];
  for (const [i, f] of files.entries()) {
    await mkdir(f.datadir, { recursive: true, mode: 0o700 });
    const key = blsKeypairFromSeed(randomBytes(32));
    const password = randomBytes(16).toString("hex");
    await writeFile(f.passwordPath, `${password}\n`, { mode: 0o600 });
    await writeKeystoreFile(f.keystorePath, await encryptBlsKey(key.secretKey, password, { kdf: "pbkdf2" }));
    const bridgeKey = createBridgeKey();
    await writeBridgeKeystore(f.bridgeKeystorePath, bridgeKey, password, true);
    keys.push({
      secretKey: key.secretKey,
      feeRecipient: devnetFeeRecipient(i),
      bridgePrivateKey: bridgeKey.privateKey,
    });
  }
  let ai: { model: Uint8Array; verifyingKey: Uint8Array } | undefined;
  if (withAi) {
    logger.info("Building the Proof-of-AI circuit and its dev-only keys (first start only, about 30 s)");
    const { devnetAiModel, ensurePoaiCircuit } = await import("../consensus/ai/index.ts");
    const circuit = await ensurePoaiCircuit({ log: (msg: string) => logger.info(msg) });
    ai = { model: devnetAiModel(), verifyingKey: circuit.verifyingKey };
    // The model's bytes for the first validator to publish (genesis names it by CID only).
    await writeFile(aiModelPath, ai.model);
  }
  // Written last: its presence marks a complete devnet.
  await writeFile(`${genesisPath}.tmp`, `${JSON.stringify(devnetGenesis(keys, slotMs, ai), null, 2)}\n`);
  await rename(`${genesisPath}.tmp`, genesisPath);
  return { genesisPath, files, aiModelPath: ai ? aiModelPath : undefined };
}

class CliError extends Error {}

const program = new Command();
program
  .name("rustchain")
  .description("RustChain validator node and tools")
  .version(process.env.RUSTCHAIN_VERSION ?? "0.1.0");

const devnetCommand = program
  .command("devnet")
  .description("run a local chain of N validators with 10 funded dev accounts (chain id 21076)")
  .option("--datadir <dir>", "data directory (created on first start)", ".rustchain/devnet")
  .option("--validators <n>", "number of validator processes (each with its own datadir and ports)", parseIntArg, 1)
  .option(
    "--rpc-addr <host:port>",
    "JSON-RPC HTTP + WebSocket listen address (of the first validator)",
    checkHostPort,
    "127.0.0.1:8545",
  )
  .option("--rpc-debug", `${RPC_DEBUG_HELP} (on every validator)`, false)
  .option(
    "--metrics-addr <host:port>",
    "Prometheus /metrics listen address (of the first validator)",
    checkHostPort,
    "127.0.0.1:6060",
  )
  .option("--grpc-addr <host:port>", `${GRPC_ADDR_HELP} (of the first validator)`, checkGrpcAddr, "127.0.0.1:9090")
  .option("--slot-ms <ms>", "slot length for a new devnet, in milliseconds", parseIntArg, 1000)
  .option("--no-ai", "create the devnet without the Proof-of-AI task (skips building its circuit)")
  .option("--miner", "every validator also mines Proof-of-AI tasks", false)
  .option(
    "--replication",
    "serve the replication feed (the gRPC stream; with --admin-addr the pull endpoints) with <datadir>/replication-key",
    false,
  )
  .option("--replicate-to <url>", "push the replication feed to this edge ingest URL (one-validator devnet)", checkUrl)
  .option(
    "--replication-key-file <file>",
    "hex HMAC key of the replication feed (default: <datadir>/replication-key, created with mode 0600); implies --replication",
  )
  .option(
    "--admin-addr <host:port>",
    "admin API address (also serves GET /replication/* for edge gap repair); token in <datadir>/admin-token",
    checkHostPort,
  )
  .option(
    "--no-tx-journal",
    "keep the transaction pool in memory only: accepted transactions are lost on a restart or crash",
  )
  .option("--no-content", "no content store (bitswap, the /ipfs/ gateway, `rustchain content`: docs/content.md)")
  .option("--reset", "delete the data directory first", false)
  .option("--log-level <level>", "trace, debug, info, warn, error", "info");
addSnapshotExportOptions(devnetCommand);
addStateOptions(devnetCommand);
addBridgeOptions(devnetCommand, false);
devnetCommand
  .addHelpText(
    "after",
    `\nDev accounts: the first 10 accounts of the mnemonic "${DEVNET_MNEMONIC}", 10,000 RTC each.\nThe devnet keeps dev-only keystore passwords in its data directory; never use them for real keys.\nWith --validators N > 1, validator i runs in its own process with datadir <datadir>/node-i; RPC and metrics\nare on the first one, the others pick free ports. Ctrl-C stops them all.`,
  )
  .action(async (o) => {
    const datadir = resolve(o.datadir);
    const count = o.validators as number;
    if (count < 1 || count > 64) program.error("error: --validators must be between 1 and 64");
    if (o.reset) await rm(datadir, { recursive: true, force: true });
    let snapshotOptions: ReturnType<typeof snapshotNodeOptions>;
    try {
      snapshotOptions = snapshotNodeOptions(o);
    } catch (e) {
      return program.error(`error: ${describeError(e)}`);
    }
    const logger = makeLogger(o.logLevel);
    const prepared = await prepareDevnet(datadir, count, o.slotMs, o.ai, logger);
    if (count > 1) {
      if (o.replicateTo) program.error("error: --replicate-to needs a one-validator devnet");
      if (o.adminAddr) program.error("error: --admin-addr needs a one-validator devnet");
      // The feed costs the first validator a JSON bundle per block (a tenth of its throughput at 10,000 tx/s): only
      // when asked for.
      const replicationKeyFile =
        o.grpcAddr !== "off" && (o.replication || o.replicationKeyFile)
          ? await devnetReplicationKeyFile(datadir, o.replicationKeyFile)
          : undefined;
      const clean = await runDevnetCluster({
        genesisPath: prepared.genesisPath,
        nodes: prepared.files,
        rpcAddr: o.rpcAddr,
        metricsAddr: o.metricsAddr,
        grpcAddr: o.grpcAddr,
        logLevel: o.logLevel,
        miner: o.miner,
        logger,
        extraArgs: (i) => [
          ...(o.snapshotEvery
            ? [
                "--snapshot-every",
                String(o.snapshotEvery),
                "--snapshot-keep",
                String(o.snapshotKeep),
                "--snapshot-chunk-bytes",
                String(o.snapshotChunkBytes),
                ...(i === 0 && o.snapshotTo ? ["--snapshot-to", o.snapshotTo] : []),
              ]
            : []),
          ...(existsSync(prepared.files[i]!.bridgeKeystorePath)
            ? ["--bridge-keystore", prepared.files[i]!.bridgeKeystorePath]
            : []),
          ...bridgeArgs(o),
          ...(o.txJournal ? [] : ["--no-tx-journal"]),
          ...(o.content ? [] : ["--no-content"]),
          ...(o.rpcDebug ? ["--rpc-debug"] : []),
          // The first validator publishes the Proof-of-AI model; the others fetch it by CID over bitswap (each needs
          // its own copy when there is no content store to fetch through).
          ...(prepared.aiModelPath && (i === 0 || !o.content) ? ["--ai-model", prepared.aiModelPath] : []),
          // The first validator serves the replication stream over gRPC with the devnet's key.
          ...(i === 0 && replicationKeyFile ? ["--replication-key-file", replicationKeyFile] : []),
          ...stateArgs(o),
        ],
      });
      if (!clean) process.exitCode = 1;
      return;
    }
    const files = prepared.files[0]!;
    const { secretKey } = await loadValidatorKey(files.keystorePath, files.passwordPath);
    let bridge: Awaited<ReturnType<typeof bridgeNodeOptions>>;
    try {
      bridge = await bridgeNodeOptions({
        ...o,
        ...(existsSync(files.bridgeKeystorePath)
          ? { bridgeKeystore: files.bridgeKeystorePath, passwordFile: files.passwordPath }
          : {}),
      });
    } catch (e) {
      return program.error(`error: ${describeError(e)}`);
    }
    const genesis = await loadGenesisFile(prepared.genesisPath);
    const node = await RustChainNode.start(
      {
        datadir,
        genesis,
        secretKey,
        rpc: parseHostPort(o.rpcAddr),
        debug: o.rpcDebug ? {} : undefined,
        metrics: parseHostPort(o.metricsAddr),
        admin: o.adminAddr ? parseHostPort(o.adminAddr) : undefined,
        consensus: o.miner ? { miner: await minerOptions(genesis.validators[0]!.feeRecipient) } : {},
        aiModelFile: prepared.aiModelPath,
        ...snapshotOptions,
        pruning: pruningNodeOptions(o),
        bridge,
        txJournal: o.txJournal,
        content: o.content ? {} : undefined,
        grpc: grpcNodeOptions(o.grpcAddr),
        // The feed is on when asked for (--replication, a key file, or a push target): building a JSON bundle per
        // block costs about a tenth of the node's throughput at 10,000 tx/s, which a plain `npm start` should not pay.
        replication:
          o.replicateTo || o.replication || o.replicationKeyFile
            ? {
                key: await loadReplicationKey(await devnetReplicationKeyFile(datadir, o.replicationKeyFile), true),
                pushTo: o.replicateTo,
              }
            : undefined,
      },
      logger,
    );
    logger.info(
      { chainId: DEVNET_CHAIN_ID, accounts: DEVNET_ACCOUNTS.length, datadir },
      "Devnet running; Ctrl-C to stop",
    );
    await runUntilSignal(node, logger);
  });

/** The devnet's replication key file (created with mode 0600 on first use). */
async function devnetReplicationKeyFile(datadir: string, given: string | undefined): Promise<string> {
  const path = resolve(given ?? `${datadir}/replication-key`);
  await loadReplicationKey(path, true);
  return path;
}

async function minerOptions(address: Uint8Array) {
  const { ensurePoaiCircuit } = await import("../consensus/ai/index.ts");
  const circuit = await ensurePoaiCircuit();
  return { address, artefacts: { wasm: circuit.artefacts.wasm, zkey: circuit.artefacts.zkey } };
}

function parseList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").filter((s) => s.length > 0)];
}

const nodeCommand = program
  .command("node")
  .description("run a validator node from a genesis file and an encrypted BLS keystore")
  .requiredOption("--datadir <dir>", "data directory")
  .requiredOption("--genesis <file>", "genesis JSON file")
  .option("--key <keystore>", "EIP-2335 keystore of this validator's BLS key (omit to run without producing blocks)")
  .option("--password-file <file>", "file holding the keystore password")
  .option("--rpc-addr <host:port>", "JSON-RPC HTTP + WebSocket listen address", checkHostPort, "127.0.0.1:8545")
  .option("--rpc-debug", RPC_DEBUG_HELP, false)
  .option("--metrics-addr <host:port>", "Prometheus /metrics listen address", checkHostPort, "127.0.0.1:6060")
  .option("--grpc-addr <host:port>", GRPC_ADDR_HELP, checkGrpcAddr, "127.0.0.1:9090")
  .option("--p2p-addr <host:port>", "libp2p TCP listen address", checkHostPort, "127.0.0.1:9000")
  .option("--bootstrap <multiaddrs>", "comma-separated peers to connect to first (/ip4/…/tcp/…/p2p/…)", parseList, [])
  .option("--no-p2p", "run without networking (a chain of one validator)")
  .option("--no-content", "no content store (bitswap, the /ipfs/ gateway, `rustchain content`: docs/content.md)")
  .option(
    "--no-tx-journal",
    "keep the transaction pool in memory only: accepted transactions are lost on a restart or crash",
  )
  .option(
    "--announce-addr <host:port>",
    "address peers should dial (comma-separated or repeated), when it differs from --p2p-addr (NAT, 0.0.0.0)",
    parseList,
    [],
  )
  .option("--max-peers <n>", "most connected peers", parseIntArg)
  .option("--no-dht-private-addrs", "leave private and loopback addresses out of DHT records (public hosts)")
  .option(
    "--doppelganger-slots <n>",
    "before signing, watch the network this many slots (once synced) for this key live elsewhere; 0 = off",
    parseIntArg,
    0,
  )
  .option("--config <file>", "JSON file with any of these flags (camelCase keys); RUSTCHAIN_<FLAG> env overrides it")
  .option(
    "--admin-addr <host:port>",
    "admin API (peers, deny list) address; token in <datadir>/admin-token",
    checkHostPort,
  )
  .option(
    "--checkpoint <number:hash>",
    "weak-subjectivity checkpoint: refuse chains without this block",
    parseCheckpoint,
  )
  .option(
    "--miner [address]",
    "compute Proof-of-AI tasks; rewards go to address (default: the validator's fee recipient)",
  )
  .option(
    "--ai-model <file>",
    "a local copy of the genesis Proof-of-AI model: used only if it hashes to genesis ai.modelCid, then served to peers (without it a miner fetches the model by CID)",
  )
  .option(
    "--max-peers-per-prefix <n>",
    "inbound connections (and connection attempts per second) allowed per address prefix",
    parseIntArg,
  )
  .option("--replicate-to <url>", "push the replication feed (docs/edge.md) to this edge ingest URL", checkUrl)
  .option(
    "--replication-key-file <file>",
    "hex HMAC key of the replication feed; also serves GET /replication/* on --admin-addr and the gRPC stream",
  )
  .option("--log-level <level>", "trace, debug, info, warn, error", "info")
  .option("--log-name <name>", "name added to every log line (to tell processes apart)");
addSnapshotExportOptions(nodeCommand);
addWarpSyncOptions(nodeCommand);
addStateOptions(nodeCommand);
addBridgeOptions(nodeCommand, true);
addRemoteSignerOptions(nodeCommand);
nodeCommand
  .addOption(
    new Option(
      "--byzantine [kinds]",
      "TEST ONLY: equivocate on blocks,attestations,finalize_votes (default all; needs RUSTCHAIN_ALLOW_BYZANTINE=1)",
    ).hideHelp(),
  )
  .action(async (o) => {
    if (o.key && !o.passwordFile) program.error("error: --key needs --password-file");
    if (o.replicateTo && !o.replicationKeyFile) program.error("error: --replicate-to needs --replication-key-file");
    if (o.byzantine && process.env.RUSTCHAIN_ALLOW_BYZANTINE !== "1") {
      program.error("error: --byzantine is a test mode and needs RUSTCHAIN_ALLOW_BYZANTINE=1");
    }
    let byzantine: Set<ByzantineKind> | undefined;
    if (o.byzantine) {
      const kinds = typeof o.byzantine === "string" ? o.byzantine.split(",") : [...BYZANTINE_KINDS];
      const unknown = kinds.filter((k: string) => !(BYZANTINE_KINDS as readonly string[]).includes(k));
      if (unknown.length > 0) program.error(`error: --byzantine: unknown kind ${unknown.join(",")}`);
      byzantine = new Set(kinds as ByzantineKind[]);
    }
    let snapshotOptions: ReturnType<typeof snapshotNodeOptions>;
    let bridge: Awaited<ReturnType<typeof bridgeNodeOptions>>;
    let remoteSigner: ReturnType<typeof remoteSignerNodeOptions>;
    try {
      snapshotOptions = snapshotNodeOptions(o);
      bridge = await bridgeNodeOptions(o);
      remoteSigner = remoteSignerNodeOptions(o);
    } catch (e) {
      return program.error(`error: ${describeError(e)}`);
    }
    if (o.syncMode === "snap" && !o.p2p) program.error("error: --sync-mode snap needs the network (drop --no-p2p)");
    const logger = makeLogger(o.logLevel, o.logName);
    const genesis = await loadGenesisFile(o.genesis).catch((e: Error) =>
      program.error(`error: cannot load the genesis file ${o.genesis}: ${describeError(e)}`),
    );
    const secretKey = o.key ? (await loadValidatorKey(o.key, o.passwordFile)).secretKey : undefined;
    let miner: Awaited<ReturnType<typeof minerOptions>> | undefined;
    if (o.miner) {
      if (!genesis.ai) program.error("error: --miner needs a genesis with an `ai` section");
      let address: Uint8Array;
      if (typeof o.miner === "string") {
        if (!/^0x[0-9a-fA-F]{40}$/.test(o.miner)) program.error("error: --miner expects a 20-byte 0x address");
        address = hexToBytes(o.miner.toLowerCase());
      } else {
        const pub = remoteSigner
          ? Buffer.from(remoteSigner.publicKey)
          : secretKey && Buffer.from(blsPublicKey(secretKey));
        const v = pub && genesis.validators.find((x) => pub.equals(x.blsPublicKey));
        if (!v) return program.error("error: --miner without an address needs this node's validator key");
        address = v.feeRecipient;
      }
      if (!o.content && !o.aiModel) {
        program.error("error: --miner needs the model: --ai-model <file>, or the content store to fetch it by CID");
      }
      miner = await minerOptions(address);
    }
    const p2p = parseHostPort(o.p2pAddr);
    const node = await RustChainNode.start(
      {
        datadir: resolve(o.datadir),
        genesis,
        aiModelFile: o.aiModel ? resolve(o.aiModel) : undefined,
        secretKey,
        rpc: parseHostPort(o.rpcAddr),
        debug: o.rpcDebug ? {} : undefined,
        metrics: parseHostPort(o.metricsAddr),
        grpc: grpcNodeOptions(o.grpcAddr),
        admin: o.adminAddr ? parseHostPort(o.adminAddr) : undefined,
        network: o.p2p
          ? {
              listenAddrs: [`/ip4/${p2p.host}/tcp/${p2p.port}`],
              bootstrap: o.bootstrap,
              announceAddrs: (o.announceAddr as string[]).map(announceMultiaddr),
              ...(o.maxPeers ? { maxPeers: o.maxPeers } : {}),
              dht: { allowPrivateAddresses: o.dhtPrivateAddrs },
              // A loopback devnet has every peer behind one address: allow as many inbound connections (and
              // connection attempts per second) from it as the prefix limit.
              ...(o.maxPeersPerPrefix
                ? { maxInboundPerPrefix: o.maxPeersPerPrefix, inboundConnectionThreshold: o.maxPeersPerPrefix }
                : {}),
            }
          : undefined,
        remoteSigner,
        checkpoint: o.checkpoint,
        replication: o.replicationKeyFile
          ? { key: await loadReplicationKey(resolve(o.replicationKeyFile)), pushTo: o.replicateTo }
          : undefined,
        consensus: miner ? { miner } : {},
        byzantine,
        ...snapshotOptions,
        pruning: pruningNodeOptions(o),
        bridge,
        doppelgangerSlots: o.doppelgangerSlots,
        txJournal: o.txJournal,
        content: o.content ? {} : undefined,
      },
      logger,
    );
    await runUntilSignal(node, logger);
  });

registerKeysCommand(program);
registerSlashingProtectionCommand(program);
registerSnapshotCommand(program);
registerSignerCommand(program);
registerContentCommand(program);
registerModelCommand(program);
registerContractsCommand(program);

try {
  const argv = process.argv;
  // `rustchain node --config <file>` and RUSTCHAIN_* environment overrides (configFile.ts).
  const args =
    argv[2] === "node" ? [...argv.slice(0, 3), ...applyConfig(nodeCommand, argv.slice(3), process.env)] : argv;
  await program.parseAsync(args);
} catch (e) {
  if (e instanceof InvalidArgumentError) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  if (e instanceof RustChainError || e instanceof CliError || (e as NodeJS.ErrnoException).code === "EADDRINUSE") {
    console.error(`error: ${describeError(e)}`);
    process.exit(1);
  }
  throw e;
}
