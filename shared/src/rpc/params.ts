// JSON-RPC parameter validators. Each returns the parsed value or throws -32602 with a message naming the argument,
// as geth does ("invalid argument 0: ..."). Every input is bounded.
import { decodeHexData } from "../hex.ts";
import { rpcErrors } from "../rpcErrors.ts";
import type { AccessListItem } from "../transaction.ts";

export type Param<T> = (value: unknown, index: number) => T;

const QUANTITY_RE = /^0x(0|[1-9a-fA-F][0-9a-fA-F]{0,63})$/;

const fail = (i: number, msg: string): never => {
  throw rpcErrors.invalidParams(`invalid argument ${i}: ${msg}`);
};

export const quantity: Param<bigint> = (v, i) => {
  if (typeof v !== "string" || !QUANTITY_RE.test(v)) return fail(i, "hex string without leading zeros expected");
  return BigInt(v);
};

export const data =
  (maxBytes = 1024 * 1024): Param<Uint8Array> =>
  (v, i) => {
    if (typeof v !== "string") return fail(i, "hex string of whole bytes expected");
    if ((v.length - 2) / 2 > maxBytes) return fail(i, `data longer than ${maxBytes} bytes`);
    return decodeHexData(v) ?? fail(i, "hex string of whole bytes expected");
  };

const fixedData =
  (len: number, what: string): Param<Uint8Array> =>
  (v, i) => {
    if (typeof v !== "string" || v.length !== 2 + 2 * len) return fail(i, `${what} expected`);
    return decodeHexData(v) ?? fail(i, `${what} expected`);
  };

export const address = fixedData(20, "20-byte hex address");
export const hash32 = fixedData(32, "32-byte hex hash");

export const bool: Param<boolean> = (v, i) => (typeof v === "boolean" ? v : fail(i, "boolean expected"));

export type BlockTag = "latest" | "pending" | "earliest" | "safe" | "finalized" | bigint;
const TAGS = new Set(["latest", "pending", "earliest", "safe", "finalized"]);

export const blockTag: Param<BlockTag> = (v, i) => {
  if (typeof v === "string" && TAGS.has(v)) return v as BlockTag;
  if (typeof v === "string" && v.startsWith("0x")) return quantity(v, i);
  return fail(i, "block number or tag expected");
};

/** EIP-1898 block identifier: a tag or number, or {blockHash, requireCanonical} / {blockNumber}. */
export type BlockId = { tag: BlockTag } | { hash: Uint8Array; requireCanonical: boolean };
export const blockId: Param<BlockId> = (v, i) => {
  // A bare 32-byte hash is a block hash (execution-apis BlockNumberOrTagOrHash), as geth reads it.
  if (typeof v === "string" && v.length === 66) return { hash: hash32(v, i), requireCanonical: false };
  if (typeof v === "string") return { tag: blockTag(v, i) };
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ("blockHash" in o) {
      if (o.requireCanonical !== undefined && typeof o.requireCanonical !== "boolean")
        fail(i, "requireCanonical must be boolean");
      return { hash: hash32(o.blockHash, i), requireCanonical: o.requireCanonical === true };
    }
    if ("blockNumber" in o) return { tag: quantity(o.blockNumber, i) };
  }
  return fail(i, "block number, tag or EIP-1898 object expected");
};

export interface CallRequest {
  from?: Uint8Array;
  to?: Uint8Array | null;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  value?: bigint;
  data?: Uint8Array;
  nonce?: bigint;
  accessList?: AccessListItem[];
}

const accessList: Param<AccessListItem[]> = (v, i) => {
  if (!Array.isArray(v) || v.length > 1024) return fail(i, "access list of at most 1024 entries expected");
  return v.map((item) => {
    if (!item || typeof item !== "object") return fail(i, "access list entry expected");
    const o = item as Record<string, unknown>;
    const keys = o.storageKeys ?? [];
    if (!Array.isArray(keys) || keys.length > 1024) return fail(i, "storageKeys must be an array");
    return { address: address(o.address, i), storageKeys: keys.map((k) => hash32(k, i)) };
  });
};

export const callRequest: Param<CallRequest> = (v, i) => {
  if (!v || typeof v !== "object" || Array.isArray(v)) return fail(i, "transaction call object expected");
  const o = v as Record<string, unknown>;
  const opt = <T>(k: string, p: Param<T>): T | undefined =>
    o[k] === undefined || o[k] === null ? undefined : p(o[k], i);
  if (o.input !== undefined && o.data !== undefined && o.input !== o.data)
    fail(i, "both input and data set with different values");
  return {
    from: opt("from", address),
    to: o.to === null ? null : opt("to", address),
    gas: opt("gas", quantity),
    gasPrice: opt("gasPrice", quantity),
    maxFeePerGas: opt("maxFeePerGas", quantity),
    maxPriorityFeePerGas: opt("maxPriorityFeePerGas", quantity),
    value: opt("value", quantity),
    data: opt("input", data()) ?? opt("data", data()),
    nonce: opt("nonce", quantity),
    accessList: opt("accessList", accessList),
  };
};

export interface FilterRequest {
  fromBlock?: BlockTag;
  toBlock?: BlockTag;
  blockHash?: Uint8Array;
  addresses: Uint8Array[];
  /** Per position: null = any, otherwise any of these topics. */
  topics: (Uint8Array[] | null)[];
}

