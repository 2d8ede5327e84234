// Mempool rules: nonce order, tip order across senders, replacement bump, caps and eviction, geth's error strings.
import { hexToBytes, signTransaction, TxError, type UnsignedTransaction } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { emptyAccount } from "../state/account.ts";
import { defaultMempoolOptions, Mempool, type MempoolOptions } from "./mempool.ts";

const KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
].map(hexToBytes);
const GWEI = 10n ** 9n;

function tx(key: number, nonce: bigint, tip: bigint, over: Partial<UnsignedTransaction> = {}) {
  return signTransaction(
    {
      type: 2,
      chainId: 21076n,
      nonce,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: 100n * GWEI,
      gasLimit: 21000n,
      to: new Uint8Array(20).fill(7),
      value: 1n,
      data: new Uint8Array(0),
      accessList: [],
      ...over,
    },
    KEYS[key] as Uint8Array,
  );
}

function pool(opts: Partial<MempoolOptions> = {}, balance = 10n ** 21n) {
  return new Mempool(
    { ...defaultMempoolOptions, ...opts },
    {
      head: () => ({
        chainId: 21076n,
        baseFeePerGas: GWEI,
        gasLimit: 30_000_000n,
        getAccount: async () => ({ ...emptyAccount(), balance }),
      }),
    },
  );
}

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TxError);
    return { code: (e as TxError).type.code, message: (e as TxError).message };
  }
  throw new Error("expected a rejection");
};

describe("Mempool", () => {
  it("orders a block by nonce within a sender and by tip across senders", async () => {
    const p = pool();
    const a1 = tx(0, 1n, 5n * GWEI);
    const a0 = tx(0, 0n, 1n * GWEI);
    const b0 = tx(1, 0n, 3n * GWEI);
    const c0 = tx(2, 0n, 2n * GWEI);
    for (const t of [a1, a0, b0, c0]) await p.add(t);
    const picked = await p.selectForBlock(GWEI, 30_000_000n, async () => 0n);
    // b (tip 3) first, then c (2); a's run starts with its nonce 0 (tip 1), then nonce 1.
    expect(picked.map((t) => t.hash)).toEqual([b0.hash, c0.hash, a0.hash, a1.hash]);
    expect(await p.pendingNonce(a0.from)).toBe(2n);
  });

  it("leaves nonce gaps out of blocks", async () => {
    const p = pool();
    await p.add(tx(0, 2n, GWEI));
    expect(await p.selectForBlock(GWEI, 30_000_000n, async () => 0n)).toEqual([]);
  });

  it("needs a 10% bump of fee cap and tip to replace", async () => {
    const p = pool();
    const original = tx(0, 0n, 10n * GWEI);
    await p.add(original);
    expect(await code(p.add(original))).toEqual({ code: "TX_ALREADY_KNOWN", message: "already known" });
    const small = tx(0, 0n, 10n * GWEI + 1n, { maxFeePerGas: 105n * GWEI, value: 2n });
    expect((await code(p.add(small))).message).toBe("replacement transaction underpriced");
    const bumped = tx(0, 0n, 11n * GWEI, { maxFeePerGas: 110n * GWEI, value: 2n });
    await p.add(bumped);
    expect(p.size).toBe(1);
    expect(p.has(original.hash)).toBe(false);
    expect(p.has(bumped.hash)).toBe(true);
  });

  it("counts pooled lower-nonce costs against the balance", async () => {
    const cost = 21000n * 100n * GWEI + 1n;
    const p = pool({}, cost * 2n);
    await p.add(tx(0, 0n, GWEI));
    await p.add(tx(0, 1n, GWEI));
    expect((await code(p.add(tx(0, 2n, GWEI)))).message).toMatch(/^insufficient funds for gas \* price \+ value/);
  });

  it("caps per sender, and when full evicts the cheapest or refuses", async () => {
    const perSender = pool({ maxPerSender: 2 });
    await perSender.add(tx(0, 0n, GWEI));
    await perSender.add(tx(0, 1n, GWEI));
    expect((await code(perSender.add(tx(0, 2n, GWEI)))).code).toBe("TX_SENDER_LIMIT");

    const full = pool({ maxSize: 2 });
    const cheap = tx(0, 0n, 1n);
    await full.add(cheap);
    await full.add(tx(1, 0n, 5n * GWEI));
    await full.add(tx(2, 0n, 3n * GWEI));
    expect(full.size).toBe(2);
    expect(full.has(cheap.hash)).toBe(false);
    expect((await code(full.add(tx(0, 0n, 0n)))).code).toBe("TX_POOL_FULL");
  });

  it("rejects with geth's messages: fee cap below base fee, tip above cap, intrinsic gas, chain id, creation", async () => {
    const p = pool();
    expect((await code(p.add(tx(0, 0n, 1n, { maxFeePerGas: GWEI - 1n })))).message).toMatch(
      /^max fee per gas less than block base fee/,
    );
    expect((await code(p.add(tx(0, 0n, 200n * GWEI)))).message).toBe(
      "max priority fee per gas higher than max fee per gas",
    );
    expect((await code(p.add(tx(0, 0n, 1n, { gasLimit: 20_999n })))).message).toMatch(/^intrinsic gas too low/);
    expect((await code(p.add(tx(0, 0n, 1n, { chainId: 1n })))).message).toMatch(/^invalid chain id for signer/);
    const strict = new Mempool(defaultMempoolOptions, {
      head: () => ({
        chainId: 21076n,
        baseFeePerGas: GWEI,
        gasLimit: 30_000_000n,
        getAccount: async () => ({ ...emptyAccount(), balance: 10n ** 21n }),
      }),
      checkCreation: () => {
        throw new TxError({ code: "TX_INVALID_CONTRACT", reason: "invalid contract: nope" });
      },
    });
    expect(await code(strict.add(tx(0, 0n, 1n, { to: null, gasLimit: 100_000n })))).toEqual({
      code: "TX_INVALID_CONTRACT",
      message: "invalid contract: nope",
    });
    expect(p.size).toBe(0);
  });

  it("drops included and stale transactions after a block", async () => {
    const p = pool();
    const t0 = tx(0, 0n, GWEI);
    const t1 = tx(0, 1n, GWEI);
    await p.add(t0);
    await p.add(t1);
    await p.onBlock([t0], async () => 2n);
    expect(p.size).toBe(0);
  });

  it("is busy past a backlog of recent blocks' worth of executable transactions", async () => {
    const p = pool({ minBusyBacklog: 3, busyBacklogBlocks: 2 });
    // Behind a nonce gap (the account nonce is 0): never executable, never counted.
    for (const n of [5n, 6n, 7n]) await p.add(tx(1, n, GWEI));
    await p.add(tx(0, 0n, GWEI));
    await p.add(tx(0, 1n, GWEI));
    expect(p.busy()).toBeUndefined();
    await p.add(tx(0, 2n, GWEI));
    expect(p.busy()).toBe("3 executable transactions pending (limit 3)");
    // A block carrying 10 transactions raises the limit to 2 such blocks' worth; it decays as smaller blocks follow.
    const others = Array.from({ length: 10 }, (_, i) => tx(2, BigInt(i), GWEI));
    await p.onBlock(others, async () => 0n);
    expect(p.busy()).toBeUndefined();
    for (let i = 0; i < 40; i++) await p.onBlock([], async () => 0n);
    expect(p.busy()).toBe("3 executable transactions pending (limit 3)");
  });
});
