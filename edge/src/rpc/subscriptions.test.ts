import { equalBytes, type FilterRequest, hexToBytes, parseParams, RpcError, toRpcError } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { defaultEthApiOptions, EthApi, type EthApiModules } from "../../../validator/src/rpc/ethApi.ts";
import type { SubscriptionEvent } from "../app/contract.ts";
import {
  newSubscriptionId,
  notificationsFor,
  parseSubscribeParams,
  type SubscriptionSpec,
  subscriptionNotification,
} from "./subscriptions.ts";

const word = (s: string) => `0x${s.padStart(64, "0")}`;
const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;

/** The core's own eth_subscribe handler: what it subscribes, or the error object it answers. */
function coreSubscribe(params: unknown): { kind: string; filter: FilterRequest | undefined } | { error: unknown } {
  const api = new EthApi(defaultEthApiOptions, {} as EthApiModules);
  let got: { kind: string; filter: FilterRequest | undefined } | undefined;
  try {
    api.handlers.eth_subscribe(parseParams("eth_subscribe", params), {
      subscribe: (kind, filter) => {
        got = { kind, filter };
        return "0x1";
      },
    });
  } catch (e) {
    return { error: toRpcError(e).toJSON() };
  }
  return got as { kind: string; filter: FilterRequest | undefined };
}

function edgeSubscribe(params: unknown): SubscriptionSpec | { error: unknown } {
  try {
    return parseSubscribeParams(params);
  } catch (e) {
    expect(e).toBeInstanceOf(RpcError);
    return { error: (e as RpcError).toJSON() };
  }
}

const badParams: unknown[] = [
  [],
  ["newBlocks"],
  [42],
  ["syncing"],
  "logs",
  { kind: "logs" },
  ["logs", { address: "0x12" }],
  ["logs", { address: [addr(1), "nope"] }],
  ["logs", { topics: "0x01" }],
  ["logs", { topics: [null, null, null, null, null] }],
  ["logs", { topics: [["0x01"]] }],
  ["logs", "all"],
  ["logs", { blockHash: word("1"), fromBlock: "0x1" }],
  ["newHeads", {}, 3],
];

describe("parseSubscribeParams", () => {
  it("refuses exactly what the core refuses, with the core's -32602 error", () => {
    for (const p of badParams) {
      const core = coreSubscribe(p);
      expect(core, JSON.stringify(p)).toHaveProperty("error");
      expect(edgeSubscribe(p), JSON.stringify(p)).toEqual(core);
      expect((core as { error: { code: number } }).error.code).toBe(-32602);
    }
    expect(edgeSubscribe(["newBlocks"])).toEqual({
      error: {
        code: -32602,
        message: "invalid argument 0: unsupported subscription type",
        data: { code: "INVALID_PARAMS" },
      },
    });
  });

  it("accepts the kinds and filters the core accepts (lowercased, empty OR lists as wildcards)", () => {
    expect(parseSubscribeParams(["newHeads"])).toEqual({ kind: "newHeads" });
    expect(parseSubscribeParams(["newPendingTransactions"])).toEqual({ kind: "newPendingTransactions" });
    expect(parseSubscribeParams(["logs"])).toEqual({ kind: "logs", filter: {} });
    expect(parseSubscribeParams(["logs", null])).toEqual({ kind: "logs", filter: {} });
    const upper = `0x${"AB".repeat(20)}`;
    expect(
      parseSubscribeParams(["logs", { address: upper, topics: [null, [word("1"), word("2")], [], word("3")] }]),
    ).toEqual({
      kind: "logs",
      filter: { address: [upper.toLowerCase()], topics: [null, [word("1"), word("2")], null, [word("3")]] },
    });
    for (const p of [["newHeads"], ["logs"], ["logs", { address: [addr(1), addr(2)] }]]) {
      expect(coreSubscribe(p)).not.toHaveProperty("error");
    }
  });
});

