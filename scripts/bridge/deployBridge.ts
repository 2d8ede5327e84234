// Deploys the bridge on two live chains (an Ethereum JSON-RPC such as `hardhat node`, and RustChain) and returns
// the deployment file's contents. Used by `npm run devnet:bridge` and the bridge end-to-end test.
//
// Order, and why: the validators must know both gateway addresses when they start (they watch them), and each
// gateway's constructor names the other, so both addresses are predicted from the deployers' nonces
// (`predictGateways`) before anything is deployed, then checked after. The wrapped assets need the committee: the
// Ethereum gateway attests ETH and the test token, the RustChain gateway attests RTC, and each AssetMeta VAA the
// validators sign creates the wrapped token on the other side, exactly as any later asset would be added.

import { join } from "node:path";
import { hexToBytes, keccak256 } from "@rustchain/shared";
import { GOVERNANCE_EMITTER } from "@rustchain/shared/bridge/governance";
import { toUniversalAddress, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import {
  type Abi,
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  getContractAddress,
  type Hex,
  http,
  type PublicClient,
  parseEventLogs,
  bytesToHex as toHex,
  zeroAddress,
} from "viem";
import { collectVaa } from "../../bridge-relayer/src/committeeSignatures.ts";
import {
  BRIDGE_RELAYER_DIR,
  compileBridgeContracts,
  compileSolidity,
} from "../../bridge-relayer/src/contracts/compile.ts";
import type { Deployment } from "../../bridge-relayer/src/deployment.ts";
import { gatewayAbi } from "../../bridge-relayer/src/gatewayAbi.ts";
import { buildContracts } from "../../contracts/build.ts";

export interface ChainAccess {
  rpcUrl: string;
  chainId: number;
  deployer: Account;
  blockTimeMs: number;
}

const pad = (a: Hex) => toHex(toUniversalAddress(hexToBytes(a)));

export type ChainSide = ReturnType<typeof clients>;

export function clients(c: ChainAccess) {
  const chain = {
    id: c.chainId,
    name: `chain ${c.chainId}`,
    nativeCurrency: { name: "coin", symbol: "COIN", decimals: 18 },
    rpcUrls: { default: { http: [c.rpcUrl] } },
  } as Chain;
  const transport = http(c.rpcUrl);
  return {
    public: createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient,
    wallet: createWalletClient({ chain, transport, account: c.deployer }),
  };
}

/** Where each gateway will be: the deployer's next contract on each chain (gateways are deployed first). */
export async function predictGateways(ethereum: ChainAccess, rustchain: ChainAccess, rustchainNonce = 0) {
  const ethNonce = await clients(ethereum).public.getTransactionCount({ address: ethereum.deployer.address });
  return {
    ethereum: getContractAddress({ from: ethereum.deployer.address, nonce: BigInt(ethNonce) }).toLowerCase() as Hex,
    rustchain: getContractAddress({
      from: rustchain.deployer.address,
      nonce: BigInt(rustchainNonce),
    }).toLowerCase() as Hex,
  };
}

/** Deploy a contract from the side's deployer; its address (lowercase). */
export async function deploy(side: ChainSide, artefact: { abi: Abi; bytecode: Hex }, args: unknown[]): Promise<Hex> {
  const hash = await side.wallet.deployContract({ abi: artefact.abi, bytecode: artefact.bytecode, args } as never);
  const receipt = await side.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deploy failed: ${hash}`);
  return receipt.contractAddress.toLowerCase() as Hex;
}

/** Simulate, send and wait for a call from the side's deployer; its receipt (a revert throws). */
export async function send(side: ChainSide, address: Hex, abi: Abi, functionName: string, args: unknown[]) {
  const { request } = await side.public.simulateContract({
    address,
    abi,
    functionName,
    args,
    account: side.wallet.account,
  } as never);
  const hash = await side.wallet.writeContract(request as never);
  const receipt = await side.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${functionName} failed: ${hash}`);
  return receipt;
}

export interface DeployBridgeOptions {
  ethereum: ChainAccess;
  rustchain: ChainAccess & { signatureRpcUrls: string[] };
  predicted: { ethereum: Hex; rustchain: Hex };
  /** The committee: guardian set 0, the genesis validators' bridge keys in order. */
  guardians: Hex[];
  /** Seconds an old guardian set stays valid after a rotation. */
  guardianSetExpiry: bigint;
  /** A test ERC-20 on Ethereum (18 decimals), its supply minted to these holders. */
  testToken?: { symbol: string; holders: Hex[]; perHolder: bigint };
  statusUrl?: string;
  log?: (msg: string) => void;
  /** How long to wait for the committee to sign an AssetMeta. */
  signTimeoutMs?: number;
}

