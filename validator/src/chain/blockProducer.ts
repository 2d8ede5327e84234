// Builds one block: the mempool's best transactions plus the consensus extras on top of the head, with the proposer's
// VRF proof in the header, signed through the caller's signer (which goes through slashing protection), and handed
// to Chain.importBlock like any other block. When to propose is consensus's decision (consensus/engine.ts).
import {
  BLOOM_BYTES,
  type Block,
  type BlockExtras,
  type BlockHeader,
  blockExtrasRoot,
  blockHash,
  bytesToHex,
  EMPTY_EXTRAS,
} from "@rustchain/shared";
import type { Logger } from "pino";
import type { Mempool } from "../mempool/mempool.ts";
import type { Chain, ImportedBlock } from "./chain.ts";

const RETRYABLE = new Set(["TX_NONCE_TOO_HIGH", "TX_GAS_LIMIT_EXCEEDS_BLOCK", "TX_FEE_CAP_TOO_LOW"]);

export interface BlockProducerOptions {
  /** Index of this validator in the genesis validator set. */
  validatorIndex: number;
  extraData: Uint8Array;
  /**
   * Most time spent executing transactions for one block (ms); the rest wait for the next. Under overload (a full
   * pool, a busy machine) blocks stay small enough for every validator to import them within the slot, so the chain
   * and finality keep going instead of stalling on blocks nobody can process in time. Default: 40% of the slot.
   */
  buildBudgetMs?: number;
  /**
   * Size blocks so that importing one would take this node about this long (ms), judged by what importing other
   * validators' blocks has cost it lately (`Chain.importMsPerTx`): a validator importing a block for longer than
   * the slot falls behind, builds on stale parents and splits the votes. Default: a quarter of the slot. No cap
   * until the node has imported someone else's block of 100 transactions or more (a lone validator never does).
   */
  importBudgetMs?: number;
}

/** However slow imports get, a block may still carry this many transactions. */
const MIN_BLOCK_TXS = 100;

export interface ProducerMetrics {
  onBlock(txs: number, gasUsed: bigint, seconds: number): void;
}

export interface ProposalInput {
  slot: bigint;
  vrfProof: Uint8Array;
  extras?: BlockExtras;
  /** Sign the block hash (after slashing protection has recorded it); throws to abort the proposal. */
  sign(slot: bigint, hash: Uint8Array): Promise<Uint8Array>;
}

export class BlockProducer {
  constructor(
    private readonly opts: BlockProducerOptions,
    private readonly modules: {
      chain: Chain;
      mempool: Mempool;
      logger: Logger;
      metrics?: ProducerMetrics;
    },
  ) {}

  get validatorIndex(): number {
    return this.opts.validatorIndex;
  }

  private slotTimestamp(slot: bigint): bigint {
    const g = this.modules.chain.genesis;
    return g.timestamp + (slot * BigInt(g.params.slotMs)) / 1000n;
  }

  /** Build, sign and import the block for `input.slot` on the current head. */
  async produce(input: ProposalInput): Promise<ImportedBlock> {
    const started = performance.now();
    const { chain, mempool } = this.modules;
    const { slot } = input;
    const validator = chain.genesis.validators[this.opts.validatorIndex]!;
    const parentHash = chain.headHash;
    const parent = chain.head;
    const timestamp = this.slotTimestamp(slot);
    const env = chain.childEnv(timestamp > parent.timestamp ? timestamp : parent.timestamp, validator.feeRecipient);
    const overlay = chain.headOverlay();
    const selected = await mempool.selectForBlock(
      env.baseFeePerGas,
      env.gasLimit,
      async (a) => (await overlay.getAccount(a)).nonce,
    );
    const perTx = chain.importMsPerTx;
    const importBudget = this.opts.importBudgetMs ?? chain.genesis.params.slotMs / 4;
    // A prefix of the selection keeps each sender's nonces in order.
    const candidates =
      perTx === undefined ? selected : selected.slice(0, Math.max(MIN_BLOCK_TXS, Math.floor(importBudget / perTx)));
    const dropped: typeof candidates = [];
    const extras = input.extras ?? EMPTY_EXTRAS;
    // Drop only transactions that can never execute; the rest wait for a later block.
    const exec = await chain.execute(
      candidates,
      env,
      false,
      (stx, err) => {
        if (!RETRYABLE.has(err.type.code)) dropped.push(stx);
      },
      {
        parent: { hash: parentHash, header: parent },
        extras,
        deadline: started + (this.opts.buildBudgetMs ?? chain.genesis.params.slotMs * 0.4),
        context: {
          parentHash,
          parent,
          slot,
          number: env.number,
          proposerIndex: BigInt(this.opts.validatorIndex),
          coinbase: validator.feeRecipient,
        },
      },
    );
    const header: BlockHeader = {
      parentHash,
      slot,
      number: env.number,
      proposerIndex: BigInt(this.opts.validatorIndex),
      coinbase: validator.feeRecipient,
      vrfProof: input.vrfProof,
      stateRoot: exec.stateRoot,
      transactionsRoot: exec.transactionsRoot,
      receiptsRoot: exec.receiptsRoot,
      logsBloom: exec.logsBloom.length ? exec.logsBloom : new Uint8Array(BLOOM_BYTES),
      gasLimit: env.gasLimit,
      gasUsed: exec.gasUsed,
      baseFeePerGas: env.baseFeePerGas,
      timestamp: env.timestamp,
      extraData: this.opts.extraData,
      extrasRoot: blockExtrasRoot(extras),
      signature: new Uint8Array(0),
    };
    header.signature = await input.sign(slot, blockHash(header));
    const block: Block = { header, transactions: exec.txs.map((t) => t.raw), ...extras };
    const imported = await chain.importBlock(block, exec);
    // Included transactions leave the pool on the chain's "block" event; never-executable ones leave here.
    if (dropped.length > 0)
      await mempool.onBlock(dropped, async (a) => (await chain.headOverlay().getAccount(a)).nonce);
    const seconds = (performance.now() - started) / 1000;
    this.modules.metrics?.onBlock(exec.txs.length, exec.gasUsed, seconds);
    this.modules.logger.info(
      {
        number: Number(header.number),
        slot: Number(slot),
        txs: exec.txs.length,
        gasUsed: Number(exec.gasUsed),
        ms: Math.round(seconds * 1000),
        hash: bytesToHex(imported.hash),
      },
      "Produced block",
    );
    return imported;
  }
}
