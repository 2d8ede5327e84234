// Real libp2p nodes over TCP on 127.0.0.1 (free ports): gossip delivery and validation outcomes, peer scoring and
// bans, req/resp round trips and malformed traffic, the per-prefix inbound limit, and peer key persistence.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PeerId, Stream } from "@libp2p/interface";
import { blake3, bytesToHex, rlpEncode } from "@rustchain/shared";
import * as lp from "it-length-prefixed";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GossipValidationError, NetworkError, ReqRespError } from "./errors.ts";
import type { GossipValidator } from "./gossipValidatorFn.ts";
import { createNetwork, type Network } from "./network.ts";
import { type NetworkOptionsInput, networkOptions } from "./options.ts";
import { PEER_KEY_FILE } from "./peerKey.ts";
import { type ReqRespHandlers, reqRespProtocol, type Status } from "./reqRespCodec.ts";
import type { GossipTopicName } from "./topics.ts";

const chainId = 7777n;
const logger = pino({ level: "silent" });

const blocks = Array.from({ length: 20 }, (_, n) => new TextEncoder().encode(`block ${n} `.repeat(n + 1)));
const blocksByHash = new Map<string, Uint8Array>(blocks.map((b) => [bytesToHex(blake3(b)), b]));
const status: Status = {
  chainId,
  genesisHash: blake3(blocks[0]),
  headHash: blake3(blocks[19]),
  headNumber: 19n,
  finalizedHash: blake3(blocks[15]),
  finalizedNumber: 15n,
  finalizedSlot: 17n,
};
/** A served snapshot: its manifest stand-in and three chunks of 1-3 MiB (over the 10 s / 4 MiB block limits' reach). */
const SNAPSHOT = "000000000012-abcdef01";
const snapshotChunkBytes = (index: number) => new Uint8Array((index + 1) * 1024 * 1024).fill(index + 1);
const handlers: ReqRespHandlers = {
  status: async () => status,
  snapshotManifest: async (id) =>
    id === undefined || id === SNAPSHOT ? new TextEncoder().encode(`{"id":"${SNAPSHOT}"}`) : undefined,
  snapshotChunk: async (id, index) => (id === SNAPSHOT && index < 3 ? snapshotChunkBytes(index) : undefined),
  blocksByRange: async (start, count) => blocks.slice(Number(start), Number(start) + count),
  blocksByRoot: async (hashes) =>
    hashes.flatMap((h) => {
      const b = blocksByHash.get(bytesToHex(h));
      return b === undefined ? [] : [b];
    }),
  // Stand-ins for encoded certificates at slots 10, 12, 14, ...: the protocol carries bytes; the verifier judges them.
  finalityCertificates: async (fromSlot, count) =>
    Array.from({ length: 10 }, (_, i) => 10 + 2 * i)
      .filter((slot) => slot >= Number(fromSlot))
      .slice(0, count)
      .map((slot) => new Uint8Array(100 + slot).fill(slot)),
};

interface Received {
  topic: GossipTopicName;
  data: Uint8Array;
  from: PeerId;
}

const started: Network[] = [];
const dirs: string[] = [];

async function startNode(overrides: NetworkOptionsInput = {}): Promise<{ net: Network; received: Received[] }> {
  const net = createNetwork(networkOptions({ bootstrapDelayMs: 50, inboundConnectionThreshold: 100, ...overrides }), {
    logger,
    handlers,
    chainId,
  });
  await net.start();
  started.push(net);
  const received: Received[] = [];
  net.onGossip((topic, data, from) => {
    received.push({ topic, data, from });
  });
  return { net, received };
}

/** Poll until cond() holds; a bounded loop that fails the test with `what` on timeout. */
async function waitFor(what: string, cond: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const has = (peers: PeerId[], p: PeerId) => peers.some((q) => q.equals(p));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ReqRespError || e instanceof NetworkError) return e.type.code;
    throw e;
  }
  throw new Error("expected a rejection");
}

/** Count validator calls; behave as `verdict` says. */
function validator(verdict: "ACCEPT" | "IGNORE" | "REJECT", calls: { n: number }): GossipValidator {
  return async () => {
    calls.n++;
    if (verdict !== "ACCEPT") throw new GossipValidationError(verdict, { code: `TEST_${verdict}` });
  };
}

