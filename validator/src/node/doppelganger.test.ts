// Doppelganger protection on a real node pair over libp2p: a second node started with a validator key that is live
// elsewhere watches first, sees the key's votes, stays silent for good and says so; the first keeps finalizing.
// Plus the guard's rules alone.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { blsKeypairFromSeed, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { Doppelganger, DoppelgangerError } from "../consensus/duties/doppelganger.ts";
import { RustChainNode } from "./node.ts";

const dirs: string[] = [];
const nodes: RustChainNode[] = [];
afterAll(async () => {
  for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the doppelganger guard", () => {
  const quiet = pino({ level: "silent" });
  const code = (f: () => void) => {
    try {
      f();
      return "signs";
    } catch (e) {
      return e instanceof DoppelgangerError ? e.type.code : String(e);
    }
  };

  it("signs nothing while watching, then signs; a vote by its index for a slot after start stops it for good", () => {
    let now = 10n;
    let hearing = false;
    const g = new Doppelganger(
      { windowSlots: 2, slotsPerEpoch: 8n },
      { index: 3, startSlot: 10n, currentSlot: () => now, canHear: () => hearing, logger: quiet },
    );
    expect(code(() => g.check("attestation", 10n))).toBe("DOPPELGANGER_WATCHING");
    now = 11n; // not synced or no peers yet: the window has not started
    expect(code(() => g.check("attestation", 11n))).toBe("DOPPELGANGER_WATCHING");
    hearing = true;
    now = 12n;
    expect(code(() => g.check("attestation", 12n))).toBe("DOPPELGANGER_WATCHING");
    now = 13n;
    expect(code(() => g.check("attestation", 13n))).toBe("DOPPELGANGER_WATCHING");
    now = 14n;
    expect(code(() => g.check("attestation", 14n))).toBe("signs");
    // Its own vote coming back, another validator's vote, and its own vote from before the start: not a doppelganger.
    g.observe("attestation", 3, 14n);
    g.observe("attestation", 2, 15n);
    g.observe("finalize_vote", 3, 9n);
    expect(g.isDetected).toBe(false);
    // A vote by its index it did not make.
    g.observe("finalize_vote", 3, 14n);
    expect(g.isDetected).toBe(true);
    now = 20n;
    expect(code(() => g.check("block", 20n))).toBe("DOPPELGANGER_DETECTED");
  });
});

describe("a second node with a key that is live elsewhere", () => {
  it("stays silent, logs the doppelganger and signs nothing, while the first keeps finalizing", async () => {
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(91));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    );
    const dir = async () => {
      const d = await mkdtemp(join(tmpdir(), "rustchain-doppelganger-"));
      dirs.push(d);
      return d;
    };
    const a = await RustChainNode.start(
      {
        datadir: await dir(),
        genesis,
        secretKey: validator.secretKey,
        rpc: { host: "127.0.0.1", port: 0 },
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"] },
        doppelgangerSlots: 0,
      },
      pino({ level: "silent" }),
    );
    nodes.push(a);
    while (a.chain.head.number < 8n) await sleep(100);

    const lines: string[] = [];
    const capture = new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const b = await RustChainNode.start(
      {
        datadir: await dir(),
        genesis,
        secretKey: validator.secretKey,
        rpc: { host: "127.0.0.1", port: 0 },
        metrics: { host: "127.0.0.1", port: 0 },
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"], bootstrap: a.network!.multiaddrs().map(String) },
        doppelgangerSlots: 8,
      },
      pino({ level: "info" }, capture),
    );
    nodes.push(b);
    const deadline = Date.now() + 20_000;
    while (!lines.some((l) => l.includes("Doppelganger detected")) && Date.now() < deadline) await sleep(100);
    expect(
      lines.some((l) => l.includes("Doppelganger detected")),
      lines.slice(-30).join(""),
    ).toBe(true);
    const finalizedBefore = a.consensus.finality.finalized.slot;
    await sleep(2_000); // 8 more slots: B would have had duties
    const metrics = await (await fetch(b.metricsUrl!)).text();
    expect(metrics).toMatch(/rustchain_validator_duties_total\{duty="propose",result="done"\} 0/);
    expect(metrics).toMatch(/rustchain_validator_duties_total\{duty="attest",result="done"\} 0/);
    // Every block on B's chain came from A (B built none), and A kept finalizing.
    expect(a.consensus.finality.finalized.slot).toBeGreaterThan(finalizedBefore);
    expect(b.chain.head.number).toBeGreaterThanOrEqual(8n);
  }, 60_000);
});
