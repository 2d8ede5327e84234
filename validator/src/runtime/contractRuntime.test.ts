// Cross-contract calls through the real runtime on RocksDB-backed state: callee reverts roll back its storage and
// logs, value moves with the call, and the call depth is bounded. The tracing hooks (executionTracer.ts) see every
// frame and log, and a tracer that throws stops the execution without breaking the runtime.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  bigintToBytes32,
  bytesToHex,
  concatBytes,
  hexToBytes,
  keccak256,
  privateKeyToAddress,
  SECP256K1_N,
  signHash,
} from "@rustchain/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLANG_FLAGS, SDK_HEADER } from "../../../contracts/build.ts";
import { Database } from "../db/database.ts";
import { EMPTY_TRIE_ROOT } from "../state/account.ts";
import { defaultStateDbOptions, StateDb, type WorldState } from "../state/stateDb.ts";
import { ContractRuntime, type FrameResult, type TxContext } from "./contractRuntime.ts";
import type { ExecutionTracer, TracedFrame } from "./executionTracer.ts";
import { Gas, MAX_CALL_DEPTH } from "./gasSchedule.ts";

let work: string;
let db: Database;
const runtime = new ContractRuntime();
const env = { chainId: 21076n, baseFeePerGas: 1n, coinbase: new Uint8Array(20), number: 7n, timestamp: 1_700_000_000n };
const user = hexToBytes("0x00000000000000000000000000000000000000aa");
const A = hexToBytes("0x000000000000000000000000000000000000000a");
const B = hexToBytes("0x000000000000000000000000000000000000000b");

async function compileC(name: string, source: string): Promise<Uint8Array> {
  const src = join(work, `${name}.c`);
  const out = join(work, `${name}.wasm`);
  await writeFile(src, `#include "${SDK_HEADER}"\n${source}`);
  await promisify(execFile)("clang", [...CLANG_FLAGS, "-o", out, src]);
  return new Uint8Array(await readFile(out));
}

const word = (n: bigint) => bigintToBytes32(n);

// Calls the address in calldata[12..32] with calldata[32..] and value calldata-word 2; stores the status in slot 0 and
// the return data length in slot 1, then finishes with the return data.
const CALLER = `
RC_EXPORT("call") void call(void) {
  uint32_t n = (uint32_t)rc_host_calldata_size();
  uint8_t *in = (uint8_t *)rc_alloc(n);
  rc_host_calldata_copy(in, 0, n);
  int32_t status = rc_host_call(in + 12, in + 32, 0, in + 64, n - 64);
  uint8_t slot[32] = {0}, v[32] = {0};
  v[31] = (uint8_t)status;
  rc_host_storage_write(slot, v);
  uint32_t rn = (uint32_t)rc_host_returndata_size();
  uint8_t *r = (uint8_t *)rc_alloc(rn + 1);
  rc_host_returndata_copy(r, 0, rn);
  slot[31] = 1; v[31] = (uint8_t)rn;
  rc_host_storage_write(slot, v);
  rc_host_finish(r, rn);
}`;

// Writes slot 0 = 1 and emits a log, then reverts with "no" when calldata is non-empty.
const REVERTER = `
RC_EXPORT("call") void call(void) {
  uint8_t slot[32] = {0}, one[32] = {0}; one[31] = 1;
  rc_host_storage_write(slot, one);
  rc_host_emit_log(one, 1, one, 32);
  if (rc_host_calldata_size() > 0) rc_host_revert("no", 2);
  rc_host_finish("ok", 2);
}`;

// Calls itself with depth+1 until a call fails; finishes with the deepest depth reached (4 bytes LE).
const SELF_CALLER = `
RC_EXPORT("call") void call(void) {
  uint32_t depth = 0;
  if (rc_host_calldata_size() >= 4) rc_host_calldata_copy(&depth, 0, 4);
  uint8_t self[20], zero[32] = {0};
  rc_host_self_address(self);
  uint32_t next = depth + 1;
  int32_t status = rc_host_call(self, zero, 0, &next, 4);
  if (status != 0) rc_host_finish(&depth, 4);
  uint32_t deepest;
  rc_host_returndata_copy(&deepest, 0, 4);
  rc_host_finish(&deepest, 4);
}`;

