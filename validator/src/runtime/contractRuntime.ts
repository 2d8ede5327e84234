// Executes WebAssembly contracts: deploy (CREATE) and call frames, with the host API of docs/runtime.md.
// Host functions that read state are async (RocksDB); they are imported through JSPI (WebAssembly.Suspending), so a
// contract suspends on a cold read and resumes when it arrives, deterministically. When the overlay already holds
// the value they answer synchronously and the contract does not suspend at all (the answer and the gas are the same
// either way). Contract failures (revert, trap, out-of-gas) are values in FrameResult, never exceptions of the node.
//
// Each frame runs on an instance of its own taken from the module's pool (wasm/instancePool.ts): instantiating is
// most of the cost of a short call, and a reset instance is indistinguishable from a fresh one. Inside a frame the
// meter counts ink (INK_PER_GAS per gas, gasSchedule.ts); host functions charge gas.
import { sha256 } from "@noble/hashes/sha2.js";
import {
  BLAKE3_EMPTY,
  bigintToBytes32,
  blake3,
  bytesToBigint,
  keccak256,
  type Log,
  RustChainError,
  recoverAddress,
  rlpEncode,
} from "@rustchain/shared";
import type { WorldState } from "../state/stateDb.ts";
import { argmaxI8, matmulI8, mlpForward, mlpPrice, parseMlpModel, reluI8, requantize } from "./ai/int8Kernels.ts";
import type { BlockEnv } from "./blockEnv.ts";
import type { ExecutionTracer } from "./executionTracer.ts";
import { Gas, INK_PER_GAS, MAX_CALL_DEPTH, MAX_LOG_DATA, MAX_RETURN_DATA, MAX_STACK_HEIGHT } from "./gasSchedule.ts";
import { verifyGroth16 } from "./groth16/groth16.ts";
import { ModuleCache } from "./wasm/compileCache.ts";
import {
  defaultInstancePoolOptions,
  IdleBudget,
  InstancePool,
  type InstancePoolOptions,
  type ResettableInstance,
} from "./wasm/instancePool.ts";
import { GAS_EXPORT, RESET_EXPORT, STACK_EXPORT } from "./wasm/instrument.ts";
import { type HostImportName, validateModule } from "./wasm/validateModule.ts";

export const ARTEFACT_MAGIC = Uint8Array.of(0xef, 0x52, 0x57, 0x00);

export type DeployErrorType =
  | { code: "DEPLOY_NOT_AN_ARTEFACT" }
  | { code: "DEPLOY_TRUNCATED"; declared: number; available: number };
/** A creation transaction whose data is not a RustChain contract artefact. */
export class DeployError extends RustChainError<DeployErrorType> {
  constructor(type: DeployErrorType) {
    super(
      type,
      type.code === "DEPLOY_NOT_AN_ARTEFACT"
        ? "invalid contract: data does not start with the RustChain artefact magic 0xef525700 (see docs/runtime.md)"
        : `invalid contract: artefact declares a ${type.declared}-byte module but only ${type.available} bytes follow`,
    );
  }
}

/** Split creation data into the wasm module and the ABI-encoded constructor arguments. */
export function splitDeployData(data: Uint8Array): { module: Uint8Array; args: Uint8Array } {
  if (data.length < 8 || Buffer.compare(data.subarray(0, 4), ARTEFACT_MAGIC) !== 0) {
    throw new DeployError({ code: "DEPLOY_NOT_AN_ARTEFACT" });
  }
  const len = new DataView(data.buffer, data.byteOffset + 4, 4).getUint32(0);
  if (8 + len > data.length)
    throw new DeployError({ code: "DEPLOY_TRUNCATED", declared: len, available: data.length - 8 });
  return { module: data.subarray(8, 8 + len), args: data.subarray(8 + len) };
}

/** Wrap a module in the deploy envelope (the inverse of splitDeployData). */
export function toArtefact(module: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + module.length);
  out.set(ARTEFACT_MAGIC, 0);
  new DataView(out.buffer).setUint32(4, module.length, false);
  out.set(module, 8);
  return out;
}

/** Check creation data fully (artefact and module rules); throws DeployError or WasmError with a clear message. */
export function checkDeployData(data: Uint8Array): void {
  validateModule(splitDeployData(data).module);
}

/** CREATE address: keccak256(rlp([sender, nonce]))[12:], as viem's getContractAddress predicts. */
export function createAddress(sender: Uint8Array, nonce: bigint): Uint8Array {
  return keccak256(rlpEncode([sender, nonce])).slice(12);
}

export type FrameStatus = "success" | "revert" | "trap" | "outOfGas";

