import { keccak256, parseTransaction, serializeTransaction, toRlp } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { checkRawTransaction } from "./txCheck.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const account = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const to = "0x1111111111111111111111111111111111111111";
const opts = { chainId: 7n, maxTxBytes: 128 * 1024 };
const base = { to, value: 5n, nonce: 3, gas: 21_000n } as const;
type Hex = `0x${string}`;

const sign = (tx: Record<string, unknown>) => account.signTransaction(tx as never);

/** Re-encode a signed transaction with other signature values (same unsigned fields). */
function resign(raw: Hex, sig: { r?: bigint; s?: bigint; yParity?: number; v?: bigint }): Hex {
  const p = parseTransaction(raw);
  const { r, s, v, yParity, ...unsigned } = p;
  return serializeTransaction(
    unsigned as never,
    {
      r: `0x${(sig.r ?? BigInt(r as string)).toString(16)}` as Hex,
      s: `0x${(sig.s ?? BigInt(s as string)).toString(16)}` as Hex,
      ...(p.type === "legacy" ? { v: sig.v ?? v } : { yParity: sig.yParity ?? yParity }),
    } as never,
  );
}

describe("checkRawTransaction accepts what the core accepts", () => {
  it.each([
    ["EIP-1559", { ...base, chainId: 7, maxFeePerGas: 2n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n }],
    [
      "EIP-2930",
      { ...base, chainId: 7, gasPrice: 10n ** 9n, accessList: [{ address: to, storageKeys: [] }], type: "eip2930" },
    ],
    ["legacy EIP-155", { ...base, chainId: 7, gasPrice: 10n ** 9n, type: "legacy" }],
    [
      "contract creation",
      { nonce: 0, gas: 100_000n, data: "0x6000", chainId: 7, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n },
    ],
  ])("%s: sender and hash", async (_name, tx) => {
    const raw = await sign(tx);
    const out = checkRawTransaction(raw, opts);
    expect(out).toMatchObject({ ok: true, hash: keccak256(raw), from: account.address.toLowerCase(), chainId: 7n });
  });
});

describe("checkRawTransaction refuses with the core's -32000 messages and domain codes", () => {
  const refused = async (raw: Hex, o = opts) => {
    const out = checkRawTransaction(raw, o);
    if (out.ok) throw new Error("accepted");
    expect(out.error.code).toBe(-32000);
    // The domain code callers match instead of the message.
    expect(out.error.data).toMatchObject({ code: expect.stringMatching(/^(TX_|RLP_|INVALID_SIGNATURE)/) });
    return out.error.message;
  };

  it("wrong chain id", async () => {
    const raw = await sign({ ...base, chainId: 8, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n });
    expect(await refused(raw)).toBe("invalid chain id for signer: have 8 want 7");
    const legacy = await sign({ ...base, chainId: 1, gasPrice: 2n, type: "legacy" });
    expect(await refused(legacy)).toBe("invalid chain id for signer: have 1 want 7");
  });

  it("legacy without EIP-155 is not replay protected", async () => {
    const raw = await sign({ ...base, gasPrice: 2n, type: "legacy" });
    expect(await refused(raw)).toBe("only replay-protected (EIP-155) transactions allowed over RPC");
  });

  it("high s, zero r, r >= N and yParity > 1 are invalid signatures", async () => {
    const raw = await sign({ ...base, chainId: 7, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n });
    const p = parseTransaction(raw);
    const s = BigInt(p.s as string);
    expect(await refused(resign(raw, { s: N - s, yParity: p.yParity === 0 ? 1 : 0 }))).toBe(
      "invalid transaction v, r, s values",
    );
    expect(await refused(resign(raw, { r: N }))).toBe("invalid transaction v, r, s values");
    // yParity 2 by hand: viem will not serialise it.
    const body = raw.slice(4);
    const fields = (await import("viem")).fromRlp(`0x${body}`, "hex") as Hex[];
    fields[9] = "0x02";
    expect(await refused(`0x02${toRlp(fields as never).slice(2)}` as Hex)).toBe("invalid transaction v, r, s values");
    const legacy = await sign({ ...base, chainId: 7, gasPrice: 2n, type: "legacy" });
    const lf = (await import("viem")).fromRlp(legacy, "hex") as Hex[];
    lf[6] = "0x1d"; // v = 29: neither 27/28 nor EIP-155
    expect(await refused(toRlp(lf as never))).toBe("invalid transaction v, r, s values");
  });

  it("unsupported types, garbage and empty input", async () => {
    expect(await refused("0x03c0")).toBe("transaction type not supported");
    expect(await refused("0x04c0")).toBe("transaction type not supported");
    expect(await refused("0x")).toBe("invalid transaction: empty");
    expect(await refused("0x80")).toBe("invalid transaction: not a transaction");
    expect(await refused("0xdeadbeef")).toMatch(/^(rlp|invalid transaction): /);
    expect(await refused("0x02c0")).toBe("rlp: transaction: expected 12 items, got 0");
    expect(await refused("0xc3010203")).toBe("rlp: transaction: expected 9 items, got 3");
  });

  it("a non-canonical encoding (a leading zero in the nonce) is refused", async () => {
    const raw = await sign({ ...base, nonce: 5, chainId: 7, gasPrice: 2n, type: "legacy" });
    const lf = (await import("viem")).fromRlp(raw, "hex") as Hex[];
    lf[0] = "0x0005";
    expect(await refused(toRlp(lf as never))).toBe("rlp: nonce: leading zero");
  });

  it("over maxTxBytes", async () => {
    const raw = await sign({
      ...base,
      gas: 90_000n,
      data: `0x${"01".repeat(200)}`,
      chainId: 7,
      maxFeePerGas: 2n,
      maxPriorityFeePerGas: 1n,
    });
    const size = (raw.length - 2) / 2;
    expect(await refused(raw, { ...opts, maxTxBytes: 100 })).toBe(
      `oversized data: transaction size ${size}, limit 100`,
    );
    expect(checkRawTransaction(raw, { ...opts, maxTxBytes: size }).ok).toBe(true);
  });
});
