// viem clients for both chains of a deployment: reads, and writes from the relayer's account (which pays the gas). The
// Wormhole gateway (deployment.wormhole) is on RustChain: the same clients, another gateway.
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import type { Account } from "viem/accounts";
import type { ChainName, Deployment } from "./deployment.ts";

export interface ChainClients {
  name: ChainName;
  public: PublicClient;
  wallet: WalletClient & { account: Account };
  gateway: Hex;
  /** The gateway's deployment block: event scans start there. */
  fromBlock: bigint;
}

export type BridgeClients = Record<ChainName, ChainClients> & { wormhole?: ChainClients };

export function chainDefinition(d: Deployment, name: ChainName) {
  const c = d[name];
  return defineChain({
    id: c.chainId,
    name: name === "ethereum" ? "Ethereum" : "RustChain",
    nativeCurrency:
      name === "ethereum"
        ? { name: "Ether", symbol: "ETH", decimals: 18 }
        : { name: "RTC", symbol: "RTC", decimals: 18 },
    rpcUrls: { default: { http: [c.rpcUrl] } },
  });
}

export function createBridgeClients(d: Deployment, accounts: Record<ChainName, Account>): BridgeClients {
  const make = (name: ChainName): ChainClients => {
    const chain = chainDefinition(d, name);
    const transport = http(d[name].rpcUrl, { timeout: 15_000, retryCount: 2 });
    return {
      name,
      public: createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient,
      wallet: createWalletClient({ chain, transport, account: accounts[name] }) as WalletClient & { account: Account },
      gateway: d[name].gateway as Hex,
      fromBlock: BigInt(d[name].fromBlock),
    };
  };
  const rustchain = make("rustchain");
  const wormhole = d.wormhole && {
    ...rustchain,
    gateway: d.wormhole.gateway as Hex,
    fromBlock: BigInt(d.wormhole.fromBlock),
  };
  return { ethereum: make("ethereum"), rustchain, ...(wormhole ? { wormhole } : {}) };
}