export interface FrameResult {
  status: FrameStatus;
  returnData: Uint8Array;
  gasLeft: bigint;
  /** Why a trap or failure happened (for logs and eth_call errors). */
  reason?: string;
}

/** Shared by all frames of one transaction (or one eth_call). */
export interface TxContext {
  ws: WorldState;
  env: BlockEnv;
  origin: Uint8Array;
  logs: Log[];
  warmAddresses: Set<string>;
  warmSlots: Set<string>;
  /** debug_trace*: sees every frame and log (runtime/executionTracer.ts); undefined when executing blocks. */
  tracer?: ExecutionTracer;
}

export interface Frame {
  caller: Uint8Array;
  address: Uint8Array;
  value: bigint;
  calldata: Uint8Array;
  gas: bigint;
  depth: number;
}

/** Thrown by host functions to end a frame; caught by runFrame. */
class HostExit {
  constructor(
    readonly status: FrameStatus,
    readonly data: Uint8Array = new Uint8Array(0),
    readonly reason?: string,
  ) {}
}

const hexSlice = Buffer.prototype.hexSlice as (this: Uint8Array, start: number, end: number) => string;
const hex = (b: Uint8Array) => hexSlice.call(b, 0, b.length);

export interface ContractRuntimeOptions {
  moduleCacheSize: number;
  instancePool: InstancePoolOptions;
  /** Memory all the idle instances together may hold. */
  idleInstanceBytes: number;
}
export const defaultContractRuntimeOptions: ContractRuntimeOptions = {
  moduleCacheSize: 256,
  instancePool: defaultInstancePoolOptions,
  idleInstanceBytes: 256 * 1024 * 1024,
};

/**
 * A frame's gas above this is set aside and handed back untouched when the frame ends, so that the ink meter
 * (gas × INK_PER_GAS) stays far from the i64 limit. 2^48 gas is about a million blocks' worth: no transaction or
 * eth_call gets near it.
 */
export const MAX_METERED_GAS = 1n << 48n;

const EMPTY = new Uint8Array(0);

interface CodeInfo {
  keccak: Uint8Array;
  words: bigint;
}

/** `code_hash` of an account without code: 32 zero bytes, nothing to hash. */
const NO_CODE: CodeInfo = Object.freeze({ keccak: new Uint8Array(32), words: 0n });

export class ContractRuntime {
  readonly cache: ModuleCache;
  /**
   * keccak256 and size in words of stored code by its BLAKE3 code hash (hex), so `code_hash` hashes a module once,
   * and once memoised answers without reading the code at all.
   */
  private readonly codeInfo = new Map<string, CodeInfo>();
  /** Code hashed by `code_hash` in each transaction (TxContext), for its per-word price. */
  private readonly hashedInTx = new WeakMap<TxContext, Set<string>>();
  /** Idle instances of each compiled module; a module evicted from the cache takes its pool with it. */
  private readonly pools = new Map<WebAssembly.Module, InstancePool<ContractInstance>>();
  private readonly poolOptions: InstancePoolOptions;
  readonly idleBudget: IdleBudget;

  constructor(opts: ContractRuntimeOptions = defaultContractRuntimeOptions) {
    this.cache = new ModuleCache(opts.moduleCacheSize, undefined, (mod) => {
      this.pools.get(mod)?.clear();
      this.pools.delete(mod);
    });
    this.poolOptions = opts.instancePool;
    this.idleBudget = new IdleBudget(opts.idleInstanceBytes);
  }

  /** Instances created and reused so far, over all the pools (metrics, tests). */
  instanceStats(): { created: number; reused: number; idle: number } {
    let created = 0;
    let reused = 0;
    let idle = 0;
    for (const pool of this.pools.values()) {
      created += pool.created;
      reused += pool.reused;
      idle += pool.idleCount;
    }
    return { created, reused, idle };
  }

  private poolOf(mod: WebAssembly.Module): InstancePool<ContractInstance> {
    let pool = this.pools.get(mod);
    if (pool === undefined) {
      pool = new InstancePool(() => new ContractInstance(this, mod), this.poolOptions, this.idleBudget);
      this.pools.set(mod, pool);
    }
    return pool;
  }

  /**
   * keccak256 of an account's code (`code`, whose BLAKE3 hash is `codeHash`), or 32 zero bytes for no code (what
   * `code_hash` returns), and the code's size in words. Memoised (bounded LRU); the gas never depends on the memo.
   */
  codeKeccak(codeHash: Uint8Array, code: Uint8Array): CodeInfo {
    if (code.length === 0) return NO_CODE;
    const known = this.knownCode(codeHash);
    if (known !== undefined) return known;
    const info = { keccak: keccak256(code), words: BigInt(Math.ceil(code.length / 32)) };
    this.codeInfo.set(hex(codeHash), info);
    if (this.codeInfo.size > this.cache.capacity * 4) {
      const oldest = this.codeInfo.keys().next().value;
      if (oldest !== undefined) this.codeInfo.delete(oldest);
    }
    return info;
  }

