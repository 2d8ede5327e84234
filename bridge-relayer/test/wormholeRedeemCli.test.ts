// `rustchain bridge redeem --vaa <hex|base64>` and `redeem --wormhole <chain>/<emitter>/<sequence>` as the user runs
// them (a subprocess of bin/rustchain.js) against a live RustChain node with the Wormhole gateway deployed and wSOL
// attested (tests/support/wormhole.ts): hex (0x or not) and base64 VAAs of Solana transfers redeem exactly, with what
// they are printed first; a replay is refused as already redeemed; junk, a VAA short of a quorum, one for another chain
// and one that is not a transfer are refused before anything is sent; --wormhole fetches from a guardian API and says
// when the guardians have not signed yet or their governor holds the message.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "@rustchain/shared";
import { MAX_VAA_BYTES, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { erc20Abi, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEYS } from "../../tests/support/devnet.ts";
import {
  type GuardianApiServer,
  range,
  SOLANA,
  SOLANA_TOKEN_BRIDGE,
  signWormholeVaa,
  solanaBody,
  solTransfer,
  startGuardianApi,
  startWormholeChain,
  type WormholeChain,
  WSOL_ASSET_META,
  wormholeDeployment,
} from "../../tests/support/wormhole.ts";
import { parseVaaText } from "../src/cli/redeemVaaCommand.ts";
import { bridge, bridgeJson } from "./support/bridgeCli.ts";

const user = privateKeyToAccount(DEV_KEYS[4]);
const alice = privateKeyToAccount(DEV_KEYS[1]);
const EMITTER = bytesToHex(SOLANA_TOKEN_BRIDGE.address).slice(2);

let chain: WormholeChain;
let api: GuardianApiServer;
let dir: string;
let common: string[];

beforeAll(async () => {
  [chain, api] = await Promise.all([startWormholeChain(), startGuardianApi()]);
  dir = await mkdtemp(join(tmpdir(), "rustchain-wormhole-cli-"));
  const deployment = join(dir, "deployment.json");
  await writeFile(deployment, JSON.stringify(wormholeDeployment(chain, api.url)));
  const key = join(dir, "user.key");
  await writeFile(key, `${DEV_KEYS[4]}\n`, { mode: 0o600 });
  common = ["--deployment", deployment, "--private-key-file", key];
});

afterAll(async () => {
  await api?.close();
  await chain?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const wsol = (address: Hex) =>
  chain.client.readContract({ address: chain.wrappedSol, abi: erc20Abi, functionName: "balanceOf", args: [address] });
const nonce = () => chain.client.getTransactionCount({ address: user.address });
let sequence = 10n;
/** A Solana transfer VAA (13 of 19 unless told) and its body. */
const transferVaa = (amount: bigint, over: { fee?: bigint; toChain?: number; signers?: number[] } = {}) => {
  const body = solanaBody(solTransfer(amount, alice.address, over), sequence++);
  return { body, bytes: signWormholeVaa(body, over.signers) };
};

describe("rustchain bridge redeem --vaa", () => {
  let redeemed: string;

  it("redeems a 0x-hex VAA, printing emitter chain, sequence, token, amount and recipient first; balances exact", async () => {
    const { bytes } = transferVaa(500_000_000n, { fee: 1_000n });
    redeemed = bytesToHex(bytes);
    const [aliceBefore, userBefore] = [await wsol(alice.address), await wsol(user.address)];
    const r = await bridge("redeem", "--vaa", redeemed, ...common);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wormhole transfer from solana (emitter 0x${EMITTER}), sequence 10`);
    expect(r.stdout).toContain(
      `5 SOL of token ${SOLANA}/0x069b8857feab8184fb687f634618c035dac439dc1aeb3b5598a0f00000000001`,
    );
    expect(r.stdout).toContain(`to ${alice.address.toLowerCase()}, fee 0.00001 SOL to whoever redeems`);
    expect(r.stdout).toContain("13 guardian signatures of set 0, verified");
    expect(r.stdout).toMatch(/Completed on RustChain: tx 0x[0-9a-f]{64}/);
    expect(r.stdout).toContain("paid out:  4.99999 SOL to the recipient, fee 0.00001 SOL to you");
    expect((await wsol(alice.address)) - aliceBefore).toBe(500_000_000n - 1_000n);
    expect((await wsol(user.address)) - userBefore).toBe(1_000n);
  });

  it("redeems hex without 0x and base64 (--json: the transfer and its transaction)", async () => {
    const before = await wsol(alice.address);
    const plain = transferVaa(7n);
    const a = await bridgeJson<{ state: string; amount: string; sequence: string; symbol: string; tx: string }>(
      "redeem",
      "--vaa",
      bytesToHex(plain.bytes).slice(2),
      ...common,
    );
    expect(a).toMatchObject({
      state: "completed",
      amount: "7",
      sequence: plain.body.sequence.toString(),
      symbol: "SOL",
    });
    const b64 = transferVaa(8n);
    const b = await bridgeJson<{ state: string; amount: string }>(
      "redeem",
      "--vaa",
      Buffer.from(b64.bytes).toString("base64"),
      ...common,
    );
    expect(b).toMatchObject({ state: "completed", amount: "8" });
    expect((await wsol(alice.address)) - before).toBe(15n);
  });

  it("refuses a replay as already redeemed, naming the transaction that did", async () => {
    const r = await bridge("redeem", "--vaa", redeemed, ...common);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: VAA_CONSUMED: already redeemed \(tx 0x[0-9a-f]{64}\)\n$/);
    const j = await bridge("redeem", "--vaa", redeemed, ...common, "--json");
    expect(JSON.parse(j.stdout)).toMatchObject({ code: "REVERTED", bridgeCode: "VAA_CONSUMED" });
  });

  it("refuses junk, too few signatures, another chain and a non-transfer before sending anything", async () => {
    const sent = await nonce();
    const refused = async (vaa: string, pattern: RegExp) => {
      const r = await bridge("redeem", "--vaa", vaa, ...common);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toMatch(pattern);
    };
    await refused("", /^error: --vaa: empty/);
    await refused("zz!", /^error: --vaa: neither hex nor base64/);
    await refused("0x123", /^error: --vaa: odd number of hex digits/);
    await refused("0xnothex", /^error: --vaa: 0x followed by something that is not hex/);
    await refused("AQID", /^error: VAA_MALFORMED: not a Wormhole VAA/);
    await refused(bytesToHex(transferVaa(1n, { signers: range(12) }).bytes), /^error: VAA_QUORUM: too few guardian/);
    await refused(
      bytesToHex(transferVaa(1n, { toChain: WORMHOLE_CHAIN.ethereum }).bytes),
      /^error: VAA_WRONG_CHAIN: a transfer to ethereum \(2\), not RustChain/,
    );
    await refused(
      bytesToHex(signWormholeVaa(solanaBody(WSOL_ASSET_META, sequence++))),
      /^error: VAA_PAYLOAD: payload 2 is not a token-bridge transfer/,
    );
    const both = await bridge("redeem", `0x${"ab".repeat(32)}`, "--vaa", redeemed, ...common);
    expect(both.stderr).toMatch(/^error: give exactly one of <hash>/);
    expect(await nonce()).toBe(sent);
    // longer than any VAA: refused by its length (argv cannot carry it, so the parser itself)
    expect(() => parseVaaText("ab".repeat(MAX_VAA_BYTES + 2))).toThrow(/longer than any VAA/);
  });

  it("--wormhole fetches the VAA from a guardian API: not signed yet, held by the governor, then redeemed; status follows (no relayer)", async () => {
    const { body, bytes } = transferVaa(321n);
    const id = `${SOLANA}/${EMITTER}/${body.sequence}`;
    const run = () => bridge("redeem", "--wormhole", id, "--guardian-api", api.url, ...common);
    const status = () =>
      bridgeJson<{ source: string; state: string; releaseTime: number | null }>("status", id, ...common);
    const pending = await run();
    expect(pending.code).toBe(1);
    expect(pending.stderr).toContain(`error: ${id} is not signed by the guardians yet`);
    expect(await status()).toMatchObject({ source: "chain", state: "waiting_signatures", releaseTime: null });
    const release = Math.floor(Date.now() / 1000) + 7200;
    api.enqueue(body, release, `0x${"5a".repeat(32)}`);
    const held = await run();
    expect(held.stderr).toContain(
      `error: ${id} is held by the guardians' governor until ${new Date(release * 1000).toISOString()}`,
    );
    const shown = await bridge("status", id, ...common);
    expect(shown.stdout).toContain(`state: queued by the governor until ${new Date(release * 1000).toISOString()}`);
    api.release(body);
    api.serve(body, bytes);
    expect(await status()).toMatchObject({ state: "signed" });
    const before = await wsol(alice.address);
    const done = await run();
    expect(done.code, done.stderr).toBe(0);
    expect((await wsol(alice.address)) - before).toBe(321n);
    expect(await status()).toMatchObject({ state: "completed" });
  });
});