export async function deployBridge(o: DeployBridgeOptions): Promise<Deployment> {
  const log = o.log ?? (() => {});
  const eth = clients(o.ethereum);
  const rc = clients(o.rustchain);
  const sol = {
    ...(await compileBridgeContracts()),
    ...(
      await compileSolidity({
        sourceDir: join(BRIDGE_RELAYER_DIR, "test/fixtures"),
        outDir: join(BRIDGE_RELAYER_DIR, "build/test-fixtures"),
      })
    ).contracts,
  };
  const c = await buildContracts({ only: ["gateway", "wrapped_token"] });

  log("Deploying the Ethereum gateway");
  const ethGateway = await deploy(eth, sol.RustChainBridge!, [
    WORMHOLE_CHAIN.ethereum,
    o.guardians,
    o.guardianSetExpiry,
    WORMHOLE_CHAIN.rustchain,
    pad(o.predicted.rustchain),
  ]);
  log("Deploying the RustChain gateway");
  const rcGateway = await deploy(rc, c.gateway!, [
    WORMHOLE_CHAIN.rustchain,
    o.guardians,
    o.guardianSetExpiry,
    WORMHOLE_CHAIN.ethereum,
    pad(ethGateway),
    toHex(keccak256(c.wrapped_token!.module)),
    0, // guardian set 0: the committee of the genesis
    GOVERNANCE_EMITTER.chain,
    toHex(GOVERNANCE_EMITTER.address),
  ]);
  if (ethGateway !== o.predicted.ethereum || rcGateway !== o.predicted.rustchain)
    throw new Error(
      `gateways at ${ethGateway} / ${rcGateway}, not the predicted ${o.predicted.ethereum} / ${o.predicted.rustchain}: start from fresh chains`,
    );

  let testToken: Hex | undefined;
  if (o.testToken) {
    const total = o.testToken.perHolder * BigInt(o.testToken.holders.length);
    testToken = await deploy(eth, sol.TestToken!, ["Bridge Test Token", o.testToken.symbol, 18, total]);
    for (const h of o.testToken.holders)
      await send(eth, testToken, sol.TestToken!.abi, "transfer", [h, o.testToken.perHolder]);
  }

  /** Publish an AssetMeta on one side and return its VAA once the committee signed it. */
  const attest = async (side: ReturnType<typeof clients>, gateway: Hex, token: Hex, emitterChain: number) => {
    const receipt = await send(side, gateway, gatewayAbi as Abi, "attestToken", [token, 0]);
    const [published] = parseEventLogs({ abi: gatewayAbi, logs: receipt.logs, eventName: "LogMessagePublished" });
    if (!published) throw new Error("attestToken published nothing");
    const [keysOfOther] = [o.guardians];
    const deadline = Date.now() + (o.signTimeoutMs ?? 60_000);
    for (;;) {
      const collected = await collectVaa({
        rpcUrls: o.rustchain.signatureRpcUrls,
        emitterChain,
        emitterAddress: pad(gateway),
        sequence: published.args.sequence,
        guardianSet: { index: 0, keys: keysOfOther },
      });
      if (collected?.vaa) return collected.vaa as Hex;
      if (Date.now() > deadline)
        throw new Error(
          `the committee did not sign the AssetMeta of ${token} (${collected?.signatures ?? 0} signatures); are the validators watching ${gateway}?`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  log("Attesting ETH and the test token on Ethereum; creating their wrapped tokens on RustChain");
  const wrappedOnRustChain: Record<string, Hex> = {};
  for (const token of [zeroAddress, ...(testToken ? [testToken] : [])] as Hex[]) {
    const vaa = await attest(eth, ethGateway, token, WORMHOLE_CHAIN.ethereum);
    const wrapped = await deploy(rc, c.wrapped_token!, [rcGateway]);
    await send(rc, rcGateway, c.gateway!.abi, "createWrapped", [vaa, wrapped]);
    wrappedOnRustChain[token] = wrapped;
  }
  log("Attesting RTC on RustChain; creating wRTC on Ethereum");
  const rtcVaa = await attest(rc, rcGateway, zeroAddress, WORMHOLE_CHAIN.rustchain);
  await send(eth, ethGateway, sol.RustChainBridge!.abi, "createWrapped", [rtcVaa]);
  const wrtc = (
    (await eth.public.readContract({
      address: ethGateway,
      abi: gatewayAbi,
      functionName: "wrappedAsset",
      args: [WORMHOLE_CHAIN.rustchain, pad(zeroAddress)],
    })) as Hex
  ).toLowerCase() as Hex;

  const ethFromBlock = 0;
  return {
    ethereum: {
      rpcUrl: o.ethereum.rpcUrl,
      chainId: o.ethereum.chainId,
      wormholeChain: WORMHOLE_CHAIN.ethereum,
      gateway: ethGateway,
      fromBlock: ethFromBlock,
      blockTimeMs: o.ethereum.blockTimeMs,
    },
    rustchain: {
      rpcUrl: o.rustchain.rpcUrl,
      chainId: o.rustchain.chainId,
      wormholeChain: WORMHOLE_CHAIN.rustchain,
      gateway: rcGateway,
      fromBlock: 0,
      blockTimeMs: o.rustchain.blockTimeMs,
      signatureRpcUrls: o.rustchain.signatureRpcUrls,
    },
    tokens: [
      {
        symbol: "ETH",
        decimals: 18,
        homeChain: WORMHOLE_CHAIN.ethereum,
        homeAddress: zeroAddress,
        rustchain: wrappedOnRustChain[zeroAddress],
      },
      ...(testToken && o.testToken
        ? [
            {
              symbol: o.testToken.symbol,
              decimals: 18,
              homeChain: WORMHOLE_CHAIN.ethereum,
              homeAddress: testToken,
              ethereum: testToken,
              rustchain: wrappedOnRustChain[testToken],
            },
          ]
        : []),
      { symbol: "RTC", decimals: 18, homeChain: WORMHOLE_CHAIN.rustchain, homeAddress: zeroAddress, ethereum: wrtc },
    ],
    ...(o.statusUrl ? { relayer: { statusUrl: o.statusUrl } } : {}),
  };
}
