// The trustless gateway over a real HTTP server on 127.0.0.1 and a real on-disk store: raw blocks hash to their CID,
// a CAR parses with @ipld/car, every block in it verifies against its CID and the file reassembles from those blocks
// alone (what a verified-fetch client does); bad requests get the spec's statuses.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unixfs } from "@helia/unixfs";
import { CarBlockIterator } from "@ipld/car/iterator";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEC_RAW, verifyBlock } from "./blockVerifier.ts";
import { ContentStore } from "./contentStore.ts";
import { CAR_TYPE, createGateway, parseGatewayRequest, RAW_TYPE } from "./gateway.ts";
import { defaultContentOptions } from "./options.ts";

const logger = pino({ level: "silent" });
let dir: string;
let store: ContentStore;
let server: Server;
let base: string;
const model = randomBytes(900 * 1024);
let modelCid: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gateway-"));
  store = await ContentStore.open({ ...defaultContentOptions, dir }, { logger });
  modelCid = (await store.add(model)).cid;
  const gateway = createGateway(store);
  server = createServer((req, res) => {
    void gateway(req, res).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("no address");
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Verifies a CAR the way a trustless client does and returns its blocks by CID. */
async function verifyCar(body: Uint8Array, root: string): Promise<Map<string, Uint8Array>> {
  const car = await CarBlockIterator.fromBytes(body);
  expect((await car.getRoots()).map((r) => r.toString())).toEqual([root]);
  const blocks = new Map<string, Uint8Array>();
  for await (const { cid, bytes } of car) {
    verifyBlock(CID.asCID(cid) as CID, bytes, defaultContentOptions.maxBlockBytes);
    blocks.set(cid.toString(), bytes);
  }
  return blocks;
}

describe("trustless gateway", () => {
  it("serves a CAR (Accept: application/vnd.ipld.car) whose verified blocks alone rebuild the file", async () => {
    const res = await fetch(`${base}/ipfs/${modelCid}`, { headers: { accept: CAR_TYPE } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(`${CAR_TYPE}; version=1; order=dfs; dups=n`);
    expect(res.headers.get("x-ipfs-roots")).toBe(modelCid);
    const blocks = await verifyCar(new Uint8Array(await res.arrayBuffer()), modelCid);
    expect(blocks.size).toBe(5); // root + four 256 KiB leaves (the last one half full)
    // Rebuild from the CAR's blocks only (a blockstore holding nothing else).
    const fromCar = unixfs({
      blockstore: {
        has: async (cid) => blocks.has(cid.toString()),
        put: async (cid) => cid,
        get: async function* (cid) {
          const b = blocks.get(cid.toString());
          if (!b) throw new Error(`block ${cid} not in the CAR`);
          yield b;
        },
      },
    });
    const parts: Uint8Array[] = [];
    for await (const part of fromCar.cat(CID.parse(modelCid))) parts.push(part);
    expect(Buffer.concat(parts).equals(model)).toBe(true);
  });

  it("serves one raw block (?format=raw) whose bytes hash to the CID", async () => {
    const small = new TextEncoder().encode("an image");
    const { cid } = await store.add(small);
    const res = await fetch(`${base}/ipfs/${cid}?format=raw`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(RAW_TYPE);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(CID.createV1(CODEC_RAW, await sha256.digest(body)).toString()).toBe(cid);
  });

  it("dag-scope=block gives a CAR of the root block only; HEAD gives headers and no body", async () => {
    const res = await fetch(`${base}/ipfs/${modelCid}?format=car&dag-scope=block`);
    expect((await verifyCar(new Uint8Array(await res.arrayBuffer()), modelCid)).size).toBe(1);
    const head = await fetch(`${base}/ipfs/${modelCid}?format=car`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 429 with Retry-After beyond maxConcurrent requests in flight, and serves again once one ends", async () => {
    const big = (await store.add(randomBytes(32 * 1024 * 1024))).cid;
    const limited = createGateway(store, { maxConcurrent: 1 });
    const one = createServer((req, res) => void limited(req, res));
    await new Promise<void>((r) => one.listen(0, "127.0.0.1", r));
    const port = (one.address() as { port: number }).port;
    try {
      // A client that stops reading keeps its CAR response (32 MiB, past the socket buffers) in flight.
      const slow = await fetch(`http://127.0.0.1:${port}/ipfs/${big}?format=car`);
      expect(slow.status).toBe(200);
      const refused = await fetch(`http://127.0.0.1:${port}/ipfs/${modelCid}?format=raw`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      await slow.body?.cancel();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await fetch(`http://127.0.0.1:${port}/ipfs/${modelCid}?format=raw`)).status;
      }
      expect(status).toBe(200);
    } finally {
      one.closeAllConnections();
      await new Promise<void>((r) => one.close(() => r()));
    }
  });

  it("refuses what a trustless gateway does not serve: 406, 400, 404, 501", async () => {
    expect((await fetch(`${base}/ipfs/${modelCid}`)).status).toBe(406);
    expect((await fetch(`${base}/ipfs/not-a-cid?format=raw`)).status).toBe(400);
    expect((await fetch(`${base}/ipfs/${modelCid}?format=tar`)).status).toBe(400);
    expect((await fetch(`${base}/ipfs/${modelCid}/a/path?format=car`)).status).toBe(501);
    const missing = CID.createV1(CODEC_RAW, await sha256.digest(new Uint8Array([9]))).toString();
    expect((await fetch(`${base}/ipfs/${missing}?format=raw`)).status).toBe(404);
    expect(parseGatewayRequest("/health", undefined)).toBeUndefined();
  });
});
