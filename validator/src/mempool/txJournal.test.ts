// The transaction journal: what the pool accepted is in the file once `written()` resolves (one write per turn), it
// comes back through the pool's validation after a crash (included and stale transactions dropped, a torn tail
// ignored), and compaction leaves only the pool's live transactions.
import { appendFileSync, closeSync, openSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, hexToBytes, type SignedTransaction, signTransaction } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createInlineRecovery } from "../execution/senderRecovery.ts";
import { emptyAccount } from "../state/account.ts";
import { defaultMempoolOptions, Mempool } from "./mempool.ts";
import { defaultTxJournalOptions, TX_JOURNAL_FILE, TxJournal, type TxJournalOptions } from "./txJournal.ts";
import { decodeJournal } from "./txJournalFile.ts";

const KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
].map(hexToBytes);
const GWEI = 10n ** 9n;

function tx(key: number, nonce: bigint, tip = GWEI, feeCap = 100n * GWEI): SignedTransaction {
  return signTransaction(
    {
      type: 2,
      chainId: 21076n,
      nonce,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: feeCap,
      gasLimit: 21000n,
      to: new Uint8Array(20).fill(7),
      value: 1n,
      data: new Uint8Array(0),
      accessList: [],
    },
    KEYS[key] as Uint8Array,
  );
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A datadir, and a "node" on it: a pool over account nonces the test sets (inclusion), and its journal. */
async function datadir() {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-journal-"));
  dirs.push(dir);
  const nonces = new Map<string, bigint>();
  const nonceOf = async (a: Uint8Array) => nonces.get(bytesToHex(a)) ?? 0n;
  const file = join(dir, TX_JOURNAL_FILE);
  const open = async (opts: Partial<TxJournalOptions> = {}) => {
    const pool = new Mempool(defaultMempoolOptions, {
      head: () => ({
        chainId: 21076n,
        baseFeePerGas: GWEI,
        gasLimit: 30_000_000n,
        getAccount: async (a) => ({ ...emptyAccount(), balance: 10n ** 21n, nonce: await nonceOf(a) }),
      }),
    });
    const journal = new TxJournal(
      { ...defaultTxJournalOptions, file, ...opts },
      { pool, recovery: createInlineRecovery(), logger: pino({ level: "silent" }) },
    );
    const replay = await journal.start();
    return { pool, journal, replay };
  };
  /** A block included the sender's transactions below `nonce`. */
  const setNonce = (key: number, nonce: bigint) => nonces.set(bytesToHex(tx(key, 0n).from), nonce);
  /** ... and `pool` saw that block. */
  const include = async (pool: Mempool, key: number, nonce: bigint) => {
    setNonce(key, nonce);
    await pool.onBlock([tx(key, nonce - 1n)], nonceOf);
  };
  const onDisk = () => decodeJournal(readFileSync(file), defaultTxJournalOptions);
  return { file, open, setNonce, include, onDisk };
}

const hashes = (txs: { hash: Uint8Array }[]) => txs.map((t) => bytesToHex(t.hash)).sort();
const rawHashes = (raws: Uint8Array[]) => raws.map((r) => bytesToHex(r)).sort();

describe("transaction journal", () => {
  it("has a batch in the file, in one frame, once written() resolves; a crash then loses none of it", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open();
    const txs = Array.from({ length: 100 }, (_, i) => tx(i % 2, BigInt(i >> 1)));
    const sizeBefore = statSync(d.file).size;
    await Promise.all(txs.map((t) => pool.add(t)));
    // Accepted this turn, not written yet: the write happens once, at the end of the turn.
    expect(statSync(d.file).size).toBe(sizeBefore);
    await journal.written();
    const frameBytes = 8 + txs.reduce((n, t) => n + 4 + t.raw.length, 0);
    expect(statSync(d.file).size).toBe(sizeBefore + frameBytes);
    expect(rawHashes(d.onDisk().records)).toEqual(rawHashes(txs.map((t) => t.raw)));

    // A crash: no stop(). A new pool on the same datadir gets every transaction back.
    const again = await d.open();
    expect(again.replay).toMatchObject({ records: 100, restored: 100, discardedBytes: 0 });
    expect(hashes(again.pool.all())).toEqual(hashes(txs));
    await again.journal.stop();
  });

  it("replays through validation: included and stale transactions are dropped, the rest kept", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open();
    for (let n = 0n; n < 5n; n++) {
      await pool.add(tx(0, n));
      await pool.add(tx(1, n));
    }
    await journal.written();
    // A crash, and sender 0's nonces 0-2 were included in a block the pool never saw (committed just before it).
    d.setNonce(0, 3n);
    const again = await d.open();
    expect(again.replay).toMatchObject({ records: 10, restored: 7 });
    expect(hashes(again.pool.all())).toEqual(
      hashes([tx(0, 3n), tx(0, 4n), ...[0n, 1n, 2n, 3n, 4n].map((n) => tx(1, n))]),
    );
    // The replay was followed by a rewrite: the file holds just what the pool kept.
    expect(rawHashes(d.onDisk().records)).toEqual(rawHashes(again.pool.all().map((t) => t.raw)));
    await again.journal.stop();
  });

  it("a replacement replays after the transaction it replaced, and wins", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open();
    await pool.add(tx(0, 0n, GWEI));
    await pool.add(tx(0, 1n, GWEI));
    await pool.add(tx(0, 0n, 2n * GWEI, 200n * GWEI));
    await journal.written();
    expect(d.onDisk().records).toHaveLength(3);
    const again = await d.open();
    expect(hashes(again.pool.all())).toEqual(hashes([tx(0, 0n, 2n * GWEI, 200n * GWEI), tx(0, 1n, GWEI)]));
    await again.journal.stop();
  });

  it("ignores a torn last write and rewrites the file whole", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open();
    await pool.add(tx(0, 0n));
    await journal.written();
    await pool.add(tx(0, 1n));
    await journal.written();
    // The process died inside the last write: half of that frame reached the file.
    const file = readFileSync(d.file);
    const lastFrame = 8 + 4 + tx(0, 1n).raw.length;
    const torn = file.subarray(0, file.length - Math.floor(lastFrame / 2));
    await rm(d.file);
    appendFileSync(d.file, torn);
    const again = await d.open();
    expect(again.replay).toMatchObject({
      records: 1,
      restored: 1,
      discardedBytes: lastFrame - Math.floor(lastFrame / 2),
    });
    expect(hashes(again.pool.all())).toEqual(hashes([tx(0, 0n)]));
    expect(d.onDisk()).toMatchObject({ discardedBytes: 0, stop: undefined });
    await again.journal.stop();
  });

  it("compacts once the file outgrows the pool, keeping only live transactions", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open({ compactMinRecords: 20, compactRatio: 2 });
    for (let n = 0n; n < 20n; n++) await pool.add(tx(0, n));
    await journal.written();
    expect(journal.fileRecords).toBe(20);
    // 18 of them are included; the file still holds all 20 (more than the minimum is needed to compact).
    await d.include(pool, 0, 18n);
    expect(pool.size).toBe(2);
    // One more append: 21 records > 20 and > 2 × 3 live, so the journal is rewritten from the pool.
    await pool.add(tx(1, 0n));
    await journal.written();
    for (let i = 0; i < 100 && journal.fileRecords !== 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(journal.fileRecords).toBe(3);
    expect(rawHashes(d.onDisk().records)).toEqual(rawHashes(pool.all().map((t) => t.raw)));
    // Appends go on into the new file.
    await pool.add(tx(1, 1n));
    await journal.written();
    expect(d.onDisk().records).toHaveLength(4);
    await journal.stop();
  });

  it("a clean stop leaves exactly the live pool in the file", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open();
    for (let n = 0n; n < 6n; n++) await pool.add(tx(0, n));
    await d.include(pool, 0, 4n);
    await journal.stop();
    expect(rawHashes(d.onDisk().records)).toEqual(rawHashes([tx(0, 4n).raw, tx(0, 5n).raw]));
    // Nothing is journaled after the stop.
    await pool.add(tx(1, 0n));
    await new Promise((r) => setImmediate(r));
    expect(d.onDisk().records).toHaveLength(2);
  });

  it("a failed write is made good by rewriting the journal from the pool, and appends resume", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open();
    await pool.add(tx(0, 0n));
    await journal.written();
    // The disk refuses the next write (here: a descriptor that cannot write, swapped in behind the journal's back).
    const inner = journal as unknown as { fd: number };
    const healthy = inner.fd;
    inner.fd = openSync(d.file, "r");
    await pool.add(tx(0, 1n));
    await journal.written();
    expect(rawHashes(d.onDisk().records)).toEqual(rawHashes([tx(0, 0n).raw, tx(0, 1n).raw]));
    await pool.add(tx(0, 2n));
    await journal.written();
    expect(d.onDisk().records).toHaveLength(3);
    closeSync(healthy);
    await journal.stop();
  });

  it("with syncEveryBatch, acknowledges each batch after it is synced", async () => {
    const d = await datadir();
    const { pool, journal } = await d.open({ syncEveryBatch: true });
    await Promise.all([pool.add(tx(0, 0n)), pool.add(tx(1, 0n))]);
    await journal.written();
    await pool.add(tx(0, 1n));
    await journal.written();
    expect(d.onDisk().records).toHaveLength(3);
    const again = await d.open();
    expect(again.replay.restored).toBe(3);
    await again.journal.stop();
  });
});
