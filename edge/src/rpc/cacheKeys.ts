// The per-call cache's keys (the contract of ResponseCache: a key identifies exactly one answer), for the pipeline
// (edge/src/rpc/pipeline.ts):
// - `i|<method>|<params>`: an immutable answer; block tags in params are replaced by the block number the answer was
//   pinned at, so `eth_getBlockByNumber("finalized")` and `eth_getBlockByNumber("0x5")` share an entry once block 5 is
//   finalized;
// - `h|<block hash>|<method>|<params>`: any other answer, under the hash of the block it was computed at (`pin`).
// Lookups happen before the replica is asked, with the chain tips read once per body / message: a tag resolves to the
// tip's number and hash; a lookup can only hit an entry stored for that very block.
import { toQuantity } from "@rustchain/shared/hex";
import { type RpcMethodName, rpcMethods } from "@rustchain/shared/rpc/methods";
import type { BlockRef, ChainTips } from "../app/contract.ts";

const TAGS: ReadonlySet<string> = new Set(["latest", "pending", "earliest", "safe", "finalized"]);

/** A block argument inside the normalised params: a tag, a block number (quantity) or a block hash. */
class BlockSlot {
  constructor(readonly value: string) {}
  get isTag(): boolean {
    return TAGS.has(this.value);
  }
}

/** How a method's answer is tied to the chain, with its params normalised for a key. */
interface CacheShape {
  /** Params with hex lowercased, defaults filled and block arguments as BlockSlot. */
  norm: unknown[];
  slots: BlockSlot[];
  /** The answer is about this block (a by-hash read): cacheable under its hash. */
  blockHash?: string;
  /** The answer is tied to where a transaction landed or to canonicality: only immutable answers are cached. */
  immutableOnly?: boolean;
  /** No block argument: the answer is computed at the head. */
  atHead?: boolean;
}

