// `rustchain bridge …` (bridge-relayer/src/cli) run as the user runs it, a real subprocess of bin/rustchain.js:
// refusals of bad arguments before anything is sent (amount, token, key file permissions, deployment file), the
// amount rules (8 decimals travel, the dust stays), and the commands against two real gateways on a `hardhat node`
// (one playing Ethereum, one RustChain) with a stand-in committee that signs every message it reads from their logs:
// deposit, redeem, status, withdraw, a governor-queued redeem released with --wait, and a refund of a paused asset.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex as sharedBytesToHex, hexToBytes as sharedHexToBytes } from "@rustchain/shared";
import { encodeSetGovernor, encodeSetPaused, GOVERNANCE_EMITTER } from "@rustchain/shared/bridge/governance";
import { LOG_MESSAGE_PUBLISHED, messageFromLog, type RpcLog } from "@rustchain/shared/bridge/messageLog";
import { encodeAssetMeta } from "@rustchain/shared/bridge/payloads";
import { encodeVaaBody, signDigest, vaaDigest, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { encryptKeystoreJson } from "ethers";
import {
  type Abi,
  type Address,
  bytesToHex,
  erc20Abi,
  getAddress,
  getContractAddress,
  type Hex,
  hexToBytes,
  pad,
  parseEther,
  zeroAddress,
} from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bridgeAmount, parseDecimalAmount } from "../src/cli/bridgeAmount.ts";
import { resolveToken } from "../src/cli/bridgeToken.ts";
import { BRIDGE_RELAYER_DIR, compileBridgeContracts, compileSolidity } from "../src/contracts/compile.ts";
import type { Deployment } from "../src/deployment.ts";
import { loadAccount } from "../src/relayerKey.ts";
import { BIN, bridge, bridgeJson, ROOT, type Run } from "./support/bridgeCli.ts";
import { guardianSet, makeVaa } from "./support/guardians.ts";
import { HARDHAT_MNEMONIC, type HardhatNode, startHardhatNode } from "./support/hardhatNode.ts";

const ETH = WORMHOLE_CHAIN.ethereum;
const RTC = WORMHOLE_CHAIN.rustchain;
const ZERO32 = new Uint8Array(32);

let dir: string;

