// Key ranges of a Merkle Patricia trie: ordered iteration, range proofs and their verification, for state sync.
//
// A range proof (geth trie.VerifyRangeProof, snap/1) proves that `keys`/`values` are exactly the entries of the trie
// in [firstKey, last key]: the proofs of the two edge keys give the nodes on both edge paths; every subtree inside the
// range is cut out, the keys are put back in, and the result must hash to the root. Any hash reference left in the
// tree lies wholly outside the range, so a matching root leaves no room for a hidden or missing key inside it. The rebuilt tree also answers whether keys exist to the right (`more`), and its known
// nodes are what a syncing node stores for the range: over chunks tiling the key space they are the whole trie.
import { ChainError, describeError } from "./errors.ts";
import { bytesToHex, compareBytes, equalBytes } from "./hex.ts";
import {
  bytesToNibbles,
  decodeTrieNode,
  emptyTrieRoot,
  type HashFn,
  MerklePatriciaTrie,
  type Nibbles,
  type TrieNode,
  type TrieNodeReader,
} from "./trie.ts";

/** Upper bounds on one range proof's inputs: snap/1 responses are a few thousand keys and a few dozen nodes. */
export const MAX_RANGE_KEYS = 1_000_000;
export const MAX_RANGE_PROOF_NODES = 10_000;

type HashNode = Extract<TrieNode, { t: 3 }>;
type KnownNode = Exclude<TrieNode, HashNode>;

export interface TrieEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export interface RangeProofResult {
  /** Whether the trie holds keys after the last key of the range (never for an empty range: that proves the end). */
  more: boolean;
  /**
   * Every node of the verified range whose encoding is known, as [hash, encoding]: edge paths and interior, root
   * included. Adjacent ranges share their edge nodes, and identical subtrees at two places appear twice.
   */
  nodes: [Uint8Array, Uint8Array][];
}

const EMPTY = new Uint8Array(0);

function rangeError(reason: string): ChainError {
  return new ChainError({ code: "TRIE_RANGE_INVALID", reason });
}

