// The chain: genesis, head, and the one import path every block takes (validate → execute → commit in a single
// atomic RocksDB batch). Produced blocks go through importBlock too; the producer hands over its execution result so
// the block is not executed twice.
import { EventEmitter } from "node:events";
import {
  BLOOM_BYTES,
  type Block,
  type BlockExtras,
  type BlockHeader,
  blake3,
  blockExtrasRoot,
  blockHash,
  blsVerify,
  bytesToHex,
  concatBytes,
  decodeBody,
  decodeHeader,
  decodeReceipt,
  EMPTY_EXTRAS,
  encodeBody,
  encodeReceipt,
  type Genesis,
  keccak256,
  nextBaseFee,
  orderedListRoot,
  type Receipt,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  type SignedTransaction,
  TxError,
} from "@rustchain/shared";
import type { Logger } from "pino";
import { Bucket, type Database, u64Key, WriteBatch } from "../db/database.ts";
import type { SenderRecovery } from "../execution/senderRecovery.ts";
import { applyTransaction, type BlockEnv, makeReceipt } from "../execution/transactionExecutor.ts";
import type { MempoolHead } from "../mempool/mempool.ts";
import type { ContractRuntime } from "../runtime/contractRuntime.ts";
import type { Account } from "../state/account.ts";
import type { FlatChange, StateDb, WorldState } from "../state/stateDb.ts";
import { META_GENESIS, META_HEAD, META_HISTORY_START } from "./chainMeta.ts";
import { BlockError } from "./errors.ts";
import { buildGenesisBlock } from "./genesisBlock.ts";
import { HeaderStore } from "./headerStore.ts";

const _ZERO_HASH = new Uint8Array(32);
const BLOCK_SIGNING_DOMAIN = new TextEncoder().encode("RUSTCHAIN_BLOCK_V1");
/** Transactions executed between two yields to the event loop. */
const YIELD_EVERY_TXS = 500;
/** Blocks with fewer transactions say little about the cost per transaction. */
const IMPORT_COST_MIN_TXS = 100;
/** Weight of the newest block in the smoothed import cost. */
const IMPORT_COST_SMOOTHING = 0.3;

/** What the proposer signs: the block hash bound to this chain and domain. */
export function blockSigningRoot(chainId: bigint, hash: Uint8Array): Uint8Array {
  return blake3(concatBytes(BLOCK_SIGNING_DOMAIN, u64Key(chainId), hash));
}

export interface StoredReceipt {
  receipt: Receipt;
  from: Uint8Array;
  gasUsed: bigint;
  contractAddress: Uint8Array | null;
}

export interface ExecutedBlock {
  /** State root and roots the header must carry. */
  stateRoot: Uint8Array;
  transactionsRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  logsBloom: Uint8Array;
  gasUsed: bigint;
  receipts: StoredReceipt[];
  /** The receipts' consensus encodings (receipts root), reused when they are stored. */
  encodedReceipts: Uint8Array[];
  txs: SignedTransaction[];
  extras: BlockExtras;
  /** The block executed on top of this parent. */
  parentHash: Uint8Array;
  batch: WriteBatch;
  /** Flat head-view changes with their previous values (applied when the block joins the canonical chain). */
  flatDiff: FlatChange[];
  /** Head accounts this block changes, applied to the state cache after the batch is written. */
  accountUpdates: [Uint8Array, Account | null][];
  /** What the consensus items did (ConsensusHooks.applyExtras's result), handed back after import. */
  effects: unknown;
}

export interface ImportedBlock {
  block: Block;
  hash: Uint8Array;
  receipts: StoredReceipt[];
  txs: SignedTransaction[];
}

/**
 * What the chain needs from consensus, given to its constructor by the node so the chain does not depend on the
 * consensus layer. Without hooks the chain is a single-proposer chain: a block that extends the head becomes the head.
 */
