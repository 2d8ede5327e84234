// Smoke tests of the C SDK and the example contracts: each module runs in plain Node WebAssembly against a small
// in-test stub of the "rustchain" host module (storage map, calldata buffer, logs, finish/revert as thrown
// sentinels), with calldata encoded and results decoded by viem from the contracts' JSON ABIs.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import {
  type Abi,
  bytesToHex,
  concat,
  decodeErrorResult,
  decodeEventLog,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeDeployData,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  type Hex,
  hexToBytes,
  keccak256,
  maxUint256,
  pad,
  parseAbi,
  sha256,
  toEventSelector,
  toFunctionSelector,
  toHex,
} from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ARTEFACT_MAGIC,
  BUILD_DIR,
  type BuiltContract,
  buildContracts,
  CONTRACTS_DIR,
  checkModule,
  compileContract,
  HOST_FUNCTIONS,
  splitDeployData,
} from "./build.ts";

// ---------------------------------------------------------------------------------------------------------------
// Host stub
// ---------------------------------------------------------------------------------------------------------------

class Finish {
  constructor(readonly data: Uint8Array) {}
}
class Revert {
  constructor(readonly data: Uint8Array) {}
}

interface Log {
  topics: Hex[];
  data: Hex;
}

interface Result {
  status: "success" | "revert" | "trap";
  data: Hex;
  logs: Log[];
  error?: string;
}

interface Env {
  caller: Hex;
  value?: bigint;
}

const DEPLOYER: Hex = "0x1111111111111111111111111111111111111111";
const ALICE: Hex = "0xa11ce00000000000000000000000000000000a11";
const BOB: Hex = "0xb0b0000000000000000000000000000000000b0b";
const ZERO: Hex = "0x0000000000000000000000000000000000000000";

/** One deployed contract: a module, its storage, and a runner for deploy() / call(). */
class StubContract {
  readonly storage = new Map<string, Uint8Array>();
  /** Calls to groth16_verify, and what it answers. */
  readonly groth16Calls: { vk: Hex; proof: Hex; inputs: Hex[] }[] = [];
  groth16Answer = 1;

  constructor(
    readonly module: WebAssembly.Module,
    readonly address: Hex = "0xc0de00000000000000000000000000000000c0de",
  ) {}

  run(entry: "deploy" | "call", calldata: Uint8Array, env: Env): Result {
    const snapshot = new Map(this.storage);
    const logs: Log[] = [];
    let memory: WebAssembly.Memory | undefined;
    const mem = () => new Uint8Array(memory!.buffer);
    const read = (ptr: number, len: number) => {
      if (ptr < 0 || len < 0 || ptr + len > mem().length) throw new Error(`host read out of bounds ${ptr}+${len}`);
      return mem().slice(ptr, ptr + len);
    };
    const write = (ptr: number, bytes: Uint8Array) => {
      if (ptr < 0 || ptr + bytes.length > mem().length) throw new Error(`host write out of bounds ${ptr}`);
      mem().set(bytes, ptr);
    };
    const word = (v: bigint) => hexToBytes(pad(`0x${v.toString(16)}`, { size: 32 }));
    const host: Record<string, (...args: never[]) => unknown> = {
      calldata_size: () => calldata.length,
      calldata_copy: (dest: number, offset: number, len: number) => {
        if (offset + len > calldata.length) throw new Error("calldata_copy out of bounds");
        write(dest, calldata.subarray(offset, offset + len));
      },
      finish: (ptr: number, len: number) => {
        throw new Finish(read(ptr, len));
      },
      revert: (ptr: number, len: number) => {
        throw new Revert(read(ptr, len));
      },
      storage_read: (key: number, out: number) => {
        write(out, this.storage.get(bytesToHex(read(key, 32))) ?? new Uint8Array(32));
      },
      storage_write: (key: number, value: number) => {
        this.storage.set(bytesToHex(read(key, 32)), read(value, 32));
      },
      caller: (out: number) => write(out, hexToBytes(env.caller)),
      origin: (out: number) => write(out, hexToBytes(env.caller)),
      self_address: (out: number) => write(out, hexToBytes(this.address)),
      call_value: (out: number) => write(out, word(env.value ?? 0n)),
      block_number: () => 7n,
      block_timestamp: () => 1_700_000_000n,
      chain_id: () => 21076n,
      gas_left: () => 1_000_000n,
      emit_log: (topics: number, count: number, data: number, len: number) => {
        if (count > 4) throw new Error("too many topics");
        const t = read(topics, 32 * count);
        logs.push({
          topics: Array.from({ length: count }, (_, i) => bytesToHex(t.subarray(32 * i, 32 * i + 32))),
          data: bytesToHex(read(data, len)),
        });
      },
      keccak256: (ptr: number, len: number, out: number) => write(out, hexToBytes(keccak256(read(ptr, len)))),
      sha256: (ptr: number, len: number, out: number) => write(out, hexToBytes(sha256(read(ptr, len)))),
      ai_argmax_i8: (ptr: number, len: number) => argmax(new Int8Array(read(ptr, len).buffer)),
      ai_mlp_forward: (modelPtr: number, modelLen: number, inputPtr: number, outPtr: number) => {
        const model = read(modelPtr, modelLen);
        const inDim = model[1]! | (model[2]! << 8);
        const out = mlpForward(model, new Int8Array(read(inputPtr, inDim).buffer));
        write(outPtr, new Uint8Array(out.buffer));
        return out.length;
      },
      groth16_verify: (vk: number, vkLen: number, proof: number, inputs: number, count: number) => {
        const raw = read(inputs, 32 * count);
        this.groth16Calls.push({
          vk: bytesToHex(read(vk, vkLen)),
          proof: bytesToHex(read(proof, 256)),
          inputs: Array.from({ length: count }, (_, i) => bytesToHex(raw.subarray(32 * i, 32 * i + 32))),
        });
        return this.groth16Answer;
      },
    };
    for (const name of HOST_FUNCTIONS) {
      host[name] ??= () => {
        throw new Error(`host function ${name} is not in the stub`);
      };
    }
    const instance = new WebAssembly.Instance(this.module, { rustchain: host });
    memory = instance.exports.memory as WebAssembly.Memory;
    try {
      (instance.exports[entry] as () => void)();
      return { status: "success", data: "0x", logs };
    } catch (e) {
      if (e instanceof Finish) return { status: "success", data: bytesToHex(e.data), logs };
      this.storage.clear();
      for (const [k, v] of snapshot) this.storage.set(k, v);
      if (e instanceof Revert) return { status: "revert", data: bytesToHex(e.data), logs: [] };
      return { status: "trap", data: "0x", logs: [], error: (e as Error).message };
    }
  }
}

