// A blockstore that never hands out, stores or serves a block whose bytes do not hash to its CID (blockVerifier.ts).
// It wraps the filesystem blockstore; with `fetch` (bitswap) a block missing here is fetched from peers, verified and
// stored before it is returned. Bitswap itself is given an instance without `fetch`, so serving a peer's want never
// triggers a network fetch on its behalf.

import type { AbortOptions } from "@libp2p/interface";
import type { Blockstore, InputPair, Pair } from "interface-blockstore";
import type { CID } from "multiformats/cid";
import { verifyBlock } from "./blockVerifier.ts";
import { ContentError } from "./errors.ts";

export interface VerifiedBlockstoreModules {
  /** The blocks on disk (blockstore-fs). */
  store: Blockstore;
  maxBlockBytes: number;
  /** Fetches a block from peers; the bytes are verified here whatever the fetcher did. */
  fetch?: (cid: CID, options: AbortOptions) => Promise<Uint8Array>;
  /** Called after a block is stored (bitswap's notify: peers waiting for it get it). */
  onPut?: (cid: CID) => void;
}

export class VerifiedBlockstore implements Blockstore {
  constructor(private readonly modules: VerifiedBlockstoreModules) {}

  async has(cid: CID, options?: AbortOptions): Promise<boolean> {
    return this.modules.store.has(cid, options);
  }

  async put(cid: CID, bytes: Uint8Array | AwaitIterable<Uint8Array>, options?: AbortOptions): Promise<CID> {
    const block = await collect(bytes, this.modules.maxBlockBytes, cid);
    verifyBlock(cid, block, this.modules.maxBlockBytes);
    if (!(await this.modules.store.has(cid, options))) await this.modules.store.put(cid, block, options);
    this.modules.onPut?.(cid);
    return cid;
  }

  async *putMany(source: AwaitIterable<InputPair>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) yield await this.put(cid, bytes, options);
  }

  async *get(cid: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    yield await this.getBlock(cid, options);
  }

  /** The whole verified block: from disk, else (with `fetch`) from peers, stored on arrival. */
  async getBlock(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    const { store, fetch, maxBlockBytes } = this.modules;
    if (await store.has(cid, options)) {
      const block = await collect(store.get(cid, options), maxBlockBytes, cid);
      verifyBlock(cid, block, maxBlockBytes);
      return block;
    }
    if (fetch === undefined) throw new ContentError({ code: "CONTENT_NOT_FOUND", cid: cid.toString() });
    const block = await fetch(cid, options ?? {});
    verifyBlock(cid, block, maxBlockBytes);
    await store.put(cid, block, options);
    this.modules.onPut?.(cid);
    return block;
  }

  async *getMany(source: AwaitIterable<CID>, options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const cid of source) {
      const block = await this.getBlock(cid, options);
      yield { cid, bytes: single(block) };
    }
  }

  async *getAll(options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const { cid } of this.modules.store.getAll(options)) {
      const block = await this.getBlock(cid, options);
      yield { cid, bytes: single(block) };
    }
  }

  async delete(cid: CID, options?: AbortOptions): Promise<void> {
    await this.modules.store.delete(cid, options);
  }

  async *deleteMany(source: AwaitIterable<CID>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid, options);
      yield cid;
    }
  }
}

type AwaitIterable<T> = Iterable<T> | AsyncIterable<T>;

async function* single(block: Uint8Array): AsyncGenerator<Uint8Array> {
  yield block;
}

/** Concatenates a block's chunks, refusing more than `limit` bytes before holding them all. */
async function collect(bytes: Uint8Array | AwaitIterable<Uint8Array>, limit: number, cid: CID): Promise<Uint8Array> {
  if (bytes instanceof Uint8Array) return bytes;
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of bytes) {
    size += part.length;
    if (size > limit) throw new ContentError({ code: "CONTENT_BLOCK_TOO_LARGE", cid: cid.toString(), size, limit });
    parts.push(part);
  }
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
