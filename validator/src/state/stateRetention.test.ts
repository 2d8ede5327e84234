// The kept window: a full node keeps `history` finalized blocks below the finalized one, never below its floor (what
// earlier runs or a warp sync left); an archive node keeps everything from its floor.
import { StateError, toRpcError } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { firstAvailableBlock, statePruned } from "./stateRetention.ts";

describe("firstAvailableBlock", () => {
  it("is finalized - history for a full node, at least its floor", () => {
    expect(firstAvailableBlock({ archive: false, history: 128, finalized: 1000n, floor: 0n })).toBe(872n);
    expect(firstAvailableBlock({ archive: false, history: 128, finalized: 1000n, floor: 900n })).toBe(900n);
    expect(firstAvailableBlock({ archive: false, history: 128, finalized: 100n, floor: 0n })).toBe(0n);
    expect(firstAvailableBlock({ archive: false, history: 0, finalized: 100n, floor: 0n })).toBe(100n);
    expect(firstAvailableBlock({ archive: false, history: 128, finalized: undefined, floor: 7n })).toBe(7n);
  });

  it("is the floor for an archive node", () => {
    expect(firstAvailableBlock({ archive: true, history: 128, finalized: 1000n, floor: 0n })).toBe(0n);
    expect(firstAvailableBlock({ archive: true, history: 128, finalized: 1000n, floor: 50n })).toBe(50n);
  });
});

describe("STATE_PRUNED over JSON-RPC", () => {
  it("answers -32000 with the window, the block and where to go, and the first available block as data", () => {
    const e = statePruned(5n, 872n, false, 128);
    expect(e).toBeInstanceOf(StateError);
    expect(toRpcError(e).toJSON()).toEqual({
      code: -32000,
      message:
        "historical state unavailable: this node keeps state for the last 128 finalized blocks (block 5 is pruned, " +
        "the oldest kept is 872); query an archive node (--archive)",
      data: { code: "STATE_PRUNED", firstAvailableBlock: "0x368" },
    });
    expect(toRpcError(statePruned(5n, 50n, true, 128)).toJSON()).toEqual({
      code: -32000,
      message:
        "historical state unavailable: block 5 is before the first state this node holds (block 50); query an " +
        "archive node (--archive)",
      data: { code: "STATE_PRUNED", firstAvailableBlock: "0x32" },
    });
    expect(toRpcError(new StateError({ code: "STATE_NODE_MISSING", hash: "0xab" })).toJSON()).toEqual({
      code: -32000,
      message: "missing trie node 0xab",
      data: { code: "STATE_NODE_MISSING" },
    });
  });
});
