// Merkle Patricia trie (Ethereum's hex-prefix trie) with a pluggable hash function; the chain uses BLAKE3.
// Updates are applied to an in-memory copy-on-write tree and hashed only at commit(), once per block, over the dirty
// paths: an eager per-put trie (like @ethereumjs/trie on a database) caps out near 5k updates/s. Roots and proofs
// match @ethereumjs/trie given the same hash function (property-tested).
import { ChainError } from "./errors.ts";
import { bytesToHex, equalBytes } from "./hex.ts";
import {
  type RlpDecoded,
  rlpDecode,
  rlpEncode,
  rlpHeaderSize,
  rlpStringSize,
  writeRlpHeader,
  writeRlpString,
} from "./rlp.ts";

export type HashFn = (data: Uint8Array) => Uint8Array;

/** Where committed nodes live: hash → RLP encoding. Reads may be async (RocksDB). */
export interface TrieNodeReader {
  getNode(hash: Uint8Array): Promise<Uint8Array | undefined> | Uint8Array | undefined;
}

/** One nibble (0..15) per element, high nibble of each key byte first. */
export type Nibbles = Uint8Array;
interface LeafNode {
  t: 0;
  key: Nibbles;
  value: Uint8Array;
  enc?: Uint8Array;
  ref?: Uint8Array;
}
interface ExtNode {
  t: 1;
  key: Nibbles;
  child: TrieNode;
  enc?: Uint8Array;
  ref?: Uint8Array;
}
interface BranchNode {
  t: 2;
  children: (TrieNode | null)[];
  value: Uint8Array | null;
  enc?: Uint8Array;
  ref?: Uint8Array;
}
interface HashNode {
  t: 3;
  hash: Uint8Array;
}
/**
 * An in-memory node: leaf (t 0), extension (t 1), branch (t 2), or a reference by hash not yet read (t 3). `enc` and
 * `ref` cache the encoding and the parent's reference: the 32-byte hash, or for an encoding under 32 bytes the
 * encoding itself, embedded in the parent as is (never 32 bytes long, so the two cannot be confused). A node without
 * them is dirty. Exported for trieRange.ts, which reshapes partial trees from range proofs. Updates copy nodes; only
 * the enc/ref caches are ever filled in place.
 */
export type TrieNode = LeafNode | ExtNode | BranchNode | HashNode;

const EMPTY = new Uint8Array(0);

export function emptyTrieRoot(hash: HashFn): Uint8Array {
  return hash(rlpEncode(EMPTY));
}

export function bytesToNibbles(key: Uint8Array): Nibbles {
  const out = new Uint8Array(key.length * 2);
  for (let i = 0; i < key.length; i++) {
    out[2 * i] = (key[i] as number) >> 4;
    out[2 * i + 1] = (key[i] as number) & 15;
  }
  return out;
}

function hexPrefix(nibbles: Nibbles, leaf: boolean): Uint8Array {
  const odd = nibbles.length % 2;
  const out = new Uint8Array(1 + (nibbles.length >> 1));
  let flag = leaf ? 2 : 0;
  let i = 0;
  if (odd) {
    flag += 1;
    out[0] = (flag << 4) | (nibbles[0] as number);
    i = 1;
  } else {
    out[0] = flag << 4;
  }
  for (let j = 1; i < nibbles.length; i += 2, j++) out[j] = ((nibbles[i] as number) << 4) | (nibbles[i + 1] as number);
  return out;
}

function decodeHexPrefix(b: Uint8Array): { nibbles: Nibbles; leaf: boolean } {
  if (b.length === 0) throw new ChainError({ code: "RLP_INVALID", reason: "trie: empty path" });
  const flag = (b[0] as number) >> 4;
  if (flag > 3) throw new ChainError({ code: "RLP_INVALID", reason: "trie: bad hex-prefix flag" });
  const all = bytesToNibbles(b);
  return { nibbles: flag & 1 ? all.subarray(1) : all.subarray(2), leaf: flag >= 2 };
}

