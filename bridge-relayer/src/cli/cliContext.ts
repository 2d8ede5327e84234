// What every `rustchain bridge` subcommand starts from: the deployment file, the user's account (for the commands
// that send transactions), viem clients for both chains, and where output goes (--json: one JSON document on stdout,
// progress on stderr; otherwise all of it for people on stdout).
import { RustChainError } from "@rustchain/shared";
import type { Command } from "commander";
import {
  type Account,
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { chainDefinition } from "../clients.ts";
import { type ChainName, type Deployment, loadDeployment } from "../deployment.ts";
import { type AccountKeySource, loadAccount } from "../relayerKey.ts";
import { cliError } from "./bridgeCliError.ts";

export const DEFAULT_DEPLOYMENT = ".rustchain/bridge/deployment.json";

export interface CommonOptions {
  deployment: string;
  keystore?: string;
  passwordFile?: string;
  privateKeyFile?: string;
  json?: boolean;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option("--deployment <file>", "bridge deployment file", DEFAULT_DEPLOYMENT)
    .option("--keystore <file>", "your account: a Web3 Secret Storage v3 keystore (with --password-file)")
    .option("--password-file <file>", "file holding the keystore's password")
    .option("--private-key-file <file>", "your account: a file with its hex private key (mode 600)")
    .option("--json", "print one JSON document (progress goes to stderr)");
}

export type ChainPublicClients = Record<ChainName, PublicClient>;
export type UserWallet = WalletClient<Transport, ReturnType<typeof chainDefinition>, Account>;

export class Output {
  constructor(readonly json: boolean) {}

  /** A step as it happens (state changes, signatures gathered, transactions sent). */
  progress(line: string): void {
    (this.json ? process.stderr : process.stdout).write(`${line}\n`);
  }

  /** The command's result: `lines` for people, `value` for --json. */
  result(lines: string[], value: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, jsonValue, 2)}\n`);
    else process.stdout.write(`${lines.join("\n")}\n`);
  }
}

/** bigints as decimal strings, byte arrays as hex: JSON has neither. */
function jsonValue(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

export class CliContext {
  readonly out: Output;
  readonly clients: ChainPublicClients;

  private constructor(
    readonly deployment: Deployment,
    readonly options: CommonOptions,
  ) {
    this.out = new Output(Boolean(options.json));
    const make = (name: ChainName) =>
      createPublicClient({
        chain: chainDefinition(deployment, name),
        transport: http(deployment[name].rpcUrl, { timeout: 15_000, retryCount: 2 }),
        pollingInterval: 250,
      }) as PublicClient;
    this.clients = { ethereum: make("ethereum"), rustchain: make("rustchain") };
  }

  static async open(options: CommonOptions): Promise<CliContext> {
    return new CliContext(await openDeployment(options.deployment), options);
  }

  /** The user's account; refused before anything is sent when no key (or an unsafe one) is given. */
  async account(): Promise<Account> {
    return loadAccount(keySource(this.options));
  }

  wallet(chain: ChainName, account: Account): UserWallet {
    return createWalletClient({
      chain: chainDefinition(this.deployment, chain),
      transport: http(this.deployment[chain].rpcUrl, { timeout: 30_000, retryCount: 2 }),
      account,
      pollingInterval: 250,
    });
  }

  gateway(chain: ChainName): `0x${string}` {
    return this.deployment[chain].gateway as `0x${string}`;
  }
}

export function keySource(o: CommonOptions): AccountKeySource {
  if (o.privateKeyFile && o.keystore)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "key" },
      "give either --keystore (with --password-file) or --private-key-file, not both",
    );
  if (o.privateKeyFile) return { privateKeyFile: o.privateKeyFile };
  if (o.keystore) {
    if (!o.passwordFile)
      throw cliError({ code: "BAD_ARGUMENT", reason: "key" }, "--keystore needs --password-file <file>");
    return { keystore: o.keystore, passwordFile: o.passwordFile };
  }
  throw cliError(
    { code: "BAD_ARGUMENT", reason: "key" },
    "this command sends transactions: give your account with --keystore <file> --password-file <file> or --private-key-file <file>",
  );
}

async function openDeployment(path: string): Promise<Deployment> {
  try {
    return await loadDeployment(path);
  } catch (e) {
    if (e instanceof RustChainError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT")
      throw cliError(
        { code: "DEPLOYMENT", reason: "missing" },
        `deployment file ${path} not found: pass --deployment <file> (\`npm run devnet:bridge\` writes ${DEFAULT_DEPLOYMENT})`,
      );
    if (e instanceof SyntaxError)
      throw cliError({ code: "DEPLOYMENT", reason: "not JSON" }, `deployment file ${path}: not JSON (${e.message})`);
    throw cliError({ code: "DEPLOYMENT", reason: err.message }, `deployment file ${err.message}`);
  }
}
