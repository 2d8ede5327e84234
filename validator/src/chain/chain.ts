// The chain: genesis, head, and the one import path every block takes (validate → execute → commit in a single
// atomic RocksDB batch). Produced blocks go through importBlock too; the producer hands over its execution result so
// the block is not executed twice.
import { EventEmitter } from "node:events";
import {
  BLOOM_BYTES,
  type Block,
  type BlockHeader,
  blake3,
  blockHash,
  blsVerify,
  bytesToHex,
  concatBytes,
  decodeHeader,
  decodeReceipt,
  encodeHeader,
  encodeReceipt,
  type Genesis,
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
import type { ContractRuntime } from "../runtime/contractRuntime.ts";
import { type Account, EMPTY_TRIE_ROOT } from "../state/account.ts";
import type { StateDb, WorldState } from "../state/stateDb.ts";
import { BlockError } from "./errors.ts";

const ZERO_HASH = new Uint8Array(32);
const BLOCK_SIGNING_DOMAIN = new TextEncoder().encode("RUSTCHAIN_BLOCK_V1");

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
  txs: SignedTransaction[];
  batch: WriteBatch;
  /** Head accounts this block changes, applied to the state cache after the batch is written. */
  accountUpdates: [Uint8Array, Account | null][];
}

export interface ImportedBlock {
  block: Block;
  hash: Uint8Array;
  receipts: StoredReceipt[];
  txs: SignedTransaction[];
}

function encodeStoredReceipts(rs: StoredReceipt[]): Uint8Array {
  return rlpEncode(rs.map((r) => [encodeReceipt(r.receipt), r.from, r.contractAddress ?? new Uint8Array(0)]));
}

export class Chain extends EventEmitter<{ block: [ImportedBlock] }> {
  head!: BlockHeader;
  headHash!: Uint8Array;
  genesisHash!: Uint8Array;

  constructor(
    readonly genesis: Genesis,
    private readonly modules: {
      db: Database;
      state: StateDb;
      recovery: SenderRecovery;
      runtime: ContractRuntime;
      logger: Logger;
    },
  ) {
    super();
  }

  get chainId(): bigint {
    return this.genesis.params.chainId;
  }

  /** Open the chain: write genesis on first start, otherwise resume from the last committed head. */
  async init(): Promise<void> {
    const { db } = this.modules;
    const genesisBlock = await this.buildGenesis();
    const computed = blockHash(genesisBlock.block.header);
    const stored = await db.get(Bucket.meta, new TextEncoder().encode("genesis"));
    if (!stored) {
      await db.write(genesisBlock.batch);
      this.modules.logger.info({ hash: bytesToHex(computed) }, "Wrote genesis");
    } else if (Buffer.compare(stored, computed) !== 0) {
      throw new BlockError({ code: "GENESIS_MISMATCH", stored: bytesToHex(stored), computed: bytesToHex(computed) });
    }
    this.genesisHash = computed;
    const headHash = (await db.get(Bucket.meta, new TextEncoder().encode("head"))) as Uint8Array;
    const head = await this.getHeader(headHash);
    if (!head) throw new BlockError({ code: "BLOCK_UNKNOWN_PARENT", parentHash: bytesToHex(headHash) });
    this.head = head;
    this.headHash = headHash;
    this.modules.logger.info({ number: Number(head.number), hash: bytesToHex(headHash) }, "Chain head");
  }

  private async buildGenesis(): Promise<{ block: Block; batch: WriteBatch }> {
    const g = this.genesis;
    const ws = this.modules.state.overlay(EMPTY_TRIE_ROOT, false);
    for (const a of g.alloc) {
      const acc = await ws.getAccount(a.address);
      acc.balance = a.balance;
      acc.nonce = a.nonce;
      ws.setAccount(a.address, acc);
    }
    const batch = new WriteBatch();
    const stateRoot = await ws.commit(batch, true);
    const emptyRoot = await orderedListRoot([]);
    const header: BlockHeader = {
      parentHash: ZERO_HASH,
      slot: 0n,
      number: 0n,
      proposerIndex: 0n,
      coinbase: new Uint8Array(20),
      vrfProof: new Uint8Array(0),
      stateRoot,
      transactionsRoot: emptyRoot,
      receiptsRoot: emptyRoot,
      logsBloom: new Uint8Array(BLOOM_BYTES),
      gasLimit: g.gasLimit,
      gasUsed: 0n,
      baseFeePerGas: g.baseFeePerGas,
      timestamp: g.timestamp,
      extraData: g.extraData,
      signature: new Uint8Array(0),
    };
    const block = { header, transactions: [] };
    const hash = blockHash(header);
    this.writeBlock(batch, block, hash, [], []);
    batch.put(Bucket.meta, new TextEncoder().encode("genesis"), hash);
    return { block, batch };
  }

  private writeBlock(
    batch: WriteBatch,
    block: Block,
    hash: Uint8Array,
    txs: SignedTransaction[],
    receipts: StoredReceipt[],
  ) {
    const n = u64Key(block.header.number);
    batch.put(Bucket.headers, hash, encodeHeader(block.header));
    batch.put(Bucket.bodies, hash, rlpEncode(block.transactions));
    batch.put(Bucket.canonical, n, hash);
    batch.put(Bucket.blockNumbers, hash, n);
    batch.put(Bucket.receipts, hash, encodeStoredReceipts(receipts));
    txs.forEach((stx, i) => {
      const loc = new Uint8Array(36);
      loc.set(hash, 0);
      new DataView(loc.buffer).setUint32(32, i);
      batch.put(Bucket.txIndex, stx.hash, loc);
    });
    batch.put(Bucket.meta, new TextEncoder().encode("head"), hash);
  }

