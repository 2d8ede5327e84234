// A model's content address: its bytes as a UnixFS file DAG with the IPFS defaults, so `ipfs add --cid-version=1`,
// helia's `unixfs.addBytes` and `ipfs-unixfs-importer` give the same CID for the same bytes:
//   - fixed-size chunks of 256 KiB (262,144 bytes), each a raw leaf (codec raw 0x55, CIDv1);
//   - balanced layout: up to 174 links per node, repeated level by level until one root remains;
//   - parent nodes are dag-pb (0x70) with UnixFS `file` data listing each child's file size (blocksizes) and links
//     named "" whose Tsize is the child's cumulative size (block bytes of the whole sub-DAG);
//   - a model that fits in one chunk is that one raw leaf (reduceSingleLeafToSelf);
//   - every hash is sha2-256.
// No mtime or mode, no wrapping directory. The blocks are listed depth-first from the root, each CID once, which is
// the order of `ipfs dag export` and of a trustless gateway's `order=dfs` CAR.
// The module only takes bytes: it owns no store (the node's content store is validator/src/content/).
import { createHash } from "node:crypto";
import * as dagPb from "@ipld/dag-pb";
import { CODEC_DAG_PB, CODEC_RAW, HASH_SHA2_256, modelCidProblem } from "@rustchain/shared/content/trustlessGateway";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { ModelError } from "./errors.ts";

/** Models are handled whole in memory; Proof-of-AI models are kilobytes, classifier models megabytes. */
export const MODEL_MAX_BYTES = 512 * 1024 * 1024;

export interface ModelDagLayout {
  chunkSize: number;
  maxChildrenPerNode: number;
}

/**
 * The layout of every model CID: kubo's `ipfs add --cid-version=1` and ipfs-unixfs-importer's built-in defaults (the
 * unixfs-v0-2015 chunking with CIDv1 and raw leaves).
 */
export const IPFS_DEFAULT_LAYOUT: ModelDagLayout = { chunkSize: 262_144, maxChildrenPerNode: 174 };

/**
 * IPIP-499's unixfs-v1-2025 profile, which @helia/unixfs uses when given no chunker or layout. For a model of at most
 * 256 KiB (one chunk under either) both layouts give the same CID; above that they differ, so a store that imports
 * models must pass IPFS_DEFAULT_LAYOUT's chunker and layout (docs/models.md).
 */
export const UNIXFS_V1_2025_LAYOUT: ModelDagLayout = { chunkSize: 1_048_576, maxChildrenPerNode: 1024 };

export interface ModelBlock {
  cid: CID;
  bytes: Uint8Array;
}

export interface ModelDag {
  root: CID;
  /** Depth-first pre-order from the root, each CID once (identical chunks share one block). */
  blocks: ModelBlock[];
}

interface DagNode {
  cid: CID;
  bytes: Uint8Array;
  /** Bytes of the file under this node (the UnixFS blocksize its parent records). */
  fileSize: bigint;
  /** Block bytes of the whole sub-DAG (the dag-pb link Tsize). */
  tsize: number;
  children: DagNode[];
}

function sha256Cid(codec: number, bytes: Uint8Array): CID {
  const digest = new Uint8Array(createHash("sha256").update(bytes).digest());
  return CID.createV1(codec, Digest.create(HASH_SHA2_256, digest));
}

function parentNode(children: DagNode[]): DagNode {
  const file = new UnixFS({ type: "file" });
  const links = children.map((child) => {
    file.addBlockSize(child.fileSize);
    return { Name: "", Tsize: child.tsize, Hash: child.cid };
  });
  const bytes = dagPb.encode(dagPb.prepare({ Data: file.marshal(), Links: links }));
  return {
    cid: sha256Cid(CODEC_DAG_PB, bytes),
    bytes,
    fileSize: children.reduce((sum, c) => sum + c.fileSize, 0n),
    tsize: bytes.length + children.reduce((sum, c) => sum + c.tsize, 0),
    children,
  };
}

function checkModelSize(model: Uint8Array): void {
  if (model.length === 0) throw new ModelError({ code: "MODEL_EMPTY" });
  if (model.length > MODEL_MAX_BYTES) {
    throw new ModelError({ code: "MODEL_TOO_LARGE", size: model.length, limit: MODEL_MAX_BYTES });
  }
}

/** The model's UnixFS DAG: its root CID and every block, ready for a CAR or a blockstore. */
export function modelDag(model: Uint8Array, layout: ModelDagLayout = IPFS_DEFAULT_LAYOUT): ModelDag {
  checkModelSize(model);
  let level: DagNode[] = [];
  for (let offset = 0; offset < model.length; offset += layout.chunkSize) {
    const chunk = model.subarray(offset, Math.min(offset + layout.chunkSize, model.length));
    level.push({
      cid: sha256Cid(CODEC_RAW, chunk),
      bytes: chunk,
      fileSize: BigInt(chunk.length),
      tsize: chunk.length,
      children: [],
    });
  }
  // One chunk: the leaf is the file. Otherwise group level by level; a lone node in a later group is still wrapped,
  // as the importer does (only a whole single-chunk file is reduced to its leaf).
  while (level.length > 1) {
    const parents: DagNode[] = [];
    for (let i = 0; i < level.length; i += layout.maxChildrenPerNode) {
      parents.push(parentNode(level.slice(i, i + layout.maxChildrenPerNode)));
    }
    level = parents;
  }
  const root = level[0] as DagNode;
  const blocks: ModelBlock[] = [];
  const seen = new Set<string>();
  const visit = (node: DagNode): void => {
    const key = node.cid.toString();
    if (seen.has(key)) return;
    seen.add(key);
    blocks.push({ cid: node.cid, bytes: node.bytes });
    for (const child of node.children) visit(child);
  };
  visit(root);
  return { root: root.cid, blocks };
}

/** The model's CID (CIDv1, base32 when printed). */
export function modelCid(model: Uint8Array): CID {
  return modelDag(model).root;
}

/**
 * Parses a model CID: CIDv1, sha2-256, codec raw (a one-chunk model) or dag-pb (a chunked one).
 * Anything else is `MODEL_CID_INVALID`.
 */
export function parseModelCid(value: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(value);
  } catch (e) {
    throw new ModelError({ code: "MODEL_CID_INVALID", value: value.slice(0, 120), reason: (e as Error).message });
  }
  const problem = modelCidProblem(cid);
  if (problem) throw new ModelError({ code: "MODEL_CID_INVALID", value, reason: problem });
  return cid;
}

/** True when `model` is exactly the bytes `cid` names (under the IPFS default layout). */
export function modelMatchesCid(model: Uint8Array, cid: CID): boolean {
  if (model.length === 0 || model.length > MODEL_MAX_BYTES) return false;
  return modelDag(model).root.equals(cid);
}

/**
 * Fetches the model `cid` names from an untrusted source (a peer, a gateway, a storage provider) and returns its bytes
 * only when they hash to `cid`: anything else is `MODEL_CID_MISMATCH`, and the bytes are not returned.
 */
export async function fetchVerifiedModel(cid: CID, fetch: (cid: CID) => Promise<Uint8Array>): Promise<Uint8Array> {
  const bytes = await fetch(cid);
  const got = bytes.length === 0 || bytes.length > MODEL_MAX_BYTES ? "none" : modelDag(bytes).root.toString();
  if (got !== cid.toString()) {
    throw new ModelError({ code: "MODEL_CID_MISMATCH", expected: cid.toString(), got });
  }
  return bytes;
}
