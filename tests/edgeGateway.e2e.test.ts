// The trustless gateway at the edge, on both hosts (the Node edge with redis-server, the Workers edge under `wrangler
// dev`), in front of one real `rustchain node` with content added through its admin API (POST /content/add). Between
// the edges and the core sits a small proxy that can flip one byte of the core's /ipfs/ answers for chosen CIDs.
// A client given only the edge's URL:
// - gets a CAR that an independent verifier accepts: @ipld/car parses it, every block re-hashed with multiformats'
//   sha2-256 matches its CID, and @helia/unixfs rebuilds exactly the added bytes from those blocks alone; it is the
//   core's CAR byte for byte, and a second request is answered from the edge's cache (the core is not asked again);
// - gets raw blocks that hash to their CID, HEAD answers, 400 for a bad CID, 406 without a format;
// - never gets a tampered block: a raw block is refused with 502, a CAR whose later block was changed is cut midway
//   (the body never completes), and neither is cached.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import { join } from "node:path";
import { unixfs } from "@helia/unixfs";
import { CarBlockIterator } from "@ipld/car/iterator";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CoreForEdge,
  type EdgeProcess,
  edgeUrlsFor,
  type RedisServer,
  startCoreForEdge,
  startNodeEdge,
  startRedis,
  startWranglerEdge,
  waitFor,
} from "./support/edge.ts";

const CAR = "application/vnd.ipld.car";
const RAW = "application/vnd.ipld.raw";

/** A proxy in front of the core: passes everything through, streaming, and flips one byte of chosen /ipfs/ answers. */
interface TamperProxy {
  url: string;
  /** GET /ipfs/ requests that reached the core, by CID. */
  gatewayRequests: Map<string, number>;
  /** Answers for these CIDs get the byte at `offset` (or the middle of a raw block) flipped. */
  tamper: Map<string, { offset: number }>;
  stop(): Promise<void>;
}