export interface ConsensusHooks {
  /** Consensus checks of a header against its parent (proposer election, VRF proof, finality). Throws a typed error. */
  validateHeader(header: BlockHeader, parent: BlockHeader, hash: Uint8Array): Promise<void>;
  /**
   * Validate the body's consensus items and apply their state effects (stake cuts, AI scores, rewards); returns what
   * they did (the votes they carry), which the chain hands back to `onImported` once the block is stored. Runs while
   * a block is built as well as on import, so it must not change anything outside `ws`.
   */
  applyExtras(ws: WorldState, extras: BlockExtras, header: BlockContext): Promise<unknown>;
  /** A valid block (roots checked) is about to be stored; fork choice learns of it. */
  onBlock(hash: Uint8Array, header: BlockHeader): void;
  /** The block is stored: its votes may count now. */
  onImported(hash: Uint8Array, header: BlockHeader, effects: unknown): void;
  /** The block the head should be (fork-choice head). */
  head(): Uint8Array;
}

/** What applying a block's extras may depend on. */
export interface BlockContext {
  parentHash: Uint8Array;
  parent: BlockHeader;
  slot: bigint;
  number: bigint;
  proposerIndex: bigint;
  coinbase: Uint8Array;
}

export interface ChainOptions {
  /** Weak-subjectivity checkpoint: the chain refuses any block at this number with another hash. */
  checkpoint?: { number: bigint; hash: Uint8Array };
}

function encodeFlatDiff(diff: FlatChange[]): Uint8Array {
  const e = (v: Uint8Array | null) => v ?? new Uint8Array(0);
  return rlpEncode(diff.map((c) => [c.bucket, c.key, e(c.before), e(c.after)]));
}

export function decodeFlatDiff(data: Uint8Array): FlatChange[] {
  return rlpList(rlpDecode(data, 1 << 30), "flat diff").map((item) => {
    const [b, k, before, after] = rlpList(item, "flat change", 4);
    const bucket = rlpBytes(b, "bucket")[0] as FlatChange["bucket"];
    const n = (x: Uint8Array) => (x.length ? x : null);
    return {
      bucket,
      key: rlpBytes(k, "key"),
      before: n(rlpBytes(before, "before")),
      after: n(rlpBytes(after, "after")),
    };
  });
}

function applyFlat(batch: WriteBatch, bucket: FlatChange["bucket"], key: Uint8Array, value: Uint8Array | null) {
  if (value) batch.put(bucket, key, value);
  else batch.del(bucket, key);
}

function encodeStoredReceipts(rs: StoredReceipt[], encoded: Uint8Array[]): Uint8Array {
  return rlpEncode(rs.map((r, i) => [encoded[i] as Uint8Array, r.from, r.contractAddress ?? new Uint8Array(0)]));
}

export interface ReorgEvent {
  oldHead: Uint8Array;
  newHead: Uint8Array;
  /** Blocks of the old branch that left the canonical chain. */
  depth: number;
  /** Raw transactions of those blocks that are not on the new branch (candidates to go back to the mempool). */
  orphanedTxs: Uint8Array[];
}

export class Chain extends EventEmitter<{ block: [ImportedBlock]; reorg: [ReorgEvent] }> {
  head!: BlockHeader;
  headHash!: Uint8Array;
  genesisHash!: Uint8Array;
  /** The first block whose body and receipts this node stores (above 0 after a warp sync). */
  historyStart = 0n;
  private readonly hooks: ConsensusHooks | undefined;
  private readonly headers: HeaderStore;
  /** importBlock and setHead run one at a time: both read the head and write the canonical index. */
  private queue: Promise<unknown> = Promise.resolve();
  private importCost: number | undefined;

  constructor(
    readonly genesis: Genesis,
    private readonly modules: {
      db: Database;
      state: StateDb;
      recovery: SenderRecovery;
      runtime: ContractRuntime;
      logger: Logger;
      /** Header reads and writes; shared with consensus, which reads headers before the chain exists. */
      headers?: HeaderStore;
      consensus?: ConsensusHooks;
    },
    private readonly opts: ChainOptions = {},
  ) {
    super();
    this.hooks = modules.consensus;
    this.headers = modules.headers ?? new HeaderStore(modules.db);
  }