export const filterRequest: Param<FilterRequest> = (v, i) => {
  if (!v || typeof v !== "object" || Array.isArray(v)) return fail(i, "filter object expected");
  const o = v as Record<string, unknown>;
  let addresses: Uint8Array[] = [];
  if (Array.isArray(o.address)) {
    if (o.address.length > 1000) fail(i, "too many addresses");
    addresses = o.address.map((a) => address(a, i));
  } else if (o.address !== undefined && o.address !== null) addresses = [address(o.address, i)];
  const topics: (Uint8Array[] | null)[] = [];
  if (o.topics !== undefined && o.topics !== null) {
    if (!Array.isArray(o.topics) || o.topics.length > 4) fail(i, "topics must be an array of at most 4 entries");
    for (const t of o.topics as unknown[]) {
      if (t === null) topics.push(null);
      else if (Array.isArray(t)) {
        if (t.length > 1000) fail(i, "too many topic alternatives");
        topics.push(t.length ? t.map((x) => hash32(x, i)) : null);
      } else topics.push([hash32(t, i)]);
    }
  }
  if (o.blockHash !== undefined && (o.fromBlock !== undefined || o.toBlock !== undefined)) {
    fail(i, "cannot specify both blockHash and fromBlock/toBlock");
  }
  return {
    fromBlock: o.fromBlock === undefined ? undefined : blockTag(o.fromBlock, i),
    toBlock: o.toBlock === undefined ? undefined : blockTag(o.toBlock, i),
    blockHash: o.blockHash === undefined ? undefined : hash32(o.blockHash, i),
    addresses,
    topics,
  };
};

export const percentiles: Param<number[]> = (v, i) => {
  if (!Array.isArray(v) || v.length > 100) return fail(i, "array of at most 100 percentiles expected");
  let prev = -1;
  for (const p of v) {
    if (typeof p !== "number" || p < 0 || p > 100 || p < prev)
      fail(i, "percentiles must be increasing numbers in [0, 100]");
    prev = p as number;
  }
  return v as number[];
};

export const blockCount: Param<bigint> = (v, i) => {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
  return quantity(v, i);
};

export type SubscriptionKind = "newHeads" | "logs" | "newPendingTransactions";
export const subscriptionKind: Param<SubscriptionKind> = (v, i) =>
  v === "newHeads" || v === "logs" || v === "newPendingTransactions" ? v : fail(i, "unsupported subscription type");

export const hashList: Param<Uint8Array[]> = (v, i) => {
  if (!Array.isArray(v) || v.length > 1024) return fail(i, "array of at most 1024 storage keys expected");
  return v.map((x) => hash32(x, i));
};

/** A storage slot: any hex value up to 32 bytes (clients send both quantities and zero-padded words). */
export const slot: Param<bigint> = (v, i) => {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) return fail(i, "storage slot expected");
  return BigInt(v);
};

export const anything: Param<unknown> = (v) => v;
export const string: Param<string> = (v, i) =>
  typeof v === "string" && v.length <= 256 ? v : fail(i, "string expected");

/** A list of at most `max` strings of at most 256 characters each. */
export const stringList =
  (max: number): Param<string[]> =>
  (v, i) => {
    if (!Array.isArray(v) || v.length > max) return fail(i, `list of at most ${max} strings expected`);
    return v.map((x) => (typeof x === "string" && x.length <= 256 ? x : fail(i, "list of strings expected")));
  };

/**
 * geth's TraceConfig (debug_traceTransaction, debug_traceCall): the tracer's name and options, and a timeout. The
 * struct logger's own options (disableStorage, enableMemory...) and `reexec` are accepted and ignored, as geth ignores
 * what a tracer does not use; the call overrides of debug_traceCall are refused rather than silently dropped.
 */
export interface TraceConfig {
  /** Absent: geth's default struct logger. */
  tracer?: string;
  onlyTopCall: boolean;
  withLog: boolean;
  /** From a Go duration ("5s", "300ms", "1m"); absent: the node's default. */
  timeoutMs?: number;
}

const IGNORED_TRACE_OPTIONS = new Set([
  "disableStorage",
  "disableStack",
  "enableMemory",
  "enableReturnData",
  "debug",
  "limit",
  "reexec",
  "txIndex",
]);
const UNSUPPORTED_TRACE_OPTIONS = new Set(["stateOverrides", "blockOverrides", "overrides"]);
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration as time.ParseDuration reads the common forms ("5s", "1m30s", "250ms"), in milliseconds. */
function goDuration(v: unknown, i: number): number {
  if (typeof v !== "string" || v.length > 32 || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v))
    return fail(i, 'timeout: a duration such as "5s" or "500ms" expected');
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (DURATION_UNITS[m[2]!] ?? 0);
  return ms;
}

export const traceConfig: Param<TraceConfig> = (v, i) => {
  if (!v || typeof v !== "object" || Array.isArray(v)) return fail(i, "trace config object expected");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (UNSUPPORTED_TRACE_OPTIONS.has(k)) fail(i, `${k} is not supported`);
    if (k !== "tracer" && k !== "tracerConfig" && k !== "timeout" && !IGNORED_TRACE_OPTIONS.has(k))
      fail(i, `unknown trace option ${k.slice(0, 64)}`);
  }
  if (o.tracer !== undefined && (typeof o.tracer !== "string" || o.tracer.length > 256))
    fail(i, "tracer: a tracer name expected");
  const cfg = o.tracerConfig ?? {};
  if (!cfg || typeof cfg !== "object" || Array.isArray(cfg)) return fail(i, "tracerConfig: an object expected");
  const c = cfg as Record<string, unknown>;
  for (const k of ["onlyTopCall", "withLog"] as const)
    if (c[k] !== undefined && typeof c[k] !== "boolean") fail(i, `tracerConfig.${k}: boolean expected`);
  return {
    tracer: o.tracer as string | undefined,
    onlyTopCall: c.onlyTopCall === true,
    withLog: c.withLog === true,
    timeoutMs: o.timeout === undefined ? undefined : goDuration(o.timeout, i),
  };
};