  /** codeKeccak's answer for a code hash, if it is known without the code (memoised, or the empty code's). */
  knownCode(codeHash: Uint8Array): CodeInfo | undefined {
    if (Buffer.compare(codeHash, BLAKE3_EMPTY) === 0) return NO_CODE;
    const key = hex(codeHash);
    const cached = this.codeInfo.get(key);
    if (cached !== undefined) {
      this.codeInfo.delete(key);
      this.codeInfo.set(key, cached);
    }
    return cached;
  }

  /**
   * Whether `code_hash` has already hashed this code in this transaction (and records that it now has): the first
   * time pays the hash per word of code, later times only the warm access.
   */
  codeHashedInTx(ctx: TxContext, codeHash: Uint8Array): boolean {
    let seen = this.hashedInTx.get(ctx);
    if (seen === undefined) {
      seen = new Set();
      this.hashedInTx.set(ctx, seen);
    }
    const key = hex(codeHash);
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  }

  /**
   * CREATE: validate the module, charge compile and deposit gas, install the code at the CREATE address, and run its
   * `deploy` export with the constructor arguments. The caller has already bumped the sender's nonce.
   */
  deploy(
    ctx: TxContext,
    frame: Omit<Frame, "address" | "calldata">,
    data: Uint8Array,
    nonce: bigint,
  ): Promise<{ address: Uint8Array; result: FrameResult }> {
    // Not async itself: untraced, the frame's promise is returned as is (no extra await per frame).
    const tracer = ctx.tracer;
    return tracer === undefined
      ? this.deployFrame(ctx, frame, data, nonce)
      : this.tracedDeploy(ctx, frame, data, nonce, tracer);
  }

  private async tracedDeploy(
    ctx: TxContext,
    frame: Omit<Frame, "address" | "calldata">,
    data: Uint8Array,
    nonce: bigint,
    tracer: ExecutionTracer,
  ): Promise<{ address: Uint8Array; result: FrameResult }> {
    const { caller: from, gas, value, depth } = frame;
    tracer.enter({ kind: "CREATE", from, to: createAddress(from, nonce), input: data, gas, value, depth });
    const deployed = await this.deployFrame(ctx, frame, data, nonce);
    const ok = deployed.result.status === "success";
    tracer.exit(deployed.result, ok ? splitDeployData(data).module : deployed.result.returnData);
    return deployed;
  }

  private async deployFrame(
    ctx: TxContext,
    frame: Omit<Frame, "address" | "calldata">,
    data: Uint8Array,
    nonce: bigint,
  ) {
    const address = createAddress(frame.caller, nonce);
    let parts: { module: Uint8Array; args: Uint8Array };
    try {
      parts = splitDeployData(data);
      validateModule(parts.module);
    } catch (e) {
      return {
        address,
        result: {
          status: "trap",
          returnData: new Uint8Array(0),
          gasLeft: 0n,
          reason: (e as Error).message,
        } as FrameResult,
      };
    }
    const cost = BigInt(parts.module.length) * (Gas.compilePerByte + Gas.codeDepositPerByte);
    if (frame.gas < cost)
      return { address, result: { status: "outOfGas", returnData: new Uint8Array(0), gasLeft: 0n } as FrameResult };
    const { ws } = ctx;
    const cp = ws.checkpoint();
    const logMark = ctx.logs.length;
    const existing = await ws.getAccount(address);
    if (existing.nonce !== 0n || (await ws.getCode(address)).length > 0) {
      return {
        address,
        result: {
          status: "trap",
          returnData: new Uint8Array(0),
          gasLeft: 0n,
          reason: "contract address collision",
        } as FrameResult,
      };
    }
    ctx.warmAddresses.add(hex(address));
    if (!(await this.moveValue(ws, frame.caller, address, frame.value))) {
      return {
        address,
        result: {
          status: "revert",
          returnData: new Uint8Array(0),
          gasLeft: frame.gas,
          reason: "insufficient balance for value",
        } as FrameResult,
      };
    }
    const account = await ws.getAccount(address);
    account.nonce = 1n;
    ws.setAccount(address, account);
    const codeHash = await ws.setCode(address, parts.module);
    const full: Frame = { ...frame, address, calldata: parts.args, gas: frame.gas - cost };
    const mod = this.cache.get(codeHash, parts.module);
    const hasDeploy = WebAssembly.Module.exports(mod).some((e) => e.name === "deploy");
    const result = hasDeploy
      ? await this.runFrame(ctx, full, mod, "deploy")
      : { status: "success" as const, returnData: new Uint8Array(0), gasLeft: full.gas };
    if (result.status !== "success") {
      ws.revert(cp);
      ctx.logs.length = logMark;
    }
    return { address, result };
  }