async function startTamperProxy(coreUrl: string): Promise<TamperProxy> {
  const core = new URL(coreUrl);
  const gatewayRequests = new Map<string, number>();
  const tamper = new Map<string, { offset: number }>();
  const server: Server = createServer((req, res) => {
    const cid = /^\/ipfs\/([^/?]+)/.exec(req.url ?? "")?.[1];
    if (cid && req.method === "GET") gatewayRequests.set(cid, (gatewayRequests.get(cid) ?? 0) + 1);
    const upstream = httpRequest(
      { host: core.hostname, port: core.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const flip = cid ? tamper.get(cid) : undefined;
        let at = 0;
        answer.on("data", (chunk: Buffer) => {
          if (flip && flip.offset >= at && flip.offset < at + chunk.length) {
            chunk = Buffer.from(chunk);
            chunk[flip.offset - at] = (chunk[flip.offset - at] as number) ^ 0xff;
          }
          at += chunk.length;
          res.write(chunk);
        });
        answer.on("end", () => res.end());
        answer.on("error", () => res.destroy());
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    gatewayRequests,
    tamper,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Verifies a CAR independently of the code under test and returns its blocks by CID (and the roots). */
async function verifyCar(car: Uint8Array): Promise<{ roots: string[]; blocks: Map<string, Uint8Array> }> {
  const reader = await CarBlockIterator.fromBytes(car);
  const roots = (await reader.getRoots()).map((r) => r.toString());
  const blocks = new Map<string, Uint8Array>();
  for await (const { cid, bytes } of reader) {
    expect(cid.multihash.code).toBe(sha256.code);
    const digest = await sha256.digest(bytes);
    expect(Buffer.from(digest.digest).equals(Buffer.from(cid.multihash.digest))).toBe(true);
    expect(blocks.has(cid.toString())).toBe(false); // dups=n
    blocks.set(cid.toString(), bytes);
  }
  return { roots, blocks };
}

/** The file under `root`, rebuilt by @helia/unixfs from `blocks` alone (a blockstore holding nothing else). */
async function rebuild(root: string, blocks: Map<string, Uint8Array>): Promise<Buffer> {
  const fs = unixfs({
    blockstore: {
      has: async (cid: CID) => blocks.has(cid.toString()),
      put: async (cid: CID) => cid,
      get: async function* (cid: CID) {
        const b = blocks.get(cid.toString());
        if (!b) throw new Error(`block ${cid} is not in the CAR`);
        yield b;
      },
      // biome-ignore lint/suspicious/noExplicitAny: the blockstore interface's other members are never called here.
    } as any,
  });
  const parts: Uint8Array[] = [];
  for await (const chunk of fs.cat(CID.parse(root))) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Reads a body until it ends or is cut: the bytes that arrived, and the error that cut it (if any). */
async function readUntilCut(res: Response): Promise<{ received: Uint8Array; error?: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { received: Buffer.concat(parts) };
      parts.push(value);
    }
  } catch (error) {
    return { received: Buffer.concat(parts), error };
  }
}

let core: CoreForEdge | undefined;
let proxy: TamperProxy | undefined;
let redis: RedisServer | undefined;
const edges: Partial<Record<"node" | "workers", EdgeProcess>> = {};
/** Added to the core: a 900 KiB file (dag-pb root + four 256 KiB raw leaves), and two more to tamper with. */
const file = randomBytes(900 * 1024);
const tamperedCarFile = randomBytes(900 * 1024);
const tamperedRawFile = randomBytes(100 * 1024);
let fileCid = "";
let tamperedCarCid = "";
let tamperedRawCid = "";

async function addContent(c: CoreForEdge, bytes: Uint8Array): Promise<string> {
  // The admin API may open a moment after the JSON-RPC the harness waited for.
  const res = await waitFor(
    "the core's admin API",
    async () => {
      const token = (await readFile(join(c.datadir, "admin-token"), "utf8")).trim();
      return fetch(new URL("/content/add", c.adminUrl), {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: bytes,
      });
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { cid: string }).cid;
}

beforeAll(async () => {
  const started = await startCoreForEdge({ slotMs: 1000 });
  core = started;
  proxy = await startTamperProxy(started.url);
  [fileCid, tamperedCarCid, tamperedRawCid] = await Promise.all([
    addContent(started, file),
    addContent(started, tamperedCarFile),
    addContent(started, tamperedRawFile),
  ]);
  // A byte in the CAR's third leaf (past the header and root), and one in the middle of the raw block.
  proxy.tamper.set(tamperedCarCid, { offset: 600 * 1024 });
  proxy.tamper.set(tamperedRawCid, { offset: 50 * 1024 });
  const coreRpcUrl = proxy.url;
  const [nodeUrls, workersUrls] = await Promise.all([edgeUrlsFor(), edgeUrlsFor()]);
  redis = await startRedis();
  const [nodeEdge, workersEdge] = await Promise.allSettled([
    startNodeEdge({
      port: nodeUrls.port,
      redisUrl: redis.url,
      coreRpcUrl,
      replicationKeyFile: started.replicationKeyFile,
      logLevel: "warn",
    }),
    startWranglerEdge({ port: workersUrls.port, coreRpcUrl, replicationKeyHex: started.replicationKeyHex }),
  ]);
  if (nodeEdge.status === "fulfilled") edges.node = nodeEdge.value;
  if (workersEdge.status === "fulfilled") edges.workers = workersEdge.value;
  for (const r of [nodeEdge, workersEdge]) if (r.status === "rejected") throw r.reason;
}, 150_000);

afterAll(async () => {
  await Promise.all([edges.node?.stop(), edges.workers?.stop()].map((p) => p?.catch(() => undefined)));
  await proxy?.stop();
  await redis?.stop();
  await core?.cleanup();
}, 60_000);

describe.each(["node", "workers"] as const)("the edge's trustless gateway (%s host)", (host) => {
  const edge = () => edges[host] as EdgeProcess;

  it("serves a CAR an independent verifier accepts, the core's bytes exactly, then from its cache", async () => {
    const before = proxy?.gatewayRequests.get(fileCid) ?? 0;
    const res = await fetch(`${edge().url}/ipfs/${fileCid}?format=car`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(`${CAR}; version=1; order=dfs; dups=n`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=29030400, immutable");
    expect(res.headers.get("etag")).toBe(`"${fileCid}.car"`);
    expect(res.headers.get("x-ipfs-roots")).toBe(fileCid);
    expect(res.headers.get("access-control-allow-origin")).toBe("*"); // dApps fetch it from the browser
    const car = new Uint8Array(await res.arrayBuffer());
    const { roots, blocks } = await verifyCar(car);
    expect(roots).toEqual([fileCid]);
    expect(blocks.size).toBe(5); // root + four 256 KiB leaves (the last one partly full)
    expect((await rebuild(fileCid, blocks)).equals(file)).toBe(true);
    const direct = new Uint8Array(await (await fetch(`${core?.url}/ipfs/${fileCid}?format=car`)).arrayBuffer());
    expect(Buffer.from(car).equals(Buffer.from(direct))).toBe(true);
    expect(proxy?.gatewayRequests.get(fileCid)).toBe(before + 1);

    const again = await fetch(`${edge().url}/ipfs/${fileCid}`, { headers: { accept: CAR } });
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(Buffer.from(car))).toBe(true);
    expect(proxy?.gatewayRequests.get(fileCid)).toBe(before + 1); // answered from the edge's cache
  });

  it("serves raw blocks that hash to their CID, and HEAD", async () => {
    const car = new Uint8Array(await (await fetch(`${edge().url}/ipfs/${fileCid}?format=car`)).arrayBuffer());
    const { blocks } = await verifyCar(car);
    const leaf = [...blocks.keys()].find((k) => k !== fileCid) as string;
    const res = await fetch(`${edge().url}/ipfs/${leaf}`, { headers: { accept: RAW } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(RAW);
    expect(res.headers.get("etag")).toBe(`"${leaf}.raw"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from((await sha256.digest(bytes)).digest).equals(Buffer.from(CID.parse(leaf).multihash.digest))).toBe(
      true,
    );
    expect(Buffer.from(bytes).equals(Buffer.from(blocks.get(leaf) as Uint8Array))).toBe(true);

    const head = await fetch(`${edge().url}/ipfs/${fileCid}?format=raw`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(blocks.get(fileCid)?.length);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const headCar = await fetch(`${edge().url}/ipfs/${tamperedRawCid}?format=car`, { method: "HEAD" });
    expect(headCar.status).toBe(200);
    expect(headCar.headers.get("content-type")).toContain(CAR);
  });

  it("serves the CAR of a dag-pb root asked by its CIDv0, rooted at that CIDv0", async () => {
    const v0 = CID.parse(fileCid).toV0().toString();
    const res = await fetch(`${edge().url}/ipfs/${v0}?format=car`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ipfs-roots")).toBe(fileCid);
    const { roots, blocks } = await verifyCar(new Uint8Array(await res.arrayBuffer()));
    expect(roots).toEqual([v0]);
    expect((await rebuild(v0, blocks)).equals(file)).toBe(true);
  });

  it("answers bad requests at the edge: a bad CID 400 with the reason, no format 406", async () => {
    const before = [...(proxy?.gatewayRequests.values() ?? [])].reduce((a, b) => a + b, 0);
    const bad = await fetch(`${edge().url}/ipfs/not-a-cid?format=car`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe("CONTENT_INVALID_CID\n");
    const dagCbor = CID.createV1(0x71, CID.parse(fileCid).multihash).toString();
    const codec = await fetch(`${edge().url}/ipfs/${dagCbor}?format=raw`);
    expect(codec.status).toBe(400);
    expect(await codec.text()).toBe("CONTENT_UNSUPPORTED_CODEC\n");
    expect((await fetch(`${edge().url}/ipfs/${fileCid}`)).status).toBe(406);
    expect([...(proxy?.gatewayRequests.values() ?? [])].reduce((a, b) => a + b, 0)).toBe(before);
  });

  it("passes the core's 404 on for a CID it does not hold", async () => {
    const absent = CID.createV1(0x55, await sha256.digest(randomBytes(32))).toString();
    const res = await fetch(`${edge().url}/ipfs/${absent}?format=raw`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("CONTENT_NOT_FOUND\n");
  });

  it("refuses a raw block the core tampered with (502), every time: nothing was cached", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${edge().url}/ipfs/${tamperedRawCid}?format=raw`);
      expect(res.status).toBe(502);
      expect(await res.text()).toContain("GATEWAY_HASH_MISMATCH");
    }
  });

  it("cuts a CAR whose later block the core tampered with: the body never completes, all it held was verified", async () => {
    const truth = new Uint8Array(await (await fetch(`${core?.url}/ipfs/${tamperedCarCid}?format=car`)).arrayBuffer());
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${edge().url}/ipfs/${tamperedCarCid}?format=car`);
      expect(res.status).toBe(200); // the header and the root verified before the fault
      const { received, error } = await readUntilCut(res);
      expect(error).toBeDefined();
      // What arrived is a prefix of the core's true CAR that stops before the flipped byte's block.
      expect(received.length).toBeLessThan(600 * 1024);
      expect(Buffer.from(received).equals(Buffer.from(truth.subarray(0, received.length)))).toBe(true);
    }
    const metrics = await edge().metrics();
    if (host === "node") expect(metrics).toMatch(/format="car",source="core",result="rejected"} 2/);
    else {
      const { gateway } = JSON.parse(metrics) as { gateway: { format: string; result: string; count: number }[] };
      expect(gateway.find((g) => g.format === "car" && g.result === "rejected")?.count).toBeGreaterThanOrEqual(1);
    }
  });
});