function context(ws: WorldState, tracer?: ExecutionTracer): TxContext {
  return { ws, env, origin: user, logs: [], warmAddresses: new Set(), warmSlots: new Set(), tracer };
}

async function install(ws: WorldState, address: Uint8Array, code: Uint8Array) {
  const acc = await ws.getAccount(address);
  acc.nonce = 1n;
  ws.setAccount(address, acc);
  await ws.setCode(address, code);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "rustchain-runtime-"));
  db = await Database.open(join(work, "db"));
});

afterAll(async () => {
  await db.close();
  await rm(work, { recursive: true, force: true });
});

describe("ContractRuntime cross-contract calls", () => {
  it("a reverting callee's storage and logs are rolled back; the caller sees status 1 and the revert data", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, A, await compileC("caller", CALLER));
    await install(ws, B, await compileC("reverter", REVERTER));
    const ctx = context(ws);
    const calldata = concatBytes(new Uint8Array(12), B, word(0n), Uint8Array.of(1));
    const result = await runtime.call(ctx, {
      caller: user,
      address: A,
      value: 0n,
      calldata,
      gas: 5_000_000n,
      depth: 0,
    });
    expect(result.status).toBe("success");
    expect(Buffer.from(result.returnData).toString()).toBe("no");
    expect(bytesToHex(await ws.getStorage(A, word(0n)))).toBe(bytesToHex(word(1n)));
    expect(bytesToHex(await ws.getStorage(A, word(1n)))).toBe(bytesToHex(word(2n)));
    expect(bytesToHex(await ws.getStorage(B, word(0n)))).toBe(bytesToHex(word(0n)));
    expect(ctx.logs).toHaveLength(0);

    // Without the revert flag the callee's writes and log stand, and value moves with the call.
    const funded = await ws.getAccount(A);
    funded.balance = 1000n;
    ws.setAccount(A, funded);
    const ok = await runtime.call(ctx, {
      caller: user,
      address: A,
      value: 0n,
      calldata: concatBytes(new Uint8Array(12), B, word(250n)),
      gas: 5_000_000n,
      depth: 0,
    });
    expect(ok.status).toBe("success");
    expect(Buffer.from(ok.returnData).toString()).toBe("ok");
    expect(bytesToHex(await ws.getStorage(B, word(0n)))).toBe(bytesToHex(word(1n)));
    expect(ctx.logs).toHaveLength(1);
    expect((await ws.getAccount(B)).balance).toBe(250n);
    expect((await ws.getAccount(A)).balance).toBe(750n);
  });

  it("the call depth is bounded at 64 frames below the transaction", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, A, await compileC("selfcaller", SELF_CALLER));
    const result = await runtime.call(context(ws), {
      caller: user,
      address: A,
      value: 0n,
      calldata: new Uint8Array(0),
      gas: 50_000_000n,
      depth: 0,
    });
    expect(result.status).toBe("success");
    expect(new DataView(result.returnData.buffer, result.returnData.byteOffset).getUint32(0, true)).toBe(64);
  });

  it("a frame that runs out of gas consumes all of it and changes nothing", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, B, await compileC("reverter", REVERTER));
    const result = await runtime.call(context(ws), {
      caller: user,
      address: B,
      value: 0n,
      calldata: new Uint8Array(0),
      gas: 3_000n,
      depth: 0,
    });
    expect(result.status).toBe("outOfGas");
    expect(result.gasLeft).toBe(0n);
    expect(bytesToHex(await ws.getStorage(B, word(0n)))).toBe(bytesToHex(word(0n)));
  });

  it("AI primitives are charged exactly their documented compute units", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    // Runs matmul (m,k,n from calldata bytes 0..2) then relu and requantize over m*n elements, on zeroed buffers.
    await install(
      ws,
      A,
      await compileC(
        "aigas",
        `static int8_t a[4096], b[4096], q[4096];
         static int32_t c[4096];
         RC_EXPORT("call") void call(void) {
           uint8_t d[3];
           rc_host_calldata_copy(d, 0, 3);
           rc_host_ai_matmul_i8(a, b, c, d[0], d[1], d[2]);
           rc_host_ai_requantize(c, q, (uint32_t)d[0] * d[2], 3, 1);
           rc_host_ai_relu_i8(q, (uint32_t)d[0] * d[2]);
         }`,
      ),
    );
    const gasUsed = async (m: number, k: number, n: number) => {
      const r = await runtime.call(context(ws), {
        caller: user,
        address: A,
        value: 0n,
        calldata: Uint8Array.of(m, k, n),
        gas: 10_000_000n,
        depth: 0,
      });
      expect(r.status).toBe("success");
      return 10_000_000n - r.gasLeft;
    };
    const base = await gasUsed(1, 1, 1);
    // matmul m*k*n + requantize m*n + relu m*n, all else identical.
    for (const [m, k, n] of [
      [2, 3, 4],
      [8, 16, 8],
      [16, 64, 4],
    ] as const) {
      const expected = BigInt(m * k * n + 2 * m * n) - 3n;
      expect((await gasUsed(m, k, n)) - base).toBe(expected);
    }
  });
});

