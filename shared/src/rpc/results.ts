// The result schema of every JSON-RPC method of the table (methods.ts): the JSON a client receives, exactly. The
// eth_* shapes follow the execution-apis schema (shared/conformance/openrpc.json): quantities without leading zeros,
// data as whole bytes, 20-byte addresses, 32-byte hashes, and null where the spec answers "not found". They are
// narrower than the spec where RustChain always answers one way (lowercase hex, three transaction types, no uncles,
// uint256-bounded quantities) and strict: a field the node does not document is a mismatch. The rustchain_* shapes are
// RustChain's own (docs/node.md, "Result schemas"). The node's handler table is typed from these (validator/src/rpc/
// ethApi.ts), so the compiler checks handlers against them; the replication feed (replication.ts) parses its blocks
// and receipts with them; tests/rpcResults.e2e.test.ts parses a live node's answers with them.
import { z } from "zod";
import type { RpcMethodName } from "./methods.ts";

// ---- scalars ----

/** An unsigned integer as hex without leading zeros, at most 256 bits. */
export const quantity = z.string().regex(/^0x(0|[1-9a-f][0-9a-f]{0,63})$/, "quantity: 0x hex without leading zeros");
/** Bytes as lowercase hex, whole bytes; at most 4 MiB (a contract's whole memory, the most any answer carries). */
export const data = z
  .string()
  .max(2 + 2 * 4 * 1024 * 1024)
  .regex(/^0x([0-9a-f]{2})*$/, "data: 0x hex of whole bytes");
const bytes = (n: number, what: string) => z.string().regex(new RegExp(`^0x[0-9a-f]{${2 * n}}$`), what);
export const address = bytes(20, "20-byte hex address");
export const hash32 = bytes(32, "32-byte hex hash");
const bloom = bytes(256, "256-byte hex bloom");
const blsPublicKey = bytes(48, "48-byte hex BLS public key");
const ecdsaSignature = bytes(65, "65-byte hex secp256k1 signature");
/** A subscription id: 16 random bytes (the node's and the edge's alike). */
const subscriptionId = bytes(16, "16-byte hex subscription id");
const uint = z.number().int().nonnegative();
const basisPoints = uint.max(10_000);
/** The transaction types RustChain accepts: legacy, EIP-2930, EIP-1559. */
const txType = z.enum(["0x0", "0x1", "0x2"]);

// ---- transactions ----

// Bounds on lists a block or receipt carries, so a client (the edge's replica) parsing a hostile answer stays cheap.
const MAX_BLOCK_TRANSACTIONS = 20_000;
const MAX_LOGS_PER_RECEIPT = 10_000;
const MAX_ACCESS_LIST = 10_000;

const accessList = z
  .array(z.strictObject({ address, storageKeys: z.array(hash32).max(MAX_ACCESS_LIST) }))
  .max(MAX_ACCESS_LIST);

/** Where a transaction is: a mined one's block and index, or nulls while it is pending. */
const minedAt = { blockHash: hash32, blockNumber: quantity, blockTimestamp: quantity, transactionIndex: quantity };
const pendingAt = { blockHash: z.null(), blockNumber: z.null(), blockTimestamp: z.null(), transactionIndex: z.null() };

function transactionAt<L extends typeof minedAt | typeof pendingAt>(location: L) {
  const common = {
    hash: hash32,
    nonce: quantity,
    ...location,
    from: address,
    to: address.nullable(),
    value: quantity,
    gas: quantity,
    input: data,
    r: quantity,
    s: quantity,
    v: quantity,
    chainId: quantity,
    gasPrice: quantity,
  };
  const typed = { ...common, yParity: z.enum(["0x0", "0x1"]), accessList };
  return z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("0x0"), ...common }),
    z.strictObject({ type: z.literal("0x1"), ...typed }),
    // gasPrice: the effective price once mined, maxFeePerGas while pending (execution-apis).
    z.strictObject({ type: z.literal("0x2"), ...typed, maxFeePerGas: quantity, maxPriorityFeePerGas: quantity }),
  ]);
}

export const minedTransaction = transactionAt(minedAt);
export const pendingTransaction = transactionAt(pendingAt);
export const transaction = z.union([minedTransaction, pendingTransaction]);

// ---- blocks, logs, receipts ----

/** A block header as JSON (also the `newHeads` notification), with RustChain's slot and proposer. */
export const header = z.strictObject({
  number: quantity,
  hash: hash32,
  parentHash: hash32,
  nonce: bytes(8, "8-byte hex nonce"),
  sha3Uncles: hash32,
  logsBloom: bloom,
  transactionsRoot: hash32,
  stateRoot: hash32,
  receiptsRoot: hash32,
  miner: address,
  difficulty: quantity,
  totalDifficulty: quantity,
  extraData: data,
  size: quantity,
  gasLimit: quantity,
  gasUsed: quantity,
  timestamp: quantity,
  mixHash: hash32,
  baseFeePerGas: quantity,
  uncles: z.array(hash32).max(0),
  slot: quantity,
  proposerIndex: quantity,
});

