// Export → warp sync on real RocksDB datadirs and a real node: a one-validator chain with a few thousand funded
// accounts exports snapshots to a directory store (the same code path as S3; objectStore.test.ts covers the S3
// backend against s3rver); fresh datadirs warp-sync from it. Bad snapshots (tampered, swapped, truncated chunks, a
// forged manifest root, forged certificates) are each refused at the first bad chunk with nothing of it kept, and an
// interrupted sync resumes without fetching verified chunks again.

import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import {
  blake3,
  blsKeypairFromSeed,
  blsSign,
  bytesToHex,
  describeError,
  encodeHeader,
  type Genesis,
  hexToBytes,
  parseGenesis,
  RustChainError,
  rlpDecode,
  rlpList,
} from "@rustchain/shared";
import {
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
} from "@rustchain/shared/consensus/finalityCertificate";
import {
  attestationSigningRoot,
  decodeAggregateAttestation,
  decodeFinalizeAggregate,
  encodeAggregateAttestation,
  encodeFinalizeAggregate,
  finalizeSigningRoot,
} from "@rustchain/shared/consensus/votes";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import { encodeCertificatesChunk } from "@rustchain/shared/snapshot/chunks";
import type { ChunkEntry } from "@rustchain/shared/snapshot/manifest";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { Bucket, Database } from "../db/database.ts";
import { createNetwork, type Network } from "../network/network.ts";
import { networkOptions } from "../network/options.ts";
import { genesisOnlyHandlers } from "../network/reqRespCodec.ts";
import { RustChainNode } from "../node/node.ts";
import { defaultStateDbOptions, StateDb } from "../state/stateDb.ts";
import { createDirStore } from "./objectStore.ts";
import { peerSources, snapshotHandlers } from "./snapSync.ts";
import { type SnapshotSource, storeSource } from "./sources.ts";
import { defaultWarpSyncOptions, type WarpSyncOptions, type WarpSyncResult, warpSync } from "./warpSync.ts";

const silent = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const ACCOUNTS = 3000;
const minor = blsKeypairFromSeed(new Uint8Array(32).fill(42)).secretKey;
let genesis: Genesis;
let source: RustChainNode;
let snapshotDir: string;
let snapshotId: string;
const funded: string[] = [];

async function rpc(
  node: RustChainNode,
  method: string,
  params: unknown[],
): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  const res = await fetch(node.rpc.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
}

/** Warp-sync a fresh datadir (or `datadir`) from `sources`; returns the result or the typed error. */
async function sync(sources: SnapshotSource[], opts: Partial<WarpSyncOptions> = {}, datadir?: string) {
  const dir = datadir ?? (await tempDir("rustchain-warp-"));
  const db = await Database.open(`${dir}/chaindata`);
  const state = new StateDb(defaultStateDbOptions, { db });
  try {
    const result = await warpSync(
      { ...defaultWarpSyncOptions, attempts: 2, ...opts },
      { db, state, genesis, sources, crypto: nativeCertificateCrypto, logger: silent },
    ).catch((e: unknown) => e);
    const markers: number[] = [];
    for await (const [k] of db.range(Bucket.warpSync)) markers.push(new DataView(k.buffer, k.byteOffset).getUint32(0));
    const flatAccounts = await countBucket(db, Bucket.flatAccounts);
    return { dir, result, markers, flatAccounts };
  } finally {
    await db.close();
  }
}

async function countBucket(db: Database, bucket: (typeof Bucket)[keyof typeof Bucket]): Promise<number> {
  let n = 0;
  for await (const _ of db.range(bucket)) n++;
  return n;
}

function codeOf(e: unknown): string | undefined {
  return e instanceof RustChainError ? (e.type as { code: string }).code : undefined;
}

/**
 * A copy of the snapshot whose first certificate is rewritten by `mutate`; the chunk is re-encoded and the manifest
 * updated to match, so only the certificate check can catch it.
 */
