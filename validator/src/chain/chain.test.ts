// The fork-aware chain on a real RocksDB: blocks on any known parent are stored, setHead reorganises by undoing and
// redoing the per-block flat-view diffs, and through every head change, restart and random sequence the flat head view
// stays exactly the state the trie commits to. Also the canonical and transaction indexes, the reorg and block events,
// the import error codes, and the weak-subjectivity checkpoint.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  BLAKE3_EMPTY,
  type Block,
  bigintToBytes32,
  blake3,
  blockHash,
  blsKeypairFromSeed,
  blsSign,
  bytesToHex,
  concatBytes,
  hexToBytes,
  MerklePatriciaTrie,
  parseGenesis,
  privateKeyToAddress,
  type SignedTransaction,
  signTransaction,
} from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLANG_FLAGS, SDK_HEADER } from "../../../contracts/build.ts";
import { DEV_KEYS } from "../../../tests/support/devnet.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { Bucket, Database, u64Key } from "../db/database.ts";
import { createInlineRecovery } from "../execution/senderRecovery.ts";
import { defaultMempoolOptions, Mempool } from "../mempool/mempool.ts";
import { ContractRuntime, createAddress, toArtefact } from "../runtime/contractRuntime.ts";
import { type Account, decodeAccount, EMPTY_TRIE_ROOT } from "../state/account.ts";
import { defaultStateDbOptions, encodeStorageValue, StateDb } from "../state/stateDb.ts";
import { BlockProducer } from "./blockProducer.ts";
import { blockSigningRoot, Chain, type ChainOptions, type ImportedBlock, type ReorgEvent } from "./chain.ts";
import { BlockError } from "./errors.ts";
import { REGISTRY_ADDRESS } from "./validatorRegistry.ts";

const silent = pino({ level: "silent" });
const hex = bytesToHex;
const GWEI = 10n ** 9n;

/** A runtime that runs a hook once, right after a contract call returns (to move the head mid-execution). */
class HeadMovingRuntime extends ContractRuntime {
  afterCall: (() => Promise<void>) | undefined;
  override async call(...args: Parameters<ContractRuntime["call"]>) {
    const result = await super.call(...args);
    const hook = this.afterCall;
    this.afterCall = undefined;
    await hook?.();
    return result;
  }
}