  /** Block environment for a child of the head. */
  childEnv(timestamp: bigint, coinbase: Uint8Array): BlockEnv & { gasLimit: bigint } {
    return {
      chainId: this.chainId,
      baseFeePerGas: nextBaseFee(this.genesis.params, this.head),
      coinbase,
      number: this.head.number + 1n,
      timestamp,
      gasLimit: this.head.gasLimit,
    };
  }

  /** The state overlay for executing a child of the head. */
  headOverlay(): WorldState {
    return this.modules.state.overlay(this.head.stateRoot, true);
  }

  /**
   * Execute `txs` on the head state. With `strict`, any non-executable transaction fails the block (import);
   * otherwise it is skipped and reported (block building).
   */
  async execute(
    txs: SignedTransaction[],
    env: BlockEnv & { gasLimit: bigint },
    strict: boolean,
    onSkip?: (stx: SignedTransaction, err: TxError) => void,
  ): Promise<ExecutedBlock> {
    const ws = this.headOverlay();
    const included: SignedTransaction[] = [];
    const receipts: StoredReceipt[] = [];
    let gasUsed = 0n;
    for (const stx of txs) {
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
    const batch = new WriteBatch();
    const stateRoot = await ws.commit(batch, true);
    const bloom = new Uint8Array(BLOOM_BYTES);
    for (const r of receipts) for (let i = 0; i < BLOOM_BYTES; i++) bloom[i]! |= r.receipt.logsBloom[i]!;
    return {
      stateRoot,
      transactionsRoot: await orderedListRoot(included.map((t) => t.raw)),
      receiptsRoot: await orderedListRoot(receipts.map((r) => encodeReceipt(r.receipt))),
      logsBloom: bloom,
      gasUsed,
      receipts,
      txs: included,
      batch,
      accountUpdates: ws.accountUpdates,
    };
  }

  /**
   * The single import path. Validates the header against the head and the validator set, executes the body (or
   * reuses the producer's execution of this exact block), checks every root, then commits atomically.
   */
  async importBlock(block: Block, produced?: ExecutedBlock): Promise<ImportedBlock> {
    const h = block.header;
    const hash = blockHash(h);
    const parent = this.head;
    // Rule: a block extends the current head (forks arrive with multi-validator consensus).
    if (Buffer.compare(h.parentHash, this.headHash) !== 0) {
      if (await this.getHeader(hash)) throw new BlockError({ code: "BLOCK_ALREADY_KNOWN", hash: bytesToHex(hash) });
      throw new BlockError({ code: "BLOCK_NOT_ON_HEAD", parentHash: bytesToHex(h.parentHash) });
    }
    if (h.number !== parent.number + 1n)
      throw new BlockError({ code: "BLOCK_INVALID_NUMBER", expected: parent.number + 1n, got: h.number });
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

    let exec = produced;
    if (!exec || Buffer.compare(exec.stateRoot, h.stateRoot) !== 0) {
      const recovered = await this.modules.recovery.recover(block.transactions);
      const txs: SignedTransaction[] = [];
      recovered.forEach((r, index) => {
        if (!("tx" in r)) throw new BlockError({ code: "BLOCK_INVALID_TRANSACTION", index, reason: r.message });
        txs.push(r);
      });
      exec = await this.execute(txs, { ...this.childEnv(h.timestamp, h.coinbase), gasLimit: h.gasLimit }, true);
    }
    if (exec.gasUsed !== h.gasUsed) throw new BlockError({ code: "BLOCK_GAS_USED_MISMATCH" });
    if (Buffer.compare(exec.stateRoot, h.stateRoot) !== 0) throw new BlockError({ code: "BLOCK_STATE_ROOT_MISMATCH" });
    if (Buffer.compare(exec.transactionsRoot, h.transactionsRoot) !== 0)
      throw new BlockError({ code: "BLOCK_TX_ROOT_MISMATCH" });
    if (Buffer.compare(exec.receiptsRoot, h.receiptsRoot) !== 0)
      throw new BlockError({ code: "BLOCK_RECEIPT_ROOT_MISMATCH" });
    if (Buffer.compare(exec.logsBloom, h.logsBloom) !== 0) throw new BlockError({ code: "BLOCK_BLOOM_MISMATCH" });

    this.writeBlock(exec.batch, block, hash, exec.txs, exec.receipts);
    await this.modules.db.write(exec.batch);
    this.modules.state.onHeadCommitted(exec.accountUpdates);
    this.head = h;
    this.headHash = hash;
    const imported = { block, hash, receipts: exec.receipts, txs: exec.txs };
    this.emit("block", imported);
    return imported;
  }

  // ---- reads ----

  async getHeader(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const enc = await this.modules.db.get(Bucket.headers, hash);
    return enc ? decodeHeader(enc) : undefined;
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
    return { header: decodeHeader(h), transactions: rlpList(rlpDecode(body), "body").map((t) => rlpBytes(t, "tx")) };
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

  async txLocation(txHash: Uint8Array): Promise<{ blockHash: Uint8Array; index: number } | undefined> {
    const loc = await this.modules.db.get(Bucket.txIndex, txHash);
    if (!loc) return undefined;
    return { blockHash: loc.slice(0, 32), index: new DataView(loc.buffer, loc.byteOffset).getUint32(32) };
  }
}