/** A block: transaction hashes, or whole transactions when asked for them. */
export const block = header.extend({
  transactions: z.union([
    z.array(hash32).max(MAX_BLOCK_TRANSACTIONS),
    z.array(minedTransaction).max(MAX_BLOCK_TRANSACTIONS),
  ]),
});
/** A block with whole transactions: eth_getBlockByNumber(n, true), what the replication feed carries. */
export const fullBlock = header.extend({ transactions: z.array(minedTransaction).max(MAX_BLOCK_TRANSACTIONS) });

export const log = z.strictObject({
  removed: z.boolean(),
  logIndex: quantity,
  transactionIndex: quantity,
  transactionHash: hash32,
  blockHash: hash32,
  blockNumber: quantity,
  address,
  data,
  topics: z.array(hash32).max(4),
});

export const receipt = z.strictObject({
  type: txType,
  transactionHash: hash32,
  transactionIndex: quantity,
  blockHash: hash32,
  blockNumber: quantity,
  from: address,
  to: address.nullable(),
  cumulativeGasUsed: quantity,
  gasUsed: quantity,
  contractAddress: address.nullable(),
  logs: z.array(log).max(MAX_LOGS_PER_RECEIPT),
  logsBloom: bloom,
  status: z.enum(["0x0", "0x1"]),
  effectiveGasPrice: quantity,
});

const feeHistory = z.strictObject({
  oldestBlock: quantity,
  baseFeePerGas: z.array(quantity),
  gasUsedRatio: z.array(z.number().min(0).max(1)),
  reward: z.array(z.array(quantity)).optional(),
});

const accountProof = z.strictObject({
  address,
  accountProof: z.array(data),
  balance: quantity,
  codeHash: hash32,
  nonce: quantity,
  storageHash: hash32,
  storageProof: z.array(z.strictObject({ key: hash32, value: quantity, proof: z.array(data) })),
});

const syncing = z.union([
  z.literal(false),
  z.strictObject({ startingBlock: quantity, currentBlock: quantity, highestBlock: quantity }),
]);

/** Filter ids are quantities, so clients can send them back through quantity validation. */
const filterId = quantity;

// ---- rustchain_* ----

const checkpointAt = z.strictObject({ slot: quantity, number: quantity, hash: hash32 });

const finalityStatus = z.strictObject({
  currentSlot: quantity,
  headSlot: quantity,
  headNumber: quantity,
  headHash: hash32,
  justified: checkpointAt,
  finalized: checkpointAt,
  /** Slots since the finalized checkpoint's slot, as a JSON number. */
  finalityLagSlots: uint,
});

const validator = z.strictObject({
  index: uint,
  publicKey: blsPublicKey,
  feeRecipient: address,
  stake: quantity,
  aiScoreBps: basisPoints,
  slashed: z.boolean(),
  weight: quantity,
  /** The same as `weight` (its older name). */
  proposerWeight: quantity,
});

const aiScores = z.strictObject({
  enabled: z.boolean(),
  /** The task's model as genesis names it (null without a task): its IPFS CID and shape. */
  model: z.strictObject({ cid: z.string(), inputs: uint, outputs: uint }).nullable(),
  epoch: quantity,
  validators: z.array(z.strictObject({ index: uint, feeRecipient: address, aiScoreBps: basisPoints })),
});

/** What an edge replica needs to answer the fee methods as the node does. */
const feeParams = z.strictObject({
  minBaseFeePerGas: quantity,
  elasticityMultiplier: quantity,
  baseFeeChangeDenominator: quantity,
  suggestedTip: quantity,
  maxFeeHistoryBlocks: quantity,
});

/** The certificate proving a block final: the checkpoint covering it, its parent, and the encoded certificate. */
const finalityCertificate = z.strictObject({
  checkpoint: checkpointAt,
  /** `number` is null when this node does not hold the parent checkpoint's header (a warp-synced node). */
  parent: z.strictObject({ slot: quantity, hash: hash32, number: quantity.nullable() }),
  kind: z.enum(["link", "fast"]),
  aggregates: uint.min(1),
  certificate: data,
});

/** A bridge message with the signatures of the current guardian set this node holds; `vaa` once a quorum signed. */
export const bridgeMessage = z.strictObject({
  digest: hash32,
  emitterChain: uint.max(0xffff),
  emitterAddress: hash32,
  /** A u64 in decimal (Wormhole's notation). */
  sequence: z.string().regex(/^(0|[1-9][0-9]{0,19})$/, "decimal u64"),
  body: data,
  guardianSetIndex: uint,
  quorum: uint.min(1),
  signatures: z.array(z.strictObject({ guardianIndex: uint.max(255), signature: ecdsaSignature })),
  vaa: data.nullable(),
});

// ---- debug_* ----

/** A log as geth's callTracer reports it (`withLog`): `position` is how many calls the frame had made before it. */
export const callLog = z.strictObject({ address, topics: z.array(hash32).max(4), data, position: quantity });

