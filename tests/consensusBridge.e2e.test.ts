// The Ethereum bridge end to end (docs/bridge.md), with real parts only: `hardhat node` as Ethereum, a 4-validator
// RustChain cluster that is the committee (bridge keys in genesis, each watching both gateways at finality and
// gossiping its signatures), redis-server, and the relayer as its own process. Named consensus* so it runs alone, in
// the sequential project, like the other multi-process tests.
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { encodeGovernance, GOVERNANCE_EMITTER } from "@rustchain/shared/bridge/governance";
import { encodeTransfer } from "@rustchain/shared/bridge/payloads";
import { signVaa, toUniversalAddress, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import {
  type Abi,
  type Account,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  type Hex,
  hexToBytes,
  http,
  type PublicClient,
  parseEther,
  bytesToHex as toHex,
  zeroAddress,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayAbi } from "../bridge-relayer/src/gatewayAbi.ts";
import { accounts, type BridgeWorld, RUSTCHAIN_CHAIN_ID, startBridgeWorld } from "./support/bridge.ts";
import { waitUntil } from "./support/cluster.ts";

const ROOT = resolve(import.meta.dirname, "..");
const ETH = WORMHOLE_CHAIN.ethereum;
const RC = WORMHOLE_CHAIN.rustchain;
const UNIT = 10n ** 10n; // 18 decimals -> 8
const pad = (a: Hex) => toHex(toUniversalAddress(hexToBytes(a)));

let w: BridgeWorld;
/** The first transfer (ETH to RustChain), shown on the status page at the end. */
let firstDeposit: Hex;
let ethClient: PublicClient;
let rcClient: PublicClient;
const token = (symbol: string) => w.deployment.tokens.find((t) => t.symbol === symbol)!;

function chains() {
  const make = (id: number, url: string) =>
    defineChain({
      id,
      name: `c${id}`,
      nativeCurrency: { name: "c", symbol: "C", decimals: 18 },
      rpcUrls: { default: { http: [url] } },
    });
  return {
    eth: make(31337, w.deployment.ethereum.rpcUrl),
    rc: make(RUSTCHAIN_CHAIN_ID, w.deployment.rustchain.rpcUrl),
  };
}

async function send(
  side: "eth" | "rc",
  account: Account,
  address: Hex,
  abi: Abi,
  functionName: string,
  args: unknown[],
  value?: bigint,
) {
  const chain = chains()[side];
  const client = side === "eth" ? ethClient : rcClient;
  const wallet = createWalletClient({ chain, transport: http(chain.rpcUrls.default.http[0]), account });
  const { request } = await client.simulateContract({ address, abi, functionName, args, account, value } as never);
  const hash = await wallet.writeContract(request as never);
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
  expect(receipt.status).toBe("success");
  return receipt;
}

const gatewayOf = (side: "eth" | "rc") =>
  (side === "eth" ? w.deployment.ethereum.gateway : w.deployment.rustchain.gateway) as Hex;
const balanceOf = (side: "eth" | "rc", tokenAddress: Hex, who: Hex) =>
  (side === "eth" ? ethClient : rcClient).readContract({
    address: tokenAddress,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [who],
  });

interface StatusView {
  digest: string;
  state: string;
  history: { state: string; at: number }[];
  releaseTime?: number;
  destinationTx?: string;
  etaSeconds: number | null;
}

/** The relayer's record of the transfer a source transaction started, once it reaches one of `states`. */
async function statusOf(txHash: Hex, states: string[], timeoutMs = 90_000): Promise<StatusView> {
  return waitUntil(
    `transfer ${txHash} to reach ${states.join("/")}`,
    async () => {
      const r = await fetch(`${w.statusUrl}/api/transfers?q=${txHash}`).catch(() => undefined);
      if (!r?.ok) return undefined;
      const [t] = ((await r.json()) as { transfers: StatusView[] }).transfers;
      return t && states.includes(t.state) ? t : undefined;
    },
    timeoutMs,
    250,
  );
}

/** A governance action signed by these committee members (as their operators would), submitted to RustChain's gateway. */
async function submitGovernance(committee: Uint8Array[], signers: number[], sequence: bigint, payload: Uint8Array) {
  const vaa = signVaa(
    {
      timestamp: Math.floor(Date.now() / 1000),
      nonce: Number(sequence),
      emitterChain: GOVERNANCE_EMITTER.chain,
      emitterAddress: GOVERNANCE_EMITTER.address,
      sequence,
      consistencyLevel: 1,
      payload,
    },
    0,
    signers.map((index) => ({ index, privateKey: committee[index]! })),
  );
  await send("rc", accounts.alice, gatewayOf("rc"), gatewayAbi as Abi, "submitGovernance", [toHex(vaa)]);
}

/** `rustchain bridge <args>` as a user runs it (a subprocess), against this deployment. */
async function bridgeCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, "bin/rustchain.js"), "bridge", ...args, "--deployment", w.deploymentPath],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  proc.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number>((r) => proc.once("exit", (c) => r(c ?? 1)));
  return { code, stdout, stderr };
}

