// Walking stored nodes by their references from an account trie's root reaches exactly the nodes the tries stored:
// every stored child, every storage trie (through the account leaves), inline nodes walked in place.
import { blake3, bytesToHex, ChainError, MerklePatriciaTrie } from "@rustchain/shared";
import { encodeAccount } from "@rustchain/shared/account";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EMPTY_TRIE_ROOT, emptyAccount } from "./account.ts";
import { encodeStorageValue } from "./stateDb.ts";
import { collectNodeRefs, type NodeRefs } from "./trieNodeRefs.ts";

describe("collectNodeRefs", () => {
  it("reaches exactly the stored nodes of an account trie and its storage tries", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.record({
            who: fc.integer({ min: 0, max: 30 }),
            slots: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.bigInt({ min: 1n, max: 2n ** 64n })), {
              maxLength: 8,
            }),
          }),
          { minLength: 1, maxLength: 30, selector: (a) => a.who },
        ),
        async (accounts) => {
          const stored = new Map<string, Uint8Array>();
          const account = new MerklePatriciaTrie({ hash: blake3 });
          for (const { who, slots } of accounts) {
            const storage = new MerklePatriciaTrie({ hash: blake3 });
            for (const [slot, value] of slots) {
              await storage.put(
                blake3(Uint8Array.of(slot)),
                encodeStorageValue(Uint8Array.from(Buffer.from(value.toString(16).padStart(64, "0"), "hex"))),
              );
            }
            const c = storage.commit();
            for (const [h, enc] of c.nodes) stored.set(bytesToHex(h), enc);
            await account.put(
              blake3(Uint8Array.of(who)),
              encodeAccount({ ...emptyAccount(), nonce: 1n, storageRoot: c.root }),
            );
          }
          const c = account.commit();
          for (const [h, enc] of c.nodes) stored.set(bytesToHex(h), enc);
          // Walk from the root.
          const reached = new Set<string>();
          const stack: [Uint8Array, boolean][] = [[c.root, true]];
          while (stack.length > 0) {
            const [h, isAccount] = stack.pop() as [Uint8Array, boolean];
            const key = bytesToHex(h);
            if (reached.has(key)) continue;
            reached.add(key);
            const enc = stored.get(key);
            expect(enc, `node ${key}`).toBeDefined();
            const refs: NodeRefs = { children: [], storageRoots: [] };
            collectNodeRefs(enc as Uint8Array, isAccount, refs);
            for (const child of refs.children) stack.push([child, isAccount]);
            for (const r of refs.storageRoots) {
              expect(bytesToHex(r)).not.toBe(bytesToHex(EMPTY_TRIE_ROOT));
              stack.push([r, false]);
            }
          }
          // The tries stored only what their roots reach (a fresh trie per commit), so the walk finds all of it.
          expect([...reached].sort()).toEqual([...stored.keys()].sort());
        },
      ),
      { numRuns: 50 },
    );
  });

  it("refuses what is not a trie node (a damaged database) with a ChainError", () => {
    const refs: NodeRefs = { children: [], storageRoots: [] };
    for (const junk of [
      Uint8Array.of(),
      Uint8Array.of(0x80),
      Uint8Array.of(0xc3, 0x01, 0x02, 0x03),
      Uint8Array.of(0xc2, 0x20),
      Uint8Array.of(0xc5, 0x82, 0x00, 0x01, 0x81),
      Uint8Array.of(0xf9, 0xff, 0xff),
      // An extension whose child is neither a hash nor a node.
      Uint8Array.of(0xc4, 0x10, 0x82, 0x01, 0x02),
    ]) {
      expect(() => collectNodeRefs(junk, true, refs), Buffer.from(junk).toString("hex")).toThrow(ChainError);
    }
  });
});