  get chainId(): bigint {
    return this.genesis.params.chainId;
  }

  /**
   * What importing another validator's block has cost this node lately: wall-clock milliseconds per transaction,
   * smoothed, measured on blocks of at least 100 transactions; undefined before the first. Block building sizes
   * blocks by it (chain/blockProducer.ts), so that validators on similar machines import them within the slot.
   */
  get importMsPerTx(): number | undefined {
    return this.importCost;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Open the chain: write genesis on first start, otherwise resume from the last committed head. */
  async init(): Promise<void> {
    const { db } = this.modules;
    const genesisBlock = await this.buildGenesis();
    const computed = blockHash(genesisBlock.block.header);
    const stored = await db.get(Bucket.meta, META_GENESIS);
    if (!stored) {
      await db.write(genesisBlock.batch);
      this.modules.logger.info({ hash: bytesToHex(computed) }, "Wrote genesis");
    } else if (Buffer.compare(stored, computed) !== 0) {
      throw new BlockError({ code: "GENESIS_MISMATCH", stored: bytesToHex(stored), computed: bytesToHex(computed) });
    }
    this.genesisHash = computed;
    const headHash = (await db.get(Bucket.meta, META_HEAD)) as Uint8Array;
    const head = await this.getHeader(headHash);
    if (!head) throw new BlockError({ code: "BLOCK_UNKNOWN_PARENT", parentHash: bytesToHex(headHash) });
    this.head = head;
    this.headHash = headHash;
    const historyStart = await db.get(Bucket.meta, META_HISTORY_START);
    this.historyStart = historyStart ? new DataView(historyStart.buffer, historyStart.byteOffset).getBigUint64(0) : 0n;
    const cp = this.opts.checkpoint;
    if (cp && cp.number <= head.number) {
      const have = await this.canonicalHash(cp.number);
      if (!have || Buffer.compare(have, cp.hash) !== 0) {
        throw new BlockError({ code: "BLOCK_CONFLICTS_CHECKPOINT", number: cp.number, expected: bytesToHex(cp.hash) });
      }
    }
    this.modules.logger.info({ number: Number(head.number), hash: bytesToHex(headHash) }, "Chain head");
  }

  private async buildGenesis(): Promise<{ block: Block; batch: WriteBatch }> {
    const { block, hash, batch } = await buildGenesisBlock(this.genesis, this.modules.state);
    this.writeBlockData(batch, block, hash, [], [], []);
    this.writeCanonical(batch, block.header.number, hash, []);
    batch.put(Bucket.meta, META_HEAD, hash);
    batch.put(Bucket.meta, META_GENESIS, hash);
    return { block, batch };
  }

  /** Everything stored for any valid block, canonical or not. */
  private writeBlockData(
    batch: WriteBatch,
    block: Block,
    hash: Uint8Array,
    receipts: StoredReceipt[],
    encodedReceipts: Uint8Array[],
    flatDiff: FlatChange[],
  ) {
    this.headers.put(batch, hash, block.header);
    batch.put(Bucket.bodies, hash, encodeBody(block));
    batch.put(Bucket.blockNumbers, hash, u64Key(block.header.number));
    batch.put(Bucket.receipts, hash, encodeStoredReceipts(receipts, encodedReceipts));
    batch.put(Bucket.flatDiffs, hash, encodeFlatDiff(flatDiff));
  }

  /** The canonical index entries of a block: number → hash and its transactions' locations. */
  private writeCanonical(batch: WriteBatch, number: bigint, hash: Uint8Array, txHashes: Uint8Array[]) {
    batch.put(Bucket.canonical, u64Key(number), hash);
    txHashes.forEach((txHash, i) => {
      const loc = new Uint8Array(36);
      loc.set(hash, 0);
      new DataView(loc.buffer).setUint32(32, i);
      batch.put(Bucket.txIndex, txHash, loc);
    });
  }

  /** Block environment for a child of `parent` (the head by default). */
  /** What the pool checks a transaction against: this chain's id, the next block's base fee and gas limit, head state. */
  mempoolHead(): MempoolHead {
    return {
      chainId: this.chainId,
      baseFeePerGas: this.childEnv(0n, new Uint8Array(20)).baseFeePerGas,
      gasLimit: this.head.gasLimit,
      getAccount: (a) => this.modules.state.headAccount(a),
    };
  }

  childEnv(timestamp: bigint, coinbase: Uint8Array, parent = this.head): BlockEnv & { gasLimit: bigint } {
    return {
      chainId: this.chainId,
      baseFeePerGas: nextBaseFee(this.genesis.params, parent),
      coinbase,
      number: parent.number + 1n,
      timestamp,
      gasLimit: parent.gasLimit,
    };
  }

  /** The state overlay for executing a child of the head. */
  headOverlay(): WorldState {
    return this.modules.state.overlay(this.head.stateRoot, true);
  }

  /**
   * Execute `txs` and the consensus extras on the state of `parent` (the head by default). With `strict`, any
   * non-executable transaction fails the block (import); otherwise it is skipped and reported (block building).
   */
  async execute(
    txs: SignedTransaction[],
    env: BlockEnv & { gasLimit: bigint },
    strict: boolean,
    onSkip?: (stx: SignedTransaction, err: TxError) => void,
    opts: {
      parent?: { hash: Uint8Array; header: BlockHeader };
      extras?: BlockExtras;
      context?: BlockContext;
      /** Block building only: stop taking transactions once performance.now() passes this. */
      deadline?: number;
    } = {},
  ): Promise<ExecutedBlock> {
    const parentHash = opts.parent?.hash ?? this.headHash;
    const parent = opts.parent?.header ?? this.head;
    const onHead = Buffer.compare(parentHash, this.headHash) === 0;
    const ws = this.modules.state.overlay(parent.stateRoot, onHead);
    const included: SignedTransaction[] = [];
    const receipts: StoredReceipt[] = [];
    let gasUsed = 0n;
    let sinceYield = 0;
    for (const stx of txs) {
      // A 10,000-transaction block executes for a few hundred milliseconds: let JSON-RPC requests and gossip in
      // between chunks, so the node keeps answering while it builds or imports (the overlay tolerates a head change).
      if (sinceYield++ === YIELD_EVERY_TXS) {
        sinceYield = 1;
        await new Promise((r) => setImmediate(r));
        if (!strict && opts.deadline !== undefined && performance.now() > opts.deadline) break;
      }
      const cp = ws.checkpoint();
      const outcome = await applyTransaction(ws, stx, env, env.gasLimit - gasUsed, this.modules.runtime);
      if (outcome instanceof TxError) {
        ws.revert(cp);
        if (strict) {
          throw new BlockError({ code: "BLOCK_INVALID_TRANSACTION", index: included.length, reason: outcome.message });
        }
        onSkip?.(stx, outcome);
        continue;
      }
      gasUsed += outcome.gasUsed;
      included.push(stx);
      receipts.push({
        receipt: makeReceipt(stx.tx.type, outcome, gasUsed),
        from: stx.from,
        gasUsed: outcome.gasUsed,
        contractAddress: outcome.contractAddress,
      });
    }
    const extras = opts.extras ?? EMPTY_EXTRAS;
    let effects: unknown;
    if (this.hooks) {
      const context = opts.context ?? {
        parentHash,
        parent,
        slot: parent.slot + 1n,
        number: env.number,
        proposerIndex: 0n,
        coinbase: env.coinbase,
      };
      effects = await this.hooks.applyExtras(ws, extras, context);
    }
    const batch = new WriteBatch();
    const stateRoot = await ws.commit(batch, false);
    const bloom = new Uint8Array(BLOOM_BYTES);
    for (const r of receipts) {
      // A receipt without logs has an all-zero bloom.
      if (r.receipt.logs.length > 0) for (let i = 0; i < BLOOM_BYTES; i++) bloom[i]! |= r.receipt.logsBloom[i]!;
    }
    const encodedReceipts = receipts.map((r) => encodeReceipt(r.receipt));
    return {
      stateRoot,
      transactionsRoot: orderedListRoot(included.map((t) => t.raw)),
      receiptsRoot: orderedListRoot(encodedReceipts),
      logsBloom: bloom,
      gasUsed,
      receipts,
      encodedReceipts,
      txs: included,
      extras,
      parentHash,
      batch,
      flatDiff: ws.flatDiff,
      accountUpdates: ws.accountUpdates,
      effects,
    };
  }

  /**
   * The single import path. Validates the header against its parent (any known block, so forks can be stored),
   * executes the body on the parent's state (or reuses the producer's execution of this exact block), checks every
   * root, stores the block, and moves the head to whatever fork choice says, all in one atomic write when the block
   * extends the head.
   */
  importBlock(block: Block, produced?: ExecutedBlock): Promise<ImportedBlock> {
    return this.serialize(() => this.importLocked(block, produced));
  }

  private async importLocked(block: Block, produced?: ExecutedBlock): Promise<ImportedBlock> {
    const started = performance.now();
    const imported = await this.importChecked(block, produced);
    const n = block.transactions.length;
    if (!produced && n >= IMPORT_COST_MIN_TXS) {
      const perTx = (performance.now() - started) / n;
      this.importCost =
        this.importCost === undefined ? perTx : this.importCost + IMPORT_COST_SMOOTHING * (perTx - this.importCost);
    }
    return imported;
  }

  private async importChecked(block: Block, produced?: ExecutedBlock): Promise<ImportedBlock> {
    const h = block.header;
    const hash = blockHash(h);
    if (await this.modules.db.get(Bucket.blockNumbers, hash)) {
      throw new BlockError({ code: "BLOCK_ALREADY_KNOWN", hash: bytesToHex(hash) });
    }
    const parent = await this.getHeader(h.parentHash);
    if (!parent) throw new BlockError({ code: "BLOCK_UNKNOWN_PARENT", parentHash: bytesToHex(h.parentHash) });
    if (h.number !== parent.number + 1n)
      throw new BlockError({ code: "BLOCK_INVALID_NUMBER", expected: parent.number + 1n, got: h.number });
    const cp = this.opts.checkpoint;
    // Rule: under a weak-subjectivity checkpoint, a block at or above its number descends from it.
    if (cp && (await this.conflictsWithCheckpoint(h.number, hash, h.parentHash))) {
      throw new BlockError({ code: "BLOCK_CONFLICTS_CHECKPOINT", number: cp.number, expected: bytesToHex(cp.hash) });
    }
    if (h.slot <= parent.slot) throw new BlockError({ code: "BLOCK_INVALID_SLOT" });
    if (h.timestamp < parent.timestamp) throw new BlockError({ code: "BLOCK_INVALID_TIMESTAMP" });
    if (h.gasLimit !== parent.gasLimit) throw new BlockError({ code: "BLOCK_INVALID_GAS_LIMIT" });
    const baseFee = nextBaseFee(this.genesis.params, parent);
    if (h.baseFeePerGas !== baseFee)
      throw new BlockError({ code: "BLOCK_INVALID_BASE_FEE", expected: baseFee, got: h.baseFeePerGas });
    // Rule: the proposer is a genesis validator and pays fees to its registered recipient.
    const validator = this.genesis.validators[Number(h.proposerIndex)];
    if (!validator || Buffer.compare(validator.feeRecipient, h.coinbase) !== 0)
      throw new BlockError({ code: "BLOCK_INVALID_PROPOSER" });
    // Rule: the proposer's BLS signature covers the block hash under this chain's domain.
    if (!blsVerify(validator.blsPublicKey, blockSigningRoot(this.chainId, hash), h.signature)) {
      throw new BlockError({ code: "BLOCK_INVALID_SIGNATURE" });
    }
    const extras: BlockExtras = {
      attestations: block.attestations,
      aiProofs: block.aiProofs,
      evidence: block.evidence,
    };
    if (Buffer.compare(blockExtrasRoot(extras), h.extrasRoot) !== 0) {
      throw new BlockError({ code: "BLOCK_EXTRAS_ROOT_MISMATCH" });
    }
    await this.hooks?.validateHeader(h, parent, hash);

    let exec = produced;
    if (
      !exec ||
      Buffer.compare(exec.stateRoot, h.stateRoot) !== 0 ||
      Buffer.compare(exec.parentHash, h.parentHash) !== 0 ||
      Buffer.compare(exec.parentHash, this.headHash) !== 0
    ) {
      const recovered = await this.modules.recovery.recover(block.transactions);
      const txs: SignedTransaction[] = [];
      recovered.forEach((r, index) => {
        if (!("tx" in r)) throw new BlockError({ code: "BLOCK_INVALID_TRANSACTION", index, reason: r.message });
        txs.push(r);
      });
      exec = await this.execute(
        txs,
        { ...this.childEnv(h.timestamp, h.coinbase, parent), gasLimit: h.gasLimit },
        true,
        undefined,
        {
          parent: { hash: h.parentHash, header: parent },
          extras,
          context: {
            parentHash: h.parentHash,
            parent,
            slot: h.slot,
            number: h.number,
            proposerIndex: h.proposerIndex,
            coinbase: h.coinbase,
          },
        },
      );
    }
    if (exec.gasUsed !== h.gasUsed) throw new BlockError({ code: "BLOCK_GAS_USED_MISMATCH" });
    if (Buffer.compare(exec.stateRoot, h.stateRoot) !== 0) throw new BlockError({ code: "BLOCK_STATE_ROOT_MISMATCH" });
    if (Buffer.compare(exec.transactionsRoot, h.transactionsRoot) !== 0)
      throw new BlockError({ code: "BLOCK_TX_ROOT_MISMATCH" });
    if (Buffer.compare(exec.receiptsRoot, h.receiptsRoot) !== 0)
      throw new BlockError({ code: "BLOCK_RECEIPT_ROOT_MISMATCH" });
    if (Buffer.compare(exec.logsBloom, h.logsBloom) !== 0) throw new BlockError({ code: "BLOCK_BLOOM_MISMATCH" });

    const batch = exec.batch;
    this.writeBlockData(batch, block, hash, exec.receipts, exec.encodedReceipts, exec.flatDiff);
    const imported: ImportedBlock = { block, hash, receipts: exec.receipts, txs: exec.txs };
    this.hooks?.onBlock(hash, h);
    const wanted = this.hooks
      ? this.hooks.head()
      : Buffer.compare(h.parentHash, this.headHash) === 0
        ? hash
        : undefined;
    const extendsHead = Buffer.compare(h.parentHash, this.headHash) === 0;
    if (wanted && extendsHead && Buffer.compare(wanted, hash) === 0) {
      // The common case: the block extends the head and becomes it, in the same atomic write.
      for (const c of exec.flatDiff) applyFlat(batch, c.bucket, c.key, c.after);
      this.writeCanonical(
        batch,
        h.number,
        hash,
        exec.txs.map((t) => t.hash),
      );
      batch.put(Bucket.meta, META_HEAD, hash);
      await this.writeHeadChange(batch);
      this.modules.state.onHeadCommitted(exec.accountUpdates);
      this.head = h;
      this.headHash = hash;
      this.hooks?.onImported(hash, h, exec.effects);
      this.emit("block", imported);
      return imported;
    }
    await this.modules.db.write(batch);
    this.hooks?.onImported(hash, h, exec.effects);
    if (wanted && Buffer.compare(wanted, this.headHash) !== 0) await this.setHeadLocked(wanted);
    return imported;
  }

  /** Write a batch that moves the flat view to another head; overlays opened on the old head stop reading it. */
  private async writeHeadChange(batch: WriteBatch): Promise<void> {
    this.modules.state.beginHeadChange();
    try {
      await this.modules.db.write(batch);
    } catch (e) {
      this.modules.state.onReorg();
      throw e;
    }
  }

  /** Make `hash` (a stored block) the head, rolling the flat view back and forward across a reorg atomically. */
  setHead(hash: Uint8Array): Promise<void> {
    return this.serialize(() => this.setHeadLocked(hash));
  }

  private async setHeadLocked(target: Uint8Array): Promise<void> {
    if (Buffer.compare(target, this.headHash) === 0) return;
    const targetHeader = await this.getHeader(target);
    if (!targetHeader) throw new BlockError({ code: "REORG_UNKNOWN_BLOCK", hash: bytesToHex(target) });
    // Walk both branches back to their common ancestor.
    const oldBranch: { hash: Uint8Array; header: BlockHeader }[] = [];
    const newBranch: { hash: Uint8Array; header: BlockHeader }[] = [];
    let a = { hash: this.headHash, header: this.head };
    let b = { hash: target, header: targetHeader };
    const parentOf = async (x: { header: BlockHeader }) => {
      const header = await this.getHeader(x.header.parentHash);
      if (!header) throw new BlockError({ code: "REORG_UNKNOWN_BLOCK", hash: bytesToHex(x.header.parentHash) });
      return { hash: x.header.parentHash, header };
    };
    while (a.header.number > b.header.number) {
      oldBranch.push(a);
      a = await parentOf(a);
    }
    while (b.header.number > a.header.number) {
      newBranch.push(b);
      b = await parentOf(b);
    }
    while (Buffer.compare(a.hash, b.hash) !== 0) {
      oldBranch.push(a);
      newBranch.push(b);
      a = await parentOf(a);
      b = await parentOf(b);
    }
    newBranch.reverse();
    const cp = this.opts.checkpoint;
    if (cp && newBranch.some((b) => b.header.number === cp.number && Buffer.compare(b.hash, cp.hash) !== 0)) {
      throw new BlockError({ code: "BLOCK_CONFLICTS_CHECKPOINT", number: cp.number, expected: bytesToHex(cp.hash) });
    }
    const batch = new WriteBatch();
    const orphaned = new Map<string, Uint8Array>();
    // Undo the old branch from its tip down; later writes win, so each key ends at its value before the branch.
    for (const blk of oldBranch) {
      const diff = await this.modules.db.get(Bucket.flatDiffs, blk.hash);
      for (const c of diff ? decodeFlatDiff(diff) : []) applyFlat(batch, c.bucket, c.key, c.before);
      const body = await this.modules.db.get(Bucket.bodies, blk.hash);
      for (const raw of body ? decodeBody(body).transactions : []) {
        const txHash = keccak256(raw);
        batch.del(Bucket.txIndex, txHash);
        orphaned.set(bytesToHex(txHash), raw);
      }
      if (blk.header.number > targetHeader.number) batch.del(Bucket.canonical, u64Key(blk.header.number));
    }
    const imported: ImportedBlock[] = [];
    for (const blk of newBranch) {
      const diff = await this.modules.db.get(Bucket.flatDiffs, blk.hash);
      for (const c of diff ? decodeFlatDiff(diff) : []) applyFlat(batch, c.bucket, c.key, c.after);
      const block = (await this.getBlock(blk.hash)) as Block;
      const receipts = (await this.getReceipts(blk.hash)) ?? [];
      const txs = await this.modules.recovery.recover(block.transactions);
      const txHashes = block.transactions.map((raw) => keccak256(raw));
      for (const h of txHashes) orphaned.delete(bytesToHex(h));
      this.writeCanonical(batch, blk.header.number, blk.hash, txHashes);
      imported.push({ block, hash: blk.hash, receipts, txs: txs.filter((t): t is SignedTransaction => "tx" in t) });
    }
    batch.put(Bucket.meta, META_HEAD, target);
    await this.writeHeadChange(batch);
    this.modules.state.onReorg();
    const oldHead = this.headHash;
    this.head = targetHeader;
    this.headHash = target;
    if (oldBranch.length > 0) {
      this.modules.logger.info(
        {
          depth: oldBranch.length,
          from: bytesToHex(oldHead),
          to: bytesToHex(target),
          number: Number(targetHeader.number),
        },
        "Reorg",
      );
      this.emit("reorg", { oldHead, newHead: target, depth: oldBranch.length, orphanedTxs: [...orphaned.values()] });
    }
    for (const i of imported) this.emit("block", i);
  }

  /**
   * Whether a block (at `number`, with `hash` and `parentHash`) is on another branch than the checkpoint. Walks back
   * to the checkpoint's number, stopping early at a canonical block: init and setHead keep the checkpoint canonical
   * once the head has passed it, so a canonical block at or above it descends from it.
   */
  private async conflictsWithCheckpoint(number: bigint, hash: Uint8Array, parentHash: Uint8Array): Promise<boolean> {
    const cp = this.opts.checkpoint;
    if (!cp || number < cp.number) return false;
    let [n, h, parent] = [number, hash, parentHash];
    for (;;) {
      if (n === cp.number) return Buffer.compare(h, cp.hash) !== 0;
      const canonical = await this.canonicalHash(n);
      if (canonical && Buffer.compare(canonical, h) === 0) return false;
      const header = await this.getHeader(parent);
      if (!header) return false; // unknown ancestry is the parent check's to report
      [n, h, parent] = [n - 1n, parent, header.parentHash];
    }
  }

  // ---- reads ----

  getHeader(hash: Uint8Array): Promise<BlockHeader | undefined> {
    return this.headers.get(hash);
  }

  async hasBlock(hash: Uint8Array): Promise<boolean> {
    return (await this.modules.db.get(Bucket.blockNumbers, hash)) !== undefined;
  }

  async canonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    if (number < 0n || number > this.head.number) return undefined;
    return this.modules.db.get(Bucket.canonical, u64Key(number));
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    const [h, body] = await Promise.all([
      this.modules.db.get(Bucket.headers, hash),
      this.modules.db.get(Bucket.bodies, hash),
    ]);
    if (!h || !body) return undefined;
    return { header: decodeHeader(h), ...decodeBody(body) };
  }

