// The RustChain side of the bridge (docs/bridge.md) on a real in-process one-validator node: the C gateway and wrapped
// token deployed and driven through the node's JSON-RPC by viem-signed transactions, with VAAs built and signed by
// the shared codec (@rustchain/shared/bridge) as the committee would. Each refusal is checked by the code its
// Error(string) starts with.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, type Genesis, keccak256, parseGenesis, privateKeyToAddress } from "@rustchain/shared";
import {
  encodeGuardianSetUpgrade,
  encodeRegisterChain,
  encodeSetGovernor,
  encodeSetMessageFee,
  encodeSetPaused,
  encodeTransferFees,
  GOVERNANCE_EMITTER,
} from "@rustchain/shared/bridge/governance";
import { transferLayout, vaaBodyLayout, vaaHeaderLayout } from "@rustchain/shared/bridge/layouts";
import { messageFromLog } from "@rustchain/shared/bridge/messageLog";
import {
  decodeTokenBridgePayload,
  encodeAssetMeta,
  encodeRefund,
  encodeTransfer,
  encodeTransferWithPayload,
} from "@rustchain/shared/bridge/payloads";
import {
  encodeVaa,
  encodeVaaBody,
  signDigest,
  signVaa,
  type VaaBody,
  vaaDigest,
  WORMHOLE_CHAIN,
} from "@rustchain/shared/bridge/vaa";
import {
  CONSISTENCY_INSTANT,
  consistencyTag,
  WORMHOLE_GOVERNANCE_EMITTER,
  WORMHOLE_TOKEN_BRIDGE_EMITTERS,
} from "@rustchain/shared/bridge/wormhole";
import { deserializeLayout } from "@wormhole-foundation/sdk-base";
import fc from "fast-check";
import { pino } from "pino";
import {
  type Abi,
  type BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  erc20Abi,
  getAddress,
  type Hex,
  bytesToHex as hexOf,
  hexToBytes,
  http,
  type Log,
  type PublicClient,
  parseEventLogs,
  type TransactionReceipt,
  toHex,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEYS, devnetChain } from "../../tests/support/devnet.ts";
import {
  guardianAddresses,
  mockSigners,
  pad32,
  range,
  SOLANA,
  SOLANA_FINALIZED,
  SOLANA_TOKEN_BRIDGE,
  solTransferWithPayload,
  WORMHOLE_NEXT_SET,
  WORMHOLE_SET,
  WSOL_ASSET_META,
  WSOL_MINT,
} from "../../tests/support/wormhole.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../../validator/src/cli/devnetGenesis.ts";
import { RustChainNode } from "../../validator/src/node/node.ts";
import { type BuiltContract, buildContracts } from "../build.ts";

const RUSTCHAIN = WORMHOLE_CHAIN.rustchain;
const ETHEREUM = WORMHOLE_CHAIN.ethereum;
const RTC_UNIT = 10n ** 10n; // 18 − 8 decimals
const ZERO32 = new Uint8Array(32);
const h = (b: Uint8Array) => hexOf(b);

/** The Ethereum gateway the RustChain gateway is constructed with (any address: it only appears as the emitter). */
const ETH_GATEWAY = pad32("0x00000000000000000000000000000000e7e0a7e0");
const guardianKeys = [1, 2, 3, 4].map((i) => new Uint8Array(32).fill(0x40 + i));
const nextKeys = [5, 6, 7].map((i) => new Uint8Array(32).fill(0x40 + i));
const guardian = (keys: Uint8Array[], ...indices: number[]) =>
  indices.map((index) => ({ index, privateKey: keys[index]! }));

const deployer = privateKeyToAccount(DEV_KEYS[0]); // also the relayer submitting VAAs
const alice = privateKeyToAccount(DEV_KEYS[1]);
const bob = privateKeyToAccount(DEV_KEYS[2]);

let node: RustChainNode;
let genesis: Genesis;
let datadir: string;
let built: Record<string, BuiltContract>;
let client: PublicClient;
let gateway: Hex;
let gatewayAbi: Abi;
let tokenAbi: Abi;
const gas: Record<string, bigint> = {};

beforeAll(async () => {
  built = await buildContracts({ only: ["gateway", "wrapped_token", "erc20"] });
  gatewayAbi = built.gateway!.abi;
  tokenAbi = built.wrapped_token!.abi;
  datadir = await mkdtemp(join(tmpdir(), "rustchain-bridge-"));
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(41));
  // The chain starts with Wormhole's guardian set in its genesis (the mock set of 19: see WORMHOLE_SET below).
  genesis = parseGenesis({
    ...devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    wormhole: { guardianSetIndex: 0, guardians: guardianAddresses(WORMHOLE_SET) },
  });
  node = await RustChainNode.start(
    { datadir, genesis, secretKey: validator.secretKey, rpc: { host: "127.0.0.1", port: 0 } },
    pino({ level: "silent" }),
  );
  client = createPublicClient({ chain: devnetChain, transport: http(node.rpc.url) }) as PublicClient;
});

afterAll(async () => {
  if (Object.keys(gas).length > 0) console.log("bridge gas used:", gas);
  await node?.stop();
  if (datadir) await rm(datadir, { recursive: true, force: true });
});

// ---- transactions and calls ----

const wallet = (account: PrivateKeyAccount) =>
  createWalletClient({ account, chain: devnetChain, transport: http(node.rpc.url) });

async function send(
  account: PrivateKeyAccount,
  address: Hex,
  abi: Abi,
  functionName: string,
  args: unknown[] = [],
  value?: bigint,
): Promise<TransactionReceipt> {
  const hash = await wallet(account).writeContract({ address, abi, functionName, args, value } as never);
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(receipt.status).toBe("success");
  gas[functionName] ??= receipt.gasUsed;
  return receipt;
}

const gw = (account: PrivateKeyAccount, functionName: string, args: unknown[] = [], value?: bigint) =>
  send(account, gateway, gatewayAbi, functionName, args, value);

const read = <T>(address: Hex, abi: Abi, functionName: string, args: unknown[] = []) =>
  client.readContract({ address, abi, functionName, args }) as Promise<T>;
const view = <T>(functionName: string, args: unknown[] = []) => read<T>(gateway, gatewayAbi, functionName, args);

/** The Error(string) a gateway call reverts with (through eth_call at the head), or a failure if it succeeds. */
async function refusal(
  functionName: string,
  args: unknown[],
  account = deployer,
  value?: bigint,
  at: Hex = gateway,
): Promise<string> {
  try {
    await client.simulateContract({ address: at, abi: gatewayAbi, functionName, args, account, value } as never);
  } catch (e) {
    const revert = (e as BaseError).walk?.((x) => x instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) return revert.reason ?? "";
    throw e;
  }
  throw new Error(`${functionName} did not revert`);
}

async function deploy(account: PrivateKeyAccount, c: BuiltContract, args: unknown[]): Promise<Hex> {
  const hash = await wallet(account).deployContract({ abi: c.abi, bytecode: c.bytecode, args } as never);
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(receipt.status).toBe("success");
  const name = Object.keys(built).find((k) => built[k] === c);
  gas[`deploy ${name}`] ??= receipt.gasUsed;
  return receipt.contractAddress as Hex;
}