describe("notificationsFor", () => {
  const logs = [
    { address: addr(1), topics: [word("a"), word("b")] },
    { address: addr(2), topics: [word("a")] },
    { address: addr(1), topics: [] },
    { address: addr(3), topics: [word("c"), word("b"), word("d")] },
  ].map((l, i) => ({
    removed: false,
    logIndex: `0x${i.toString(16)}`,
    transactionIndex: "0x0",
    transactionHash: word("77"),
    blockHash: word("88"),
    blockNumber: "0x5",
    address: l.address,
    data: "0x",
    topics: l.topics,
  }));
  const filters: unknown[] = [
    undefined,
    { address: addr(1) },
    { address: [addr(2), addr(3)] },
    { address: [] },
    { topics: [word("a")] },
    { topics: [null, word("b")] },
    { topics: [[word("a"), word("c")], word("b")] },
    { topics: [null, null, word("d")] },
    { topics: [[], word("b")] },
    { address: addr(1), topics: [word("a"), [word("b"), word("c")]] },
    { topics: [null] },
    { address: addr(9) },
  ];

  /** geth's filter rule, written out plainly over the core's parsed filter (bytes): the reference. */
  const reference = (log: { address: Uint8Array; topics: Uint8Array[] }, f: FilterRequest): boolean =>
    (f.addresses.length === 0 || f.addresses.some((a) => equalBytes(a, log.address))) &&
    f.topics.every((alts, i) => {
      const got = log.topics[i];
      return !alts || alts.length === 0 || (got !== undefined && alts.some((t) => equalBytes(t, got)));
    });

  it("logs subscriptions match exactly the logs geth's rule matches over the core's parsed filter", () => {
    const block: SubscriptionEvent = { kind: "block", header: { number: "0x5" }, logs };
    for (const f of filters) {
      const spec = parseSubscribeParams(f === undefined ? ["logs"] : ["logs", f]);
      const core = coreSubscribe(f === undefined ? ["logs"] : ["logs", f]) as { filter: FilterRequest };
      const want = logs.filter((l) =>
        reference({ address: hexToBytes(l.address), topics: l.topics.map(hexToBytes) }, core.filter),
      );
      expect(notificationsFor(spec, block), JSON.stringify(f)).toEqual(want);
    }
    // Sanity: the filters do discriminate.
    expect(notificationsFor(parseSubscribeParams(["logs", { topics: [null, word("b")] }]), block)).toHaveLength(2);
  });

  it("each kind hears only its events; removed logs go to matching logs subscriptions", () => {
    const header = { number: "0x5", hash: word("88") };
    const block: SubscriptionEvent = { kind: "block", header, logs };
    const removed: SubscriptionEvent = { kind: "removedLogs", logs: logs.map((l) => ({ ...l, removed: true })) };
    const pending: SubscriptionEvent = { kind: "pendingTransaction", hash: word("99") as `0x${string}` };
    const heads: SubscriptionSpec = { kind: "newHeads" };
    const txs: SubscriptionSpec = { kind: "newPendingTransactions" };
    const fromOne = parseSubscribeParams(["logs", { address: addr(1) }]);
    expect(notificationsFor(heads, block)).toEqual([header]);
    expect(notificationsFor(heads, removed)).toEqual([]);
    expect(notificationsFor(heads, pending)).toEqual([]);
    expect(notificationsFor(txs, pending)).toEqual([word("99")]);
    expect(notificationsFor(txs, block)).toEqual([]);
    expect(notificationsFor(fromOne, pending)).toEqual([]);
    expect(notificationsFor(fromOne, removed)).toEqual([
      { ...logs[0], removed: true },
      { ...logs[2], removed: true },
    ]);
  });

  it("notifications are the core's eth_subscription envelope; ids are 16 random bytes of hex", () => {
    expect(subscriptionNotification("0xab", { number: "0x1" })).toBe(
      '{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xab","result":{"number":"0x1"}}}',
    );
    const ids = new Set(Array.from({ length: 50 }, () => newSubscriptionId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^0x[0-9a-f]{32}$/);
  });
});
