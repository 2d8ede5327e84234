// The Ethereum gateway (bridge-relayer/contracts/RustChainBridge.sol) against a real `hardhat node`, through real
// transactions: deposits and their LogMessagePublished, inbound transfers signed by test guardian keys, every
// refusal with its docs/bridge.md error code, governance, the governor's queue, pause, cancel and refund.
import { join } from "node:path";
import { BRIDGE_ERROR_CODES } from "@rustchain/shared/bridge/errors";
import {
  encodeGuardianSetUpgrade,
  encodeRegisterChain,
  encodeSetGovernor,
  encodeSetPaused,
  GOVERNANCE_EMITTER,
} from "@rustchain/shared/bridge/governance";
import { messageFromLog } from "@rustchain/shared/bridge/messageLog";
import {
  decodeTokenBridgePayload,
  encodeAssetMeta,
  encodeRefund,
  encodeTransfer,
  encodeTransferWithPayload,
} from "@rustchain/shared/bridge/payloads";
import { encodeVaaBody, signVaa, vaaDigest, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import fc from "fast-check";
import {
  type Abi,
  type Address,
  BaseError,
  bytesToHex,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  encodePacked,
  getAddress,
  getContractAddress,
  type Hex,
  hexToBytes,
  keccak256,
  pad,
  parseEventLogs,
  type TransactionReceipt,
  toHex,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BRIDGE_RELAYER_DIR,
  type CompiledContract,
  compileBridgeContracts,
  compileSolidity,
} from "../src/contracts/compile.ts";
import {
  type Emitter,
  type Guardian,
  guardianSet,
  makeVaa,
  type SignedVaa,
  type VaaOptions,
} from "./support/guardians.ts";
import { type HardhatNode, startHardhatNode, type Wallet } from "./support/hardhatNode.ts";

const ETH_CHAIN = WORMHOLE_CHAIN.ethereum;
const RUSTCHAIN = WORMHOLE_CHAIN.rustchain;
const ZERO32 = new Uint8Array(32);
/** The RustChain gateway the Ethereum gateway is deployed to trust (any 20-byte address, left-padded). */
const REMOTE: Emitter = { chain: RUSTCHAIN, address: hexToBytes(pad("0x5253000000000000000000000000000000005253")) };
const GOVERNANCE: Emitter = { chain: GOVERNANCE_EMITTER.chain, address: GOVERNANCE_EMITTER.address };
const WEI_PER_UNIT = 10n ** 10n; // 18-decimal amounts normalised to 8
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MAX_CONTRACT_SIZE = 24_576;

let node: HardhatNode;
let artifacts: Record<string, CompiledContract>;
let deployer: Wallet;
let relayer: Wallet;
let alice: Wallet;
let bob: Wallet;
const set0 = guardianSet("set0", 4); // quorum 3
const gas: Record<string, bigint> = {};

const bytes32Of = (a: Address): Uint8Array => hexToBytes(pad(a));
const hex32 = (a: Address): Hex => pad(a);

beforeAll(async () => {
  artifacts = {
    ...(await compileBridgeContracts()),
    ...(
      await compileSolidity({
        sourceDir: join(BRIDGE_RELAYER_DIR, "test/fixtures"),
        outDir: join(BRIDGE_RELAYER_DIR, "build/test-fixtures"),
      })
    ).contracts,
  };
  node = await startHardhatNode();
  [deployer, relayer, alice, bob] = node.wallets as [Wallet, Wallet, Wallet, Wallet];
});

afterAll(async () => {
  await node?.stop();
  if (Object.keys(gas).length > 0) {
    console.log(
      `gas ${Object.entries(gas)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Contract handles

class Contract {
  constructor(
    readonly address: Address,
    readonly abi: Abi,
  ) {}

  async send(from: Wallet, functionName: string, args: unknown[] = [], value?: bigint): Promise<TransactionReceipt> {
    const hash = await from.writeContract({ address: this.address, abi: this.abi, functionName, args, value });
    const receipt = await node.client.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    return receipt;
  }

  async read<T>(functionName: string, args: unknown[] = []): Promise<T> {
    return (await node.client.readContract({ address: this.address, abi: this.abi, functionName, args })) as T;
  }

  /** The revert reason of a call that must fail (estimated as a transaction from `from`). */
  async revert(from: Wallet, functionName: string, args: unknown[] = [], value?: bigint): Promise<string> {
    try {
      await from.writeContract({ address: this.address, abi: this.abi, functionName, args, value });
    } catch (e) {
      if (e instanceof BaseError) {
        const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
        if (reverted instanceof ContractFunctionRevertedError) return reverted.reason ?? "<no reason>";
      }
      throw e;
    }
    throw new Error(`${functionName} did not revert`);
  }

  /** "ok" when a transaction would succeed, else its revert reason (nothing is sent). */
  async outcome(from: Wallet, functionName: string, args: unknown[] = []): Promise<string> {
    try {
      await node.client.estimateContractGas({
        account: from.account,
        address: this.address,
        abi: this.abi,
        functionName,
        args,
      });
      return "ok";
    } catch (e) {
      if (e instanceof BaseError) {
        const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
        if (reverted instanceof ContractFunctionRevertedError) return reverted.reason ?? "<no reason>";
      }
      throw e;
    }
  }

  events(receipt: TransactionReceipt, eventName: string) {
    return parseEventLogs({ abi: this.abi, logs: receipt.logs, eventName }).filter(
      (l) => l.address.toLowerCase() === this.address.toLowerCase(),
    ) as unknown as { args: Record<string, unknown> }[];
  }
}

async function deploy(name: string, args: unknown[] = [], from: Wallet = deployer): Promise<Contract> {
  const { abi, bytecode } = artifacts[name]!;
  const hash = await from.deployContract({ abi, bytecode, args });
  const receipt = await node.client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  gas[`deploy${name}`] ??= receipt.gasUsed;
  return new Contract(getAddress(receipt.contractAddress!), abi);
}

async function deployGateway(opts: { guardians?: Guardian[]; expiry?: bigint } = {}): Promise<Contract> {
  return deploy("RustChainBridge", [
    ETH_CHAIN,
    (opts.guardians ?? set0).map((g) => g.address),
    opts.expiry ?? 0n,
    RUSTCHAIN,
    bytesToHex(REMOTE.address),
  ]);
}

async function ethBalance(a: Address): Promise<bigint> {
  return node.client.getBalance({ address: a });
}

const gasCost = (r: TransactionReceipt) => r.gasUsed * r.effectiveGasPrice;

/** The payload, sequence and nonce of the one LogMessagePublished in `receipt`, checked against the envelope rules. */
function published(gateway: Contract, receipt: TransactionReceipt) {
  const [log] = gateway.events(receipt, "LogMessagePublished");
  expect(log).toBeDefined();
  const args = log!.args as {
    sender: Address;
    sequence: bigint;
    nonce: number;
    payload: Hex;
    consistencyLevel: number;
  };
  expect(args.sender.toLowerCase()).toBe(gateway.address.toLowerCase());
  expect(args.consistencyLevel).toBe(1);
  return { ...args, decoded: decodeTokenBridgePayload(hexToBytes(args.payload)) };
}

// VAA factories for a gateway trusting REMOTE and set0 unless told otherwise.
const transferVaa = (
  t: { amount: bigint; tokenChain: number; tokenAddress: Uint8Array; to: Address; fee?: bigint; toChain?: number },
  opts: VaaOptions & { emitter?: Emitter; set?: Guardian[] } = {},
): SignedVaa =>
  makeVaa(
    opts.emitter ?? REMOTE,
    encodeTransfer({
      amount: t.amount,
      tokenChain: t.tokenChain,
      tokenAddress: t.tokenAddress,
      to: bytes32Of(t.to),
      toChain: t.toChain ?? ETH_CHAIN,
      fee: t.fee ?? 0n,
    }),
    opts.set ?? set0,
    opts,
  );

const governanceVaa = (payload: Uint8Array, opts: VaaOptions & { set?: Guardian[] } = {}) =>
  makeVaa(GOVERNANCE, payload, opts.set ?? set0, opts);

const rtcMeta = () =>
  makeVaa(
    REMOTE,
    encodeAssetMeta({ tokenChain: RUSTCHAIN, tokenAddress: ZERO32, decimals: 18, symbol: "wRTC", name: "RustChain" }),
    set0,
  );

/** A gateway with wRTC created, and the wRTC token. */
async function gatewayWithWrtc(opts: { guardians?: Guardian[]; expiry?: bigint } = {}) {
  const gateway = await deployGateway(opts);
  const receipt = await gateway.send(relayer, "createWrapped", [rtcMeta().vaa]);
  gas.createWrapped ??= receipt.gasUsed;
  const address = await gateway.read<Address>("wrappedAsset", [RUSTCHAIN, bytesToHex(ZERO32)]);
  return { gateway, wrtc: new Contract(address, artifacts.WrappedToken!.abi) };
}

// ---------------------------------------------------------------------------------------------------------------

describe("deployment", () => {
  it("fits the EIP-170 size limit and reports its configuration", async () => {
    const gateway = await deployGateway();
    const code = await node.client.getCode({ address: gateway.address });
    const size = (code!.length - 2) / 2;
    console.log(`RustChainBridge runtime ${size} bytes (limit ${MAX_CONTRACT_SIZE})`);
    expect(size).toBeLessThanOrEqual(MAX_CONTRACT_SIZE);
    expect(await gateway.read("chainId")).toBe(ETH_CHAIN);
    expect(await gateway.read("guardianSetIndex")).toBe(0);
    const [keys, expiry] = await gateway.read<[Address[], bigint]>("guardianSet", [0]);
    expect(keys.map((k) => k.toLowerCase())).toEqual(set0.map((g) => g.address.toLowerCase()));
    expect(expiry).toBe(0n);
    expect(await gateway.read("registeredGateway", [RUSTCHAIN])).toBe(bytesToHex(REMOTE.address));
    expect(await gateway.read("nextSequence")).toBe(0n);
  });
});

describe("outbound transfers", () => {
  it("transferNative escrows ETH normalised to 8 decimals, returns the dust and publishes a Transfer", async () => {
    const gateway = await deployGateway();
    const value = 1_234_567_890_123_456_789n; // 1.234567890123456789 ETH
    const before = await ethBalance(alice.account.address);
    const receipt = await gateway.send(
      alice,
      "transferNative",
      [RUSTCHAIN, hex32(bob.account.address), 1_000n, 77],
      value,
    );
    gas.transferNative = receipt.gasUsed;
    const escrowed = 1_234_567_890_000_000_000n;
    expect(await ethBalance(gateway.address)).toBe(escrowed);
    expect(await ethBalance(alice.account.address)).toBe(before - escrowed - gasCost(receipt)); // dust came back

    const msg = published(gateway, receipt);
    expect(msg.sequence).toBe(0n);
    expect(msg.nonce).toBe(77);
    expect(msg.decoded).toEqual({
      payloadId: 1,
      amount: 123_456_789n,
      tokenAddress: ZERO32,
      tokenChain: ETH_CHAIN,
      to: bytes32Of(bob.account.address),
      toChain: RUSTCHAIN,
      fee: 1_000n,
    });
    expect(await gateway.read("outbound", [0n])).toEqual([
      alice.account.address,
      `0x${"0".repeat(40)}`,
      escrowed,
      false,
    ]);

    const second = await gateway.send(
      alice,
      "transferNative",
      [RUSTCHAIN, hex32(bob.account.address), 0n, 0],
      10n ** 10n,
    );
    expect(published(gateway, second).sequence).toBe(1n);
    expect(await gateway.read("nextSequence")).toBe(2n);
  });

  it("refuses amounts that normalise to zero, fees above the amount, and chains without a gateway", async () => {
    const gateway = await deployGateway();
    const to = hex32(bob.account.address);
    expect(await gateway.revert(alice, "transferNative", [RUSTCHAIN, to, 0n, 0], 10n ** 10n - 1n)).toMatch(
      /^AMOUNT_TOO_SMALL/,
    );
    expect(await gateway.revert(alice, "transferNative", [RUSTCHAIN, to, 2n, 0], 10n ** 10n)).toMatch(/^FEE_TOO_HIGH/);
    expect(await gateway.revert(alice, "transferNative", [ETH_CHAIN, to, 0n, 0], 10n ** 10n)).toMatch(
      /^VAA_WRONG_CHAIN/,
    );
    expect(await gateway.revert(alice, "transferNative", [999, to, 0n, 0], 10n ** 10n)).toMatch(/^VAA_WRONG_CHAIN/);
  });

  it("transferTokens escrows an 18-decimal ERC-20 without its dust, and a 6-decimal one as is", async () => {
    const gateway = await deployGateway();
    const t18 = await deploy("TestToken", ["Test Eighteen", "T18", 18, 10n ** 24n], alice);
    const t6 = await deploy("TestToken", ["Test Six", "T6", 6, 10n ** 12n], alice);
    const amount = 5n * 10n ** 18n + 12_345n;
    await t18.send(alice, "approve", [gateway.address, amount]);
    const receipt = await gateway.send(alice, "transferTokens", [
      t18.address,
      amount,
      RUSTCHAIN,
      hex32(bob.account.address),
      3n,
      5,
    ]);
    gas.transferTokens = receipt.gasUsed;
    expect(await t18.read("balanceOf", [gateway.address])).toBe(5n * 10n ** 18n);
    expect(await t18.read("balanceOf", [alice.account.address])).toBe(10n ** 24n - 5n * 10n ** 18n);
    const msg = published(gateway, receipt);
    expect(msg.sequence).toBe(0n);
    expect(msg.decoded).toEqual({
      payloadId: 1,
      amount: 5n * 10n ** 8n,
      tokenAddress: bytes32Of(t18.address),
      tokenChain: ETH_CHAIN,
      to: bytes32Of(bob.account.address),
      toChain: RUSTCHAIN,
      fee: 3n,
    });
    expect(await gateway.read("outbound", [0n])).toEqual([alice.account.address, t18.address, 5n * 10n ** 18n, false]);

    await t6.send(alice, "approve", [gateway.address, 1_234_567n]);
    const r6 = await gateway.send(alice, "transferTokens", [
      t6.address,
      1_234_567n,
      RUSTCHAIN,
      hex32(bob.account.address),
      0n,
      0,
    ]);
    const m6 = published(gateway, r6);
    expect(m6.sequence).toBe(1n);
    expect(m6.decoded).toMatchObject({
      amount: 1_234_567n,
      tokenChain: ETH_CHAIN,
      tokenAddress: bytes32Of(t6.address),
    });
    expect(await t6.read("balanceOf", [gateway.address])).toBe(1_234_567n);

    await t18.send(alice, "approve", [gateway.address, 10n ** 10n]);
    expect(
      await gateway.revert(alice, "transferTokens", [
        t18.address,
        10n ** 10n - 1n,
        RUSTCHAIN,
        hex32(bob.account.address),
        0n,
        0,
      ]),
    ).toMatch(/^AMOUNT_TOO_SMALL/);
    expect(
      await gateway.revert(alice, "transferTokens", [
        t18.address,
        10n ** 10n,
        RUSTCHAIN,
        hex32(bob.account.address),
        2n,
        0,
      ]),
    ).toMatch(/^FEE_TOO_HIGH/);
  });

  it("transferTokensWithPayload publishes payload 3 with the sender as fromAddress", async () => {
    const gateway = await deployGateway();
    const t18 = await deploy("TestToken", ["Test Eighteen", "T18", 18, 10n ** 24n], alice);
    await t18.send(alice, "approve", [gateway.address, 10n ** 18n]);
    const receipt = await gateway.send(alice, "transferTokensWithPayload", [
      t18.address,
      10n ** 18n,
      RUSTCHAIN,
      hex32(bob.account.address),
      9,
      "0xc0ffee",
    ]);
    expect(published(gateway, receipt).decoded).toEqual({
      payloadId: 3,
      amount: 10n ** 8n,
      tokenAddress: bytes32Of(t18.address),
      tokenChain: ETH_CHAIN,
      to: bytes32Of(bob.account.address),
      toChain: RUSTCHAIN,
      fromAddress: bytes32Of(alice.account.address),
      payload: hexToBytes("0xc0ffee"),
    });
  });

  it("attestToken publishes AssetMeta for an ERC-20 and for ETH", async () => {
    const gateway = await deployGateway();
    const t18 = await deploy("TestToken", ["Test Eighteen", "T18", 18, 10n ** 24n], alice);
    const r = await gateway.send(alice, "attestToken", [t18.address, 1]);
    expect(published(gateway, r).decoded).toEqual({
      payloadId: 2,
      tokenAddress: bytes32Of(t18.address),
      tokenChain: ETH_CHAIN,
      decimals: 18,
      symbol: "T18",
      name: "Test Eighteen",
    });
    // names over 32 bytes are cut on a UTF-8 character boundary (each "é" is 2 bytes: 31 bytes kept, not 32)
    const long = await deploy("TestToken", [`${"a".repeat(29)}éé`, "Ü", 6, 1n], alice);
    expect(published(gateway, await gateway.send(alice, "attestToken", [long.address, 0])).decoded).toMatchObject({
      decimals: 6,
      symbol: "Ü",
      name: `${"a".repeat(29)}é`,
    });
    const rEth = await gateway.send(alice, "attestToken", [`0x${"0".repeat(40)}`, 2]);
    expect(published(gateway, rEth).decoded).toEqual({
      payloadId: 2,
      tokenAddress: ZERO32,
      tokenChain: ETH_CHAIN,
      decimals: 18,
      symbol: "ETH",
      name: "Ether",
    });
  });
});

describe("inbound transfers", () => {
  it("createWrapped deploys wRTC with CREATE2 and 8 decimals; completeTransfer mints it, the fee to the relayer", async () => {
    const { gateway, wrtc } = await gatewayWithWrtc();
    expect(await wrtc.read("decimals")).toBe(8);
    expect(await wrtc.read("symbol")).toBe("wRTC");
    expect(await wrtc.read("name")).toBe("RustChain");
    expect(await wrtc.read("gateway")).toBe(gateway.address);
    const salt = keccak256(encodePacked(["uint16", "bytes32"], [RUSTCHAIN, bytesToHex(ZERO32)]));
    const ctorArgs = encodeAbiParameters(
      [{ type: "string" }, { type: "string" }, { type: "uint8" }, { type: "uint16" }, { type: "bytes32" }],
      ["RustChain", "wRTC", 8, RUSTCHAIN, bytesToHex(ZERO32)],
    );
    expect(
      getContractAddress({
        opcode: "CREATE2",
        from: gateway.address,
        salt,
        bytecode: `${artifacts.WrappedToken!.bytecode}${ctorArgs.slice(2)}` as Hex,
      }),
    ).toBe(wrtc.address);
    expect(await gateway.revert(relayer, "createWrapped", [rtcMeta().vaa])).toMatch(/^VAA_PAYLOAD/); // exists

    const v = transferVaa({
      amount: 1_000_00000000n,
      fee: 5_00000000n,
      tokenChain: RUSTCHAIN,
      tokenAddress: ZERO32,
      to: bob.account.address,
    });
    const receipt = await gateway.send(relayer, "completeTransfer", [v.vaa]);
    gas.completeTransferMint4Guardians = receipt.gasUsed;
    expect(await wrtc.read("balanceOf", [bob.account.address])).toBe(995_00000000n);
    expect(await wrtc.read("balanceOf", [relayer.account.address])).toBe(5_00000000n);
    expect(gateway.events(receipt, "TransferCompleted")[0]!.args).toEqual({
      digest: v.digest,
      to: bob.account.address,
      amount: 1_000_00000000n,
      fee: 5_00000000n,
    });
    expect(await gateway.read("isCompleted", [v.digest])).toBe(true);
    expect(await gateway.revert(relayer, "completeTransfer", [v.vaa])).toMatch(/^VAA_CONSUMED/);

    // wRTC back to RustChain: burned (within the allowance), published with its home identity
    expect(
      await gateway.revert(bob, "transferTokens", [wrtc.address, 100n, RUSTCHAIN, hex32(alice.account.address), 0n, 0]),
    ).toMatch(/ERC20InsufficientAllowance|^$|<no reason>/);
    await wrtc.send(bob, "approve", [gateway.address, 95_00000000n]);
    const out = await gateway.send(bob, "transferTokens", [
      wrtc.address,
      95_00000000n,
      RUSTCHAIN,
      hex32(alice.account.address),
      0n,
      0,
    ]);
    gas.transferTokensBurn = out.gasUsed;
    expect(published(gateway, out).decoded).toMatchObject({
      amount: 95_00000000n,
      tokenChain: RUSTCHAIN,
      tokenAddress: ZERO32,
    });
    expect(await wrtc.read("totalSupply")).toBe(905_00000000n);
    expect(await gateway.read("outbound", [0n])).toEqual([bob.account.address, wrtc.address, 95_00000000n, false]);
    expect(await wrtc.revert(alice, "mint", [alice.account.address, 1n])).toMatch(/caller is not the gateway/);
  });

  it("releases escrowed ETH and ERC-20 of Ethereum-home assets, multiplied back to 18 decimals", async () => {
    const gateway = await deployGateway();
    const t18 = await deploy("TestToken", ["Test Eighteen", "T18", 18, 10n ** 24n], alice);
    await gateway.send(alice, "transferNative", [RUSTCHAIN, hex32(alice.account.address), 0n, 0], 10n ** 18n);
    await t18.send(alice, "approve", [gateway.address, 10n ** 18n]);
    await gateway.send(alice, "transferTokens", [
      t18.address,
      10n ** 18n,
      RUSTCHAIN,
      hex32(alice.account.address),
      0n,
      0,
    ]);

    const carol = getAddress(`0x${"ca".repeat(20)}`); // never sends a transaction: exact balances
    const ethVaa = transferVaa({
      amount: 40_000_000n,
      fee: 1_000_000n,
      tokenChain: ETH_CHAIN,
      tokenAddress: ZERO32,
      to: carol,
    });
    const relayerBefore = await ethBalance(relayer.account.address);
    const r = await gateway.send(relayer, "completeTransfer", [ethVaa.vaa]);
    gas.completeTransferEth = r.gasUsed;
    expect(await ethBalance(carol)).toBe(39_000_000n * WEI_PER_UNIT);
    expect(await ethBalance(relayer.account.address)).toBe(relayerBefore + 1_000_000n * WEI_PER_UNIT - gasCost(r));
    expect(await ethBalance(gateway.address)).toBe(10n ** 18n - 40_000_000n * WEI_PER_UNIT);

    const tokVaa = transferVaa({
      amount: 60_000_000n,
      fee: 2n,
      tokenChain: ETH_CHAIN,
      tokenAddress: bytes32Of(t18.address),
      to: carol,
    });
    const rt = await gateway.send(relayer, "completeTransfer", [tokVaa.vaa]);
    gas.completeTransferErc20 = rt.gasUsed;
    expect(await t18.read("balanceOf", [carol])).toBe((60_000_000n - 2n) * WEI_PER_UNIT);
    expect(await t18.read("balanceOf", [relayer.account.address])).toBe(2n * WEI_PER_UNIT);
    expect(await t18.read("balanceOf", [gateway.address])).toBe(10n ** 18n - 60_000_000n * WEI_PER_UNIT);
  });

  it("TransferWithPayload completes only for its recipient, without a fee", async () => {
    const { gateway, wrtc } = await gatewayWithWrtc();
    const v = makeVaa(
      REMOTE,
      encodeTransferWithPayload({
        amount: 7n,
        tokenChain: RUSTCHAIN,
        tokenAddress: ZERO32,
        to: bytes32Of(bob.account.address),
        toChain: ETH_CHAIN,
        fromAddress: bytes32Of(alice.account.address),
        payload: hexToBytes("0x01"),
      }),
      set0,
    );
    expect(await gateway.revert(relayer, "completeTransfer", [v.vaa])).toMatch(/^NOT_RECIPIENT/);
    await gateway.send(bob, "completeTransfer", [v.vaa]);
    expect(await wrtc.read("balanceOf", [bob.account.address])).toBe(7n);
  });
});

describe("refusals", () => {
  let gateway: Contract;
  const rtc = (o: Partial<Parameters<typeof transferVaa>[0]> = {}, opts: Parameters<typeof transferVaa>[1] = {}) =>
    transferVaa({ amount: 100n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address, ...o }, opts);
  const refusal = (vaa: Hex, fn = "completeTransfer") => gateway.revert(relayer, fn, [vaa]);

  beforeAll(async () => {
    ({ gateway } = await gatewayWithWrtc());
  });

  it("VAA_BAD_SIGNATURE: a signature by a key not in the set, or a high-s twin of a good one", async () => {
    const stranger = guardianSet("stranger", 4);
    const forged = rtc({}, { signers: [set0[0]!, { ...stranger[1]!, index: 1 }, set0[2]!] });
    expect(await refusal(forged.vaa)).toMatch(/^VAA_BAD_SIGNATURE/);

    const good = hexToBytes(rtc().vaa);
    const s = BigInt(bytesToHex(good.subarray(6 + 33, 6 + 65)));
    good.set(hexToBytes(pad(`0x${(SECP256K1N_HIGH(s)).toString(16)}`)), 6 + 33);
    good[6 + 65] = good[6 + 65]! ^ 1;
    expect(await refusal(bytesToHex(good))).toMatch(/^VAA_BAD_SIGNATURE/);
  });

  it("VAA_QUORUM: 2 signatures of a 4-key set", async () => {
    expect(await refusal(rtc({}, { signers: set0.slice(0, 2) }).vaa)).toMatch(/^VAA_QUORUM/);
  });

  it("VAA_SIGNATURE_ORDER: indices not strictly ascending, or outside the set", async () => {
    const v = hexToBytes(rtc({}, { signers: set0.slice(0, 3) }).vaa);
    const first = v.slice(6, 6 + 66);
    v.copyWithin(6, 6 + 66, 6 + 132);
    v.set(first, 6 + 66);
    expect(await refusal(bytesToHex(v))).toMatch(/^VAA_SIGNATURE_ORDER/);
    const dup = hexToBytes(rtc({}, { signers: set0.slice(0, 3) }).vaa);
    dup.set(dup.slice(6, 6 + 66), 6 + 66);
    expect(await refusal(bytesToHex(dup))).toMatch(/^VAA_SIGNATURE_ORDER/);
    const outside = rtc({}, { signers: [set0[0]!, set0[1]!, { ...set0[2]!, index: 4 }] });
    expect(await refusal(outside.vaa)).toMatch(/^VAA_SIGNATURE_ORDER/);
  });

  it("VAA_UNKNOWN_GUARDIAN_SET, VAA_VERSION, VAA_MALFORMED", async () => {
    expect(await refusal(rtc({}, { guardianSetIndex: 1 }).vaa)).toMatch(/^VAA_UNKNOWN_GUARDIAN_SET/);
    const v2 = hexToBytes(rtc().vaa);
    v2[0] = 2;
    expect(await refusal(bytesToHex(v2))).toMatch(/^VAA_VERSION/);
    expect(await refusal(rtc().vaa.slice(0, 2 + 2 * 200) as Hex)).toMatch(/^VAA_MALFORMED/);
    expect(await refusal("0x01")).toMatch(/^VAA_MALFORMED/);
  });

  it("VAA_CONSUMED, VAA_WRONG_CHAIN, VAA_UNKNOWN_EMITTER, VAA_PAYLOAD, ASSET_UNKNOWN, FEE_TOO_HIGH", async () => {
    const v = rtc();
    await gateway.send(relayer, "completeTransfer", [v.vaa]);
    expect(await refusal(v.vaa)).toMatch(/^VAA_CONSUMED/);
    expect(await refusal(rtc({ toChain: RUSTCHAIN }).vaa)).toMatch(/^VAA_WRONG_CHAIN/);
    const stranger = { chain: RUSTCHAIN, address: hexToBytes(pad("0xbad0")) };
    expect(await refusal(rtc({}, { emitter: stranger }).vaa)).toMatch(/^VAA_UNKNOWN_EMITTER/);
    expect(await refusal(rtc({}, { emitter: { chain: 1, address: REMOTE.address } }).vaa)).toMatch(
      /^VAA_UNKNOWN_EMITTER/,
    );
    expect(await refusal(rtcMeta().vaa)).toMatch(/^VAA_PAYLOAD/);
    expect(await refusal(rtc().vaa, "createWrapped")).toMatch(/^VAA_PAYLOAD/);
    expect(await refusal(rtc({ tokenAddress: hexToBytes(pad("0x01")) }).vaa)).toMatch(/^ASSET_UNKNOWN/);
    expect(await refusal(rtc({ amount: 5n, fee: 6n }).vaa)).toMatch(/^FEE_TOO_HIGH/);
  });
});

/** s' = n - s: the other valid s of an ECDSA signature, above n/2. */
function SECP256K1N_HIGH(s: bigint): bigint {
  return SECP256K1_N - s;
}

describe("governance", () => {
  it("GuardianSetUpgrade with expiry 0: the old set is refused at once, the new one verifies", async () => {
    const { gateway, wrtc } = await gatewayWithWrtc({ expiry: 0n });
    const set1 = guardianSet("set1", 5);
    const up = governanceVaa(
      encodeGuardianSetUpgrade({ chain: ETH_CHAIN, newIndex: 1, keys: set1.map((g) => hexToBytes(g.address)) }),
    );
    const r = await gateway.send(relayer, "submitGovernance", [up.vaa]);
    gas.guardianSetUpgrade5 = r.gasUsed;
    expect(gateway.events(r, "GovernanceExecuted")[0]!.args).toMatchObject({ digest: up.digest, action: 2 });
    expect(await gateway.read("guardianSetIndex")).toBe(1);
    const block = await node.client.getBlock({ blockNumber: r.blockNumber });
    expect((await gateway.read<[Address[], bigint]>("guardianSet", [0]))[1]).toBe(block.timestamp);

    const old = transferVaa({ amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address });
    expect(await gateway.revert(relayer, "completeTransfer", [old.vaa])).toMatch(/^VAA_GUARDIAN_SET_EXPIRED/);
    const fresh = transferVaa(
      { amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address },
      { set: set1, guardianSetIndex: 1 },
    );
    await gateway.send(relayer, "completeTransfer", [fresh.vaa]);
    expect(await wrtc.read("balanceOf", [bob.account.address])).toBe(1n);
    const two = transferVaa(
      { amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address },
      { set: set1, guardianSetIndex: 2 },
    );
    expect(await gateway.revert(relayer, "completeTransfer", [two.vaa])).toMatch(/^VAA_UNKNOWN_GUARDIAN_SET/);
    expect(await gateway.revert(relayer, "submitGovernance", [up.vaa])).toMatch(/^VAA_GUARDIAN_SET_EXPIRED/);
    const skip = governanceVaa(
      encodeGuardianSetUpgrade({ chain: 0, newIndex: 3, keys: set0.map((g) => hexToBytes(g.address)) }),
      { set: set1, guardianSetIndex: 1 },
    );
    expect(await gateway.revert(relayer, "submitGovernance", [skip.vaa])).toMatch(/^GOVERNANCE/);
  });

  it("with an expiry, the old set verifies transfers until it expires but never signs governance", async () => {
    const { gateway } = await gatewayWithWrtc({ expiry: 3600n });
    const set1 = guardianSet("set1", 5);
    await gateway.send(relayer, "submitGovernance", [
      governanceVaa(encodeGuardianSetUpgrade({ chain: 0, newIndex: 1, keys: set1.map((g) => hexToBytes(g.address)) }))
        .vaa,
    ]);
    const rtc = () => transferVaa({ amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address });
    await gateway.send(relayer, "completeTransfer", [rtc().vaa]);
    const pause = encodeSetPaused({ chain: 0, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, paused: true });
    expect(await gateway.revert(relayer, "submitGovernance", [governanceVaa(pause).vaa])).toMatch(
      /^VAA_GUARDIAN_SET_EXPIRED/,
    );
    await node.increaseTime(3601);
    expect(await gateway.revert(relayer, "completeTransfer", [rtc().vaa])).toMatch(/^VAA_GUARDIAN_SET_EXPIRED/);
  });

  it("RegisterChain replaces the remote gateway; foreign-chain, replayed, unknown and mis-emitted governance is refused", async () => {
    const { gateway } = await gatewayWithWrtc();
    const newRemote = { chain: RUSTCHAIN, address: hexToBytes(pad("0x5253beef")) };
    const reg = governanceVaa(
      encodeRegisterChain({ chain: ETH_CHAIN, emitterChain: RUSTCHAIN, emitterAddress: newRemote.address }),
    );
    await gateway.send(relayer, "submitGovernance", [reg.vaa]);
    expect(await gateway.read("registeredGateway", [RUSTCHAIN])).toBe(bytesToHex(newRemote.address));
    const t = { amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address };
    expect(await gateway.revert(relayer, "completeTransfer", [transferVaa(t).vaa])).toMatch(/^VAA_UNKNOWN_EMITTER/);
    await gateway.send(relayer, "completeTransfer", [transferVaa(t, { emitter: newRemote }).vaa]);

    expect(await gateway.revert(relayer, "submitGovernance", [reg.vaa])).toMatch(/^VAA_CONSUMED/);
    const foreign = encodeSetPaused({ chain: RUSTCHAIN, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, paused: true });
    expect(await gateway.revert(relayer, "submitGovernance", [governanceVaa(foreign).vaa])).toMatch(/^VAA_WRONG_CHAIN/);
    const pause = encodeSetPaused({ chain: 0, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, paused: true });
    expect(await gateway.revert(relayer, "submitGovernance", [makeVaa(REMOTE, pause, set0).vaa])).toMatch(
      /^VAA_UNKNOWN_EMITTER/,
    );
    const unknown = hexToBytes(bytesToHex(pause));
    unknown[32] = 9; // action 9 of RustChainBridge
    expect(await gateway.revert(relayer, "submitGovernance", [governanceVaa(unknown).vaa])).toMatch(/^GOVERNANCE/);
  });
});

describe("governor", () => {
  it("queues at the threshold until now + delay, and over the daily limit until the next window", async () => {
    const { gateway, wrtc } = await gatewayWithWrtc();
    await gateway.send(relayer, "submitGovernance", [
      governanceVaa(
        encodeSetGovernor({
          chain: ETH_CHAIN,
          tokenChain: RUSTCHAIN,
          tokenAddress: ZERO32,
          dailyLimit: 1_000n,
          threshold: 500n,
          delay: 3600,
        }),
      ).vaa,
    ]);
    // start just after a day window opens so the whole test stays inside it
    const day = 86_400n;
    const windowStart = ((await node.latestTimestamp()) / day + 1n) * day;
    await node.setNextBlockTimestamp(windowStart + 60n);
    const carol = getAddress(`0x${"c1".repeat(20)}`);
    const rtc = (amount: bigint, fee = 0n) =>
      transferVaa({ amount, fee, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: carol });

    const big = rtc(600n, 10n);
    const rq = await gateway.send(relayer, "completeTransfer", [big.vaa]);
    gas.completeTransferQueued = rq.gasUsed;
    expect(gateway.events(rq, "TransferQueued")[0]!.args).toEqual({
      digest: big.digest,
      releaseTime: windowStart + 60n + 3600n,
    });
    expect(await gateway.read("queuedUntil", [big.digest])).toBe(windowStart + 60n + 3600n);
    expect(await gateway.read("isCompleted", [big.digest])).toBe(true);
    expect(await wrtc.read("balanceOf", [carol])).toBe(0n);
    expect(await gateway.revert(relayer, "completeTransfer", [big.vaa])).toMatch(/^VAA_CONSUMED/);
    expect(await gateway.revert(relayer, "releaseQueued", [big.body])).toMatch(/^NOT_RELEASED/);

    await gateway.send(relayer, "completeTransfer", [rtc(400n).vaa]);
    await gateway.send(relayer, "completeTransfer", [rtc(400n).vaa]);
    expect(await wrtc.read("balanceOf", [carol])).toBe(800n);
    expect((await gateway.read<bigint[]>("governor", [RUSTCHAIN, bytesToHex(ZERO32)]))[3]).toBe(800n); // queued not counted

    const over = rtc(300n);
    const ro = await gateway.send(relayer, "completeTransfer", [over.vaa]);
    expect(gateway.events(ro, "TransferQueued")[0]!.args).toEqual({
      digest: over.digest,
      releaseTime: windowStart + day,
    });

    await node.increaseTime(3600);
    const relayerBefore = (await wrtc.read<bigint>("balanceOf", [relayer.account.address])) as bigint;
    const rr = await gateway.send(relayer, "releaseQueued", [big.body]);
    gas.releaseQueued = rr.gasUsed;
    expect(gateway.events(rr, "TransferCompleted")[0]!.args).toEqual({
      digest: big.digest,
      to: carol,
      amount: 600n,
      fee: 10n,
    });
    expect(await wrtc.read("balanceOf", [carol])).toBe(800n + 590n);
    expect(await wrtc.read("balanceOf", [relayer.account.address])).toBe(relayerBefore + 10n);
    expect(await gateway.read("queuedUntil", [big.digest])).toBe(0n);
    expect(await gateway.revert(relayer, "releaseQueued", [big.body])).toMatch(/^NOT_QUEUED/);
    expect(await gateway.revert(relayer, "releaseQueued", [rtc(1n).body])).toMatch(/^NOT_QUEUED/);

    expect(await gateway.revert(relayer, "releaseQueued", [over.body])).toMatch(/^NOT_RELEASED/);
    await node.setNextBlockTimestamp(windowStart + day);
    await gateway.send(relayer, "releaseQueued", [over.body]);
    expect(await wrtc.read("balanceOf", [carol])).toBe(800n + 590n + 300n);
    expect((await gateway.read<bigint[]>("governor", [RUSTCHAIN, bytesToHex(ZERO32)]))[3]).toBe(0n); // releases not counted
  });
});

describe("pause, cancel and refund", () => {
  it("a paused asset refuses transfers; cancelTransfer consumes the digest and publishes a Refund", async () => {
    const { gateway, wrtc } = await gatewayWithWrtc();
    const t = { amount: 50n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address };
    const stuck = transferVaa(t, { sequence: 4242n });
    const unpaused = transferVaa(t);
    expect(await gateway.revert(relayer, "cancelTransfer", [unpaused.vaa])).toMatch(/^NOT_CANCELLABLE/);
    await gateway.send(relayer, "completeTransfer", [unpaused.vaa]); // bob has 50 wRTC to send back later

    const setPaused = (paused: boolean) =>
      gateway.send(relayer, "submitGovernance", [
        governanceVaa(encodeSetPaused({ chain: ETH_CHAIN, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, paused })).vaa,
      ]);
    await setPaused(true);
    expect(await gateway.read("isPaused", [RUSTCHAIN, bytesToHex(ZERO32)])).toBe(true);
    expect(await gateway.revert(relayer, "completeTransfer", [stuck.vaa])).toMatch(/^ASSET_PAUSED/);
    await wrtc.send(bob, "approve", [gateway.address, 50n]);
    expect(
      await gateway.revert(bob, "transferTokens", [wrtc.address, 50n, RUSTCHAIN, hex32(bob.account.address), 0n, 0]),
    ).toMatch(/^ASSET_PAUSED/);

    const sequenceBefore = await gateway.read<bigint>("nextSequence");
    const rc = await gateway.send(alice, "cancelTransfer", [stuck.vaa]);
    gas.cancelTransfer = rc.gasUsed;
    const msg = published(gateway, rc);
    expect(msg.sequence).toBe(sequenceBefore);
    expect(msg.payload.slice(0, 4)).toBe("0x81");
    expect(msg.decoded).toEqual({ payloadId: 0x81, originalSequence: 4242n, originalDigest: hexToBytes(stuck.digest) });
    expect(gateway.events(rc, "TransferCancelled")[0]!.args).toEqual({
      digest: stuck.digest,
      refundSequence: sequenceBefore,
    });
    expect(await gateway.read("isCompleted", [stuck.digest])).toBe(true);
    expect(await gateway.revert(relayer, "cancelTransfer", [stuck.vaa])).toMatch(/^VAA_CONSUMED/);

    await setPaused(false);
    expect(await gateway.revert(relayer, "completeTransfer", [stuck.vaa])).toMatch(/^VAA_CONSUMED/);
    expect(await wrtc.read("balanceOf", [bob.account.address])).toBe(50n);
  });

  it("a transfer to a 32-byte address that is no EVM address cannot complete and can be cancelled", async () => {
    const { gateway } = await gatewayWithWrtc();
    const v = makeVaa(
      REMOTE,
      encodeTransfer({
        amount: 1n,
        tokenChain: RUSTCHAIN,
        tokenAddress: ZERO32,
        to: new Uint8Array(32).fill(0xab),
        toChain: ETH_CHAIN,
        fee: 0n,
      }),
      set0,
    );
    expect(await gateway.revert(relayer, "completeTransfer", [v.vaa])).toMatch(/^VAA_PAYLOAD/);
    await gateway.send(relayer, "cancelTransfer", [v.vaa]);
    expect(await gateway.read("isCompleted", [v.digest])).toBe(true);
  });

  it("a queued transfer whose asset gets paused can be cancelled instead of released", async () => {
    const { gateway } = await gatewayWithWrtc();
    await gateway.send(relayer, "submitGovernance", [
      governanceVaa(
        encodeSetGovernor({
          chain: 0,
          tokenChain: RUSTCHAIN,
          tokenAddress: ZERO32,
          dailyLimit: 0n,
          threshold: 10n,
          delay: 60,
        }),
      ).vaa,
    ]);
    const v = transferVaa({ amount: 10n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address });
    await gateway.send(relayer, "completeTransfer", [v.vaa]);
    expect(await gateway.read<bigint>("queuedUntil", [v.digest])).toBeGreaterThan(0n);
    await gateway.send(relayer, "submitGovernance", [
      governanceVaa(encodeSetPaused({ chain: 0, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, paused: true })).vaa,
    ]);
    await node.increaseTime(61);
    expect(await gateway.revert(relayer, "releaseQueued", [v.body])).toMatch(/^ASSET_PAUSED/);
    await gateway.send(relayer, "cancelTransfer", [v.vaa]);
    expect(await gateway.read("queuedUntil", [v.digest])).toBe(0n);
    expect(await gateway.revert(relayer, "releaseQueued", [v.body])).toMatch(/^NOT_QUEUED/);
  });

  it("refund pays the original sender exactly what was escrowed or burned, once", async () => {
    const { gateway, wrtc } = await gatewayWithWrtc();
    const t18 = await deploy("TestToken", ["Test Eighteen", "T18", 18, 10n ** 24n], alice);
    const to = hex32(bob.account.address);
    // seq 0: ETH with dust; seq 1: an 18-decimal token with dust; seq 2: wRTC burned
    await gateway.send(alice, "transferNative", [RUSTCHAIN, to, 0n, 0], 2n * 10n ** 18n + 5n);
    await t18.send(alice, "approve", [gateway.address, 3n * 10n ** 18n + 7n]);
    await gateway.send(alice, "transferTokens", [t18.address, 3n * 10n ** 18n + 7n, RUSTCHAIN, to, 0n, 0]);
    await gateway.send(relayer, "completeTransfer", [
      transferVaa({ amount: 900n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: alice.account.address }).vaa,
    ]);
    await wrtc.send(alice, "approve", [gateway.address, 900n]);
    await gateway.send(alice, "transferTokens", [wrtc.address, 900n, RUSTCHAIN, to, 0n, 0]);
    expect(await wrtc.read("balanceOf", [alice.account.address])).toBe(0n);

    const refundVaa = (originalSequence: bigint, emitter = REMOTE) =>
      makeVaa(emitter, encodeRefund({ originalSequence, originalDigest: hexToBytes(keccak256("0x01")) }), set0);

    const ethBefore = await ethBalance(alice.account.address);
    const v0 = refundVaa(0n);
    const r0 = await gateway.send(relayer, "refund", [v0.vaa]);
    gas.refundEth = r0.gasUsed;
    expect(await ethBalance(alice.account.address)).toBe(ethBefore + 2n * 10n ** 18n);
    expect(gateway.events(r0, "TransferRefunded")[0]!.args).toEqual({
      sequence: 0n,
      sender: alice.account.address,
      amount: 2n * 10n ** 18n,
    });
    expect((await gateway.read<unknown[]>("outbound", [0n]))[3]).toBe(true);

    const tokBefore = await t18.read<bigint>("balanceOf", [alice.account.address]);
    await gateway.send(relayer, "refund", [refundVaa(1n).vaa]);
    expect(await t18.read("balanceOf", [alice.account.address])).toBe(tokBefore + 3n * 10n ** 18n);
    expect(await t18.read("balanceOf", [alice.account.address])).toBe(10n ** 24n); // the dust never left

    await gateway.send(relayer, "refund", [refundVaa(2n).vaa]);
    expect(await wrtc.read("balanceOf", [alice.account.address])).toBe(900n);

    expect(await gateway.revert(relayer, "refund", [v0.vaa])).toMatch(/^ALREADY_REFUNDED/); // the same VAA again
    expect(await gateway.revert(relayer, "refund", [refundVaa(1n).vaa])).toMatch(/^ALREADY_REFUNDED/); // another one
    expect(await gateway.revert(relayer, "refund", [refundVaa(99n).vaa])).toMatch(/^VAA_PAYLOAD/);
    expect(await gateway.revert(relayer, "refund", [refundVaa(0n, GOVERNANCE).vaa])).toMatch(/^VAA_UNKNOWN_EMITTER/);
    const transfer = transferVaa({
      amount: 1n,
      tokenChain: RUSTCHAIN,
      tokenAddress: ZERO32,
      to: alice.account.address,
    });
    expect(await gateway.revert(relayer, "refund", [transfer.vaa])).toMatch(/^VAA_PAYLOAD/);
  });
});

describe("bad input", () => {
  const documented = (reason: string) => BRIDGE_ERROR_CODES.some((code) => reason.startsWith(code));

  it("a corrupted VAA (byte changed, cut or extended) is refused with a documented code, never a panic", async () => {
    const { gateway } = await gatewayWithWrtc();
    const good = hexToBytes(
      transferVaa({ amount: 5n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address }).vaa,
    );
    expect(await gateway.outcome(relayer, "completeTransfer", [bytesToHex(good)])).toBe("ok");
    const mutation = fc.oneof(
      fc.record({ at: fc.nat({ max: good.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
        const v = good.slice();
        v[at] = v[at]! ^ xor;
        return v;
      }),
      fc.nat({ max: good.length - 1 }).map((cut) => good.slice(0, cut)),
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((extra) => Uint8Array.from([...good, ...extra])),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (vaa) => {
        const reason = await gateway.outcome(relayer, "completeTransfer", [bytesToHex(vaa)]);
        expect(reason, `completeTransfer(${bytesToHex(vaa)})`).not.toBe("ok");
        expect(documented(reason), reason).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("any validly signed payload either goes through or is refused with a documented code", async () => {
    const { gateway } = await gatewayWithWrtc();
    const near = (n: number) => fc.integer({ min: Math.max(0, n - 2), max: n + 2 });
    const tokenPayload = fc
      .tuple(fc.constantFrom(1, 2, 3, 0x81, 0, 4), fc.oneof(near(132), near(99), near(40), fc.nat({ max: 200 })))
      .chain(([id, len]) =>
        fc.uint8Array({ minLength: len, maxLength: len }).map((rest) => Uint8Array.of(id, ...rest)),
      );
    const moduleName = fc.constantFrom("Core", "TokenBridge", "RustChainBridge", "Other");
    const governancePayload = fc
      .tuple(
        moduleName,
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(0, ETH_CHAIN, RUSTCHAIN),
        fc.oneof(near(34), near(35), near(102), near(25), fc.nat({ max: 120 })),
      )
      .chain(([name, action, chain, len]) =>
        fc.uint8Array({ minLength: len, maxLength: len }).map((rest) => {
          const module = new Uint8Array(32);
          module.set(new TextEncoder().encode(name), 32 - name.length);
          return Uint8Array.of(...module, action, chain >> 8, chain & 0xff, ...rest);
        }),
      );
    const call = fc.oneof(
      fc.record({
        fn: fc.constantFrom("completeTransfer", "createWrapped", "cancelTransfer", "refund"),
        payload: tokenPayload,
        emitter: fc.constant(REMOTE),
      }),
      fc.record({ fn: fc.constant("submitGovernance"), payload: governancePayload, emitter: fc.constant(GOVERNANCE) }),
      fc.record({
        fn: fc.constant("submitGovernance"),
        payload: fc.uint8Array({ maxLength: 80 }),
        emitter: fc.constant(GOVERNANCE),
      }),
    );
    await fc.assert(
      fc.asyncProperty(call, async ({ fn, payload, emitter }) => {
        const { vaa } = makeVaa(emitter, payload, set0);
        const reason = await gateway.outcome(relayer, fn, [vaa]);
        expect(reason === "ok" || documented(reason), `${fn}(${bytesToHex(payload)}): ${reason}`).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("gas with a Wormhole-sized guardian set", () => {
  it("completeTransfer verified by 13 of 19 guardians", async () => {
    const set19 = guardianSet("set19", 19);
    const signers = set19.slice(0, 13);
    const gateway = await deployGateway({ guardians: set19 });
    await gateway.send(relayer, "createWrapped", [
      makeVaa(
        REMOTE,
        encodeAssetMeta({
          tokenChain: RUSTCHAIN,
          tokenAddress: ZERO32,
          decimals: 18,
          symbol: "wRTC",
          name: "RustChain",
        }),
        set19,
        { signers },
      ).vaa,
    ]);
    expect(
      await gateway.outcome(relayer, "completeTransfer", [
        transferVaa(
          { amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address },
          { set: set19, signers: signers.slice(0, 12) },
        ).vaa,
      ]),
    ).toMatch(/^VAA_QUORUM/);
    const r = await gateway.send(relayer, "completeTransfer", [
      transferVaa(
        { amount: 1n, tokenChain: RUSTCHAIN, tokenAddress: ZERO32, to: bob.account.address },
        { set: set19, signers },
      ).vaa,
    ]);
    gas.completeTransferMint13of19 = r.gasUsed;
  });
});

describe("two gateways, messages built from their logs", () => {
  /** What the committee does (shared messageFromLog): the body from the gateway's log and its block's timestamp. */
  async function vaaFromLog(gateway: Contract, emitterChain: number, receipt: TransactionReceipt) {
    const msg = published(gateway, receipt);
    const block = await node.client.getBlock({ blockNumber: receipt.blockNumber });
    const bodies = receipt.logs
      .map((l) =>
        messageFromLog(
          {
            address: l.address,
            topics: l.topics,
            data: l.data,
            blockNumber: toHex(l.blockNumber),
            blockHash: l.blockHash,
            transactionHash: l.transactionHash,
            logIndex: toHex(l.logIndex),
          },
          emitterChain,
          hexToBytes(gateway.address),
          Number(block.timestamp),
        ),
      )
      .filter((b) => b !== undefined);
    expect(bodies).toHaveLength(1);
    const body = bodies[0]!;
    expect(body.sequence).toBe(msg.sequence);
    return { vaa: bytesToHex(signVaa(body, 0, set0)), body, msg };
  }

  it("ETH out and back, and a transfer cancelled on the far side refunded at home", async () => {
    // A is the Ethereum gateway; B stands in for RustChain's (same ABI), deployed as chain 21075 on the same node.
    const a = await deployGateway();
    const b = await deploy("RustChainBridge", [RUSTCHAIN, set0.map((g) => g.address), 0n, ETH_CHAIN, hex32(a.address)]);
    await a.send(relayer, "submitGovernance", [
      governanceVaa(
        encodeRegisterChain({ chain: ETH_CHAIN, emitterChain: RUSTCHAIN, emitterAddress: bytes32Of(b.address) }),
      ).vaa,
    ]);

    const attest = await vaaFromLog(a, ETH_CHAIN, await a.send(alice, "attestToken", [`0x${"0".repeat(40)}`, 0]));
    await b.send(relayer, "createWrapped", [attest.vaa]);
    const weth = new Contract(
      await b.read<Address>("wrappedAsset", [ETH_CHAIN, bytesToHex(ZERO32)]),
      artifacts.WrappedToken!.abi,
    );
    expect(await weth.read("decimals")).toBe(8);
    expect(await weth.read("symbol")).toBe("ETH");

    // out: 1 ETH and some dust from alice to bob on B, 100 units of fee to the relayer
    const out = await vaaFromLog(
      a,
      ETH_CHAIN,
      await a.send(alice, "transferNative", [RUSTCHAIN, hex32(bob.account.address), 100n, 7], 10n ** 18n + 99n),
    );
    await b.send(relayer, "completeTransfer", [out.vaa]);
    expect(await weth.read("balanceOf", [bob.account.address])).toBe(10n ** 8n - 100n);
    expect(await weth.read("balanceOf", [relayer.account.address])).toBe(100n);

    // back: bob sends half to carol on A, who receives exactly that many wei
    const carol = getAddress(`0x${"cb".repeat(20)}`);
    await weth.send(bob, "approve", [b.address, 5n * 10n ** 7n]);
    const back = await vaaFromLog(
      b,
      RUSTCHAIN,
      await b.send(bob, "transferTokens", [weth.address, 5n * 10n ** 7n, ETH_CHAIN, hex32(carol), 0n, 0]),
    );
    await a.send(relayer, "completeTransfer", [back.vaa]);
    expect(await ethBalance(carol)).toBe(5n * 10n ** 17n);
    expect(await weth.read("totalSupply")).toBe(5n * 10n ** 7n);

    // cancelled: ETH paused on B; the transfer is cancelled there and refunded on A to alice, the digests agree
    await b.send(relayer, "submitGovernance", [
      governanceVaa(encodeSetPaused({ chain: RUSTCHAIN, tokenChain: ETH_CHAIN, tokenAddress: ZERO32, paused: true }))
        .vaa,
    ]);
    const stuck = await vaaFromLog(
      a,
      ETH_CHAIN,
      await a.send(alice, "transferNative", [RUSTCHAIN, hex32(bob.account.address), 0n, 0], 3n * 10n ** 18n),
    );
    expect(await b.revert(relayer, "completeTransfer", [stuck.vaa])).toMatch(/^ASSET_PAUSED/);
    const cancel = await vaaFromLog(b, RUSTCHAIN, await b.send(relayer, "cancelTransfer", [stuck.vaa]));
    expect(cancel.msg.decoded).toEqual({
      payloadId: 0x81,
      originalSequence: stuck.msg.sequence,
      originalDigest: vaaDigest(encodeVaaBody(stuck.body)),
    });
    const aliceBefore = await ethBalance(alice.account.address);
    await a.send(relayer, "refund", [cancel.vaa]);
    expect(await ethBalance(alice.account.address)).toBe(aliceBefore + 3n * 10n ** 18n);
    expect(await a.read("outbound", [stuck.msg.sequence])).toEqual([
      alice.account.address,
      `0x${"0".repeat(40)}`,
      3n * 10n ** 18n,
      true,
    ]);
    expect(await a.revert(relayer, "refund", [cancel.vaa])).toMatch(/^ALREADY_REFUNDED/);
    expect(await b.revert(relayer, "completeTransfer", [stuck.vaa])).toMatch(/^VAA_CONSUMED/);
  });
});