// A single-validator genesis (the devnet's alloc and parameters) with a fixed timestamp, so blocks are reproducible.
const validatorKey = blsKeypairFromSeed(new Uint8Array(32).fill(7));
const genesis = parseGenesis({
  ...devnetGenesis([{ secretKey: validatorKey.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 1000),
  timestamp: 1_700_000_000,
});
const runtime = new ContractRuntime();

const KEYS = DEV_KEYS.map(hexToBytes);
const SENDERS = KEYS.map(privateKeyToAddress);
const R1 = hexToBytes("0x00000000000000000000000000000000000c0f01");
const R2 = hexToBytes("0x00000000000000000000000000000000000c0f02");
const R3 = hexToBytes("0x00000000000000000000000000000000000c0f03");
/** The storage contract every scenario deploys as dev account 0's first transaction. */
const CONTRACT = createAddress(SENDERS[0]!, 0n);
const SLOTS = [0n, 1n, 2n, 3n].map(bigintToBytes32);
/** Every account the scenarios can touch (on some branch or other). */
const UNIVERSE = [...SENDERS.slice(0, 5), R1, R2, R3, CONTRACT, hexToBytes(DEVNET_FEE_RECIPIENT), REGISTRY_ADDRESS];

// Stores calldata word 1 into the slot named by calldata word 0 (a zero value clears the slot).
const STORE_CONTRACT = `
RC_EXPORT("call") void call(void) {
  uint8_t in[64];
  if (rc_host_calldata_size() != 64) rc_host_revert("len", 3);
  rc_host_calldata_copy(in, 0, 64);
  rc_host_storage_write(in, in + 32);
  rc_host_finish(in, 0);
}`;
let deployData: Uint8Array;

function signed(
  key: number,
  nonce: bigint,
  to: Uint8Array | null,
  value: bigint,
  data: Uint8Array,
  gasLimit: bigint,
  tip = GWEI,
) {
  return signTransaction(
    {
      type: 2,
      chainId: genesis.params.chainId,
      nonce,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: 100n * GWEI,
      gasLimit,
      to,
      value,
      data,
      accessList: [],
    },
    KEYS[key]!,
  );
}
const transfer = (key: number, nonce: bigint, to: Uint8Array, value: bigint) =>
  signed(key, nonce, to, value, new Uint8Array(0), 21_000n);
const store = (key: number, nonce: bigint, slot: number, value: bigint, tip = GWEI) =>
  signed(key, nonce, CONTRACT, 0n, concatBytes(SLOTS[slot]!, bigintToBytes32(value)), 300_000n, tip);
const deploy = () => signed(0, 0n, null, 0n, deployData, 5_000_000n);

// ---- nodes ----

interface TestNode {
  dir: string;
  db: Database;
  state: StateDb;
  chain: Chain;
  /** Events since the last take(). */
  reorgs: ReorgEvent[];
  blocks: ImportedBlock[];
}

const dirs: string[] = [];
const openNodes = new Set<TestNode>();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-chain-"));
  dirs.push(dir);
  return dir;
}

async function openNode(dir: string, opts: ChainOptions = {}, rt: ContractRuntime = runtime): Promise<TestNode> {
  const db = await Database.open(join(dir, "chaindata"));
  const state = new StateDb(defaultStateDbOptions, { db });
  const chain = new Chain(genesis, { db, state, recovery: createInlineRecovery(), runtime: rt, logger: silent }, opts);
  try {
    await chain.init();
  } catch (e) {
    await db.close();
    throw e;
  }
  const node: TestNode = { dir, db, state, chain, reorgs: [], blocks: [] };
  chain.on("reorg", (r) => node.reorgs.push(r));
  chain.on("block", (b) => node.blocks.push(b));
  openNodes.add(node);
  return node;
}

async function closeNode(node: TestNode): Promise<void> {
  openNodes.delete(node);
  await node.db.close();
}

/** The events recorded since the last call. */
function take(node: TestNode) {
  const out = { reorgs: node.reorgs, blocks: node.blocks.map((b) => hex(b.hash)) };
  node.reorgs = [];
  node.blocks = [];
  return out;
}

/** Put exactly `txs` in a fresh mempool and produce the block for `slot` on the node's head; all must be included. */
async function produce(
  node: TestNode,
  slot: bigint,
  txs: SignedTransaction[],
  beforeSign?: () => Promise<void>,
): Promise<ImportedBlock> {
  const { chain } = node;
  const mempool = new Mempool(defaultMempoolOptions, {
    head: () => chain.mempoolHead(),
  });
  for (const t of txs) await mempool.add(t);
  const producer = new BlockProducer(
    { validatorIndex: 0, extraData: new Uint8Array(0) },
    { chain, mempool, logger: silent },
  );
  const imported = await producer.produce({
    slot,
    vrfProof: new Uint8Array(0),
    sign: async (_slot, hash) => {
      await beforeSign?.();
      return blsSign(validatorKey.secretKey, blockSigningRoot(chain.chainId, hash));
    },
  });
  expect(imported.txs.map((t) => hex(t.hash)).sort()).toEqual(txs.map((t) => hex(t.hash)).sort());
  expect(imported.receipts.map((r) => r.receipt.status)).toEqual(txs.map(() => 1));
  return imported;
}

async function blockErrorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BlockError);
    return (e as BlockError).type.code;
  }
  return expect.fail("expected a BlockError");
}

/**
 * The flat head view is exactly the state the head's state root commits to: a trie rebuilt from every flat account
 * has the head's root, every flat slot rebuilds its account's storage root and equals the trie's value, and head reads
 * (through the account cache) equal trie reads for every account and slot the scenarios touch.
 */
async function expectFlatMatchesTrie(node: TestNode): Promise<void> {
  const { db, state, chain } = node;
  const root = chain.head.stateRoot;
  const accountTrie = new MerklePatriciaTrie({ hash: blake3 });
  const flatAccounts = new Map<string, Account>();
  for await (const [address, enc] of db.range(Bucket.flatAccounts)) {
    await accountTrie.put(blake3(address), enc);
    flatAccounts.set(hex(address), decodeAccount(enc));
  }
  expect(hex(accountTrie.commit().root), "flat accounts rebuild the head state root").toBe(hex(root));

  const storageTries = new Map<string, MerklePatriciaTrie>();
  for await (const [key, value] of db.range(Bucket.flatStorage)) {
    const address = key.slice(0, 20);
    const slot = key.slice(20);
    expect(hex(value)).toBe(hex(await state.storageAt(root, address, slot)));
    const trie = storageTries.get(hex(address)) ?? new MerklePatriciaTrie({ hash: blake3 });
    storageTries.set(hex(address), trie);
    await trie.put(blake3(slot), encodeStorageValue(value));
  }
  for (const [address, account] of flatAccounts) {
    const rebuilt = storageTries.get(address)?.commit().root ?? EMPTY_TRIE_ROOT;
    expect(hex(rebuilt), `flat storage of ${address}`).toBe(hex(account.storageRoot));
    storageTries.delete(address);
  }
  expect([...storageTries.keys()], "flat storage without a flat account").toEqual([]);

  for (const address of UNIVERSE) {
    expect(await state.headAccount(address), hex(address)).toEqual(await state.accountAt(root, address));
  }
  for (const slot of SLOTS) {
    expect(hex(await state.headStorage(CONTRACT, slot))).toBe(hex(await state.storageAt(root, CONTRACT, slot)));
  }
}

