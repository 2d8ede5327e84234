// The result schemas refuse what a client must never receive, and accept what the shared formatters produce.
import { describe, expect, it } from "vitest";
import type { BlockHeader } from "../header.ts";
import { hexToBytes } from "../hex.ts";
import { signTransaction, type TxType } from "../transaction.ts";
import { formatHeader, formatLog, formatReceipt, formatTransaction } from "./format.ts";
import { rpcMethods } from "./methods.ts";
import { block, hash32, parseResult, quantity, rpcResults } from "./results.ts";

const KEY = hexToBytes("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function signed(type: TxType, to: Uint8Array | null = bytes(20, 0xbb)) {
  return signTransaction(
    {
      type,
      chainId: 21076n,
      nonce: 7n,
      maxPriorityFeePerGas: 10n ** 9n,
      maxFeePerGas: 3n * 10n ** 9n,
      gasLimit: 21_000n,
      to,
      value: 10n ** 18n,
      data: Uint8Array.of(1, 2, 3),
      accessList: type === 0 ? [] : [{ address: bytes(20, 0xcc), storageKeys: [bytes(32, 0x01)] }],
    },
    KEY,
  );
}

const header: BlockHeader = {
  parentHash: bytes(32, 0x11),
  slot: 12n,
  number: 10n,
  proposerIndex: 0n,
  coinbase: bytes(20, 0xaa),
  vrfProof: new Uint8Array(0),
  stateRoot: bytes(32, 0x22),
  transactionsRoot: bytes(32, 0x33),
  receiptsRoot: bytes(32, 0x44),
  logsBloom: bytes(256, 0),
  gasLimit: 30_000_000n,
  gasUsed: 21_000n,
  baseFeePerGas: 10n ** 9n,
  timestamp: 1_700_000_000n,
  extraData: new Uint8Array(0),
  extrasRoot: bytes(32, 0x55),
  signature: new Uint8Array(0),
};
const blockHash = bytes(32, 0x66);
const loc = { blockHash, blockNumber: 10n, blockTimestamp: 1_700_000_000n, index: 0, baseFeePerGas: 10n ** 9n };
const log = { address: bytes(20, 0xcc), topics: [bytes(32, 0x77)], data: Uint8Array.of(9) };
const logLoc = { blockHash, blockNumber: 10n, transactionHash: bytes(32, 0x88), transactionIndex: 0, logIndex: 0 };

function receiptOf(type: TxType) {
  return formatReceipt({
    stx: signed(type),
    receipt: { type, status: 1, cumulativeGasUsed: 21_000n, logsBloom: bytes(256, 0), logs: [log] },
    gasUsed: 21_000n,
    contractAddress: null,
    blockHash,
    blockNumber: 10n,
    baseFeePerGas: 10n ** 9n,
    index: 0,
    firstLogIndex: 0,
  });
}

/** A copy of `value` with `path`'s last key set to `v` (undefined deletes it). */
function patched(value: unknown, path: (string | number)[], v: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (v === undefined) delete at[last];
  else at[last] = v;
  return copy;
}

describe("result table", () => {
  it("has a schema for exactly the methods of rpcMethods", () => {
    expect(Object.keys(rpcResults).sort()).toEqual(Object.keys(rpcMethods).sort());
  });
});

describe("scalars", () => {
  it("a quantity has no leading zeros, lowercase hex, at most 256 bits", () => {
    for (const ok of ["0x0", "0x1", "0x1f", `0x${"f".repeat(64)}`])
      expect(quantity.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["0x01", "0x00", "0x", "1", "0xAB", "0xg", `0x1${"0".repeat(64)}`, 1, null])
      expect(quantity.safeParse(bad).success, String(bad)).toBe(false);
  });

  it("a hash is exactly 32 bytes of lowercase hex", () => {
    expect(hash32.safeParse(`0x${"ab".repeat(32)}`).success).toBe(true);
    for (const bad of [`0x${"ab".repeat(31)}`, `0x${"ab".repeat(33)}`, `0x${"AB".repeat(32)}`, "ab".repeat(32)])
      expect(hash32.safeParse(bad).success, bad).toBe(false);
  });

  it("data is whole bytes; addresses are 20 bytes", () => {
    expect(parseResult("eth_call", "0x")).toBe("0x");
    expect(() => parseResult("eth_call", "0xabc")).toThrow();
    expect(() => parseResult("eth_accounts", ["0x1234"])).toThrow();
  });

  it("net_version is a decimal chain id; web3_sha3 a hash; eth_uninstallFilter a boolean", () => {
    expect(parseResult("net_version", "21076")).toBe("21076");
    expect(() => parseResult("net_version", "0x5254")).toThrow();
    expect(() => parseResult("web3_sha3", "0x1234")).toThrow();
    expect(() => parseResult("eth_uninstallFilter", "true")).toThrow();
  });
});