  async getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    const enc = await this.modules.db.get(Bucket.receipts, hash);
    if (!enc) return undefined;
    const items = rlpList(rlpDecode(enc), "receipts");
    let prevCum = 0n;
    return items.map((item) => {
      const [r, from, ca] = rlpList(item, "stored receipt", 3);
      const receipt = decodeReceipt(rlpBytes(r, "receipt"));
      const gasUsed = receipt.cumulativeGasUsed - prevCum;
      prevCum = receipt.cumulativeGasUsed;
      const contractAddress = rlpBytes(ca, "contractAddress");
      return {
        receipt,
        from: rlpBytes(from, "from", 20),
        gasUsed,
        contractAddress: contractAddress.length ? contractAddress : null,
      };
    });
  }

  /** The flat-state changes a stored block made (with their previous values), canonical or not. */
  async getFlatDiff(hash: Uint8Array): Promise<FlatChange[] | undefined> {
    const enc = await this.modules.db.get(Bucket.flatDiffs, hash);
    return enc ? decodeFlatDiff(enc) : undefined;
  }

  async txLocation(txHash: Uint8Array): Promise<{ blockHash: Uint8Array; index: number } | undefined> {
    const loc = await this.modules.db.get(Bucket.txIndex, txHash);
    if (!loc) return undefined;
    return { blockHash: loc.slice(0, 32), index: new DataView(loc.buffer, loc.byteOffset).getUint32(32) };
  }
}
