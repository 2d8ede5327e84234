// Differential property tests: our MerklePatriciaTrie against @ethereumjs/trie v6 (the reference) with the same node
// hash, BLAKE3. Keys are not hashed by either trie (the chain hashes them itself: key = blake3(address)).
import { Trie } from "@ethereumjs/trie";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChainError } from "./errors.ts";
import { blake3 } from "./hash.ts";
import { bytesToHex, equalBytes, hexToBytes } from "./hex.ts";
import { type RlpInput, rlpEncode } from "./rlp.ts";
import {
  bytesToNibbles,
  decodeTrieNode,
  emptyTrieRoot,
  MerklePatriciaTrie,
  type TrieNodeReader,
  trieRootOf,
  verifyTrieProof,
} from "./trie.ts";

const hex = (b: Uint8Array | null | undefined): string | undefined =>
  b === null || b === undefined ? undefined : bytesToHex(b);
const hexList = (l: Uint8Array[]): string[] => l.map((b) => bytesToHex(b));

function newReference(): Trie {
  // v6: `useKeyHashingFunction` is the node hash as well; `useKeyHashing: false` leaves keys as given.
  return new Trie({ useKeyHashing: false, useKeyHashingFunction: blake3 });
}

type Store = Map<string, Uint8Array>;
function readerOver(store: Store, async: boolean): TrieNodeReader {
  return async ? { getNode: async (h) => store.get(bytesToHex(h)) } : { getNode: (h) => store.get(bytesToHex(h)) };
}

/** commit() and persist its nodes, checking that every node is stored under its own hash. */
function commitInto(trie: MerklePatriciaTrie, store: Store): Uint8Array {
  const { root, nodes } = trie.commit();
  for (const [h, enc] of nodes) {
    expect(hex(blake3(enc))).toBe(hex(h));
    store.set(bytesToHex(h), enc);
  }
  return root;
}

// ---- Scenarios: a pool of keys, then batches of operations on keys from the pool --------------------------------

/** 32-byte keys, as in the state trie; some share long prefixes with a base key (long extensions, deep branches). */
const secureKeys = fc.uint8Array({ minLength: 32, maxLength: 32 }).chain((base) =>
  fc.uniqueArray(
    fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.tuple(fc.integer({ min: 0, max: 31 }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([n, tail]) => {
        const k = Uint8Array.from(base);
        k.set(tail.subarray(n), n);
        return k;
      }),
    ),
    { minLength: 1, maxLength: 48, size: "max", selector: (k) => hex(k) },
  ),
);

/** Short keys over a small alphabet: many keys are prefixes of others (branch values, embedded nodes < 32 bytes). */
const shortKeys = fc.uniqueArray(
  fc
    .array(fc.constantFrom(0x00, 0x01, 0x10, 0x11, 0x12, 0xf0, 0xff), { minLength: 0, maxLength: 3 })
    .map((a) => Uint8Array.from(a)),
  { minLength: 1, maxLength: 30, size: "max", selector: (k) => hex(k) },
);

/** Keys of mixed lengths 1..33 sharing prefixes: short and long keys in the same trie. */
const mixedKeys = fc.uint8Array({ minLength: 33, maxLength: 33 }).chain((base) =>
  fc.uniqueArray(
    fc
      .tuple(fc.integer({ min: 0, max: 33 }), fc.integer({ min: 1, max: 33 }), fc.uint8Array({ maxLength: 33 }))
      .map(([n, len, tail]) => {
        const k = Uint8Array.from(base.subarray(0, len));
        k.set(tail.subarray(0, Math.max(0, len - n)), Math.min(n, len));
        return k;
      }),
    { minLength: 1, maxLength: 30, size: "max", selector: (k) => hex(k) },
  ),
);

type Op =
  | { kind: "put"; k: number; value: Uint8Array }
  | { kind: "putEmpty"; k: number }
  | { kind: "del"; k: number }
  | { kind: "proof"; k: number };

const value = fc.uint8Array({ minLength: 1, maxLength: 100 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("put" as const), k: fc.nat(), value }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("del" as const), k: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("putEmpty" as const), k: fc.nat() }) },
  // A proof in the middle of a batch, before commit(): must not lose any node of the following commit.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("proof" as const), k: fc.nat() }) },
);

