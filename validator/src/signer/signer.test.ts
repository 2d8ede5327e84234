// The remote signer against a real server on loopback with a real EIP-2335 keystore: authentication, the key list,
// slashing protection refusals as HTTP 412 (double proposal, double and surround vote, double finalize vote) with
// nothing signed, strict request parsing (400, 413), and the RemoteSigner client (signatures verified, no re-send
// after 412, retries only on connection failures, timeouts). Then a node whose key lives only in a signer proposes
// and finalizes through it.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, blsSign, blsVerify, bytesToHex, parseGenesis } from "@rustchain/shared";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { encryptBlsKey, loadValidatorKey, writeKeystoreFile } from "../keys/keystore.ts";
import { RustChainNode } from "../node/node.ts";
import { SignerError } from "./errors.ts";
import { genesisValidatorsRoot } from "./genesisRoot.ts";
import { RemoteSigner } from "./remoteSigner.ts";
import { type SignerService, startSignerService } from "./signerService.ts";
import { MAX_SIGN_BODY_BYTES, parseSignRequest } from "./signRequest.ts";

const quiet = pino({ level: "silent" });
const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "rustchain-signer-"));
  dirs.push(d);
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = (b: number) => new Uint8Array(32).fill(b);

/** A keystore + password file for this key, loaded back the way `rustchain signer` does. */
async function keystoreKey(seed: number): Promise<Uint8Array> {
  const dir = await tempDir();
  const key = blsKeypairFromSeed(new Uint8Array(32).fill(seed));
  await writeKeystoreFile(join(dir, "ks.json"), await encryptBlsKey(key.secretKey, "hunter22", { kdf: "pbkdf2" }));
  await writeFile(join(dir, "pw.txt"), "hunter22\n", { mode: 0o600 });
  return (await loadValidatorKey(join(dir, "ks.json"), join(dir, "pw.txt"))).secretKey;
}

async function startSigner(secretKeys: Uint8Array[], gvr: Uint8Array = root(0xaa)): Promise<SignerService> {
  const s = await startSignerService(
    { datadir: await tempDir(), secretKeys, genesisValidatorsRoot: gvr, host: "127.0.0.1", port: 0 },
    quiet,
  );
  cleanups.push(() => s.close());
  return s;
}

/** A throwaway HTTP server answering with `handler` (to play a faulty signer). */
async function fakeServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise((r) => server.close(r)).then(() => server.closeAllConnections()));
  const a = server.address() as { port: number };
  return { url: `http://127.0.0.1:${a.port}`, server };
}

