// debug_trace*'s TraceConfig parser: geth's fields, Go durations, the options it ignores and those it refuses, and
// any JSON either parses or is refused with -32602 naming the argument (never another error).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RpcError } from "../rpcErrors.ts";
import { traceConfig } from "./params.ts";

describe("traceConfig", () => {
  it("reads geth's TraceConfig", () => {
    expect(traceConfig({ tracer: "callTracer", tracerConfig: { onlyTopCall: true, withLog: true } }, 1)).toEqual({
      tracer: "callTracer",
      onlyTopCall: true,
      withLog: true,
      timeoutMs: undefined,
    });
    expect(traceConfig({}, 1)).toEqual({ tracer: undefined, onlyTopCall: false, withLog: false, timeoutMs: undefined });
    expect(traceConfig({ tracer: "callTracer", timeout: "1m30s" }, 1).timeoutMs).toBe(90_000);
    expect(traceConfig({ tracer: "callTracer", timeout: "250ms" }, 1).timeoutMs).toBe(250);
    // The struct logger's options are accepted and ignored, as geth ignores what its tracer does not use.
    expect(traceConfig({ disableStorage: true, enableMemory: false, reexec: 128 }, 1).tracer).toBeUndefined();
  });

  it("refuses what it cannot honour, naming the argument", () => {
    for (const bad of [
      null,
      [],
      "callTracer",
      { tracer: 5 },
      { tracer: "callTracer", tracerConfig: 5 },
      { tracer: "callTracer", tracerConfig: { withLog: "yes" } },
      { tracer: "callTracer", timeout: "5" },
      { tracer: "callTracer", timeout: "5 seconds" },
      { tracer: "callTracer", stateOverrides: {} },
      { tracer: "callTracer", blockOverrides: {} },
      { tracer: "callTracer", somethingElse: 1 },
    ]) {
      expect(() => traceConfig(bad, 2), JSON.stringify(bad)).toThrow(/invalid argument 2/);
    }
  });

  it("any JSON value parses or is refused with -32602", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ tracer: fc.string(), tracerConfig: fc.jsonValue(), timeout: fc.string() }, { requiredKeys: [] }),
        ),
        (v) => {
          try {
            traceConfig(v, 0);
          } catch (e) {
            expect(e).toBeInstanceOf(RpcError);
            expect((e as RpcError).rpcCode).toBe(-32602);
          }
        },
      ),
      { numRuns: 500, seed: 17 },
    );
  });
});