/** Canonical index entries 0..head, then nothing above the head. */
async function expectCanonical(node: TestNode, hashes: Uint8Array[]): Promise<void> {
  const { chain } = node;
  expect(hex(chain.headHash)).toBe(hex(hashes.at(-1)!));
  expect(chain.head.number).toBe(BigInt(hashes.length - 1));
  for (const [n, h] of hashes.entries()) expect(hex((await node.chain.canonicalHash(BigInt(n)))!)).toBe(hex(h));
  for (let n = hashes.length; n < 7; n++) {
    expect(await chain.canonicalHash(BigInt(n))).toBeUndefined();
    // Not just hidden by the head bound: the index entry is gone.
    expect(await node.db.get(Bucket.canonical, u64Key(BigInt(n)))).toBeUndefined();
  }
  // The head pointer on disk agrees (what a restart resumes from).
  expect(hex((await node.db.get(Bucket.meta, new TextEncoder().encode("head")))!)).toBe(hex(chain.headHash));
}

async function expectTxAt(node: TestNode, tx: SignedTransaction, block: Block | undefined): Promise<void> {
  const loc = await node.chain.txLocation(tx.hash);
  if (!block) {
    expect(loc).toBeUndefined();
    return;
  }
  expect(loc && hex(loc.blockHash)).toBe(hex(blockHash(block.header)));
  expect(loc?.index).toBe(block.transactions.findIndex((raw) => hex(raw) === hex(tx.raw)));
}

const sortedHex = (xs: Uint8Array[]) => xs.map(hex).sort();

async function slotValue(node: TestNode, slot: number): Promise<bigint> {
  return BigInt(hex(await node.state.headStorage(CONTRACT, SLOTS[slot]!)));
}

// ---- the fork scenario: A1, A2 and B1, B2, B3 on genesis ----

/** Transactions of each block. The deploy and T1 are on both branches; everything else on one. */
function scenarioTxs() {
  const D = deploy();
  const T1 = transfer(1, 0n, R1, 100n);
  return {
    D,
    T1,
    A1: [D, store(0, 1n, 0, 1n), store(0, 2n, 1, 2n), T1],
    A2: [store(0, 3n, 1, 0n), transfer(1, 1n, R2, 200n), transfer(2, 0n, R1, 5n)],
    B1: [D, store(0, 1n, 0, 5n), transfer(3, 0n, R3, 300n)],
    B2: [store(0, 2n, 3, 9n), T1],
    B3: [store(0, 3n, 3, 0n), transfer(4, 0n, R2, 1n)],
  };
}
const SLOT_OF = { A1: 1n, A2: 2n, B1: 3n, B2: 4n, B3: 5n };

/** Blocks of the scenario, produced once by a separate node and imported (fully re-executed) by the tests. */
let fx: Record<"A1" | "A2" | "B1" | "B2" | "B3", Block>;

beforeAll(async () => {
  const work = await tempDir();
  const src = join(work, "store.c");
  const out = join(work, "store.wasm");
  await writeFile(src, `#include "${SDK_HEADER}"\n${STORE_CONTRACT}`);
  await promisify(execFile)("clang", [...CLANG_FLAGS, "-o", out, src]);
  deployData = toArtefact(new Uint8Array(await readFile(out)));

  // Each branch from its own node, so the fixture does not depend on the reorg code under test.
  const txs = scenarioTxs();
  const built: Partial<typeof fx> = {};
  for (const branch of [
    ["A1", "A2"],
    ["B1", "B2", "B3"],
  ] as const) {
    const source = await openNode(await tempDir());
    for (const name of branch) built[name] = (await produce(source, SLOT_OF[name], txs[name])).block;
    await closeNode(source);
  }
  fx = built as typeof fx;
});

