// geth's callTracer rules over a hand-driven sequence of runtime events: nesting, gas, output and error texts,
// revert reasons, log positions, logs dropped under a failed frame, onlyTopCall, and the interrupt.

import { encodeAbiParameters, encodeFunctionData, parseAbi } from "viem";
import { describe, expect, it } from "vitest";
import type { FrameResult } from "../runtime/contractRuntime.ts";
import type { TracedFrame } from "../runtime/executionTracer.ts";
import { CallTracer, revertReason } from "./callTracer.ts";

const addr = (n: number) => new Uint8Array(20).fill(n);
const hexAddr = (n: number) => `0x${n.toString(16).padStart(2, "0").repeat(20)}`;
const frame = (
  from: number,
  to: number,
  gas: bigint,
  depth: number,
  kind: "CALL" | "CREATE" = "CALL",
): TracedFrame => ({
  kind,
  from: addr(from),
  to: addr(to),
  input: Uint8Array.of(1, 2),
  gas,
  value: 5n,
  depth,
});
const ok = (gasLeft: bigint, data = new Uint8Array(0)): FrameResult => ({
  status: "success",
  returnData: data,
  gasLeft,
});
const errorData = (msg: string) =>
  Buffer.from(encodeFunctionData({ abi: parseAbi(["function Error(string)"]), args: [msg] }).slice(2), "hex");
const log = (n: number) => ({ address: addr(n), topics: [new Uint8Array(32).fill(n)], data: Uint8Array.of(n) });

describe("callTracer", () => {
  it("nests frames with geth's gas, output, error and revertReason, logs with positions", () => {
    const t = new CallTracer({ onlyTopCall: false, withLog: true });
    t.enter(frame(1, 2, 100_000n, 0));
    t.log(log(2));
    t.enter(frame(2, 3, 50_000n, 1));
    t.exit(ok(45_000n, Uint8Array.of(9)), Uint8Array.of(9));
    const revertData = errorData("nope");
    t.enter(frame(2, 3, 40_000n, 1));
    t.log(log(3)); // undone with its frame
    t.exit({ status: "revert", returnData: revertData, gasLeft: 39_000n }, revertData);
    t.log(log(2));
    t.exit(ok(80_000n), new Uint8Array(0));
    const trace = t.finish(121_000n, 41_000n);
    expect(trace).toEqual({
      from: hexAddr(1),
      gas: "0x1d8a8",
      gasUsed: "0xa028",
      to: hexAddr(2),
      input: "0x0102",
      calls: [
        {
          from: hexAddr(2),
          gas: "0xc350",
          gasUsed: "0x1388",
          to: hexAddr(3),
          input: "0x0102",
          output: "0x09",
          value: "0x5",
          type: "CALL",
        },
        {
          from: hexAddr(2),
          gas: "0x9c40",
          gasUsed: "0x3e8",
          to: hexAddr(3),
          input: "0x0102",
          output: `0x${revertData.toString("hex")}`,
          error: "execution reverted",
          revertReason: "nope",
          value: "0x5",
          type: "CALL",
        },
      ],
      logs: [
        { address: hexAddr(2), topics: [`0x${"02".repeat(32)}`], data: "0x02", position: "0x0" },
        { address: hexAddr(2), topics: [`0x${"02".repeat(32)}`], data: "0x02", position: "0x2" },
      ],
      value: "0x5",
      type: "CALL",
    });
    // geth's key order.
    expect(Object.keys(trace!)).toEqual(["from", "gas", "gasUsed", "to", "input", "calls", "logs", "value", "type"]);
  });

  it("a failed frame reports no logs, nor does any frame under it", () => {
    const t = new CallTracer({ onlyTopCall: false, withLog: true });
    t.enter(frame(1, 2, 100_000n, 0));
    t.enter(frame(2, 3, 50_000n, 1));
    t.log(log(3));
    t.exit(ok(45_000n), new Uint8Array(0));
    t.exit({ status: "revert", returnData: new Uint8Array(0), gasLeft: 1n }, new Uint8Array(0));
    const trace = t.finish(100_000n, 99_999n)!;
    expect(trace.error).toBe("execution reverted");
    expect(trace.output).toBeUndefined();
    expect(trace.calls?.[0]?.logs).toBeUndefined();
  });

  it("words failures as geth does, and a failed creation has no `to`", () => {
    const cases: [FrameResult, string][] = [
      [{ status: "outOfGas", returnData: new Uint8Array(0), gasLeft: 0n }, "out of gas"],
      [
        { status: "trap", returnData: new Uint8Array(0), gasLeft: 10n, reason: "call depth exceeded" },
        "max call depth exceeded",
      ],
      [
        { status: "revert", returnData: new Uint8Array(0), gasLeft: 10n, reason: "insufficient balance for value" },
        "insufficient balance for transfer",
      ],
      [{ status: "trap", returnData: new Uint8Array(0), gasLeft: 0n, reason: "unreachable" }, "unreachable"],
    ];
    for (const [result, error] of cases) {
      const t = new CallTracer({ onlyTopCall: false, withLog: false });
      t.enter(frame(1, 2, 1000n, 0, "CREATE"));
      t.exit(result, Uint8Array.of(7));
      const trace = t.finish(2000n, 2000n)!;
      expect(trace.error).toBe(error);
      expect(trace.to).toBeUndefined();
      expect(trace.output).toBeUndefined();
      expect(trace.type).toBe("CREATE");
    }
  });

  it("onlyTopCall leaves nested frames and their logs out", () => {
    const t = new CallTracer({ onlyTopCall: true, withLog: true });
    t.enter(frame(1, 2, 100_000n, 0));
    t.enter(frame(2, 3, 50_000n, 1));
    t.log(log(3));
    t.exit(ok(45_000n), new Uint8Array(0));
    t.log(log(2));
    t.exit(ok(90_000n), new Uint8Array(0));
    const trace = t.finish(100_000n, 31_000n)!;
    expect(trace.calls).toBeUndefined();
    expect(trace.logs?.map((l) => l.address)).toEqual([hexAddr(2)]);
    expect(trace.logs?.[0]?.position).toBe("0x0");
  });

  it("stops the execution when interrupted", () => {
    const t = new CallTracer({ onlyTopCall: false, withLog: false }, () => {
      throw new RangeError("deadline");
    });
    expect(() => t.enter(frame(1, 2, 1n, 0))).toThrow("deadline");
  });

  it("decodes Error(string) and Panic(uint256) as geth's abi.UnpackRevert", () => {
    expect(revertReason(errorData("callee says no"))).toBe("callee says no");
    const panic = (code: bigint) =>
      Buffer.from(`4e487b71${encodeAbiParameters([{ type: "uint256" }], [code]).slice(2)}`, "hex");
    expect(revertReason(panic(0x11n))).toBe("arithmetic underflow or overflow");
    expect(revertReason(panic(0x99n))).toBe("unknown panic code: 0x99");
    expect(revertReason(Uint8Array.of(1, 2, 3, 4))).toBeUndefined();
  });
});