// Every frame must start from the module's initial state, whatever the previous frame on the same (pooled) instance
// did. Finishes with [counter, scratch[0], scratch[255]] (u32 LE each), which are always 1 in a fresh instance.
// calldata[0]: 0 finish, 1 revert, 2 trap, 3 loop until out of gas, 4 call itself (mode 0) and append its answer.
const STATEFUL = `
static uint32_t counter;
static uint8_t scratch[256];
RC_EXPORT("call") void call(void) {
  uint8_t in[1] = {0};
  if (rc_host_calldata_size() > 0) rc_host_calldata_copy(in, 0, 1);
  counter++;
  for (int i = 0; i < 256; i++) scratch[i] += 1;
  uint32_t out[6] = {counter, scratch[0], scratch[255], 0, 0, 0};
  if (in[0] == 1) rc_host_revert(out, 12);
  if (in[0] == 2) __builtin_trap();
  if (in[0] == 3) for (volatile int spin = 0;; spin++) {}
  if (in[0] == 4) {
    uint8_t self[20], zero[32] = {0};
    rc_host_self_address(self);
    rc_host_call(self, zero, 0, zero, 0);
    rc_host_returndata_copy(out + 3, 0, 12);
    rc_host_finish(out, 24);
  }
  rc_host_finish(out, 12);
}`;

// Writes slot calldata[0] := calldata[1], then := calldata[2]: the same instructions whatever the values, so gas
// differences between calls are exactly the storage prices.
const WRITER = `
RC_EXPORT("call") void call(void) {
  uint8_t in[3];
  rc_host_calldata_copy(in, 0, 3);
  uint8_t key[32] = {0}, v[32] = {0};
  key[31] = in[0];
  v[31] = in[1];
  rc_host_storage_write(key, v);
  v[31] = in[2];
  rc_host_storage_write(key, v);
}`;

