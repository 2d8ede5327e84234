// The runtime's tracing hooks on real frames (RocksDB-backed state, C contracts): entries and exits pair up in
// execution order with each frame's caller, callee, input, gas and value, logs arrive between them, a call refused for
// depth is traced too, and a tracer that throws (a trace's deadline) stops the execution as a node fault without
// breaking the runtime for the next call.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bigintToBytes32, bytesToHex, concatBytes, hexToBytes } from "@rustchain/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileC } from "../../../tests/support/compileContract.ts";
import { Database } from "../db/database.ts";
import { EMPTY_TRIE_ROOT } from "../state/account.ts";
import { defaultStateDbOptions, StateDb, type WorldState } from "../state/stateDb.ts";
import { ContractRuntime, type FrameResult, type TxContext } from "./contractRuntime.ts";
import type { ExecutionTracer, TracedFrame } from "./executionTracer.ts";
import { MAX_CALL_DEPTH } from "./gasSchedule.ts";

let work: string;
let db: Database;
const runtime = new ContractRuntime();
const env = { chainId: 21076n, baseFeePerGas: 1n, coinbase: new Uint8Array(20), number: 7n, timestamp: 1_700_000_000n };
const user = hexToBytes("0x00000000000000000000000000000000000000aa");
const A = hexToBytes("0x000000000000000000000000000000000000000a");
const B = hexToBytes("0x000000000000000000000000000000000000000b");

// Logs, then calls the address in calldata[12..32] with value calldata-word 2 and input calldata[64..]; finishes
// with the callee's return data.
const FORWARDER = `
RC_EXPORT("call") void call(void) {
  uint32_t n = (uint32_t)rc_host_calldata_size();
  uint8_t *in = (uint8_t *)rc_alloc(n);
  rc_host_calldata_copy(in, 0, n);
  uint8_t topic[32] = {0};
  rc_host_emit_log(topic, 1, in, 0);
  rc_host_call(in + 12, in + 32, 0, in + 64, n - 64);
  uint32_t rn = (uint32_t)rc_host_returndata_size();
  uint8_t *r = (uint8_t *)rc_alloc(rn + 1);
  rc_host_returndata_copy(r, 0, rn);
  rc_host_finish(r, rn);
}`;

// Emits a log and reverts with "no".
const REVERTER = `
RC_EXPORT("call") void call(void) {
  uint8_t one[32] = {0}; one[31] = 1;
  rc_host_emit_log(one, 1, one, 32);
  rc_host_revert("no", 2);
}`;

// Calls itself until a call fails.
const SELF_CALLER = `
RC_EXPORT("call") void call(void) {
  uint8_t self[20], zero[32] = {0};
  rc_host_self_address(self);
  rc_host_call(self, zero, 0, zero, 0);
  rc_host_finish(zero, 0);
}`;

type Event = { enter: TracedFrame } | { exit: FrameResult; output: string } | { log: string };

function recorder(onEnter: (f: TracedFrame) => void = () => {}): ExecutionTracer & { events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    enter: (frame) => {
      onEnter(frame);
      events.push({ enter: frame });
    },
    exit: (result, output) => events.push({ exit: result, output: bytesToHex(output) }),
    log: (log) => events.push({ log: bytesToHex(log.address) }),
  };
}

function context(ws: WorldState, tracer?: ExecutionTracer): TxContext {
  return { ws, env, origin: user, logs: [], warmAddresses: new Set(), warmSlots: new Set(), tracer };
}

async function install(ws: WorldState, address: Uint8Array, code: Uint8Array) {
  const acc = await ws.getAccount(address);
  acc.nonce = 1n;
  acc.balance = 1000n;
  ws.setAccount(address, acc);
  await ws.setCode(address, code);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "rustchain-tracer-"));
  db = await Database.open(join(work, "db"));
});

afterAll(async () => {
  await db.close();
  await rm(work, { recursive: true, force: true });
});

const overlay = () => new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
const forward = (to: Uint8Array, value: bigint, input: Uint8Array) =>
  concatBytes(new Uint8Array(12), to, bigintToBytes32(value), input);

describe("runtime tracing hooks", () => {
  it("pair entries and exits in execution order, with the frames' data and their logs in between", async () => {
    const ws = overlay();
    await install(ws, A, await compileC(work, "forwarder", FORWARDER));
    await install(ws, B, await compileC(work, "reverter", REVERTER));
    const tracer = recorder();
    const calldata = forward(B, 9n, Uint8Array.of(1, 2));
    const result = await runtime.call(context(ws, tracer), {
      caller: user,
      address: A,
      value: 0n,
      calldata,
      gas: 5_000_000n,
      depth: 0,
    });
    expect(result.status).toBe("success");
    const kinds = tracer.events.map((e) => Object.keys(e)[0]);
    expect(kinds).toEqual(["enter", "log", "enter", "log", "exit", "exit"]);
    const [top, , inner, innerLog, innerExit, topExit] = tracer.events as [
      { enter: TracedFrame },
      Event,
      { enter: TracedFrame },
      { log: string },
      { exit: FrameResult; output: string },
      { exit: FrameResult; output: string },
    ];
    expect(top.enter).toMatchObject({ kind: "CALL", from: user, to: A, input: calldata, gas: 5_000_000n, depth: 0 });
    expect(inner.enter).toMatchObject({
      kind: "CALL",
      from: A,
      to: B,
      input: Uint8Array.of(1, 2),
      value: 9n,
      depth: 1,
    });
    expect(inner.enter.gas).toBeLessThan(5_000_000n);
    expect(innerLog.log).toBe(bytesToHex(B));
    expect(innerExit.exit.status).toBe("revert");
    expect(innerExit.output).toBe(bytesToHex(new TextEncoder().encode("no")));
    expect(topExit.exit).toBe(result);
  });

  it("trace a call refused for depth", async () => {
    const ws = overlay();
    await install(ws, A, await compileC(work, "self", SELF_CALLER));
    const tracer = recorder();
    const result = await runtime.call(context(ws, tracer), {
      caller: user,
      address: A,
      value: 0n,
      calldata: new Uint8Array(0),
      gas: 50_000_000n,
      depth: 0,
    });
    expect(result.status).toBe("success");
    const enters = tracer.events.flatMap((e) => ("enter" in e ? [e.enter.depth] : []));
    const exits = tracer.events.flatMap((e) => ("exit" in e ? [e.exit] : []));
    expect(enters).toHaveLength(exits.length);
    expect(Math.max(...enters)).toBe(MAX_CALL_DEPTH + 1);
    expect(exits[0]).toMatchObject({ status: "trap", reason: "call depth exceeded" });
  });

  it("a throwing tracer stops the execution with its error, and the runtime serves the next call", async () => {
    const ws = overlay();
    await install(ws, A, await compileC(work, "forwarder2", FORWARDER));
    await install(ws, B, await compileC(work, "reverter2", REVERTER));
    const deadline = new TypeError("deadline passed");
    const tracer = recorder((f) => {
      if (f.depth === 1) throw deadline;
    });
    const frame = {
      caller: user,
      address: A,
      value: 0n,
      calldata: forward(B, 0n, new Uint8Array(0)),
      gas: 5_000_000n,
      depth: 0,
    };
    await expect(runtime.call(context(ws, tracer), frame)).rejects.toBe(deadline);
    const again = await runtime.call(context(ws), frame);
    expect(again.status).toBe("success");
    expect(Buffer.from(again.returnData).toString()).toBe("no");
  });
});