/** Deploys like a contract-creation transaction: artefact ‖ constructor args, split by the envelope. */
function deploy(built: BuiltContract, args: readonly unknown[] | undefined, env: Env = { caller: DEPLOYER }) {
  const data = hexToBytes(encodeDeployData({ abi: built.abi, bytecode: built.bytecode, args } as never));
  const split = splitDeployData(data);
  expect(split.module).toEqual(built.module);
  const contract = new StubContract(new WebAssembly.Module(split.module));
  const hasDeploy = WebAssembly.Module.exports(contract.module).some((e) => e.name === "deploy");
  const result = hasDeploy
    ? contract.run("deploy", split.args, env)
    : { status: "success" as const, data: "0x" as Hex, logs: [] };
  return { contract, result };
}

/** Calls a function by name with viem's encoding; decodes the result on success. */
function call(
  c: StubContract,
  abi: Abi,
  functionName: string,
  args: readonly unknown[] = [],
  env: Env = { caller: DEPLOYER },
) {
  const data = encodeFunctionData({ abi, functionName, args } as never);
  const result = c.run("call", hexToBytes(data), env);
  const value =
    result.status === "success" ? decodeFunctionResult({ abi, functionName, data: result.data } as never) : undefined;
  return { ...result, value: value as unknown };
}

function revertReason(data: Hex): { errorName: string; args: readonly unknown[] | undefined } {
  const decoded = decodeErrorResult({ abi: [], data });
  return { errorName: decoded.errorName, args: decoded.args };
}

// ---------------------------------------------------------------------------------------------------------------
// MLP reference (docs/ai.md), used by the stub's ai_mlp_forward
// ---------------------------------------------------------------------------------------------------------------

interface Layer {
  inDim: number;
  outDim: number;
  multiplier: number;
  shift: number;
  relu: boolean;
  weights: number[]; // W[t][j], row-major, t < inDim, j < outDim
  bias: number[];
}