describe("ContractRuntime instance reuse", () => {
  const S = hexToBytes("0x00000000000000000000000000000000000000d1");
  const u32s = (b: Uint8Array) =>
    Array.from({ length: b.length / 4 }, (_, i) => new DataView(b.buffer, b.byteOffset).getUint32(4 * i, true));
  const callWith = (rt: ContractRuntime, ws: WorldState, mode: number, gas = 1_000_000n) =>
    rt.call(context(ws), { caller: user, address: S, value: 0n, calldata: Uint8Array.of(mode), gas, depth: 0 });

  it("no state leaks between frames: memory, globals and the stack pointer start fresh after any ending", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, S, await compileC("stateful", STATEFUL));
    const rt = new ContractRuntime();
    const first = await callWith(rt, ws, 0);
    expect(first.status).toBe("success");
    expect(u32s(first.returnData)).toEqual([1, 1, 1]);
    // Far more traps than the 16 KiB C stack could absorb if each left the stack pointer lowered.
    for (let i = 0; i < 1000; i++) expect((await callWith(rt, ws, 2)).status).toBe("trap");
    const reverted = await callWith(rt, ws, 1);
    expect({ status: reverted.status, data: u32s(reverted.returnData) }).toEqual({ status: "revert", data: [1, 1, 1] });
    expect((await callWith(rt, ws, 3, 200_000n)).status).toBe("outOfGas");
    const after = await callWith(rt, ws, 0);
    expect({ status: after.status, data: u32s(after.returnData), gasLeft: after.gasLeft }).toEqual({
      status: "success",
      data: [1, 1, 1],
      gasLeft: first.gasLeft,
    });
    // A contract calling itself gets a second instance: both frames see a fresh one.
    const nested = await callWith(rt, ws, 4);
    expect(u32s(nested.returnData)).toEqual([1, 1, 1, 1, 1, 1]);
    const stats = rt.instanceStats();
    expect(stats.created).toBe(2);
    expect(stats.reused).toBeGreaterThan(1000);
    // The same call on a runtime that never ran anything costs exactly the same.
    const fresh = await callWith(new ContractRuntime(), ws, 0);
    expect({ data: u32s(fresh.returnData), gasLeft: fresh.gasLeft }).toEqual({
      data: [1, 1, 1],
      gasLeft: first.gasLeft,
    });
  });

  it("storage_write charges new, changed and unchanged slots their prices, cold or warm", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    const W = hexToBytes("0x00000000000000000000000000000000000000d2");
    await install(ws, W, await compileC("writer", WRITER));
    const used = async (slot: number, a: number, b: number) => {
      const r = await runtime.call(context(ws), {
        caller: user,
        address: W,
        value: 0n,
        calldata: Uint8Array.of(slot, a, b),
        gas: 1_000_000n,
        depth: 0,
      });
      expect(r.status).toBe("success");
      return 1_000_000n - r.gasLeft;
    };
    const newThenSame = await used(1, 1, 1); // cold new slot, then the same value (warm)
    const newThenChanged = await used(2, 1, 2); // cold new slot, then another value (warm)
    const sameTwice = await used(1, 1, 1); // slot 1 holds 1 now: cold unchanged, warm unchanged
    expect(newThenChanged - newThenSame).toBe(Gas.storageWriteChange - Gas.storageWriteNoop);
    expect(newThenSame - sameTwice).toBe(Gas.storageWriteNew - Gas.storageWriteNoop);
    expect(bytesToHex(await ws.getStorage(W, word(2n)))).toBe(bytesToHex(word(2n)));
  });
});

// Runs one host function on calldata and finishes with [i32 result LE][its 32-byte output]. calldata[0] picks it:
// 1 secp256k1_recover(hash = cd[1..33], sig = cd[33..98]); 2 sha256(cd[1..]); 3 code_hash(address cd[1..21]),
// twice when cd[21] is 2.
const CRYPTO = `
RC_EXPORT("call") void call(void) {
  uint32_t n = (uint32_t)rc_host_calldata_size();
  uint8_t *in = (uint8_t *)rc_alloc(n);
  rc_host_calldata_copy(in, 0, n);
  uint8_t out[36] = {0};
  int32_t r = 0;
  if (in[0] == 1) r = rc_host_secp256k1_recover(in + 1, in + 33, out + 4);
  if (in[0] == 2) rc_host_sha256(in + 1, n - 1, out + 4);
  if (in[0] == 3) { rc_host_code_hash(in + 1, out + 4); if (in[21] == 2) rc_host_code_hash(in + 1, out + 4); }
  out[0] = (uint8_t)r;
  rc_host_finish(out, 36);
}`;

