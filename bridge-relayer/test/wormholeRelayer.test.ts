// The relayer's Wormhole source against a live RustChain node with the Wormhole gateway deployed (tests/support/
// wormhole.ts), a local HTTP server playing a guardian's public API (VAAs signed by 19 mock guardians, and the
// governor's enqueued list) and a real redis-server: a Solana transfer to RustChain is relayed exactly, a VAA for
// another chain is skipped, one sequence not signed yet does not stall the next, a governor-held one shows `queued`
// with its release time and completes once released, and a restarted relayer resumes from its stored cursor without
// submitting anything twice (a VAA its user redeemed meanwhile is completed, not resubmitted).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "@rustchain/shared";
import { encodeVaaBody, type VaaBody, vaaDigest, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { pino } from "pino";
import { erc20Abi, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRedis, startLocalRedis } from "../../edge/src/node/redisServer.ts";
import { DEV_KEYS } from "../../tests/support/devnet.ts";
import {
  type GuardianApiServer,
  SOLANA,
  SOLANA_TOKEN_BRIDGE,
  signWormholeVaa,
  solanaBody,
  solTransfer,
  solTransferWithPayload,
  startGuardianApi,
  startWormholeChain,
  type WormholeChain,
  wormholeDeployment,
} from "../../tests/support/wormhole.ts";
import { freePort } from "../../validator/src/cli/devnetCluster.ts";
import type { Deployment } from "../src/deployment.ts";
import { defaultRelayerOptions, type Relayer, startRelayer } from "../src/relayer.ts";
import { createStatusApp, listenStatus } from "../src/statusApi.ts";
import { bridgeJson } from "./support/bridgeCli.ts";

const relayerAccount = privateKeyToAccount(DEV_KEYS[3]);
const alice = privateKeyToAccount(DEV_KEYS[1]);
const bob = privateKeyToAccount(DEV_KEYS[2]);
const EMITTER = bytesToHex(SOLANA_TOKEN_BRIDGE.address).slice(2);
const START = 100;

let chain: WormholeChain;
let api: GuardianApiServer;
let redis: LocalRedis;
let deployment: Deployment;
let relayer: Relayer | undefined;
let status: { url: string; close(): Promise<void> } | undefined;
let dir: string;

async function start(): Promise<Relayer> {
  relayer = await startRelayer(
    { ...defaultRelayerOptions, redisUrl: redis.url, pollMs: 150 },
    {
      deployment,
      accounts: { ethereum: relayerAccount, rustchain: relayerAccount },
      logger: pino({ level: "silent" }),
    },
  );
  status = await listenStatus(createStatusApp(relayer), "127.0.0.1", 0);
  return relayer;
}

async function stop(): Promise<void> {
  await status?.close();
  await relayer?.stop();
  status = undefined;
  relayer = undefined;
}

beforeAll(async () => {
  [chain, api, redis] = await Promise.all([
    startWormholeChain(),
    startGuardianApi(),
    freePort().then((port) => startLocalRedis({ port })),
  ]);
  deployment = wormholeDeployment(chain, api.url, { startSequence: START, lookahead: 3, signingSeconds: 20 });
  dir = await mkdtemp(join(tmpdir(), "rustchain-wormhole-relayer-"));
  await start();
});

afterAll(async () => {
  await stop().catch(() => undefined);
  await api?.close();
  await redis?.stop();
  await chain?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const wsol = (address: Hex) =>
  chain.client.readContract({ address: chain.wrappedSol, abi: erc20Abi, functionName: "balanceOf", args: [address] });

/** Serve the VAA of a body signed by 13 of 19 and return its digest. */
function serve(b: VaaBody): Hex {
  api.serve(b, signWormholeVaa(b));
  return bytesToHex(vaaDigest(encodeVaaBody(b))) as Hex;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface MessageAnswer {
  message: { state: string; releaseTime?: number; etaSeconds: number | null; reason?: string; digest?: string };
  transfer: { state: string; amount: string; fee: string; recipient: string; destinationTx?: string } | null;
}

async function wormholeStatus(sequence: number): Promise<{ status: number; body: MessageAnswer }> {
  const res = await fetch(`${status!.url}/api/wormhole/${SOLANA}/${EMITTER}/${sequence}`);
  return { status: res.status, body: (await res.json()) as MessageAnswer };
}

const completed = (sequence: number) =>
  until(`sequence ${sequence} completed`, async () => {
    const r = await wormholeStatus(sequence);
    return r.body.transfer?.state === "completed" ? r.body : undefined;
  });

describe("relayer: Wormhole transfers to RustChain from a guardian API", () => {
  it("relays a Solana transfer signed by 13 of 19: the recipient gets the amount less the fee, the relayer the fee", async () => {
    const amount = 123_456_789n; // 1.23456789 SOL in the payload's 8 decimals = wSOL units (8 decimals)
    const fee = 1_000n;
    const relayerBefore = await wsol(relayerAccount.address);
    const digest = serve(solanaBody(solTransfer(amount, alice.address, { fee }), BigInt(START)));
    const done = await completed(START);
    expect(done.message).toMatchObject({ state: "relayed", digest });
    expect(done.transfer).toMatchObject({
      amount: amount.toString(),
      fee: fee.toString(),
      recipient: alice.address.toLowerCase(),
    });
    expect(await wsol(alice.address)).toBe(amount - fee);
    expect((await wsol(relayerAccount.address)) - relayerBefore).toBe(fee);
    // the transfer is also found by its recipient, as the committee bridge's are
    const search = (await (await fetch(`${status!.url}/api/transfers?q=${alice.address}`)).json()) as {
      transfers: { digest: string }[];
    };
    expect(search.transfers.map((t) => t.digest)).toEqual([digest]);
  });

  it("skips a VAA for another chain, and relays past a sequence not signed yet (lookahead)", async () => {
    serve(solanaBody(solTransfer(5n, alice.address, { toChain: WORMHOLE_CHAIN.ethereum }), BigInt(START + 1)));
    // START + 2 is not signed yet (404); START + 3 is
    const bobBefore = await wsol(bob.address);
    serve(solanaBody(solTransfer(777n, bob.address), BigInt(START + 3)));
    await completed(START + 3);
    expect((await wsol(bob.address)) - bobBefore).toBe(777n);
    const skipped = await wormholeStatus(START + 1);
    expect(skipped.body.message).toMatchObject({ state: "skipped", reason: "a transfer to chain 2" });
    expect(skipped.body.transfer).toBeNull();
    // the cursor stops at the first unresolved sequence
    expect(await relayer!.store.wormholeCursor(`${SOLANA}/${EMITTER}`)).toBe(BigInt(START + 2));
    expect((await wormholeStatus(START + 2)).status).toBe(404);
  });

  it("a sequence the guardians' governor holds is queued with its release time as ETA, and completes once released", async () => {
    const held = solanaBody(solTransfer(4_200_000_000n, alice.address), BigInt(START + 2));
    const releaseTime = Math.floor(Date.now() / 1000) + 3600;
    api.enqueue(held, releaseTime, `0x${"5a".repeat(32)}`);
    const queued = await until("the governor-queued state", async () => {
      const r = await wormholeStatus(START + 2);
      return r.body.message?.state === "queued" ? r.body : undefined;
    });
    expect(queued.message.releaseTime).toBe(releaseTime);
    expect(queued.message.etaSeconds).toBeGreaterThan(3590);
    expect(queued.message.etaSeconds).toBeLessThanOrEqual(3600);
    expect(queued.transfer).toBeNull();
    // `rustchain bridge status <chain>/<emitter>/<sequence>` shows it from the relayer
    const file = join(dir, "deployment.json");
    await writeFile(file, JSON.stringify({ ...deployment, relayer: { statusUrl: status!.url } }));
    const cli = await bridgeJson<{ source: string; state: string; releaseTime: number; etaSeconds: number }>(
      "status",
      `${SOLANA}/${EMITTER}/${START + 2}`,
      "--deployment",
      file,
    );
    expect(cli).toMatchObject({ source: "relayer", state: "queued", releaseTime });
    expect(cli.etaSeconds).toBeGreaterThan(3500);
    // released: off the governor's list, and the VAA is served
    const before = await wsol(alice.address);
    api.release(held);
    serve(held);
    const done = await completed(START + 2);
    expect(done.message.state).toBe("relayed");
    expect((await wsol(alice.address)) - before).toBe(4_200_000_000n);
    expect(await relayer!.store.wormholeCursor(`${SOLANA}/${EMITTER}`)).toBe(BigInt(START + 4));
  });

  it("a payload-3 transfer waits for its recipient; a pick-up request reaches a sequence beyond the lookahead", async () => {
    const p3 = solanaBody(solTransferWithPayload(42n, bob.address, Uint8Array.of(9)), BigInt(START + 4));
    serve(p3);
    const waiting = await until("awaiting_recipient", async () => {
      const r = await wormholeStatus(START + 4);
      return r.body.transfer?.state === "awaiting_recipient" ? r.body : undefined;
    });
    expect(waiting.message.state).toBe("relayed");

    const far = START + 50;
    const url = `${status!.url}/api/wormhole/${SOLANA}/${EMITTER}/${far}`;
    const other = `${status!.url}/api/wormhole/${SOLANA}/${"ab".repeat(32)}/1`;
    expect((await fetch(other, { method: "POST" })).status).toBe(400);
    expect((await fetch(url, { method: "POST" })).status).toBe(202);
    const pending = await until("the requested message", async () => {
      const r = await wormholeStatus(far);
      return r.body.message?.state === "waiting_signatures" ? r.body : undefined;
    });
    // ETA: when first seen + the emitter's signingSeconds (20)
    expect(pending.message.etaSeconds).toBeGreaterThan(15);
    expect(pending.message.etaSeconds).toBeLessThanOrEqual(20);
    serve(solanaBody(solTransfer(9n, alice.address), BigInt(far)));
    await completed(far);
  });

  it("a restarted relayer resumes from its stored cursor: nothing below it asked again, nothing submitted twice", async () => {
    await stop();
    // while it is down, bob redeems START + 5 himself, and START + 6 is signed
    const own = solanaBody(solTransfer(31n, bob.address), BigInt(START + 5));
    const ownDigest = serve(own);
    await chain.send(bob, chain.gateway, chain.built.gateway!.abi, "completeTransfer", [
      bytesToHex(signWormholeVaa(own)),
    ]);
    serve(solanaBody(solTransfer(62n, bob.address), BigInt(START + 6)));
    const asked = api.requests.length;

    const second = await start();
    const done = await completed(START + 6);
    expect(done.transfer?.amount).toBe("62");
    const byUser = await completed(START + 5);
    expect(byUser.message.digest).toBe(ownDigest);
    // completed by bob's own transaction: the new relayer sent exactly one completeTransfer (START + 6)
    const submissions = await second.metrics.submitted.get();
    expect(submissions.values.reduce((n, v) => n + v.value, 0)).toBe(1);
    const sequences = api.requests
      .slice(asked)
      .map((p) => /^\/v1\/signed_vaa\/1\/[0-9a-f]{64}\/(\d+)$/.exec(p)?.[1])
      .filter((s) => s !== undefined)
      .map(Number);
    expect(sequences.length).toBeGreaterThan(0);
    expect(Math.min(...sequences)).toBeGreaterThanOrEqual(START + 5);
    expect(await second.store.wormholeCursor(`${SOLANA}/${EMITTER}`)).toBe(BigInt(START + 7));
  });
});