function concatNibbles(a: Nibbles, b: Nibbles): Nibbles {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function withNibble(a: Nibbles, nibble: number): Nibbles {
  const out = new Uint8Array(a.length + 1);
  out.set(a);
  out[a.length] = nibble;
  return out;
}

function startsWith(a: Nibbles, prefix: Nibbles): boolean {
  if (a.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

function nibblesToBytes(nibbles: Nibbles): Uint8Array {
  // Keys are whole bytes; an odd path can only come from a corrupt node.
  if (nibbles.length % 2) throw new ChainError({ code: "RLP_INVALID", reason: "trie: odd-length key" });
  const out = new Uint8Array(nibbles.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = ((nibbles[2 * i] as number) << 4) | (nibbles[2 * i + 1] as number);
  return out;
}

/**
 * Where the keys under `prefix` lie relative to `bound`: all below it (-1), all at or above it (1), or on both sides
 * (0: prefix is a proper prefix of bound, so the node is on bound's path).
 */
function sideOf(prefix: Nibbles, bound: Nibbles): -1 | 0 | 1 {
  const n = Math.min(prefix.length, bound.length);
  for (let i = 0; i < n; i++) {
    if (prefix[i] !== bound[i]) return (prefix[i] as number) < (bound[i] as number) ? -1 : 1;
  }
  return prefix.length < bound.length ? 0 : 1;
}

// ---- Iteration ----------------------------------------------------------------------------------------------------

async function readNode(reader: TrieNodeReader, hash: Uint8Array): Promise<KnownNode> {
  const got = reader.getNode(hash);
  // Only wait when the reader is async: a microtask per node adds up over a million leaves.
  const enc = got instanceof Promise ? await got : got;
  if (!enc) throw new ChainError({ code: "RLP_INVALID", reason: "trie: missing node" });
  return decodeTrieNode(enc) as KnownNode;
}

interface IterFrame {
  node: TrieNode;
  path: Nibbles;
  /** path is a proper prefix of `from`: the subtree may hold keys before it. */
  bounded: boolean;
}

/**
 * The trie's entries in increasing key order, from the first key >= `from` (all if absent). Depth-first with an
 * explicit stack; only subtrees that can hold keys >= `from` are read, and nothing is kept beyond the current path's
 * pending siblings, so it streams tries far larger than memory from a database reader.
 */
export async function* iterateTrie(opts: {
  hash: HashFn;
  root: Uint8Array;
  reader: TrieNodeReader;
  from?: Uint8Array;
}): AsyncGenerator<TrieEntry> {
  if (equalBytes(opts.root, emptyTrieRoot(opts.hash))) return;
  const from = opts.from ? bytesToNibbles(opts.from) : EMPTY;
  const stack: IterFrame[] = [{ node: { t: 3, hash: opts.root }, path: EMPTY, bounded: from.length > 0 }];
  while (stack.length > 0) {
    const { node, path, bounded } = stack.pop() as IterFrame;
    const n = node.t === 3 ? await readNode(opts.reader, node.hash) : node;
    if (n.t === 0) {
      const key = concatNibbles(path, n.key);
      if (!bounded || compareBytes(key, from) >= 0) yield { key: nibblesToBytes(key), value: n.value };
    } else if (n.t === 1) {
      const childPath = concatNibbles(path, n.key);
      const side = bounded ? sideOf(childPath, from) : 1;
      if (side >= 0) stack.push({ node: n.child, path: childPath, bounded: side === 0 });
    } else {
      // The branch's own value has the shortest key of its subtree; a bounded path is shorter than `from`, so below it.
      if (n.value !== null && !bounded) yield { key: nibblesToBytes(path), value: n.value };
      // Push right to left so the smallest nibble is popped first.
      const low = bounded ? (from[path.length] as number) : 0;
      for (let i = 15; i >= low; i--) {
        const child = n.children[i];
        if (!child) continue;
        const childPath = withNibble(path, i);
        stack.push({ node: child, path: childPath, bounded: bounded && i === low && childPath.length < from.length });
      }
    }
  }
}

// ---- Proofs -------------------------------------------------------------------------------------------------------

/**
 * The proof for a range: the Merkle proofs of firstKey and lastKey (each may be a proof of absence), merged without
 * duplicates, root first.
 */
export async function createRangeProof(
  opts: { hash: HashFn; root: Uint8Array; reader: TrieNodeReader },
  firstKey: Uint8Array,
  lastKey: Uint8Array,
): Promise<Uint8Array[]> {
  const trie = new MerklePatriciaTrie(opts);
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const key of equalBytes(firstKey, lastKey) ? [firstKey] : [firstKey, lastKey]) {
    for (const enc of await trie.createProof(key)) {
      const id = bytesToHex(enc);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(enc);
    }
  }
  return out;
}

/** Proof nodes by hash. Nodes nobody references are ignored (geth accepts such bloated proofs too). */
class ProofNodes {
  private readonly byHash = new Map<string, Uint8Array>();
  /** [hash, encoding] of every node read, in reading order. */
  readonly read: [Uint8Array, Uint8Array][] = [];

  constructor(hash: HashFn, proof: readonly Uint8Array[]) {
    for (const enc of proof) this.byHash.set(bytesToHex(hash(enc)), enc);
  }

  resolve(node: TrieNode): KnownNode {
    if (node.t !== 3) return node;
    const enc = this.byHash.get(bytesToHex(node.hash));
    if (!enc) throw rangeError("proof missing node");
    const n = decodeTrieNode(enc) as KnownNode;
    // Cached as committed, so an untouched proof node keeps its hash instead of being re-hashed.
    n.enc = enc;
    n.ref = node.hash;
    this.read.push([node.hash, enc]);
    return n;
  }
}

/**
 * `node` (at `prefix`) with every key in [left, right] removed. Subtrees wholly outside stay as they are, hash
 * references included; subtrees wholly inside are dropped unread. The nodes on either edge's path are read from the
 * proof (they straddle an edge, or end the path: geth requires those too) and pruned child by child.
 */
function pruneRange(
  node: TrieNode,
  prefix: Nibbles,
  left: Nibbles,
  right: Nibbles,
  proof: ProofNodes,
): TrieNode | null {
  const l = sideOf(prefix, left);
  if (l < 0) return node;
  const r = sideOf(prefix, right);
  // sideOf() says "at or above" for a prefix equal to the bound: a node at exactly `right` still holds `right`.
  const atRight = r > 0 && prefix.length === right.length && startsWith(prefix, right);
  if (r > 0 && !atRight) return node;
  const atLeft = l > 0 && prefix.length === left.length && startsWith(prefix, left);
  if (l > 0 && r < 0 && !atLeft) return null;
  const n = proof.resolve(node);
  const inRange = (key: Nibbles): boolean => compareBytes(key, left) >= 0 && compareBytes(key, right) <= 0;
  if (n.t === 0) return inRange(concatNibbles(prefix, n.key)) ? null : n;
  if (n.t === 1) {
    const child = pruneRange(n.child, concatNibbles(prefix, n.key), left, right, proof);
    if (child === n.child) return n;
    // An extension whose branch is wholly inside the range goes with it.
    return child === null ? null : { t: 1, key: n.key, child };
  }
  let changed = false;
  const children = n.children.map((c, i) => {
    if (!c) return null;
    const pruned = pruneRange(c, withNibble(prefix, i), left, right, proof);
    if (pruned !== c) changed = true;
    return pruned;
  });
  const value = n.value !== null && inRange(prefix) ? null : n.value;
  if (!changed && value === n.value) return n;
  // Possibly left with one child or none: the range's keys fill it back in, or the root check fails.
  return { t: 2, children, value };
}

/**
 * Whether the trie holds a key after `key` (or at it, with `orAt`), following key's path through nodes given by
 * `resolve`. Everything off the path to the right is only tested for presence, so it may be unresolved.
 */
function hasKeyAfter(root: TrieNode | null, key: Nibbles, orAt: boolean, resolve: (n: TrieNode) => KnownNode): boolean {
  let node = root;
  let pos = 0;
  while (node) {
    const n = resolve(node);
    const rest = key.subarray(pos);
    if (n.t === 0) {
      const c = compareBytes(n.key, rest);
      return c > 0 || (orAt && c === 0);
    }
    if (n.t === 1) {
      if (!startsWith(rest, n.key)) return compareBytes(n.key, rest) > 0;
      pos += n.key.length;
      node = n.child;
      continue;
    }
    if (rest.length === 0) return (orAt && n.value !== null) || n.children.some((c) => c !== null);
    for (let i = (rest[0] as number) + 1; i < 16; i++) if (n.children[i]) return true;
    node = n.children[rest[0] as number] ?? null;
    pos++;
  }
  return false;
}

/** [hash, encoding] of every hash-referenced node of a committed tree whose encoding is known (plus the root). */
function knownNodes(root: KnownNode, rootHash: Uint8Array): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [[rootHash, root.enc as Uint8Array]];
  const stack: TrieNode[] = [];
  const pushChildren = (n: KnownNode): void => {
    if (n.t === 1) stack.push(n.child);
    else if (n.t === 2) for (const c of n.children) if (c) stack.push(c);
  };
  pushChildren(root);
  while (stack.length > 0) {
    const n = stack.pop() as TrieNode;
    // Hash references left in the tree lie outside the range: not ours to vouch for.
    if (n.t === 3) continue;
    // A 32-byte ref is a hash; a shorter one is the node's own encoding, inline in its parent's.
    if (n.ref !== undefined && n.ref.length === 32) out.push([n.ref, n.enc as Uint8Array]);
    pushChildren(n);
  }
  return out;
}

function checkRangeInput(
  firstKey: Uint8Array,
  keys: Uint8Array[],
  values: Uint8Array[],
  proof: Uint8Array[] | null,
): void {
  if (keys.length > MAX_RANGE_KEYS) throw rangeError(`${keys.length} keys, more than ${MAX_RANGE_KEYS}`);
  if (proof !== null && proof.length > MAX_RANGE_PROOF_NODES) {
    throw rangeError(`proof of ${proof.length} nodes, more than ${MAX_RANGE_PROOF_NODES}`);
  }
  if (keys.length !== values.length) throw rangeError(`${keys.length} keys but ${values.length} values`);
  for (let i = 0; i < keys.length; i++) {
    // An empty value would be a deletion, which a range never holds.
    if ((values[i] as Uint8Array).length === 0) throw rangeError("empty value");
    if ((keys[i] as Uint8Array).length !== (keys[0] as Uint8Array).length) throw rangeError("keys differ in length");
    if (i > 0 && compareBytes(keys[i - 1] as Uint8Array, keys[i] as Uint8Array) >= 0) {
      throw rangeError("keys not strictly increasing");
    }
  }
  if (proof !== null && keys.length > 0) {
    // The edges are firstKey and the last key; their paths only line up for comparison when equally long.
    if (firstKey.length !== (keys[0] as Uint8Array).length) throw rangeError("first key and keys differ in length");
    if (compareBytes(firstKey, keys[0] as Uint8Array) > 0) throw rangeError("keys before the first key");
  }
}

/**
 * Verify that keys/values are exactly the trie's entries in [firstKey, keys[keys.length - 1]] (geth VerifyRangeProof).
 * - proof null: keys/values are the whole trie;
 * - no keys: the proof (of firstKey) shows that the trie holds nothing at or after firstKey (for the empty trie an
 *   empty proof does, where geth wants a root node that does not exist);
 * - otherwise the proof holds the paths of firstKey (present or not) and of the last key; extra nodes are ignored.
 * Keys must be equally long (and as long as firstKey, given a proof). Throws ChainError TRIE_RANGE_INVALID when they
 * are not the range.
 */
export async function verifyRangeProof(
  hash: HashFn,
  root: Uint8Array,
  firstKey: Uint8Array,
  keys: Uint8Array[],
  values: Uint8Array[],
  proof: Uint8Array[] | null,
): Promise<RangeProofResult> {
  checkRangeInput(firstKey, keys, values, proof);
  try {
    return await verifyCheckedRange(hash, root, firstKey, keys, values, proof);
  } catch (e) {
    // Undecodable proof nodes surface as RLP errors from the trie code; to the caller they are a bad range proof.
    if (e instanceof ChainError && e.type.code !== "TRIE_RANGE_INVALID") {
      throw rangeError(`bad proof node (${describeError(e)})`);
    }
    throw e;
  }
}

async function verifyCheckedRange(
  hash: HashFn,
  root: Uint8Array,
  firstKey: Uint8Array,
  keys: Uint8Array[],
  values: Uint8Array[],
  proof: Uint8Array[] | null,
): Promise<RangeProofResult> {
  const emptyRoot = equalBytes(root, emptyTrieRoot(hash));
  if (proof === null) {
    const trie = new MerklePatriciaTrie({ hash });
    for (let i = 0; i < keys.length; i++) await trie.put(keys[i] as Uint8Array, values[i] as Uint8Array);
    const { root: got, nodes } = trie.commit();
    if (!equalBytes(got, root)) throw rangeError("root mismatch");
    return { more: false, nodes };
  }
  const proofNodes = new ProofNodes(hash, proof);
  const rootRef: TrieNode | null = emptyRoot ? null : { t: 3, hash: root };
  if (keys.length === 0) {
    if (hasKeyAfter(rootRef, bytesToNibbles(firstKey), true, (n) => proofNodes.resolve(n))) {
      throw rangeError("more keys exist to the right of an empty range");
    }
    return { more: false, nodes: proofNodes.read };
  }
  const left = bytesToNibbles(firstKey);
  const right = bytesToNibbles(keys[keys.length - 1] as Uint8Array);
  const pruned = rootRef && pruneRange(rootRef, EMPTY, left, right, proofNodes);
  // Every key of the range lies under nodes that were read or dropped, so put() never needs a node by hash.
  const noReads: TrieNodeReader = {
    getNode: () => {
      throw rangeError("proof missing node");
    },
  };
  const trie = MerklePatriciaTrie.fromRootNode({ hash, reader: noReads }, pruned);
  for (let i = 0; i < keys.length; i++) await trie.put(keys[i] as Uint8Array, values[i] as Uint8Array);
  const got = trie.commit().root;
  if (!equalBytes(got, root)) throw rangeError("root mismatch");
  const rebuilt = trie.rootNode() as KnownNode;
  const more = hasKeyAfter(rebuilt, right, false, (n) => {
    if (n.t === 3) throw rangeError("proof missing node");
    return n;
  });
  return { more, nodes: knownNodes(rebuilt, root) };
}
