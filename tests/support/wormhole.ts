// Wormhole on a live RustChain node, for the tests of the Wormhole gateway, the relayer and `rustchain bridge redeem
// --vaa`: 19 mock guardians (the SDK's MockGuardians: Wormhole's devnet guardian key as guardian 0 and 18 derived keys,
// signing with explicit indices), VAAs laid out as Solana's token bridge emits them, an in-process one-validator node
// whose genesis names the mock set, the Wormhole deployment of gateway.c with Solana's token bridge registered and
// wSOL attested, and a local HTTP server playing a guardian's public REST API (signed VAAs and the governor's list).
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, type Genesis, keccak256, parseGenesis, privateKeyToAddress } from "@rustchain/shared";
import { encodeRegisterChain } from "@rustchain/shared/bridge/governance";
import { encodeAssetMeta, encodeTransfer, encodeTransferWithPayload } from "@rustchain/shared/bridge/payloads";
import { signVaa, type VaaBody, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { WORMHOLE_GOVERNANCE_EMITTER, WORMHOLE_TOKEN_BRIDGE_EMITTERS } from "@rustchain/shared/bridge/wormhole";
import { guardians as wormholeGuardians } from "@wormhole-foundation/sdk-base";
import { mocks } from "@wormhole-foundation/sdk-definitions/testing";
import { pino } from "pino";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  type Hex,
  bytesToHex as hexOf,
  hexToBytes,
  http,
  type PublicClient,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import type { Deployment } from "../../bridge-relayer/src/deployment.ts";
import { type BuiltContract, buildContracts } from "../../contracts/build.ts";
import { deployWormholeGateway } from "../../scripts/bridge/deployWormhole.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../../validator/src/cli/devnetGenesis.ts";
import { RustChainNode } from "../../validator/src/node/node.ts";
import { DEV_KEYS, devnetChain } from "./devnet.ts";

export const SOLANA = WORMHOLE_CHAIN.solana;
export const SOLANA_TOKEN_BRIDGE = WORMHOLE_TOKEN_BRIDGE_EMITTERS.solana;
/** The wrapped-SOL mint So11111111111111111111111111111111111111112 as Solana's token bridge names it. */
export const WSOL_MINT = hexToBytes("0x069b8857feab8184fb687f634618c035dac439dc1aeb3b5598a0f00000000001");
/** Solana's ConsistencyLevel::Finalized, what its token bridge publishes with. */
export const SOLANA_FINALIZED = 32;

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A 20-byte address (or shorter bytes) left-padded to Wormhole's 32 bytes. */
export function pad32(address: Hex | Uint8Array): Uint8Array {
  const b = typeof address === "string" ? hexToBytes(address) : address;
  const out = new Uint8Array(32);
  out.set(b, 32 - b.length);
  return out;
}

/**
 * Wormhole's guardians, mocked: the SDK's MockGuardians with the Wormhole devnet guardian key as guardian 0 (set 0) and
 * keys derived from a label (Wormhole's devnet runs one guardian; mainnet has 19). VAAs are signed with explicit
 * indices (signVaa): the SDK's addSignatures writes a signer's position in the filtered list as its index, which is
 * wrong for any subset but a prefix.
 */
export const mockGuardianSet = (setIndex: number, label: string) =>
  new mocks.MockGuardians(setIndex, [
    ...(setIndex === 0 ? [wormholeGuardians.devnetGuardianPrivateKey] : []),
    ...Array.from({ length: setIndex === 0 ? 18 : 19 }, (_, i) =>
      hexOf(keccak256(new TextEncoder().encode(`${label} ${i}`))).slice(2),
    ),
  ]);
export const WORMHOLE_SET = mockGuardianSet(0, "rustchain mock wormhole guardian");
export const WORMHOLE_NEXT_SET = mockGuardianSet(1, "rustchain mock wormhole guardian, set 1");
export const guardianAddresses = (set: mocks.MockGuardians) =>
  set.signers.map((g) => hexOf(privateKeyToAddress(hexToBytes(`0x${g.key}`))));
export const mockSigners = (set: mocks.MockGuardians, indices: number[]) =>
  indices.map((index) => ({ index, privateKey: hexToBytes(`0x${set.signers[index]!.key}`) }));

/** A VAA signed by guardians `indices` (default 0..12: 13 of 19, the quorum) of `set`. */
export const signWormholeVaa = (b: VaaBody, indices = range(13), set = WORMHOLE_SET) =>
  signVaa(b, set.setIndex, mockSigners(set, indices));

/** A body laid out as Solana's token bridge emits it: chain 1, its mainnet emitter, consistency "finalized". */
export const solanaBody = (payload: Uint8Array, sequence: bigint, over: Partial<VaaBody> = {}): VaaBody => ({
  timestamp: 1_733_400_000,
  nonce: 0x5e1a,
  emitterChain: SOLANA,
  emitterAddress: SOLANA_TOKEN_BRIDGE.address,
  sequence,
  consistencyLevel: SOLANA_FINALIZED,
  payload,
  ...over,
});

/** A token-bridge Transfer of wSOL (8-decimal amount) to `to`, on RustChain unless told. */
export const solTransfer = (amount: bigint, to: Hex, over: { fee?: bigint; toChain?: number } = {}) =>
  encodeTransfer({
    amount,
    tokenAddress: WSOL_MINT,
    tokenChain: SOLANA,
    to: pad32(to),
    toChain: over.toChain ?? WORMHOLE_CHAIN.rustchain,
    fee: over.fee ?? 0n,
  });

/** A TransferWithPayload (3) of wSOL to the contract `to` on RustChain. */
export const solTransferWithPayload = (amount: bigint, to: Hex, payload: Uint8Array) =>
  encodeTransferWithPayload({
    amount,
    tokenAddress: WSOL_MINT,
    tokenChain: SOLANA,
    to: pad32(to),
    toChain: WORMHOLE_CHAIN.rustchain,
    fromAddress: new Uint8Array(32).fill(0x5a),
    payload,
  });

/** AssetMeta as Solana's token bridge attests wSOL (9 decimals: 8 for its wrapped token). */
export const WSOL_ASSET_META = encodeAssetMeta({
  tokenAddress: WSOL_MINT,
  tokenChain: SOLANA,
  decimals: 9,
  symbol: "SOL",
  name: "Wrapped SOL",
});

export interface WormholeChain {
  node: RustChainNode;
  genesis: Genesis;
  client: PublicClient;
  built: Record<string, BuiltContract>;
  /** The Wormhole deployment of gateway.c. */
  gateway: Hex;
  /** Its deployment block. */
  fromBlock: number;
  wrappedSol: Hex;
  deployer: PrivateKeyAccount;
  send(account: PrivateKeyAccount, address: Hex, abi: Abi, functionName: string, args: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A one-validator node (slots of `slotMs`) with the mock set in genesis, the Wormhole gateway deployed from it,
 * Solana's token bridge registered by a RegisterChain VAA from Wormhole's governance emitter, and wSOL created from
 * its attestation.
 */
export async function startWormholeChain(slotMs = 250): Promise<WormholeChain> {
  const built = await buildContracts({ only: ["gateway", "wrapped_token"] });
  const datadir = await mkdtemp(join(tmpdir(), "rustchain-wormhole-"));
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(43));
  const genesis = parseGenesis({
    ...devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], slotMs),
    wormhole: { guardianSetIndex: 0, guardians: guardianAddresses(WORMHOLE_SET) },
  });
  const node = await RustChainNode.start(
    { datadir, genesis, secretKey: validator.secretKey, rpc: { host: "127.0.0.1", port: 0 } },
    pino({ level: "silent" }),
  );
  const stop = async () => {
    await node.stop();
    await rm(datadir, { recursive: true, force: true });
  };
  try {
    const client = createPublicClient({ chain: devnetChain, transport: http(node.rpc.url) }) as PublicClient;
    const deployer = privateKeyToAccount(DEV_KEYS[0]);
    const send = async (account: PrivateKeyAccount, address: Hex, abi: Abi, functionName: string, args: unknown[]) => {
      const wallet = createWalletClient({ account, chain: devnetChain, transport: http(node.rpc.url) });
      const hash = await wallet.writeContract({ address, abi, functionName, args } as never);
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      if (receipt.status !== "success") throw new Error(`${functionName} reverted: ${hash}`);
    };
    const register = encodeRegisterChain({
      chain: 0,
      emitterChain: SOLANA,
      emitterAddress: SOLANA_TOKEN_BRIDGE.address,
    });
    const governance = solanaBody(register, 0n, {
      emitterChain: WORMHOLE_GOVERNANCE_EMITTER.chain,
      emitterAddress: WORMHOLE_GOVERNANCE_EMITTER.address,
    });
    const { wormhole, wrapped } = await deployWormholeGateway({
      rustchain: { rpcUrl: node.rpc.url, chainId: devnetChain.id, deployer, blockTimeMs: slotMs },
      guardians: genesis.wormhole!,
      vaas: [signWormholeVaa(governance), signWormholeVaa(solanaBody(WSOL_ASSET_META, 1n))].map((v) => hexOf(v)),
      guardianApiUrl: "http://127.0.0.1:9",
      emitters: [],
    });
    const gateway = wormhole.gateway as Hex;
    const fromBlock = wormhole.fromBlock;
    const wrappedSol = wrapped[0]!;
    return { node, genesis, client, built, gateway, fromBlock, wrappedSol, deployer, send, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * A bridge deployment file for `chain` with its Wormhole section (Solana's token bridge watched from `startSequence`).
 * There is no Ethereum here: the committee bridge's sections name the same node and gateways without code, so the
 * relayer's committee watchers find nothing.
 */
export function wormholeDeployment(
  chain: WormholeChain,
  guardianApiUrl: string,
  o: { startSequence?: number; lookahead?: number; signingSeconds?: number; statusUrl?: string } = {},
): Deployment {
  const rpcUrl = chain.node.rpc.url;
  const common = { rpcUrl, chainId: devnetChain.id, fromBlock: 0, blockTimeMs: 250 };
  return {
    ethereum: { ...common, wormholeChain: WORMHOLE_CHAIN.ethereum, gateway: `0x${"e7".repeat(20)}` },
    rustchain: {
      ...common,
      wormholeChain: WORMHOLE_CHAIN.rustchain,
      gateway: `0x${"e8".repeat(20)}`,
      signatureRpcUrls: [rpcUrl],
    },
    tokens: [],
    ...(o.statusUrl ? { relayer: { statusUrl: o.statusUrl } } : {}),
    wormhole: {
      gateway: chain.gateway,
      fromBlock: chain.fromBlock,
      guardianApiUrl,
      lookahead: o.lookahead ?? 3,
      emitters: [
        {
          chain: SOLANA,
          address: hexOf(SOLANA_TOKEN_BRIDGE.address),
          startSequence: o.startSequence ?? 0,
          signingSeconds: o.signingSeconds ?? 60,
        },
      ],
    },
  };
}

export interface GuardianApiServer {
  url: string;
  /** Serve this signed VAA at /v1/signed_vaa/<its chain>/<its emitter>/<its sequence>. */
  serve(body: VaaBody, vaa: Uint8Array): void;
  /** List a message in /v1/governor/enqueued_vaas (releaseTime in unix seconds); `release` takes it off. */
  enqueue(body: VaaBody, releaseTime: number, txHash: string): void;
  release(body: VaaBody): void;
  /** Every request path, in order. */
  requests: string[];
  close(): Promise<void>;
}

const idOf = (b: VaaBody) => `${b.emitterChain}/${hexOf(b.emitterAddress).slice(2)}/${b.sequence}`;

/** A guardian's public REST API on a loopback port: 404 for what is not served, as a real guardian answers. */
export async function startGuardianApi(): Promise<GuardianApiServer> {
  const signed = new Map<string, Uint8Array>();
  const enqueued = new Map<string, Record<string, unknown>>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "";
    requests.push(path);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (path === "/v1/governor/enqueued_vaas") return json(200, { entries: [...enqueued.values()] });
    const id = /^\/v1\/signed_vaa\/(\d+\/[0-9a-f]{64}\/\d+)$/.exec(path)?.[1];
    const vaa = id === undefined ? undefined : signed.get(id);
    if (vaa) return json(200, { vaaBytes: Buffer.from(vaa).toString("base64") });
    json(404, { code: 5, message: "requested VAA not found in store", details: [] });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (body, vaa) => signed.set(idOf(body), vaa),
    enqueue: (body, releaseTime, txHash) =>
      // the shape guardiand's governor answers with (node/pkg/governor): sequence and notionalValue as strings
      enqueued.set(idOf(body), {
        emitterChain: body.emitterChain,
        emitterAddress: hexOf(body.emitterAddress).slice(2),
        sequence: body.sequence.toString(),
        releaseTime,
        notionalValue: "250000",
        txHash,
      }),
    release: (body) => enqueued.delete(idOf(body)),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
