// A real `hardhat node` (Hardhat 3, EDR, chain id 31337) on a free loopback port for the bridge's Ethereum tests,
// with viem clients for its well-known funded accounts. The caller must `stop()` it (afterAll).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";

const ROOT = resolve(import.meta.dirname, "../../..");
const CONFIG_DIR = resolve(import.meta.dirname, "../../hardhat");

/** hardhat node's funded accounts (10000 ETH each) come from this mnemonic. */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const WALLETS = 5;

export type Wallet = WalletClient<Transport, Chain, Account>;

export interface HardhatNode {
  url: string;
  client: PublicClient<Transport, Chain>;
  wallets: Wallet[];
  /** Moves the chain's clock forward by `seconds` and mines a block. */
  increaseTime(seconds: number): Promise<void>;
  /** The next block gets exactly this timestamp (it must be later than the latest). */
  setNextBlockTimestamp(timestamp: bigint): Promise<void>;
  latestTimestamp(): Promise<bigint>;
  /** The node's recent output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port the OS just handed out: hardhat node cannot listen on port 0 itself. */
export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(address)));
    });
  });
}

/** A hardhat node on `opts.port` (default: a free port). */
export async function startHardhatNode(opts: { port?: number } = {}): Promise<HardhatNode> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  // clients and accounts first: nothing after the spawn may throw without stopping the node
  const chain = { ...hardhat, rpcUrls: { default: { http: [url] } } } as Chain;
  const transport = http(url);
  const client = createPublicClient({ chain, transport, pollingInterval: 20 }) as PublicClient<Transport, Chain>;
  const wallets = Array.from({ length: WALLETS }, (_, addressIndex) =>
    createWalletClient({
      account: mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex }),
      chain,
      transport,
      pollingInterval: 20,
    }),
  );
  const rpc = (method: string, params: unknown[]) =>
    client.request({ method, params } as unknown as Parameters<typeof client.request>[0]);

  const dir = await mkdtemp(join(tmpdir(), "rustchain-bridge-hardhat-"));
  const proc: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: CONFIG_DIR,
      env: { ...process.env, BRIDGE_HARDHAT_DIR: dir, HARDHAT_DISABLE_TELEMETRY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  // if the test process goes away without afterAll (a crash, a killed worker), the node goes with it
  const killOnExit = () => proc.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`hardhat node exited early:\n${out}`);
    }
    try {
      await client.getChainId();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`hardhat node did not start:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    url,
    client,
    wallets,
    increaseTime: async (seconds) => {
      await rpc("evm_increaseTime", [seconds]);
      await rpc("evm_mine", []);
    },
    setNextBlockTimestamp: async (timestamp) => {
      await rpc("evm_setNextBlockTimestamp", [Number(timestamp)]);
    },
    latestTimestamp: async () => (await client.getBlock()).timestamp,
    output: () => out,
    stop,
  };
}