describe("formatted objects", () => {
  it("transactions of each type parse as mined (with a location) and pending (without)", () => {
    for (const type of [0, 1, 2] as const) {
      const stx = signed(type);
      expect(parseResult("eth_getTransactionByBlockHashAndIndex", formatTransaction(stx, loc))).toBeTruthy();
      expect(parseResult("eth_getTransactionByHash", formatTransaction(stx))).toBeTruthy();
      // A pending transaction is not a mined one.
      expect(() => parseResult("eth_getTransactionByBlockHashAndIndex", formatTransaction(stx))).toThrow();
    }
    expect(parseResult("eth_getTransactionByHash", formatTransaction(signed(2, null), loc))?.to).toBeNull();
  });

  it("a block with hashes or with whole transactions, and its receipts and logs, parse", () => {
    const stx = signed(2);
    const h = formatHeader(header, blockHash, 600);
    expect(parseResult("eth_getBlockByNumber", { ...h, transactions: [] })).toBeTruthy();
    expect(parseResult("eth_getBlockByHash", { ...h, transactions: [formatTransaction(stx, loc)] })).toBeTruthy();
    expect(
      parseResult(
        "eth_getBlockReceipts",
        [0, 1, 2].map((t) => receiptOf(t as TxType)),
      ),
    ).toHaveLength(3);
    expect(parseResult("eth_getLogs", [formatLog(log, logLoc)])).toHaveLength(1);
  });
});

