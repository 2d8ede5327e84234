// Bitswap between real libp2p nodes (network/network.ts) over TCP on 127.0.0.1: content added on one node is fetched
// by another by CID, verified and stored, also when the want came before the add; a peer that answers a want with bytes that do not hash to the CID is
// refused (the want times out, nothing is stored), while the same peer's honest blocks arrive.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bitswap, createBitswap } from "@helia/bitswap";
import { FsBlockstore } from "blockstore-fs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createNetwork, type Network } from "../network/network.ts";
import { networkOptions } from "../network/options.ts";
import { genesisOnlyHandlers } from "../network/reqRespCodec.ts";
import { CODEC_RAW } from "./blockVerifier.ts";
import { ContentStore } from "./contentStore.ts";
import { type ContentOptions, defaultContentOptions } from "./options.ts";
import { codeOf } from "./testSupport.ts";

const chainId = 7777n;
const logger = pino({ level: "silent" });
const networks: Network[] = [];
const stores: ContentStore[] = [];
const dirs: string[] = [];
let liar: { bitswap: Bitswap; disk: FsBlockstore } | undefined;

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bitswap-"));
  dirs.push(dir);
  return dir;
}

async function startNetwork(): Promise<Network> {
  const net = createNetwork(networkOptions({ dht: { enabled: false } }), {
    logger,
    handlers: genesisOnlyHandlers(chainId, new Uint8Array(32)),
    chainId,
  });
  await net.start();
  networks.push(net);
  return net;
}

async function startNode(overrides: Partial<ContentOptions> = {}): Promise<{ net: Network; store: ContentStore }> {
  const net = await startNetwork();
  const store = await ContentStore.open(
    { ...defaultContentOptions, dir: await tempDir(), ...overrides },
    { logger, libp2p: net.libp2p },
  );
  stores.push(store);
  return { net, store };
}

afterAll(async () => {
  await liar?.bitswap.stop();
  for (const s of stores) await s.close().catch(() => {});
  for (const n of networks) await n.stop().catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("content over bitswap", () => {
  it("a file added on node A is fetched by node B by CID, verified, and then held by B", async () => {
    const a = await startNode();
    const b = await startNode();
    await b.net.dial(a.net.multiaddrs()[0] as string);
    const model = randomBytes(3 * 1024 * 1024 + 123);
    const { cid } = await a.store.add(model);
    expect(await b.store.has(cid)).toBe(false);
    const fetched = await b.store.get(cid);
    expect(Buffer.from(fetched).equals(model)).toBe(true);
    // Now local: readable with the network out of the picture.
    expect(Buffer.from(await b.store.get(cid, { offline: true })).equals(model)).toBe(true);
    // And B serves it on: a third node that knows only B gets it from B.
    const c = await startNode();
    await c.net.dial(b.net.multiaddrs()[0] as string);
    const pin = await c.store.pin(cid);
    expect(pin.bytes).toBeGreaterThan(model.length);
    expect(Buffer.from(await c.store.get(cid, { offline: true })).equals(model)).toBe(true);
  }, 30_000);

  it("a want sent before the peer holds the block is answered as soon as the peer adds it", async () => {
    // The miner's case: it asks for the model before the publishing validator has added it. The serving side must
    // keep the want (bitswap retries a want only after the blockstore's NotFoundError) and send the block on add.
    const a = await startNode();
    const b = await startNode();
    await b.net.dial(a.net.multiaddrs()[0] as string);
    const data = randomBytes(2000);
    const { cid } = await (await startNode()).store.add(data); // the CID, computed on an unconnected node
    const pending = b.store.get(cid);
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.store.add(data)).toMatchObject({ cid });
    expect(Buffer.from(await pending).equals(data)).toBe(true);
  }, 30_000);

  it("bytes from a peer that do not hash to the CID are refused; the peer's honest blocks still arrive", async () => {
    // The liar: a plain bitswap peer over an unverified blockstore holding wrong bytes under a CID.
    const liarNet = await startNetwork();
    const disk = new FsBlockstore(join(await tempDir(), "blocks"));
    await disk.open();
    const bitswap = createBitswap({
      libp2p: liarNet.libp2p,
      blockstore: disk,
      routing: {
        name: "none",
        provide: async () => {},
        cancelReprovide: async () => {},
        findProviders: async function* () {},
        put: async () => {},
        get: async () => new Uint8Array(),
        findPeer: async (id) => ({ id, multiaddrs: [] }),
        getClosestPeers: async function* () {},
      },
      logger: liarNet.libp2p.logger,
      getHasher: () => sha256,
    });
    await bitswap.start();
    liar = { bitswap, disk };
    const honest = new TextEncoder().encode("honest weights");
    const honestCid = CID.createV1(CODEC_RAW, await sha256.digest(honest));
    await disk.put(honestCid, honest);
    const tamperedCid = CID.createV1(CODEC_RAW, await sha256.digest(new TextEncoder().encode("published weights")));
    await disk.put(tamperedCid, new TextEncoder().encode("poisoned weights!"));

    const b = await startNode({ fetchTimeoutMs: 2_000 });
    await b.net.dial(liarNet.multiaddrs()[0] as string);
    expect(Buffer.from(await b.store.get(honestCid.toString())).equals(Buffer.from(honest))).toBe(true);
    expect(await codeOf(b.store.get(tamperedCid.toString()))).toBe("CONTENT_FETCH_TIMEOUT");
    expect(await b.store.has(tamperedCid.toString())).toBe(false);
  }, 30_000);
});