function commonPrefix(a: Nibbles, b: Nibbles): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function decodeNodeItem(item: RlpDecoded): TrieNode | null {
  if (item instanceof Uint8Array) {
    if (item.length === 0) return null;
    if (item.length === 32) return { t: 3, hash: item };
    throw new ChainError({ code: "RLP_INVALID", reason: "trie: bad child reference" });
  }
  if (item.length === 17) {
    const children: (TrieNode | null)[] = [];
    for (let i = 0; i < 16; i++) children.push(decodeNodeItem(item[i] as RlpDecoded));
    const v = item[16];
    if (!(v instanceof Uint8Array)) throw new ChainError({ code: "RLP_INVALID", reason: "trie: branch value" });
    return { t: 2, children, value: v.length ? v : null };
  }
  if (item.length === 2) {
    const [p, second] = item;
    if (!(p instanceof Uint8Array)) throw new ChainError({ code: "RLP_INVALID", reason: "trie: node path" });
    const { nibbles, leaf } = decodeHexPrefix(p);
    if (leaf) {
      if (!(second instanceof Uint8Array)) throw new ChainError({ code: "RLP_INVALID", reason: "trie: leaf value" });
      return { t: 0, key: nibbles, value: second };
    }
    const child = decodeNodeItem(second as RlpDecoded);
    if (child === null) throw new ChainError({ code: "RLP_INVALID", reason: "trie: empty extension" });
    return { t: 1, key: nibbles, child };
  }
  throw new ChainError({ code: "RLP_INVALID", reason: "trie: bad node" });
}

export function decodeTrieNode(enc: Uint8Array): TrieNode {
  const node = decodeNodeItem(rlpDecode(enc));
  if (node === null || node.t === 3) throw new ChainError({ code: "RLP_INVALID", reason: "trie: not a node" });
  return node;
}

/** A node's reference in its parent (see TrieNode), encoding and hashing it and its dirty descendants first. */
function nodeRef(node: TrieNode, hash: HashFn, out: [Uint8Array, Uint8Array][]): Uint8Array {
  if (node.t === 3) return node.hash;
  if (node.ref !== undefined) return node.ref;
  let enc: Uint8Array;
  if (node.t === 0) enc = encodeShortNode(hexPrefix(node.key, true), node.value, false);
  else if (node.t === 1) enc = encodeShortNode(hexPrefix(node.key, false), nodeRef(node.child, hash, out), true);
  else {
    const refs: (Uint8Array | null)[] = new Array(16);
    for (let i = 0; i < 16; i++) {
      const c = node.children[i];
      refs[i] = c ? nodeRef(c, hash, out) : null;
    }
    enc = encodeBranch(refs, node.value);
  }
  node.enc = enc;
  if (enc.length < 32) {
    node.ref = enc;
  } else {
    const h = hash(enc);
    out.push([h, enc]);
    node.ref = h;
  }
  return node.ref;
}

function compareNibbles(a: Nibbles, b: Nibbles): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** The subtree holding items[lo, hi) (sorted, distinct paths sharing their first `depth` nibbles). */
function buildSubtree(
  items: { path: Nibbles; value: Uint8Array }[],
  lo: number,
  hi: number,
  depth: number,
): LeafNode | ExtNode | BranchNode {
  const first = items[lo] as { path: Nibbles; value: Uint8Array };
  if (hi - lo === 1) return { t: 0, key: first.path.subarray(depth), value: first.value };
  // Sorted: the prefix the first and last paths share is shared by all.
  const last = (items[hi - 1] as { path: Nibbles }).path;
  const shared = commonPrefix(first.path.subarray(depth), last.subarray(depth));
  if (shared > 0) {
    return {
      t: 1,
      key: first.path.subarray(depth, depth + shared),
      child: buildSubtree(items, lo, hi, depth + shared),
    };
  }
  const children: (TrieNode | null)[] = new Array(16).fill(null);
  let value: Uint8Array | null = null;
  let i = lo;
  // A path ending here sorts first; it is the branch's value.
  if (first.path.length === depth) {
    value = first.value;
    i++;
  }
  while (i < hi) {
    const nibble = (items[i] as { path: Nibbles }).path[depth] as number;
    let j = i + 1;
    while (j < hi && (items[j] as { path: Nibbles }).path[depth] === nibble) j++;
    children[nibble] = buildSubtree(items, i, j, depth + 1);
    i = j;
  }
  return { t: 2, children, value };
}

