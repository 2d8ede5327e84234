// Contract tests against an in-process chain: what `rustchain contracts test` gives a project's test files as
// `rustchain/testing` (and what this repository's contract tests import directly).
//
// startTestChain() starts a one-validator RustChain node in this process: RPC on 127.0.0.1 with a port the system
// picks, a fresh temporary data directory, short slots, the devnet's genesis with its 10 dev accounts funded
// (10,000 RTC each). It returns viem clients for it and deploy(name, args), which deploys <buildDir>/<name>.json
// ({ abi, bytecode }, written by `rustchain contracts build`). stop() stops the node and deletes the directory.
//
//   let chain: TestChain;
//   beforeAll(async () => { chain = await startTestChain(); });
//   afterAll(() => chain.stop());
//   it("counts", async () => {
//     const address = await chain.deploy("counter", [1n]);
//     ...chain.publicClient.readContract({ address, abi, functionName: "count" })
//   });
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  blsKeypairFromSeed,
  DEVNET_CHAIN_ID,
  DEVNET_MNEMONIC,
  describeError,
  parseGenesis,
  RustChainError,
} from "@rustchain/shared";
import { pino } from "pino";
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { RustChainNode } from "../node/node.ts";
import { BUILD_DIR_ENV } from "./testChainEnv.ts";

export type ContractTestingErrorType =
  /** deploy(name): no readable <buildDir>/<name>.json with an abi and a bytecode. */
  | { code: "CONTRACT_ARTEFACT_MISSING"; name: string; path: string; reason: string }
  /** The deploy transaction was mined but failed (the constructor reverted or ran out of gas). */
  | { code: "CONTRACT_DEPLOY_FAILED"; name: string; transactionHash: Hex };

export class ContractTestingError extends RustChainError<ContractTestingErrorType> {}

export interface TestChainOptions {
  /** Where deploy() finds <name>.json: default $RUSTCHAIN_BUILD_DIR (set by `rustchain contracts test`), else ./build. */
  buildDir?: string;
  /** Slot length: a transaction is mined within about one slot. Default 200 ms (the genesis allows 100 at least). */
  slotMs?: number;
  /** The node's log level (default silent). */
  logLevel?: string;
}

export interface DeployOptions {
  /** The deployer (default the first dev account). */
  account?: Account;
  /** RTC sent to a payable constructor, in wei. */
  value?: bigint;
}

export interface Artefact {
  abi: Abi;
  bytecode: Hex;
}

export interface TestChain {
  /** The node's JSON-RPC URL (HTTP; WebSocket on the same port). */
  url: string;
  /** The chain as viem knows it: id 21076, RTC with 18 decimals, this node's URL. */
  chain: Chain;
  /** Polls every 50 ms, so waitForTransactionReceipt returns soon after the block. */
  publicClient: PublicClient<Transport, Chain>;
  /** Signs with the first dev account. */
  walletClient: WalletClient<Transport, Chain, Account>;
  /** The 10 funded dev accounts ("test test … junk", m/44'/60'/0'/0/i). */
  accounts: readonly HDAccount[];
  /** A wallet client signing with `account`. */
  wallet(account: Account): WalletClient<Transport, Chain, Account>;
  /** The { abi, bytecode } of a built contract. */
  artefact(name: string): Promise<Artefact>;
  /** Deploys <buildDir>/<name>.json with the constructor's arguments; resolves to its address once mined. */
  deploy(name: string, args?: readonly unknown[], options?: DeployOptions): Promise<Address>;
  /** Stops the node and deletes its data directory. */
  stop(): Promise<void>;
}

/** The devnet's dev accounts, derived once per process (the mnemonic's seed takes a moment). */
let devAccounts: HDAccount[] | undefined;

export async function startTestChain(options: TestChainOptions = {}): Promise<TestChain> {
  const buildDir = resolve(options.buildDir ?? process.env[BUILD_DIR_ENV] ?? "build");
  devAccounts ??= Array.from({ length: 10 }, (_, i) => mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: i }));
  const accounts = devAccounts;
  const datadir = await mkdtemp(join(tmpdir(), "rustchain-test-chain-"));
  // A fixed validator key: nothing outside this process ever sees it.
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(7));
  let node: RustChainNode;
  try {
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], options.slotMs ?? 200),
    );
    node = await RustChainNode.start(
      { datadir, genesis, secretKey: validator.secretKey, rpc: { host: "127.0.0.1", port: 0 } },
      pino({ level: options.logLevel ?? "silent" }),
    );
  } catch (e) {
    await rm(datadir, { recursive: true, force: true });
    throw e;
  }
  const url = node.rpc.url;
  const chain = defineChain({
    id: DEVNET_CHAIN_ID,
    name: "RustChain test chain",
    nativeCurrency: { name: "RTC", symbol: "RTC", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const transport = http(url);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
  const wallet = (account: Account) => createWalletClient({ account, chain, transport, pollingInterval: 50 });
  const walletClient = wallet(accounts[0]!);

  const artefact = async (name: string): Promise<Artefact> => {
    const path = join(buildDir, `${name}.json`);
    let parsed: Partial<Artefact>;
    try {
      parsed = JSON.parse(await readFile(path, "utf8")) as Partial<Artefact>;
    } catch (e) {
      throw new ContractTestingError(
        { code: "CONTRACT_ARTEFACT_MISSING", name, path, reason: describeError(e) },
        `${path}: ${describeError(e)} (run \`rustchain contracts build\` first)`,
      );
    }
    if (!Array.isArray(parsed.abi) || typeof parsed.bytecode !== "string" || !parsed.bytecode.startsWith("0x")) {
      const reason = "not { abi, bytecode }";
      throw new ContractTestingError({ code: "CONTRACT_ARTEFACT_MISSING", name, path, reason }, `${path}: ${reason}`);
    }
    return { abi: parsed.abi, bytecode: parsed.bytecode };
  };

  let stopped = false;
  return {
    url,
    chain,
    publicClient,
    walletClient,
    accounts,
    wallet,
    artefact,
    async deploy(name, args = [], deployOptions = {}) {
      const { abi, bytecode } = await artefact(name);
      const deployer = deployOptions.account ? wallet(deployOptions.account) : walletClient;
      const hash = await deployer.deployContract({ abi, bytecode, args, value: deployOptions.value } as Parameters<
        typeof deployer.deployContract
      >[0]);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success" || !receipt.contractAddress) {
        throw new ContractTestingError({ code: "CONTRACT_DEPLOY_FAILED", name, transactionHash: hash });
      }
      return receipt.contractAddress;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await node.stop();
      } finally {
        await rm(datadir, { recursive: true, force: true });
      }
    },
  };
}
