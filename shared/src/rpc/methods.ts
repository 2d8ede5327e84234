// The JSON-RPC method table shared by the node and the edge: each method's parameters, validated the same way in
// both places, and (results.ts, `rpcResults`) each method's result schema. Handlers live with their implementations;
// these tables are the contract.
import { rpcErrors } from "../rpcErrors.ts";
import type { Param } from "./params.ts";
import * as p from "./params.ts";

type Parsed<T extends readonly Param<unknown>[]> = { [K in keyof T]: T[K] extends Param<infer V> ? V : never };

export interface MethodSpec<T extends readonly Param<unknown>[] = readonly Param<unknown>[]> {
  params: T;
  /** How many leading parameters are required; the rest are optional. */
  required: number;
}

const m = <const T extends readonly Param<unknown>[]>(required: number, ...params: T): MethodSpec<T> => ({
  params,
  required,
});

export const rpcMethods = {
  web3_clientVersion: m(0),
  web3_sha3: m(1, p.data()),
  net_version: m(0),
  net_listening: m(0),
  net_peerCount: m(0),
  eth_chainId: m(0),
  eth_syncing: m(0),
  eth_blockNumber: m(0),
  eth_gasPrice: m(0),
  eth_maxPriorityFeePerGas: m(0),
  eth_feeHistory: m(2, p.blockCount, p.blockTag, p.percentiles),
  eth_accounts: m(0),
  eth_getBalance: m(1, p.address, p.blockId),
  eth_getTransactionCount: m(1, p.address, p.blockId),
  eth_getCode: m(1, p.address, p.blockId),
  eth_getStorageAt: m(2, p.address, p.slot, p.blockId),
  eth_call: m(1, p.callRequest, p.blockId),
  eth_estimateGas: m(1, p.callRequest, p.blockId),
  eth_sendRawTransaction: m(1, p.data(128 * 1024)),
  eth_getTransactionByHash: m(1, p.hash32),
  eth_getTransactionByBlockHashAndIndex: m(2, p.hash32, p.quantity),
  eth_getTransactionByBlockNumberAndIndex: m(2, p.blockTag, p.quantity),
  eth_getTransactionReceipt: m(1, p.hash32),
  eth_getBlockReceipts: m(1, p.blockId),
  eth_getBlockByNumber: m(2, p.blockTag, p.bool),
  eth_getBlockByHash: m(2, p.hash32, p.bool),
  eth_getBlockTransactionCountByNumber: m(1, p.blockTag),
  eth_getBlockTransactionCountByHash: m(1, p.hash32),
  eth_getUncleCountByBlockNumber: m(1, p.blockTag),
  eth_getUncleCountByBlockHash: m(1, p.hash32),
  eth_getLogs: m(1, p.filterRequest),
  eth_getProof: m(3, p.address, p.hashList, p.blockId),
  eth_newFilter: m(1, p.filterRequest),
  eth_newBlockFilter: m(0),
  eth_newPendingTransactionFilter: m(0),
  eth_getFilterChanges: m(1, p.quantity),
  eth_getFilterLogs: m(1, p.quantity),
  eth_uninstallFilter: m(1, p.quantity),
  eth_subscribe: m(1, p.subscriptionKind, p.anything),
  eth_unsubscribe: m(1, p.string),
  // RustChain's own namespace: consensus state.
  rustchain_finalityStatus: m(0),
  rustchain_validators: m(0),
  rustchain_aiScores: m(0),
  rustchain_feeParams: m(0),
  rustchain_getFinalityCertificate: m(1, p.blockId),
  rustchain_getFinalityCertificates: m(1, p.quantity, p.quantity),
  // The bridge (docs/bridge.md): a message and the committee signatures this node holds, its VAA once a quorum signed.
  rustchain_getBridgeSignatures: m(1, p.hash32),
  rustchain_getBridgeMessage: m(3, p.quantity, p.hash32, p.quantity),
  // Traces (geth's debug namespace, callTracer only; docs/node.md, "Traces"): off unless the node runs --rpc-debug.
  debug_traceTransaction: m(1, p.hash32, p.traceConfig),
  debug_traceCall: m(1, p.callRequest, p.blockId, p.traceConfig),
} as const;

export type RpcMethodName = keyof typeof rpcMethods;

/**
 * The debug namespace: answered only by a node started with --rpc-debug, never by the edge (docs/node.md, "Traces").
 * Elsewhere its methods are unknown (-32601, geth's answer when the namespace is not enabled) and never dispatched.
 */
export const DEBUG_METHODS: ReadonlySet<string> = new Set<RpcMethodName>(["debug_traceTransaction", "debug_traceCall"]);

/** The method table without the debug namespace: the edge's, and a node's without --rpc-debug. */
export const publicRpcMethods: Readonly<Record<string, MethodSpec>> = Object.fromEntries(
  Object.entries(rpcMethods).filter(([name]) => !DEBUG_METHODS.has(name)),
);
export type RpcParams<M extends RpcMethodName> = Parsed<(typeof rpcMethods)[M]["params"]>;

export function isRpcMethod(name: string): name is RpcMethodName {
  return Object.hasOwn(rpcMethods, name);
}

/** Validate raw JSON-RPC params for `method`; throws -32602 on any mismatch. */
export function parseParams<M extends RpcMethodName>(method: M, raw: unknown): RpcParams<M> {
  return parseParamsWith(rpcMethods[method], raw) as RpcParams<M>;
}

/** Validate raw JSON-RPC params against a spec (any method table's); throws -32602 on any mismatch. */
export function parseParamsWith(spec: MethodSpec, raw: unknown): unknown[] {
  const list = raw === undefined || raw === null ? [] : raw;
  if (!Array.isArray(list)) throw rpcErrors.invalidParams("invalid params: expected an array");
  if (list.length > spec.params.length)
    throw rpcErrors.invalidParams(`too many arguments, want at most ${spec.params.length}`);
  if (list.length < spec.required) throw rpcErrors.invalidParams(`missing value for required argument ${list.length}`);
  return spec.params.map((parse, i) =>
    list[i] === undefined || (list[i] === null && i >= spec.required) ? undefined : parse(list[i], i),
  );
}

/** A method table with its own methods (the admin API's): each method's parameter spec. */
export const methodSpec = m;
