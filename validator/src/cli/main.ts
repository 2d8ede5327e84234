// The `rustchain` command: node, devnet, keys.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  blsKeypairFromSeed,
  bytesToHex,
  DEVNET_ACCOUNTS,
  DEVNET_CHAIN_ID,
  DEVNET_MNEMONIC,
  type GenesisJson,
  parseGenesis,
  RustChainError,
} from "@rustchain/shared";
import { Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { encryptBlsKey, loadValidatorKey, writeKeystoreFile } from "../keys/keystore.ts";
import { loadGenesisFile, RustChainNode } from "../node/node.ts";
import { registerKeysCommand } from "./keysCommand.ts";

const ONE_RTC = 10n ** 18n;
/** Where devnet block rewards (tips) go: a fixed address that is none of the dev accounts. */
export const DEVNET_FEE_RECIPIENT = "0x5254000000000000000000000000000000000001";

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

function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function makeLogger(level: string) {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

async function runUntilSignal(node: RustChainNode): Promise<void> {
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void node.stop().then(done);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export function devnetGenesis(blsPublicKey: Uint8Array, slotMs: number): GenesisJson {
  const alloc: GenesisJson["alloc"] = {};
  for (const a of DEVNET_ACCOUNTS) alloc[a] = { balance: `0x${(10_000n * ONE_RTC).toString(16)}` };
  return {
    chainId: DEVNET_CHAIN_ID,
    timestamp: Math.floor(Date.now() / 1000),
    gasLimit: `0x${(300_000_000).toString(16)}`,
    baseFeePerGas: "0x3b9aca00",
    extraData: "0x",
    params: { slotMs, minBaseFeePerGas: "0x3b9aca00", safeDepth: 0, finalizedDepth: 0 },
    alloc,
    validators: [
      {
        blsPublicKey: bytesToHex(blsPublicKey),
        stake: `0x${(32n * ONE_RTC).toString(16)}`,
        feeRecipient: DEVNET_FEE_RECIPIENT,
      },
    ],
  };
}

/** Create the devnet's genesis, validator keystore and dev password on first start; reuse them afterwards. */
async function prepareDevnet(datadir: string, slotMs: number) {
  const genesisPath = `${datadir}/genesis.json`;
  const keystorePath = `${datadir}/validator-keystore.json`;
  const passwordPath = `${datadir}/dev-password.txt`;
  if (!existsSync(genesisPath)) {
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const key = blsKeypairFromSeed(randomBytes(32));
    // DEV ONLY: the password sits next to the keystore so the devnet starts unattended.
    const password = randomBytes(16).toString("hex");
    await writeFile(passwordPath, `${password}\n`, { mode: 0o600 });
    await writeKeystoreFile(keystorePath, await encryptBlsKey(key.secretKey, password, { kdf: "pbkdf2" }));
    await writeFile(genesisPath, `${JSON.stringify(devnetGenesis(key.publicKey, slotMs), null, 2)}\n`);
  }
  return { genesisPath, keystorePath, passwordPath };
}

const program = new Command();
program.name("rustchain").description("RustChain validator node and tools").version("0.1.0");

program
  .command("devnet")
  .description("run a one-validator local chain with 10 funded dev accounts (chain id 21076)")
  .option("--datadir <dir>", "data directory (created on first start)", ".rustchain/devnet")
  .option("--rpc-addr <host:port>", "JSON-RPC HTTP + WebSocket listen address", checkHostPort, "127.0.0.1:8545")
  .option("--metrics-addr <host:port>", "Prometheus /metrics listen address", checkHostPort, "127.0.0.1:6060")
  .option("--slot-ms <ms>", "slot length for a new devnet, in milliseconds", parseIntArg, 1000)
  .option("--reset", "delete the data directory first", false)
  .option("--log-level <level>", "trace, debug, info, warn, error", "info")
  .addHelpText(
    "after",
    `\nDev accounts: the first 10 accounts of the mnemonic "${DEVNET_MNEMONIC}", 10,000 RTC each.\nThe devnet keeps a dev-only keystore password in its data directory; never use it for real keys.`,
  )
  .action(async (o) => {
    const datadir = resolve(o.datadir);
    if (o.reset) await rm(datadir, { recursive: true, force: true });
    const files = await prepareDevnet(datadir, o.slotMs);
    const logger = makeLogger(o.logLevel);
    const { secretKey } = await loadValidatorKey(files.keystorePath, files.passwordPath);
    const genesis = parseGenesis(JSON.parse(await readFile(files.genesisPath, "utf8")));
    const node = await RustChainNode.start(
      { datadir, genesis, secretKey, rpc: parseHostPort(o.rpcAddr), metrics: parseHostPort(o.metricsAddr) },
      logger,
    );
    logger.info(
      { chainId: DEVNET_CHAIN_ID, accounts: DEVNET_ACCOUNTS.length, datadir },
      "Devnet running; Ctrl-C to stop",
    );
    await runUntilSignal(node);
  });

program
  .command("node")
  .description("run a validator node from a genesis file and an encrypted BLS keystore")
  .requiredOption("--datadir <dir>", "data directory")
  .requiredOption("--genesis <file>", "genesis JSON file")
  .option("--key <keystore>", "EIP-2335 keystore of this validator's BLS key (omit to run without producing blocks)")
  .option("--password-file <file>", "file holding the keystore password")
  .option("--rpc-addr <host:port>", "JSON-RPC HTTP + WebSocket listen address", checkHostPort, "127.0.0.1:8545")
  .option("--metrics-addr <host:port>", "Prometheus /metrics listen address", checkHostPort, "127.0.0.1:6060")
  .option("--log-level <level>", "trace, debug, info, warn, error", "info")
  .action(async (o) => {
    if (o.key && !o.passwordFile) program.error("error: --key needs --password-file");
    const logger = makeLogger(o.logLevel);
    const genesis = await loadGenesisFile(o.genesis);
    const secretKey = o.key ? (await loadValidatorKey(o.key, o.passwordFile)).secretKey : undefined;
    const node = await RustChainNode.start(
      {
        datadir: resolve(o.datadir),
        genesis,
        secretKey,
        rpc: parseHostPort(o.rpcAddr),
        metrics: parseHostPort(o.metricsAddr),
      },
      logger,
    );
    await runUntilSignal(node);
  });

registerKeysCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof RustChainError || (e as NodeJS.ErrnoException).code === "EADDRINUSE") {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
  throw e;
}
