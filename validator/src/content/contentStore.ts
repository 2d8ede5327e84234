// The node's content store (docs/content.md): UnixFS DAGs with the IPFS defaults (CIDv1, raw leaves, 256 KiB chunks,
// 174 links per node: `ipfs add --cid-version=1` and models/modelCid.ts give the same CIDs) in a blockstore under
// `<datadir>/content/blocks`, pins under `<datadir>/content/pins`, and bitswap on the node's own libp2p so a block
// one validator holds reaches the others. Every block read from disk or received from a peer is verified against its
// CID (verifiedBlockstore.ts) before anything uses it.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type Bitswap, type BitswapComponents, createBitswap } from "@helia/bitswap";
import { type UnixFS, unixfs } from "@helia/unixfs";
import { decode as decodeDagPb } from "@ipld/dag-pb";
import type { AbortOptions, Libp2p } from "@libp2p/interface";
import { FsBlockstore } from "blockstore-fs";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import type { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import type { Logger } from "pino";
import { IPFS_DEFAULT_LAYOUT } from "../models/modelCid.ts";
import { CODEC_DAG_PB, checkCidSupported, cidToString, parseCid } from "./blockVerifier.ts";
import { ContentError } from "./errors.ts";
import type { ContentOptions } from "./options.ts";
import { type PinInfo, PinStore } from "./pinStore.ts";
import { VerifiedBlockstore } from "./verifiedBlockstore.ts";

export interface ContentModules {
  logger: Logger;
  /** The node's started libp2p (network/network.ts `Network.libp2p`): bitswap runs on it. Without it: local only. */
  libp2p?: Libp2p;
}

export interface AddResult {
  /** CIDv1, base32. */
  cid: string;
  /** Bytes of the file added. */
  size: number;
}

export interface GetOptions extends AbortOptions {
  /** Only blocks held here; a missing one is CONTENT_NOT_FOUND instead of a bitswap fetch. */
  offline?: boolean;
}

export interface DagBlock {
  cid: CID;
  bytes: Uint8Array;
}

/**
 * The layout of every add: the one models are named by (models/modelCid.ts IPFS_DEFAULT_LAYOUT), spelled out rather
 * than @helia/unixfs's default (IPIP-499's 1 MiB / 1024-link profile), so a model added here has the CID it is
 * registered under and a library upgrade cannot change CIDs.
 */
const IMPORT_PROFILE = {
  cidVersion: 1,
  rawLeaves: true,
  chunker: fixedSize({ chunkSize: IPFS_DEFAULT_LAYOUT.chunkSize }),
  layout: balanced({ maxChildrenPerNode: IPFS_DEFAULT_LAYOUT.maxChildrenPerNode }),
} as const;

/** The node has no content routing yet: bitswap asks the peers it is connected to (a devnet's validators). */
const connectedPeersOnly: BitswapComponents["routing"] = {
  name: "connected-peers",
  provide: async () => {},
  cancelReprovide: async () => {},
  findProviders: async function* () {},
  put: async () => {},
  get: async (key) => {
    throw new ContentError({ code: "CONTENT_NOT_FOUND", cid: `routing key of ${key.length} bytes` });
  },
  findPeer: async (peer) => {
    throw new ContentError({ code: "CONTENT_NOT_FOUND", cid: `peer ${peer.toString()}` });
  },
  getClosestPeers: async function* () {},
};

const getHasher: BitswapComponents["getHasher"] = (code) => {
  if (code === sha256.code) return sha256;
  if (code === identity.code) return identity;
  throw new ContentError({ code: "CONTENT_UNSUPPORTED_HASH", cid: "", hashCode: code });
};

export class ContentStore {
  private constructor(
    private readonly opts: ContentOptions,
    private readonly disk: FsBlockstore,
    /** Verified, fetching from peers when missing. */
    private readonly blocks: VerifiedBlockstore,
    /** Verified, this disk only (what bitswap serves, what offline reads see). */
    private readonly localBlocks: VerifiedBlockstore,
    private readonly pinStore: PinStore,
    private readonly bitswap: Bitswap | undefined,
    private readonly log: Logger,
  ) {
    this.fs = unixfs({ blockstore: blocks });
    this.localFs = unixfs({ blockstore: localBlocks });
  }

  private readonly fs: UnixFS;
  private readonly localFs: UnixFS;

  static async open(opts: ContentOptions, modules: ContentModules): Promise<ContentStore> {
    const disk = new FsBlockstore(join(opts.dir, "blocks"));
    await disk.open();
    const pins = await PinStore.open(join(opts.dir, "pins"));
    const localBlocks = new VerifiedBlockstore({ store: disk, maxBlockBytes: opts.maxBlockBytes });
    let bitswap: Bitswap | undefined;
    if (modules.libp2p) {
      bitswap = createBitswap(
        {
          libp2p: modules.libp2p,
          blockstore: localBlocks,
          routing: connectedPeersOnly,
          logger: modules.libp2p.logger,
          getHasher,
        },
        opts.bitswap,
      );
      await bitswap.start();
    }
    const swap = bitswap;
    const blocks = new VerifiedBlockstore({
      store: disk,
      maxBlockBytes: opts.maxBlockBytes,
      fetch: swap ? (cid, options) => fetchBlock(swap, cid, options, opts.fetchTimeoutMs) : undefined,
      onPut: swap ? (cid) => void swap.notify(cid).catch(() => {}) : undefined,
    });
    return new ContentStore(opts, disk, blocks, localBlocks, pins, bitswap, modules.logger);
  }

  async close(): Promise<void> {
    await this.bitswap?.stop();
    await this.disk.close();
  }

  /** Imports bytes as a UnixFS file; the CID is the same as `ipfs add --cid-version 1` gives. */
  async add(bytes: Uint8Array, options: AbortOptions = {}): Promise<AddResult> {
    if (bytes.length > this.opts.maxAddBytes) {
      throw new ContentError({ code: "CONTENT_TOO_LARGE", size: bytes.length, limit: this.opts.maxAddBytes });
    }
    const cid = await this.fs.addBytes(bytes, { ...options, ...IMPORT_PROFILE });
    this.log.debug({ cid: cidToString(cid), size: bytes.length }, "Added content");
    return { cid: cidToString(cid), size: bytes.length };
  }

  /** Imports a file from disk, streamed (never held whole). */
  async addFile(path: string, options: AbortOptions = {}): Promise<AddResult> {
    const { size } = await stat(path);
    if (size > this.opts.maxAddBytes) {
      throw new ContentError({ code: "CONTENT_TOO_LARGE", size, limit: this.opts.maxAddBytes });
    }
    return this.addStream(createReadStream(path), options);
  }

  /** Imports a byte stream (an HTTP upload), refusing it once it passes `maxAddBytes`. */
  async addStream(source: AsyncIterable<Uint8Array>, options: AbortOptions = {}): Promise<AddResult> {
    const limit = this.opts.maxAddBytes;
    let size = 0;
    async function* bounded(): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limit) throw new ContentError({ code: "CONTENT_TOO_LARGE", size, limit });
        yield chunk;
      }
    }
    const cid = await this.fs.addByteStream(bounded(), { ...options, ...IMPORT_PROFILE });
    this.log.debug({ cid: cidToString(cid), size }, "Added content");
    return { cid: cidToString(cid), size };
  }

  /** A file's bytes, streamed, every block verified; fetched over bitswap unless `offline`. */
  async *cat(cidText: string, options: GetOptions = {}): AsyncGenerator<Uint8Array> {
    const cid = parseCid(cidText);
    checkCidSupported(cid);
    const fs = options.offline ? this.localFs : this.fs;
    let size = 0;
    for await (const chunk of fs.cat(cid, { signal: options.signal, offline: options.offline })) {
      size += chunk.length;
      if (size > this.opts.maxGetBytes) {
        throw new ContentError({ code: "CONTENT_TOO_LARGE", size, limit: this.opts.maxGetBytes });
      }
      yield chunk;
    }
  }

  /** A file's bytes whole (at most `maxGetBytes`). */
  async get(cidText: string, options: GetOptions = {}): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const part of this.cat(cidText, options)) parts.push(part);
    return Buffer.concat(parts);
  }

  /** One verified block (the gateway's raw response). */
  async getBlock(cid: CID, options: GetOptions = {}): Promise<Uint8Array> {
    checkCidSupported(cid);
    return (options.offline ? this.localBlocks : this.blocks).getBlock(cid, options);
  }

  async has(cidText: string): Promise<boolean> {
    return this.disk.has(parseCid(cidText));
  }

  /**
   * Every block of the DAG under `root`, depth-first in link order, each once (a CAR's `order=dfs; dups=n`), verified,
   * fetched over bitswap unless `offline`; at most `maxDagBlocks`.
   */
  async *dagBlocks(root: CID, options: GetOptions = {}): AsyncGenerator<DagBlock> {
    const seen = new Set<string>();
    const stack: CID[] = [root];
    while (stack.length > 0) {
      const cid = stack.pop() as CID;
      const key = cid.toString();
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > this.opts.maxDagBlocks) {
        throw new ContentError({ code: "CONTENT_DAG_TOO_LARGE", cid: root.toString(), limit: this.opts.maxDagBlocks });
      }
      const bytes = await this.getBlock(cid, options);
      yield { cid, bytes };
      if (cid.code === CODEC_DAG_PB) {
        const links = decodeDagPb(bytes).Links;
        for (let i = links.length - 1; i >= 0; i--) stack.push((links[i] as { Hash: CID }).Hash);
      }
    }
  }

  /** Fetches every block of the DAG (over bitswap when missing), then records the pin. */
  async pin(cidText: string, options: AbortOptions = {}): Promise<PinInfo> {
    const cid = parseCid(cidText);
    checkCidSupported(cid);
    let blocks = 0;
    let bytes = 0;
    for await (const block of this.dagBlocks(cid, options)) {
      blocks++;
      bytes += block.bytes.length;
    }
    const info = await this.pinStore.add(cid, { blocks, bytes });
    this.log.info({ cid: info.cid, blocks, bytes }, "Pinned content");
    return info;
  }

  /** True when it was pinned. The blocks stay until a garbage collection (not built yet: docs/content.md). */
  async unpin(cidText: string): Promise<boolean> {
    return this.pinStore.remove(parseCid(cidText));
  }

  async pins(): Promise<PinInfo[]> {
    return this.pinStore.list();
  }
}

async function fetchBlock(bitswap: Bitswap, cid: CID, options: AbortOptions, timeoutMs: number): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    return await bitswap.want(cid, { signal });
  } catch (e) {
    if (timeout.aborted) throw new ContentError({ code: "CONTENT_FETCH_TIMEOUT", cid: cid.toString(), timeoutMs });
    throw e;
  }
}