async function forgeFirstCertificate(mutate: (c: FinalityCertificate) => FinalityCertificate): Promise<string> {
  const copy = await copySnapshot();
  const entry = copy.manifest.chunks[0];
  const file = join(copy.chunkDir, copy.chunkFiles[0] as string);
  const raw = new Uint8Array(zstdDecompressSync(await readFile(file)));
  const certs = rlpList(rlpList(rlpDecode(raw), "chunk")[1], "certificates") as Uint8Array[];
  certs[0] = encodeFinalityCertificate(mutate(decodeFinalityCertificate(certs[0] as Uint8Array)));
  const newRaw = encodeCertificatesChunk(certs);
  const stored = zstdCompressSync(newRaw);
  await rm(file);
  const newEntry = { ...entry, hash: bytesToHex(blake3(stored)), size: stored.length, rawSize: newRaw.length };
  copy.manifest.chunks[0] = newEntry;
  await writeFile(join(copy.chunkDir, `000000-${newEntry.hash.slice(2)}.zst`), stored);
  await writeFile(copy.manifestPath, JSON.stringify(copy.manifest));
  return copy.dir;
}

/** Every aggregate of `c` signed again by `secretKey` alone, over the same votes (with other participant `bits`). */
function resign(c: FinalityCertificate, secretKey: Uint8Array, bits?: Uint8Array): FinalityCertificate {
  const chainId = genesis.params.chainId;
  return {
    ...c,
    aggregates: c.aggregates.map((enc) => {
      if (c.kind === "fast") {
        const agg = decodeFinalizeAggregate(enc);
        const signature = blsSign(secretKey, finalizeSigningRoot(blake3, chainId, agg.checkpoint));
        return encodeFinalizeAggregate({ ...agg, bits: bits ?? agg.bits, signature });
      }
      const agg = decodeAggregateAttestation(enc);
      const signature = blsSign(secretKey, attestationSigningRoot(blake3, chainId, agg.data));
      return encodeAggregateAttestation({ ...agg, bits: bits ?? agg.bits, signature });
    }),
  };
}

/** A node started on `datadir` has, at its head, the state root the source node has at that block. */
async function expectSourceStateRoot(datadir: string): Promise<void> {
  const node = await RustChainNode.start({ datadir, genesis, rpc: { host: "127.0.0.1", port: 0 } }, silent);
  try {
    const number = node.chain.head.number;
    const sourceHeader = await source.chain.getHeader((await source.chain.canonicalHash(number)) as Uint8Array);
    expect(bytesToHex(node.chain.head.stateRoot)).toBe(bytesToHex(sourceHeader?.stateRoot as Uint8Array));
  } finally {
    await node.stop();
  }
}

/** A copy of the snapshot directory to tamper with, and its manifest. */
async function copySnapshot() {
  const dir = await tempDir("rustchain-snapcopy-");
  await cp(snapshotDir, dir, { recursive: true });
  const manifestPath = join(dir, snapshotId, "manifest.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
  const chunkDir = join(dir, snapshotId, "chunks");
  const chunkFiles = (await readdir(chunkDir)).sort();
  return { dir, manifestPath, manifest, chunkDir, chunkFiles };
}

beforeAll(async () => {
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(41));
  // A second validator with a stake of 1 wei: the running one holds all but nothing of the weight, so it finalizes
  // alone, and the test can sign votes for a certificate that carries far less than 2/3.
  const json = devnetGenesis(
    [
      { secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT },
      { secretKey: minor, feeRecipient: DEVNET_FEE_RECIPIENT },
    ],
    250,
  );
  (json.validators[1] as { stake: string }).stake = "0x1";
  for (let i = 0; i < ACCOUNTS; i++) {
    const address = `0x${(0x1000000 + i * 7919).toString(16).padStart(40, "0")}`;
    json.alloc[address] = { balance: `0x${(1_000_000n + BigInt(i)).toString(16)}` };
    funded.push(address);
  }
  genesis = parseGenesis(json);
  snapshotDir = await tempDir("rustchain-snapshots-");
  const datadir = await tempDir("rustchain-snapsrc-");
  source = await RustChainNode.start(
    {
      datadir,
      genesis,
      secretKey: validator.secretKey,
      rpc: { host: "127.0.0.1", port: 0 },
      // Small chunks, so even this state spans many chunks of every kind.
      snapshots: { every: 4, keep: 2, stores: [createDirStore(snapshotDir)], export: { chunkBytes: 16 * 1024 } },
    },
    silent,
  );
  for (let i = 0; i < 200 && (source.snapshots?.exported ?? 0) < 1; i++) await sleep(100);
  // One snapshot is enough; the chain goes on without exporting (or pruning) more.
  await source.snapshots?.stop();
  const ids = (await readdir(snapshotDir)).sort();
  snapshotId = ids.at(-1) as string;
  expect(snapshotId).toMatch(/^\d{12}-[0-9a-f]{8}$/);
}, 60_000);