  /** A message call: value transfer, then the callee's `call` export if it has code. */
  call(ctx: TxContext, frame: Frame): Promise<FrameResult> {
    const tracer = ctx.tracer;
    return tracer === undefined ? this.callFrame(ctx, frame) : this.tracedCall(ctx, frame, tracer);
  }

  private async tracedCall(ctx: TxContext, frame: Frame, tracer: ExecutionTracer): Promise<FrameResult> {
    const { caller: from, address: to, calldata: input, gas, value, depth } = frame;
    tracer.enter({ kind: "CALL", from, to, input, gas, value, depth });
    const result = await this.callFrame(ctx, frame);
    tracer.exit(result, result.returnData);
    return result;
  }

  private async callFrame(ctx: TxContext, frame: Frame): Promise<FrameResult> {
    const { ws } = ctx;
    // A call refused for depth consumes nothing: the caller keeps the gas it offered.
    if (frame.depth > MAX_CALL_DEPTH) {
      return { status: "trap", returnData: new Uint8Array(0), gasLeft: frame.gas, reason: "call depth exceeded" };
    }
    const cp = ws.checkpoint();
    const logMark = ctx.logs.length;
    if (!(await this.moveValue(ws, frame.caller, frame.address, frame.value))) {
      return {
        status: "revert",
        returnData: new Uint8Array(0),
        gasLeft: frame.gas,
        reason: "insufficient balance for value",
      };
    }
    const { codeHash } = await ws.getAccount(frame.address);
    // The compiled module is found by code hash, so a cached contract's code is not even read.
    let mod = Buffer.compare(codeHash, BLAKE3_EMPTY) === 0 ? undefined : this.cache.lookup(codeHash);
    if (mod === undefined) {
      const code = await ws.getCode(frame.address);
      if (code.length === 0) return { status: "success", returnData: new Uint8Array(0), gasLeft: frame.gas };
      mod = this.cache.get(codeHash, code);
    }
    const result = await this.runFrame(ctx, frame, mod, "call");
    if (result.status !== "success") {
      ws.revert(cp);
      ctx.logs.length = logMark;
    }
    return result;
  }

  private async moveValue(ws: WorldState, from: Uint8Array, to: Uint8Array, value: bigint): Promise<boolean> {
    if (value === 0n) return true;
    const sender = await ws.getAccount(from);
    if (sender.balance < value) return false;
    sender.balance -= value;
    ws.setAccount(from, sender);
    const recipient = await ws.getAccount(to);
    recipient.balance += value;
    ws.setAccount(to, recipient);
    return true;
  }

  private async runFrame(
    ctx: TxContext,
    frame: Frame,
    mod: WebAssembly.Module,
    entry: "call" | "deploy",
  ): Promise<FrameResult> {
    const pool = this.poolOf(mod);
    let instance: ContractInstance;
    try {
      instance = pool.acquire();
    } catch (e) {
      return {
        status: "trap",
        returnData: EMPTY,
        gasLeft: 0n,
        reason: `instantiation failed: ${(e as Error).message}`,
      };
    }
    const metered = frame.gas < MAX_METERED_GAS ? frame.gas : MAX_METERED_GAS;
    const reserve = frame.gas - metered;
    const initialPages = BigInt(instance.memory.buffer.byteLength >>> 16);
    const start = metered - initialPages * Gas.memoryPage;
    if (start < 0n) {
      pool.release(instance);
      return { status: "outOfGas", returnData: EMPTY, gasLeft: 0n };
    }
    const { gas, host } = instance;
    gas.value = start * INK_PER_GAS;
    host.begin(ctx, frame);
    let result: FrameResult;
    try {
      await instance.entry(entry)();
      result = { status: "success", returnData: EMPTY, gasLeft: reserve + (gas.value as bigint) / INK_PER_GAS };
    } catch (e) {
      const ink = gas.value as bigint;
      if (e instanceof HostExit) {
        if (e.status === "success" || e.status === "revert") {
          const left = ink < 0n ? 0n : ink / INK_PER_GAS;
          result = { status: e.status, returnData: e.data, gasLeft: reserve + left };
        } else result = { status: e.status, returnData: EMPTY, gasLeft: reserve, reason: e.reason };
      } else if (ink < 0n) result = { status: "outOfGas", returnData: EMPTY, gasLeft: reserve };
      else if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
        const reason = (instance.stack.value as number) > MAX_STACK_HEIGHT ? "stack height limit exceeded" : e.message;
        result = { status: "trap", returnData: EMPTY, gasLeft: reserve, reason };
      } else {
        // A node fault, not a contract failure: the instance is not reused.
        host.end();
        throw e;
      }
    }
    host.end();
    pool.release(instance);
    return result;
  }
}