interface Scenario {
  keys: Uint8Array[];
  /** Keys never put: for absence proofs and gets. */
  absent: Uint8Array[];
  batches: Op[][];
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    keys: fc.oneof(
      { weight: 2, arbitrary: secureKeys },
      { weight: 1, arbitrary: shortKeys },
      { weight: 1, arbitrary: mixedKeys },
    ),
    absent: fc.array(fc.uint8Array({ minLength: 0, maxLength: 33 }), { maxLength: 3 }),
    // First batch: put a share (0..4 quarters) of the pool, so later batches work on a populated trie.
    fill: fc.record({
      quarters: fc.integer({ min: 0, max: 4 }),
      values: fc.array(value, { minLength: 1, maxLength: 8 }),
    }),
    batches: fc.array(fc.array(op, { minLength: 1, maxLength: 24, size: "medium" }), { minLength: 1, maxLength: 5 }),
  })
  .map(({ keys, absent, fill, batches }) => {
    const prefill: Op[] = keys.flatMap((_, k) =>
      k % 4 < fill.quarters
        ? [{ kind: "put" as const, k, value: fill.values[k % fill.values.length] as Uint8Array }]
        : [],
    );
    const known = new Set(keys.map((k) => hex(k)));
    // Absent keys: random ones plus close neighbours of pool keys (diverge late in the path).
    const near = keys.slice(0, 3).map((k) => {
      const n = Uint8Array.from(k);
      if (n.length > 0) n[n.length - 1] = (n[n.length - 1] as number) ^ 1;
      return n;
    });
    const extended = keys.slice(0, 2).map((k) => Uint8Array.from([...k, 0x42]));
    return {
      keys,
      absent: [...absent, ...near, ...extended].filter((k) => !known.has(hex(k))),
      batches: prefill.length > 0 ? [prefill, ...batches] : batches,
    };
  });

type Model = Map<string, Uint8Array>;

/** A reference trie holding exactly the model's entries, built by insertions only. */
async function freshReference(model: Model): Promise<Trie> {
  const t = newReference();
  for (const [k, v] of model) await t.put(hexToBytes(k), v);
  return t;
}

/** No key is a proper prefix of another, so no branch carries a value (always so for the state trie's 32-byte keys). */
function prefixFree(keys: Uint8Array[]): boolean {
  const hs = keys.map((k) => hex(k) as string);
  return !hs.some((a) => hs.some((b) => a !== b && b.startsWith(a)));
}

/**
 * The reference and the model. With prefix-free keys the reference is one @ethereumjs/trie updated in step with ours
 * (puts, overwrites and deletes). When keys can be prefixes of others it is rebuilt from the model by insertions only:
 * @ethereumjs/trie 6.2.1's delete does not collapse a branch left with only a value (see the pinned test below), and
 * a trie is canonical, so the rebuilt one is the right oracle.
 */
class Reference {
  readonly model: Model = new Map();
  private readonly incremental = newReference();
  private rebuilt: Trie | null = null;
  constructor(readonly strict: boolean) {}

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    if (this.strict) await this.incremental.put(key, value);
    this.model.set(hex(key) as string, value);
    this.rebuilt = null;
  }

  async del(key: Uint8Array): Promise<void> {
    if (this.strict) await this.incremental.del(key);
    this.model.delete(hex(key) as string);
    this.rebuilt = null;
  }

  async trie(): Promise<Trie> {
    if (this.strict) return this.incremental;
    this.rebuilt ??= await freshReference(this.model);
    return this.rebuilt;
  }

  want(key: Uint8Array): Uint8Array | undefined {
    return this.model.get(hex(key) as string);
  }
}

async function applyOp(o: Op, keys: Uint8Array[], ours: MerklePatriciaTrie, ref: Reference): Promise<void> {
  const key = keys[o.k % keys.length] as Uint8Array;
  switch (o.kind) {
    case "put":
      await ours.put(key, o.value);
      await ref.put(key, o.value);
      return;
    case "putEmpty":
      await ours.put(key, new Uint8Array(0));
      await ref.del(key);
      return;
    case "del":
      await ours.del(key);
      await ref.del(key);
      return;
    case "proof": {
      const r = await ref.trie();
      expect(hexList(await ours.createProof(key))).toEqual(hexList(await r.createProof(key)));
      return;
    }
  }
}

const RUNS = 100;