afterAll(async () => {
  await source?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("warp sync from an exported snapshot", () => {
  it("restores the certified state: a node started on it answers balances, storage and proofs exactly as the source", async () => {
    const { dir, result } = await sync([storeSource(createDirStore(snapshotDir))], { snapshotId });
    if (result instanceof Error) throw result;
    const synced = result as WarpSyncResult;
    expect(synced.id).toBe(snapshotId);
    const number = synced.number;
    const node = await RustChainNode.start({ datadir: dir, genesis, rpc: { host: "127.0.0.1", port: 0 } }, silent);
    try {
      expect(node.chain.head.number).toBe(number);
      const sourceHash = await source.chain.canonicalHash(number);
      expect(bytesToHex(node.chain.headHash)).toBe(bytesToHex(sourceHash as Uint8Array));
      const tag = `0x${number.toString(16)}`;
      for (const address of [...funded.filter((_, i) => i % 300 === 0), DEVNET_FEE_RECIPIENT]) {
        const [a, b] = await Promise.all([
          rpc(source, "eth_getBalance", [address, tag]),
          rpc(node, "eth_getBalance", [address, "latest"]),
        ]);
        expect(b.result).toEqual(a.result);
      }
      const registry = "0x0000000000000000000000000000000000000100";
      const registryCode = await rpc(node, "eth_getProof", [registry, [], "latest"]);
      expect(registryCode.error).toBeUndefined();
      const slot = `0x${"0".repeat(63)}0`;
      for (const method of ["eth_getStorageAt", "eth_getProof"]) {
        const params = method === "eth_getProof" ? [funded[7], [slot], tag] : [funded[7], slot, tag];
        const [a, b] = await Promise.all([
          rpc(source, method, params),
          rpc(node, method, [...params.slice(0, -1), "latest"]),
        ]);
        expect(b.result).toEqual(a.result);
      }
      // History before the snapshot: headers yes, bodies no, with an error that names the first available block.
      const old = await rpc(node, "eth_getBlockByNumber", ["0x1", false]);
      expect(old.error?.code).toBe(4444);
      expect(old.error?.message).toContain(`first available block is ${number + 1n}`);
    } finally {
      await node.stop();
    }
  }, 60_000);

  it("refuses a tampered chunk at once and keeps nothing of it", async () => {
    const copy = await copySnapshot();
    const accountsAt = copy.manifest.chunks.findIndex((c: { kind: string }) => c.kind === "accounts");
    const file = join(copy.chunkDir, copy.chunkFiles[accountsAt] as string);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);
    const { result, markers } = await sync([storeSource(createDirStore(copy.dir))], { snapshotId });
    expect(codeOf(result)).toBe("SNAPSHOT_CHUNK_HASH_MISMATCH");
    expect((result as RustChainError<{ code: string; index: number }>).type.index).toBe(accountsAt);
    expect(markers).not.toContain(accountsAt);
  }, 30_000);

  it("refuses swapped and truncated chunks", async () => {
    const swapped = await copySnapshot();
    const a = swapped.manifest.chunks.findIndex((c: { kind: string }) => c.kind === "accounts");
    const [fa, fb] = [swapped.chunkFiles[a] as string, swapped.chunkFiles[a + 1] as string];
    const [ba, bb] = await Promise.all([readFile(join(swapped.chunkDir, fa)), readFile(join(swapped.chunkDir, fb))]);
    await Promise.all([writeFile(join(swapped.chunkDir, fa), bb), writeFile(join(swapped.chunkDir, fb), ba)]);
    const s = await sync([storeSource(createDirStore(swapped.dir))], { snapshotId, concurrency: 1 });
    expect(codeOf(s.result)).toBe("SNAPSHOT_CHUNK_HASH_MISMATCH");
    expect(s.markers).not.toContain(a);

    const truncated = await copySnapshot();
    const last = truncated.chunkFiles.length - 1;
    const f = join(truncated.chunkDir, truncated.chunkFiles[last] as string);
    await writeFile(f, (await readFile(f)).subarray(0, 10));
    const t = await sync([storeSource(createDirStore(truncated.dir))], { snapshotId });
    expect(["SNAPSHOT_CHUNK_HASH_MISMATCH", "OBJECT_TOO_LARGE"]).toContain(codeOf(t.result));
    expect(t.markers).not.toContain(last);
  }, 30_000);

  it("refuses a manifest whose block or state root is not the certified one", async () => {
    // A forged state root in the header: the header no longer hashes to the block hash.
    const copy = await copySnapshot();
    const forged = { ...copy.manifest, stateRoot: `0x${"ab".repeat(32)}` };
    await writeFile(copy.manifestPath, JSON.stringify(forged));
    const r1 = await sync([storeSource(createDirStore(copy.dir))], { snapshotId });
    expect(codeOf(r1.result)).toBe("SNAPSHOT_MANIFEST_INVALID");

    // A consistent forgery (header, hash and root changed together): no certificate chain ends at that block.
    const { decodeHeader, blockHash } = await import("@rustchain/shared");
    const header = decodeHeader(hexToBytes(copy.manifest.block.header));
    const fake = { ...header, stateRoot: new Uint8Array(32).fill(0xab) };
    const consistent = {
      ...copy.manifest,
      stateRoot: bytesToHex(fake.stateRoot),
      block: { ...copy.manifest.block, header: bytesToHex(encodeHeader(fake)), hash: bytesToHex(blockHash(fake)) },
    };
    await writeFile(copy.manifestPath, JSON.stringify(consistent));
    const r2 = await sync([storeSource(createDirStore(copy.dir))], { snapshotId });
    expect(codeOf(r2.result)).toBe("SNAPSHOT_CERTIFICATE_INVALID");
    expect(r2.flatAccounts).toBe(0);
  }, 30_000);

  it("refuses a certificate below 2/3 of the weight, and one signed by unknown keys", async () => {
    // The votes of the 1-wei validator alone, correctly signed: far below 2/3 of the weight.
    const minority = await forgeFirstCertificate((c) => resign(c, minor, Uint8Array.of(2)));
    const r1 = await sync([storeSource(createDirStore(minority))], { snapshotId });
    expect(codeOf(r1.result)).toBe("SNAPSHOT_CERTIFICATE_INVALID");
    expect(describeError(r1.result)).toContain("CERT_INSUFFICIENT_WEIGHT");
    expect(r1.flatAccounts).toBe(0);
    // The same votes signed by a key outside the validator set.
    const stranger = blsKeypairFromSeed(new Uint8Array(32).fill(99)).secretKey;
    const resigned = await forgeFirstCertificate((c) => resign(c, stranger));
    const r2 = await sync([storeSource(createDirStore(resigned))], { snapshotId });
    expect(codeOf(r2.result)).toBe("SNAPSHOT_CERTIFICATE_INVALID");
    expect(describeError(r2.result)).toContain("CERT_BAD_SIGNATURE");
    expect(r2.flatAccounts).toBe(0);
  }, 30_000);

  it("verifies from a weak-subjectivity checkpoint instead of genesis, and refuses one the snapshot does not hold", async () => {
    // A certified checkpoint block of the source chain, below the snapshot's block.
    const number = BigInt(snapshotId.slice(0, 12));
    const certs = (await rpc(source, "rustchain_getFinalityCertificates", ["0x1", "0x40"])).result as string[];
    const below = certs
      .map((c) => decodeFinalityCertificate(hexToBytes(c)))
      .filter((c) => c.header.number > 0n && c.header.number < number);
    const decoded = below[0] as FinalityCertificate;
    expect(decoded).toBeDefined();
    const checkpoint = { number: decoded.header.number, hash: hexToBytes(decoded.checkpoint.root) };
    const ok = await sync([storeSource(createDirStore(snapshotDir))], { snapshotId, checkpoint });
    if (ok.result instanceof Error) throw new Error(describeError(ok.result));
    expect((ok.result as WarpSyncResult).number).toBe(number);

    const unknown = { number: checkpoint.number, hash: new Uint8Array(32).fill(7) };
    const bad = await sync([storeSource(createDirStore(snapshotDir))], { snapshotId, checkpoint: unknown });
    expect(codeOf(bad.result)).toBe("SNAPSHOT_WRONG_CHAIN");
    expect(bad.flatAccounts).toBe(0);
  }, 30_000);

  it("resumes an interrupted sync without fetching verified chunks again", async () => {
    const store = storeSource(createDirStore(snapshotDir));
    let fetched = 0;
    const failing: SnapshotSource = {
      ...store,
      chunk: async (id, entry, signal) => {
        if (++fetched > 8) throw new Error("connection lost");
        return store.chunk(id, entry, signal);
      },
    };
    const first = await sync([failing], { snapshotId, concurrency: 1, attempts: 1 });
    expect(codeOf(first.result)).toBe("SNAPSHOT_INCOMPLETE");
    expect(first.markers.length).toBeGreaterThan(0);

    const requested: number[] = [];
    const counting: SnapshotSource = {
      ...store,
      chunk: async (id, entry, signal) => {
        requested.push(entry.index);
        return store.chunk(id, entry, signal);
      },
    };
    const second = await sync([counting], { snapshotId }, first.dir);
    if (second.result instanceof Error) throw second.result;
    const result = second.result as { downloaded: number; resumed: number };
    for (const index of first.markers) expect(requested).not.toContain(index);
    expect(result.resumed).toBe(first.markers.length);
    expect(result.downloaded + result.resumed).toBe(requested.length + first.markers.length);
    await expectSourceStateRoot(first.dir);
  }, 60_000);
});

describe("snap sync from peers (libp2p on 127.0.0.1)", () => {
  const networks: Network[] = [];
  afterAll(async () => {
    await Promise.allSettled(networks.map((n) => n.stop()));
  });

  /** A libp2p node serving the snapshots in `dir` (or nothing), bootstrapped from `bootstrap`. */
  async function peer(dir: string | undefined, bootstrap: string[] = []): Promise<Network> {
    const genesisHash = new Uint8Array(32);
    const net = createNetwork(
      networkOptions({
        listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap,
        bootstrapDelayMs: 50,
        dht: { enabled: false },
      }),
      {
        logger: silent,
        chainId: genesis.params.chainId,
        handlers: {
          ...genesisOnlyHandlers(genesis.params.chainId, genesisHash),
          ...snapshotHandlers(dir ? createDirStore(dir) : undefined),
        },
      },
    );
    await net.start();
    networks.push(net);
    return net;
  }

  it("fetches from several peers at once, reaches the same root, and scores down a peer that serves a bad chunk", async () => {
    const honest = await peer(snapshotDir);
    // The liar serves the same manifest, but every one of its account chunks has been altered (so whichever of
    // them it is asked for, it lies).
    const lie = await copySnapshot();
    const victims: number[] = [];
    for (const [i, c] of (lie.manifest.chunks as { kind: string }[]).entries()) {
      if (c.kind !== "accounts") continue;
      victims.push(i);
      const file = join(lie.chunkDir, lie.chunkFiles[i] as string);
      const bytes = await readFile(file);
      bytes[10] = (bytes[10] as number) ^ 0x01;
      await writeFile(file, bytes);
    }
    const victim = victims[0] as number;
    const liar = await peer(lie.dir);
    const client = await peer(undefined, [honest.multiaddrs()[0] as string, liar.multiaddrs()[0] as string]);
    const peers = await peerSources(client, silent, { want: 2, settleMs: 10_000, waitMs: 10_000 });
    expect(peers).toHaveLength(2);
    // S3 (here its directory twin) and peers together.
    const sources = [...peers, storeSource(createDirStore(snapshotDir))];

    const served = new Map<string, number>();
    const counted = sources.map((s) => ({
      ...s,
      chunk: async (id: string, entry: ChunkEntry) => {
        served.set(s.name, (served.get(s.name) ?? 0) + 1);
        return s.chunk(id, entry);
      },
    }));
    const { dir, result } = await sync(counted, { snapshotId, attempts: 4 });
    if (result instanceof Error) throw new Error(describeError(result));
    // Every source served chunks; the liar's bad chunks were refused and fetched elsewhere.
    expect([...served.values()].every((n) => n > 0)).toBe(true);
    expect(client.peerScore(liar.peerId)).toBeLessThan(0);
    expect(client.peerScore(honest.peerId)).toBe(0);
    await expectSourceStateRoot(dir);

    // The liar alone: refused at its bad chunk, which is not kept.
    const alone = await peer(undefined, [liar.multiaddrs()[0] as string]);
    const only = await peerSources(alone, silent, { want: 1, settleMs: 0, waitMs: 10_000 });
    const r = await sync(only, { snapshotId });
    expect(codeOf(r.result)).toBe("SNAPSHOT_CHUNK_HASH_MISMATCH");
    expect(r.markers).not.toContain(victim);
    expect(alone.peerScore(liar.peerId)).toBeLessThan(0);
  }, 90_000);
});