/** One instance of a contract module with its host functions bound; reused by frame after frame (instancePool.ts). */
class ContractInstance implements ResettableInstance {
  readonly host: HostState;
  readonly memory: WebAssembly.Memory;
  readonly gas: WebAssembly.Global;
  readonly stack: WebAssembly.Global;
  readonly resetGlobals: () => void;
  private readonly exports: WebAssembly.Exports;
  private readonly entries = new Map<string, () => Promise<void>>();

  constructor(runtime: ContractRuntime, mod: WebAssembly.Module) {
    this.host = new HostState(runtime);
    const instance = new WebAssembly.Instance(mod, { rustchain: this.host.imports() });
    this.exports = instance.exports;
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.gas = instance.exports[GAS_EXPORT] as WebAssembly.Global;
    this.stack = instance.exports[STACK_EXPORT] as WebAssembly.Global;
    this.resetGlobals = instance.exports[RESET_EXPORT] as () => void;
    this.host.bind(this.memory, this.gas);
  }

  /** The export `name` as an async function (JSPI), wrapped once per instance. */
  entry(name: "call" | "deploy"): () => Promise<void> {
    let run = this.entries.get(name);
    if (run === undefined) {
      run = WebAssembly.promising(this.exports[name] as () => void) as () => Promise<void>;
      this.entries.set(name, run);
    }
    return run;
  }
}

/**
 * The host side of one contract instance: its memory and meter, and the frame it currently runs (`begin`/`end`), so
 * that its import object is built once per instance instead of once per call.
 */
class HostState {
  private memory!: WebAssembly.Memory;
  private gas!: WebAssembly.Global;
  private ctx!: TxContext;
  private frame!: Frame;
  /** hex(frame.address), the prefix of this frame's warm-slot keys. */
  private addressHex = "";
  private returnData: Uint8Array = EMPTY;

  constructor(private readonly runtime: ContractRuntime) {}

  bind(memory: WebAssembly.Memory, gas: WebAssembly.Global): void {
    this.memory = memory;
    this.gas = gas;
  }

  begin(ctx: TxContext, frame: Frame): void {
    this.ctx = ctx;
    this.frame = frame;
    this.addressHex = hex(frame.address);
    this.returnData = EMPTY;
  }

  /** Drops the frame's references, so an idle instance holds no world state. */
  end(): void {
    this.ctx = undefined as unknown as TxContext;
    this.frame = undefined as unknown as Frame;
    this.returnData = EMPTY;
  }

  /** Charge `amount` gas (ink on the meter); running out ends the frame. */
  private charge(amount: bigint): void {
    const left = (this.gas.value as bigint) - amount * INK_PER_GAS;
    this.gas.value = left;
    if (left < 0n) throw new HostExit("outOfGas");
  }

  /**
   * storage_write once the slot's current value is known: EIP-2200's cases (without refunds), then the write. Writing
   * the value a slot already holds changes nothing, so nothing is written: the slot does not become dirty and the
   * block's commit does not touch it (which is what makes the no-op cheap).
   */
  private writeSlot(slot: Uint8Array, value: Uint8Array, current: Uint8Array, cold: bigint): void | Promise<void> {
    if (Buffer.compare(current, value) === 0) return this.charge(cold + Gas.storageWriteNoop);
    this.charge(cold + (isZeroWord(current) && !isZeroWord(value) ? Gas.storageWriteNew : Gas.storageWriteChange));
    const { ws } = this.ctx;
    if (!ws.trySetStorage(this.frame.address, slot, value)) return ws.setStorage(this.frame.address, slot, value);
  }

  private read(ptr: number, len: number): Uint8Array {
    const buf = this.memory.buffer;
    if (ptr < 0 || len < 0 || ptr + len > buf.byteLength)
      throw new HostExit("trap", undefined, "memory access out of bounds");
    return new Uint8Array(buf, ptr, len).slice();
  }

  /** memory[ptr..ptr+len] as int8, without a copy (only for the duration of one host call: memory can grow). */
  private int8View(ptr: number, len: number): Int8Array {
    const buf = this.memory.buffer;
    if (ptr < 0 || len < 0 || ptr + len > buf.byteLength)
      throw new HostExit("trap", undefined, "memory access out of bounds");
    return new Int8Array(buf, ptr, len);
  }