function encodeModel(layers: Layer[]): Uint8Array {
  const size = 1 + layers.reduce((n, l) => n + 8 + l.inDim * l.outDim + 4 * l.outDim, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = layers.length;
  let off = 1;
  for (const l of layers) {
    dv.setUint16(off, l.inDim, true);
    dv.setUint16(off + 2, l.outDim, true);
    dv.setUint16(off + 4, l.multiplier, true);
    out[off + 6] = l.shift;
    out[off + 7] = l.relu ? 1 : 0;
    off += 8;
    for (const w of l.weights) dv.setInt8(off++, w);
    for (const b of l.bias) {
      dv.setInt32(off, b, true);
      off += 4;
    }
  }
  return out;
}

function mlpForward(model: Uint8Array, input: Int8Array): Int8Array {
  const dv = new DataView(model.buffer, model.byteOffset, model.byteLength);
  let x = input;
  let off = 1;
  for (let l = 0; l < model[0]!; l++) {
    const inDim = dv.getUint16(off, true);
    const outDim = dv.getUint16(off + 2, true);
    const multiplier = BigInt(dv.getUint16(off + 4, true));
    const shift = BigInt(model[off + 6]!);
    const relu = model[off + 7] === 1;
    if (x.length !== inDim) throw new Error("dimension mismatch");
    const w = off + 8;
    const b = w + inDim * outDim;
    const y = new Int8Array(outDim);
    for (let j = 0; j < outDim; j++) {
      let acc = dv.getInt32(b + 4 * j, true);
      for (let t = 0; t < inDim; t++) acc = (acc + x[t]! * dv.getInt8(w + t * outDim + j)) | 0;
      const round = shift > 0n ? 1n << (shift - 1n) : 0n;
      let v = Number((BigInt(acc) * multiplier + round) >> shift);
      v = Math.max(-128, Math.min(127, v));
      y[j] = relu ? Math.max(0, v) : v;
    }
    x = y;
    off = b + 4 * outDim;
  }
  if (off !== model.length) throw new Error("trailing bytes in the model");
  return x;
}

function argmax(x: Int8Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

let built: Record<string, BuiltContract>;

/** A one-block model's CIDv1 (raw, sha2-256): 0x01 0x55 0x12 0x20 ‖ sha256(bytes). */
function rawCid(bytes: Uint8Array): Hex {
  return concat(["0x01551220", sha256(bytes)]);
}

beforeAll(async () => {
  built = await buildContracts();
});

describe("contracts:build", () => {
  it("builds every example and bridge contract into an artefact, a module, an ABI and a {abi, bytecode} JSON", async () => {
    expect(Object.keys(built).sort()).toEqual([
      "classifier",
      "counter",
      "erc20",
      "erc20_rs",
      "erc721_rs",
      "gateway",
      "groth16_verifier",
      "model_registry",
      "wrapped_token",
    ]);
    for (const [name, c] of Object.entries(built)) {
      const artefact = hexToBytes(c.bytecode);
      expect(artefact.subarray(0, 4)).toEqual(ARTEFACT_MAGIC);
      expect(new DataView(artefact.buffer).getUint32(4, false)).toBe(c.module.length);
      expect(artefact.subarray(8)).toEqual(c.module);
      expect(c.module.subarray(0, 4)).toEqual(Uint8Array.of(0x00, 0x61, 0x73, 0x6d));
      expect(new Uint8Array(await readFile(join(BUILD_DIR, `${name}.wasm`)))).toEqual(artefact);
      expect(new Uint8Array(await readFile(join(BUILD_DIR, `${name}.module.wasm`)))).toEqual(c.module);
      const json = JSON.parse(await readFile(join(BUILD_DIR, `${name}.json`), "utf8"));
      expect(json).toEqual({ abi: c.abi, bytecode: c.bytecode });
      expect(JSON.parse(await readFile(join(BUILD_DIR, `${name}.abi.json`), "utf8"))).toEqual(c.abi);
    }
  });

  it("modules import only rustchain host functions and export memory, call and deploy", () => {
    // The contracts without a constructor.
    const noDeploy = new Set(["counter", "model_registry"]);
    for (const [name, c] of Object.entries(built)) {
      const m = new WebAssembly.Module(c.module);
      for (const i of WebAssembly.Module.imports(m)) {
        expect(i.module).toBe("rustchain");
        expect(HOST_FUNCTIONS.has(i.name)).toBe(true);
      }
      const exports = WebAssembly.Module.exports(m).map((e) => `${e.name}:${e.kind}`);
      const expected = ["call:function", "memory:memory"];
      if (!noDeploy.has(name)) expected.push("deploy:function");
      expect(exports.sort()).toEqual(expected.sort());
      const info = checkModule(name, c.module, !noDeploy.has(name));
      expect(info.memoryPages.initial).toBeLessThanOrEqual(64);
      expect(info.memoryPages.maximum).toBe(64);
    }
  });

  it("is idempotent: a second build reuses the modules", async () => {
    const start = performance.now();
    const again = await buildContracts();
    for (const name of Object.keys(built)) expect(again[name]!.bytecode).toBe(built[name]!.bytecode);
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

// The C ERC-20 and its Rust twin (contracts/rust/examples/erc20_rs.rs) pass the same tests, storage layout included.
describe.each(["erc20", "erc20_rs"])("ERC-20 (%s)", (name) => {
  const SUPPLY = 10n ** 24n;
  let token: StubContract;
  let abi: Abi;

  beforeAll(() => {
    abi = built[name]!.abi;
    const d = deploy(built[name]!, ["Rust Token", "RTK", 18, SUPPLY]);
    expect(d.result.status).toBe("success");
    token = d.contract;
    // The mint is a Transfer from the zero address, decoded with viem's standard erc20Abi.
    expect(d.result.logs).toHaveLength(1);
    const log = decodeEventLog({ abi: erc20Abi, ...d.result.logs[0]! } as never) as {
      eventName: string;
      args: unknown;
    };
    expect(log.eventName).toBe("Transfer");
    expect(log.args).toEqual({ from: ZERO, to: expect.stringMatching(/^0x1111/i), value: SUPPLY });
  });

  it("the constructor mints the initial supply to the deployer and stores name, symbol and decimals", () => {
    expect(call(token, erc20Abi, "name").value).toBe("Rust Token");
    expect(call(token, erc20Abi, "symbol").value).toBe("RTK");
    expect(call(token, erc20Abi, "decimals").value).toBe(18);
    expect(call(token, erc20Abi, "totalSupply").value).toBe(SUPPLY);
    expect(call(token, erc20Abi, "balanceOf", [DEPLOYER]).value).toBe(SUPPLY);
    expect(call(token, abi, "balanceOf", [ALICE]).value).toBe(0n);
    // OpenZeppelin's storage layout: balances at slot 0, keyed by keccak256(pad(address) ‖ pad(0)).
    const slot = keccak256(concat([pad(DEPLOYER), pad("0x00")]));
    expect(bytesToHex(token.storage.get(slot)!)).toBe(pad(`0x${SUPPLY.toString(16)}`, { size: 32 }));
    expect(bytesToHex(token.storage.get(pad("0x02"))!)).toBe(pad(`0x${SUPPLY.toString(16)}`, { size: 32 }));
  });

  it("transfer moves the balance and emits Transfer with indexed from and to", () => {
    const r = call(token, erc20Abi, "transfer", [ALICE, 1234n]);
    expect(r.status).toBe("success");
    expect(r.value).toBe(true);
    expect(r.logs).toHaveLength(1);
    const log = r.logs[0]!;
    expect(log.topics).toEqual([
      "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
      pad(DEPLOYER),
      pad(ALICE),
    ]);
    expect(log.data).toBe(pad("0x04d2"));
    const decoded = decodeEventLog({ abi: erc20Abi, ...log } as never) as { eventName: string; args: unknown };
    expect(decoded).toEqual({
      eventName: "Transfer",
      args: { from: expect.stringMatching(/^0x1111/), to: expect.stringMatching(/^0xa11ce/i), value: 1234n },
    });
    expect(call(token, erc20Abi, "balanceOf", [ALICE]).value).toBe(1234n);
    expect(call(token, erc20Abi, "balanceOf", [DEPLOYER]).value).toBe(SUPPLY - 1234n);
    // A self-transfer changes nothing.
    expect(call(token, erc20Abi, "transfer", [ALICE, 1000n], { caller: ALICE }).status).toBe("success");
    expect(call(token, erc20Abi, "transfer", [ALICE, 1000n], { caller: ALICE }).status).toBe("success");
    expect(call(token, erc20Abi, "balanceOf", [ALICE]).value).toBe(1234n);
  });

  it("a transfer over the balance reverts with Error(string) and changes nothing", () => {
    const before = new Map(token.storage);
    const r = call(token, erc20Abi, "transfer", [BOB, 1235n], { caller: ALICE });
    expect(r.status).toBe("revert");
    expect(r.data.slice(0, 10)).toBe("0x08c379a0");
    expect(revertReason(r.data)).toEqual({ errorName: "Error", args: ["ERC20: transfer amount exceeds balance"] });
    expect(token.storage).toEqual(before);
    const zero = call(token, erc20Abi, "transfer", [ZERO, 1n]);
    expect(revertReason(zero.data).args).toEqual(["ERC20: transfer to the zero address"]);
  });

  it("approve, allowance and transferFrom; insufficient allowance reverts; an infinite allowance stays", () => {
    const a = call(token, erc20Abi, "approve", [BOB, 500n], { caller: ALICE });
    expect(a.value).toBe(true);
    const approval = decodeEventLog({ abi: erc20Abi, ...a.logs[0]! } as never) as { eventName: string; args: unknown };
    expect(approval.eventName).toBe("Approval");
    expect(approval.args).toEqual({
      owner: expect.stringMatching(/^0xa11ce/i),
      spender: expect.stringMatching(/^0xb0b/i),
      value: 500n,
    });
    expect(call(token, erc20Abi, "allowance", [ALICE, BOB]).value).toBe(500n);

    const tf = call(token, erc20Abi, "transferFrom", [ALICE, DEPLOYER, 200n], { caller: BOB });
    expect(tf.status).toBe("success");
    expect(tf.logs).toHaveLength(1);
    expect(call(token, erc20Abi, "allowance", [ALICE, BOB]).value).toBe(300n);
    expect(call(token, erc20Abi, "balanceOf", [ALICE]).value).toBe(1034n);

    const over = call(token, erc20Abi, "transferFrom", [ALICE, BOB, 301n], { caller: BOB });
    expect(revertReason(over.data)).toEqual({ errorName: "Error", args: ["ERC20: insufficient allowance"] });

    call(token, erc20Abi, "approve", [BOB, maxUint256], { caller: ALICE });
    expect(call(token, erc20Abi, "transferFrom", [ALICE, BOB, 34n], { caller: BOB }).status).toBe("success");
    expect(call(token, erc20Abi, "allowance", [ALICE, BOB]).value).toBe(maxUint256);
    expect(call(token, erc20Abi, "balanceOf", [BOB]).value).toBe(34n);
  });

  it("256-bit balances carry and borrow across limbs", () => {
    const { contract } = deploy(built[name]!, ["A very long token name, over 31 bytes", "BIG", 0, maxUint256]);
    expect(call(contract, erc20Abi, "name").value).toBe("A very long token name, over 31 bytes");
    const amounts = [2n ** 64n + 1n, 2n ** 128n - 1n, 2n ** 192n + 2n ** 64n, 1n];
    let alice = 0n;
    for (const v of amounts) {
      expect(call(contract, erc20Abi, "transfer", [ALICE, v]).status).toBe("success");
      alice += v;
    }
    expect(call(contract, erc20Abi, "balanceOf", [ALICE]).value).toBe(alice);
    expect(call(contract, erc20Abi, "balanceOf", [DEPLOYER]).value).toBe(maxUint256 - alice);
    expect(call(contract, erc20Abi, "transfer", [DEPLOYER, alice], { caller: ALICE }).status).toBe("success");
    expect(call(contract, erc20Abi, "balanceOf", [DEPLOYER]).value).toBe(maxUint256);
  });

  it("unknown selectors, short or malformed calldata and sent value revert with empty data", () => {
    const run = (hex: Hex, env: Env = { caller: DEPLOYER }) => token.run("call", hexToBytes(hex), env);
    expect(run("0xdeadbeef")).toMatchObject({ status: "revert", data: "0x" });
    expect(run("0xa905")).toMatchObject({ status: "revert", data: "0x" });
    expect(run("0x")).toMatchObject({ status: "revert", data: "0x" });
    const transfer = encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [ALICE, 1n] });
    expect(run(transfer.slice(0, 2 + 8 + 64) as Hex)).toMatchObject({ status: "revert", data: "0x" }); // one argument
    const dirty = `${transfer.slice(0, 10)}ff${transfer.slice(12)}` as Hex; // address with high bits set
    expect(run(dirty)).toMatchObject({ status: "revert", data: "0x" });
    expect(run(transfer, { caller: DEPLOYER, value: 1n })).toMatchObject({ status: "revert", data: "0x" });
    expect(run(transfer).status).toBe("success");
  });
});

// The Rust ERC-721's storage is OpenZeppelin's ERC721 (slots 0-5), then the owner (6) and the base CID (7).
describe("ERC-721 (erc721_rs)", () => {
  const CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
  const slotOf = (key: Hex, slot: number) => keccak256(concat([pad(key), pad(toHex(slot))]));

  it("keeps owners, balances, approvals and operators in OpenZeppelin's slots", () => {
    const abi = built.erc721_rs!.abi;
    const { contract, result } = deploy(built.erc721_rs!, ["Rust Apes", "RAPE", CID]);
    expect(result.status).toBe("success");
    expect(bytesToHex(contract.storage.get(pad("0x06"))!)).toBe(pad(DEPLOYER));
    expect(bytesToHex(contract.storage.get(pad("0x07"))!)).toBe(pad(toHex(2 * CID.length + 1))); // a long string

    const mint = call(contract, abi, "mint", [ALICE, 42n]);
    expect(mint.logs).toEqual([
      {
        topics: [toEventSelector("Transfer(address,address,uint256)"), pad(ZERO), pad(ALICE), pad("0x2a")],
        data: "0x",
      },
    ]);
    expect(bytesToHex(contract.storage.get(slotOf(pad("0x2a"), 2))!)).toBe(pad(ALICE)); // owners[42]
    expect(bytesToHex(contract.storage.get(slotOf(ALICE, 3))!)).toBe(pad("0x01")); // balances[alice]
    expect(call(contract, abi, "tokenURI", [42n]).value).toBe(`ipfs://${CID}/42`);
    expect(revertReason(call(contract, abi, "mint", [BOB, 43n], { caller: ALICE }).data).args).toEqual([
      "Ownable: caller is not the owner",
    ]);

    expect(call(contract, abi, "approve", [BOB, 42n], { caller: ALICE }).status).toBe("success");
    expect(bytesToHex(contract.storage.get(slotOf(pad("0x2a"), 4))!)).toBe(pad(BOB)); // tokenApprovals[42]
    expect(call(contract, abi, "setApprovalForAll", [BOB, true], { caller: ALICE }).status).toBe("success");
    const operators = keccak256(concat([pad(BOB), slotOf(ALICE, 5)])); // operatorApprovals[alice][bob]
    expect(bytesToHex(contract.storage.get(operators)!)).toBe(pad("0x01"));

    expect(call(contract, abi, "transferFrom", [ALICE, BOB, 42n], { caller: BOB }).status).toBe("success");
    expect(bytesToHex(contract.storage.get(slotOf(pad("0x2a"), 4))!)).toBe(pad(ZERO)); // approval cleared
    expect(bytesToHex(contract.storage.get(slotOf(ALICE, 3))!)).toBe(pad("0x00"));
    expect(call(contract, abi, "ownerOf", [42n]).value).toBe(getAddress(BOB));
    // Non-payable, as Solidity's default.
    const data = hexToBytes(encodeFunctionData({ abi, functionName: "ownerOf", args: [42n] }));
    expect(contract.run("call", data, { caller: BOB, value: 1n })).toMatchObject({ status: "revert", data: "0x" });
  });
});

describe("Counter", () => {
  it("counts, adds, emits Incremented, and reverts with Panic(0x11) on overflow", () => {
    const { contract } = deploy(built.counter!, undefined);
    const abi = built.counter!.abi;
    expect(call(contract, abi, "count").value).toBe(0n);
    const inc = call(contract, abi, "increment");
    expect(inc.status).toBe("success");
    expect(decodeEventLog({ abi, ...inc.logs[0]! } as never)).toEqual({
      eventName: "Incremented",
      args: { newValue: 1n },
    });
    call(contract, abi, "increment");
    const add = call(contract, abi, "add", [40n]);
    expect(decodeEventLog({ abi, ...add.logs[0]! } as never)).toEqual({
      eventName: "Incremented",
      args: { newValue: 42n },
    });
    expect(call(contract, abi, "count").value).toBe(42n);
    const overflow = call(contract, abi, "add", [maxUint256]);
    expect(overflow.status).toBe("revert");
    expect(revertReason(overflow.data)).toEqual({ errorName: "Panic", args: [0x11n] });
    expect(call(contract, abi, "count").value).toBe(42n);
  });
});

describe("Classifier", () => {
  // 3 → 3 (×2 then >>1, relu) → 3 (identity, bias +10 on class 2): the class is the largest input, or 2 when every
  // input is ≤ 0 (relu zeroes them and the bias wins).
  const model = encodeModel([
    { inDim: 3, outDim: 3, multiplier: 1, shift: 1, relu: true, weights: [2, 0, 0, 0, 2, 0, 0, 0, 2], bias: [0, 0, 0] },
    {
      inDim: 3,
      outDim: 3,
      multiplier: 1,
      shift: 0,
      relu: false,
      weights: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      bias: [0, 0, 10],
    },
  ]);

  it("stores the model at deploy and classifies with ai_mlp_forward + ai_argmax_i8", () => {
    const { contract, result } = deploy(built.classifier!, [rawCid(model), bytesToHex(model)]);
    expect(result.status).toBe("success");
    const abi = built.classifier!.abi;
    expect(call(contract, abi, "modelCid").value).toBe(rawCid(model));
    expect(call(contract, abi, "modelSize").value).toBe(BigInt(model.length));
    expect(call(contract, abi, "inputSize").value).toBe(3n);
    const cases: [number[], bigint][] = [
      [[5, 20, 1], 1n],
      [[30, 2, 3], 0n],
      [[-5, -3, -7], 2n],
      [[1, 2, 127], 2n],
      [[-128, 100, 80], 1n],
      [[-128, 100, 99], 2n], // 99 + the bias of 10 beats 100
    ];
    for (const [input, want] of cases) {
      const r = call(contract, abi, "classify", [input]);
      expect(r.status, String(input)).toBe("success");
      expect(r.value, String(input)).toBe(want);
      expect(r.value).toBe(BigInt(argmax(mlpForward(model, Int8Array.from(input)))));
    }
    const wrong = call(contract, abi, "classify", [[1, 2]]);
    expect(revertReason(wrong.data).args).toEqual(["Classifier: wrong input length"]);
    // An element outside int8 (200 not sign-extended) is malformed calldata.
    const bad = concat([
      toFunctionSelector("classify(int8[])"),
      encodeAbiParameters([{ type: "uint256[]" }], [[1n, 200n, 3n]]),
    ]);
    expect(contract.run("call", hexToBytes(bad), { caller: DEPLOYER })).toMatchObject({ status: "revert", data: "0x" });
  });

  it("a larger random model round-trips through storage and matches the reference forward pass", () => {
    const rnd = fc.sample(fc.integer({ min: -128, max: 127 }), { numRuns: 16 * 24 + 24 * 5, seed: 42 });
    const big = encodeModel([
      {
        inDim: 16,
        outDim: 24,
        multiplier: 3,
        shift: 6,
        relu: true,
        weights: rnd.slice(0, 384),
        bias: Array(24).fill(-7),
      },
      { inDim: 24, outDim: 5, multiplier: 1, shift: 4, relu: false, weights: rnd.slice(384), bias: [1, 2, 3, 4, 5] },
    ]);
    const { contract } = deploy(built.classifier!, [rawCid(big), bytesToHex(big)]);
    const abi = built.classifier!.abi;
    expect(call(contract, abi, "modelCid").value).toBe(rawCid(big));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 16, maxLength: 16 }), (input) => {
        const want = BigInt(argmax(mlpForward(big, Int8Array.from(input))));
        expect(call(contract, abi, "classify", [input]).value).toBe(want);
      }),
      { numRuns: 50, seed: 7 },
    );
  });

  it("refuses a malformed model at deploy", () => {
    for (const m of [
      model.subarray(0, model.length - 1),
      concat([model, Uint8Array.of(0)]),
      Uint8Array.of(0),
      new Uint8Array(),
    ]) {
      const { result } = deploy(built.classifier!, [rawCid(m), bytesToHex(m)]);
      expect(result.status).toBe("revert");
      expect(revertReason(result.data).args).toEqual(["Classifier: malformed model"]);
    }
  });

  it("refuses bytes that do not hash to the model's CID, and a CID that is not CIDv1 raw sha2-256", () => {
    const tampered = model.slice();
    tampered[9] ^= 1;
    const refusals: [Hex, Uint8Array, string][] = [
      [rawCid(model), tampered, "Classifier: model does not match its CID"],
      [rawCid(tampered), model, "Classifier: model does not match its CID"],
      [concat(["0x01701220", sha256(model)]), model, "Classifier: CID must be a CIDv1 raw sha2-256"], // dag-pb
      [concat(["0x01551e20", sha256(model)]), model, "Classifier: CID must be a CIDv1 raw sha2-256"], // blake3
      [rawCid(model).slice(0, -2) as Hex, model, "Classifier: CID must be a CIDv1 raw sha2-256"], // truncated
      [
        rawCid(new Uint8Array(256 * 1024 + 1)),
        new Uint8Array(256 * 1024 + 1),
        "Classifier: model over 256 KiB (one raw block)",
      ],
    ];
    for (const [cid, m, reason] of refusals) {
      const { result } = deploy(built.classifier!, [cid, bytesToHex(m)]);
      expect(result.status, reason).toBe("revert");
      expect(revertReason(result.data).args).toEqual([reason]);
    }
  });
});