describe("host functions secp256k1_recover, sha256, code_hash", () => {
  const C = hexToBytes("0x00000000000000000000000000000000000000c5");
  const key = new Uint8Array(32).fill(9);
  let ws: WorldState;
  let code: Uint8Array;
  const run = async (calldata: Uint8Array) => {
    const r = await runtime.call(context(ws), {
      caller: user,
      address: C,
      value: 0n,
      calldata,
      gas: 1_000_000n,
      depth: 0,
    });
    expect(r.status).toBe("success");
    return { ok: r.returnData[0]!, out: r.returnData.slice(4, 36), gas: 1_000_000n - r.gasLeft };
  };
  const sigBytes = (r: bigint, s: bigint, v: number) => concatBytes(word(r), word(s), Uint8Array.of(v));

  beforeAll(async () => {
    ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    code = await compileC("crypto", CRYPTO);
    await install(ws, C, code);
  });

  it("secp256k1_recover returns the signer's address for a valid signature (v = recovery id)", async () => {
    const hash = keccak256(Buffer.from("bridge"));
    const sig = signHash(hash, key);
    const r = await run(concatBytes(Uint8Array.of(1), hash, sigBytes(sig.r, sig.s, sig.yParity)));
    expect(r.ok).toBe(1);
    expect(bytesToHex(r.out.slice(0, 20))).toBe(bytesToHex(privateKeyToAddress(key)));
  });

  it("secp256k1_recover answers 0 without trapping: high s, v = 27, r = 0, s ≥ n, another hash", async () => {
    const hash = keccak256(Buffer.from("bridge"));
    const sig = signHash(hash, key);
    const bad = [
      sigBytes(sig.r, SECP256K1_N - sig.s, 1 - sig.yParity), // the malleable twin: valid point, s > n/2
      sigBytes(sig.r, sig.s, 27), // Ethereum's v, not a recovery id
      sigBytes(0n, sig.s, sig.yParity),
      sigBytes(sig.r, SECP256K1_N, sig.yParity),
      sigBytes(2n ** 256n - 1n, sig.s, sig.yParity),
    ];
    for (const b of bad) {
      const r = await run(concatBytes(Uint8Array.of(1), hash, b));
      expect(r.ok).toBe(0);
      expect(r.out).toEqual(new Uint8Array(32));
    }
    // Another hash recovers another (wrong) address: the contract compares it with the key it expects.
    const other = await run(
      concatBytes(Uint8Array.of(1), keccak256(Buffer.from("other")), sigBytes(sig.r, sig.s, sig.yParity)),
    );
    expect(bytesToHex(other.out.slice(0, 20))).not.toBe(bytesToHex(privateKeyToAddress(key)));
  });

  it("secp256k1_recover costs its documented price", async () => {
    const hash = keccak256(Buffer.from("gas"));
    const sig = signHash(hash, key);
    const ok = await run(concatBytes(Uint8Array.of(1), hash, sigBytes(sig.r, sig.s, sig.yParity)));
    const sha = await run(concatBytes(Uint8Array.of(2), new Uint8Array(97)));
    // Nearly the same code path but for the host call (a few branch instructions apart): the difference is recover's
    // price minus sha256's over 97 bytes.
    const diff = ok.gas - sha.gas - (Gas.secp256k1Recover - (Gas.sha256Base + 4n * Gas.sha256Word));
    expect(diff >= -10n && diff <= 10n).toBe(true);
  });

  it("sha256 matches @noble/hashes and costs Gas.sha256Word per further word", async () => {
    for (const len of [0, 1, 32, 33, 200]) {
      const data = Uint8Array.from({ length: len }, (_, i) => i * 7);
      const r = await run(concatBytes(Uint8Array.of(2), data));
      expect(bytesToHex(r.out)).toBe(bytesToHex(sha256(data)));
    }
    const a = await run(concatBytes(Uint8Array.of(2), new Uint8Array(32)));
    const b = await run(concatBytes(Uint8Array.of(2), new Uint8Array(32 * 11)));
    expect(b.gas - a.gas).toBe(10n * Gas.sha256Word + (32n * 10n * 3n) / 32n /* calldata copy words */);
  });

  it("code_hash is keccak256 of the code eth_getCode returns, zero for an account without code, cold then warm", async () => {
    const withCode = await run(concatBytes(Uint8Array.of(3), C, Uint8Array.of(0)));
    expect(bytesToHex(withCode.out)).toBe(bytesToHex(keccak256(code)));
    expect(bytesToHex(withCode.out)).toBe(bytesToHex(keccak256(await ws.getCode(C))));
    const empty = await run(concatBytes(Uint8Array.of(3), user, Uint8Array.of(0)));
    expect(empty.out).toEqual(new Uint8Array(32));
    const nobody = await run(
      concatBytes(Uint8Array.of(3), hexToBytes("0x00000000000000000000000000000000deadbeef"), Uint8Array.of(0)),
    );
    expect(nobody.out).toEqual(new Uint8Array(32));
    // A second code_hash of the same code in the transaction costs only the warm access; the first one (cold, like
    // every address in these bare contexts) also keccak256's per-word price.
    const twice = await run(concatBytes(Uint8Array.of(3), C, Uint8Array.of(2)));
    const words = BigInt(Math.ceil(code.length / 32));
    const second = twice.gas - withCode.gas - Gas.balanceWarm; // + the branch and a few instructions
    expect(second >= 0n && second <= 10n).toBe(true);
    // Accounts without code cost the cold access alone; with code, the first hash adds keccak256's price per word of it.
    expect(nobody.gas - empty.gas).toBe(0n);
    expect(withCode.gas - empty.gas).toBe(Gas.hashWord * words);
  });
});

