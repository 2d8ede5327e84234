// The `txs` gossip message: a bounded RLP list of raw transactions, refused with REJECT when malformed; the batcher
// sends by count, by size and after its delay, never an empty batch.
import { MAX_TX_SIZE, rlpEncode } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { GossipValidationError } from "../network/errors.ts";
import { decodeTxBatch, encodeTxBatch, MAX_TXS_PER_MESSAGE, TxGossipBatcher } from "./txGossip.ts";

const tx = (i: number, size = 110) => new Uint8Array(size).fill(i % 256);

function rejectCode(data: Uint8Array): string {
  try {
    decodeTxBatch(data);
  } catch (e) {
    expect(e).toBeInstanceOf(GossipValidationError);
    expect((e as GossipValidationError).action).toBe("REJECT");
    return (e as GossipValidationError).type.code;
  }
  return expect.fail("expected a REJECT");
}

describe("txs gossip message", () => {
  it("round-trips a batch", () => {
    const raws = [tx(1), tx(2, 300), tx(3, 1)];
    expect(decodeTxBatch(encodeTxBatch(raws))).toEqual(raws);
  });

  it("rejects empty, oversized, nested and non-list messages", () => {
    expect(rejectCode(rlpEncode([]))).toBe("TX_BATCH_SIZE");
    expect(rejectCode(encodeTxBatch(Array.from({ length: MAX_TXS_PER_MESSAGE + 1 }, (_, i) => tx(i, 2))))).toBe(
      "TX_BATCH_SIZE",
    );
    expect(rejectCode(rlpEncode([tx(1), [tx(2)]]))).toBe("TX_BATCH_MALFORMED");
    expect(rejectCode(rlpEncode(tx(1)))).toBe("TX_BATCH_MALFORMED");
    expect(rejectCode(Uint8Array.of(0xf9, 0xff))).toBe("TX_BATCH_MALFORMED");
    expect(rejectCode(encodeTxBatch([new Uint8Array(MAX_TX_SIZE + 1)]))).toBe("TX_BATCH_MALFORMED");
  });
});

describe("TxGossipBatcher", () => {
  it("sends when the count or the byte budget is reached, and the rest after the delay", async () => {
    const sent: Uint8Array[][] = [];
    const b = new TxGossipBatcher(
      { flushMs: 20, maxTxs: 3, maxBytes: 1000 },
      { send: (m) => sent.push(decodeTxBatch(m)) },
    );
    for (let i = 0; i < 7; i++) b.add(tx(i));
    expect(sent.map((s) => s.length)).toEqual([3, 3]);
    await new Promise((r) => setTimeout(r, 40));
    expect(sent.map((s) => s.length)).toEqual([3, 3, 1]);
    // 400-byte transactions: two fit in 1000 bytes, the third starts a new batch.
    for (let i = 0; i < 3; i++) b.add(tx(i, 400));
    expect(sent.map((s) => s.length)).toEqual([3, 3, 1, 2]);
    b.flush();
    expect(sent.map((s) => s.length)).toEqual([3, 3, 1, 2, 1]);
    b.flush();
    expect(sent).toHaveLength(5);
    b.add(tx(9));
    b.stop();
    await new Promise((r) => setTimeout(r, 40));
    expect(sent).toHaveLength(5);
  });
});
