// The replication feed end to end: a real node pushes bundles to an HMAC-checking receiver in seq order with no gap;
// block bundles answer exactly what the node's own JSON-RPC answers; the pusher survives a receiver outage and resumes
// from the receiver's ackSeq; a reorg becomes a reorg bundle followed by the new branch; older bundles are rebuilt
// byte for byte; the pull endpoints answer the same bundles and refuse unauthenticated requests with 401.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  blsKeypairFromSeed,
  blsSign,
  bytesToHex,
  hexToBytes,
  parseGenesis,
  parseReplicationBundle,
  privateKeyToAddress,
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  type ReplicationBundle,
  type ReplicationFinality,
  replicationAuthHeaders,
  replicationBundleHash,
  signTransaction,
  verifyReplicationRequest,
} from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_KEYS, rpc, signedTransfer } from "../../../tests/support/devnet.ts";
import { startReplicatingNode } from "../../../tests/support/replicatingNode.ts";
import { BlockProducer } from "../chain/blockProducer.ts";
import { blockSigningRoot, Chain } from "../chain/chain.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { Bucket, Database, WriteBatch } from "../db/database.ts";
import { createInlineRecovery } from "../execution/senderRecovery.ts";
import { defaultMempoolOptions, Mempool } from "../mempool/mempool.ts";
import { ContractRuntime } from "../runtime/contractRuntime.ts";
import { defaultStateDbOptions, StateDb } from "../state/stateDb.ts";
import { chainFinality } from "./bundles.ts";
import { defaultReplicationFeedOptions, type FeedEntry, ReplicationFeed } from "./feed.ts";

const silent = pino({ level: "silent" });
const KEY = new Uint8Array(32).fill(0x5a);
const KEYS = DEV_KEYS.map(hexToBytes);
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-replication-"));
  dirs.push(dir);
  return dir;
}

const until = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/**
 * An ingest endpoint as the edge will run it: HMAC check, strict parse, apply only seq = ackSeq + 1, the same seq with
 * the same content is a no-op, with other content a 422; every authenticated answer carries ackSeq.
 */
class Receiver {
  applied: ReplicationBundle[] = [];
  hashes: string[] = [];
  /** seqs of every POST seen, in arrival order (retries and probes included). */
  seen: number[] = [];
  rejectedAuth = 0;
  private server: Server | undefined;
  port = 0;

  get ackSeq(): number {
    return this.applied.at(-1)?.seq ?? this.base;
  }
  /** The seq before the first applied bundle (the pusher's first probe decides where a fresh receiver starts). */
  base = -1;

