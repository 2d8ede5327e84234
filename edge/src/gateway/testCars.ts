// Fixtures for the gateway's unit tests (not shipped code: only *.test.ts import this file): a small DAG (a dag-pb root
// over raw leaves, one leaf linked twice) written as a CARv1 by @ipld/car's own writer, and helpers to tamper with it.
import { addBlock, blockLength, close, createWriter, headerLength } from "@ipld/car/buffer-writer";
import { createLink, createNode, encode as encodeDagPb } from "@ipld/dag-pb";
import { CODEC_DAG_PB, CODEC_RAW } from "@rustchain/shared/content/trustlessGateway";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";

export interface TestBlock {
  cid: CID;
  bytes: Uint8Array;
}

export async function rawBlock(text: string): Promise<TestBlock> {
  const bytes = new TextEncoder().encode(text);
  return { cid: CID.createV1(CODEC_RAW, await sha256.digest(bytes)), bytes };
}

export async function dagPbBlock(links: TestBlock[]): Promise<TestBlock> {
  const bytes = encodeDagPb(
    createNode(
      new Uint8Array([8, 2]),
      links.map((l, i) => createLink(`${i}`, l.bytes.length, l.cid)),
    ),
  );
  return { cid: CID.createV1(CODEC_DAG_PB, await sha256.digest(bytes)), bytes };
}

/** Root (dag-pb) → a, b, a, c (a linked twice, so present once in a dups=n CAR); blocks in dfs order without repeats. */
export async function testDag(): Promise<{ root: TestBlock; blocks: TestBlock[] }> {
  const a = await rawBlock("leaf a ".repeat(50));
  const b = await rawBlock("leaf b ".repeat(70));
  const c = await rawBlock("leaf c");
  const root = await dagPbBlock([a, b, a, c]);
  return { root, blocks: [root, a, b, c] };
}

/** A CARv1 with `root` in its header and `blocks` in order, by @ipld/car's writer. */
export function carBytes(root: CID, blocks: TestBlock[]): Uint8Array {
  const size = headerLength({ roots: [root] }) + blocks.reduce((n, b) => n + blockLength(b), 0);
  const writer = createWriter(new ArrayBuffer(size), { roots: [root] });
  for (const b of blocks) addBlock(writer, b);
  return close(writer);
}

/** `bytes` in chunks of `size` (the last one shorter). */
export function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** A copy of `bytes` with the byte at `at` flipped. */
export function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ 0xff;
  return copy;
}