describe("wrong shapes are refused", () => {
  const h = { ...formatHeader(header, blockHash, 600), transactions: [] };
  const minedTx = formatTransaction(signed(2), loc);

  it("null only where the spec answers not-found", () => {
    expect(parseResult("eth_getBlockByNumber", null)).toBeNull();
    expect(parseResult("eth_getTransactionReceipt", null)).toBeNull();
    expect(() => parseResult("eth_getBalance", null)).toThrow();
    expect(() => parseResult("eth_getProof", null)).toThrow();
    expect(() => parseResult("rustchain_finalityStatus", null)).toThrow();
  });

  it("a block missing a required field, with a short hash, a padded quantity or an unknown field", () => {
    expect(block.safeParse(h).success).toBe(true);
    for (const [path, v] of [
      [["stateRoot"], undefined],
      [["transactions"], undefined],
      [["hash"], `0x${"ab".repeat(31)}`],
      [["number"], "0x0a"],
      [["logsBloom"], "0x00"],
      [["uncles"], [`0x${"ab".repeat(32)}`]],
      [["transactions"], [`0x${"ab".repeat(31)}`]],
      [["withdrawals"], []],
    ] as const) {
      expect(block.safeParse(patched(h, [...path], v)).success, `${path.join(".")}=${String(v)}`).toBe(false);
    }
  });

  it("transactions: a half-mined location, a missing fee field, an unknown type", () => {
    expect(() => parseResult("eth_getTransactionByHash", patched(minedTx, ["blockNumber"], null))).toThrow();
    expect(() => parseResult("eth_getTransactionByHash", patched(minedTx, ["maxFeePerGas"], undefined))).toThrow();
    expect(() => parseResult("eth_getTransactionByHash", patched(minedTx, ["type"], "0x3"))).toThrow();
    expect(() => parseResult("eth_getTransactionByHash", patched(minedTx, ["yParity"], "0x2"))).toThrow();
  });

  it("receipts: a bad status, a missing logsBloom, a log with five topics", () => {
    const r = receiptOf(2);
    expect(() => parseResult("eth_getTransactionReceipt", patched(r, ["status"], "0x2"))).toThrow();
    expect(() => parseResult("eth_getTransactionReceipt", patched(r, ["logsBloom"], undefined))).toThrow();
    const topic = `0x${"77".repeat(32)}`;
    const fiveTopics = patched(r, ["logs", 0, "topics"], [topic, topic, topic, topic, topic]);
    expect(() => parseResult("eth_getTransactionReceipt", fiveTopics)).toThrow();
  });

  it("fee history: a ratio above 1, a missing oldestBlock", () => {
    const fh = { oldestBlock: "0x1", baseFeePerGas: ["0x3b9aca00", "0x3b9aca00"], gasUsedRatio: [0.5] };
    expect(parseResult("eth_feeHistory", fh)).toEqual(fh);
    expect(() => parseResult("eth_feeHistory", { ...fh, gasUsedRatio: [1.5] })).toThrow();
    expect(() => parseResult("eth_feeHistory", patched(fh, ["oldestBlock"], undefined))).toThrow();
  });

  it("rustchain_*: a checkpoint with a short hash, a stake with a leading zero, a bad bridge sequence", () => {
    const cp = { slot: "0x8", number: "0x8", hash: `0x${"ab".repeat(32)}` };
    const status = {
      currentSlot: "0x9",
      headSlot: "0x9",
      headNumber: "0x9",
      headHash: `0x${"cd".repeat(32)}`,
      justified: cp,
      finalized: cp,
      finalityLagSlots: 1,
    };
    expect(parseResult("rustchain_finalityStatus", status)).toEqual(status);
    expect(() => parseResult("rustchain_finalityStatus", patched(status, ["finalized", "hash"], "0xab"))).toThrow();
    expect(() => parseResult("rustchain_finalityStatus", patched(status, ["finalityLagSlots"], "0x1"))).toThrow();
    expect(() => parseResult("rustchain_finalityStatus", patched(status, ["justified"], undefined))).toThrow();
    const v = {
      index: 0,
      publicKey: `0x${"aa".repeat(48)}`,
      feeRecipient: `0x${"bb".repeat(20)}`,
      stake: "0x1bc16d674ec800000",
      aiScoreBps: 0,
      slashed: false,
      weight: "0x1",
      proposerWeight: "0x1",
    };
    expect(parseResult("rustchain_validators", [v])).toEqual([v]);
    expect(() => parseResult("rustchain_validators", [{ ...v, stake: "0x01" }])).toThrow();
    expect(() => parseResult("rustchain_validators", [{ ...v, aiScoreBps: 10_001 }])).toThrow();
    const message = {
      digest: `0x${"11".repeat(32)}`,
      emitterChain: 2,
      emitterAddress: `0x${"22".repeat(32)}`,
      sequence: "0",
      body: "0x00",
      guardianSetIndex: 0,
      quorum: 1,
      signatures: [{ guardianIndex: 0, signature: `0x${"33".repeat(65)}` }],
      vaa: null,
    };
    expect(parseResult("rustchain_getBridgeMessage", message)).toEqual(message);
    expect(() => parseResult("rustchain_getBridgeMessage", { ...message, sequence: "01" })).toThrow();
    expect(() => parseResult("rustchain_getBridgeMessage", { ...message, emitterChain: 70_000 })).toThrow();
    expect(() => parseResult("rustchain_getBridgeMessage", patched(message, ["vaa"], undefined))).toThrow();
  });
});

describe("debug_trace* (geth's callTracer frame)", () => {
  const a = `0x${"aa".repeat(20)}`;
  const frame = {
    from: a,
    gas: "0x5208",
    gasUsed: "0x5208",
    to: a,
    input: "0x",
    calls: [
      { from: a, gas: "0x10", gasUsed: "0x1", to: a, input: "0x01", error: "out of gas", value: "0x0", type: "CALL" },
    ],
    logs: [{ address: a, topics: [`0x${"01".repeat(32)}`], data: "0x", position: "0x1" }],
    value: "0x0",
    type: "CALL",
  };

  it("accepts a nested frame with logs, and refuses what geth never sends", () => {
    expect(parseResult("debug_traceTransaction", frame)).toEqual(frame);
    // geth omits empty lists and empty strings (omitempty).
    expect(() => parseResult("debug_traceCall", { ...frame, calls: [] })).toThrow();
    expect(() => parseResult("debug_traceCall", { ...frame, error: "" })).toThrow();
    // Only the frame types RustChain has.
    expect(() => parseResult("debug_traceCall", { ...frame, type: "DELEGATECALL" })).toThrow();
    expect(() => parseResult("debug_traceCall", patched(frame, ["calls", 0, "gas"], "0x010"))).toThrow();
    expect(() => parseResult("debug_traceCall", patched(frame, ["logs", 0, "position"], undefined))).toThrow();
  });
});
