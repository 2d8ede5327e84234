// ContentStore on a real filesystem blockstore in a temp dir, no network: UnixFS adds give the CIDs an independent
// computation gives, reads verify every block (a tampered file on disk is refused), size limits refuse before storing,
// pins persist across a reopen.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { modelCid } from "../models/modelCid.ts";
import { CODEC_RAW, parseCid, verifyBlock } from "./blockVerifier.ts";
import { ContentStore } from "./contentStore.ts";
import { type ContentOptions, defaultContentOptions } from "./options.ts";
import { codeOf } from "./testSupport.ts";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
const stores: ContentStore[] = [];

async function openStore(overrides: Partial<ContentOptions> = {}, dir?: string): Promise<ContentStore> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), "content-")));
  if (!dir) dirs.push(d);
  const store = await ContentStore.open({ ...defaultContentOptions, dir: d, ...overrides }, { logger });
  stores.push(store);
  return store;
}

/** Every block file of a blockstore-fs directory. */
async function blockFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, "blocks"), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".data")).map((e) => join(e.parentPath, e.name));
}

afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("ContentStore", () => {
  it("adds a small file as one raw block whose CIDv1 is sha2-256 of the bytes, and reads it back", async () => {
    const store = await openStore();
    const bytes = new TextEncoder().encode("a model of three layers\n");
    const { cid, size } = await store.add(bytes);
    const expected = CID.createV1(CODEC_RAW, await sha256.digest(bytes)).toString();
    expect(cid).toBe(expected);
    expect(cid.startsWith("bafkrei")).toBe(true);
    expect(size).toBe(bytes.length);
    expect(Buffer.from(await store.get(cid)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("chunks a large file into a dag-pb root over raw leaves; every block of the DAG verifies", async () => {
    const store = await openStore();
    const bytes = randomBytes(2.5 * 1024 * 1024);
    const { cid } = await store.add(bytes);
    expect(cid.startsWith("bafybei")).toBe(true);
    expect(Buffer.from(await store.get(cid)).equals(bytes)).toBe(true);
    const blocks = [];
    for await (const block of store.dagBlocks(parseCid(cid))) {
      verifyBlock(block.cid, block.bytes, defaultContentOptions.maxBlockBytes);
      blocks.push(block);
    }
    // 2.5 MiB in 256 KiB chunks: a root and ten leaves, root first.
    expect(blocks.length).toBe(11);
    expect(blocks[0]?.cid.toString()).toBe(cid);
  });

  it("a model added here has the CID models/modelCid.ts names it by (the IPFS default layout)", async () => {
    const store = await openStore();
    // Over 174 chunks: a two-level tree, where layouts differ most.
    const model = randomBytes(174 * 256 * 1024 + 12_345);
    expect((await store.add(model)).cid).toBe(modelCid(model).toString());
  });

  it("adding a file from disk gives the same CID as adding its bytes", async () => {
    const store = await openStore();
    const bytes = randomBytes(1.5 * 1024 * 1024);
    const path = join(dirs[dirs.length - 1] as string, "model.bin");
    await writeFile(path, bytes);
    expect((await store.addFile(path)).cid).toBe((await store.add(bytes)).cid);
  });

  it("refuses a block tampered with on disk: CONTENT_HASH_MISMATCH", async () => {
    const store = await openStore();
    const dir = dirs[dirs.length - 1] as string;
    const { cid } = await store.add(new TextEncoder().encode("weights v1"));
    const [file] = await blockFiles(dir);
    await writeFile(file as string, new TextEncoder().encode("weights v2"));
    expect(await codeOf(store.get(cid))).toBe("CONTENT_HASH_MISMATCH");
    expect(await codeOf(store.getBlock(parseCid(cid)))).toBe("CONTENT_HASH_MISMATCH");
  });

  it("refuses an add over maxAddBytes and stores nothing: CONTENT_TOO_LARGE", async () => {
    const store = await openStore({ maxAddBytes: 1000 });
    const dir = dirs[dirs.length - 1] as string;
    expect(await codeOf(store.add(new Uint8Array(1001)))).toBe("CONTENT_TOO_LARGE");
    expect(await blockFiles(dir)).toEqual([]);
  });

  it("refuses a get over maxGetBytes: CONTENT_TOO_LARGE", async () => {
    const store = await openStore({ maxGetBytes: 100_000 });
    const { cid } = await store.add(randomBytes(300 * 1024));
    expect(await codeOf(store.get(cid))).toBe("CONTENT_TOO_LARGE");
  });

  it("a CID not held is CONTENT_NOT_FOUND without a network; bad and unsupported CIDs are refused", async () => {
    const store = await openStore();
    const missing = CID.createV1(CODEC_RAW, await sha256.digest(new Uint8Array([1, 2, 3]))).toString();
    expect(await codeOf(store.get(missing))).toBe("CONTENT_NOT_FOUND");
    expect(await codeOf(store.get("not-a-cid"))).toBe("CONTENT_INVALID_CID");
    const dagCbor = CID.createV1(0x71, await sha256.digest(new Uint8Array([1]))).toString();
    expect(await codeOf(store.get(dagCbor))).toBe("CONTENT_UNSUPPORTED_CODEC");
  });

  it("pins survive a reopen; unpin removes the pin and reports whether it existed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "content-"));
    dirs.push(dir);
    const store = await openStore({}, dir);
    const { cid } = await store.add(randomBytes(600 * 1024));
    const info = await store.pin(cid);
    expect(info).toMatchObject({ cid, blocks: 4 });
    expect(info.bytes).toBeGreaterThan(600 * 1024);
    await store.close();
    const reopened = await openStore({}, dir);
    expect((await reopened.pins()).map((p) => p.cid)).toEqual([cid]);
    expect(await reopened.unpin(cid)).toBe(true);
    expect(await reopened.unpin(cid)).toBe(false);
    expect(await reopened.pins()).toEqual([]);
  });
});