const MAX_TRACE_CHILDREN = 100_000;

/**
 * One frame of geth's callTracer (eth/tracers/native/call.go, `callFrame`), in geth's key order: `to` is absent for
 * a failed creation, `output` for a failure other than a revert (or an empty success), `error`/`revertReason` unless
 * the frame failed or reverted with `Error(string)` or `Panic(uint256)`, `calls`/`logs` when there are none. RustChain
 * only has CALL and CREATE frames (docs/node.md, "Traces").
 */
export const callFrame = z.strictObject({
  from: address,
  gas: quantity,
  gasUsed: quantity,
  to: address.optional(),
  input: data,
  output: data.optional(),
  error: z.string().min(1).optional(),
  revertReason: z.string().min(1).optional(),
  get calls() {
    return z.array(callFrame).min(1).max(MAX_TRACE_CHILDREN).optional();
  },
  logs: z.array(callLog).min(1).max(MAX_LOGS_PER_RECEIPT).optional(),
  value: quantity,
  type: z.enum(["CALL", "CREATE"]),
});
export type CallFrameJson = z.infer<typeof callFrame>;
export type CallLogJson = z.infer<typeof callLog>;

// ---- the table ----

/** Each method's result schema; the compiler checks it names exactly the methods of `rpcMethods`. */
export const rpcResults = {
  web3_clientVersion: z.string().min(1),
  web3_sha3: hash32,
  net_version: z.string().regex(/^[1-9][0-9]*$/, "decimal chain id"),
  net_listening: z.boolean(),
  net_peerCount: quantity,
  eth_chainId: quantity,
  eth_syncing: syncing,
  eth_blockNumber: quantity,
  eth_gasPrice: quantity,
  eth_maxPriorityFeePerGas: quantity,
  eth_feeHistory: feeHistory,
  eth_accounts: z.array(address),
  eth_getBalance: quantity,
  eth_getTransactionCount: quantity,
  eth_getCode: data,
  // A storage slot is one 32-byte word.
  eth_getStorageAt: hash32,
  eth_call: data,
  eth_estimateGas: quantity,
  eth_sendRawTransaction: hash32,
  eth_getTransactionByHash: transaction.nullable(),
  eth_getTransactionByBlockHashAndIndex: minedTransaction.nullable(),
  eth_getTransactionByBlockNumberAndIndex: minedTransaction.nullable(),
  eth_getTransactionReceipt: receipt.nullable(),
  eth_getBlockReceipts: z.array(receipt).nullable(),
  eth_getBlockByNumber: block.nullable(),
  eth_getBlockByHash: block.nullable(),
  eth_getBlockTransactionCountByNumber: quantity.nullable(),
  eth_getBlockTransactionCountByHash: quantity.nullable(),
  eth_getUncleCountByBlockNumber: z.literal("0x0").nullable(),
  eth_getUncleCountByBlockHash: z.literal("0x0").nullable(),
  eth_getLogs: z.array(log),
  eth_getProof: accountProof,
  eth_newFilter: filterId,
  eth_newBlockFilter: filterId,
  eth_newPendingTransactionFilter: filterId,
  // Block or pending-transaction hashes for those filters, logs for a log filter.
  eth_getFilterChanges: z.union([z.array(hash32), z.array(log)]),
  eth_getFilterLogs: z.array(log),
  eth_uninstallFilter: z.boolean(),
  eth_subscribe: subscriptionId,
  eth_unsubscribe: z.boolean(),
  rustchain_finalityStatus: finalityStatus,
  rustchain_validators: z.array(validator),
  rustchain_aiScores: aiScores,
  rustchain_feeParams: feeParams,
  rustchain_getFinalityCertificate: finalityCertificate.nullable(),
  rustchain_getFinalityCertificates: z.array(data).max(64),
  rustchain_getBridgeSignatures: bridgeMessage.nullable(),
  rustchain_getBridgeMessage: bridgeMessage.nullable(),
  debug_traceTransaction: callFrame,
  debug_traceCall: callFrame,
} satisfies { [M in RpcMethodName]: z.ZodType };

/** The JSON result of `method`, as a TypeScript type. */
export type RpcResult<M extends RpcMethodName> = z.infer<(typeof rpcResults)[M]>;

export type HeaderJson = z.infer<typeof header>;
export type BlockJson = z.infer<typeof block>;
export type MinedTransactionJson = z.infer<typeof minedTransaction>;
export type PendingTransactionJson = z.infer<typeof pendingTransaction>;
export type LogJson = z.infer<typeof log>;
export type ReceiptJson = z.infer<typeof receipt>;
export type BridgeMessageJson = z.infer<typeof bridgeMessage>;

/** Parse a result of `method` (throws a ZodError naming the path of the first mismatch). */
export function parseResult<M extends RpcMethodName>(method: M, value: unknown): RpcResult<M> {
  return rpcResults[method].parse(value) as RpcResult<M>;
}
