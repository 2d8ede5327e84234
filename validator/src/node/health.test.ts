// /health and /live on a real node pair over libp2p on loopback: a validator alone (no peers) is not ready; a full
// node that starts late is not ready while it syncs or before it has a peer, and ready once it follows the head;
// /live and the scrape-time gauges on the metrics port. Plus the pure rules.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { assessHealth, defaultHealthOptions } from "./health.ts";
import { RustChainNode } from "./node.ts";

const dirs: string[] = [];
const nodes: RustChainNode[] = [];
afterAll(async () => {
  for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(url: string): Promise<{
  status: number;
  body: { ready?: boolean; checks: Record<string, { ok: boolean; distanceSlots?: number }> };
}> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as never };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("health rules", () => {
  const base = {
    currentSlot: 100,
    headSlot: 100,
    finalizedSlot: 99,
    peers: 3,
    stopping: false,
    lastHeadChangeMs: 0,
    nowMs: 1000,
  };
  it("ready needs synced, peers (when networked) and recent finality; live needs progress and no shutdown", () => {
    expect(assessHealth(base)).toMatchObject({ ready: true, live: true });
    expect(assessHealth({ ...base, headSlot: 80 }).ready).toBe(false);
    expect(assessHealth({ ...base, headSlot: 80 }).live).toBe(true);
    expect(assessHealth({ ...base, peers: 0 }).ready).toBe(false);
    expect(assessHealth({ ...base, peers: undefined }).ready).toBe(true);
    expect(assessHealth({ ...base, finalizedSlot: 100 - defaultHealthOptions.maxFinalityLagSlots - 1 }).ready).toBe(
      false,
    );
    expect(assessHealth({ ...base, nowMs: defaultHealthOptions.liveStallMs + 1 }).live).toBe(false);
    expect(assessHealth({ ...base, stopping: true })).toMatchObject({ ready: false, live: false });
  });
});

describe("a node's /health and /live", () => {
  it("503 while alone or syncing, 200 once it follows the head; /live and the sampled gauges on the metrics port", async () => {
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(77));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    );
    const dir = async () => {
      const d = await mkdtemp(join(tmpdir(), "rustchain-health-"));
      dirs.push(d);
      return d;
    };
    const quiet = pino({ level: "silent" });
    const a = await RustChainNode.start(
      {
        datadir: await dir(),
        genesis,
        secretKey: validator.secretKey,
        rpc: { host: "127.0.0.1", port: 0 },
        metrics: { host: "127.0.0.1", port: 0 },
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"] },
      },
      quiet,
    );
    nodes.push(a);
    // Alone: producing blocks, but no peers.
    const alone = await get(`${a.rpc.url}/health`);
    expect(alone.status).toBe(503);
    expect(alone.body.checks.peers?.ok).toBe(false);
    expect((await get(`${a.rpc.url}/live`)).status).toBe(200);
    // Let the chain grow so a late node has something to sync.
    await until("block 20", async () => (a.chain.head.number >= 20n ? true : undefined));

    const b = await RustChainNode.start(
      {
        datadir: await dir(),
        genesis,
        rpc: { host: "127.0.0.1", port: 0 },
        metrics: { host: "127.0.0.1", port: 0 },
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"], bootstrap: a.network!.multiaddrs().map(String) },
      },
      quiet,
    );
    nodes.push(b);
    const early = await get(`${b.rpc.url}/health`);
    expect(early.status).toBe(503);
    expect(early.body.checks.synced?.ok === false || early.body.checks.peers?.ok === false).toBe(true);
    // Following: synced, a peer, finality recent.
    const ready = await until("the late node to be ready", async () => {
      const r = await get(`${b.rpc.url}/health`);
      return r.status === 200 ? r : undefined;
    });
    expect(ready.body.ready).toBe(true);
    // Ready means within 8 slots of the clock (health.ts), not at the tip: the last blocks may still be arriving.
    expect(ready.body.checks.synced?.distanceSlots).toBeLessThanOrEqual(8);
    await until("the late node to pass block 20", async () => (b.chain.head.number >= 20n ? true : undefined));
    expect((await get(`${a.rpc.url}/health`)).status).toBe(200);

    // The metrics port answers the same endpoints, and the gauges are sampled at scrape time.
    const metricsBase = (n: RustChainNode) => n.metricsUrl!.replace(/\/metrics$/, "");
    expect((await get(`${metricsBase(b)}/health`)).status).toBe(200);
    const text = await (await fetch(b.metricsUrl!)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("rustchain_peers")).toBeGreaterThanOrEqual(1);
    expect(value("rustchain_syncing")).toBe(0);
    expect(value("rustchain_head_slot")).toBeGreaterThan(0);
    expect(value("rustchain_db_size_bytes")).toBeGreaterThan(0);
    expect(value("rustchain_disk_free_bytes")).toBeGreaterThan(0);
    expect(text).toMatch(/rustchain_reqresp_requests_total\{protocol="[a-z_]+",direction="out",result="ok"\} [1-9]/);
    const aText = await (await fetch(a.metricsUrl!)).text();
    expect(aText).toMatch(/rustchain_validator_duties_total\{duty="propose",result="done"\} [1-9]/);
    expect(aText).toMatch(/rustchain_validator_duties_total\{duty="attest",result="done"\} [1-9]/);
  }, 90_000);
});