/** An unreachable RPC: a refusal that needs no chain must come before any request. */
const offlineDeployment = (): Deployment => ({
  ethereum: {
    rpcUrl: "http://127.0.0.1:9",
    chainId: 31337,
    wormholeChain: ETH,
    gateway: "0x1111111111111111111111111111111111111111",
    fromBlock: 0,
    blockTimeMs: 1000,
  },
  rustchain: {
    rpcUrl: "http://127.0.0.1:9",
    chainId: 7777,
    wormholeChain: RTC,
    gateway: "0x2222222222222222222222222222222222222222",
    fromBlock: 0,
    blockTimeMs: 1000,
    signatureRpcUrls: ["http://127.0.0.1:9"],
  },
  tokens: [
    { symbol: "ETH", decimals: 18, homeChain: ETH, homeAddress: zeroAddress, rustchain: `0x${"33".repeat(20)}` },
    {
      symbol: "USDC",
      decimals: 6,
      homeChain: ETH,
      homeAddress: `0x${"44".repeat(20)}`,
      ethereum: `0x${"44".repeat(20)}`,
    },
    { symbol: "RTC", decimals: 18, homeChain: RTC, homeAddress: zeroAddress, ethereum: `0x${"55".repeat(20)}` },
  ],
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rustchain-bridge-cli-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("amounts: 8 decimals travel, the dust stays with the sender", () => {
  it("splits an 18-decimal amount into what is sent and the dust", () => {
    const a = bridgeAmount("1.000000001234567891", undefined, 18);
    expect(a.requested).toBe(1_000_000_001_234_567_891n);
    expect(a.normalized).toBe(100_000_000n);
    expect(a.dust).toBe(1_234_567_891n);
    expect(a.sent).toBe(1_000_000_000_000_000_000n);
    expect(a.fee).toBe(0n);
  });

  it("has no dust at 8 decimals or fewer", () => {
    expect(bridgeAmount("12.345678", "0.5", 6)).toMatchObject({
      requested: 12_345_678n,
      normalized: 12_345_678n,
      dust: 0n,
      fee: 500_000n,
    });
    expect(bridgeAmount("0.00000001", undefined, 8)).toMatchObject({ normalized: 1n, dust: 0n });
  });

  it("takes the fee in the token's units, at most 8 decimals, no more than the amount", () => {
    expect(bridgeAmount("2", "0.25", 18).fee).toBe(25_000_000n);
    expect(() => bridgeAmount("2", "0.000000001", 18)).toThrow(/--fee: 0.000000001 has more than the token's 8/);
    expect(() => bridgeAmount("1", "1.5", 18)).toThrow(/FEE_TOO_HIGH/);
  });

  it("refuses an amount that is zero after normalisation (AMOUNT_TOO_SMALL)", () => {
    expect(() => bridgeAmount("0.000000009", undefined, 18)).toThrow(/AMOUNT_TOO_SMALL/);
    expect(() => bridgeAmount("0", undefined, 18)).toThrow(/AMOUNT_TOO_SMALL/);
  });

  it("refuses what is not a plain decimal, and more decimals than the token has", () => {
    for (const bad of ["1.2.3", "-1", "1e18", "0x10", "", ".5", "1,5", " "])
      expect(() => parseDecimalAmount(bad, 18, "--amount")).toThrow(/is not a decimal amount/);
    expect(() => parseDecimalAmount("1.0000001", 6, "--amount")).toThrow(/more than the token's 6 decimals/);
    expect(parseDecimalAmount("1.5000000", 6, "--amount")).toBe(1_500_000n); // trailing zeros are not precision
  });
});

describe("tokens: what --token names on the source chain", () => {
  const d = offlineDeployment();
  it("ETH is native on Ethereum and the wrapped token (8 decimals) on RustChain; RTC the reverse", () => {
    expect(resolveToken(d, "ethereum", "ETH")).toMatchObject({ native: true, decimals: 18, address: zeroAddress });
    expect(resolveToken(d, "rustchain", "eth")).toMatchObject({
      native: false,
      wrapped: true,
      decimals: 8,
      address: getAddress(`0x${"33".repeat(20)}`),
    });
    expect(resolveToken(d, "rustchain", "RTC")).toMatchObject({ native: true, symbol: "RTC" });
    expect(resolveToken(d, "ethereum", "RTC")).toMatchObject({ native: false, wrapped: true, decimals: 8 });
  });

  it("finds listed tokens by address, takes unlisted addresses (decimals read later), refuses unknown symbols", () => {
    expect(resolveToken(d, "ethereum", `0x${"44".repeat(20)}`)).toMatchObject({ symbol: "USDC", decimals: 6 });
    expect(resolveToken(d, "ethereum", `0x${"66".repeat(20)}`)).toMatchObject({ decimals: undefined });
    expect(() => resolveToken(d, "ethereum", "DOGE")).toThrow(/unknown token "DOGE" on ethereum: use one of ETH, USDC/);
    expect(() => resolveToken(d, "rustchain", "USDC")).toThrow(/no address on rustchain/);
  });
});

describe("argument refusals, as a subprocess: exit 1 with `error: …`, nothing sent", () => {
  let deploymentFile: string;
  let safeKey: string;
  let unsafeKey: string;

  beforeAll(async () => {
    deploymentFile = join(dir, "offline.json");
    await writeFile(deploymentFile, JSON.stringify(offlineDeployment()));
    safeKey = join(dir, "safe.key");
    unsafeKey = join(dir, "unsafe.key");
    await writeFile(safeKey, `0x${"11".repeat(32)}\n`, { mode: 0o600 });
    await writeFile(unsafeKey, `0x${"11".repeat(32)}\n`);
    await chmod(unsafeKey, 0o644);
  });

  it("a missing deployment file says which file and how to get one", async () => {
    const r = await bridge("status", `0x${"ab".repeat(32)}`, "--deployment", join(dir, "nope.json"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: deployment file .*nope\.json not found: pass --deployment <file>/);
  });

  it("a deployment file that is not valid says what is wrong", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ ...offlineDeployment(), ethereum: { rpcUrl: "nope" } }));
    const r = await bridge("status", `0x${"ab".repeat(32)}`, "--deployment", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: deployment file .*bad\.json: ethereum\./);
  });

  it("a bad amount is refused", async () => {
    const r = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--private-key-file",
      safeKey,
      "--token",
      "ETH",
      "--amount",
      "1.2.3",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: --amount: "1.2.3" is not a decimal amount');
    const precise = await bridge(
      "withdraw",
      "--deployment",
      deploymentFile,
      "--private-key-file",
      safeKey,
      "--token",
      "ETH",
      "--amount",
      "0.000000001",
    );
    expect(precise.code).toBe(1);
    expect(precise.stderr).toContain("error: --amount: 0.000000001 has more than the token's 8 decimals");
  });

  it("an unknown token is refused, naming the ones there are", async () => {
    const r = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--private-key-file",
      safeKey,
      "--token",
      "DOGE",
      "--amount",
      "1",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: unknown token "DOGE" on ethereum: use one of ETH, USDC, RTC or a 0x token address',
    );
  });

  it("a private key file readable by group or others is refused before it is read", async () => {
    const r = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--private-key-file",
      unsafeKey,
      "--token",
      "ETH",
      "--amount",
      "1",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: ${unsafeKey}: private key file is accessible by group or others (mode 0644); run \`chmod 600`,
    );
  });

  it("no key, or a keystore without its password file, is refused", async () => {
    const none = await bridge("redeem", `0x${"ab".repeat(32)}`, "--deployment", deploymentFile);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("error: this command sends transactions: give your account with --keystore");
    const noPassword = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--keystore",
      safeKey,
      "--token",
      "ETH",
      "--amount",
      "1",
    );
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toContain("error: --keystore needs --password-file <file>");
  });

  it("a keystore account loads with its password file; a wrong password is refused", async () => {
    const privateKey = `0x${"22".repeat(32)}` as Hex;
    const address = privateKeyToAccount(privateKey).address;
    const keystore = join(dir, "user.keystore.json");
    await writeFile(keystore, await encryptKeystoreJson({ address, privateKey }, "hunter2", { scrypt: { N: 1024 } }));
    const good = join(dir, "good.password");
    const bad = join(dir, "bad.password");
    await writeFile(good, "hunter2\n");
    await writeFile(bad, "hunter3\n");
    expect((await loadAccount({ keystore, passwordFile: good })).address).toBe(address);
    expect((await loadAccount({ privateKeyFile: safeKey })).address).toBe(
      privateKeyToAccount(`0x${"11".repeat(32)}`).address,
    );
    const r = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--keystore",
      keystore,
      "--password-file",
      bad,
      "--token",
      "ETH",
      "--amount",
      "1",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${keystore}: wrong password`);
  });

  it("--json failures print {error, code} on stdout as well", async () => {
    const r = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--private-key-file",
      safeKey,
      "--token",
      "DOGE",
      "--amount",
      "1",
      "--json",
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: "UNKNOWN_TOKEN", bridgeCode: null });
  });

  it("status refuses what is neither a hash nor an address; bad --to and --timeout too", async () => {
    const r = await bridge("status", "0x1234", "--deployment", deploymentFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: "0x1234" is not a 0x transaction hash, digest or address');
    const to = await bridge(
      "deposit",
      "--deployment",
      deploymentFile,
      "--private-key-file",
      safeKey,
      "--token",
      "ETH",
      "--amount",
      "1",
      "--to",
      "bob",
    );
    expect(to.stderr).toContain('error: --to: "bob" is not a 0x address');
    const timeout = await bridge("redeem", `0x${"ab".repeat(32)}`, "--timeout", "soon", "--deployment", deploymentFile);
    expect(timeout.code).toBe(1);
    expect(timeout.stderr).toContain("expected whole seconds");
  });

  it("the root dispatcher still runs the validator's CLI for everything else", async () => {
    const r = await new Promise<Run>((done) =>
      execFile(process.execPath, [BIN, "--help"], { cwd: ROOT }, (err, stdout, stderr) =>
        done({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("RustChain validator node and tools");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Against two real gateways: both on one hardhat node, one as Ethereum (chain 2), one as RustChain (21075).

const set0 = guardianSet("cli", 4); // quorum 3

/**
 * A stand-in for the validators' bridge RPC: it reads both gateways' messages from their logs (the committee's rule,
 * messageFromLog) and answers rustchain_getBridgeMessage / rustchain_getBridgeSignatures with every guardian's
 * signature, or with none while `silent`.
 */
async function startCommittee(node: HardhatNode, d: Deployment) {
  const state = { silent: false };
  const messages = async () => {
    const out: { emitterChain: number; emitter: string; sequence: bigint; body: Uint8Array; digest: string }[] = [];
    for (const chain of ["ethereum", "rustchain"] as const) {
      const gateway = hexToBytes(d[chain].gateway as Hex);
      const logs = (await node.client.request({
        method: "eth_getLogs",
        params: [
          { address: d[chain].gateway as Hex, topics: [LOG_MESSAGE_PUBLISHED], fromBlock: "0x0", toBlock: "latest" },
        ],
      } as never)) as RpcLog[];
      for (const log of logs) {
        const block = await node.client.getBlock({ blockNumber: BigInt(log.blockNumber) });
        const body = messageFromLog(log, d[chain].wormholeChain, gateway, Number(block.timestamp));
        if (!body) continue;
        const encoded = encodeVaaBody(body);
        out.push({
          emitterChain: body.emitterChain,
          emitter: sharedBytesToHex(body.emitterAddress),
          sequence: body.sequence,
          body: encoded,
          digest: sharedBytesToHex(vaaDigest(encoded)),
        });
      }
    }
    return out;
  };
  const view = (m: { body: Uint8Array; digest: string }) => ({
    digest: m.digest,
    body: sharedBytesToHex(m.body),
    signatures: state.silent
      ? []
      : set0.map((g) => ({
          guardianIndex: g.index,
          signature: sharedBytesToHex(signDigest(sharedHexToBytes(m.digest), g.privateKey)),
        })),
  });
  const server: Server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
    });
    req.on("end", async () => {
      const { id, method, params } = JSON.parse(data) as { id: number; method: string; params: string[] };
      const all = await messages();
      let result: unknown = null;
      if (method === "rustchain_getBridgeMessage") {
        const [chain, emitter, sequence] = params as [string, string, string];
        const m = all.find(
          (x) =>
            x.emitterChain === Number(chain) && x.emitter === emitter.toLowerCase() && x.sequence === BigInt(sequence),
        );
        result = m ? view(m) : null;
      } else if (method === "rustchain_getBridgeSignatures") {
        const m = all.find((x) => x.digest === (params[0] as string).toLowerCase());
        result = m ? view(m) : null;
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id, result }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("against two gateways on a hardhat node, with a stand-in committee", () => {
  let node: HardhatNode;
  let committee: Awaited<ReturnType<typeof startCommittee>>;
  let deploymentFile: string;
  let keyFile: string;
  let user: Address;
  let ethGateway: Address;
  let rcGateway: Address;
  let wrappedEth: Address;
  /** Home ERC-20s on the Ethereum side: TST (18 decimals, listed, wrapped on RustChain) and SIX (6, unlisted). */
  let tst: Address;
  let wrappedTst: Address;
  let six: Address;
  let abi: Abi;
  const tokenAbi = erc20Abi as Abi;
  const recipient = getAddress(`0x${"7e".repeat(20)}`);

  const cli = (...args: string[]) => [...args, "--deployment", deploymentFile, "--private-key-file", keyFile];
  const read = <T>(address: Address, functionName: string, args: unknown[] = [], contractAbi = abi) =>
    node.client.readContract({ address, abi: contractAbi, functionName, args }) as Promise<T>;

  async function governance(payload: Uint8Array) {
    const { vaa } = makeVaa({ chain: GOVERNANCE_EMITTER.chain, address: GOVERNANCE_EMITTER.address }, payload, set0);
    const deployer = node.wallets[0]!;
    const hash = await deployer.writeContract({
      address: rcGateway,
      abi,
      functionName: "submitGovernance",
      args: [vaa],
    });
    expect((await node.client.waitForTransactionReceipt({ hash })).status).toBe("success");
  }

  beforeAll(async () => {
    const artifacts = {
      ...(await compileBridgeContracts()),
      ...(
        await compileSolidity({
          sourceDir: join(BRIDGE_RELAYER_DIR, "test/fixtures"),
          outDir: join(BRIDGE_RELAYER_DIR, "build/test-fixtures"),
        })
      ).contracts,
    };
    node = await startHardhatNode();
    const gatewayArtifact = artifacts.RustChainBridge!;
    abi = gatewayArtifact.abi;
    const deployer = node.wallets[0]!;
    const nonce = BigInt(await node.client.getTransactionCount({ address: deployer.account.address }));
    // each gateway trusts the other: the second one's address is known before either exists
    ethGateway = getContractAddress({ from: deployer.account.address, nonce });
    rcGateway = getContractAddress({ from: deployer.account.address, nonce: nonce + 1n });
    const guardians = set0.map((g) => g.address);
    for (const [chain, remote, remoteGateway] of [
      [ETH, RTC, rcGateway],
      [RTC, ETH, ethGateway],
    ] as const) {
      const hash = await deployer.deployContract({
        abi,
        bytecode: gatewayArtifact.bytecode,
        args: [chain, guardians, 0n, remote, pad(remoteGateway)],
      });
      expect((await node.client.waitForTransactionReceipt({ hash })).status).toBe("success");
    }
    // wrapped ETH on the RustChain side, from an AssetMeta of the Ethereum gateway
    const meta = makeVaa(
      { chain: ETH, address: hexToBytes(pad(ethGateway)) },
      encodeAssetMeta({ tokenChain: ETH, tokenAddress: ZERO32, decimals: 18, symbol: "ETH", name: "Ether" }),
      set0,
    );
    const hash = await deployer.writeContract({
      address: rcGateway,
      abi,
      functionName: "createWrapped",
      args: [meta.vaa],
    });
    expect((await node.client.waitForTransactionReceipt({ hash })).status).toBe("success");
    wrappedEth = await read<Address>(rcGateway, "wrappedAsset", [ETH, pad(zeroAddress)]);

    const account = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: 2 });
    user = account.address;
    const token = artifacts.TestToken!;
    const deployToken = async (symbol: string, decimals: number) => {
      const hash = await deployer.deployContract({
        abi: token.abi,
        bytecode: token.bytecode,
        args: [`Test ${symbol}`, symbol, decimals, 10n ** BigInt(decimals + 6)],
      });
      const address = getAddress((await node.client.waitForTransactionReceipt({ hash })).contractAddress!);
      const sent = await deployer.writeContract({
        address,
        abi: token.abi,
        functionName: "transfer",
        args: [user, 10n ** BigInt(decimals + 3)],
      });
      await node.client.waitForTransactionReceipt({ hash: sent });
      return address;
    };
    tst = await deployToken("TST", 18);
    six = await deployToken("SIX", 6);
    const tstMeta = makeVaa(
      { chain: ETH, address: hexToBytes(pad(ethGateway)) },
      encodeAssetMeta({ tokenChain: ETH, tokenAddress: hexToBytes(pad(tst)), decimals: 18, symbol: "TST", name: "T" }),
      set0,
    );
    const created = await deployer.writeContract({
      address: rcGateway,
      abi,
      functionName: "createWrapped",
      args: [tstMeta.vaa],
    });
    expect((await node.client.waitForTransactionReceipt({ hash: created })).status).toBe("success");
    wrappedTst = await read<Address>(rcGateway, "wrappedAsset", [ETH, pad(tst)]);
    keyFile = join(dir, "user.key");
    await writeFile(keyFile, bytesToHex(account.getHdKey().privateKey!), { mode: 0o600 });

    const d: Deployment = {
      ethereum: {
        rpcUrl: node.url,
        chainId: 31337,
        wormholeChain: ETH,
        gateway: ethGateway,
        fromBlock: 0,
        blockTimeMs: 1000,
      },
      rustchain: {
        rpcUrl: node.url,
        chainId: 31337,
        wormholeChain: RTC,
        gateway: rcGateway,
        fromBlock: 0,
        blockTimeMs: 1000,
        signatureRpcUrls: ["http://127.0.0.1:9"], // replaced below, once the committee listens
      },
      tokens: [
        { symbol: "ETH", decimals: 18, homeChain: ETH, homeAddress: zeroAddress, rustchain: wrappedEth },
        { symbol: "TST", decimals: 18, homeChain: ETH, homeAddress: tst, ethereum: tst, rustchain: wrappedTst },
      ],
    };
    committee = await startCommittee(node, d);
    d.rustchain.signatureRpcUrls = [committee.url, "http://127.0.0.1:9"]; // one validator down: the rest suffice
    deploymentFile = join(dir, "deployment.json");
    await writeFile(deploymentFile, JSON.stringify(d));
  });

  afterAll(async () => {
    await committee?.close();
    await node?.stop();
  });

  interface Deposit {
    txHash: Hex;
    sequence: string;
    digest: Hex;
    approveTx: Hex | null;
    amount: { requested: string; sent: string; dust: string; normalized: string };
  }

  let first: Deposit;

  it("deposit sends ETH with transferNative, keeps the dust, and prints the tx, sequence and digest", async () => {
    const before = await node.client.getBalance({ address: ethGateway });
    const r = await bridge(...cli("deposit", "--token", "ETH", "--amount", "1.000000000000000123", "--json"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("0.000000000000000123 ETH is below the bridge's 8 decimals and stays with you");
    first = JSON.parse(r.stdout) as Deposit;
    expect(first).toMatchObject({ sequence: "0", approveTx: null });
    expect(first.amount).toMatchObject({ requested: "1.000000000000000123", sent: "1", dust: "0.000000000000000123" });
    expect(await node.client.getBalance({ address: ethGateway })).toBe(before + parseEther("1"));
    // the digest is the one the committee signs (built from the same log)
    const receipt = await node.client.getTransactionReceipt({ hash: first.txHash });
    const log = receipt.logs.find((l) => l.topics[0] === LOG_MESSAGE_PUBLISHED)!;
    const block = await node.client.getBlock({ blockNumber: receipt.blockNumber });
    const body = messageFromLog(
      { ...log, topics: [...log.topics], blockNumber: "0x0", logIndex: "0x0" } as unknown as RpcLog,
      ETH,
      hexToBytes(ethGateway),
      Number(block.timestamp),
    )!;
    expect(first.digest).toBe(sharedBytesToHex(vaaDigest(encodeVaaBody(body))));
  });

  it("status without a relayer reads the chains: signed by a quorum, ready to redeem", async () => {
    const s = await bridgeJson<{ source: string; transfers: Record<string, unknown>[] }>(
      "status",
      first.txHash,
      "--deployment",
      deploymentFile,
    );
    expect(s.source).toBe("chain");
    expect(s.transfers).toHaveLength(1);
    expect(s.transfers[0]).toMatchObject({
      digest: first.digest,
      kind: "transfer",
      sourceChain: "ethereum",
      destinationChain: "rustchain",
      state: "signed",
      signatures: 4,
      quorum: 3,
      amount: "100000000",
      recipient: user.toLowerCase(),
    });
  });

  it("redeem completes it from the user's account; a second redeem says VAA_CONSUMED: already completed", async () => {
    const r = await bridgeJson<Record<string, unknown>>(...cli("redeem", first.txHash));
    expect(r).toMatchObject({ digest: first.digest, state: "completed", amount: "100000000", fee: "0", quorum: 3 });
    expect(await read(wrappedEth, "balanceOf", [user], tokenAbi)).toBe(100_000_000n);

    const again = await bridge(...cli("redeem", first.digest, "--json"));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: VAA_CONSUMED: already completed \(tx 0x[0-9a-f]{64}\)/m);
    expect(JSON.parse(again.stdout)).toMatchObject({ code: "REVERTED", bridgeCode: "VAA_CONSUMED" });

    const s = await bridgeJson<{ transfers: Record<string, unknown>[] }>(
      "status",
      first.digest,
      "--deployment",
      deploymentFile,
    );
    expect(s.transfers[0]).toMatchObject({ state: "completed", destinationTx: r.tx });
  });

  it("withdraw burns wrapped ETH with approve + transferTokens; redeem on Ethereum pays the recipient", async () => {
    const w = await bridgeJson<Deposit>(...cli("withdraw", "--token", "ETH", "--amount", "0.4", "--to", recipient));
    expect(w.approveTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await read(wrappedEth, "balanceOf", [user], tokenAbi)).toBe(60_000_000n);
    const r = await bridgeJson<Record<string, unknown>>(...cli("redeem", w.txHash));
    expect(r).toMatchObject({ state: "completed", sourceChain: "rustchain", destinationChain: "ethereum" });
    expect(await node.client.getBalance({ address: recipient })).toBe(parseEther("0.4"));
  });

  it("deposit of a home ERC-20: approve + transferTokens escrows all but the dust; redeem mints the wrapped token", async () => {
    const before = await read<bigint>(tst, "balanceOf", [user], tokenAbi);
    const dep = await bridgeJson<Deposit>(...cli("deposit", "--token", "TST", "--amount", "2.000000000000000005"));
    expect(dep.approveTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(dep.amount).toMatchObject({ sent: "2", dust: "0.000000000000000005", normalized: "200000000" });
    expect(await read(tst, "balanceOf", [user], tokenAbi)).toBe(before - parseEther("2"));
    expect(await read(tst, "balanceOf", [ethGateway], tokenAbi)).toBe(parseEther("2"));
    const r = await bridgeJson<Record<string, unknown>>(...cli("redeem", dep.digest));
    expect(r).toMatchObject({ state: "completed", amount: "200000000" });
    expect(await read(wrappedTst, "balanceOf", [user], tokenAbi)).toBe(200_000_000n);
  });

  it("an unlisted token by address: its decimals and symbol are read from it", async () => {
    const dep = await bridgeJson<Deposit & { token: Record<string, unknown> }>(
      ...cli("deposit", "--token", six, "--amount", "1.5"),
    );
    expect(dep.token).toMatchObject({ symbol: "SIX", decimals: 6, native: false });
    expect(dep.amount).toMatchObject({ sent: "1.5", dust: "0", normalized: "1500000" });
    const tooPrecise = await bridge(...cli("deposit", "--token", six, "--amount", "0.0000001"));
    expect(tooPrecise.stderr).toContain("error: --amount: 0.0000001 has more than the token's 6 decimals");
  });

  it("a transfer the governor queues: redeem says until when; redeem --wait releases it with releaseQueued", async () => {
    await governance(
      encodeSetGovernor({ chain: RTC, tokenChain: ETH, tokenAddress: ZERO32, dailyLimit: 0n, threshold: 1n, delay: 3 }),
    );
    const dep = await bridgeJson<Deposit>(...cli("deposit", "--token", "ETH", "--amount", "0.1"));
    const queued = await bridgeJson<Record<string, unknown>>(...cli("redeem", dep.txHash));
    expect(queued).toMatchObject({ state: "queued", releaseTx: null });
    expect(queued.releaseTime).toBeGreaterThan(0);
    const released = await bridgeJson<Record<string, unknown>>(...cli("redeem", dep.txHash, "--wait"));
    expect(released).toMatchObject({ state: "completed", tx: null });
    expect(released.releaseTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await read(wrappedEth, "balanceOf", [user], tokenAbi)).toBe(70_000_000n);
    await governance(
      encodeSetGovernor({ chain: RTC, tokenChain: ETH, tokenAddress: ZERO32, dailyLimit: 0n, threshold: 0n, delay: 0 }),
    );
  });

  it("a transfer of a paused asset: redeem says ASSET_PAUSED, refund cancels it there and pays the sender back", async () => {
    await governance(encodeSetPaused({ chain: RTC, tokenChain: ETH, tokenAddress: ZERO32, paused: true }));
    const dep = await bridgeJson<Deposit>(...cli("deposit", "--token", "ETH", "--amount", "0.25"));
    const redeem = await bridge(...cli("redeem", dep.txHash));
    expect(redeem.code).toBe(1);
    expect(redeem.stderr).toContain(`error: ASSET_PAUSED: the asset is paused on rustchain; \`rustchain bridge refund`);
    const s = await bridgeJson<{ transfers: Record<string, unknown>[] }>(
      "status",
      dep.txHash,
      "--deployment",
      deploymentFile,
    );
    expect(s.transfers[0]).toMatchObject({ state: "refundable" });

    const refund = await bridgeJson<Record<string, unknown>>(...cli("refund", dep.txHash));
    expect(refund).toMatchObject({
      digest: dep.digest,
      sourceChain: "ethereum",
      destinationChain: "rustchain",
      sequence: dep.sequence,
      refunded: {
        sender: user,
        token: zeroAddress,
        symbol: "ETH",
        amount: parseEther("0.25").toString(),
        formatted: "0.25 ETH",
      },
    });
    expect(refund.refundTx).toMatch(/^0x[0-9a-f]{64}$/);
    const [, , , refunded] = await read<[Address, Address, bigint, boolean]>(ethGateway, "outbound", [
      BigInt(dep.sequence),
    ]);
    expect(refunded).toBe(true);
    const after = await bridgeJson<{ transfers: Record<string, unknown>[] }>(
      "status",
      dep.digest,
      "--deployment",
      deploymentFile,
    );
    expect(after.transfers[0]).toMatchObject({ state: "refunded" });

    const twice = await bridge(...cli("refund", dep.txHash));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("error: ALREADY_REFUNDED");
    const redeemCancelled = await bridge(...cli("redeem", dep.txHash));
    expect(redeemCancelled.code).toBe(1);
    expect(redeemCancelled.stderr).toContain("error: VAA_CONSUMED: cancelled on rustchain for a refund (tx 0x");
    await governance(encodeSetPaused({ chain: RTC, tokenChain: ETH, tokenAddress: ZERO32, paused: false }));
  });

  it("redeem gives up after --timeout when the committee has not signed, and says so", async () => {
    committee.state.silent = true;
    try {
      const dep = await bridgeJson<Deposit>(...cli("deposit", "--token", "ETH", "--amount", "0.01"));
      const r = await bridge(...cli("redeem", dep.txHash, "--timeout", "2"));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: no quorum of committee signatures for ${dep.digest} after 2s (0 of 3)`);
    } finally {
      committee.state.silent = false;
    }
  });

  it("prints for people without --json: what was sent, the source tx, sequence and digest, and the next step", async () => {
    const r = await bridge(...cli("deposit", "--token", "ETH", "--amount", "0.02"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Deposited 0\.02 ETH from ethereum to 0x[0-9a-fA-F]{40} on rustchain$/m);
    expect(r.stdout).toMatch(/^ {2}source tx: 0x[0-9a-f]{64}$/m);
    expect(r.stdout).toMatch(/^ {2}sequence: {2}\d+$/m);
    expect(r.stdout).toMatch(/^ {2}digest: {4}0x[0-9a-f]{64}$/m);
    expect(r.stdout).toContain("rustchain bridge redeem 0x");
    const tx = /source tx: (0x[0-9a-f]{64})/.exec(r.stdout)![1]!;
    const s = await bridge("status", tx, "--deployment", deploymentFile);
    expect(s.stdout).toContain("0.02 ETH to ");
    expect(s.stdout).toContain("state: signed by the committee, ready to complete");
    expect(s.stdout).toContain("committee signatures: 4/3");
  });

  describe("with a relayer's status API", () => {
    let relayer: Server;
    let relayerFile: string;
    /** What the stand-in relayer answers for each digest it was asked about, one state per request until the last. */
    const states = new Map<string, string[]>();

    beforeAll(async () => {
      relayer = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        const record = (digest: string, state: string) => ({
          digest,
          kind: "transfer",
          sourceChain: "ethereum",
          destinationChain: "rustchain",
          sequence: "9",
          sourceTx: `0x${"aa".repeat(32)}`,
          recipient: user.toLowerCase(),
          amount: "5000000",
          fee: "0",
          tokenChain: ETH,
          tokenAddress: pad(zeroAddress),
          state,
          signatures: 3,
          quorum: 3,
        });
        res.setHeader("content-type", "application/json");
        const one = /^\/api\/transfers\/(0x[0-9a-f]{64})$/.exec(url.pathname);
        if (one) {
          // a digest it is asked about goes through the relayer's states, one per request
          if (!states.has(one[1]!))
            states.set(one[1]!, ["waiting_finality", "signing", "signed", "submitted", "completed"]);
          const list = states.get(one[1]!)!;
          const state = list.length > 1 ? list.shift()! : list[0]!;
          res.end(JSON.stringify(record(one[1]!, state)));
          return;
        }
        const q = url.searchParams.get("q") ?? "";
        const known = [...states.entries()].filter(([digest]) => digest === q || q === user.toLowerCase());
        res.end(JSON.stringify({ transfers: known.map(([digest, list]) => record(digest, list.at(-1)!)) }));
      });
      await new Promise<void>((r) => relayer.listen(0, "127.0.0.1", r));
      const d = JSON.parse(await readFile(deploymentFile, "utf8")) as Deployment;
      d.relayer = { statusUrl: `http://127.0.0.1:${(relayer.address() as { port: number }).port}` };
      relayerFile = join(dir, "with-relayer.json");
      await writeFile(relayerFile, JSON.stringify(d));
    });

    afterAll(async () => {
      await new Promise<void>((r) => relayer?.close(() => r()));
    });

    const withRelayer = (...args: string[]) => [...args, "--deployment", relayerFile, "--private-key-file", keyFile];

    it("deposit --wait follows the relayer's states until completed, printing each change", async () => {
      const r = await bridge(...withRelayer("deposit", "--token", "ETH", "--amount", "0.05", "--wait", "--json"));
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { digest: string; finalState: string; statusUrl: string };
      const digest = result.digest;
      expect(states.has(digest)).toBe(true);
      expect(result.finalState).toBe("completed");
      expect(result.statusUrl).toBe(
        `${JSON.parse(await readFile(relayerFile, "utf8")).relayer.statusUrl}/?q=${digest}`,
      );
      for (const line of [
        "state: waiting for the source block to be final",
        "state: signed by the committee",
        "state: submitted",
        "state: completed",
      ])
        expect(r.stderr).toContain(line);
    });

    it("status asks the relayer first (also by address), and falls back to the chains when it does not know", async () => {
      const [digest] = [...states.keys()];
      const s = await bridgeJson<{ source: string; transfers: { state: string }[] }>(
        "status",
        digest!,
        "--deployment",
        relayerFile,
      );
      expect(s).toMatchObject({ source: "relayer", transfers: [{ state: "completed" }] });
      const byAddress = await bridgeJson<{ source: string; transfers: unknown[] }>(
        "status",
        user,
        "--deployment",
        relayerFile,
      );
      expect(byAddress.source).toBe("relayer");
      expect(byAddress.transfers.length).toBeGreaterThan(0);
      const unknown = await bridgeJson<{ source: string; transfers: { state: string }[] }>(
        "status",
        first.txHash,
        "--deployment",
        relayerFile,
      );
      expect(unknown).toMatchObject({ source: "chain", transfers: [{ state: "completed" }] });
    });

    it("status without an answering relayer reads the chains; by address it says what it needs", async () => {
      const d = JSON.parse(await readFile(relayerFile, "utf8")) as Deployment;
      d.relayer = { statusUrl: "http://127.0.0.1:9" };
      const down = join(dir, "relayer-down.json");
      await writeFile(down, JSON.stringify(d));
      const s = await bridgeJson<{ source: string }>("status", first.digest, "--deployment", down);
      expect(s.source).toBe("chain");
      const r = await bridge("status", user, "--deployment", down);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("does not answer; without it transfers can be looked up by tx hash or digest only");
    });
  });
});