/**
 * Root of the trie holding exactly `entries` (distinct keys, non-empty values), built in one synchronous pass
 * without a node store: what a block's transaction and receipt roots need (10,000 puts into MerklePatriciaTrie cost
 * a promise each). Equal to the root MerklePatriciaTrie computes from the same puts (property-tested).
 */
export function trieRootOf(entries: readonly (readonly [Uint8Array, Uint8Array])[], hash: HashFn): Uint8Array {
  if (entries.length === 0) return emptyTrieRoot(hash);
  const items = entries
    .map(([k, value]) => ({ path: bytesToNibbles(k), value }))
    .sort((a, b) => compareNibbles(a.path, b.path));
  for (let i = 1; i < items.length; i++) {
    if (compareNibbles((items[i - 1] as { path: Nibbles }).path, (items[i] as { path: Nibbles }).path) === 0) {
      throw new ChainError({ code: "RLP_INVALID", reason: "trie: duplicate key" });
    }
  }
  const root = buildSubtree(items, 0, items.length, 0);
  const ref = nodeRef(root, hash, []);
  const enc = root.enc as Uint8Array;
  return ref.length === 32 && enc.length >= 32 ? ref : hash(enc);
}

export interface TrieCommit {
  root: Uint8Array;
  /** New nodes to persist: [hash, encoding]. */
  nodes: [Uint8Array, Uint8Array][];
}

export class MerklePatriciaTrie {
  private root: TrieNode | null;
  private readonly hash: HashFn;
  private readonly reader: TrieNodeReader;
  /** Nodes hashed since the last commit(), including by createProof(): commit() hands them all out. */
  private pending: [Uint8Array, Uint8Array][] = [];
  /** The root node whose (short, otherwise inline) encoding is already in `pending` under its hash. */
  private shortRootHashed: TrieNode | null = null;

  constructor(opts: { hash: HashFn; root?: Uint8Array; reader?: TrieNodeReader }) {
    this.hash = opts.hash;
    this.reader = opts.reader ?? { getNode: () => undefined };
    const empty = emptyTrieRoot(opts.hash);
    this.root = opts.root && !equalBytes(opts.root, empty) ? { t: 3, hash: opts.root } : null;
  }

  /**
   * A trie over an in-memory tree that may still hold hash references (read through `reader` when reached). For
   * trieRange.ts: a range proof's edge paths, pruned, then filled with the range by put() and hashed by commit().
   */
  static fromRootNode(opts: { hash: HashFn; reader?: TrieNodeReader }, root: TrieNode | null): MerklePatriciaTrie {
    const trie = new MerklePatriciaTrie(opts);
    trie.root = root;
    return trie;
  }

  /** The in-memory root; after commit() every in-memory node carries `enc` and `ref`. */
  rootNode(): TrieNode | null {
    return this.root;
  }

  private async resolve(node: TrieNode): Promise<Exclude<TrieNode, HashNode>> {
    if (node.t !== 3) return node;
    const enc = await this.reader.getNode(node.hash);
    if (!enc) throw new ChainError({ code: "RLP_INVALID", reason: "trie: missing node" });
    const decoded = decodeTrieNode(enc) as Exclude<TrieNode, HashNode>;
    decoded.enc = enc;
    decoded.ref = node.hash;
    return decoded;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    let node = this.root;
    let path = bytesToNibbles(key);
    while (node) {
      const n = await this.resolve(node);
      if (n.t === 0)
        return commonPrefix(n.key, path) === path.length && n.key.length === path.length ? n.value : undefined;
      if (n.t === 1) {
        if (commonPrefix(n.key, path) !== n.key.length) return undefined;
        path = path.subarray(n.key.length);
        node = n.child;
      } else {
        if (path.length === 0) return n.value ?? undefined;
        node = n.children[path[0] as number] ?? null;
        path = path.subarray(1);
      }
    }
    return undefined;
  }