describe("MerklePatriciaTrie vs @ethereumjs/trie (BLAKE3)", () => {
  it("empty trie: root, get and absence proofs match the reference", async () => {
    const ref = newReference();
    const ours = new MerklePatriciaTrie({ hash: blake3 });
    expect(hex(emptyTrieRoot(blake3))).toBe(hex(ref.root()));
    expect(hex(ours.commit().root)).toBe(hex(ref.root()));
    expect(ours.commit().nodes).toEqual([]);
    // An explicit empty root is the empty trie.
    const reopened = new MerklePatriciaTrie({ hash: blake3, root: emptyTrieRoot(blake3) });
    expect(hex(reopened.commit().root)).toBe(hex(ref.root()));
    for (const key of [new Uint8Array(0), new Uint8Array(32), blake3(Uint8Array.of(1))]) {
      expect(await ours.get(key)).toBeUndefined();
      const proof = await ours.createProof(key);
      expect(hexList(proof)).toEqual(hexList(await ref.createProof(key)));
      expect(proof).toEqual([]);
      expect(await verifyTrieProof(blake3, emptyTrieRoot(blake3), key, proof)).toBeUndefined();
      await expect(verifyTrieProof(blake3, blake3(Uint8Array.of(9)), key, proof)).rejects.toBeInstanceOf(ChainError);
    }
    // Putting and deleting everything returns to the empty root.
    const k = blake3(Uint8Array.of(7));
    await ours.put(k, Uint8Array.of(1, 2, 3));
    await ours.del(k);
    expect(hex(ours.commit().root)).toBe(hex(ref.root()));
  });

  it("roots and gets match after every batch of puts, deletes and overwrites", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ keys, absent, batches }) => {
        const ours = new MerklePatriciaTrie({ hash: blake3 });
        const ref = new Reference(prefixFree(keys));
        for (const batch of batches) {
          for (const o of batch) await applyOp(o, keys, ours, ref);
          const root = hex(ours.commit().root);
          const r = await ref.trie();
          expect(root).toBe(hex(r.root()));
          // Second oracle: the reference rebuilt from scratch (no deletes on its side).
          expect(root).toBe(hex((await freshReference(ref.model)).root()));
          for (const key of [...keys, ...absent]) {
            expect(hex(await ours.get(key))).toBe(hex(ref.want(key)));
            expect(hex(await r.get(key))).toBe(hex(ref.want(key)));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("proofs: same node list as the reference; verify returns the value or absence; tampering throws", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.nat(), async ({ keys, absent, batches }, seed) => {
        const ours = new MerklePatriciaTrie({ hash: blake3 });
        const ref = new Reference(prefixFree(keys));
        for (const batch of batches) {
          for (const o of batch) await applyOp(o, keys, ours, ref);
          const root = ours.commit().root;
          const r = await ref.trie();
          expect(hex(root)).toBe(hex(r.root()));
          for (const [i, key] of [...keys, ...absent].entries()) {
            const want = ref.want(key);
            const proof = await ours.createProof(key);
            expect(hexList(proof)).toEqual(hexList(await r.createProof(key)));
            expect(hex(await verifyTrieProof(blake3, root, key, proof))).toBe(hex(want));
            if (ref.model.size === 0) {
              // (The reference's verifyProof rejects every proof against the empty root, even the empty one.)
              expect(proof).toEqual([]);
              continue;
            }
            expect(hex(await r.verifyProof(root, key, proof))).toBe(hex(want));
            // Wrong root.
            const wrongRoot = blake3(root);
            await expect(verifyTrieProof(blake3, wrongRoot, key, proof)).rejects.toBeInstanceOf(ChainError);
            // Tamper with a node referenced by hash (the root, or any node of 32 bytes or more; shorter ones are
            // embedded in their parent and the verifier reads them from there).
            const hashed = proof.flatMap((enc, j) => (j === 0 || enc.length >= 32 ? [j] : []));
            const j = hashed[(seed + i) % hashed.length] as number;
            const bad = proof.map((enc) => Uint8Array.from(enc));
            const node = bad[j] as Uint8Array;
            const pos = (seed * 31 + i) % node.length;
            node[pos] = (node[pos] as number) ^ (1 << ((seed + i) % 8));
            await expect(verifyTrieProof(blake3, root, key, bad)).rejects.toBeInstanceOf(ChainError);
            // Drop a hash-referenced node.
            const dropped = proof.filter((_, x) => x !== j);
            await expect(verifyTrieProof(blake3, root, key, dropped)).rejects.toBeInstanceOf(ChainError);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("persistence: a trie reopened from committed nodes reads and updates like the reference", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.boolean(), async ({ keys, absent, batches }, asyncReader) => {
        // `live` stays in memory across batches; `reopened` is rebuilt from its own store before every batch.
        const live = new MerklePatriciaTrie({ hash: blake3 });
        const liveStore: Store = new Map();
        const store: Store = new Map();
        let root = emptyTrieRoot(blake3);
        const ref = new Reference(prefixFree(keys));
        const refLive = new Reference(prefixFree(keys));
        const model = ref.model;
        for (const batch of batches) {
          const reopened = new MerklePatriciaTrie({ hash: blake3, root, reader: readerOver(store, asyncReader) });
          for (const o of batch) {
            await applyOp(o, keys, live, refLive);
            await applyOp(o, keys, reopened, ref);
          }
          root = commitInto(reopened, store);
          const r = await ref.trie();
          expect(hex(root)).toBe(hex(r.root()));
          const liveRoot = commitInto(live, liveStore);
          expect(hex(liveRoot)).toBe(hex(root));
          // Both stores are complete: fresh tries over them see every entry (and no other).
          for (const [r, s] of [
            [root, store],
            [liveRoot, liveStore],
          ] as const) {
            const fresh = new MerklePatriciaTrie({ hash: blake3, root: r, reader: readerOver(s, asyncReader) });
            for (const key of [...keys, ...absent]) {
              expect(hex(await fresh.get(key))).toBe(hex(model.get(hex(key) as string)));
            }
            // Deleting absent keys from a reopened trie changes nothing and re-hashes nothing.
            for (const key of absent) await fresh.del(key);
            const again = fresh.commit();
            expect(hex(again.root)).toBe(hex(r));
            expect(again.nodes).toEqual([]);
          }
          // Proofs straight from the store.
          const probe = new MerklePatriciaTrie({ hash: blake3, root, reader: readerOver(store, asyncReader) });
          for (const key of [...keys.slice(0, 5), ...absent]) {
            const proof = await probe.createProof(key);
            expect(hexList(proof)).toEqual(hexList(await r.createProof(key)));
            expect(hex(await verifyTrieProof(blake3, root, key, proof))).toBe(hex(ref.want(key)));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("bad node bytes from the reader throw ChainError", async () => {
    // RLP-shaped garbage, biased towards node-like lists (2 or 17 items) so decoding gets past the RLP layer.
    const { item } = fc.letrec<{ item: RlpInput }>((tie) => ({
      item: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom(new Uint8Array(0), new Uint8Array(32), Uint8Array.of(0x20), Uint8Array.of(0x3f, 1)),
        fc.array(tie("item"), { minLength: 2, maxLength: 2 }),
        fc.array(tie("item"), { minLength: 17, maxLength: 17 }),
        fc.array(tie("item"), { maxLength: 18 }),
      ),
    }));
    const badBytes = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      item.map((x) => rlpEncode(x)),
      // Valid RLP followed by trailing junk, or cut short.
      item.chain((x) => {
        const enc = rlpEncode(x);
        return fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 4 }).map((j) => Uint8Array.from([...enc, ...j])),
          fc.nat({ max: Math.max(0, enc.length - 1) }).map((n) => enc.subarray(0, n)),
        );
      }),
    );
    const ops = fc.array(fc.tuple(fc.uint8Array({ maxLength: 33 }), fc.uint8Array({ maxLength: 40 })), {
      maxLength: 4,
    });
    const rootHash = blake3(Uint8Array.of(0xde, 0xad));
    const expectChainErrorOrOk = async (f: () => unknown): Promise<void> => {
      try {
        await f();
      } catch (e) {
        if (!(e instanceof ChainError)) throw e;
      }
    };
    await fc.assert(
      fc.asyncProperty(badBytes, ops, async (enc, kvs) => {
        await expectChainErrorOrOk(() => decodeTrieNode(enc));
        const reader: TrieNodeReader = { getNode: (h) => (equalBytes(h, rootHash) ? enc : undefined) };
        const trie = new MerklePatriciaTrie({ hash: blake3, root: rootHash, reader });
        for (const [k, v] of kvs) {
          await expectChainErrorOrOk(() => trie.get(k));
          await expectChainErrorOrOk(() => trie.createProof(k));
          await expectChainErrorOrOk(() => trie.put(k, v));
          await expectChainErrorOrOk(() => trie.del(k));
          await expectChainErrorOrOk(() => verifyTrieProof(blake3, blake3(enc), k, [enc]));
        }
        await expectChainErrorOrOk(() => trie.commit());
      }),
      { numRuns: 300 },
    );
    // Always-bad inputs must be rejected, and with ChainError specifically.
    const alwaysBad = [
      new Uint8Array(0), // not RLP
      Uint8Array.of(0xc0), // empty list
      rlpEncode(Uint8Array.of(1, 2, 3)), // a string, not a node
      rlpEncode([Uint8Array.of(0x20)]), // 1 item
      rlpEncode([Uint8Array.of(0x40), Uint8Array.of(1)]), // bad hex-prefix flag
      rlpEncode([new Uint8Array(0), Uint8Array.of(1)]), // empty path
      rlpEncode([Uint8Array.of(0x00), new Uint8Array(0)]), // extension without child
      rlpEncode([Uint8Array.of(0x00), Uint8Array.of(1, 2, 3)]), // extension child neither hash nor node
      rlpEncode([Uint8Array.of(0x00), new Uint8Array(33)]), // child reference longer than a hash
      rlpEncode([Uint8Array.of(0x00), new Uint8Array(31)]), // child reference shorter than a hash
      rlpEncode([Uint8Array.of(0x20), [Uint8Array.of(1)]]), // leaf value is a list
      rlpEncode([...new Array(16).fill(new Uint8Array(0)), [Uint8Array.of(1)]]), // branch value is a list
      rlpEncode([...new Array(15).fill(new Uint8Array(0)), Uint8Array.of(5), Uint8Array.of(1)]), // bad child ref
      Uint8Array.of(0xc3, 0x80, 0x80), // truncated list
      Uint8Array.of(0x82, 0x00), // truncated string
    ];
    for (const enc of alwaysBad) {
      expect(() => decodeTrieNode(enc)).toThrow(ChainError);
      const reader = { getNode: () => enc };
      const trie = new MerklePatriciaTrie({ hash: blake3, root: rootHash, reader });
      await expect(trie.get(new Uint8Array(32))).rejects.toBeInstanceOf(ChainError);
      await expect(trie.put(new Uint8Array(32), Uint8Array.of(1))).rejects.toBeInstanceOf(ChainError);
      await expect(trie.del(new Uint8Array(32))).rejects.toBeInstanceOf(ChainError);
    }
    // A missing node is a ChainError too.
    const empty = new MerklePatriciaTrie({ hash: blake3, root: rootHash });
    await expect(empty.get(new Uint8Array(32))).rejects.toBeInstanceOf(ChainError);
  });

  it("deleting the last child of a branch that holds a value collapses it (the reference does not)", async () => {
    // Keys 0x02 and 0x0202: 0x02's value sits in a branch whose only child leads to 0x0202. Deleting 0x0202 must leave
    // the same trie as holding 0x02 alone (a single leaf). @ethereumjs/trie 6.2.1 keeps a branch with only a value;
    // unreachable with the state trie's fixed-length keys, but why prefix keys are checked against a rebuilt reference.
    const v = Uint8Array.of(0);
    const ours = new MerklePatriciaTrie({ hash: blake3 });
    const ref = newReference();
    for (const t of [ours, ref]) {
      await t.put(Uint8Array.of(2, 2), v);
      await t.put(Uint8Array.of(2), v);
      await t.del(Uint8Array.of(2, 2));
    }
    const single = newReference();
    await single.put(Uint8Array.of(2), v);
    expect(hex(ours.commit().root)).toBe(hex(single.root()));
    expect(hex(ref.root())).not.toBe(hex(single.root()));
  });

  it("trieRootOf (one-pass build) equals the reference's root for any key set, in any input order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(secureKeys, shortKeys, mixedKeys),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 30, maxLength: 30 }),
        async (keys, values) => {
          const entries = keys.map((k, i) => [k, values[i % values.length] as Uint8Array] as const);
          const ref = newReference();
          for (const [k, v] of entries) await ref.put(k, v);
          expect(hex(trieRootOf([...entries].reverse(), blake3))).toBe(hex(ref.root()));
        },
      ),
      { numRuns: 150 },
    );
    expect(hex(trieRootOf([], blake3))).toBe(hex(emptyTrieRoot(blake3)));
    expect(() =>
      trieRootOf(
        [
          [Uint8Array.of(1), Uint8Array.of(2)],
          [Uint8Array.of(1), Uint8Array.of(3)],
        ],
        blake3,
      ),
    ).toThrow(ChainError);
  });

  it("bytesToNibbles splits bytes high nibble first", () => {
    expect([...bytesToNibbles(Uint8Array.of(0xab, 0x01))]).toEqual([0xa, 0xb, 0x0, 0x1]);
  });
});