describe("signer server", () => {
  const key = blsKeypairFromSeed(new Uint8Array(32).fill(11));
  const pub = bytesToHex(key.publicKey);
  let svc: SignerService;
  let token = "";
  const post = (path: string, body: string, auth = true) =>
    fetch(`${svc.server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
  const sign = (body: unknown, who = pub) => post(`/api/v1/eth2/sign/${who}`, JSON.stringify(body));
  async function expectSigned(res: Response, message: Uint8Array): Promise<void> {
    expect(res.status).toBe(200);
    const { signature } = (await res.json()) as { signature: string };
    expect(blsVerify(key.publicKey, message, Buffer.from(signature.slice(2), "hex"))).toBe(true);
  }
  async function expectRefused(res: Response, code: string): Promise<void> {
    expect(res.status).toBe(412);
    expect(((await res.json()) as { error: string }).error).toBe(code);
  }

  beforeAll(async () => {
    svc = await startSigner([await keystoreKey(11)]);
    token = (await readFile(svc.tokenFile, "utf8")).trim();
  });

  it("upcheck needs no token; every /api request without the right bearer token is 401; token file is 0600", async () => {
    const up = await fetch(`${svc.server.url}/upcheck`);
    expect(up.status).toBe(200);
    expect(await up.text()).toBe("OK");
    expect((await fetch(`${svc.server.url}/api/v1/eth2/publicKeys`)).status).toBe(401);
    const wrong = await fetch(`${svc.server.url}/api/v1/eth2/publicKeys`, {
      headers: { authorization: `Bearer ${"0".repeat(token.length)}` },
    });
    expect(wrong.status).toBe(401);
    const unsigned = await post(
      `/api/v1/eth2/sign/${pub}`,
      JSON.stringify({ type: "BLOCK", signingRoot: bytesToHex(root(1)), slot: "1" }),
      false,
    );
    expect(unsigned.status).toBe(401);
    expect(svc.server.counters.signed.BLOCK).toBe(0);
    expect((await stat(svc.tokenFile)).mode & 0o777).toBe(0o600);
  });

  it("publicKeys lists the keystore's key", async () => {
    const res = await fetch(`${svc.server.url}/api/v1/eth2/publicKeys`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([pub]);
  });

  it("signs a block, re-signs the identical one, refuses another block of that slot with 412 DOUBLE_PROPOSAL", async () => {
    await expectSigned(await sign({ type: "BLOCK", signingRoot: bytesToHex(root(1)), slot: "10" }), root(1));
    await expectSigned(await sign({ type: "BLOCK", signingRoot: bytesToHex(root(1)), slot: "10" }), root(1));
    const signedBefore = svc.server.counters.signed.BLOCK;
    await expectRefused(await sign({ type: "BLOCK", signingRoot: bytesToHex(root(2)), slot: "10" }), "DOUBLE_PROPOSAL");
    await expectRefused(await sign({ type: "BLOCK", signingRoot: bytesToHex(root(3)), slot: "9" }), "DOUBLE_PROPOSAL");
    expect(svc.server.counters.signed.BLOCK).toBe(signedBefore);
    expect(svc.server.counters.refused.BLOCK).toBe(2);
    await expectSigned(await sign({ type: "BLOCK", signingRoot: bytesToHex(root(4)), slot: "11" }), root(4));
  });

  it("refuses a double attestation and a surround vote with 412; a finalize vote twice with another root", async () => {
    const att = (s: number, t: number, r: number) => ({
      type: "ATTESTATION",
      signingRoot: bytesToHex(root(r)),
      sourceSlot: String(s),
      targetSlot: String(t),
    });
    await expectSigned(await sign(att(2, 4, 5)), root(5));
    await expectRefused(await sign(att(2, 4, 6)), "DOUBLE_VOTE");
    await expectRefused(await sign(att(1, 5, 7)), "SURROUND_VOTE");
    const fin = (slot: number, r: number) => ({
      type: "FINALIZE_VOTE",
      signingRoot: bytesToHex(root(r)),
      slot: String(slot),
    });
    await expectSigned(await sign(fin(4, 8)), root(8)); // grid (8, 9) after the attestation (4, 8)
    await expectSigned(await sign(fin(4, 8)), root(8)); // identical: harmless
    await expectRefused(await sign(fin(4, 9)), "DOUBLE_VOTE");
    await expectSigned(await sign(att(4, 5, 10)), root(10)); // climbing the grid goes on
    expect(svc.server.counters.refused.ATTESTATION).toBe(2);
    expect(svc.server.counters.refused.FINALIZE_VOTE).toBe(1);
  });

  it("signs VRF inputs (not slashable)", async () => {
    const input = new Uint8Array(32).fill(3);
    await expectSigned(await sign({ type: "VRF", input: bytesToHex(input) }), input);
    await expectSigned(await sign({ type: "VRF", input: bytesToHex(input) }), input);
  });

  it("400 for malformed requests, 404 for an unknown key or route, 413 for a body over 16 KiB; nothing recorded", async () => {
    const r = bytesToHex(root(20));
    const bad: unknown[] = [
      { type: "BLOCK", signingRoot: r },
      { type: "BLOCK", signingRoot: r, slot: 30 },
      { type: "BLOCK", signingRoot: r, slot: "030" },
      { type: "BLOCK", signingRoot: r, slot: "-1" },
      { type: "BLOCK", signingRoot: r, slot: "18446744073709551616" },
      { type: "BLOCK", signingRoot: r.slice(0, -2), slot: "30" },
      { type: "BLOCK", signingRoot: "0xzz", slot: "30" },
      { type: "BLOCK", signingRoot: r, slot: "30", extra: 1 },
      { type: "ATTESTATION", signingRoot: r, sourceSlot: "9", targetSlot: "8" },
      { type: "VRF", input: "0x" },
      { type: "SOMETHING", signingRoot: r, slot: "30" },
      [1, 2],
      null,
    ];
    for (const body of bad) {
      const res = await sign(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("SIGNER_BAD_REQUEST");
    }
    expect((await post(`/api/v1/eth2/sign/${pub}`, "{not json")).status).toBe(400);
    expect((await post(`/api/v1/eth2/sign/0x1234`, "{}")).status).toBe(400);
    const other = bytesToHex(blsKeypairFromSeed(new Uint8Array(32).fill(99)).publicKey);
    const unknown = await sign({ type: "BLOCK", signingRoot: r, slot: "30" }, other);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe("SIGNER_UNKNOWN_KEY");
    expect((await post("/api/v1/eth2/nothing", "{}")).status).toBe(404);
    const huge = await post(
      `/api/v1/eth2/sign/${pub}`,
      JSON.stringify({ type: "VRF", input: `0x${"ab".repeat(MAX_SIGN_BODY_BYTES)}` }),
    );
    expect(huge.status).toBe(413);
    // None of the refused bodies recorded anything: slot 30 is still free.
    await expectSigned(await sign({ type: "BLOCK", signingRoot: r, slot: "30" }), root(20));
  });

  it("the request parser never throws anything but a SignerError (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 256 }),
          fc.json().map((s) => new TextEncoder().encode(s)),
        ),
        (b) => {
          try {
            parseSignRequest(b);
          } catch (e) {
            expect(e).toBeInstanceOf(SignerError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("RemoteSigner client", () => {
  const key = blsKeypairFromSeed(new Uint8Array(32).fill(12));
  let svc: SignerService;
  beforeAll(async () => {
    svc = await startSigner([await keystoreKey(12), blsKeypairFromSeed(new Uint8Array(32).fill(13)).secretKey]);
  });

  it("connects, signs every message type (each signature verified), and names the slashing code on 412", async () => {
    const signer = await RemoteSigner.connect(svc.server.url, svc.tokenFile, key.publicKey);
    const vrf = await signer.vrf(new Uint8Array(32).fill(1));
    expect(blsVerify(key.publicKey, new Uint8Array(32).fill(1), vrf)).toBe(true);
    expect(blsVerify(key.publicKey, root(1), await signer.block(5n, root(1)))).toBe(true);
    expect(
      blsVerify(
        key.publicKey,
        root(2),
        await signer.attestation({ sourceSlot: 3n, targetSlot: 5n, signingRoot: root(2) }),
      ),
    ).toBe(true);
    expect(blsVerify(key.publicKey, root(3), await signer.finalizeVote(5n, root(3)))).toBe(true);
    const refused = await signer.block(5n, root(9)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SignerError);
    expect((refused as SignerError).type).toMatchObject({
      code: "SIGNER_SLASHING_REFUSED",
      slashingCode: "DOUBLE_PROPOSAL",
    });
    expect((refused as Error).message).toContain("DOUBLE_PROPOSAL");
    const att = await signer
      .attestation({ sourceSlot: 3n, targetSlot: 5n, signingRoot: root(4) })
      .catch((e: unknown) => e);
    // (3, 5) again, another root: the finalize vote at 5 already lifted the watermark above it.
    expect((att as SignerError).type).toMatchObject({ slashingCode: "ATTESTATION_BELOW_WATERMARK" });
  });

  it("refuses to connect for a key the signer does not hold, or without a readable token", async () => {
    const other = blsKeypairFromSeed(new Uint8Array(32).fill(98)).publicKey;
    await expect(RemoteSigner.connect(svc.server.url, svc.tokenFile, other)).rejects.toMatchObject({
      type: { code: "SIGNER_KEY_NOT_LISTED" },
    });
    const dir = await tempDir();
    await writeFile(join(dir, "t"), "nope\n");
    await expect(RemoteSigner.connect(svc.server.url, join(dir, "t"), key.publicKey)).rejects.toMatchObject({
      type: { code: "SIGNER_BAD_RESPONSE", status: 401 },
    });
    await expect(RemoteSigner.connect(svc.server.url, join(dir, "missing"), key.publicKey)).rejects.toMatchObject({
      type: { code: "SIGNER_CONFIG" },
    });
  });

  it("never uses a signature that does not verify (garbage, or another key's)", async () => {
    const wrongKey = blsKeypairFromSeed(new Uint8Array(32).fill(97));
    const { url } = await fakeServer((req, res) => {
      void (async () => {
        let body = "";
        for await (const c of req) body += c;
        const msg = JSON.parse(body) as { signingRoot: string };
        const sig = blsSign(wrongKey.secretKey, Buffer.from(msg.signingRoot.slice(2), "hex"));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ signature: bytesToHex(sig) }));
      })();
    });
    const signer = new RemoteSigner(url, "t", key.publicKey);
    await expect(signer.block(1n, root(1))).rejects.toMatchObject({ type: { code: "SIGNER_BAD_SIGNATURE" } });
    const garbage = await fakeServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ signature: `0x${"11".repeat(96)}` }));
    });
    await expect(new RemoteSigner(garbage.url, "t", key.publicKey).block(1n, root(1))).rejects.toMatchObject({
      type: { code: "SIGNER_BAD_SIGNATURE" },
    });
  });

  it("sends a refused request once (no retry after 412), retries after a broken connection, times out", async () => {
    let refusals = 0;
    const refusing = await fakeServer((_req, res) => {
      refusals++;
      res.writeHead(412, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "DOUBLE_PROPOSAL", message: "no" }));
    });
    await expect(new RemoteSigner(refusing.url, "t", key.publicKey).block(1n, root(1))).rejects.toMatchObject({
      type: { code: "SIGNER_SLASHING_REFUSED" },
    });
    expect(refusals).toBe(1);

    let attempts = 0;
    const flaky = await fakeServer((req, res) => {
      attempts++;
      if (attempts === 1) {
        req.socket.destroy(); // connection reset before any answer
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ signature: bytesToHex(blsSign(key.secretKey, root(1))) }));
    });
    const sig = await new RemoteSigner(flaky.url, "t", key.publicKey).block(1n, root(1));
    expect(blsVerify(key.publicKey, root(1), sig)).toBe(true);
    expect(attempts).toBe(2);

    const silent = await fakeServer(() => undefined);
    const t0 = Date.now();
    await expect(
      new RemoteSigner(silent.url, "t", key.publicKey, { timeoutMs: 200, retries: 2, retryDelayMs: 10 }).block(
        1n,
        root(1),
      ),
    ).rejects.toMatchObject({ type: { code: "SIGNER_TIMEOUT" } });
    expect(Date.now() - t0).toBeLessThan(2_000);

    // Nothing listening: retried, then SIGNER_UNREACHABLE.
    const closed = await fakeServer(() => undefined);
    await new Promise((r) => closed.server.close(r));
    await expect(
      new RemoteSigner(closed.url, "t", key.publicKey, { timeoutMs: 500, retries: 1, retryDelayMs: 10 }).vrf(root(1)),
    ).rejects.toMatchObject({ type: { code: "SIGNER_UNREACHABLE" } });
  });
});

describe("a node whose key lives in the remote signer", () => {
  it("proposes, attests and finalizes through the signer, with no slashing protection of its own", async () => {
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(78));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    );
    const gvr = await genesisValidatorsRoot(genesis);
    const svc = await startSigner([validator.secretKey], gvr);
    const datadir = await tempDir();
    const node = await RustChainNode.start(
      {
        datadir,
        genesis,
        remoteSigner: { url: svc.server.url, tokenFile: svc.tokenFile, publicKey: validator.publicKey },
        rpc: { host: "127.0.0.1", port: 0 },
      },
      quiet,
    );
    cleanups.push(() => node.stop());
    // The signer's protection is bound to the chain the node runs.
    expect(bytesToHex(node.chain.genesisHash)).toBe(bytesToHex(gvr));
    const deadline = Date.now() + 20_000;
    while (!(node.chain.head.number >= 6n && node.consensus.finality.finalized.slot >= 3)) {
      if (Date.now() > deadline) throw new Error(`stuck at head ${node.chain.head.number}`);
      await sleep(100);
    }
    const c = svc.server.counters;
    expect(c.signed.VRF).toBeGreaterThan(0);
    expect(c.signed.BLOCK).toBeGreaterThanOrEqual(6);
    expect(c.signed.ATTESTATION).toBeGreaterThan(0);
    expect(c.signed.FINALIZE_VOTE).toBeGreaterThan(0);
    expect(c.refused).toEqual({ VRF: 0, BLOCK: 0, ATTESTATION: 0, FINALIZE_VOTE: 0 });
    await expect(stat(join(datadir, "slashing-protection"))).rejects.toMatchObject({ code: "ENOENT" });
  }, 30_000);
});
