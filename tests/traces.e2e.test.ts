// debug_traceTransaction and debug_traceCall (callTracer) on a real devnet: two C contracts where the caller calls the
// callee, which emits a log and calls the caller back; one inner call reverts with a reason and the caller carries on,
// and in another transaction the caller itself reverts. Each trace must match geth's callTracer schema (written from
// geth's callFrame struct, eth/tracers/native/call.go) and the calls that actually ran: addresses, inputs, values,
// outputs, gas (the top frame's gasUsed is the receipt's), revert reasons and logs. Transactions traced are preceded
// by others in their block, so the replay applies them first.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  http,
  toEventSelector,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { BUILD_DIR, CONTRACTS_DIR, compileContract, toArtefact } from "../contracts/build.ts";
import { bytesToHex, hexToBytes, signTransaction } from "../shared/src/index.ts";
import { DEV_KEYS, type Devnet, devnetChain, startDevnet } from "./support/devnet.ts";

const CHAIN_ID = 21076n;
const deployer = privateKeyToAccount(DEV_KEYS[0]);
const SENDER_KEY = DEV_KEYS[3];
const sender = privateKeyToAccount(SENDER_KEY);
const RECIPIENT = "0x00000000000000000000000000000000000000b7";
const CALL_TRACER = { tracer: "callTracer" };
const WITH_LOG = { tracer: "callTracer", tracerConfig: { withLog: true } };

// ---- geth's callTracer output, from its struct (callFrame, callLog; JSON as gencodec marshals them) ----
const gethHex = z.string().regex(/^0x[0-9a-f]*$/);
const gethQuantity = z.string().regex(/^0x(0|[1-9a-f][0-9a-f]*)$/);
const gethAddress = z.string().regex(/^0x[0-9a-f]{40}$/);
const gethLog = z.strictObject({
  address: gethAddress,
  topics: z.array(z.string().regex(/^0x[0-9a-f]{64}$/)),
  data: gethHex,
  position: gethQuantity,
});
interface GethFrame {
  from: string;
  gas: string;
  gasUsed: string;
  to?: string;
  input: string;
  output?: string;
  error?: string;
  revertReason?: string;
  calls?: GethFrame[];
  logs?: z.infer<typeof gethLog>[];
  value?: string;
  type: string;
}
const gethFrame: z.ZodType<GethFrame> = z.lazy(() =>
  z.strictObject({
    from: gethAddress,
    gas: gethQuantity,
    gasUsed: gethQuantity,
    to: gethAddress.optional(), // omitempty (a failed CREATE)
    input: gethHex,
    output: gethHex.optional(), // omitempty
    error: z.string().min(1).optional(),
    revertReason: z.string().min(1).optional(),
    calls: z.array(gethFrame).min(1).optional(), // omitempty: never []
    logs: z.array(gethLog).min(1).optional(),
    value: gethQuantity.optional(),
    type: z.enum(["CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2", "SELFDESTRUCT"]),
  }),
);
/** geth marshals the fields in struct order with `type` last. */
const GETH_KEY_ORDER = [
  "from",
  "gas",
  "gasUsed",
  "to",
  "input",
  "output",
  "error",
  "revertReason",
  "calls",
  "logs",
  "value",
  "type",
];

function checkGethShape(frame: unknown): GethFrame {
  const parsed = gethFrame.parse(frame);
  const walk = (f: GethFrame) => {
    const keys = Object.keys(f);
    expect(keys).toEqual(GETH_KEY_ORDER.filter((k) => keys.includes(k)));
    for (const c of f.calls ?? []) walk(c);
  };
  walk(parsed);
  return parsed;
}

// ---- the world ----

interface Built {
  abi: Abi;
  bytecode: Hex;
}
let devnet: Devnet;
let caller: { abi: Abi; address: Hex };
let callee: { abi: Abi; address: Hex; deployHash: Hex };
/** Transactions in one block: a transfer, callBoth, callAndRevert. */
let block: { transfer: Hex; callBoth: Hex; callAndRevert: Hex };
const X = 41n;

async function build(name: string): Promise<Built> {
  const abi = JSON.parse(await readFile(join(CONTRACTS_DIR, "test", `${name}.abi.json`), "utf8")) as Abi;
  const module = await compileContract(join(CONTRACTS_DIR, "test", `${name}.c`), {
    abi,
    outDir: join(BUILD_DIR, "test"),
  });
  return { abi, bytecode: bytesToHex(toArtefact(module)) };
}

/** A JSON-RPC call's whole answer (result or error object). */
async function call(
  method: string,
  params: unknown[],
  url = devnet.url,
): Promise<{ result?: unknown; error?: { code: number; message: string; data?: { code?: string } } }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await res.json()) as never;
}