// Logs, then calls the address in calldata[12..32] with value calldata-word 2 and input calldata[64..]; finishes with
// the callee's return data.
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

type TraceEvent = { enter: TracedFrame } | { exit: FrameResult; output: string } | { log: string };

/** A tracer recording every event; `onEnter` runs first (and may throw, as a trace's deadline does). */
function recorder(onEnter: (f: TracedFrame) => void = () => {}): ExecutionTracer & { events: TraceEvent[] } {
  const events: TraceEvent[] = [];
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

describe("ContractRuntime tracing hooks", () => {
  const forward = (to: Uint8Array, value: bigint, input: Uint8Array) =>
    concatBytes(new Uint8Array(12), to, word(value), input);

  it("pair entries and exits in execution order, with the frames' data and their logs in between", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, A, await compileC("forwarder", FORWARDER));
    await install(ws, B, await compileC("reverter", REVERTER));
    const funded = await ws.getAccount(A);
    funded.balance = 100n;
    ws.setAccount(A, funded);
    const tracer = recorder();
    const calldata = forward(B, 9n, Uint8Array.of(1, 2));
    const frame = { caller: user, address: A, value: 0n, calldata, gas: 5_000_000n, depth: 0 };
    const result = await runtime.call(context(ws, tracer), frame);
    expect(result.status).toBe("success");
    expect(tracer.events.map((e) => Object.keys(e)[0])).toEqual(["enter", "log", "enter", "log", "exit", "exit"]);
    const [top, , inner, innerLog, innerExit, topExit] = tracer.events as [
      { enter: TracedFrame },
      TraceEvent,
      { enter: TracedFrame },
      { log: string },
      { exit: FrameResult; output: string },
      { exit: FrameResult },
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
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, A, await compileC("selfcaller", SELF_CALLER));
    const tracer = recorder();
    const frame = { caller: user, address: A, value: 0n, calldata: new Uint8Array(0), gas: 50_000_000n, depth: 0 };
    expect((await runtime.call(context(ws, tracer), frame)).status).toBe("success");
    const depths = tracer.events.flatMap((e) => ("enter" in e ? [e.enter.depth] : []));
    const exits = tracer.events.flatMap((e) => ("exit" in e ? [e.exit] : []));
    expect(depths).toHaveLength(exits.length);
    expect(Math.max(...depths)).toBe(MAX_CALL_DEPTH + 1);
    expect(exits[0]).toMatchObject({ status: "trap", reason: "call depth exceeded" });
  });

  it("a throwing tracer stops the execution with its error, and the runtime serves the next call", async () => {
    const ws = new StateDb(defaultStateDbOptions, { db }).overlay(EMPTY_TRIE_ROOT, false);
    await install(ws, A, await compileC("forwarder", FORWARDER));
    await install(ws, B, await compileC("reverter", REVERTER));
    const deadline = new TypeError("deadline passed");
    const tracer = recorder((f) => {
      if (f.depth === 1) throw deadline;
    });
    const calldata = forward(B, 0n, Uint8Array.of(1));
    const frame = { caller: user, address: A, value: 0n, calldata, gas: 5_000_000n, depth: 0 };
    await expect(runtime.call(context(ws, tracer), frame)).rejects.toBe(deadline);
    const again = await runtime.call(context(ws), frame);
    expect(again.status).toBe("success");
    expect(Buffer.from(again.returnData).toString()).toBe("no");
  });
});