afterEach(async () => {
  for (const node of [...openNodes]) await closeNode(node);
});

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("Chain forks and reorgs", () => {
  it("setHead across branches undoes and redoes flat diffs, rewrites the indexes and reports the reorg", async () => {
    const node = await openNode(await tempDir());
    const { chain } = node;
    const g = chain.genesisHash;
    const txs = scenarioTxs();
    const aOnly = [...txs.A1, ...txs.A2].filter((t) => t !== txs.D && t !== txs.T1);
    const bOnly = [...txs.B1, ...txs.B2, ...txs.B3].filter((t) => t !== txs.D && t !== txs.T1);
    await expectFlatMatchesTrie(node);

    // Branch A extends the head block by block.
    const A1 = await produce(node, SLOT_OF.A1, txs.A1);
    const A2 = await produce(node, SLOT_OF.A2, txs.A2);
    expect(take(node)).toEqual({ reorgs: [], blocks: [hex(A1.hash), hex(A2.hash)] });
    await expectCanonical(node, [g, A1.hash, A2.hash]);
    await expectFlatMatchesTrie(node);
    expect(await slotValue(node, 0)).toBe(1n);
    expect(await slotValue(node, 1)).toBe(0n);
    await expectTxAt(node, txs.T1, A1.block);

    // Back to genesis: both A blocks leave, all their transactions are orphaned, the flat view is genesis again.
    await chain.setHead(g);
    let ev = take(node);
    expect(ev.blocks).toEqual([]);
    expect(ev.reorgs.map((r) => [hex(r.oldHead), hex(r.newHead), r.depth])).toEqual([[hex(A2.hash), hex(g), 2]]);
    expect(sortedHex(ev.reorgs[0]!.orphanedTxs)).toEqual(sortedHex([...txs.A1, ...txs.A2].map((t) => t.raw)));
    await expectCanonical(node, [g]);
    await expectFlatMatchesTrie(node);
    expect(hex(await chain.headOverlay().getCode(CONTRACT))).toBe("0x");
    expect(await node.db.get(Bucket.flatAccounts, R1)).toBeUndefined();
    for (const t of [...txs.A1, ...txs.A2]) await expectTxAt(node, t, undefined);

    // Branch B, longer, built on genesis.
    const B1 = await produce(node, SLOT_OF.B1, txs.B1);
    const B2 = await produce(node, SLOT_OF.B2, txs.B2);
    const B3 = await produce(node, SLOT_OF.B3, txs.B3);
    expect(take(node)).toEqual({ reorgs: [], blocks: [hex(B1.hash), hex(B2.hash), hex(B3.hash)] });
    await expectCanonical(node, [g, B1.hash, B2.hash, B3.hash]);
    await expectFlatMatchesTrie(node);
    expect(await slotValue(node, 0)).toBe(5n);
    expect(await node.db.get(Bucket.flatStorage, concatBytes(CONTRACT, SLOTS[3]!))).toBeUndefined();

    // Reorg to A2 (depth 3, to a shorter branch): B-only transactions are orphaned, the shared ones move to A.
    await chain.setHead(A2.hash);
    ev = take(node);
    expect(ev.blocks).toEqual([hex(A1.hash), hex(A2.hash)]);
    expect(ev.reorgs.map((r) => [hex(r.oldHead), hex(r.newHead), r.depth])).toEqual([[hex(B3.hash), hex(A2.hash), 3]]);
    expect(sortedHex(ev.reorgs[0]!.orphanedTxs)).toEqual(sortedHex(bOnly.map((t) => t.raw)));
    await expectCanonical(node, [g, A1.hash, A2.hash]);
    await expectFlatMatchesTrie(node);
    expect(await slotValue(node, 0)).toBe(1n);
    expect(await node.db.get(Bucket.flatAccounts, R3)).toBeUndefined();
    for (const t of bOnly) await expectTxAt(node, t, undefined);
    for (const t of txs.A2) await expectTxAt(node, t, A2.block);
    await expectTxAt(node, txs.T1, A1.block);
    await expectTxAt(node, txs.D, A1.block);

    // And back to B3 (depth 2, to a longer branch).
    await chain.setHead(B3.hash);
    ev = take(node);
    expect(ev.blocks).toEqual([hex(B1.hash), hex(B2.hash), hex(B3.hash)]);
    expect(ev.reorgs.map((r) => [hex(r.oldHead), hex(r.newHead), r.depth])).toEqual([[hex(A2.hash), hex(B3.hash), 2]]);
    expect(sortedHex(ev.reorgs[0]!.orphanedTxs)).toEqual(sortedHex(aOnly.map((t) => t.raw)));
    await expectCanonical(node, [g, B1.hash, B2.hash, B3.hash]);
    await expectFlatMatchesTrie(node);
    for (const t of aOnly) await expectTxAt(node, t, undefined);
    await expectTxAt(node, txs.T1, B2.block);
    await expectTxAt(node, txs.D, B1.block);
    for (const t of txs.B3) await expectTxAt(node, t, B3.block);

    // Moving the head to an ancestor and forward again along the same branch: no reorg of the forward move.
    await chain.setHead(B1.hash);
    await chain.setHead(B3.hash);
    ev = take(node);
    expect(ev.reorgs.map((r) => r.depth)).toEqual([2]);
    expect(ev.blocks).toEqual([hex(B2.hash), hex(B3.hash)]);
    await expectFlatMatchesTrie(node);
    await chain.setHead(B3.hash);
    expect(take(node)).toEqual({ reorgs: [], blocks: [] });
    expect(await blockErrorCode(chain.setHead(new Uint8Array(32).fill(9)))).toBe("REORG_UNKNOWN_BLOCK");
    await expectCanonical(node, [g, B1.hash, B2.hash, B3.hash]);
  });

  it("imports a block on a non-head parent through the trie without moving the head, and rejects bad imports", async () => {
    const node = await openNode(await tempDir());
    const { chain } = node;
    const g = chain.genesisHash;
    const txs = scenarioTxs();
    const [a1, a2, b1, b2, b3] = [fx.A1, fx.A2, fx.B1, fx.B2, fx.B3].map((b) => blockHash(b.header));
    await chain.importBlock(fx.A1);
    await chain.importBlock(fx.A2);
    expect(take(node).blocks).toEqual([hex(a1!), hex(a2!)]);
    await expectCanonical(node, [g, a1!, a2!]);

    expect(await blockErrorCode(chain.importBlock(fx.B3))).toBe("BLOCK_UNKNOWN_PARENT");

    // B1's parent is genesis, not the head: executed on genesis state through the trie, stored, head unchanged.
    const imported = await chain.importBlock(fx.B1);
    expect(hex(imported.hash)).toBe(hex(b1!));
    expect(imported.receipts.map((r) => r.receipt.status)).toEqual([1, 1, 1]);
    expect(await chain.hasBlock(b1!)).toBe(true);
    expect(take(node)).toEqual({ reorgs: [], blocks: [] });
    await expectCanonical(node, [g, a1!, a2!]);
    await expectFlatMatchesTrie(node);
    for (const t of txs.B1.slice(1)) await expectTxAt(node, t, undefined);
    await expectTxAt(node, txs.D, fx.A1);

    expect(await blockErrorCode(chain.importBlock(fx.B1))).toBe("BLOCK_ALREADY_KNOWN");
    expect(await blockErrorCode(chain.importBlock(fx.A2))).toBe("BLOCK_ALREADY_KNOWN");

    // B2's parent state exists only in the trie (B1 never was the head).
    await chain.importBlock(fx.B2);
    expect(take(node)).toEqual({ reorgs: [], blocks: [] });
    expect((await chain.getReceipts(b2!))?.length).toBe(2);
    await expectCanonical(node, [g, a1!, a2!]);
    await expectFlatMatchesTrie(node);

    // A body whose extras differ from what the (validly signed) header commits to.
    const tamperedBody: Block = { ...fx.B3, attestations: [Uint8Array.of(1, 2, 3)] };
    expect(await blockErrorCode(chain.importBlock(tamperedBody))).toBe("BLOCK_EXTRAS_ROOT_MISMATCH");
    // A header signed by the proposer over a wrong extras root.
    const header = { ...fx.B3.header, extrasRoot: blake3(Uint8Array.of(1)) };
    header.signature = blsSign(validatorKey.secretKey, blockSigningRoot(chain.chainId, blockHash(header)));
    expect(await blockErrorCode(chain.importBlock({ ...fx.B3, header }))).toBe("BLOCK_EXTRAS_ROOT_MISMATCH");
    expect(await chain.hasBlock(b3!)).toBe(false);
    expect(await chain.hasBlock(blockHash(header))).toBe(false);

    // A block on the head committing to a wrong state root changes nothing.
    const header3 = {
      ...fx.A2.header,
      parentHash: a2!,
      number: 3n,
      slot: 10n,
      gasUsed: 0n,
      baseFeePerGas: chain.childEnv(0n, new Uint8Array(20)).baseFeePerGas,
      stateRoot: blake3(Uint8Array.of(2)),
    };
    header3.signature = blsSign(validatorKey.secretKey, blockSigningRoot(chain.chainId, blockHash(header3)));
    const badRoot: Block = { ...fx.A2, header: header3, transactions: [] };
    expect(await blockErrorCode(chain.importBlock(badRoot))).toBe("BLOCK_STATE_ROOT_MISMATCH");
    expect(await chain.hasBlock(blockHash(badRoot.header))).toBe(false);
    await expectCanonical(node, [g, a1!, a2!]);
    await expectFlatMatchesTrie(node);

    // The stored fork becomes canonical through the diffs its trie-path execution recorded.
    await chain.importBlock(fx.B3);
    expect(take(node).blocks).toEqual([]);
    await chain.setHead(b3!);
    const ev = take(node);
    expect(ev.reorgs.map((r) => r.depth)).toEqual([2]);
    expect(ev.blocks).toEqual([hex(b1!), hex(b2!), hex(b3!)]);
    await expectCanonical(node, [g, b1!, b2!, b3!]);
    await expectFlatMatchesTrie(node);
    await expectTxAt(node, txs.T1, fx.B2);
  });

  it("after a reorg, a restart resumes the same head with the flat view equal to the trie", async () => {
    const dir = await tempDir();
    let node = await openNode(dir);
    const g = node.chain.genesisHash;
    const txs = scenarioTxs();
    const [a1, a2, b1, b2, b3] = [fx.A1, fx.A2, fx.B1, fx.B2, fx.B3].map((b) => blockHash(b.header));
    for (const b of [fx.A1, fx.A2, fx.B1, fx.B2, fx.B3]) await node.chain.importBlock(b);
    await node.chain.setHead(b3!);
    await closeNode(node);

    node = await openNode(dir);
    await expectCanonical(node, [g, b1!, b2!, b3!]);
    await expectFlatMatchesTrie(node);
    await expectTxAt(node, txs.T1, fx.B2);
    expect(await slotValue(node, 0)).toBe(5n);

    // The stored diffs survive the restart: reorg back to A, extend it, restart again.
    await node.chain.setHead(a2!);
    await expectFlatMatchesTrie(node);
    const A3 = await produce(node, 6n, [transfer(3, 0n, R3, 7n), store(0, 4n, 2, 42n)]);
    await closeNode(node);

    node = await openNode(dir);
    await expectCanonical(node, [g, a1!, a2!, A3.hash]);
    await expectFlatMatchesTrie(node);
    expect(await slotValue(node, 2)).toBe(42n);
    expect((await node.state.headAccount(R3)).balance).toBe(7n);
  });

  it("a weak-subjectivity checkpoint refuses the conflicting block and a datadir whose canonical chain conflicts", async () => {
    const a1 = blockHash(fx.A1.header);
    const b1 = blockHash(fx.B1.header);
    const checkpoint = { number: 1n, hash: a1 };

    const node = await openNode(await tempDir(), { checkpoint });
    expect(await blockErrorCode(node.chain.importBlock(fx.B1))).toBe("BLOCK_CONFLICTS_CHECKPOINT");
    expect(await node.chain.hasBlock(b1)).toBe(false);
    await node.chain.importBlock(fx.A1);
    await node.chain.importBlock(fx.A2);
    await expectCanonical(node, [node.chain.genesisHash, a1, blockHash(fx.A2.header)]);
    await expectFlatMatchesTrie(node);

    // A datadir that followed branch B.
    const dir = await tempDir();
    const other = await openNode(dir);
    for (const b of [fx.B1, fx.B2]) await other.chain.importBlock(b);
    await closeNode(other);
    expect(await blockErrorCode(openNode(dir, { checkpoint }))).toBe("BLOCK_CONFLICTS_CHECKPOINT");
    // The same datadir opens under a checkpoint it agrees with, and with one above its head.
    await closeNode(await openNode(dir, { checkpoint: { number: 1n, hash: b1 } }));
    await closeNode(await openNode(dir, { checkpoint: { number: 5n, hash: a1 } }));
  });

  it("a checkpoint also keeps a previously stored conflicting branch from being extended or made the head", async () => {
    const dir = await tempDir();
    let node = await openNode(dir);
    const [a1, a2, , b2] = [fx.A1, fx.A2, fx.B1, fx.B2].map((b) => blockHash(b.header));
    // Branch B was stored as a fork before the operator configured the checkpoint.
    for (const b of [fx.A1, fx.A2, fx.B1, fx.B2]) await node.chain.importBlock(b);
    await closeNode(node);

    node = await openNode(dir, { checkpoint: { number: 1n, hash: a1! } });
    expect(await blockErrorCode(node.chain.importBlock(fx.B3))).toBe("BLOCK_CONFLICTS_CHECKPOINT");
    expect(await blockErrorCode(node.chain.setHead(b2!))).toBe("BLOCK_CONFLICTS_CHECKPOINT");
    await expectCanonical(node, [node.chain.genesisHash, a1!, a2!]);
    await closeNode(node);
    // Whatever happened, the datadir still opens under its checkpoint.
    await closeNode(await openNode(dir, { checkpoint: { number: 1n, hash: a1! } }));
  });

  it("block building stops taking transactions at its deadline (checked every 500); import never does", async () => {
    const node = await openNode(await tempDir());
    const txs = Array.from({ length: 600 }, (_, i) => transfer(1 + (i % 3), BigInt(Math.floor(i / 3)), R1, 1n));
    const env = node.chain.childEnv(node.chain.head.timestamp + 1n, hexToBytes(DEVNET_FEE_RECIPIENT));
    const built = await node.chain.execute(txs, env, false, undefined, { deadline: 0 });
    expect(built.txs).toHaveLength(500);
    const unbounded = await node.chain.execute(txs, env, false, undefined, { deadline: performance.now() + 60_000 });
    expect(unbounded.txs).toHaveLength(600);
    const strict = await node.chain.execute(txs, env, true, undefined, { deadline: 0 });
    expect(strict.txs).toHaveLength(600);
    await closeNode(node);
  });

  it("block building caps a block at what importing others' blocks costs this node (importBudgetMs)", async () => {
    const a = await openNode(await tempDir());
    const b = await openNode(await tempDir());
    const txs = (from: number) =>
      Array.from({ length: 150 }, (_, i) => transfer(1 + (i % 3), BigInt(from + Math.floor(i / 3)), R1, 1n));
    const first = await produce(a, 1n, txs(0));
    // Producing measures nothing; importing someone else's block does.
    expect(a.chain.importMsPerTx).toBeUndefined();
    await b.chain.importBlock(first.block);
    expect(b.chain.importMsPerTx).toBeGreaterThan(0);

    const build = async (importBudgetMs: number) => {
      const mempool = new Mempool(defaultMempoolOptions, {
        head: () => b.chain.mempoolHead(),
      });
      for (const t of txs(50)) await mempool.add(t);
      const producer = new BlockProducer(
        { validatorIndex: 0, extraData: new Uint8Array(0), importBudgetMs },
        { chain: b.chain, mempool, logger: silent },
      );
      const made = await producer.produce({
        slot: b.chain.head.slot + 1n,
        vrfProof: new Uint8Array(0),
        sign: async (_slot, hash) => blsSign(validatorKey.secretKey, blockSigningRoot(b.chain.chainId, hash)),
      });
      await b.chain.setHead(blockHash(first.block.header));
      return made.txs.length;
    };
    // No time at all still leaves the floor of 100 transactions; an ample budget takes all 150.
    expect(await build(0)).toBe(100);
    expect(await build(60_000)).toBe(150);
  });

  it("a block produced while the head moves away and back is executed on its parent's state", async () => {
    // The head moves to genesis in the middle of block execution (right after the first transaction's contract call)
    // and back to A2 before the block is signed and imported.
    const rt = new HeadMovingRuntime();
    const node = await openNode(await tempDir(), {}, rt);
    const [a1, a2] = [fx.A1, fx.A2].map((b) => blockHash(b.header));
    for (const b of [fx.A1, fx.A2]) await node.chain.importBlock(b);
    expect((await node.state.headAccount(R1)).balance).toBe(105n);
    rt.afterCall = () => node.chain.setHead(node.chain.genesisHash);
    // The call goes first (higher tip); the transfer to R1 executes while genesis is the head.
    const call = store(0, 4n, 2, 7n, 2n * GWEI);
    const toR1 = transfer(5, 0n, R1, 1000n);
    const A3 = await produce(node, 6n, [call, toR1], () => node.chain.setHead(a2!));
    expect(A3.block.transactions.map(hex)).toEqual([hex(call.raw), hex(toR1.raw)]);
    expect(hex(node.chain.headHash)).toBe(hex(A3.hash));
    await expectFlatMatchesTrie(node);
    expect((await node.state.headAccount(R1)).balance).toBe(1105n);

    // Every other node executes A3 on A2's state; it must agree with the producer.
    const other = await openNode(await tempDir());
    for (const b of [fx.A1, fx.A2]) await other.chain.importBlock(b);
    await other.chain.importBlock(A3.block);
    await expectCanonical(other, [other.chain.genesisHash, a1!, a2!, A3.hash]);
  });

  it.each([0x5254_0001, 0x5254_0002, 0x5254_0003])(
    "keeps the flat view equal to the trie through a random sequence of produce, import and setHead (seed %i)",
    async (initialSeed) => {
      // mulberry32: a small seeded PRNG, so a failure replays exactly.
      let seed = initialSeed;
      const rand = () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;

      // P produces on its head; V imports every block with full execution, on whatever head V has (flat or trie path),
      // and moves its own head independently.
      const p = await openNode(await tempDir());
      const v = await openNode(await tempDir());
      const known: Uint8Array[] = [p.chain.genesisHash];
      let slot = 0n;
      const recipients = [R1, R2, R3, ...SENDERS.slice(0, 3)];
      const counts = { produce: 0, trieImports: 0, reorgs: 0, sameHead: 0 };
      const dump = async (node: TestNode, bucket: typeof Bucket.flatAccounts | typeof Bucket.flatStorage) => {
        const out: string[] = [];
        for await (const [k, val] of node.db.range(bucket)) out.push(`${hex(k)}=${hex(val)}`);
        return out;
      };

      const produceStep = async (txCount: number, forceDeploy = false) => {
        const nonces = new Map<number, bigint>();
        const txs: SignedTransaction[] = [];
        const hasContract = (await p.state.headAccount(CONTRACT)).codeHash.some((b, i) => b !== BLAKE3_EMPTY[i]);
        if (!hasContract && (forceDeploy || rand() < 0.5)) {
          if ((await p.state.headAccount(SENDERS[0]!)).nonce === 0n) {
            txs.push(deploy());
            nonces.set(0, 1n);
          }
        }
        for (let i = 0; i < txCount; i++) {
          const key = Math.floor(rand() * 5);
          const nonce = nonces.get(key) ?? (await p.state.headAccount(SENDERS[key]!)).nonce;
          nonces.set(key, nonce + 1n);
          const deployed = hasContract || txs[0]?.tx.to === null;
          txs.push(
            deployed && rand() < 0.5
              ? store(key, nonce, Math.floor(rand() * 4), BigInt(Math.floor(rand() * 3)))
              : transfer(key, nonce, pick(recipients), BigInt(1 + Math.floor(rand() * 1000))),
          );
        }
        const b = await produce(p, ++slot, txs);
        known.push(b.hash);
        counts.produce++;
        const vHead = v.chain.headHash;
        const onVHead = Buffer.compare(b.block.header.parentHash, vHead) === 0;
        if (!onVHead) counts.trieImports++;
        await v.chain.importBlock(b.block);
        expect(hex(v.chain.headHash)).toBe(hex(onVHead ? b.hash : vHead));
      };

      await produceStep(3, true);
      for (let step = 0; step < 30; step++) {
        const r = rand();
        if (r < 0.55) await produceStep(1 + Math.floor(rand() * 3));
        else {
          const node = r < 0.8 ? p : v;
          const before = node.reorgs.length;
          await node.chain.setHead(pick(known));
          counts.reorgs += node.reorgs.length - before;
        }
        await expectFlatMatchesTrie(p);
        await expectFlatMatchesTrie(v);
        // Whenever both heads are the same block, P (produced, flat path) and V (imported, own head moves) hold the
        // very same flat view.
        if (Buffer.compare(p.chain.headHash, v.chain.headHash) === 0) {
          counts.sameHead++;
          for (const bucket of [Bucket.flatAccounts, Bucket.flatStorage]) {
            expect(await dump(v, bucket)).toEqual(await dump(p, bucket));
          }
        }
      }
      // The sequence really exercised forks: some imports took the trie path and some head moves were reorgs.
      expect(counts.produce).toBeGreaterThan(10);
      expect(counts.trieImports).toBeGreaterThan(0);
      expect(counts.reorgs).toBeGreaterThan(2);
      expect(counts.sameHead).toBeGreaterThan(0);
    },
  );
});