  async listen(port = 0): Promise<string> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const answer = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      const auth = await verifyReplicationRequest(
        KEY,
        req.headers[REPLICATION_TIMESTAMP_HEADER] as string,
        req.headers[REPLICATION_SIGNATURE_HEADER] as string,
        body,
        Date.now(),
      );
      if (auth !== "ok") {
        this.rejectedAuth++;
        return answer(401, { error: auth });
      }
      const bundle = parseReplicationBundle(body);
      this.seen.push(bundle.seq);
      // A fresh receiver takes the feed from wherever the first bundle it sees begins.
      if (this.base < 0) this.base = bundle.seq - 1;
      const ack = this.ackSeq;
      if (bundle.seq <= ack) {
        const i = this.applied.findIndex((b) => b.seq === bundle.seq);
        const same = i < 0 || this.hashes[i] === (await replicationBundleHash(bundle));
        return answer(same ? 200 : 422, { ackSeq: ack });
      }
      if (bundle.seq !== ack + 1) return answer(409, { ackSeq: ack });
      this.applied.push(bundle);
      this.hashes.push(await replicationBundleHash(bundle));
      answer(200, { ackSeq: bundle.seq });
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

function expectConsecutive(bundles: ReplicationBundle[]) {
  bundles.forEach((b, i) => {
    if (i > 0) expect(b.seq, "seq order without a gap").toBe(bundles[i - 1]!.seq + 1);
  });
}

async function signedGet(url: string, pathAndQuery: string, headers?: Record<string, string>) {
  const h = headers ?? (await replicationAuthHeaders(KEY, pathAndQuery));
  const res = await fetch(`${url}${pathAndQuery}`, { headers: h });
  return { status: res.status, text: await res.text() };
}

describe("replication from a running node", () => {
  it("pushes every bundle in seq order, identical to JSON-RPC, through a receiver outage, and serves the pull endpoints", async () => {
    const receiver = new Receiver();
    cleanups.push(() => receiver.close());
    const ingest = await receiver.listen();
    const started = await startReplicatingNode({ key: KEY, seed: 11, pushTo: ingest });
    cleanups.push(() => started.dispose());
    const { node, genesis } = started;
    const url = node.rpc.url;
    const adminUrl = node.admin!.url;

    // Transfers so blocks carry transactions, receipts and state changes.
    const to = hexToBytes("0x00000000000000000000000000000000000c0f01");
    const send = async (key: number, nonce: bigint) => {
      const stx = signedTransfer(genesis.params.chainId, KEYS[key]!, nonce, to, 1000n + nonce);
      await rpc(url, "eth_sendRawTransaction", [bytesToHex(stx.raw)]);
      return bytesToHex(stx.hash);
    };
    const txHashes = [await send(1, 0n), await send(2, 0n), await send(1, 1n)];
    await until("transactions mined", async () => {
      for (const h of txHashes) if (!(await rpc(url, "eth_getTransactionReceipt", [h]))) return false;
      return true;
    });
    await until(
      "a few block bundles acknowledged",
      () => receiver.applied.filter((b) => b.kind === "block").length >= 4,
    );

    // The receiver goes away for a while; blocks keep coming; it comes back having lost its last two bundles.
    await receiver.close();
    const ackBefore = receiver.ackSeq;
    const headBefore = node.replication!.feed.headSeq;
    const blocksBefore = node.chain.head.number;
    // Bundles of every kind (blocks, finality) pile up; at least three of them blocks.
    await until(
      "the feed moves on while the receiver is down",
      () => node.replication!.feed.headSeq >= headBefore + 4 && node.chain.head.number >= blocksBefore + 3n,
    );
    receiver.applied.splice(-2);
    receiver.hashes.splice(-2);
    const resumeFrom = receiver.ackSeq + 1;
    receiver.seen = [];
    await receiver.listen(receiver.port);
    await until(
      "the receiver catches up",
      () => receiver.ackSeq >= node.replication!.feed.headSeq && receiver.ackSeq > ackBefore,
    );
    expect(receiver.seen.length).toBeGreaterThan(0);
    expect(Math.min(...receiver.seen), "resumed from the receiver's ackSeq").toBe(resumeFrom);
    expect(receiver.rejectedAuth).toBe(0);
    expectConsecutive(receiver.applied);

    // Every block bundle is what the node's JSON-RPC answers for that block, byte for byte.
    const blocks = receiver.applied.filter((b) => b.kind === "block");
    expect(blocks.length).toBeGreaterThan(4);
    let sawTxs = 0;
    const touched = new Set<string>();
    for (const b of blocks) {
      const n = b.block.number;
      expect(JSON.stringify(b.block)).toBe(JSON.stringify(await rpc(url, "eth_getBlockByNumber", [n, true])));
      expect(JSON.stringify(b.receipts)).toBe(JSON.stringify(await rpc(url, "eth_getBlockReceipts", [n])));
      for (const [address, account] of Object.entries(b.stateDiff.accounts)) {
        expect(account?.balance ?? "0x0", `balance of ${address} at ${n}`).toBe(
          await rpc(url, "eth_getBalance", [address, n]),
        );
        expect(account?.nonce ?? "0x0").toBe(await rpc(url, "eth_getTransactionCount", [address, n]));
      }
      for (const a of Object.keys(b.stateDiff.accounts)) touched.add(a);
      if (b.block.transactions.length > 0) {
        sawTxs += b.block.transactions.length;
        expect(Object.keys(b.stateDiff.accounts)).toContain(bytesToHex(to));
      }
      expect(BigInt(b.finality.finalized.number)).toBeLessThanOrEqual(BigInt(b.block.number));
    }
    expect(sawTxs).toBe(3);
    for (const k of [1, 2]) expect(touched).toContain(bytesToHex(privateKeyToAddress(KEYS[k]!)));

    // Pull: the same bundles, byte for byte.
    const first = receiver.applied[0]!.seq;
    const pulled = await signedGet(adminUrl, `/replication/bundles?from=${first}&count=5`);
    expect(pulled.status).toBe(200);
    const pulledBundles = (JSON.parse(pulled.text) as { bundles: ReplicationBundle[] }).bundles;
    expect(pulledBundles.map((b) => JSON.stringify(b))).toEqual(
      receiver.applied.slice(0, 5).map((b) => JSON.stringify(b)),
    );
    const head = await signedGet(adminUrl, "/replication/head");
    expect(head.status).toBe(200);
    expect(JSON.parse(head.text).seq).toBeGreaterThanOrEqual(receiver.ackSeq);
    const byNumber = await signedGet(
      adminUrl,
      `/replication/bundles?fromBlock=${Number(blocks[0]!.block.number)}&count=2`,
    );
    const rebuilt = (JSON.parse(byNumber.text) as { bundles: ReplicationBundle[] }).bundles;
    expect(rebuilt.map((b) => [b.seq, b.kind === "block" && b.block.hash])).toEqual([
      [0, blocks[0]!.block.hash],
      [
        0,
        (
          (await rpc(url, "eth_getBlockByNumber", [
            `0x${(BigInt(blocks[0]!.block.number) + 1n).toString(16)}`,
            false,
          ])) as { hash: string }
        ).hash,
      ],
    ]);

    // 401 for unsigned, stale, bad-signature and signed-for-another-path requests.
    const path = `/replication/bundles?from=${first}&count=1`;
    expect((await signedGet(adminUrl, path, {})).status).toBe(401);
    const staleTs = Date.now() - 120_000;
    expect((await signedGet(adminUrl, path, await replicationAuthHeaders(KEY, path, staleTs))).status).toBe(401);
    const good = await replicationAuthHeaders(KEY, path);
    const bad = { ...good, [REPLICATION_SIGNATURE_HEADER]: "0".repeat(64) };
    expect((await signedGet(adminUrl, path, bad)).status).toBe(401);
    expect((await signedGet(adminUrl, `/replication/bundles?from=${first}&count=2`, good)).status).toBe(401);
    expect((await signedGet(adminUrl, path, await replicationAuthHeaders(new Uint8Array(32), path))).status).toBe(401);
    expect((await signedGet(adminUrl, "/replication/bundles?from=1&count=257")).status).toBe(400);

    await started.stop();
  });
});

// ---- Chain-level: reorgs, finality bundles and rebuilding from the database ----

const validatorKey = blsKeypairFromSeed(new Uint8Array(32).fill(7));
const chainGenesis = parseGenesis({
  ...devnetGenesis([{ secretKey: validatorKey.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 1000),
  timestamp: 1_700_000_000,
});

async function openChain() {
  const db = await Database.open(join(await tempDir(), "chaindata"));
  cleanups.push(() => db.close());
  const state = new StateDb(defaultStateDbOptions, { db });
  const chain = new Chain(chainGenesis, {
    db,
    state,
    recovery: createInlineRecovery(),
    runtime: new ContractRuntime(),
    logger: silent,
  });
  await chain.init();
  return { db, state, chain };
}

async function produce(c: { chain: Chain; state: StateDb }, slot: bigint, transfers: [number, bigint][]) {
  const { chain } = c;
  const mempool = new Mempool(defaultMempoolOptions, {
    head: () => chain.mempoolHead(),
  });
  for (const [key, nonce] of transfers) {
    await mempool.add(
      signTransaction(
        {
          type: 2,
          chainId: chain.chainId,
          nonce,
          maxPriorityFeePerGas: 10n ** 9n,
          maxFeePerGas: 100n * 10n ** 9n,
          gasLimit: 21_000n,
          to: hexToBytes(`0x${"0c".repeat(19)}${slot.toString(16).padStart(2, "0")}`),
          value: 7n * slot,
          data: new Uint8Array(0),
          accessList: [],
        },
        KEYS[key]!,
      ),
    );
  }
  const producer = new BlockProducer(
    { validatorIndex: 0, extraData: new Uint8Array(0) },
    { chain, mempool, logger: silent },
  );
  return producer.produce({
    slot,
    vrfProof: new Uint8Array(0),
    sign: async (_slot, hash) => blsSign(validatorKey.secretKey, blockSigningRoot(chain.chainId, hash)),
  });
}

describe("replication feed over a forking chain", () => {
  it("a reorg becomes a reorg bundle followed by the new branch; finality-only changes become finality bundles", async () => {
    const c = await openChain();
    const { chain } = c;
    let numbers = { safe: 0n, finalized: 0n };
    const feed = new ReplicationFeed(
      { ...defaultReplicationFeedOptions, ringSize: 3, finalityPollMs: 20 },
      { ...c, finality: chainFinality(chain, () => numbers), logger: silent, key: KEY },
    );
    const entries: FeedEntry[] = [];
    feed.on("bundle", (e) => entries.push(e));
    await feed.start();
    cleanups.push(() => feed.stop());

    const A1 = await produce(c, 1n, [[1, 0n]]);
    const A2 = await produce(c, 2n, [
      [1, 1n],
      [2, 0n],
    ]);
    await chain.setHead(chain.genesisHash);
    const B1 = await produce(c, 3n, [[3, 0n]]);
    const B2 = await produce(c, 4n, []);
    const B3 = await produce(c, 5n, [[3, 1n]]);
    await chain.setHead(A2.hash);
    await feed.settled();
    const hex = bytesToHex;
    const summary = entries.map((e) => {
      const b = e.bundle;
      if (b.kind === "block") return ["block", b.block.hash];
      if (b.kind === "reorg") return ["reorg", b.from.hash, b.to.hash, b.depth, b.from.number, b.to.number];
      return ["finality"];
    });
    expect(summary).toEqual([
      ["block", hex(A1.hash)],
      ["block", hex(A2.hash)],
      ["reorg", hex(A2.hash), hex(chain.genesisHash), 2, "0x2", "0x0"],
      ["block", hex(B1.hash)],
      ["block", hex(B2.hash)],
      ["block", hex(B3.hash)],
      ["reorg", hex(B3.hash), hex(A2.hash), 3, "0x3", "0x2"],
      ["block", hex(A1.hash)],
      ["block", hex(A2.hash)],
    ]);
    expectConsecutive(entries.map((e) => e.bundle));
    expect(entries[0]!.seq).toBe(1);

    // The state diff of A1: the sender's nonce and balance, the recipient's new balance.
    const a1 = entries[0]!.bundle;
    if (a1.kind !== "block") throw new Error("expected a block bundle");
    const sender = bytesToHex(privateKeyToAddress(KEYS[1]!));
    expect(a1.stateDiff.accounts[sender]?.nonce).toBe("0x1");
    expect(a1.stateDiff.accounts[`0x${"0c".repeat(19)}01`]?.balance).toBe("0x7");

    // Bundles that left the ring are rebuilt from the database byte for byte; the pull endpoint serves them.
    for (const e of entries) expect((await feed.get(e.seq))?.json).toBe(e.json);
    expect((await feed.range(2, 3))?.map((e) => e.seq)).toEqual([2, 3, 4]);

    // Finality moves without a block: one finality bundle, then nothing until it moves again.
    numbers = { safe: 2n, finalized: 1n };
    await until("a finality bundle", () => entries.length === 10);
    await new Promise((r) => setTimeout(r, 100));
    expect(entries.length).toBe(10);
    const fin = entries[9]!.bundle;
    const want: ReplicationFinality = {
      safe: { number: "0x2", hash: hex(A2.hash) },
      finalized: { number: "0x1", hash: hex(A1.hash) },
    };
    expect(fin).toEqual({ version: 1, chainId: "0x5254", seq: 10, kind: "finality", finality: want });
    await feed.stop();
  });

  it("with a descriptor log, a restarted feed continues the seq and rebuilds earlier bundles identically", async () => {
    const c = await openChain();
    const logFile = join(await tempDir(), "feed.log");
    const finality = chainFinality(c.chain, () => ({ safe: 0n, finalized: 0n }));
    const opts = { ...defaultReplicationFeedOptions, logFile, finalityPollMs: 10_000 };
    const feed1 = new ReplicationFeed(opts, { ...c, finality, logger: silent });
    const first: FeedEntry[] = [];
    feed1.on("bundle", (e) => first.push(e));
    await feed1.start();
    await produce(c, 1n, [[4, 0n]]);
    await produce(c, 2n, []);
    await feed1.stop();

    const feed2 = new ReplicationFeed(opts, { ...c, finality, logger: silent });
    const second: FeedEntry[] = [];
    feed2.on("bundle", (e) => second.push(e));
    await feed2.start();
    expect(feed2.headSeq).toBe(2);
    await produce(c, 3n, []);
    await feed2.settled();
    expect(second.map((e) => e.seq)).toEqual([3]);
    for (const e of first) expect((await feed2.get(e.seq))?.json).toBe(e.json);
    await feed2.stop();
  });

  it("a bundle whose flat diff was pruned is outside the history, never served without its state diff", async () => {
    const c = await openChain();
    const finality = chainFinality(c.chain, () => ({ safe: 0n, finalized: 0n }));
    // A ring of one bundle: older ones are rebuilt from the database.
    const opts = { ...defaultReplicationFeedOptions, ringSize: 1, finalityPollMs: 10_000 };
    const feed = new ReplicationFeed(opts, { ...c, finality, logger: silent });
    await feed.start();
    const B1 = await produce(c, 1n, [[6, 0n]]);
    await produce(c, 2n, [[6, 1n]]);
    await produce(c, 3n, []);
    await feed.settled();
    // What state pruning keeps for a pusher whose receiver still needs seq 1: block 1's diff on.
    expect(await feed.firstRebuiltBlock(1)).toBe(B1.block.header.number);
    expect(await feed.firstRebuiltBlock(3)).toBeUndefined();
    // A full node deletes the flat diffs of blocks below its kept window (chain/statePruner.ts).
    await c.db.write(new WriteBatch().del(Bucket.flatDiffs, B1.hash));
    expect(await feed.get(1)).toBeUndefined();
    expect(await feed.range(1, 3)).toBeUndefined();
    expect((await feed.get(2))?.bundle.kind).toBe("block");
    await feed.stop();
  });

  it("a restarted feed sends the blocks committed after it stopped, and reorgs away a logged head that left the chain", async () => {
    const c = await openChain();
    const { chain } = c;
    const logFile = join(await tempDir(), "feed.log");
    const finality = chainFinality(chain, () => ({ safe: 0n, finalized: 0n }));
    const opts = { ...defaultReplicationFeedOptions, logFile, finalityPollMs: 10_000 };
    const hex = bytesToHex;
    const summary = (entries: FeedEntry[]) =>
      entries.map((e) => {
        const b = e.bundle;
        if (b.kind === "block") return ["block", b.block.hash];
        if (b.kind === "reorg") return ["reorg", b.from.hash, b.to.hash, b.depth];
        return ["finality"];
      });

    const feed1 = new ReplicationFeed(opts, { ...c, finality, logger: silent });
    await feed1.start();
    const A1 = await produce(c, 1n, [[5, 0n]]);
    await produce(c, 2n, []);
    await feed1.stop();
    // Committed while no feed listened (a stop or crash mid-import).
    const A3 = await produce(c, 3n, [[5, 1n]]);
    const A4 = await produce(c, 4n, []);

    const feed2 = new ReplicationFeed(opts, { ...c, finality, logger: silent });
    const second: FeedEntry[] = [];
    feed2.on("bundle", (e) => second.push(e));
    await feed2.start();
    await feed2.settled();
    expect(summary(second)).toEqual([
      ["block", hex(A3.hash)],
      ["block", hex(A4.hash)],
    ]);
    expect(second.map((e) => e.seq)).toEqual([3, 4]);
    await feed2.stop();

    // The logged head (A4) leaves the chain while no feed runs: the next feed reorgs back to A1, then sends B2, B3.
    await chain.setHead(A1.hash);
    const B2 = await produce(c, 5n, []);
    const B3 = await produce(c, 6n, []);
    const feed3 = new ReplicationFeed(opts, { ...c, finality, logger: silent });
    const third: FeedEntry[] = [];
    feed3.on("bundle", (e) => third.push(e));
    await feed3.start();
    await feed3.settled();
    expect(summary(third)).toEqual([
      ["reorg", hex(A4.hash), hex(B3.hash), 3],
      ["block", hex(B2.hash)],
      ["block", hex(B3.hash)],
    ]);
    expectConsecutive([...second, ...third].map((e) => e.bundle));
    await feed3.stop();
  });
});