  private write(ptr: number, data: Uint8Array): void {
    const buf = this.memory.buffer;
    if (ptr < 0 || ptr + data.length > buf.byteLength)
      throw new HostExit("trap", undefined, "memory access out of bounds");
    new Uint8Array(buf, ptr, data.length).set(data);
  }

  /** Copy source[offset..offset+len] into contract memory at dest, priced per word; out of range traps. */
  private copyOut(source: Uint8Array, dest: number, offset: number, len: number, what: string): void {
    this.charge(this.copyCost(len));
    if (offset < 0 || len < 0 || offset + len > source.length)
      throw new HostExit("trap", undefined, `${what} read out of bounds`);
    this.write(dest, source.subarray(offset, offset + len));
  }

  private copyCost(len: number): bigint {
    return Gas.hostCall + Gas.copyWord * BigInt(Math.ceil(len / 32));
  }

  imports(): WebAssembly.ModuleImports {
    // A Suspending import that returns a value instead of a promise does not suspend the contract.
    const suspending = (fn: (...args: never[]) => unknown) =>
      new WebAssembly.Suspending(fn as (...args: never[]) => Promise<unknown>);
    // Typed by the host import list (validateModule.ts): a missing or extra host function is a type error.
    const imports: Record<HostImportName, unknown> = {
      calldata_size: () => {
        this.charge(Gas.hostCall);
        return this.frame.calldata.length;
      },
      calldata_copy: (dest: number, offset: number, len: number) =>
        this.copyOut(this.frame.calldata, dest, offset, len, "calldata"),
      finish: (ptr: number, len: number) => {
        if (len > MAX_RETURN_DATA) throw new HostExit("trap", undefined, "return data too large");
        this.charge(this.copyCost(len));
        throw new HostExit("success", this.read(ptr, len));
      },
      revert: (ptr: number, len: number) => {
        if (len > MAX_RETURN_DATA) throw new HostExit("trap", undefined, "revert data too large");
        this.charge(this.copyCost(len));
        throw new HostExit("revert", this.read(ptr, len));
      },
      storage_read: suspending((keyPtr: number, outPtr: number) => {
        const slot = this.read(keyPtr, 32);
        this.charge(this.slotAccess(slot));
        const { ws } = this.ctx;
        const known = ws.storageNow(this.frame.address, slot);
        if (known !== undefined) return this.write(outPtr, known);
        return ws.getStorage(this.frame.address, slot).then((value) => this.write(outPtr, value));
      }),
      storage_write: suspending((keyPtr: number, valuePtr: number) => {
        const slot = this.read(keyPtr, 32);
        const value = this.read(valuePtr, 32);
        const cold = this.slotAccess(slot) === Gas.storageReadCold ? Gas.storageReadCold : 0n;
        const { ws } = this.ctx;
        const known = ws.storageNow(this.frame.address, slot);
        if (known !== undefined) return this.writeSlot(slot, value, known, cold);
        return ws.getStorage(this.frame.address, slot).then((current) => this.writeSlot(slot, value, current, cold));
      }),
      caller: (out: number) => {
        this.charge(Gas.hostCall);
        this.write(out, this.frame.caller);
      },
      origin: (out: number) => {
        this.charge(Gas.hostCall);
        this.write(out, this.ctx.origin);
      },
      self_address: (out: number) => {
        this.charge(Gas.hostCall);
        this.write(out, this.frame.address);
      },
      call_value: (out: number) => {
        this.charge(Gas.hostCall);
        this.write(out, bigintToBytes32(this.frame.value));
      },
      block_number: () => {
        this.charge(Gas.hostCall);
        return this.ctx.env.number;
      },
      block_timestamp: () => {
        this.charge(Gas.hostCall);
        return this.ctx.env.timestamp;
      },
      chain_id: () => {
        this.charge(Gas.hostCall);
        return this.ctx.env.chainId;
      },
      gas_left: () => {
        this.charge(Gas.hostCall);
        return (this.gas.value as bigint) / INK_PER_GAS;
      },
      emit_log: (topicsPtr: number, topicCount: number, dataPtr: number, dataLen: number) => {
        if (topicCount < 0 || topicCount > 4) throw new HostExit("trap", undefined, "at most 4 log topics");
        if (dataLen < 0 || dataLen > MAX_LOG_DATA) throw new HostExit("trap", undefined, "log data too large");
        this.charge(Gas.logBase + Gas.logTopic * BigInt(topicCount) + Gas.logDataByte * BigInt(dataLen));
        const topicBytes = this.read(topicsPtr, 32 * topicCount);
        const topics = Array.from({ length: topicCount }, (_, i) => topicBytes.slice(32 * i, 32 * i + 32));
        const log = { address: this.frame.address, topics, data: this.read(dataPtr, dataLen) };
        this.ctx.logs.push(log);
        this.ctx.tracer?.log(log);
      },
      balance: suspending((addrPtr: number, outPtr: number) => {
        const address = this.read(addrPtr, 20);
        this.charge(this.addressAccess(address) ? Gas.balanceWarm : Gas.balanceCold);
        const { ws } = this.ctx;
        const account = ws.accountNow(address);
        if (account) return this.write(outPtr, bigintToBytes32(account.balance));
        return ws.getAccount(address).then((a) => this.write(outPtr, bigintToBytes32(a.balance)));
      }),
      call: suspending(async (addrPtr: number, valuePtr: number, gas: bigint, dataPtr: number, dataLen: number) => {
        const address = this.read(addrPtr, 20);
        const value = bytesToBigint(this.read(valuePtr, 32));
        if (dataLen > MAX_RETURN_DATA) throw new HostExit("trap", undefined, "call data too large");
        const calldata = this.read(dataPtr, dataLen);
        this.charge((this.addressAccess(address) ? Gas.callWarm : Gas.callCold) + (value > 0n ? Gas.callValue : 0n));
        const available = (this.gas.value as bigint) / INK_PER_GAS;
        const given = gas <= 0n || gas > available ? available : gas;
        this.gas.value = (this.gas.value as bigint) - given * INK_PER_GAS;
        const result = await this.runtime.call(this.ctx, {
          caller: this.frame.address,
          address,
          value,
          calldata,
          gas: given,
          depth: this.frame.depth + 1,
        });
        this.gas.value = (this.gas.value as bigint) + result.gasLeft * INK_PER_GAS;
        this.returnData = result.returnData;
        return result.status === "success" ? 0 : result.status === "revert" ? 1 : 2;
      }),
      returndata_size: () => {
        this.charge(Gas.hostCall);
        return this.returnData.length;
      },
      returndata_copy: (dest: number, offset: number, len: number) =>
        this.copyOut(this.returnData, dest, offset, len, "return data"),
      keccak256: (ptr: number, len: number, out: number) => {
        this.charge(Gas.hashBase + Gas.hashWord * BigInt(Math.ceil(len / 32)));
        this.write(out, keccak256(this.read(ptr, len)));
      },
      blake3: (ptr: number, len: number, out: number) => {
        this.charge(Gas.hashBase + Gas.hashWord * BigInt(Math.ceil(len / 32)));
        this.write(out, blake3(this.read(ptr, len)));
      },
      ai_matmul_i8: (aPtr: number, bPtr: number, outPtr: number, m: number, k: number, n: number) => {
        if (m <= 0 || k <= 0 || n <= 0 || m * k > 1 << 20 || k * n > 1 << 20 || m * n > 1 << 20)
          throw new HostExit("trap", undefined, "matmul dimensions out of range");
        this.charge(BigInt(m) * BigInt(k) * BigInt(n));
        const a = new Int8Array(this.read(aPtr, m * k).buffer);
        const b = new Int8Array(this.read(bPtr, k * n).buffer);
        this.write(outPtr, int32ToBytes(matmulI8(a, b, m, k, n)));
      },
      ai_requantize: (inPtr: number, outPtr: number, len: number, multiplier: number, shift: number) => {
        if (len < 0 || len > 1 << 20 || multiplier < 0 || multiplier > 65535 || shift < 0 || shift > 31)
          throw new HostExit("trap", undefined, "requantize arguments out of range");
        this.charge(BigInt(len));
        const x = bytesToInt32(this.read(inPtr, 4 * len));
        this.write(outPtr, new Uint8Array(requantize(x, multiplier, shift).buffer));
      },
      ai_relu_i8: (ptr: number, len: number) => {
        if (len < 0 || len > 1 << 20) throw new HostExit("trap", undefined, "relu length out of range");
        this.charge(BigInt(len));
        reluI8(this.int8View(ptr, len)); // in place, in the contract's memory
      },
      ai_argmax_i8: (ptr: number, len: number) => {
        if (len <= 0 || len > 1 << 20) throw new HostExit("trap", undefined, "argmax length out of range");
        this.charge(BigInt(len));
        return argmaxI8(this.int8View(ptr, len));
      },
      ai_mlp_forward: (modelPtr: number, modelLen: number, inputPtr: number, outPtr: number) => {
        if (modelLen < 0 || modelLen > 4 << 20) throw new HostExit("trap", undefined, "model too large");
        this.charge(Gas.hostCall + Gas.copyWord * BigInt(Math.ceil(modelLen / 32)));
        let model: ReturnType<typeof parseMlpModel>;
        try {
          model = parseMlpModel(this.read(modelPtr, modelLen));
        } catch (e) {
          throw new HostExit("trap", undefined, (e as Error).message);
        }
        this.charge(mlpPrice(model));
        const inDim = model.layers[0]!.inDim;
        const out = mlpForward(model, new Int8Array(this.read(inputPtr, inDim).buffer));
        this.write(outPtr, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
        return out.length;
      },
      groth16_verify: (vkPtr: number, vkLen: number, proofPtr: number, inputsPtr: number, inputCount: number) => {
        if (vkLen < 0 || vkLen > 64 * 1024 || inputCount < 0 || inputCount > 256)
          throw new HostExit("trap", undefined, "groth16 arguments out of range");
        this.charge(Gas.groth16Base + Gas.groth16PerInput * BigInt(inputCount));
        const vk = this.read(vkPtr, vkLen);
        const proof = this.read(proofPtr, 256);
        const raw = this.read(inputsPtr, 32 * inputCount);
        const inputs = Array.from({ length: inputCount }, (_, i) => raw.slice(32 * i, 32 * i + 32));
        try {
          return verifyGroth16(vk, proof, inputs) ? 1 : 0;
        } catch {
          return 0;
        }
      },
      secp256k1_recover: (hashPtr: number, sigPtr: number, outPtr: number) => {
        this.charge(Gas.secp256k1Recover);
        const hash = this.read(hashPtr, 32);
        const sig = this.read(sigPtr, 65);
        const v = sig[64]!;
        // A bad signature is an answer (0), never a trap: the contract decides what an invalid signature means.
        if (v > 1) return 0;
        let address: Uint8Array;
        try {
          // EIP-2: r and s in range, s ≤ n/2 (recoverAddress refuses the malleable high-s twin).
          address = recoverAddress(hash, {
            r: bytesToBigint(sig.subarray(0, 32)),
            s: bytesToBigint(sig.subarray(32, 64)),
            yParity: v as 0 | 1,
          });
        } catch {
          return 0;
        }
        this.write(outPtr, address);
        return 1;
      },
      sha256: (ptr: number, len: number, out: number) => {
        this.charge(Gas.sha256Base + Gas.sha256Word * BigInt(Math.ceil(len / 32)));
        this.write(out, sha256(this.read(ptr, len)));
      },
      code_hash: suspending((addrPtr: number, outPtr: number) => {
        const address = this.read(addrPtr, 20);
        this.charge(this.addressAccess(address) ? Gas.balanceWarm : Gas.balanceCold);
        const account = this.ctx.ws.accountNow(address);
        const known = account && this.runtime.knownCode(account.codeHash);
        if (account && known) return this.answerCodeHash(account.codeHash, known, outPtr);
        return this.readCodeHash(address, outPtr);
      }),
    };
    return imports as WebAssembly.ModuleImports;
  }

  /**
   * `code_hash`'s answer once the code is known. Hashing a 120 KiB module takes ~0.4 ms: the first hash of a code in
   * a transaction pays keccak256's per-word price, as if the contract hashed it itself (docs/runtime.md).
   */
  private answerCodeHash(codeHash: Uint8Array, info: CodeInfo, outPtr: number): void {
    if (info.words > 0n && !this.runtime.codeHashedInTx(this.ctx, codeHash)) this.charge(Gas.hashWord * info.words);
    this.write(outPtr, info.keccak);
  }

  private async readCodeHash(address: Uint8Array, outPtr: number): Promise<void> {
    const { codeHash } = await this.ctx.ws.getAccount(address);
    const code = await this.ctx.ws.getCode(address);
    this.answerCodeHash(codeHash, this.runtime.codeKeccak(codeHash, code), outPtr);
  }

  /** EIP-2929 style: the first touch of a slot in a transaction is cold. Returns the read price. */
  private slotAccess(slot: Uint8Array): bigint {
    const k = this.addressHex + hex(slot);
    if (this.ctx.warmSlots.has(k)) return Gas.storageReadWarm;
    this.ctx.warmSlots.add(k);
    return Gas.storageReadCold;
  }

  private addressAccess(address: Uint8Array): boolean {
    const k = hex(address);
    if (this.ctx.warmAddresses.has(k)) return true;
    this.ctx.warmAddresses.add(k);
    return false;
  }
}

function isZeroWord(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function int32ToBytes(x: Int32Array): Uint8Array {
  const out = new Uint8Array(x.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < x.length; i++) view.setInt32(4 * i, x[i] as number, true);
  return out;
}

function bytesToInt32(b: Uint8Array): Int32Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Int32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(4 * i, true);
  return out;
}
