// The bridge flags of `rustchain node` and `rustchain devnet` (docs/bridge.md, "Running a committee member").
import { hexToBytes } from "@rustchain/shared";
import { WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { type Command, InvalidArgumentError } from "commander";
import type { BridgeOptions } from "../bridge/bridgeService.ts";
import { loadBridgeKey } from "../keys/bridgeKeystore.ts";
import { checkUrl } from "./argParsers.ts";

function address(value: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError("expected a 20-byte 0x address");
  return value.toLowerCase();
}

function blockNumber(value: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(value)) throw new InvalidArgumentError("expected a block number");
  return BigInt(value);
}

function wormholeChain(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new InvalidArgumentError("expected a Wormhole chain id (u16)");
  return n;
}

/** Flags both commands take; `node` also takes --bridge-keystore (the devnet makes one per validator). */
export function addBridgeOptions(cmd: Command, withKeystore: boolean): Command {
  if (withKeystore)
    cmd.option(
      "--bridge-keystore <file>",
      "this validator's bridge key (Web3 Secret Storage v3, password from --password-file): sign bridge messages",
    );
  return cmd
    .option("--bridge-ethereum-rpc <url>", "Ethereum JSON-RPC the committee reads (its `finalized` tag)", checkUrl)
    .option("--bridge-ethereum-gateway <address>", "the bridge gateway contract on Ethereum", address)
    .option(
      "--bridge-ethereum-chain <id>",
      "Ethereum's Wormhole chain id (2 mainnet, 10002 Sepolia)",
      wormholeChain,
      WORMHOLE_CHAIN.ethereum,
    )
    .option("--bridge-ethereum-from-block <n>", "first Ethereum block to read (the gateway's deployment)", blockNumber)
    .option("--bridge-rustchain-gateway <address>", "the bridge gateway contract on RustChain", address)
    .option("--bridge-rustchain-from-block <n>", "first RustChain block to read", blockNumber);
}

export type BridgeFlags = {
  bridgeKeystore?: string;
  passwordFile?: string;
  bridgeEthereumRpc?: string;
  bridgeEthereumGateway?: string;
  bridgeEthereumChain: number;
  bridgeEthereumFromBlock?: bigint;
  bridgeRustchainGateway?: string;
  bridgeRustchainFromBlock?: bigint;
};

/** The flags as `rustchain node` arguments (the devnet hands them on to its validators). */
export function bridgeArgs(o: BridgeFlags): string[] {
  const out: string[] = [];
  const add = (flag: string, v: unknown) => v !== undefined && out.push(flag, String(v));
  add("--bridge-ethereum-rpc", o.bridgeEthereumRpc);
  add("--bridge-ethereum-gateway", o.bridgeEthereumGateway);
  add("--bridge-ethereum-chain", o.bridgeEthereumChain);
  add("--bridge-ethereum-from-block", o.bridgeEthereumFromBlock);
  add("--bridge-rustchain-gateway", o.bridgeRustchainGateway);
  add("--bridge-rustchain-from-block", o.bridgeRustchainFromBlock);
  return out;
}

/** NodeOptions.bridge for the flags; throws a message for inconsistent ones. */
export async function bridgeNodeOptions(o: BridgeFlags): Promise<Partial<BridgeOptions>> {
  if ((o.bridgeEthereumRpc === undefined) !== (o.bridgeEthereumGateway === undefined))
    throw new InvalidArgumentError("--bridge-ethereum-rpc and --bridge-ethereum-gateway go together");
  if (o.bridgeKeystore && !o.passwordFile) throw new InvalidArgumentError("--bridge-keystore needs --password-file");
  return {
    ...(o.bridgeKeystore ? { key: await loadBridgeKey(o.bridgeKeystore, o.passwordFile as string) } : {}),
    ...(o.bridgeEthereumRpc && o.bridgeEthereumGateway
      ? {
          ethereum: {
            rpcUrl: o.bridgeEthereumRpc,
            gateway: hexToBytes(o.bridgeEthereumGateway),
            chain: o.bridgeEthereumChain,
            fromBlock: o.bridgeEthereumFromBlock ?? 0n,
          },
        }
      : {}),
    ...(o.bridgeRustchainGateway
      ? {
          rustchain: {
            gateway: hexToBytes(o.bridgeRustchainGateway),
            fromBlock: o.bridgeRustchainFromBlock ?? 0n,
          },
        }
      : {}),
  };
}