describe("Groth16 verifier", () => {
  // A structurally valid key for 2 public inputs (icCount 3); the stub's groth16_verify only records its arguments.
  const vk = Uint8Array.from({ length: 452 + 3 * 64 }, (_, i) => (i * 7 + 1) & 0xff);
  new DataView(vk.buffer).setUint32(448, 3, false);
  const proof = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);

  it("passes the stored vk, the proof and the inputs to groth16_verify; verifyAndRecord emits Verified", () => {
    const { contract, result } = deploy(built.groth16_verifier!, [bytesToHex(vk)]);
    expect(result.status).toBe("success");
    const abi = built.groth16_verifier!.abi;
    expect(call(contract, abi, "inputCount").value).toBe(2n);

    expect(call(contract, abi, "verify", [bytesToHex(proof), [33n, 2n ** 250n]]).value).toBe(true);
    expect(contract.groth16Calls).toEqual([
      { vk: bytesToHex(vk), proof: bytesToHex(proof), inputs: [pad("0x21"), pad(`0x${(2n ** 250n).toString(16)}`)] },
    ]);

    contract.groth16Answer = 0;
    const rec = call(contract, abi, "verifyAndRecord", [bytesToHex(proof), [1n, 2n]], { caller: ALICE });
    expect(rec.value).toBe(false);
    expect(rec.logs[0]!.topics[1]).toBe(pad(ALICE));
    expect(decodeEventLog({ abi, ...rec.logs[0]! } as never)).toEqual({
      eventName: "Verified",
      args: { by: expect.stringMatching(/^0xa11ce/i), ok: false },
    });

    const short = call(contract, abi, "verify", [bytesToHex(proof.subarray(1)), [1n, 2n]]);
    expect(revertReason(short.data).args).toEqual(["Groth16: proof must be 256 bytes"]);
    const count = call(contract, abi, "verify", [bytesToHex(proof), [1n]]);
    expect(revertReason(count.data).args).toEqual(["Groth16: wrong number of public inputs"]);
  });

  it("refuses a verifying key whose length does not match its icCount", () => {
    const { result } = deploy(built.groth16_verifier!, [bytesToHex(vk.subarray(0, vk.length - 64))]);
    expect(revertReason(result.data).args).toEqual(["Groth16: malformed verifying key"]);
  });
});