describe("network (3 nodes on 127.0.0.1)", () => {
  let a: Network;
  let b: Network;
  let c: Network;
  let recvA: Received[];
  let recvB: Received[];
  let recvC: Received[];
  let datadirA: string;

  beforeAll(async () => {
    datadirA = await mkdtemp(join(tmpdir(), "rustchain-net-"));
    dirs.push(datadirA);
    ({ net: a, received: recvA } = await startNode({ datadir: datadirA }));
    const boot = [a.multiaddrs()[0]];
    // B gets a 1 KiB txs limit and C a ban threshold of -15 (two penalties), both used by the rejection tests.
    ({ net: b, received: recvB } = await startNode({ bootstrap: boot, gossipMaxBytes: { txs: 1024 } }));
    ({ net: c, received: recvC } = await startNode({
      bootstrap: boot,
      gossipMaxBytes: { txs: 1024 },
      peerScore: { banThreshold: -15 },
    }));
    for (const net of [a, b, c]) for (const t of ["blocks", "txs", "attestations"] as const) net.subscribe(t);
    await waitFor("bootstrap to A", () => has(b.peers(), a.peerId) && has(c.peers(), a.peerId));
    await c.dial(b.multiaddrs()[0]);
    await waitFor("full mesh of subscriptions", () =>
      (["blocks", "txs", "attestations"] as const).every(
        (t) => a.topicPeers(t).length === 2 && b.topicPeers(t).length === 2 && c.topicPeers(t).length === 2,
      ),
    );
  });

  afterAll(async () => {
    await Promise.allSettled(started.map((n) => n.stop()));
    await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("listens only on 127.0.0.1 and advertises /p2p/<peer id>", () => {
    for (const net of [a, b, c]) {
      for (const ma of net.multiaddrs()) {
        expect(ma).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
        expect(ma.endsWith(net.peerId.toString())).toBe(true);
      }
    }
    expect(b.peers().length).toBe(2);
  });

  it("gossips a block to every node, accepted by the validators", async () => {
    const calls = { n: 0 };
    for (const net of [b, c]) net.setValidator("blocks", validator("ACCEPT", calls));
    const block = new TextEncoder().encode("a gossiped block");
    expect(await a.publish("blocks", block)).toBe(2);
    await waitFor("block at B and C", () => recvB.length === 1 && recvC.length === 1);
    for (const r of [recvB[0], recvC[0]]) {
      expect(r.topic).toBe("blocks");
      expect(r.data).toEqual(block);
      expect(r.from.equals(a.peerId)).toBe(true);
    }
    expect(calls.n).toBe(2);
    expect(recvA).toHaveLength(0); // own messages are not delivered back
    expect(b.peerScore(a.peerId)).toBe(0);
  });

  it("IGNORE drops the message without penalising the sender", async () => {
    const calls = { n: 0 };
    for (const net of [b, c]) net.setValidator("attestations", validator("IGNORE", calls));
    await a.publish("attestations", new TextEncoder().encode("an attestation we cannot judge yet"));
    await waitFor("validators ran", () => calls.n === 2);
    await sleep(150);
    expect(recvB.filter((r) => r.topic === "attestations")).toHaveLength(0);
    expect(recvC.filter((r) => r.topic === "attestations")).toHaveLength(0);
    expect(b.peerScore(a.peerId)).toBe(0);
    expect(c.peerScore(a.peerId)).toBe(0);
    expect(b.gossipScore(a.peerId)).toBeGreaterThanOrEqual(0);
  });

  it("REJECTs an oversized message before validation and lowers the sender's score", async () => {
    const calls = { n: 0 };
    for (const net of [b, c]) net.setValidator("txs", validator("ACCEPT", calls));
    // A's own txs limit is the default 1 MiB, so it publishes what B and C (1 KiB limit) must refuse.
    await a.publish("txs", new Uint8Array(2048).fill(7));
    await waitFor("penalty at B and C", () => b.peerScore(a.peerId) < 0 && c.peerScore(a.peerId) < 0);
    await sleep(100);
    expect(calls.n).toBe(0);
    expect(recvB.filter((r) => r.topic === "txs")).toHaveLength(0);
    expect(recvC.filter((r) => r.topic === "txs")).toHaveLength(0);
    expect(b.peerScore(a.peerId)).toBeCloseTo(-10, 0);
    // gossipsub's own score counts the invalid delivery too (its score cache refreshes within a heartbeat).
    await waitFor("gossipsub score drop", () => b.gossipScore(a.peerId) < 0);
    // The publisher refuses to send what exceeds its own limit.
    expect(await codeOf(b.publish("txs", new Uint8Array(2048)))).toBe("PUBLISH_TOO_LARGE");
  });

  it("a validator's REJECT is not delivered, costs score, and bans a peer below the threshold", async () => {
    const calls = { n: 0 };
    for (const net of [b, c]) net.setValidator("blocks", validator("REJECT", calls));
    await a.publish("blocks", new TextEncoder().encode("an invalid block"));
    await waitFor("validators ran", () => calls.n === 2);
    await waitFor("second penalty at B", () => b.peerScore(a.peerId) < -19);
    expect(recvB.filter((r) => r.topic === "blocks")).toHaveLength(1); // only the valid block of the first test
    expect(recvC.filter((r) => r.topic === "blocks")).toHaveLength(1);
    // B's ban threshold is the default -50: A stays connected. C's is -15: A is banned and disconnected.
    expect(b.isBanned(a.peerId)).toBe(false);
    expect(has(b.peers(), a.peerId)).toBe(true);
    expect(c.isBanned(a.peerId)).toBe(true);
    await waitFor("C to drop A", () => !has(c.peers(), a.peerId));
    // C's gater refuses A once A's identity is known (after the Noise handshake), so A may briefly see a connection.
    await a.dial(c.multiaddrs()[0]).catch(() => undefined);
    await sleep(100);
    expect(has(c.peers(), a.peerId)).toBe(false);
    await waitFor("A's refused connection to close", () => !has(a.peers(), c.peerId));
    expect(await codeOf(c.dial(a.multiaddrs()[0]))).toBe("DIAL_FAILED");
  });

  it("status, blocks_by_range, blocks_by_root and finality_certificates round-trip through the injected handlers", async () => {
    expect(await b.requestStatus(a.peerId)).toEqual(status);
    const range = await b.requestBlocksByRange(a.peerId, 3n, 5);
    expect(range).toEqual(blocks.slice(3, 8));
    // Past the head the server returns what it has.
    expect(await b.requestBlocksByRange(a.peerId, 18n, 10)).toEqual(blocks.slice(18));
    const unknown = new Uint8Array(32).fill(1);
    const byRoot = await b.requestBlocksByRoot(a.peerId, [blake3(blocks[2]), unknown, blake3(blocks[9])]);
    expect(byRoot).toEqual([blocks[2], blocks[9]]);
    // finality_certificates: from a slot on, in order, at most `count`; over 64 is refused before sending.
    const certs = await b.requestFinalityCertificates(a.peerId, 13n, 3);
    expect(certs.map((c) => c[0])).toEqual([14, 16, 18]);
    expect(certs.map((c) => c.length)).toEqual([114, 116, 118]);
    expect(await codeOf(b.requestFinalityCertificates(a.peerId, 0n, 65))).toBe("REQ_INVALID_REQUEST");
    expect(a.peerScore(b.peerId)).toBe(0);
    expect(b.peerScore(a.peerId)).toBeCloseTo(-20, 0); // unchanged: only gossip penalties so far
  });

  it("snapshot_manifest and snapshot_chunk carry megabyte payloads; what a peer lacks is an empty answer", async () => {
    const manifest = await b.requestSnapshotManifest(a.peerId, undefined);
    expect(new TextDecoder().decode(manifest)).toContain(SNAPSHOT);
    expect(await b.requestSnapshotManifest(a.peerId, "000000000013-abcdef01")).toBeUndefined();
    expect(await b.requestSnapshotChunk(a.peerId, SNAPSHOT, 3)).toBeUndefined();
    // One request at a time per peer (snap sync spreads its parallelism over peers).
    const chunks = [];
    for (const i of [0, 1, 2]) chunks.push(await b.requestSnapshotChunk(a.peerId, SNAPSHOT, i));
    expect(chunks.map((c) => c?.length)).toEqual([1, 2, 3].map((n) => n * 1024 * 1024));
    expect(chunks[2]).toEqual(snapshotChunkBytes(2));
    // A malformed snapshot id is refused before it is sent.
    expect(await codeOf(b.requestSnapshotChunk(a.peerId, "../../etc/passwd", 0))).toBe("REQ_INVALID_REQUEST");
  });

  it("refuses more than 64 blocks per request, locally and on the wire", async () => {
    expect(await codeOf(b.requestBlocksByRange(a.peerId, 0n, 65))).toBe("REQ_INVALID_REQUEST");
    expect(await codeOf(b.requestBlocksByRoot(a.peerId, Array(65).fill(blake3(blocks[1]))))).toBe(
      "REQ_INVALID_REQUEST",
    );
    expect(await codeOf(b.requestBlocksByRange(a.peerId, 0n, 0))).toBe("REQ_INVALID_REQUEST");
    expect(a.peerScore(b.peerId)).toBe(0); // nothing was sent

    // A raw client asking for 65 blocks: the server resets the stream and penalises it.
    const stream = await rawRequest(b, a.peerId, "blocks_by_range", lp.encode.single(rlpEncode([0n, 65n])).subarray());
    await waitFor("stream reset", () => stream.status !== "open");
    expect(stream.status).not.toBe("closed");
    await waitFor("penalty at A", () => a.peerScore(b.peerId) < 0);
    expect(a.peerScore(b.peerId)).toBeCloseTo(-10, 0);
  });

  it("malformed request frames reset the stream and lower the requester's score", async () => {
    const before = a.peerScore(b.peerId);
    // A length prefix claiming 1 MiB, far over the 4 KiB request limit.
    const hugePrefix = Uint8Array.of(0x80, 0x80, 0x40);
    const s1 = await rawRequest(b, a.peerId, "status", hugePrefix);
    await waitFor("stream reset", () => s1.status !== "open");
    await waitFor("penalty", () => a.peerScore(b.peerId) < before - 9);
    // A frame whose RLP is garbage.
    const s2 = await rawRequest(b, a.peerId, "blocks_by_root", lp.encode.single(Uint8Array.of(0xf9, 0xff)).subarray());
    await waitFor("stream reset", () => s2.status !== "open");
    await waitFor("second penalty", () => a.peerScore(b.peerId) < before - 19);
    // A truncated frame: prefix says 10 bytes, 3 arrive, then the writer closes.
    const s3 = await rawRequest(b, a.peerId, "status", Uint8Array.of(10, 1, 2, 3));
    await waitFor("stream reset", () => s3.status !== "open");
    await waitFor("third penalty", () => a.peerScore(b.peerId) < before - 29);
    // The honest path still works afterwards.
    expect(await b.requestStatus(a.peerId)).toEqual(status);
  });

  it("malformed responses fail with REQ_INVALID_RESPONSE and lower the responder's score", async () => {
    // C turns into a broken server: garbage status, and more blocks than asked for.
    await c.libp2p.handle(
      reqRespProtocol(chainId, "status"),
      (stream: Stream) => {
        stream.send(lp.encode.single(Uint8Array.of(0, 0xc2, 0x01)));
        void stream.close();
      },
      { force: true },
    );
    await c.libp2p.handle(
      reqRespProtocol(chainId, "blocks_by_range"),
      (stream: Stream) => {
        for (let i = 0; i < 3; i++) stream.send(lp.encode.single(Uint8Array.of(0, i)));
        void stream.close();
      },
      { force: true },
    );
    expect(await codeOf(b.requestStatus(c.peerId))).toBe("REQ_INVALID_RESPONSE");
    expect(b.peerScore(c.peerId)).toBeCloseTo(-10, 0);
    expect(await codeOf(b.requestBlocksByRange(c.peerId, 0n, 2))).toBe("REQ_INVALID_RESPONSE");
    expect(b.peerScore(c.peerId)).toBeCloseTo(-20, 0);
  });
});

/** Open a req/resp stream from `from` to `to`, write raw bytes, and half-close. */
async function rawRequest(
  from: Network,
  to: PeerId,
  name: "status" | "blocks_by_range" | "blocks_by_root",
  bytes: Uint8Array,
) {
  const stream = await from.libp2p.dialProtocol(to, reqRespProtocol(chainId, name));
  stream.send(bytes);
  await stream.close().catch(() => {});
  return stream;
}

describe("peer discovery beyond the bootstrap list", () => {
  afterAll(async () => {
    await Promise.allSettled(started.map((n) => n.stop()));
  });

  /** A hub and three nodes that each know only the hub. */
  async function hubAndSpokes(overrides: NetworkOptionsInput) {
    const { net: hub } = await startNode(overrides);
    const boot = [hub.multiaddrs()[0]];
    const spokes = (await Promise.all([0, 1, 2].map(() => startNode({ bootstrap: boot, ...overrides })))).map(
      (n) => n.net,
    );
    await waitFor("every node to reach the hub", () => spokes.every((s) => has(s.peers(), hub.peerId)));
    return { hub, spokes };
  }
  const meshed = (spokes: Network[]) => spokes.every((s) => spokes.every((t) => t === s || has(s.peers(), t.peerId)));

  it("nodes that only know the hub find each other through the DHT and connect", async () => {
    const { spokes } = await hubAndSpokes({ discovery: { intervalMs: 300 } });
    await waitFor("the nodes to connect to each other", () => meshed(spokes), 20_000);
    expect(spokes.reduce((n, s) => n + s.discoveredDials, 0)).toBeGreaterThanOrEqual(2);
  });

  it("without the DHT the nodes stay with the hub; with the target peer count met, discovery dials nobody", async () => {
    const off = await hubAndSpokes({ dht: { enabled: false }, discovery: { intervalMs: 300 } });
    // The DHT's own queries connect to the peers they ask, so the target is checked on our dial count alone.
    const full = await hubAndSpokes({ discovery: { intervalMs: 300, targetPeers: 1 } });
    await sleep(3_000);
    for (const s of off.spokes) expect(s.peers().map(String)).toEqual([off.hub.peerId.toString()]);
    for (const s of [...off.spokes, ...full.spokes]) expect(s.discoveredDials).toBe(0);
  });
});

describe("eclipse resistance and identity", () => {
  afterAll(async () => {
    await Promise.allSettled(started.map((n) => n.stop()));
    await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("refuses a 3rd inbound connection from the same /24 when the limit is 2", async () => {
    const { net: d } = await startNode({ maxInboundPerPrefix: 2, dht: { enabled: false } });
    const clients = await Promise.all([0, 1, 2].map(() => startNode({ dht: { enabled: false } })));
    const [x, y, z] = clients.map((n) => n.net);
    const target = d.multiaddrs()[0];
    await x.dial(target);
    await y.dial(target);
    expect(await codeOf(z.dial(target))).toBe("DIAL_FAILED");
    expect(d.refusedByPrefix).toBeGreaterThanOrEqual(1);
    expect(d.peers().length).toBe(2);
    // The limit counts open connections: once one closes, a new peer from the prefix gets in.
    await x.hangUp(d.peerId);
    let joined = false;
    for (let i = 0; i < 50 && !joined; i++) {
      joined = await z.dial(target).then(
        () => true,
        async () => {
          await sleep(50);
          return false;
        },
      );
    }
    expect(joined).toBe(true);
  });

  it("refuses to start with a bootstrap entry that is not a /p2p/ multiaddr (INVALID_MULTIADDR)", async () => {
    const net = createNetwork(networkOptions({ bootstrap: ["/ip4/127.0.0.1/tcp/1"] }), { logger, handlers, chainId });
    expect(await codeOf(net.start())).toBe("INVALID_MULTIADDR");
    expect(() => net.peers()).toThrow(NetworkError);
  });

  it("keeps its peer id across restarts via <datadir>/p2p-key (mode 0600)", async () => {
    const datadir = await mkdtemp(join(tmpdir(), "rustchain-key-"));
    dirs.push(datadir);
    const first = createNetwork(networkOptions({ datadir, dht: { enabled: false } }), { logger, handlers, chainId });
    await first.start();
    const id = first.peerId.toString();
    await first.stop();
    expect((await stat(join(datadir, PEER_KEY_FILE))).mode & 0o777).toBe(0o600);
    const second = createNetwork(networkOptions({ datadir, dht: { enabled: false } }), { logger, handlers, chainId });
    await second.start();
    started.push(second);
    expect(second.peerId.toString()).toBe(id);
    // And the same object restarts with the same id.
    await second.stop();
    await second.start();
    expect(second.peerId.toString()).toBe(id);
  });
});