async function result<T>(method: string, params: unknown[]): Promise<T> {
  const answer = await call(method, params);
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
  return answer.result as T;
}

const trace = async (hash: Hex, config: object = WITH_LOG) =>
  checkGethShape(await result("debug_traceTransaction", [hash, config]));

interface Receipt {
  status: Hex;
  gasUsed: Hex;
  blockHash: Hex;
  transactionIndex: Hex;
  logs: { address: Hex; topics: Hex[]; data: Hex }[];
}
const receipt = (hash: Hex) => result<Receipt>("eth_getTransactionReceipt", [hash]);
const word = (n: bigint) => encodeAbiParameters([{ type: "uint256" }], [n]);
const errorString = (msg: string) =>
  encodeFunctionData({
    abi: [{ type: "function", name: "Error", inputs: [{ type: "string" }], outputs: [], stateMutability: "pure" }],
    args: [msg],
  });

beforeAll(async () => {
  const [calleeBuilt, callerBuilt] = await Promise.all([build("trace_callee"), build("trace_caller")]);
  devnet = await startDevnet({ slotMs: 1000, extraArgs: ["--rpc-debug"] });
  const transport = http(devnet.url);
  const client = createPublicClient({ chain: devnetChain, transport });
  const wallet = createWalletClient({ account: deployer, chain: devnetChain, transport });
  const deploy = async (b: Built) => {
    const hash = await wallet.deployContract({ abi: b.abi, bytecode: b.bytecode });
    const r = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
    expect(r.status).toBe("success");
    return { abi: b.abi, address: r.contractAddress!.toLowerCase() as Hex, deployHash: hash };
  };
  callee = await deploy(calleeBuilt);
  caller = await deploy(callerBuilt);

  // Three transactions sent as one batch, so they land in one block: the traces of the second and third need the
  // replay of those before them (the sender's nonce alone would refuse them otherwise). A slot boundary can fall
  // between two of them (rarely): then the batch is sent again.
  let found: typeof block | undefined;
  for (let attempt = 0; attempt < 3 && !found; attempt++) {
    const sent = await sendBatch(BigInt(await client.getTransactionCount({ address: sender.address })));
    const receipts = await Promise.all(
      sent.map((hash) => client.waitForTransactionReceipt({ hash, pollingInterval: 100 })),
    );
    if (new Set(receipts.map((r) => r.blockHash)).size === 1) {
      const [transfer, callBoth, callAndRevert] = sent as [Hex, Hex, Hex];
      found = { transfer, callBoth, callAndRevert };
    }
  }
  if (!found) throw new Error("three batches, none of them in a single block");
  block = found;
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

/** A transfer, callBoth and callAndRevert from `sender` (nonces from `nonce`), in one JSON-RPC batch. */
async function sendBatch(nonce: bigint): Promise<Hex[]> {
  const sign = (i: bigint, to: Hex, value: bigint, data: Hex, gasLimit: bigint) =>
    bytesToHex(
      signTransaction(
        {
          type: 2,
          chainId: CHAIN_ID,
          nonce: nonce + i,
          maxPriorityFeePerGas: 10n ** 9n,
          maxFeePerGas: 100n * 10n ** 9n,
          gasLimit,
          to: hexToBytes(to),
          value,
          data: hexToBytes(data),
          accessList: [],
        },
        hexToBytes(SENDER_KEY),
      ).raw,
    );
  const raws = [
    sign(0n, RECIPIENT, 12_345n, "0x", 21_000n),
    sign(1n, caller.address, 1000n, callData("callBoth"), 2_000_000n),
    sign(2n, caller.address, 1000n, callData("callAndRevert"), 2_000_000n),
  ];
  const res = await fetch(devnet.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(
      raws.map((raw, id) => ({ jsonrpc: "2.0", id, method: "eth_sendRawTransaction", params: [raw] })),
    ),
  });
  return ((await res.json()) as { result: Hex }[]).map((a) => a.result);
}

function callData(fn: "callBoth" | "callAndRevert"): Hex {
  return encodeFunctionData({ abi: caller.abi, functionName: fn, args: [callee.address, X] });
}

/** The logs of a trace in execution order (a frame's own logs interleaved with its calls by `position`). */
function traceLogs(f: GethFrame): { address: string; topics: string[]; data: string }[] {
  const out: { address: string; topics: string[]; data: string }[] = [];
  const calls = f.calls ?? [];
  const logs = f.logs ?? [];
  for (let i = 0; i <= calls.length; i++) {
    for (const l of logs)
      if (Number(l.position) === i) out.push({ address: l.address, topics: l.topics, data: l.data });
    if (i < calls.length) out.push(...traceLogs(calls[i]!));
  }
  return out;
}

describe("debug_traceTransaction (callTracer)", () => {
  it("the transactions share a block, so their traces replay the ones before them", async () => {
    const rs = await Promise.all(Object.values(block).map(receipt));
    expect(new Set(rs.map((r) => r.blockHash)).size).toBe(1);
    expect(rs.map((r) => r.transactionIndex)).toEqual(["0x0", "0x1", "0x2"]);
  });

  it("a plain value transfer is a single CALL", async () => {
    const t = await trace(block.transfer);
    expect(t).toEqual({
      from: sender.address.toLowerCase(),
      gas: "0x5208",
      gasUsed: "0x5208",
      to: RECIPIENT,
      input: "0x",
      value: "0x3039",
      type: "CALL",
    });
  });

  it("caller → callee → caller, an inner revert with its reason, and the logs where they were emitted", async () => {
    const r = await receipt(block.callBoth);
    expect(r.status).toBe("0x1");
    const t = await trace(block.callBoth);
    const me = sender.address.toLowerCase();
    const echo = encodeFunctionData({ abi: callee.abi, functionName: "echo", args: [X] });
    // The top call: what the transaction sent, and what callBoth returned.
    expect(t).toMatchObject({
      from: me,
      gas: "0x1e8480",
      gasUsed: r.gasUsed,
      to: caller.address,
      input: callData("callBoth"),
      output: word(X + 1n),
      value: "0x3e8",
      type: "CALL",
    });
    expect(t.error).toBeUndefined();
    expect(t.calls).toHaveLength(2);
    const [echoCall, failCall] = t.calls!;
    // 1. echo{value: 7}(41) → 42, which emitted Echoed(41) and then called pong() back.
    expect(echoCall).toMatchObject({
      from: caller.address,
      to: callee.address,
      input: echo,
      output: word(X + 1n),
      value: "0x7",
      type: "CALL",
    });
    expect(echoCall!.error).toBeUndefined();
    expect(echoCall!.logs).toEqual([
      {
        address: callee.address,
        topics: [toEventSelector("Echoed(uint256)")],
        data: word(X),
        position: "0x0",
      },
    ]);
    expect(echoCall!.calls).toEqual([
      {
        from: callee.address,
        gas: echoCall!.calls![0]!.gas,
        gasUsed: echoCall!.calls![0]!.gasUsed,
        to: caller.address,
        input: encodeFunctionData({ abi: caller.abi, functionName: "pong" }),
        logs: [{ address: caller.address, topics: [toEventSelector("Ponged()")], data: "0x", position: "0x0" }],
        value: "0x0",
        type: "CALL",
      },
    ]);
    // 2. fail() reverted with its reason; the caller carried on.
    expect(failCall).toEqual({
      from: caller.address,
      gas: failCall!.gas,
      gasUsed: failCall!.gasUsed,
      to: callee.address,
      input: encodeFunctionData({ abi: callee.abi, functionName: "fail" }),
      output: errorString("callee says no"),
      error: "execution reverted",
      revertReason: "callee says no",
      value: "0x0",
      type: "CALL",
    });
    // Done(42) came after both calls.
    expect(t.logs).toEqual([
      { address: caller.address, topics: [toEventSelector("Done(uint256)")], data: word(X + 1n), position: "0x2" },
    ]);
    // The logs in execution order are the receipt's.
    expect(traceLogs(t)).toEqual(r.logs.map((l) => ({ address: l.address, topics: l.topics, data: l.data })));
    // Gas: each frame gets what its caller gave and uses at most that; the nested frames fit inside their caller's.
    const n = (q: string) => BigInt(q);
    for (const f of [echoCall!, failCall!, echoCall!.calls![0]!]) expect(n(f.gasUsed)).toBeLessThanOrEqual(n(f.gas));
    expect(n(echoCall!.gas)).toBeLessThan(n(t.gas) - 21_000n);
    expect(n(echoCall!.gasUsed) + n(failCall!.gasUsed)).toBeLessThan(n(t.gasUsed) - 21_000n);
    expect(n(echoCall!.calls![0]!.gasUsed)).toBeLessThan(n(echoCall!.gasUsed));
  });

  it("an outer revert: the reason on the top frame, the successful inner calls without logs", async () => {
    const r = await receipt(block.callAndRevert);
    expect(r.status).toBe("0x0");
    expect(r.logs).toEqual([]);
    const t = await trace(block.callAndRevert);
    expect(t).toMatchObject({
      gasUsed: r.gasUsed,
      to: caller.address,
      input: callData("callAndRevert"),
      output: errorString("caller gives up"),
      error: "execution reverted",
      revertReason: "caller gives up",
      value: "0x3e8",
    });
    expect(t.calls).toHaveLength(1);
    expect(t.calls![0]).toMatchObject({ to: callee.address, output: word(X + 1n), value: "0x7" });
    expect(t.calls![0]!.error).toBeUndefined();
    // geth: logs under a failed frame are not reported (they were undone).
    expect(traceLogs(t)).toEqual([]);
    expect(t.calls![0]!.calls).toHaveLength(1);
  });

  it("without withLog no logs; onlyTopCall leaves the nested calls out", async () => {
    const plain = await trace(block.callBoth, CALL_TRACER);
    expect(traceLogs(plain)).toEqual([]);
    expect(plain.calls).toHaveLength(2);
    const top = await trace(block.callBoth, {
      tracer: "callTracer",
      tracerConfig: { onlyTopCall: true, withLog: true },
    });
    expect(top.calls).toBeUndefined();
    expect(top.logs?.map((l) => l.topics[0])).toEqual([toEventSelector("Done(uint256)")]);
    expect(top.gasUsed).toBe(plain.gasUsed);
  });

  it("a creation is a CREATE whose output is the installed module", async () => {
    const hash = callee.deployHash;
    const t = await trace(hash, CALL_TRACER);
    expect(t.type).toBe("CREATE");
    expect(t.from).toBe(deployer.address.toLowerCase());
    expect(t.to).toBe(callee.address);
    expect(t.output).toBe(await result("eth_getCode", [callee.address, "latest"]));
    expect(t.gasUsed).toBe((await receipt(hash)).gasUsed);
  });

  it("an unknown transaction and an unsupported tracer are clear errors", async () => {
    const missing = await call("debug_traceTransaction", [`0x${"ab".repeat(32)}`, CALL_TRACER]);
    expect(missing.error).toMatchObject({
      code: -32000,
      message: "transaction not found",
      data: { code: "TRANSACTION_NOT_FOUND" },
    });
    for (const config of [{ tracer: "prestateTracer" }, {}, undefined]) {
      const answer = await call("debug_traceTransaction", config ? [block.callBoth, config] : [block.callBoth]);
      expect(answer.error?.code).toBe(-32004);
      expect(answer.error?.data?.code).toBe("TRACER_NOT_SUPPORTED");
      expect(answer.error?.message).toMatch(/not supported: only "callTracer"/);
    }
    const bad = await call("debug_traceTransaction", [block.callBoth, { tracer: "callTracer", tracerConfig: 5 }]);
    expect(bad.error?.code).toBe(-32602);
    const timeout = await call("debug_traceTransaction", [block.callBoth, { ...CALL_TRACER, timeout: "1ns" }]);
    expect(timeout.error).toMatchObject({ code: -32000, message: "execution timeout" });
  });
});

describe("debug_traceCall (callTracer)", () => {
  it("traces a call on latest and pending like the transaction, with the call's gas", async () => {
    const mined = await trace(block.callBoth);
    for (const tag of ["latest", "pending"]) {
      const t = checkGethShape(
        await result("debug_traceCall", [
          { from: sender.address, to: caller.address, data: callData("callBoth"), value: "0x3e8", gas: "0x1e8480" },
          tag,
          WITH_LOG,
        ]),
      );
      expect(t.gas).toBe("0x1e8480");
      expect(t.output).toBe(mined.output);
      // The same calls, inputs, outputs, values and logs; gas may differ (the call's state is another block's).
      const shape = (f: GethFrame): unknown => ({
        to: f.to,
        input: f.input,
        output: f.output,
        value: f.value,
        error: f.error,
        logs: f.logs,
        calls: f.calls?.map(shape),
      });
      expect(shape(t)).toEqual(shape(mined));
      expect(decodeFunctionResult({ abi: caller.abi, functionName: "callBoth", data: t.output as Hex })).toBe(X + 1n);
    }
  });

  it("a reverting call is a trace, not an error; an unsupported tracer is refused", async () => {
    const t = checkGethShape(
      await result("debug_traceCall", [
        { from: sender.address, to: caller.address, data: callData("callAndRevert") },
        "latest",
        CALL_TRACER,
      ]),
    );
    expect(t.revertReason).toBe("caller gives up");
    const answer = await call("debug_traceCall", [{ to: caller.address }, "latest", { tracer: "4byteTracer" }]);
    expect(answer.error?.data?.code).toBe("TRACER_NOT_SUPPORTED");
  });
});

describe("the debug namespace is off by default", () => {
  it("without --rpc-debug the namespace is not there (geth's answer for a namespace not enabled)", async () => {
    const plain = await startDevnet({ slotMs: 1000 });
    try {
      for (const method of ["debug_traceTransaction", "debug_traceCall"]) {
        const answer = await call(method, [block.callBoth, CALL_TRACER], plain.url);
        expect(answer.error).toEqual({
          code: -32601,
          message: `the method ${method} does not exist/is not available`,
          data: { code: "METHOD_NOT_FOUND" },
        });
      }
    } finally {
      await plain.stop();
      await plain.cleanup();
    }
  }, 60_000);
});
