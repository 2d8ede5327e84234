// Produces one block per slot from the mempool's best transactions, signs the header with the validator's BLS key,
// and hands it to Chain.importBlock like any other block.
import { BLOOM_BYTES, type Block, type BlockHeader, blockHash, blsSign, bytesToHex } from "@rustchain/shared";
import type { Logger } from "pino";
import type { Mempool } from "../mempool/mempool.ts";
import { blockSigningRoot, type Chain } from "./chain.ts";

const RETRYABLE = new Set(["TX_NONCE_TOO_HIGH", "TX_GAS_LIMIT_EXCEEDS_BLOCK", "TX_FEE_CAP_TOO_LOW"]);

export interface BlockProducerOptions {
  /** Index of this validator in the genesis validator set. */
  validatorIndex: number;
  extraData: Uint8Array;
}

export interface ProducerMetrics {
  onBlock(txs: number, gasUsed: bigint, seconds: number): void;
}

export class BlockProducer {
  private timer: NodeJS.Timeout | undefined;
  private producing = false;
  private stopped = true;

  constructor(
    private readonly opts: BlockProducerOptions,
    private readonly modules: {
      chain: Chain;
      mempool: Mempool;
      secretKey: Uint8Array;
      logger: Logger;
      metrics?: ProducerMetrics;
    },
  ) {}

  private get slotMs(): number {
    return this.modules.chain.genesis.params.slotMs;
  }

  private genesisMs(): number {
    return Number(this.modules.chain.genesis.timestamp) * 1000;
  }

  currentSlot(now = Date.now()): bigint {
    return BigInt(Math.max(0, Math.floor((now - this.genesisMs()) / this.slotMs)));
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.producing) await new Promise((r) => setTimeout(r, 10));
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    const next = this.genesisMs() + (Number(this.currentSlot(now)) + 1) * this.slotMs;
    this.timer = setTimeout(() => void this.onSlot(), Math.max(0, next - now));
  }

  private async onSlot(): Promise<void> {
    const slot = this.currentSlot();
    if (!this.producing && slot > this.modules.chain.head.slot) {
      this.producing = true;
      try {
        await this.produce(slot);
      } catch (e) {
        this.modules.logger.error({ err: e, slot: Number(slot) }, "Block production failed");
      } finally {
        this.producing = false;
      }
    }
    this.schedule();
  }

  /** Build, sign and import the block for `slot`. */
  async produce(slot: bigint): Promise<Block> {
    const started = performance.now();
    const { chain, mempool, secretKey } = this.modules;
    const validator = chain.genesis.validators[this.opts.validatorIndex]!;
    const timestamp = BigInt(Math.floor((this.genesisMs() + Number(slot) * this.slotMs) / 1000));
    const env = chain.childEnv(
      timestamp > chain.head.timestamp ? timestamp : chain.head.timestamp,
      validator.feeRecipient,
    );
    const overlay = chain.headOverlay();
    const candidates = await mempool.selectForBlock(
      env.baseFeePerGas,
      env.gasLimit,
      async (a) => (await overlay.getAccount(a)).nonce,
    );
    const dropped: typeof candidates = [];
    // Drop only transactions that can never execute; the rest wait for a later block.
    const exec = await chain.execute(candidates, env, false, (stx, err) => {
      if (!RETRYABLE.has(err.type.code)) dropped.push(stx);
    });
    const header: BlockHeader = {
      parentHash: chain.headHash,
      slot,
      number: env.number,
      proposerIndex: BigInt(this.opts.validatorIndex),
      coinbase: validator.feeRecipient,
      vrfProof: new Uint8Array(0),
      stateRoot: exec.stateRoot,
      transactionsRoot: exec.transactionsRoot,
      receiptsRoot: exec.receiptsRoot,
      logsBloom: exec.logsBloom.length ? exec.logsBloom : new Uint8Array(BLOOM_BYTES),
      gasLimit: env.gasLimit,
      gasUsed: exec.gasUsed,
      baseFeePerGas: env.baseFeePerGas,
      timestamp: env.timestamp,
      extraData: this.opts.extraData,
      signature: new Uint8Array(0),
    };
    header.signature = blsSign(secretKey, blockSigningRoot(chain.chainId, blockHash(header)));
    const block: Block = { header, transactions: exec.txs.map((t) => t.raw) };
    const imported = await chain.importBlock(block, exec);
    const headNonce = async (a: Uint8Array) => (await chain.headOverlay().getAccount(a)).nonce;
    await mempool.onBlock([...exec.txs, ...dropped], headNonce);
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
    return block;
  }
}