const HEX_RE = /^0x[0-9a-fA-F]*$/;
const lowerHex = (v: unknown): unknown => {
  if (typeof v === "string") return HEX_RE.test(v) ? v.toLowerCase() : v;
  if (Array.isArray(v)) return v.map(lowerHex);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = lowerHex((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
};

/** Where each cacheable method takes its block argument. */
const BLOCK_ARG: Partial<
  Record<RpcMethodName, { kind: "tag" | "id" | "hash" | "tx" | "logs" | "head"; index: number }>
> = {
  eth_getBlockByNumber: { kind: "tag", index: 0 },
  eth_getBlockTransactionCountByNumber: { kind: "tag", index: 0 },
  eth_getTransactionByBlockNumberAndIndex: { kind: "tag", index: 0 },
  eth_feeHistory: { kind: "tag", index: 1 },
  eth_getBlockByHash: { kind: "hash", index: 0 },
  eth_getBlockTransactionCountByHash: { kind: "hash", index: 0 },
  eth_getTransactionByBlockHashAndIndex: { kind: "hash", index: 0 },
  eth_getTransactionByHash: { kind: "tx", index: 0 },
  eth_getTransactionReceipt: { kind: "tx", index: 0 },
  eth_getBlockReceipts: { kind: "id", index: 0 },
  eth_getBalance: { kind: "id", index: 1 },
  eth_getTransactionCount: { kind: "id", index: 1 },
  eth_getCode: { kind: "id", index: 1 },
  eth_getStorageAt: { kind: "id", index: 2 },
  eth_getLogs: { kind: "logs", index: 0 },
  eth_gasPrice: { kind: "head", index: 0 },
  eth_maxPriorityFeePerGas: { kind: "head", index: 0 },
};

/** The normalised shape of a call whose params already passed `parseParams`, or undefined when not cacheable. */
export function cacheShape(method: RpcMethodName, params: unknown[]): CacheShape | undefined {
  const arg = BLOCK_ARG[method];
  if (!arg) return undefined;
  const required = rpcMethods[method].required;
  // parseParams reads a null optional argument as absent; so does the key.
  const list = params.map((v, i) => (v === null && i >= required ? undefined : v));
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop();
  const norm = list.map((v) => (v === undefined ? null : lowerHex(v)));
  const shape: CacheShape = { norm, slots: [] };
  const slot = (value: string) => {
    const s = new BlockSlot(value);
    shape.slots.push(s);
    return s;
  };
  switch (arg.kind) {
    case "head":
      shape.atHead = true;
      return shape;
    case "tx":
      shape.immutableOnly = true;
      return shape;
    case "hash":
      shape.blockHash = norm[arg.index] as string;
      return shape;
    case "tag":
      norm[arg.index] = slot(norm[arg.index] as string);
      return shape;
    case "id": {
      const v = norm[arg.index];
      if (v === undefined || v === null) {
        norm[arg.index] = slot("latest");
      } else if (typeof v === "string" && v.length === 66) {
        shape.blockHash = v;
      } else if (typeof v === "string") {
        norm[arg.index] = slot(v);
      } else {
        const o = v as Record<string, unknown>;
        if (typeof o.blockNumber === "string") norm[arg.index] = slot(o.blockNumber);
        else if (typeof o.blockHash === "string") {
          if (o.requireCanonical === true) shape.immutableOnly = true;
          else {
            norm[arg.index] = o.blockHash;
            shape.blockHash = o.blockHash;
          }
        } else return undefined;
      }
      while (norm.length <= arg.index) norm.push(null);
      return shape;
    }
    case "logs": {
      const f = { ...(norm[0] as Record<string, unknown>) };
      if (typeof f.blockHash === "string") {
        shape.blockHash = f.blockHash;
      } else {
        f.fromBlock = slot(typeof f.fromBlock === "string" ? f.fromBlock : "latest");
        f.toBlock = slot(typeof f.toBlock === "string" ? f.toBlock : "latest");
        // Two different moving tags (e.g. safe..latest) cannot be pinned to one block: not cached.
        const tags = new Set(shape.slots.filter((s) => s.isTag && s.value !== "earliest").map((s) => s.value));
        if (tags.size > 1) return undefined;
      }
      norm[0] = f;
      return shape;
    }
  }
}

/** Serialise the shape with each block slot replaced; undefined when a slot cannot be resolved. */
function render(method: string, shape: CacheShape, resolve: (s: BlockSlot) => number | undefined): string | undefined {
  let unresolved = false;
  const text = JSON.stringify(shape.norm, (_k, v) => {
    if (v instanceof BlockSlot) {
      const n = resolve(v);
      if (n === undefined) unresolved = true;
      return n === undefined ? null : toQuantity(n);
    }
    return v;
  });
  return unresolved ? undefined : `${method}|${text}`;
}

const numberOf = (s: BlockSlot): number | undefined =>
  s.isTag ? (s.value === "earliest" ? 0 : undefined) : Number.parseInt(s.value, 16);

function tipOf(s: BlockSlot, tips: ChainTips): { number: number; hash?: string } | undefined {
  const known = [tips.head, tips.safe, tips.finalized].filter((r): r is BlockRef => r !== null);
  const byNumber = (n: number) => ({ number: n, hash: known.find((r) => r.number === n)?.hash });
  switch (s.value) {
    case "latest":
    case "pending":
      return tips.head ?? undefined;
    case "safe":
      return tips.safe ?? undefined;
    case "finalized":
      return tips.finalized ?? undefined;
    case "earliest":
      return byNumber(0);
    default:
      return byNumber(Number.parseInt(s.value, 16));
  }
}

/** Keys under which an answer for this call may already be cached, given the tips read for this body. */
export function lookupKeys(method: string, shape: CacheShape, tips: ChainTips): string[] {
  const keys: string[] = [];
  const finalized = tips.finalized?.number ?? -1;
  if (shape.immutableOnly) {
    const k = render(method, shape, () => undefined);
    return k && shape.slots.length === 0 ? [`i|${k}`] : [];
  }
  const resolved = shape.slots.map((s) => tipOf(s, tips));
  if (resolved.some((r) => r === undefined)) return [];
  const numbers = resolved.map((r) => (r as { number: number }).number);
  const render_ = () => render(method, shape, (s) => numbers[shape.slots.indexOf(s)]);
  const body = render_();
  if (body === undefined) return [];
  const immutablePossible = shape.atHead ? false : numbers.every((n) => n <= finalized);
  if (shape.blockHash || immutablePossible) keys.push(`i|${body}`);
  let hash = shape.blockHash;
  if (!hash && !shape.atHead && shape.slots.length > 0) {
    // A single block argument (or one moving tag of a log range): the block it resolves to.
    const tagIndex = shape.slots.findIndex((s) => s.isTag && s.value !== "earliest");
    const pinned = resolved[tagIndex >= 0 ? tagIndex : shape.slots.length - 1];
    hash = method === "eth_getLogs" && tagIndex < 0 ? tips.head?.hash : pinned?.hash;
  }
  if (shape.atHead) hash = tips.head?.hash;
  if (hash) keys.push(`h|${hash}|${body}`);
  return keys;
}

/** The key an answer is stored under, or undefined when it must not be cached. */
export function storeKey(
  method: string,
  shape: CacheShape,
  pin: BlockRef | undefined,
  immutable: boolean,
): string | undefined {
  const needsPin = shape.slots.some((s) => s.isTag && s.value !== "earliest");
  if (needsPin && !pin) return undefined;
  const body = render(method, shape, (s) => (s.isTag && s.value !== "earliest" ? pin?.number : numberOf(s)));
  if (body === undefined) return undefined;
  if (immutable) return `i|${body}`;
  if (shape.immutableOnly || !pin) return undefined;
  return `h|${pin.hash}|${body}`;
}