// The same test contract written with each SDK: contracts/test/sdk_selftest.c and contracts/rust/test/sdk_selftest.rs.
describe.each([
  ["C", join(CONTRACTS_DIR, "test", "sdk_selftest.c")],
  ["Rust", join(CONTRACTS_DIR, "rust", "test", "sdk_selftest.rs")],
])("SDK self-test contract (%s)", (language, source) => {
  const abi = parseAbi([
    "function add(uint256 a, uint256 b) returns (uint256, bool)",
    "function sub(uint256 a, uint256 b) returns (uint256, bool)",
    "function mul(uint256 a, uint256 b) returns (uint256, bool)",
    "function divmod(uint256 a, uint32 d) returns (uint256, uint256)",
    "function cmp(uint256 a, uint256 b) returns (int256)",
    "function echo(bytes b, string s, address a, bool f, uint8 u) returns (bytes, string, address, bool, uint8)",
    "function sumInt8(int8[] xs) returns (int256)",
    "function sumWords(uint256[] xs) returns (uint256, bool)",
    "function echoWords(uint256[] xs, bytes b) returns (uint256[], bytes)",
    "function storeBytes(uint256 slot, bytes data)",
    "function loadBytes(uint256 slot) returns (bytes)",
    "function nested(address a, address b) returns (bytes32)",
    "function fail(string reason)",
    "function panic(uint256 code)",
  ]);
  let c: StubContract;
  const M = 2n ** 256n;
  const u256 = fc.oneof(
    fc.bigInt({ min: 0n, max: M - 1n }),
    fc.constantFrom(0n, 1n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 128n, M - 1n),
    fc.bigInt({ min: 0n, max: 2n ** 70n }),
  );

  beforeAll(async () => {
    const module = await compileContract(source, {
      name: `sdk_selftest_${language.toLowerCase()}`, // one stamp each in build/test
      abi,
      outDir: join(BUILD_DIR, "test"),
    });
    c = new StubContract(new WebAssembly.Module(module));
  });

  it("u256 add / sub / mul / divmod / cmp match BigInt", () => {
    fc.assert(
      fc.property(u256, u256, fc.integer({ min: 1, max: 2 ** 32 - 1 }), (a, b, d) => {
        expect(call(c, abi, "add", [a, b]).value).toEqual([(a + b) % M, a + b >= M]);
        expect(call(c, abi, "sub", [a, b]).value).toEqual([(a - b + M) % M, b > a]);
        expect(call(c, abi, "mul", [a, b]).value).toEqual([(a * b) % M, a * b >= M]);
        expect(call(c, abi, "divmod", [a, d]).value).toEqual([a / BigInt(d), a % BigInt(d)]);
        expect(call(c, abi, "cmp", [a, b]).value).toBe(a < b ? -1n : a > b ? 1n : 0n);
      }),
      { numRuns: 200, seed: 1 },
    );
    expect(revertReason(call(c, abi, "divmod", [5n, 0]).data)).toEqual({ errorName: "Panic", args: [0x12n] });
  });

  it("decodes and re-encodes dynamic and static arguments", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.string({ maxLength: 80 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.integer({ min: -128, max: 127 }), { maxLength: 40 }),
        fc.array(u256, { maxLength: 6 }),
        (bytes, str, flag, u8, int8s, words) => {
          expect(call(c, abi, "echo", [bytesToHex(bytes), str, BOB, flag, u8]).value).toEqual([
            bytesToHex(bytes),
            str,
            expect.stringMatching(/^0xb0b0/i),
            flag,
            u8,
          ]);
          expect(call(c, abi, "sumInt8", [int8s]).value).toBe(BigInt(int8s.reduce((s, x) => s + x, 0)));
          const sum = words.reduce((s, x) => s + x, 0n);
          expect(call(c, abi, "sumWords", [words]).value).toEqual([sum % M, sum >= M]);
          expect(call(c, abi, "echoWords", [words, bytesToHex(bytes)]).value).toEqual([words, bytesToHex(bytes)]);
        },
      ),
      { numRuns: 100, seed: 2 },
    );
  });

  it("stores bytes with Solidity's layout and computes nested mapping slots", () => {
    for (const len of [0, 1, 31, 32, 33, 64, 65, 200, 40, 3]) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 13 + len) & 0xff);
      expect(call(c, abi, "storeBytes", [9n, bytesToHex(data)]).status).toBe("success");
      expect(call(c, abi, "loadBytes", [9n]).value).toBe(bytesToHex(data));
      const head = c.storage.get(pad("0x09"))!;
      if (len < 32) {
        expect(head[31]).toBe(2 * len);
        expect(head.subarray(0, len)).toEqual(data);
      } else {
        expect(bytesToHex(head)).toBe(pad(`0x${(2 * len + 1).toString(16)}`));
      }
    }
    // The 200-byte value's slots beyond the current 3 bytes were cleared when shorter values replaced it.
    const base = BigInt(keccak256(pad("0x09")));
    for (let i = 0; i < 7; i++) {
      const slot = pad(`0x${(base + BigInt(i)).toString(16)}`, { size: 32 });
      expect(c.storage.get(slot) ?? new Uint8Array(32)).toEqual(new Uint8Array(32));
    }
    const inner = keccak256(concat([pad(ALICE), pad("0x01")]));
    expect(call(c, abi, "nested", [ALICE, BOB]).value).toBe(keccak256(concat([pad(BOB), inner])));
  });

  it("reverts with Error(string) of any length and with Panic codes", () => {
    for (const reason of ["", "x", "a reason that is longer than thirty-two bytes, for padding"]) {
      const r = call(c, abi, "fail", [reason]);
      expect(r.status).toBe("revert");
      expect(revertReason(r.data)).toEqual({ errorName: "Error", args: [reason] });
    }
    expect(revertReason(call(c, abi, "panic", [0x32n]).data)).toEqual({ errorName: "Panic", args: [0x32n] });
  });

  it("traps, rather than continuing, when a host finish returns", () => {
    const noExit = new StubContract(c.module);
    const instance = new WebAssembly.Instance(noExit.module, {
      rustchain: Object.fromEntries(
        WebAssembly.Module.imports(noExit.module).map((i) => [
          i.name,
          i.name === "calldata_size" ? () => 0 : () => undefined,
        ]),
      ),
    });
    expect(() => (instance.exports.call as () => void)()).toThrow(WebAssembly.RuntimeError);
  });
});
