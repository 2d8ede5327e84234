// The node's gRPC API against real nodes over loopback, through a client that knows only the server's reflection
// (reflectionClient.ts: no .proto of ours): the services are listed; StreamHeads delivers 20 consecutive heads with
// no gap across a disconnect and resume; a batch of transfers submitted in one call is all included; the replication
// stream refuses a missing token and delivers the feed in seq order with one; the health service is NOT_SERVING while
// a node syncs (and while a networked node has no peer) and SERVING once it follows the chain, from the same source
// as /health.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClientReadableStream, Metadata, status } from "@grpc/grpc-js";
import {
  blsKeypairFromSeed,
  bytesToHex,
  DEVNET_CHAIN_ID,
  hexToBytes,
  parseGenesis,
  parseReplicationBundle,
  signTransaction,
} from "@rustchain/shared";
import { replicationBearerToken } from "@rustchain/shared/replicationToken";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { RustChainNode } from "../node/node.ts";
import { type Reflected, reflect } from "./reflectionClient.ts";

const DEV_KEY = hexToBytes("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const REPLICATION_KEY = new Uint8Array(32).fill(9);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dirs: string[] = [];
const nodes: RustChainNode[] = [];
afterAll(async () => {
  for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

type Client = Reflected["client"] extends (n: string) => infer C ? C : never;
interface GrpcErr extends Error {
  code: number;
  metadata?: { get(k: string): unknown[] };
}

/** One unary call on a reflected client. */
function unary<T>(client: Client, method: string, req: object): Promise<T> {
  return new Promise((resolve, reject) =>
    (client[method] as (r: object, cb: (e: Error | null, v: T) => void) => void).call(client, req, (e, v) =>
      e ? reject(e) : resolve(v),
    ),
  );
}

async function failure(p: Promise<unknown>): Promise<GrpcErr> {
  try {
    await p;
  } catch (e) {
    return e as GrpcErr;
  }
  throw new Error("expected the call to fail");
}

/** The first `count` messages of a server stream, then cancel it. */
function take<T>(stream: ClientReadableStream<T>, count: number): Promise<T[]> {
  const got: T[] = [];
  return new Promise((resolve, reject) => {
    stream.on("data", (m: T) => {
      if (got.length < count) got.push(m);
      if (got.length === count) {
        stream.cancel();
        resolve(got);
      }
    });
    stream.on("error", (e: GrpcErr) => (e.code === status.CANCELLED ? undefined : reject(e)));
    stream.on("end", () => (got.length < count ? reject(new Error(`stream ended after ${got.length}`)) : undefined));
  });
}

interface HeadMessage {
  hash: Buffer;
  header: { number: string; parentHash: Buffer };
}

describe("gRPC API of a real node, through reflection only", () => {
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(51));
  const genesis = parseGenesis(
    devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
  );
  const quiet = pino({ level: "silent" });
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), "rustchain-grpc-"));
    dirs.push(d);
    return d;
  };
  let a: RustChainNode;
  let reflected: Reflected;
  let api: Client;

  beforeAll(async () => {
    a = await RustChainNode.start(
      {
        datadir: await dir(),
        genesis,
        secretKey: validator.secretKey,
        rpc: { host: "127.0.0.1", port: 0 },
        grpc: { host: "127.0.0.1", port: 0 },
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"] },
        replication: { key: REPLICATION_KEY },
      },
      quiet,
    );
    nodes.push(a);
    reflected = await reflect(a.grpcAddress!);
    api = reflected.client("rustchain.v1.NodeService");
  });

  it("lists the node, replication and health services; GetStatus, GetBlock and GetProof answer", async () => {
    expect(reflected.services).toEqual(
      expect.arrayContaining(["rustchain.v1.NodeService", "rustchain.v1.ReplicationService", "grpc.health.v1.Health"]),
    );
    await until("block 3", async () => (a.chain.head.number >= 3n ? true : undefined));
    const s = await unary<{ chainId: string; head: { number: string; hash: Buffer } }>(api, "getStatus", {});
    expect(s.chainId).toBe(String(DEVNET_CHAIN_ID));
    expect(BigInt(s.head.number)).toBeGreaterThanOrEqual(3n);

    const byNumber = await unary<{ block: { hash: Buffer; header: { number: string } } }>(api, "getBlock", {
      block: { number: "2" },
    });
    expect(byNumber.block.header.number).toBe("2");
    expect(bytesToHex(byNumber.block.hash)).toBe(bytesToHex((await a.chain.canonicalHash(2n))!));
    const byHash = await unary<typeof byNumber>(api, "getBlock", { block: { hash: byNumber.block.hash } });
    expect(byHash.block.header.number).toBe("2");
    const missing = await failure(unary(api, "getBlock", { block: { number: "99999999" } }));
    expect(missing.code).toBe(status.NOT_FOUND);
    const badHash = await failure(unary(api, "getBlock", { block: { hash: Buffer.alloc(5) } }));
    expect(badHash.code).toBe(status.INVALID_ARGUMENT);

    const sender = hexToBytes("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    const proof = await unary<{ balance: string; accountProof: Buffer[]; block: { number: string } }>(api, "getProof", {
      address: sender,
      storageKeys: [],
      block: { tag: "BLOCK_TAG_LATEST" },
    });
    expect(BigInt(proof.balance)).toBeGreaterThan(0n);
    expect(proof.accountProof.length).toBeGreaterThan(0);
  });

  it("StreamHeads: 20 consecutive heads, with no gap across a disconnect and a resume", async () => {
    const first = await take<HeadMessage>(
      api.streamHeads({ fromNumber: "0" }) as ClientReadableStream<HeadMessage>,
      10,
    );
    // Blocks keep coming while the client is away; the resumed stream reads them from the database first.
    await sleep(1_000);
    const last = BigInt(first[9]!.header.number);
    const second = await take<HeadMessage>(
      api.streamHeads({ fromNumber: String(last + 1n) }) as ClientReadableStream<HeadMessage>,
      10,
    );
    const heads = [...first, ...second];
    expect(heads).toHaveLength(20);
    for (let i = 1; i < heads.length; i++) {
      expect(BigInt(heads[i]!.header.number)).toBe(BigInt(heads[i - 1]!.header.number) + 1n);
      expect(bytesToHex(heads[i]!.header.parentHash)).toBe(bytesToHex(heads[i - 1]!.hash));
    }
    expect(a.chain.head.number).toBeGreaterThan(last);
  });

  it("SubmitTransactions: a batch of 20 transfers, each answered with its hash and all included", async () => {
    const to = hexToBytes("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    const txs = Array.from({ length: 20 }, (_, i) =>
      signTransaction(
        {
          type: 2,
          chainId: BigInt(DEVNET_CHAIN_ID),
          nonce: BigInt(i),
          maxPriorityFeePerGas: 10n ** 9n,
          maxFeePerGas: 100n * 10n ** 9n,
          gasLimit: 21_000n,
          to,
          value: 1000n + BigInt(i),
          data: new Uint8Array(0),
          accessList: [],
        },
        DEV_KEY,
      ),
    );
    const res = await unary<{ results: { result: string; hash: Buffer }[] }>(api, "submitTransactions", {
      transactions: txs.map((t) => t.raw),
    });
    expect(res.results.map((r) => r.result)).toEqual(txs.map(() => "hash"));
    expect(res.results.map((r) => bytesToHex(r.hash))).toEqual(txs.map((t) => bytesToHex(t.hash)));
    const receipts = await until("all 20 receipts", async () => {
      const got = await Promise.all(
        txs.map((t) =>
          unary<{ receipt: { success: boolean; blockNumber: string } }>(api, "getReceipt", {
            transactionHash: t.hash,
          }).catch((e: GrpcErr) => (e.code === status.NOT_FOUND ? undefined : Promise.reject(e))),
        ),
      );
      return got.every((r) => r) ? got : undefined;
    });
    expect(receipts.every((r) => r?.receipt.success)).toBe(true);
    const blockNumber = receipts[0]!.receipt.blockNumber;
    const inBlock = await unary<{ receipts: unknown[] }>(api, "getBlockReceipts", { block: { number: blockNumber } });
    expect(inBlock.receipts.length).toBeGreaterThan(0);

    // The same batch again: every item is refused with the pool's domain code, in order.
    const again = await unary<{ results: { result: string; error: { code: string; rpcCode: number } }[] }>(
      api,
      "submitTransactions",
      { transactions: txs.slice(0, 2).map((t) => t.raw) },
    );
    expect(again.results.map((r) => r.result)).toEqual(["error", "error"]);
    expect(again.results[0]!.error.code).toMatch(/^TX_/);
    // Bounded: an empty batch and one over the limit are INVALID_ARGUMENT.
    expect((await failure(unary(api, "submitTransactions", { transactions: [] }))).code).toBe(status.INVALID_ARGUMENT);
    const tooMany = await failure(
      unary(api, "submitTransactions", { transactions: Array.from({ length: 1025 }, () => Buffer.from([1])) }),
    );
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
  });

  it("StreamReplicationBundles: UNAUTHENTICATED without a valid token; the feed in seq order with one", async () => {
    const replication = reflected.client("rustchain.v1.ReplicationService");
    const open = (metadata?: Record<string, string>) => {
      const m = new Metadata();
      for (const [k, v] of Object.entries(metadata ?? {})) m.set(k, v);
      return (replication.streamReplicationBundles as (r: object, m: unknown) => ClientReadableStream<unknown>)(
        { fromSeq: "1" },
        m,
      );
    };
    const refused = await failure(take(open(), 1));
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    const wrong = await failure(take(open({ authorization: await replicationBearerToken(new Uint8Array(32)) }), 1));
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    const bundles = (await take(open({ authorization: await replicationBearerToken(REPLICATION_KEY) }), 12)) as {
      seq: string;
      bundleJson: string;
    }[];
    expect(bundles.map((b) => Number(b.seq))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const b of bundles) expect(parseReplicationBundle(JSON.parse(b.bundleJson)).seq).toBe(Number(b.seq));
  });

  it("health: NOT_SERVING while a node syncs (or has no peer), SERVING once it follows; GetStatus agrees", async () => {
    const health = reflected.client("grpc.health.v1.Health");
    // A validator on a network with nobody to talk to is not ready, as /health says.
    expect((await unary<{ status: string }>(health, "check", { service: "" })).status).toBe("NOT_SERVING");
    await until("block 20", async () => (a.chain.head.number >= 20n ? true : undefined));

    const b = await RustChainNode.start(
      {
        datadir: await dir(),
        genesis,
        rpc: { host: "127.0.0.1", port: 0 },
        grpc: { host: "127.0.0.1", port: 0 },
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"] },
      },
      quiet,
    );
    nodes.push(b);
    const bReflected = await reflect(b.grpcAddress!);
    const bHealth = bReflected.client("grpc.health.v1.Health");
    const bApi = bReflected.client("rustchain.v1.NodeService");
    // Far behind the clock and not yet connected: syncing.
    const syncing = await unary<{ syncing: boolean; ready: boolean }>(bApi, "getStatus", {});
    expect(syncing).toMatchObject({ syncing: true, ready: false });
    expect((await unary<{ status: string }>(bHealth, "check", { service: "" })).status).toBe("NOT_SERVING");
    expect((await unary<{ status: string }>(bHealth, "check", { service: "rustchain.v1.NodeService" })).status).toBe(
      "NOT_SERVING",
    );
    expect((await fetch(`${b.rpc.url}/health`)).status).toBe(503);

    await b.network!.dial(a.network!.multiaddrs()[0]!);
    await until("the late node's health to turn SERVING", async () =>
      (await unary<{ status: string }>(bHealth, "check", { service: "" })).status === "SERVING" ? true : undefined,
    );
    expect(await unary<{ syncing: boolean; ready: boolean }>(bApi, "getStatus", {})).toMatchObject({
      syncing: false,
      ready: true,
    });
    expect((await fetch(`${b.rpc.url}/health`)).status).toBe(200);
    await until("the validator's health to turn SERVING", async () =>
      (await unary<{ status: string }>(health, "check", { service: "" })).status === "SERVING" ? true : undefined,
    );
  }, 90_000);
});
