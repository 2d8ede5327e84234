// withKnownSenders: transactions already recovered (the pool) are reused by hash, the rest recovered in one call,
// results in input order; a worker pool hands back the same senders as inline recovery.
import { bytesToHex, hexToBytes, signTransaction } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { DEV_KEYS } from "../../../tests/support/devnet.ts";
import { createInlineRecovery, createRecoveryPool, type SenderRecovery, withKnownSenders } from "./senderRecovery.ts";

const signed = Array.from({ length: 6 }, (_, i) =>
  signTransaction(
    {
      type: 2,
      chainId: 21076n,
      nonce: BigInt(i),
      maxPriorityFeePerGas: 1n,
      maxFeePerGas: 10n ** 10n,
      gasLimit: 21000n,
      to: new Uint8Array(20).fill(i),
      value: 1n,
      data: new Uint8Array(0),
      accessList: [],
    },
    hexToBytes(DEV_KEYS[i % 3] as string),
  ),
);

describe("withKnownSenders", () => {
  it("reuses known transactions, recovers only the others, keeps the order and reports bad ones in place", async () => {
    const calls: number[] = [];
    const inline = createInlineRecovery();
    const counting: SenderRecovery = {
      recover: (raws) => {
        calls.push(raws.length);
        return inline.recover(raws);
      },
      close: async () => {},
    };
    const known = new Map([signed[1], signed[4]].map((s) => [bytesToHex(s!.hash), s!]));
    const r = withKnownSenders(counting, (h) => known.get(bytesToHex(h)));
    const raws = [...signed.map((s) => s.raw), Uint8Array.of(0xc0)];
    const out = await r.recover(raws);
    expect(calls).toEqual([5]);
    expect(out[1]).toBe(signed[1]);
    expect(out[4]).toBe(signed[4]);
    out.slice(0, 6).forEach((o, i) => {
      expect(bytesToHex((o as { from: Uint8Array }).from)).toBe(bytesToHex(signed[i]!.from));
    });
    expect("tx" in (out[6] as object)).toBe(false);
    calls.length = 0;
    await r.recover([signed[1]!.raw]);
    expect(calls).toEqual([]);
  });

  it("the worker pool recovers the same senders as inline recovery", async () => {
    const pool = createRecoveryPool({ threads: 1, chunkSize: 2 });
    try {
      const raws = signed.map((s) => s.raw);
      const out = await pool.recover(raws);
      expect(out.map((o) => bytesToHex((o as { from: Uint8Array }).from))).toEqual(
        signed.map((s) => bytesToHex(s.from)),
      );
      expect(out.map((o) => bytesToHex((o as { raw: Uint8Array }).raw))).toEqual(raws.map(bytesToHex));
    } finally {
      await pool.close();
    }
  });
});