  /** Set key to value; an empty value deletes the key (Ethereum semantics). */
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    const path = bytesToNibbles(key);
    this.root = value.length === 0 ? await this.remove(this.root, path) : await this.insert(this.root, path, value);
  }

  async del(key: Uint8Array): Promise<void> {
    this.root = await this.remove(this.root, bytesToNibbles(key));
  }

  private async insert(node: TrieNode | null, path: Nibbles, value: Uint8Array): Promise<TrieNode> {
    if (node === null) return { t: 0, key: path, value };
    // Awaiting only for nodes still to be read saves a promise per level: commit-sized batches insert in memory.
    const n = node.t === 3 ? await this.resolve(node) : node;
    if (n.t === 2) {
      const children = n.children.slice();
      if (path.length === 0) return { t: 2, children, value };
      const i = path[0] as number;
      children[i] = await this.insert(children[i] ?? null, path.subarray(1), value);
      return { t: 2, children, value: n.value };
    }
    const match = commonPrefix(n.key, path);
    if (n.t === 0 && match === n.key.length && match === path.length) return { t: 0, key: path, value };
    if (n.t === 1 && match === n.key.length) {
      return { t: 1, key: n.key, child: await this.insert(n.child, path.subarray(match), value) };
    }
    // Split: a branch at the divergence point, under an extension for the shared prefix.
    const branch: BranchNode = { t: 2, children: new Array(16).fill(null), value: null };
    const rest = n.key.subarray(match);
    if (n.t === 0) {
      if (rest.length === 0) branch.value = n.value;
      else branch.children[rest[0] as number] = { t: 0, key: rest.subarray(1), value: n.value };
    } else {
      // rest.length >= 1 because match < key length
      branch.children[rest[0] as number] =
        rest.length === 1 ? n.child : { t: 1, key: rest.subarray(1), child: n.child };
    }
    const newRest = path.subarray(match);
    if (newRest.length === 0) branch.value = value;
    else branch.children[newRest[0] as number] = { t: 0, key: newRest.subarray(1), value };
    return match === 0 ? branch : { t: 1, key: path.subarray(0, match), child: branch };
  }

  private async remove(node: TrieNode | null, path: Nibbles): Promise<TrieNode | null> {
    if (node === null) return null;
    const n = await this.resolve(node);
    // An unchanged subtree is returned as the same object (`node`, not its resolved copy `n`), so callers can tell
    // that nothing changed and keep their own hash references instead of re-hashing the path.
    if (n.t === 0) return n.key.length === path.length && commonPrefix(n.key, path) === path.length ? null : node;
    if (n.t === 1) {
      if (commonPrefix(n.key, path) !== n.key.length) return node;
      const child = await this.remove(n.child, path.subarray(n.key.length));
      if (child === n.child) return node;
      return child === null ? null : this.joinPrefix(n.key, child);
    }
    const children = n.children.slice();
    let value = n.value;
    if (path.length === 0) {
      if (value === null) return node;
      value = null;
    } else {
      const i = path[0] as number;
      const child = children[i] ?? null;
      const updated = await this.remove(child, path.subarray(1));
      if (updated === child) return node;
      children[i] = updated;
    }
    // Collapse a branch left with a single entry.
    let count = value === null ? 0 : 1;
    let only = -1;
    for (let i = 0; i < 16; i++) {
      if (children[i]) {
        count++;
        only = i;
      }
    }
    if (count > 1) return { t: 2, children, value };
    if (count === 0) return null;
    if (only === -1) return { t: 0, key: new Uint8Array(0), value: value as Uint8Array };
    return this.joinPrefix(Uint8Array.of(only), children[only] as TrieNode);
  }

  /** Put `prefix` in front of `child`, merging with a leaf's or extension's own path. */
  private async joinPrefix(prefix: Nibbles, child: TrieNode): Promise<TrieNode> {
    const c = await this.resolve(child);
    if (c.t === 0) return { t: 0, key: concatNibbles(prefix, c.key), value: c.value };
    if (c.t === 1) return { t: 1, key: concatNibbles(prefix, c.key), child: c.child };
    return { t: 1, key: prefix, child: c };
  }

  /**
   * Hash the dirty part of the tree; returns the root and the new nodes to persist: every node hashed since the last
   * commit (a createProof() in between hashes nodes too; they are handed out here, not lost).
   */
  commit(): TrieCommit {
    const root = this.hashRoot();
    const nodes = this.pending;
    this.pending = [];
    return { root, nodes };
  }

  private hashRoot(): Uint8Array {
    if (this.root === null) return emptyTrieRoot(this.hash);
    if (this.root.t === 3) return this.root.hash;
    const ref = this.refOf(this.root, this.pending);
    const enc = this.root.enc as Uint8Array;
    if (ref.length === 32 && enc.length >= 32) return ref;
    // A root shorter than 32 bytes is still stored and referenced by its hash.
    const root = this.hash(enc);
    if (this.shortRootHashed !== this.root) {
      this.pending.push([root, enc]);
      this.shortRootHashed = this.root;
    }
    return root;
  }

  /** The node's reference in its parent (see TrieNode), encoding and hashing it and its dirty descendants first. */
  private refOf(node: TrieNode, out: [Uint8Array, Uint8Array][]): Uint8Array {
    return nodeRef(node, this.hash, out);
  }

  /** Merkle proof for key: the encodings of the nodes on its path, root first (as eth_getProof and ethereumjs). */
  async createProof(key: Uint8Array): Promise<Uint8Array[]> {
    this.hashRoot();
    const proof: Uint8Array[] = [];
    let node = this.root;
    let path = bytesToNibbles(key);
    while (node) {
      const n = await this.resolve(node);
      if (!n.enc) this.refOf(n, []);
      proof.push(n.enc as Uint8Array);
      if (n.t === 0) break;
      if (n.t === 1) {
        if (commonPrefix(n.key, path) !== n.key.length) break;
        path = path.subarray(n.key.length);
        node = n.child;
      } else {
        if (path.length === 0) break;
        node = n.children[path[0] as number] ?? null;
        path = path.subarray(1);
      }
    }
    return proof;
  }
}