/** A user's private key file (hex, 0600), as `--private-key-file` wants it. */
async function keyFile(who: "alice" | "bob"): Promise<string> {
  const path = join(w.cluster.dir, `${who}.key`);
  await writeFile(path, `${toHex(accounts[who].getHdKey().privateKey as Uint8Array)}\n`, { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  w = await startBridgeWorld({ validators: 4, slotMs: 500 });
  const c = chains();
  ethClient = createPublicClient({ chain: c.eth, transport: http(), pollingInterval: 100 }) as PublicClient;
  rcClient = createPublicClient({ chain: c.rc, transport: http(), pollingInterval: 100 }) as PublicClient;
  await w.startRelayer();
}, 300_000);

afterAll(async () => {
  await w?.stop();
});

describe("the Ethereum bridge", () => {
  it("ETH and an ERC-20 deposited on Ethereum arrive as bridged tokens on RustChain and go back, exact after fees", async () => {
    const { alice, bob, relayer } = accounts;
    const wEth = token("ETH").rustchain as Hex;
    const tst = token("TST");
    // ETH: 1.5 ETH and some dust, fee 0.01 ETH (in the payload's 8-decimal units) to whoever completes the transfer.
    const value = parseEther("1.5") + 123_456_789n;
    const ethBefore = await ethClient.getBalance({ address: alice.address });
    const deposit = await send(
      "eth",
      alice,
      gatewayOf("eth"),
      gatewayAbi as Abi,
      "transferNative",
      [RC, pad(bob.address), parseEther("0.01") / UNIT, 1],
      value,
    );
    firstDeposit = deposit.transactionHash;
    const done = await statusOf(deposit.transactionHash, ["completed"]);
    expect(done.history.map((h) => h.state)).toEqual(
      expect.arrayContaining(["observed", "signing", "signed", "submitted", "completed"]),
    );
    expect(await balanceOf("rc", wEth, bob.address)).toBe((parseEther("1.5") - parseEther("0.01")) / UNIT);
    expect(await balanceOf("rc", wEth, relayer.address)).toBe(parseEther("0.01") / UNIT);
    const gas = deposit.gasUsed * deposit.effectiveGasPrice;
    // The dust below 8 decimals never left Alice.
    expect(ethBefore - (await ethClient.getBalance({ address: alice.address }))).toBe(parseEther("1.5") + gas);

    // The test token: approve, then transferTokens; no fee.
    const amount = parseEther("250.5");
    await send("eth", alice, tst.ethereum as Hex, erc20Abi as Abi, "approve", [gatewayOf("eth"), amount]);
    const tstDeposit = await send("eth", alice, gatewayOf("eth"), gatewayAbi as Abi, "transferTokens", [
      tst.ethereum,
      amount,
      RC,
      pad(bob.address),
      0n,
      2,
    ]);
    await statusOf(tstDeposit.transactionHash, ["completed"]);
    expect(await balanceOf("rc", tst.rustchain as Hex, bob.address)).toBe(amount / UNIT);

    // Back: Bob burns 1 wrapped ETH on RustChain (fee 0.001) and Alice receives exactly 0.999 ETH on Ethereum.
    const back = 10n ** 8n;
    const before = await ethClient.getBalance({ address: alice.address });
    const relayerBefore = await ethClient.getBalance({ address: relayer.address });
    await send("rc", bob, wEth, erc20Abi as Abi, "approve", [gatewayOf("rc"), back]);
    const withdraw = await send("rc", bob, gatewayOf("rc"), gatewayAbi as Abi, "transferTokens", [
      wEth,
      back,
      ETH,
      pad(alice.address),
      10n ** 5n,
      3,
    ]);
    const home = await statusOf(withdraw.transactionHash, ["completed"]);
    expect(await ethClient.getBalance({ address: alice.address })).toBe(before + (back - 10n ** 5n) * UNIT);
    expect(await balanceOf("rc", wEth, bob.address)).toBe((parseEther("1.5") - parseEther("0.01")) / UNIT - back);
    const receipt = await ethClient.getTransactionReceipt({ hash: home.destinationTx as Hex });
    const relayerGas = receipt.gasUsed * receipt.effectiveGasPrice;
    expect(await ethClient.getBalance({ address: relayer.address })).toBe(
      relayerBefore + 10n ** 5n * UNIT - relayerGas,
    );
  }, 240_000);

  it("RTC goes to Ethereum as wRTC and comes back", async () => {
    const { alice, bob } = accounts;
    const wrtc = token("RTC").ethereum as Hex;
    const out = await send(
      "rc",
      alice,
      gatewayOf("rc"),
      gatewayAbi as Abi,
      "transferNative",
      [ETH, pad(bob.address), 0n, 4],
      parseEther("7"),
    );
    await statusOf(out.transactionHash, ["completed"]);
    expect(await balanceOf("eth", wrtc, bob.address)).toBe(7n * 10n ** 8n);
    expect(await rcClient.getBalance({ address: gatewayOf("rc") })).toBe(parseEther("7"));

    const rcBefore = await rcClient.getBalance({ address: alice.address });
    await send("eth", bob, wrtc, erc20Abi as Abi, "approve", [gatewayOf("eth"), 3n * 10n ** 8n]);
    const back = await send("eth", bob, gatewayOf("eth"), gatewayAbi as Abi, "transferTokens", [
      wrtc,
      3n * 10n ** 8n,
      RC,
      pad(alice.address),
      0n,
      5,
    ]);
    await statusOf(back.transactionHash, ["completed"]);
    expect(await rcClient.getBalance({ address: alice.address })).toBe(rcBefore + parseEther("3"));
    expect(await balanceOf("eth", wrtc, bob.address)).toBe(4n * 10n ** 8n);
    expect(await rcClient.getBalance({ address: gatewayOf("rc") })).toBe(parseEther("4"));
  }, 180_000);

  it("the relayer and one validator killed mid-transfer and restarted: the transfer completes exactly once", async () => {
    const { alice, bob } = accounts;
    const wEth = token("ETH").rustchain as Hex;
    const before = await balanceOf("rc", wEth, bob.address);
    await w.relayer!.stop("SIGKILL");
    await w.cluster.kill(2);
    const deposit = await send(
      "eth",
      alice,
      gatewayOf("eth"),
      gatewayAbi as Abi,
      "transferNative",
      [RC, pad(bob.address), 0n, 6],
      parseEther("0.25"),
    );
    // Three of four validators still sign (quorum 3), but nobody submits while the relayer is down.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before);
    await w.cluster.restart(2);
    await w.startRelayer();
    const done = await statusOf(deposit.transactionHash, ["completed"]);
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before + parseEther("0.25") / UNIT);
    // Exactly once: the digest is completed, and a second relayer pass changes nothing.
    expect(
      await rcClient.readContract({
        address: gatewayOf("rc"),
        abi: gatewayAbi,
        functionName: "isCompleted",
        args: [done.digest as Hex],
      }),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before + parseEther("0.25") / UNIT);
  }, 180_000);

  it("refuses forged, underquorum, unknown-set, replayed and other-chain VAAs on both sides with their codes", async () => {
    const committee = await w.committeeKeys();
    const forger = [1, 2, 3, 4].map((i) => new Uint8Array(32).fill(0x70 + i));
    const body = (toChain: number, sequence: bigint, emitterChain: number, emitter: Hex) => ({
      timestamp: Math.floor(Date.now() / 1000),
      nonce: 0,
      emitterChain,
      emitterAddress: toUniversalAddress(hexToBytes(emitter)),
      sequence,
      consistencyLevel: 1,
      payload: encodeTransfer({
        amount: 1n,
        tokenAddress: new Uint8Array(32),
        tokenChain: emitterChain,
        to: toUniversalAddress(hexToBytes(accounts.bob.address)),
        toChain,
        fee: 0n,
      }),
    });
    const keys = (k: Uint8Array[], ...idx: number[]) => idx.map((index) => ({ index, privateKey: k[index]! }));
    for (const side of ["eth", "rc"] as const) {
      const here = side === "eth" ? ETH : RC;
      const there = side === "eth" ? RC : ETH;
      const emitter = gatewayOf(side === "eth" ? "rc" : "eth");
      const refusal = async (vaa: Uint8Array) => {
        const client = side === "eth" ? ethClient : rcClient;
        try {
          await client.simulateContract({
            address: gatewayOf(side),
            abi: gatewayAbi,
            functionName: "completeTransfer",
            args: [toHex(vaa)],
            account: accounts.alice,
          });
          return "accepted";
        } catch (e) {
          return String(
            (e as { walk?: (f: (x: unknown) => boolean) => { reason?: string } }).walk?.(
              (x) => typeof (x as { reason?: string }).reason === "string",
            )?.reason ?? e,
          );
        }
      };
      const b = body(here, 900_000n, there, emitter);
      expect(await refusal(signVaa(b, 0, keys(forger, 0, 1, 2)))).toMatch(/^VAA_BAD_SIGNATURE/);
      expect(await refusal(signVaa(b, 0, keys(committee, 0, 1)))).toMatch(/^VAA_QUORUM/);
      expect(await refusal(signVaa(b, 7, keys(committee, 0, 1, 2)))).toMatch(/^VAA_UNKNOWN_GUARDIAN_SET/);
      expect(await refusal(signVaa(body(1, 900_001n, there, emitter), 0, keys(committee, 0, 1, 2)))).toMatch(
        /^VAA_WRONG_CHAIN/,
      );
      expect(await refusal(signVaa(body(here, 900_002n, there, zeroAddress), 0, keys(committee, 0, 1, 2)))).toMatch(
        /^VAA_UNKNOWN_EMITTER/,
      );
    }
    // A replay of a VAA the relayer already submitted.
    const [done] = (
      (await (await fetch(`${w.statusUrl}/api/transfers?q=${accounts.bob.address}`)).json()) as {
        transfers: { digest: string; destinationChain: string; state: string }[];
      }
    ).transfers.filter((t) => t.state === "completed");
    expect(done).toBeDefined();
    const vaaOf = await fetch(`${w.deployment.rustchain.signatureRpcUrls[0]}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "rustchain_getBridgeSignatures", params: [done!.digest] }),
    }).then(async (r) => ((await r.json()) as { result: { vaa: Hex } }).result.vaa);
    const side = done!.destinationChain === "ethereum" ? "eth" : "rc";
    const client = side === "eth" ? ethClient : rcClient;
    await expect(
      client.simulateContract({
        address: gatewayOf(side),
        abi: gatewayAbi,
        functionName: "completeTransfer",
        args: [vaaOf],
        account: accounts.alice,
      }),
    ).rejects.toThrow(/VAA_CONSUMED/);
  }, 120_000);

  it("a transfer over the governor's threshold is queued with its release time shown, then completes", async () => {
    const committee = await w.committeeKeys();
    const { alice, bob } = accounts;
    const wEth = token("ETH").rustchain as Hex;
    // The committee's operators sign SetGovernor for ETH on RustChain: 1 ETH threshold, 6 s delay.
    const gov = encodeGovernance({
      module: "RustChainBridge",
      action: 2,
      chain: RC,
      tokenChain: ETH,
      tokenAddress: new Uint8Array(32),
      dailyLimit: 0n,
      threshold: 10n ** 8n,
      delay: 6,
    });
    await submitGovernance(committee, [0, 1, 2], 1n, gov);
    const before = await balanceOf("rc", wEth, bob.address);
    const deposit = await send(
      "eth",
      alice,
      gatewayOf("eth"),
      gatewayAbi as Abi,
      "transferNative",
      [RC, pad(bob.address), 0n, 7],
      parseEther("2"),
    );
    const queued = await statusOf(deposit.transactionHash, ["queued"]);
    expect(queued.releaseTime).toBeGreaterThan(Date.now() / 1000 - 1);
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before);
    const done = await statusOf(deposit.transactionHash, ["completed"], 60_000);
    expect(done.history.map((h) => h.state)).toContain("queued");
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before + 2n * 10n ** 8n);
  }, 120_000);

  it("with the relayer stopped, `rustchain bridge redeem` completes a transfer from its VAA", async () => {
    const { alice, bob } = accounts;
    const wEth = token("ETH").rustchain as Hex;
    await w.relayer!.stop();
    const before = await balanceOf("rc", wEth, bob.address);
    const deposit = await send(
      "eth",
      alice,
      gatewayOf("eth"),
      gatewayAbi as Abi,
      "transferNative",
      [RC, pad(bob.address), 0n, 8],
      parseEther("0.5"),
    );
    const out = await bridgeCli([
      "redeem",
      deposit.transactionHash,
      "--private-key-file",
      await keyFile("bob"),
      "--timeout",
      "60",
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before + parseEther("0.5") / UNIT);
    // Redeemed once: a second redeem is refused by the gateway's replay protection, with its code.
    const again = await bridgeCli([
      "redeem",
      deposit.transactionHash,
      "--private-key-file",
      await keyFile("bob"),
      "--timeout",
      "60",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/VAA_CONSUMED|already completed/);
    // The relayer, back, finds it completed and submits nothing.
    await w.startRelayer();
    const seen = await statusOf(deposit.transactionHash, ["completed"]);
    const redeemTx = await rcClient.getTransaction({ hash: seen.destinationTx as Hex });
    expect(redeemTx.from.toLowerCase()).toBe(bob.address.toLowerCase());
    expect(await balanceOf("rc", wEth, bob.address)).toBe(before + parseEther("0.5") / UNIT);
  }, 120_000);

  it("a transfer of a paused asset becomes refundable and `rustchain bridge refund` pays the sender back exactly", async () => {
    const committee = await w.committeeKeys();
    const { alice, bob } = accounts;
    const tst = token("TST");
    const pause = encodeGovernance({
      module: "RustChainBridge",
      action: 1,
      chain: RC,
      tokenChain: ETH,
      tokenAddress: toUniversalAddress(hexToBytes(tst.ethereum as Hex)),
      paused: true,
    });
    await submitGovernance(committee, [1, 2, 3], 2n, pause);
    const amount = parseEther("12");
    const held = await balanceOf("eth", tst.ethereum as Hex, alice.address);
    await send("eth", alice, tst.ethereum as Hex, erc20Abi as Abi, "approve", [gatewayOf("eth"), amount]);
    const deposit = await send("eth", alice, gatewayOf("eth"), gatewayAbi as Abi, "transferTokens", [
      tst.ethereum,
      amount,
      RC,
      pad(bob.address),
      0n,
      9,
    ]);
    const refundable = await statusOf(deposit.transactionHash, ["refundable"]);
    expect(refundable.state).toBe("refundable");
    expect(await balanceOf("eth", tst.ethereum as Hex, alice.address)).toBe(held - amount);
    const out = await bridgeCli([
      "refund",
      deposit.transactionHash,
      "--private-key-file",
      await keyFile("alice"),
      "--timeout",
      "60",
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(await balanceOf("eth", tst.ethereum as Hex, alice.address)).toBe(held);
    const refunded = await statusOf(deposit.transactionHash, ["refunded"], 60_000);
    expect(refunded.history.map((h) => h.state)).toEqual(expect.arrayContaining(["refundable", "refunded"]));
    // Never both: the cancelled transfer's VAA is consumed on RustChain, so it can never complete there.
    const vaaHex = await fetch(w.deployment.rustchain.signatureRpcUrls[0]!, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "rustchain_getBridgeSignatures",
        params: [refundable.digest],
      }),
    }).then(async (r) => ((await r.json()) as { result: { vaa: Hex } }).result.vaa);
    await expect(
      rcClient.simulateContract({
        address: gatewayOf("rc"),
        abi: gatewayAbi,
        functionName: "completeTransfer",
        args: [vaaHex],
        account: bob,
      }),
    ).rejects.toThrow(/VAA_CONSUMED/);
  }, 180_000);

  it("the status page shows a transfer's progress in Chromium (screenshot in the test output)", async () => {
    const puppeteer = await import("puppeteer-core");
    const browser = await puppeteer.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox"],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 900 });
      await page.goto(`${w.statusUrl}/?q=${firstDeposit}`);
      await page.waitForSelector(".transfer", { timeout: 15_000 });
      const states = await page.$$eval(".transfer .state", (els) => els.map((e) => e.textContent));
      expect(states).toContain("Completed");
      const steps = await page.$$eval(".transfer:first-child ol.steps li", (els) =>
        els.map((e) => `${e.className}:${e.textContent}`),
      );
      expect(steps).toEqual(expect.arrayContaining(["done:Signed", "done:Completed"]));
      const dir = join(ROOT, "tests/.artifacts");
      await mkdir(dir, { recursive: true });
      const path = join(dir, "bridge-status-page.png");
      await page.screenshot({ path, fullPage: true });
      console.log(`status page screenshot: ${path}`);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
