// Transactions travel by gossip in batches (topic `txs`, version 2): one message is the RLP list of up to
// MAX_TXS_PER_MESSAGE raw transactions, as eth/68's Transactions message is. One message per transaction cost every
// node a gossipsub message (id hashing, framing, encryption, scoring) per transaction per peer, which capped a
// 4-validator devnet at a few hundred tx/s; a batch costs that once per ~50 ms.
import { MAX_TX_SIZE, rlpBytes, rlpDecode, rlpEncode, rlpList } from "@rustchain/shared";
import { GossipValidationError } from "../network/errors.ts";

/** Most transactions one `txs` message may carry (a receiver refuses more). */
export const MAX_TXS_PER_MESSAGE = 1024;

export interface TxGossipBatcherOptions {
  /** Send what has gathered after this long. */
  flushMs: number;
  /** Send as soon as this many transactions have gathered. */
  maxTxs: number;
  /** Send before the encoded batch would exceed this many bytes (the topic's limit is 1 MiB). */
  maxBytes: number;
}

export const defaultTxGossipBatcherOptions: TxGossipBatcherOptions = {
  flushMs: 50,
  maxTxs: 512,
  maxBytes: 256 * 1024,
};

export function encodeTxBatch(raws: Uint8Array[]): Uint8Array {
  return rlpEncode(raws);
}

/** The raw transactions of a `txs` message; REJECT for anything that is not a bounded list of bounded byte strings. */
export function decodeTxBatch(data: Uint8Array): Uint8Array[] {
  try {
    const items = rlpList(rlpDecode(data), "txs message");
    if (items.length === 0 || items.length > MAX_TXS_PER_MESSAGE) {
      throw new GossipValidationError("REJECT", { code: "TX_BATCH_SIZE", count: items.length });
    }
    return items.map((item) => rlpBytes(item, "transaction", MAX_TX_SIZE));
  } catch (e) {
    if (e instanceof GossipValidationError) throw e;
    throw new GossipValidationError("REJECT", { code: "TX_BATCH_MALFORMED" });
  }
}

/** Gathers transactions to gossip and hands them to `send` as batches (at most one batch in flight at a time). */
export class TxGossipBatcher {
  private pending: Uint8Array[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: TxGossipBatcherOptions,
    private readonly modules: { send: (batch: Uint8Array) => void },
  ) {}

  add(raw: Uint8Array): void {
    // Each item costs its bytes plus at most 4 bytes of RLP header.
    if (this.pending.length > 0 && this.bytes + raw.length + 4 > this.opts.maxBytes) this.flush();
    this.pending.push(raw);
    this.bytes += raw.length + 4;
    if (this.pending.length >= this.opts.maxTxs) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.bytes = 0;
    this.modules.send(encodeTxBatch(batch));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