// Node encodings written directly (the same bytes as rlpEncode of the node's item list): commit() encodes every dirty
// node, and building item lists for the generic encoder cost more than hashing them.

/** A child reference inside its parent: a hash is an RLP string, an inline node's encoding goes in as is. */
function refSize(ref: Uint8Array): number {
  return ref.length === 32 ? 33 : ref.length;
}

function writeRef(out: Uint8Array, pos: number, ref: Uint8Array): number {
  if (ref.length === 32) return writeRlpString(out, pos, ref);
  out.set(ref, pos);
  return pos + ref.length;
}

/** [path, value] for a leaf, [path, child reference] for an extension. */
function encodeShortNode(path: Uint8Array, second: Uint8Array, secondIsRef: boolean): Uint8Array {
  const payload = rlpStringSize(path) + (secondIsRef ? refSize(second) : rlpStringSize(second));
  const out = new Uint8Array(rlpHeaderSize(payload) + payload);
  let pos = writeRlpHeader(out, 0, payload, 0xc0);
  pos = writeRlpString(out, pos, path);
  if (secondIsRef) writeRef(out, pos, second);
  else writeRlpString(out, pos, second);
  return out;
}

function encodeBranch(refs: (Uint8Array | null)[], value: Uint8Array | null): Uint8Array {
  const v = value ?? EMPTY;
  let payload = rlpStringSize(v);
  for (const ref of refs) payload += ref ? refSize(ref) : 1;
  const out = new Uint8Array(rlpHeaderSize(payload) + payload);
  let pos = writeRlpHeader(out, 0, payload, 0xc0);
  for (const ref of refs) {
    if (ref) pos = writeRef(out, pos, ref);
    else out[pos++] = 0x80;
  }
  writeRlpString(out, pos, v);
  return out;
}

function concatNibbles(a: Nibbles, b: Nibbles): Nibbles {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A node reader over a set of proof nodes (any order), each found under its own hash only. */
export function proofNodeReader(hash: HashFn, nodes: readonly Uint8Array[]): TrieNodeReader {
  const byHash = new Map<string, Uint8Array>();
  for (const enc of nodes) byHash.set(bytesToHex(hash(enc)), enc);
  return { getNode: (h) => byHash.get(bytesToHex(h)) };
}

/**
 * Verify a proof against a root. Returns the value (undefined for a valid proof of absence); throws ChainError if the
 * proof does not match the root.
 */
export async function verifyTrieProof(
  hash: HashFn,
  root: Uint8Array,
  key: Uint8Array,
  proof: Uint8Array[],
): Promise<Uint8Array | undefined> {
  return new MerklePatriciaTrie({ hash, root, reader: proofNodeReader(hash, proof) }).get(key);
}
