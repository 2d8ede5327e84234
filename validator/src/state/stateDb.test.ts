// Random account updates through the RocksDB-backed state give the same roots and proofs as @ethereumjs/trie
// (given BLAKE3 for keys and nodes), across reopened databases.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Trie } from "@ethereumjs/trie";
import { bigintToBytes32, blake3, bytesToHex, verifyTrieProof } from "@rustchain/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Database, WriteBatch } from "../db/database.ts";
import { decodeAccount, EMPTY_TRIE_ROOT, encodeAccount, isEmptyAccount } from "./account.ts";
import { defaultStateDbOptions, StateDb } from "./stateDb.ts";

const update = fc.record({
  who: fc.integer({ min: 0, max: 39 }),
  nonce: fc.bigInt({ min: 0n, max: 1000n }),
  balance: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 128n })),
});

describe("StateDb", () => {
  it("roots and proofs match @ethereumjs/trie for random account updates over several blocks", async () => {
    const addresses = Array.from({ length: 40 }, (_, i) => blake3(Uint8Array.of(i)).subarray(0, 20));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(update, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 }),
        async (blocks) => {
          const dir = await mkdtemp(join(tmpdir(), "rustchain-state-"));
          let db = await Database.open(dir);
          try {
            const reference = new Trie({ useKeyHashing: true, useKeyHashingFunction: blake3 });
            let root = EMPTY_TRIE_ROOT;
            for (const [i, updates] of blocks.entries()) {
              // Reopen the database between blocks: nothing may depend on in-memory caches.
              if (i > 0) {
                await db.close();
                db = await Database.open(dir);
              }
              const state = new StateDb(defaultStateDbOptions, { db });
              const ws = state.overlay(root, i > 0);
              for (const u of updates) {
                const address = addresses[u.who] as Uint8Array;
                const account = await ws.getAccount(address);
                account.nonce = u.nonce;
                account.balance = u.balance;
                ws.setAccount(address, account);
                if (isEmptyAccount(account)) await reference.del(address);
                else await reference.put(address, encodeAccount(account));
              }
              const batch = new WriteBatch();
              root = await ws.commit(batch, true);
              await db.write(batch);
              expect(bytesToHex(root)).toBe(bytesToHex(reference.root()));
            }
            const state = new StateDb(defaultStateDbOptions, { db });
            for (const address of addresses.slice(0, 10)) {
              const { accountProof, account } = await state.proof(root, address, []);
              expect(accountProof.map(bytesToHex)).toEqual((await reference.createProof(address)).map(bytesToHex));
              const proven = await verifyTrieProof(blake3, root, blake3(address), accountProof);
              if (proven) expect(decodeAccount(proven)).toEqual(account);
              else expect(isEmptyAccount(account)).toBe(true);
              // The flat view agrees with the trie at the head.
              expect(await state.headAccount(address)).toEqual(account);
            }
          } finally {
            await db.close();
            await rm(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("answers execution's reads without waiting on a head overlay, the same values the trie holds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rustchain-state-"));
    const db = await Database.open(dir);
    try {
      const a = blake3(Uint8Array.of(1)).subarray(0, 20);
      const nobody = blake3(Uint8Array.of(2)).subarray(0, 20);
      const slot = (i: number) => bigintToBytes32(BigInt(i));
      const state = new StateDb(defaultStateDbOptions, { db });
      const setup = state.overlay(EMPTY_TRIE_ROOT, false);
      setup.setAccount(a, { ...(await setup.getAccount(a)), nonce: 3n, balance: 7n });
      await setup.setStorage(a, slot(1), slot(11));
      const batch = new WriteBatch();
      const root = await setup.commit(batch, true);
      await db.write(batch);
      state.onHeadCommitted(setup.accountUpdates);

      // On the head, the flat view answers synchronously (Database.getSync), a missing slot as zero.
      const ws = new StateDb(defaultStateDbOptions, { db }).overlay(root, true);
      expect(ws.accountNow(a)).toEqual(await state.accountAt(root, a));
      expect(ws.accountNow(nobody)).toEqual(await state.accountAt(root, nobody));
      expect(bytesToHex(ws.storageNow(a, slot(1)) as Uint8Array)).toBe(
        bytesToHex(await state.storageAt(root, a, slot(1))),
      );
      expect(bytesToHex(ws.storageNow(a, slot(2)) as Uint8Array)).toBe(bytesToHex(new Uint8Array(32)));
      // Writes show through, without waiting on the head.
      expect(ws.trySetStorage(a, slot(1), slot(12))).toBe(true);
      await ws.setStorage(a, slot(2), slot(13));
      expect(bytesToHex(ws.storageNow(a, slot(1)) as Uint8Array)).toBe(bytesToHex(slot(12)));
      expect(bytesToHex(await ws.committedStorage(a, slot(1)))).toBe(bytesToHex(slot(11)));

      // Not on the head: only the trie can answer, so nothing is answered without waiting.
      const off = state.overlay(root, false);
      expect(off.accountNow(a)).toBeUndefined();
      expect(off.storageNow(a, slot(1))).toBeUndefined();
      expect(off.trySetStorage(a, slot(1), slot(14))).toBe(false);
      expect(bytesToHex(await off.getStorage(a, slot(1)))).toBe(bytesToHex(slot(11)));
      expect(bytesToHex(off.storageNow(a, slot(1)) as Uint8Array)).toBe(bytesToHex(slot(11))); // read before
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