const events = (receipt: TransactionReceipt, eventName: string) =>
  parseEventLogs({ abi: gatewayAbi, logs: receipt.logs as Log[], eventName }) as unknown as {
    address: Hex;
    args: Record<string, unknown>;
  }[];

/** A gateway's log in a receipt, as eth_getLogs returns it (what the committee's messageFromLog reads). */
function gatewayLog(receipt: TransactionReceipt, address: Hex) {
  const log = receipt.logs.find((l) => l.address.toLowerCase() === address.toLowerCase())!;
  return {
    address: log.address,
    topics: log.topics as string[],
    data: log.data,
    blockNumber: toHex(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    logIndex: toHex(log.logIndex),
  };
}

const blockTimestamp = async (receipt: TransactionReceipt) =>
  Number((await client.getBlock({ blockNumber: receipt.blockNumber })).timestamp);

const balance = (address: Hex) => client.getBalance({ address });
const fees = (r: TransactionReceipt) => r.gasUsed * r.effectiveGasPrice;

// ---- VAAs ----

let ethSequence = 100n;
let govSequence = 0n;

function body(payload: Uint8Array, over: Partial<VaaBody> = {}): VaaBody {
  return {
    timestamp: 1_700_000_000,
    nonce: 0,
    emitterChain: ETHEREUM,
    emitterAddress: ETH_GATEWAY,
    sequence: ethSequence++,
    consistencyLevel: 1,
    payload,
    ...over,
  };
}

/** A VAA from the Ethereum gateway, signed by guardians 0, 1 and 2 of set 0 unless told otherwise. */
const vaa = (b: VaaBody, signers = guardian(guardianKeys, 0, 1, 2), setIndex = 0) => h(signVaa(b, setIndex, signers));
const digestOf = (b: VaaBody) => vaaDigest(encodeVaaBody(b));

const governance = (payload: Uint8Array, signers = guardian(guardianKeys, 0, 1, 2), setIndex = 0) =>
  vaa(
    body(payload, {
      emitterChain: GOVERNANCE_EMITTER.chain,
      emitterAddress: GOVERNANCE_EMITTER.address,
      sequence: govSequence++,
    }),
    signers,
    setIndex,
  );

const transfer = (t: {
  amount: bigint;
  tokenChain: number;
  tokenAddress?: Uint8Array;
  to: Hex;
  fee?: bigint;
  toChain?: number;
}) =>
  encodeTransfer({
    amount: t.amount,
    tokenAddress: t.tokenAddress ?? ZERO32,
    tokenChain: t.tokenChain,
    to: pad32(t.to),
    toChain: t.toChain ?? RUSTCHAIN,
    fee: t.fee ?? 0n,
  });

const ethTransfer = (amount: bigint, to: Hex, fee = 0n) => transfer({ amount, tokenChain: ETHEREUM, to, fee });

// ---- the scenario ----

describe("RustChain gateway (C) on a live node", () => {
  let wrappedEth: Hex;
  let deposit: { receipt: TransactionReceipt; payload: Uint8Array; sequence: bigint; nonce: number };
  /** A transfer the governor queued until the next day window (cancelled once its asset is paused). */
  let queuedOver: VaaBody;

  it("deploys with the constructor of the Solidity gateway and answers its views", async () => {
    const codeHash = keccak256(built.wrapped_token!.module);
    gateway = await deploy(deployer, built.gateway!, [
      RUSTCHAIN,
      guardianKeys.map((k) => h(privateKeyToAddress(k))),
      0n, // guardianSetExpiry: a replaced set is refused from the upgrade on
      ETHEREUM,
      h(ETH_GATEWAY),
      h(codeHash),
      0, // guardian set 0
      GOVERNANCE_EMITTER.chain,
      h(GOVERNANCE_EMITTER.address),
    ]);
    expect(await view("chainId")).toBe(RUSTCHAIN);
    expect(await view("guardianSetIndex")).toBe(0);
    expect(await view("nextSequence")).toBe(0n);
    expect(await view("wrappedTokenCodeHash")).toBe(h(codeHash));
    expect(await view("registeredEmitter", [ETHEREUM])).toBe(h(ETH_GATEWAY));
    const [keys, expiry] = await view<[Hex[], bigint]>("guardianSet", [0]);
    expect(keys.map((k) => k.toLowerCase())).toEqual(guardianKeys.map((k) => h(privateKeyToAddress(k))));
    expect(expiry).toBe(0n);
  });

  it("transferNative escrows the normalised RTC, sends the dust back and publishes a Transfer", async () => {
    const value = 3n * 10n ** 18n + 123_456_789n; // 3 RTC and dust below 10^10 wei
    const before = await balance(alice.address);
    const nonce = 7;
    const receipt = await gw(alice, "transferNative", [ETHEREUM, h(pad32(bob.address)), 5n, nonce], value);
    expect(await balance(gateway)).toBe(3n * 10n ** 18n);
    expect(before - (await balance(alice.address))).toBe(3n * 10n ** 18n + fees(receipt));
    const [log] = events(receipt, "LogMessagePublished");
    const payload = transfer({
      amount: 3n * 10n ** 8n,
      tokenChain: RUSTCHAIN,
      to: bob.address,
      toChain: ETHEREUM,
      fee: 5n,
    });
    expect(log!.address.toLowerCase()).toBe(gateway.toLowerCase());
    expect(log!.args).toEqual({
      sender: expect.stringMatching(new RegExp(gateway.slice(2), "i")),
      sequence: 0n,
      nonce,
      payload: h(payload),
      consistencyLevel: 1,
    });
    expect(await view("outbound", [0n])).toEqual([
      alice.address,
      "0x0000000000000000000000000000000000000000",
      3n * 10n ** 18n,
      false,
    ]);
    expect(await view("nextSequence")).toBe(1n);
    deposit = { receipt, payload, sequence: 0n, nonce };

    expect(await refusal("transferNative", [ETHEREUM, h(pad32(bob.address)), 0n, 0], alice, RTC_UNIT - 1n)).toMatch(
      /^AMOUNT_TOO_SMALL/,
    );
    expect(await refusal("transferNative", [ETHEREUM, h(pad32(bob.address)), 3n, 0], alice, 2n * RTC_UNIT)).toMatch(
      /^FEE_TOO_HIGH/,
    );
    expect(await refusal("transferNative", [1, h(pad32(bob.address)), 0n, 0], alice, 10n ** 18n)).toMatch(
      /^VAA_WRONG_CHAIN/,
    );
  });

  it("attestToken(address(0)) publishes the AssetMeta of RTC", async () => {
    const receipt = await gw(deployer, "attestToken", ["0x0000000000000000000000000000000000000000", 9]);
    const [log] = events(receipt, "LogMessagePublished");
    expect(log!.args.sequence).toBe(1n);
    expect(decodeTokenBridgePayload(hexToBytes(log!.args.payload as Hex))).toEqual({
      payloadId: 2,
      tokenAddress: ZERO32,
      tokenChain: RUSTCHAIN,
      decimals: 18,
      symbol: "RTC",
      name: "RustChain",
    });
  });

  it("createWrapped registers a pre-deployed wrapped token after checking its code hash and gateway", async () => {
    const meta = () =>
      body(encodeAssetMeta({ tokenAddress: ZERO32, tokenChain: ETHEREUM, decimals: 18, symbol: "ETH", name: "Ether" }));
    // Code that is not the wrapped token: an ERC-20 with the same interface.
    const impostor = await deploy(deployer, built.erc20!, ["Ether", "ETH", 8, 0n]);
    expect(await refusal("createWrapped", [vaa(meta()), impostor])).toMatch(/^ASSET_UNKNOWN: the token's code/);
    // An address without code (a call to it would "succeed" with empty return data).
    expect(await refusal("createWrapped", [vaa(meta()), bob.address])).toMatch(/^ASSET_UNKNOWN: the token's code/);
    // The right code, owned by another gateway.
    const foreign = await deploy(deployer, built.wrapped_token!, [bob.address]);
    expect(await refusal("createWrapped", [vaa(meta()), foreign])).toMatch(/^ASSET_UNKNOWN: the token's gateway/);

    wrappedEth = await deploy(deployer, built.wrapped_token!, [gateway]);
    const m = meta();
    await gw(deployer, "createWrapped", [vaa(m), wrappedEth]);
    expect((await view<Hex>("wrappedAsset", [ETHEREUM, h(ZERO32)])).toLowerCase()).toBe(wrappedEth.toLowerCase());
    expect(await read(wrappedEth, erc20Abi, "name")).toBe("Ether");
    expect(await read(wrappedEth, erc20Abi, "symbol")).toBe("ETH");
    expect(await read(wrappedEth, erc20Abi, "decimals")).toBe(8);
    expect(await read(wrappedEth, tokenAbi, "tokenChain")).toBe(ETHEREUM);
    expect(await refusal("createWrapped", [vaa(m), wrappedEth])).toMatch(/^VAA_CONSUMED/);
    expect(await refusal("createWrapped", [vaa(meta()), wrappedEth])).toMatch(/^VAA_PAYLOAD: the wrapped asset exists/);
    // An AssetMeta must come from the asset's home chain's gateway.
    const rtcMeta = encodeAssetMeta({
      tokenAddress: ZERO32,
      tokenChain: RUSTCHAIN,
      decimals: 18,
      symbol: "R",
      name: "R",
    });
    expect(await refusal("createWrapped", [vaa(body(rtcMeta)), wrappedEth])).toMatch(/^VAA_PAYLOAD: an asset of this/);
    const solMeta = encodeAssetMeta({ tokenAddress: ZERO32, tokenChain: 1, decimals: 9, symbol: "SOL", name: "Sol" });
    expect(await refusal("createWrapped", [vaa(body(solMeta)), wrappedEth])).toMatch(
      /^VAA_PAYLOAD: AssetMeta not from/,
    );
  });

  it("completeTransfer mints the wrapped token to the recipient and the fee to the submitter", async () => {
    const b = body(ethTransfer(5n * 10n ** 8n, alice.address, 10n ** 6n));
    const receipt = await gw(deployer, "completeTransfer", [vaa(b)]);
    expect(await read(wrappedEth, erc20Abi, "balanceOf", [alice.address])).toBe(5n * 10n ** 8n - 10n ** 6n);
    expect(await read(wrappedEth, erc20Abi, "balanceOf", [deployer.address])).toBe(10n ** 6n);
    const [done] = events(receipt, "TransferCompleted");
    expect(done!.args).toEqual({ digest: h(digestOf(b)), to: alice.address, amount: 5n * 10n ** 8n, fee: 10n ** 6n });
    expect(await view("isCompleted", [h(digestOf(b))])).toBe(true);
    expect(await refusal("completeTransfer", [vaa(b)])).toMatch(/^VAA_CONSUMED/);

    // TransferWithPayload (3): only its recipient completes it, and there is no fee.
    const p3 = body(
      encodeTransferWithPayload({
        amount: 7n,
        tokenAddress: ZERO32,
        tokenChain: ETHEREUM,
        to: pad32(bob.address),
        toChain: RUSTCHAIN,
        fromAddress: pad32(alice.address),
        payload: Uint8Array.of(1, 2, 3),
      }),
    );
    expect(await refusal("completeTransfer", [vaa(p3)], deployer)).toMatch(/^NOT_RECIPIENT/);
    await gw(bob, "completeTransfer", [vaa(p3)]);
    expect(await read(wrappedEth, erc20Abi, "balanceOf", [bob.address])).toBe(7n);
  });

  it("refuses bad VAAs with their codes", async () => {
    const b = () => body(ethTransfer(10n ** 8n, alice.address));
    // A guardian's signature made by another key.
    const forged = [...guardian(guardianKeys, 0, 1), { index: 2, privateKey: nextKeys[0]! }];
    expect(await refusal("completeTransfer", [vaa(b(), forged)])).toMatch(/^VAA_BAD_SIGNATURE/);
    // The malleable high-s twin of a valid signature.
    const good = hexToBytes(vaa(b()));
    const high = good.slice();
    const s = BigInt(h(high.subarray(6 + 66 + 33, 6 + 66 + 65)));
    high.set(
      pad32(
        hexToBytes(
          `0x${(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n - s).toString(16).padStart(64, "0")}`,
        ),
      ),
      6 + 66 + 33,
    );
    high[6 + 66 + 65] = 1 - high[6 + 66 + 65]!;
    expect(await refusal("completeTransfer", [h(high)])).toMatch(/^VAA_BAD_SIGNATURE/);
    // 2 of 4 guardians: quorum is floor(8 / 3) + 1 = 3.
    expect(await refusal("completeTransfer", [vaa(b(), guardian(guardianKeys, 0, 3))])).toMatch(/^VAA_QUORUM/);
    // Indices not ascending (signVaa sorts, so the VAA is assembled by hand), and repeated.
    const unsorted = b();
    const digest = digestOf(unsorted);
    const sign = (i: number) => ({ guardianIndex: i, signature: signDigest(digest, guardianKeys[i]!) });
    const assemble = (indices: number[]) =>
      h(encodeVaa({ guardianSetIndex: 0, signatures: indices.map(sign), body: encodeVaaBody(unsorted) }));
    expect(await refusal("completeTransfer", [assemble([1, 0, 2])])).toMatch(/^VAA_SIGNATURE_ORDER/);
    expect(await refusal("completeTransfer", [assemble([0, 1, 1])])).toMatch(/^VAA_SIGNATURE_ORDER/);
    // The same VAA with its signatures in order passes.
    await client.simulateContract({
      address: gateway,
      abi: gatewayAbi,
      functionName: "completeTransfer",
      args: [assemble([0, 1, 2])],
      account: deployer,
    });
    // Another destination, another emitter, an unknown guardian set, truncated bytes.
    expect(
      await refusal("completeTransfer", [
        vaa(body(transfer({ amount: 1n, tokenChain: ETHEREUM, to: alice.address, toChain: ETHEREUM }))),
      ]),
    ).toMatch(/^VAA_WRONG_CHAIN/);
    expect(
      await refusal("completeTransfer", [
        vaa(body(ethTransfer(1n, alice.address), { emitterAddress: pad32(bob.address) })),
      ]),
    ).toMatch(/^VAA_UNKNOWN_EMITTER/);
    expect(
      await refusal("completeTransfer", [vaa(body(ethTransfer(1n, alice.address), { emitterChain: 10002 }))]),
    ).toMatch(/^VAA_UNKNOWN_EMITTER/);
    expect(await refusal("completeTransfer", [vaa(b(), guardian(guardianKeys, 0, 1, 2), 1)])).toMatch(
      /^VAA_UNKNOWN_GUARDIAN_SET/,
    );
    // Truncated inside the signatures; a signed Transfer one byte short.
    expect(await refusal("completeTransfer", [h(good.subarray(0, 6 + 66 * 3 + 50))])).toMatch(/^VAA_MALFORMED/);
    expect(await refusal("completeTransfer", [vaa(body(ethTransfer(1n, alice.address).subarray(0, 132)))])).toMatch(
      /^VAA_MALFORMED: a Transfer payload is 133 bytes/,
    );
    expect(await refusal("completeTransfer", [h(Uint8Array.of(2, ...good.subarray(1)))])).toMatch(/^VAA_VERSION/);
    expect(await refusal("completeTransfer", [vaa(body(ethTransfer(1n, alice.address, 2n)))])).toMatch(/^FEE_TOO_HIGH/);
    const unknownAsset = transfer({
      amount: 1n,
      tokenChain: ETHEREUM,
      tokenAddress: pad32(bob.address),
      to: alice.address,
    });
    expect(await refusal("completeTransfer", [vaa(body(unknownAsset))])).toMatch(/^ASSET_UNKNOWN/);
  });

  it("any truncation or byte change of a valid VAA is refused with a documented code, never a trap", async () => {
    const good = hexToBytes(vaa(body(ethTransfer(10n ** 8n, alice.address))));
    const codes =
      /^(VAA_MALFORMED|VAA_VERSION|VAA_UNKNOWN_GUARDIAN_SET|VAA_QUORUM|VAA_SIGNATURE_ORDER|VAA_BAD_SIGNATURE)/;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.slice(0, n)),
          fc.tuple(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const b = good.slice();
            b[i] = b[i]! ^ x;
            return b;
          }),
        ),
        async (bad) => {
          expect(await refusal("completeTransfer", [h(bad)])).toMatch(codes);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("RTC coming home from Ethereum releases exactly amount × 10^10 from the escrow, fee to the submitter", async () => {
    // The RTC on Ethereum was escrowed here first: the deployer bridges 1 RTC out (no dust: nothing sent back).
    await gw(deployer, "transferNative", [ETHEREUM, h(pad32(deployer.address)), 0n, 0], 10n ** 18n);
    const escrow = await balance(gateway);
    expect(escrow).toBe(4n * 10n ** 18n);
    const bobBefore = await balance(bob.address);
    const relayerBefore = await balance(deployer.address);
    const b = body(transfer({ amount: 4n * 10n ** 7n, tokenChain: RUSTCHAIN, to: bob.address, fee: 10n ** 6n }));
    const receipt = await gw(deployer, "completeTransfer", [vaa(b)]);
    expect(await balance(gateway)).toBe(escrow - 4n * 10n ** 17n);
    expect((await balance(bob.address)) - bobBefore).toBe((4n * 10n ** 7n - 10n ** 6n) * RTC_UNIT);
    expect((await balance(deployer.address)) - relayerBefore).toBe(10n ** 6n * RTC_UNIT - fees(receipt));
    // The event carries the payload's normalised figures, as on Ethereum.
    expect(events(receipt, "TransferCompleted")[0]!.args).toMatchObject({ amount: 4n * 10n ** 7n, fee: 10n ** 6n });
  });

  it("transferTokens burns wrapped tokens within the allowance and publishes their home identity", async () => {
    expect(
      await refusal("transferTokens", [wrappedEth, 10n ** 8n, ETHEREUM, h(pad32(alice.address)), 0n, 1], alice),
    ).toMatch(/^ERC20: insufficient allowance/);
    await send(alice, wrappedEth, tokenAbi, "approve", [gateway, 10n ** 8n]);
    const supply = await read<bigint>(wrappedEth, erc20Abi, "totalSupply");
    const receipt = await gw(alice, "transferTokens", [
      wrappedEth,
      10n ** 8n,
      ETHEREUM,
      h(pad32(alice.address)),
      10n,
      1,
    ]);
    expect(await read(wrappedEth, erc20Abi, "totalSupply")).toBe(supply - 10n ** 8n);
    const [log] = events(receipt, "LogMessagePublished");
    expect(decodeTokenBridgePayload(hexToBytes(log!.args.payload as Hex))).toEqual({
      payloadId: 1,
      amount: 10n ** 8n,
      tokenAddress: ZERO32,
      tokenChain: ETHEREUM,
      to: pad32(alice.address),
      toChain: ETHEREUM,
      fee: 10n,
    });
    expect(await view("outbound", [log!.args.sequence])).toEqual([
      alice.address,
      getAddress(wrappedEth),
      10n ** 8n,
      false,
    ]);
    expect(await refusal("transferTokens", [bob.address, 1n, ETHEREUM, h(pad32(alice.address)), 0n, 1], alice)).toMatch(
      /^ASSET_UNKNOWN/,
    );
  });

  it("the governor queues large transfers and those over the daily limit; releaseQueued pays after the release time", async () => {
    await gw(deployer, "submitGovernance", [
      governance(
        encodeSetGovernor({
          chain: RUSTCHAIN,
          tokenChain: ETHEREUM,
          tokenAddress: ZERO32,
          dailyLimit: 5n * 10n ** 8n,
          threshold: 4n * 10n ** 8n,
          delay: 2,
        }),
      ),
    ]);
    // amount ≥ threshold: queued until now + delay.
    const big = body(ethTransfer(4n * 10n ** 8n, alice.address, 10n ** 6n));
    const queued = await gw(deployer, "completeTransfer", [vaa(big)]);
    const t = await blockTimestamp(queued);
    expect(events(queued, "TransferQueued")[0]!.args).toEqual({ digest: h(digestOf(big)), releaseTime: BigInt(t + 2) });
    expect(await view("queuedUntil", [h(digestOf(big))])).toBe(BigInt(t + 2));
    expect(await view("isCompleted", [h(digestOf(big))])).toBe(true);
    expect(await refusal("completeTransfer", [vaa(big)])).toMatch(/^VAA_CONSUMED/);
    // Below the threshold and within the day's limit: paid at once (3 of 5 used); the next 3 go over it.
    const small = body(ethTransfer(3n * 10n ** 8n, bob.address));
    const paid = await gw(deployer, "completeTransfer", [vaa(small)]);
    expect(events(paid, "TransferCompleted")).toHaveLength(1);
    const over = body(ethTransfer(3n * 10n ** 8n, bob.address));
    const overReceipt = await gw(deployer, "completeTransfer", [vaa(over)]);
    const t2 = await blockTimestamp(overReceipt);
    const nextWindow = (Math.floor(t2 / 86400) + 1) * 86400;
    expect(await view("queuedUntil", [h(digestOf(over))])).toBe(BigInt(Math.max(nextWindow, t2 + 2)));
    expect(await refusal("releaseQueued", [h(encodeVaaBody(over))])).toMatch(/^NOT_RELEASED/);
    queuedOver = over;

    // The threshold-queued one is released once a block's timestamp reaches its release time; fee to the releaser.
    if (Number((await client.getBlock()).timestamp) < t + 2)
      expect(await refusal("releaseQueued", [h(encodeVaaBody(big))])).toMatch(/^NOT_RELEASED/);
    while (Number((await client.getBlock()).timestamp) < t + 3) await new Promise((r) => setTimeout(r, 200));
    const aliceBefore = await read<bigint>(wrappedEth, erc20Abi, "balanceOf", [alice.address]);
    const bobBefore = await read<bigint>(wrappedEth, erc20Abi, "balanceOf", [bob.address]);
    const released = await gw(bob, "releaseQueued", [h(encodeVaaBody(big))]);
    expect(events(released, "TransferCompleted")[0]!.args).toMatchObject({ to: alice.address, amount: 4n * 10n ** 8n });
    expect((await read<bigint>(wrappedEth, erc20Abi, "balanceOf", [alice.address])) - aliceBefore).toBe(
      4n * 10n ** 8n - 10n ** 6n,
    );
    expect((await read<bigint>(wrappedEth, erc20Abi, "balanceOf", [bob.address])) - bobBefore).toBe(10n ** 6n);
    expect(await view("queuedUntil", [h(digestOf(big))])).toBe(0n);
    expect(await refusal("releaseQueued", [h(encodeVaaBody(big))])).toMatch(/^NOT_QUEUED/);
    expect(await refusal("releaseQueued", [h(encodeVaaBody(body(ethTransfer(1n, bob.address))))])).toMatch(
      /^NOT_QUEUED/,
    );

    // Governor off again for the rest of the scenario.
    await gw(deployer, "submitGovernance", [
      governance(
        encodeSetGovernor({
          chain: RUSTCHAIN,
          tokenChain: ETHEREUM,
          tokenAddress: ZERO32,
          dailyLimit: 0n,
          threshold: 0n,
          delay: 0,
        }),
      ),
    ]);
  });

  it("a paused asset refuses transfers; cancelTransfer consumes the VAA and publishes a Refund", async () => {
    const pause = (paused: boolean) =>
      gw(deployer, "submitGovernance", [
        governance(encodeSetPaused({ chain: RUSTCHAIN, tokenChain: ETHEREUM, tokenAddress: ZERO32, paused })),
      ]);
    const b = body(ethTransfer(2n * 10n ** 8n, alice.address));
    expect(await refusal("cancelTransfer", [vaa(b)])).toMatch(/^NOT_CANCELLABLE/);
    const paused = await pause(true);
    const [exec] = events(paused, "GovernanceExecuted");
    expect(exec!.args.action).toBe(1);
    expect(await view("isPaused", [ETHEREUM, h(ZERO32)])).toBe(true);
    expect(await refusal("completeTransfer", [vaa(b)])).toMatch(/^ASSET_PAUSED/);
    expect(await refusal("transferTokens", [wrappedEth, 1n, ETHEREUM, h(pad32(alice.address)), 0n, 1], alice)).toMatch(
      /^ASSET_PAUSED/,
    );

    const seq = await view<bigint>("nextSequence");
    const receipt = await gw(bob, "cancelTransfer", [vaa(b)]);
    expect(events(receipt, "TransferCancelled")[0]!.args).toEqual({ digest: h(digestOf(b)), refundSequence: seq });
    const [log] = events(receipt, "LogMessagePublished");
    expect(log!.args.sequence).toBe(seq);
    expect(decodeTokenBridgePayload(hexToBytes(log!.args.payload as Hex))).toEqual({
      payloadId: 0x81,
      originalSequence: b.sequence,
      originalDigest: digestOf(b),
    });
    expect(await refusal("cancelTransfer", [vaa(b)])).toMatch(/^VAA_CONSUMED/);
    // The transfer the governor queued: consumed, never paid, so it can still be cancelled (and leaves the queue).
    expect(await view("queuedUntil", [h(digestOf(queuedOver))])).not.toBe(0n);
    await gw(bob, "cancelTransfer", [vaa(queuedOver)]);
    expect(await view("queuedUntil", [h(digestOf(queuedOver))])).toBe(0n);
    expect(await refusal("cancelTransfer", [vaa(queuedOver)])).toMatch(/^VAA_CONSUMED/);
    await pause(false);
    expect(await refusal("completeTransfer", [vaa(b)])).toMatch(/^VAA_CONSUMED/);

    // A recipient that is not a 20-byte address (a Solana account, say) can never be paid here: cancellable.
    const nonEvm = body(
      encodeTransfer({
        amount: 10n,
        tokenAddress: ZERO32,
        tokenChain: ETHEREUM,
        to: new Uint8Array(32).fill(0xab),
        toChain: RUSTCHAIN,
        fee: 0n,
      }),
    );
    expect(await refusal("completeTransfer", [vaa(nonEvm)])).toMatch(/^VAA_PAYLOAD: to is not a 20-byte address/);
    const cancelled = await gw(bob, "cancelTransfer", [vaa(nonEvm)]);
    expect(events(cancelled, "TransferCancelled")[0]!.args.digest).toBe(h(digestOf(nonEvm)));
  });

  it("refund pays an outbound transfer back to its sender exactly once", async () => {
    // The Refund names the deposit's sequence and digest: the body the committee signed, rebuilt from the log.
    const original: VaaBody = {
      timestamp: await blockTimestamp(deposit.receipt),
      nonce: deposit.nonce,
      emitterChain: RUSTCHAIN,
      emitterAddress: pad32(gateway),
      sequence: deposit.sequence,
      consistencyLevel: 1,
      payload: deposit.payload,
    };
    // The committee's rule (shared messageFromLog) reads the C gateway's log into exactly this body.
    expect(
      messageFromLog(gatewayLog(deposit.receipt, gateway), RUSTCHAIN, hexToBytes(gateway), original.timestamp),
    ).toEqual(original);
    const refundVaa = (sequence = deposit.sequence, over: Partial<VaaBody> = {}) =>
      body(encodeRefund({ originalSequence: sequence, originalDigest: digestOf(original) }), over);
    expect(await refusal("refund", [vaa(refundVaa(999n))])).toMatch(/^VAA_PAYLOAD: no outbound transfer/);
    // Only the gateway of the chain the transfer went to may refund it.
    expect(await refusal("refund", [vaa(refundVaa(deposit.sequence, { emitterAddress: pad32(bob.address) }))])).toMatch(
      /^VAA_UNKNOWN_EMITTER/,
    );

    const before = await balance(alice.address);
    const escrow = await balance(gateway);
    const first = refundVaa();
    const receipt = await gw(deployer, "refund", [vaa(first)]);
    expect((await balance(alice.address)) - before).toBe(3n * 10n ** 18n);
    expect(escrow - (await balance(gateway))).toBe(3n * 10n ** 18n);
    expect(events(receipt, "TransferRefunded")[0]!.args).toEqual({
      sequence: 0n,
      sender: alice.address,
      amount: 3n * 10n ** 18n,
    });
    expect(await view("outbound", [0n])).toEqual([
      alice.address,
      "0x0000000000000000000000000000000000000000",
      3n * 10n ** 18n,
      true,
    ]);
    // Exactly once: the same Refund again, or another one for the same transfer.
    expect(await refusal("refund", [vaa(first)])).toMatch(/^ALREADY_REFUNDED/);
    expect(await refusal("refund", [vaa(refundVaa())])).toMatch(/^ALREADY_REFUNDED/);
  });

  it("after a GuardianSetUpgrade with expiry 0 the old set is refused and the new one verifies", async () => {
    const upgrade = encodeGuardianSetUpgrade({ chain: 0, newIndex: 1, keys: nextKeys.map(privateKeyToAddress) });
    expect(await refusal("submitGovernance", [governance(upgrade.slice(), guardian(guardianKeys, 0, 1))])).toMatch(
      /^VAA_QUORUM/,
    );
    expect(
      await refusal("submitGovernance", [
        governance(encodeGuardianSetUpgrade({ chain: 0, newIndex: 2, keys: nextKeys.map(privateKeyToAddress) })),
      ]),
    ).toMatch(/^GOVERNANCE/);
    expect(
      await refusal("submitGovernance", [
        governance(encodeRegisterChain({ chain: ETHEREUM, emitterChain: 10002, emitterAddress: ETH_GATEWAY })),
      ]),
    ).toMatch(/^VAA_WRONG_CHAIN/);
    const receipt = await gw(deployer, "submitGovernance", [governance(upgrade)]);
    // Only the current set governs.
    expect(
      await refusal("submitGovernance", [
        governance(encodeSetPaused({ chain: 0, tokenChain: ETHEREUM, tokenAddress: ZERO32, paused: true })),
      ]),
    ).toMatch(/^VAA_GUARDIAN_SET_EXPIRED/);
    expect(await view("guardianSetIndex")).toBe(1);
    const [, expiry] = await view<[Hex[], bigint]>("guardianSet", [0]);
    expect(expiry).toBe(BigInt(await blockTimestamp(receipt)));

    // The old set verifies up to and including its expiry second (as Wormhole): wait until the chain is past it.
    while (Number((await client.getBlock()).timestamp) <= Number(expiry)) await new Promise((r) => setTimeout(r, 100));
    const b = () => body(ethTransfer(10n ** 7n, bob.address));
    expect(await refusal("completeTransfer", [vaa(b())])).toMatch(/^VAA_GUARDIAN_SET_EXPIRED/);
    const fresh = b();
    await gw(deployer, "completeTransfer", [vaa(fresh, guardian(nextKeys, 0, 1, 2), 1)]);
    expect(await view("isCompleted", [h(digestOf(fresh))])).toBe(true);
    expect(await refusal("completeTransfer", [vaa(b(), guardian(nextKeys, 0, 1), 1)])).toMatch(/^VAA_QUORUM/);
  });
});

// ---- Wormhole: the same gateway deployed as RustChain's core and token bridge, with Wormhole's guardians ----

describe("Wormhole core and token bridge (a second gateway: Wormhole's guardian set and governance)", () => {
  const GUARDIAN_SET_EXPIRY = 3n; // seconds; mainnet's is a day
  let wormhole: Hex;
  let wrappedSol: Hex;
  let solanaSequence = 5000n;
  let wormholeGovSequence = 0n;

  const wgw = (account: PrivateKeyAccount, functionName: string, args: unknown[] = [], value?: bigint) =>
    send(account, wormhole, gatewayAbi, functionName, args, value);
  const wview = <T>(functionName: string, args: unknown[] = []) => read<T>(wormhole, gatewayAbi, functionName, args);
  const wrefusal = (functionName: string, args: unknown[], account = deployer, value?: bigint) =>
    refusal(functionName, args, account, value, wormhole);

  /** A body laid out as Solana's token bridge emits it: chain 1, its mainnet emitter, consistency "finalized". */
  const solanaBody = (payload: Uint8Array, over: Partial<VaaBody> = {}): VaaBody => ({
    timestamp: 1_733_400_000,
    nonce: 0x5e1a,
    emitterChain: SOLANA,
    emitterAddress: SOLANA_TOKEN_BRIDGE.address,
    sequence: solanaSequence++,
    consistencyLevel: SOLANA_FINALIZED,
    payload,
    ...over,
  });
  /** Signed by guardians 0..12 of the set: 13 of 19, the quorum. */
  const wvaa = (b: VaaBody, indices = range(13), set = WORMHOLE_SET) =>
    h(signVaa(b, set.setIndex, mockSigners(set, indices)));
  const wgovernance = (payload: Uint8Array, indices = range(13), set = WORMHOLE_SET) =>
    wvaa(
      solanaBody(payload, {
        emitterChain: WORMHOLE_GOVERNANCE_EMITTER.chain,
        emitterAddress: WORMHOLE_GOVERNANCE_EMITTER.address,
        sequence: wormholeGovSequence++,
        consistencyLevel: 32,
      }),
      indices,
      set,
    );
  const solTransfer = (amount: bigint, to: Hex, over: { fee?: bigint; toChain?: number } = {}) =>
    transfer({ amount, tokenChain: SOLANA, tokenAddress: WSOL_MINT, to, fee: over.fee ?? 0n, toChain: over.toChain });

  it("deploys with the genesis guardian set (19 keys, quorum 13) and Wormhole's governance emitter", async () => {
    const w = genesis.wormhole!;
    expect(w.guardians).toHaveLength(19);
    wormhole = await deploy(deployer, built.gateway!, [
      RUSTCHAIN,
      w.guardians.map((k) => h(k)),
      GUARDIAN_SET_EXPIRY,
      0, // no remote gateway: token bridges come by RegisterChain governance
      h(ZERO32),
      h(keccak256(built.wrapped_token!.module)),
      w.guardianSetIndex,
      WORMHOLE_GOVERNANCE_EMITTER.chain,
      h(WORMHOLE_GOVERNANCE_EMITTER.address),
    ]);
    expect(await wview("guardianSetIndex")).toBe(0);
    expect(await wview("governanceChainId")).toBe(SOLANA);
    expect(await wview("governanceContract")).toBe(h(WORMHOLE_GOVERNANCE_EMITTER.address));
    expect(await wview("messageFee")).toBe(0n);
    const [keys] = await wview<[Hex[], bigint]>("guardianSet", [0]);
    expect(keys.map((k) => k.toLowerCase())).toEqual(guardianAddresses(WORMHOLE_SET));
    expect(getAddress(keys[0]!)).toBe("0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe"); // Wormhole's devnet guardian
  });

  it("RegisterChain from Wormhole's governance emitter registers Solana's token bridge; the committee's emitter cannot", async () => {
    const register = encodeRegisterChain({
      chain: 0,
      emitterChain: SOLANA,
      emitterAddress: SOLANA_TOKEN_BRIDGE.address,
    });
    const committee = h(
      signVaa(
        body(register, { emitterChain: GOVERNANCE_EMITTER.chain, emitterAddress: GOVERNANCE_EMITTER.address }),
        0,
        mockSigners(WORMHOLE_SET, range(13)),
      ),
    );
    expect(await wrefusal("submitGovernance", [committee])).toMatch(/^VAA_UNKNOWN_EMITTER: not the governance/);
    expect(await wrefusal("submitGovernance", [wgovernance(register, range(12))])).toMatch(/^VAA_QUORUM/);
    await wgw(deployer, "submitGovernance", [wgovernance(register)]);
    expect(await wview("registeredEmitter", [SOLANA])).toBe(h(SOLANA_TOKEN_BRIDGE.address));
  });

  it("an attestation (payload 2) from Solana's token bridge creates the wrapped asset with its name, symbol and decimals", async () => {
    // Before the attestation, a transfer of the asset has nowhere to go.
    expect(await wrefusal("completeTransfer", [wvaa(solanaBody(solTransfer(1n, alice.address)))])).toMatch(
      /^ASSET_UNKNOWN/,
    );
    // AssetMeta as Solana's token bridge attests wSOL (our codec is the SDK's layout: shared/src/bridge/vaa.test.ts).
    const meta = WSOL_ASSET_META;
    expect(decodeTokenBridgePayload(meta)).toMatchObject({ payloadId: 2, tokenChain: SOLANA, decimals: 9 });
    wrappedSol = await deploy(deployer, built.wrapped_token!, [wormhole]);
    await wgw(deployer, "createWrapped", [wvaa(solanaBody(meta)), wrappedSol]);
    expect((await wview<Hex>("wrappedAsset", [SOLANA, h(WSOL_MINT)])).toLowerCase()).toBe(wrappedSol.toLowerCase());
    expect(await read(wrappedSol, erc20Abi, "name")).toBe("Wrapped SOL");
    expect(await read(wrappedSol, erc20Abi, "symbol")).toBe("SOL");
    expect(await read(wrappedSol, erc20Abi, "decimals")).toBe(8); // min(9, 8): payload amounts are its units
    expect(await read(wrappedSol, tokenAbi, "tokenChain")).toBe(SOLANA);
  });

  it("a Solana transfer VAA signed by 13 of 19 redeems exactly; replays, 12 of 19, descending indices, unregistered emitters and other targets are refused", async () => {
    const amount = 123_456_789n; // 1.23456789 SOL in the payload's 8 decimals
    const fee = 1_000n;
    const b = solanaBody(solTransfer(amount, alice.address, { fee }));
    const before = await read<bigint>(wrappedSol, erc20Abi, "balanceOf", [deployer.address]);
    await wgw(deployer, "completeTransfer", [wvaa(b)]);
    expect(await read(wrappedSol, erc20Abi, "balanceOf", [alice.address])).toBe(amount - fee);
    expect((await read<bigint>(wrappedSol, erc20Abi, "balanceOf", [deployer.address])) - before).toBe(fee);
    expect(await wview("isCompleted", [h(digestOf(b))])).toBe(true);

    expect(await wrefusal("completeTransfer", [wvaa(b)])).toMatch(/^VAA_CONSUMED/);
    const fresh = () => solanaBody(solTransfer(10n, alice.address));
    expect(await wrefusal("completeTransfer", [wvaa(fresh(), range(12))])).toMatch(/^VAA_QUORUM/);
    // 13 signatures with descending indices (assembled by hand: signVaa sorts).
    const unsorted = fresh();
    const digest = digestOf(unsorted);
    const descending = range(13)
      .reverse()
      .map((i) => ({
        guardianIndex: i,
        signature: signDigest(digest, hexToBytes(`0x${WORMHOLE_SET.signers[i]!.key}`)),
      }));
    expect(
      await wrefusal("completeTransfer", [
        h(encodeVaa({ guardianSetIndex: 0, signatures: descending, body: encodeVaaBody(unsorted) })),
      ]),
    ).toMatch(/^VAA_SIGNATURE_ORDER/);
    // Ethereum's token bridge (not registered here), and a Solana emitter that is not the token bridge.
    const eth = WORMHOLE_TOKEN_BRIDGE_EMITTERS.ethereum;
    expect(
      await wrefusal("completeTransfer", [
        wvaa(solanaBody(solTransfer(10n, alice.address), { emitterChain: eth.chain, emitterAddress: eth.address })),
      ]),
    ).toMatch(/^VAA_UNKNOWN_EMITTER/);
    expect(
      await wrefusal("completeTransfer", [
        wvaa(solanaBody(solTransfer(10n, alice.address), { emitterAddress: pad32(bob.address) })),
      ]),
    ).toMatch(/^VAA_UNKNOWN_EMITTER/);
    expect(
      await wrefusal("completeTransfer", [wvaa(solanaBody(solTransfer(10n, alice.address, { toChain: ETHEREUM })))]),
    ).toMatch(/^VAA_WRONG_CHAIN/);

    // Payload 3: only its recipient redeems it.
    const p3 = solanaBody(solTransferWithPayload(42n, bob.address, Uint8Array.of(9)));
    expect(await wrefusal("completeTransfer", [wvaa(p3)], deployer)).toMatch(/^NOT_RECIPIENT/);
    await wgw(bob, "completeTransfer", [wvaa(p3)]);
    expect(await read(wrappedSol, erc20Abi, "balanceOf", [bob.address])).toBe(42n);
  });

  it("SetMessageFee governance sets the fee every message pays; publishMessage counts a sequence per emitter", async () => {
    const messageFee = 10n ** 15n;
    await wgw(deployer, "submitGovernance", [wgovernance(encodeSetMessageFee({ chain: RUSTCHAIN, fee: messageFee }))]);
    expect(await wview("messageFee")).toBe(messageFee);
    expect(await wrefusal("publishMessage", [1, "0x01", CONSISTENCY_INSTANT], alice, 0n)).toMatch(/^MESSAGE_FEE/);
    const published = async (account: PrivateKeyAccount, consistency: number) => {
      const r = await wgw(account, "publishMessage", [3, "0xc0ffee", consistency], messageFee);
      return events(r, "LogMessagePublished")[0]!.args;
    };
    expect(await published(alice, CONSISTENCY_INSTANT)).toMatchObject({
      sender: alice.address,
      sequence: 0n,
      nonce: 3,
      payload: "0xc0ffee",
      consistencyLevel: CONSISTENCY_INSTANT,
    });
    expect((await published(alice, 1)).sequence).toBe(1n);
    expect((await published(bob, 1)).sequence).toBe(0n);
    expect(await wview("nextSequence", [alice.address])).toBe(2n);
    expect(await wview("nextSequence", [wormhole])).toBe(0n); // the token bridge's own count is apart
    // What the guardians wait for before they observe: the head for 200, finality otherwise.
    expect([CONSISTENCY_INSTANT, 201, 1, SOLANA_FINALIZED].map(consistencyTag)).toEqual([
      "latest",
      "safe",
      "finalized",
      "finalized",
    ]);
  });

  it("RTC sent out to Solana publishes a Transfer whose guardian-signed VAA decodes with the SDK's layouts as the right amount, chain and recipient", async () => {
    const messageFee = await wview<bigint>("messageFee");
    const solanaRecipient = new Uint8Array(32).fill(0x3c);
    const registerEth = encodeRegisterChain({
      chain: RUSTCHAIN,
      emitterChain: ETHEREUM,
      emitterAddress: WORMHOLE_TOKEN_BRIDGE_EMITTERS.ethereum.address,
    });
    await wgw(deployer, "submitGovernance", [wgovernance(registerEth)]);
    expect(await wrefusal("transferNative", [SOLANA, h(solanaRecipient), 0n, 0], alice, messageFee - 1n)).toMatch(
      /^MESSAGE_FEE/,
    );
    const receipt = await wgw(
      alice,
      "transferNative",
      [SOLANA, h(solanaRecipient), 0n, 77],
      25n * 10n ** 17n + messageFee,
    );
    expect(await balance(wormhole)).toBe(25n * 10n ** 17n + 4n * messageFee); // escrow + the fees of 4 messages
    const observed = messageFromLog(
      gatewayLog(receipt, wormhole),
      RUSTCHAIN,
      hexToBytes(wormhole),
      await blockTimestamp(receipt),
    )!;
    expect(observed.sequence).toBe(0n);
    const signed = signVaa(
      observed,
      0,
      mockSigners(
        WORMHOLE_SET,
        range(19).filter((i) => i % 3 !== 1),
      ),
    );

    // The Wormhole SDK's own layouts (header, envelope, token-bridge Transfer); its typed deserialize refuses
    // RustChain's chain id 21075, which is not in its table, so the chain fields are read as plain u16.
    const header = deserializeLayout(vaaHeaderLayout, signed, false) as unknown as [
      { guardianSet: number; signatures: { guardianIndex: number }[] },
      number,
    ];
    expect(header[0].guardianSet).toBe(0);
    expect(header[0].signatures.map((x) => x.guardianIndex)).toEqual(range(19).filter((i) => i % 3 !== 1));
    const bodyBytes = signed.subarray(header[1]);
    const envelope = deserializeLayout(vaaBodyLayout, bodyBytes, false) as unknown as [
      { emitterChain: number; emitterAddress: Uint8Array; sequence: bigint; consistencyLevel: number },
      number,
    ];
    expect(envelope[0]).toMatchObject({ emitterChain: RUSTCHAIN, sequence: 0n, consistencyLevel: 1 });
    expect(h(envelope[0].emitterAddress)).toBe(h(pad32(wormhole)));
    const payload = deserializeLayout(transferLayout, bodyBytes.subarray(envelope[1])) as unknown as {
      token: { amount: bigint; chain: number; address: Uint8Array };
      to: { chain: number; address: Uint8Array };
      fee: bigint;
    };
    expect(payload.token.amount).toBe(25n * 10n ** 7n); // 2.5 RTC in 8 decimals
    expect(payload.token.chain).toBe(RUSTCHAIN);
    expect(h(payload.token.address)).toBe(h(ZERO32));
    expect(payload.to.chain).toBe(SOLANA);
    expect(h(payload.to.address)).toBe(h(solanaRecipient));
    expect(payload.fee).toBe(0n);
  });

  it("TransferFees (Core 4) pays collected message fees, never the escrow; chain 0, another chain and a non-address recipient are refused", async () => {
    const messageFee = await wview<bigint>("messageFee");
    const collected = 4n * messageFee; // three publishMessage and one transferNative above
    const escrow = (await balance(wormhole)) - collected;
    const fees = (amount: bigint, o: { recipient?: Uint8Array; chain?: number } = {}) =>
      wgovernance(
        encodeTransferFees({ chain: o.chain ?? RUSTCHAIN, amount, recipient: o.recipient ?? pad32(bob.address) }),
      );
    expect(await wrefusal("submitGovernance", [fees(collected + 1n)])).toMatch(
      /^GOVERNANCE: TransferFees is more than the fees collected/,
    );
    expect(await wrefusal("submitGovernance", [fees(1n, { chain: 0 })])).toMatch(/^GOVERNANCE: TransferFees names/);
    expect(await wrefusal("submitGovernance", [fees(1n, { chain: ETHEREUM })])).toMatch(/^VAA_WRONG_CHAIN/);
    expect(await wrefusal("submitGovernance", [fees(1n, { recipient: new Uint8Array(32).fill(7) })])).toMatch(
      /^GOVERNANCE: TransferFees recipient is not a 20-byte address/,
    );
    const before = await balance(bob.address);
    await wgw(deployer, "submitGovernance", [fees(3n * messageFee)]);
    expect((await balance(bob.address)) - before).toBe(3n * messageFee);
    expect(await balance(wormhole)).toBe(escrow + messageFee);
    // what is left of the fees, and not a wei of the escrow
    expect(await wrefusal("submitGovernance", [fees(messageFee + 1n)])).toMatch(/^GOVERNANCE: TransferFees is more/);
    await wgw(deployer, "submitGovernance", [fees(messageFee)]);
    expect(await balance(wormhole)).toBe(escrow);
  });

  it("a guardian-set upgrade VAA switches sets; the old set verifies until its expiry, then is refused", async () => {
    const upgrade = encodeGuardianSetUpgrade({
      chain: 0,
      newIndex: 1,
      keys: guardianAddresses(WORMHOLE_NEXT_SET).map((a) => hexToBytes(a)),
    });
    const receipt = await wgw(deployer, "submitGovernance", [wgovernance(upgrade)]);
    expect(await wview("guardianSetIndex")).toBe(1);
    const [, expiry] = await wview<[Hex[], bigint]>("guardianSet", [0]);
    expect(expiry).toBe(BigInt(await blockTimestamp(receipt)) + GUARDIAN_SET_EXPIRY);
    // Governance needs the current set at once.
    expect(await wrefusal("submitGovernance", [wgovernance(encodeSetMessageFee({ chain: 0, fee: 0n }))])).toMatch(
      /^VAA_GUARDIAN_SET_EXPIRED/,
    );
    // Within the expiry, a transfer signed by the old set still redeems (as Wormhole: in-flight VAAs are not lost).
    const inFlight = solanaBody(solTransfer(5n, alice.address));
    await client.simulateContract({
      address: wormhole,
      abi: gatewayAbi,
      functionName: "completeTransfer",
      args: [wvaa(inFlight)],
      account: deployer,
    });
    while (Number((await client.getBlock()).timestamp) <= Number(expiry)) await new Promise((r) => setTimeout(r, 100));
    expect(await wrefusal("completeTransfer", [wvaa(inFlight)])).toMatch(/^VAA_GUARDIAN_SET_EXPIRED/);
    const before = await read<bigint>(wrappedSol, erc20Abi, "balanceOf", [alice.address]);
    await wgw(deployer, "completeTransfer", [wvaa(inFlight, range(13), WORMHOLE_NEXT_SET)]);
    expect((await read<bigint>(wrappedSol, erc20Abi, "balanceOf", [alice.address])) - before).toBe(5n);
  });
});
