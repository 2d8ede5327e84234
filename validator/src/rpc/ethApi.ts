// Handlers for the Ethereum JSON-RPC method table, backed by the chain, state and mempool.
import {
  type BlockHeader,
  type BlockId,
  type BlockTag,
  blake3,
  bloomContains,
  bytesToHex,
  type CallRequest,
  decodeTransaction,
  type FilterRequest,
  formatLog,
  formatReceipt,
  formatTransaction,
  keccak256,
  nextBaseFee,
  type RpcMethodName,
  type RpcParams,
  rpcErrors,
  rpcParams,
  StateError,
  toQuantity,
} from "@rustchain/shared";
import {
  type FeeHistoryBlock,
  feeHistory,
  LogMatcher,
  type LogRange,
  logRange,
  type TipNumbers,
  tagNumber,
} from "@rustchain/shared/rpc/chainQueries";
import type { RpcResult } from "@rustchain/shared/rpc/results";
import type { Chain } from "../chain/chain.ts";
import { estimateGas, ethCall, type SimulationInput } from "../execution/callSimulator.ts";
import type { SenderRecovery } from "../execution/senderRecovery.ts";
import type { Mempool } from "../mempool/mempool.ts";
import type { TxJournal } from "../mempool/txJournal.ts";
import { blockEnvOf } from "../runtime/blockEnv.ts";
import type { ContractRuntime } from "../runtime/contractRuntime.ts";
import type { Account } from "../state/account.ts";
import type { StateDb } from "../state/stateDb.ts";
import type { StateRetention } from "../state/stateRetention.ts";
import { formatLoadedBlock, formatLoadedReceipts, type LoadedBlock, loadBlock } from "./blockFormat.ts";
import { DEFAULT_TRACE_CONFIG, type DebugApi } from "./debugApi.ts";
import type { FilterManager } from "./filters.ts";

export type { LoadedBlock };

export interface EthApiOptions {
  clientVersion: string;
  /** Default tip suggested by eth_maxPriorityFeePerGas and folded into eth_gasPrice. */
  suggestedTip: bigint;
  maxLogsBlockRange: bigint;
  maxLogsResults: number;
  maxFeeHistoryBlocks: bigint;
  /** Gas cap for eth_call / eth_estimateGas. */
  rpcGasCap: bigint;
}

export const defaultEthApiOptions: EthApiOptions = {
  clientVersion: `RustChain/v0.1.0/${process.platform}-${process.arch}/node${process.versions.node}`,
  suggestedTip: 1_000_000_000n,
  maxLogsBlockRange: 10_000n,
  maxLogsResults: 10_000,
  maxFeeHistoryBlocks: 1024n,
  rpcGasCap: 50_000_000n,
};

export interface EthApiModules {
  chain: Chain;
  runtime: ContractRuntime;
  state: StateDb;
  mempool: Mempool;
  recovery: SenderRecovery;
  filters: FilterManager;
  /** Finality and validator information from consensus; without it `safe` and `finalized` are the head. */
  consensus?: ConsensusRpc;
  /** Bridge messages and the committee's signatures (bridge/bridgeService.ts). */
  bridge?: BridgeRpc;
  /** The pool's journal (mempool/txJournal.ts): an accepted transaction is on disk before its hash is answered. */
  txJournal?: Pick<TxJournal, "written">;
  /** Which historical states the node keeps (chain/statePruner.ts); without it every stored state is assumed kept. */
  retention?: StateRetention;
  /** debug_trace* (debugApi.ts); without it (no --rpc-debug) they answer NOT_ENABLED. */
  debug?: DebugApi;
}

export interface BridgeRpc {
  messageByDigest(digest: Uint8Array): Promise<RpcResult<"rustchain_getBridgeSignatures">>;
  messageById(
    emitterChain: number,
    emitter: Uint8Array,
    sequence: bigint,
  ): Promise<RpcResult<"rustchain_getBridgeMessage">>;
}

export interface ConsensusRpc {
  safeNumber(): bigint;
  finalizedNumber(): bigint;
  peerCount(): number;
  finalityStatus(): Promise<RpcResult<"rustchain_finalityStatus">>;
  validators(): Promise<RpcResult<"rustchain_validators">>;
  aiScores(): Promise<RpcResult<"rustchain_aiScores">>;
  /** The certificate proving canonical block `number` final (null while it is not), as JSON. */
  finalityCertificate(number: bigint): Promise<RpcResult<"rustchain_getFinalityCertificate">>;
  /** A segment of the certificate chain: certificates of checkpoints at slot >= `fromSlot`, in order, hex. */
  finalityCertificates(fromSlot: bigint, count: number): Promise<RpcResult<"rustchain_getFinalityCertificates">>;
}

export interface RpcContext {
  /** Present for WebSocket connections; subscription methods need it. */
  subscribe?(kind: "newHeads" | "logs" | "newPendingTransactions", filter: FilterRequest | undefined): string;
  unsubscribe?(id: string): boolean;
}

/**
 * The handler table: each method's parsed parameters in, its result as the JSON it is sent as out (the schemas of
 * shared/src/rpc/results.ts), so the compiler checks every handler against its method's result schema.
 */
type Handlers = {
  [M in RpcMethodName]: (params: RpcParams<M>, ctx: RpcContext) => Promise<RpcResult<M>> | RpcResult<M>;
};

const headerNotFound = rpcErrors.headerNotFound;
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export class EthApi {
  constructor(
    private readonly opts: EthApiOptions,
    private readonly modules: EthApiModules,
  ) {}

  private bridgeRpc(): BridgeRpc {
    const b = this.modules.bridge;
    if (!b) throw rpcErrors.notEnabled("bridge");
    return b;
  }

  /** Whether the debug namespace is served (--rpc-debug). */
  get debugEnabled(): boolean {
    return this.modules.debug !== undefined;
  }

  private debugApi(): DebugApi {
    const d = this.modules.debug;
    if (!d) throw rpcErrors.notEnabled("debug");
    return d;
  }

  private consensusRpc(): ConsensusRpc {
    const c = this.modules.consensus;
    if (!c) throw rpcErrors.notEnabled("consensus");
    return c;
  }

  // ---- block and state resolution ----

  /** The chain's tips; without consensus, `safe` and `finalized` are the head. */
  private tips(): TipNumbers {
    const head = this.modules.chain.head.number;
    const c = this.modules.consensus;
    return { head, safe: c ? c.safeNumber() : head, finalized: c ? c.finalizedNumber() : head };
  }

  tagNumber(tag: BlockTag): bigint {
    return tagNumber(tag, this.tips()) as bigint;
  }

  async headerById(id: BlockId): Promise<{ header: BlockHeader; hash: Uint8Array } | undefined> {
    const { chain } = this.modules;
    if ("hash" in id) {
      const header = await chain.getHeader(id.hash);
      if (!header) return undefined;
      if (id.requireCanonical) {
        const canon = await chain.canonicalHash(header.number);
        if (!canon || !eq(canon, id.hash)) return undefined;
      }
      return { header, hash: id.hash };
    }
    const n = this.tagNumber(id.tag);
    if (n === chain.head.number) return { header: chain.head, hash: chain.headHash };
    const hash = await chain.canonicalHash(n);
    if (!hash) return undefined;
    const header = await chain.getHeader(hash);
    return header ? { header, hash } : undefined;
  }

  private async accountAt(address: Uint8Array, id: BlockId | undefined): Promise<Account> {
    const { chain, state } = this.modules;
    const resolved = await this.headerById(id ?? { tag: "latest" });
    if (!resolved) throw headerNotFound();
    if (eq(resolved.hash, chain.headHash)) return state.headAccount(address);
    return this.historicalState(resolved.header.number, () => state.accountAt(resolved.header.stateRoot, address));
  }

  /**
   * A read of the state of block `number` through its trie (any block but the head, whose flat view always answers).
   * A pruned state answers STATE_PRUNED up front; a read that loses the race with a pruning run (the window moved
   * while it read) answers the same instead of a missing trie node.
   */
  private async historicalState<T>(number: bigint, read: () => Promise<T>): Promise<T> {
    const retention = this.modules.retention;
    retention?.assertAvailable(number);
    try {
      return await read();
    } catch (e) {
      if (retention && e instanceof StateError && e.type.code === "STATE_NODE_MISSING")
        retention.assertAvailable(number);
      throw e;
    }
  }

  /** A stored block; below the node's history start (a warp-synced node) the error names the first available one. */
  async loadBlock(hash: Uint8Array): Promise<LoadedBlock | undefined> {
    const { chain } = this.modules;
    const b = await loadBlock(chain, hash);
    if (b || chain.historyStart === 0n) return b;
    const header = await chain.getHeader(hash);
    if (header && header.number < chain.historyStart) {
      throw rpcErrors.historyPruned(header.number, chain.historyStart);
    }
    return undefined;
  }

  private async loadBlockByTag(tag: BlockTag): Promise<LoadedBlock | undefined> {
    const hash = await this.modules.chain.canonicalHash(this.tagNumber(tag));
    return hash ? this.loadBlock(hash) : undefined;
  }

  formatBlock(b: LoadedBlock, full: boolean) {
    return formatLoadedBlock(b, full);
  }

  receiptsOf(b: LoadedBlock) {
    return formatLoadedReceipts(b);
  }

  /** Logs of one block matching a filter, formatted. */
  blockLogs(b: LoadedBlock, f: FilterRequest | LogMatcher, removed = false): ReturnType<typeof formatLog>[] {
    const matcher = f instanceof LogMatcher ? f : new LogMatcher(f);
    const out: ReturnType<typeof formatLog>[] = [];
    let logIndex = 0;
    b.receipts.forEach((r, txIndex) => {
      for (const log of r.receipt.logs) {
        if (matcher.matches(bytesToHex(log.address), log.topics.map(bytesToHex))) {
          out.push(
            formatLog(log, {
              blockHash: b.hash,
              blockNumber: b.block.header.number,
              transactionHash: b.txs[txIndex]!.hash,
              transactionIndex: txIndex,
              logIndex,
              removed,
            }),
          );
        }
        logIndex++;
      }
    });
    return out;
  }

  async getLogs(f: FilterRequest) {
    const { chain } = this.modules;
    const matcher = new LogMatcher(f);
    if (f.blockHash) {
      const b = await this.loadBlock(f.blockHash);
      if (!b) throw rpcErrors.unknownBlock();
      return this.blockLogs(b, matcher);
    }
    const range = logRange(f, this.tips(), this.opts.maxLogsBlockRange) as LogRange;
    if (range.kind === "empty") return [];
    const out: ReturnType<typeof formatLog>[] = [];
    for (let n = range.from; n <= range.to; n++) {
      const hash = await chain.canonicalHash(n);
      if (!hash) break;
      const header = await chain.getHeader(hash);
      if (!header || !bloomMatches(header.logsBloom, f)) continue;
      const b = await this.loadBlock(hash);
      if (!b) continue;
      out.push(...this.blockLogs(b, matcher));
      if (out.length > this.opts.maxLogsResults) throw rpcErrors.tooManyLogs(this.opts.maxLogsResults);
    }
    return out;
  }

  private async txByLocation(blockHash: Uint8Array, index: bigint) {
    const b = await this.loadBlock(blockHash);
    if (!b || index >= BigInt(b.txs.length)) return null;
    const i = Number(index);
    const h = b.block.header;
    return formatTransaction(b.txs[i]!, {
      blockHash: b.hash,
      blockNumber: h.number,
      blockTimestamp: h.timestamp,
      index: i,
      baseFeePerGas: h.baseFeePerGas,
    });
  }

  /** Inputs for eth_call / eth_estimateGas at a block: a fresh overlay of its state and its environment. */
  private async simulation(req: CallRequest, id: BlockId | undefined): Promise<SimulationInput> {
    const { chain, state, runtime } = this.modules;
    const resolved = await this.headerById(id ?? { tag: "latest" });
    if (!resolved) throw headerNotFound();
    const h = resolved.header;
    const isHead = eq(resolved.hash, chain.headHash);
    if (!isHead) this.modules.retention?.assertAvailable(h.number);
    return {
      makeOverlay: () => state.overlay(h.stateRoot, isHead),
      env: blockEnvOf(chain.chainId, h),
      runtime,
      request: req,
      gasCap: this.opts.rpcGasCap,
    };
  }

  private async codeAt(address: Uint8Array, id: BlockId | undefined): Promise<Uint8Array> {
    const acc = await this.accountAt(address, id);
    if (eq(acc.codeHash, blake3(new Uint8Array(0)))) return new Uint8Array(0);
    return (await this.modules.state.getCode(acc.codeHash)) ?? new Uint8Array(0);
  }

  private async feeHistory(count: bigint, newest: BlockTag, percentiles: number[] | undefined) {
    const { chain } = this.modules;
    const last = this.tagNumber(newest);
    if (count > 0n && last > chain.head.number) throw rpcErrors.headerNotFound();
    const opts = { params: chain.genesis.params, maxBlocks: this.opts.maxFeeHistoryBlocks };
    // A block the node does not hold (below a warp-synced node's history) ends the answer early, as in geth.
    const history = await feeHistory(count, last, percentiles, opts, async (first, to, withTxs) => {
      const out: FeeHistoryBlock[] = [];
      for (let n = first; n <= to; n++) {
        const hash = await chain.canonicalHash(n);
        if (!hash) break;
        const b = withTxs ? await this.loadBlock(hash) : undefined;
        const header = b?.block.header ?? (await chain.getHeader(hash));
        if (!header) break;
        out.push({
          ...header,
          txs: b?.txs.map((t, i) => ({
            maxFeePerGas: t.tx.maxFeePerGas,
            maxPriorityFeePerGas: t.tx.maxPriorityFeePerGas,
            gasUsed: b.receipts[i]!.gasUsed,
          })),
        });
      }
      return out;
    });
    // The block source above always answers (a list, maybe short); "cannot answer" is the edge replica's case.
    if (!history) throw rpcErrors.headerNotFound();
    return history;
  }

  /**
   * eth_sendRawTransaction for many transactions at once (a JSON-RPC batch of them): one call recovers every sender
   * in the worker pool, then each enters the pool in order. Each item is the hash, or the error that item answers.
   */
  async sendRawTransactions(raws: Uint8Array[]): Promise<(Uint8Array | Error)[]> {
    // Load shedding before any work: a busy pool refuses the whole batch (-32005, "retry later").
    const busy = this.modules.mempool.busy();
    if (busy) {
      const refusal = rpcErrors.txpoolBusy(busy);
      return raws.map(() => refusal);
    }
    const recovered = await this.modules.recovery.recover(raws);
    const out: (Uint8Array | Error)[] = [];
    for (const r of recovered) {
      if (!("tx" in r)) out.push(r);
      else out.push(await this.modules.mempool.add(r).catch((e: Error) => e));
    }
    // Accepted means journaled: a crash after the answer loses nothing (one write for the whole batch).
    await this.modules.txJournal?.written();
    return out;
  }

  readonly handlers: Handlers = {
    web3_clientVersion: () => this.opts.clientVersion,
    web3_sha3: ([data]) => bytesToHex(keccak256(data)),
    net_version: () => this.modules.chain.chainId.toString(),
    net_listening: () => true,
    net_peerCount: () => toQuantity(BigInt(this.modules.consensus?.peerCount() ?? 0)),
    rustchain_finalityStatus: () => this.consensusRpc().finalityStatus(),
    rustchain_validators: () => this.consensusRpc().validators(),
    rustchain_aiScores: () => this.consensusRpc().aiScores(),
    rustchain_getFinalityCertificate: async ([id]) => {
      const c = this.consensusRpc();
      // Only a canonical block can be final: a hash off the canonical chain has no certificate.
      const block = await this.headerById("hash" in id ? { ...id, requireCanonical: true } : id);
      return block ? c.finalityCertificate(block.header.number) : null;
    },
    rustchain_getFinalityCertificates: ([fromSlot, count]) => {
      const n = count ?? 64n;
      if (n < 1n || n > 64n) throw rpcErrors.invalidParams("count must be 1..64");
      return this.consensusRpc().finalityCertificates(fromSlot, Number(n));
    },
    rustchain_getBridgeSignatures: ([digest]) => this.bridgeRpc().messageByDigest(digest),
    rustchain_getBridgeMessage: ([chain, emitter, sequence]) => {
      if (chain > 0xffffn) throw rpcErrors.invalidParams("emitter chain is a u16");
      if (sequence >= 2n ** 64n) throw rpcErrors.invalidParams("sequence is a u64");
      return this.bridgeRpc().messageById(Number(chain), emitter, sequence);
    },
    // What a replica needs to answer the fee methods exactly as this node does (edge/src/replica/reads.ts).
    rustchain_feeParams: () => {
      const p = this.modules.chain.genesis.params;
      return {
        minBaseFeePerGas: toQuantity(p.minBaseFeePerGas),
        elasticityMultiplier: toQuantity(p.elasticityMultiplier),
        baseFeeChangeDenominator: toQuantity(p.baseFeeChangeDenominator),
        suggestedTip: toQuantity(this.opts.suggestedTip),
        maxFeeHistoryBlocks: toQuantity(this.opts.maxFeeHistoryBlocks),
      };
    },
    eth_chainId: () => toQuantity(this.modules.chain.chainId),
    eth_syncing: () => false,
    eth_blockNumber: () => toQuantity(this.modules.chain.head.number),
    eth_gasPrice: () => {
      const { chain } = this.modules;
      return toQuantity(nextBaseFee(chain.genesis.params, chain.head) + this.opts.suggestedTip);
    },
    eth_maxPriorityFeePerGas: () => toQuantity(this.opts.suggestedTip),
    eth_feeHistory: ([count, newest, percentiles]) => this.feeHistory(count, newest, percentiles),
    eth_accounts: () => [],
    eth_getBalance: async ([address, id]) => toQuantity((await this.accountAt(address, id)).balance),
    eth_getTransactionCount: async ([address, id]) => {
      if (id && "tag" in id && id.tag === "pending")
        return toQuantity(await this.modules.mempool.pendingNonce(address));
      return toQuantity((await this.accountAt(address, id)).nonce);
    },
    eth_getCode: async ([address, id]) => bytesToHex(await this.codeAt(address, id)),
    eth_getStorageAt: async ([address, slot, id]) => {
      const { chain, state } = this.modules;
      const resolved = await this.headerById(id ?? { tag: "latest" });
      if (!resolved) throw headerNotFound();
      const key = Buffer.from(slot.toString(16).padStart(64, "0"), "hex");
      const value = eq(resolved.hash, chain.headHash)
        ? await state.headStorage(address, key)
        : await this.historicalState(resolved.header.number, () =>
            state.storageAt(resolved.header.stateRoot, address, key),
          );
      return bytesToHex(value);
    },
    eth_call: async ([req, id]) => bytesToHex(await ethCall(await this.simulation(req, id))),
    eth_estimateGas: async ([req, id]) => toQuantity(await estimateGas(await this.simulation(req, id))),
    eth_sendRawTransaction: async ([raw]) => {
      const [result] = await this.sendRawTransactions([raw]);
      if (!(result instanceof Uint8Array)) throw result;
      return bytesToHex(result);
    },
    eth_getTransactionByHash: async ([hash]) => {
      const { chain, mempool } = this.modules;
      const loc = await chain.txLocation(hash);
      if (loc) return this.txByLocation(loc.blockHash, BigInt(loc.index));
      const pending = mempool.get(hash);
      return pending ? formatTransaction(pending) : null;
    },
    eth_getTransactionByBlockHashAndIndex: ([hash, index]) => this.txByLocation(hash, index),
    eth_getTransactionByBlockNumberAndIndex: async ([tag, index]) => {
      const hash = await this.modules.chain.canonicalHash(this.tagNumber(tag));
      return hash ? this.txByLocation(hash, index) : null;
    },
    eth_getTransactionReceipt: async ([hash]) => {
      const { chain } = this.modules;
      const loc = await chain.txLocation(hash);
      if (!loc) return null;
      // Decode only this transaction; the block's other receipts are needed for the log index offset only.
      const [block, receipts] = await Promise.all([chain.getBlock(loc.blockHash), chain.getReceipts(loc.blockHash)]);
      const raw = block?.transactions[loc.index];
      const stored = receipts?.[loc.index];
      if (!block || !raw || !receipts || !stored) return null;
      let firstLogIndex = 0;
      for (let i = 0; i < loc.index; i++) firstLogIndex += receipts[i]!.receipt.logs.length;
      return formatReceipt({
        stx: { tx: decodeTransaction(raw), raw, hash, from: stored.from },
        receipt: stored.receipt,
        gasUsed: stored.gasUsed,
        contractAddress: stored.contractAddress,
        blockHash: loc.blockHash,
        blockNumber: block.header.number,
        baseFeePerGas: block.header.baseFeePerGas,
        index: loc.index,
        firstLogIndex,
      });
    },
    eth_getBlockReceipts: async ([id]) => {
      const resolved = await this.headerById(id);
      if (!resolved) return null;
      const b = await this.loadBlock(resolved.hash);
      return b ? this.receiptsOf(b) : null;
    },
    eth_getBlockByNumber: async ([tag, full]) => {
      const b = await this.loadBlockByTag(tag);
      return b ? this.formatBlock(b, full) : null;
    },
    eth_getBlockByHash: async ([hash, full]) => {
      const b = await this.loadBlock(hash);
      return b ? this.formatBlock(b, full) : null;
    },
    eth_getBlockTransactionCountByNumber: async ([tag]) => {
      const hash = await this.modules.chain.canonicalHash(this.tagNumber(tag));
      const block = hash ? await this.modules.chain.getBlock(hash) : undefined;
      return block ? toQuantity(block.transactions.length) : null;
    },
    eth_getBlockTransactionCountByHash: async ([hash]) => {
      const block = await this.modules.chain.getBlock(hash);
      return block ? toQuantity(block.transactions.length) : null;
    },
    eth_getUncleCountByBlockNumber: async ([tag]) =>
      (await this.modules.chain.canonicalHash(this.tagNumber(tag))) ? "0x0" : null,
    eth_getUncleCountByBlockHash: async ([hash]) => ((await this.modules.chain.getHeader(hash)) ? "0x0" : null),
    eth_getLogs: ([filter]) => this.getLogs(filter),
    eth_getProof: async ([address, slots, id]) => {
      const resolved = await this.headerById(id);
      if (!resolved) throw headerNotFound();
      // Proofs come from the trie at any block, the head's included (which is always kept).
      const p = await this.historicalState(resolved.header.number, () =>
        this.modules.state.proof(resolved.header.stateRoot, address, slots),
      );
      return {
        address: bytesToHex(address),
        accountProof: p.accountProof.map(bytesToHex),
        balance: toQuantity(p.account.balance),
        codeHash: bytesToHex(p.account.codeHash),
        nonce: toQuantity(p.account.nonce),
        storageHash: bytesToHex(p.account.storageRoot),
        storageProof: p.storageProof.map((s) => ({
          key: bytesToHex(s.key),
          value: toQuantity(s.value),
          proof: s.proof.map(bytesToHex),
        })),
      };
    },
    eth_newFilter: ([request]) => this.install({ kind: "logs", request, buffer: [], lastPoll: Date.now() }),
    eth_newBlockFilter: () => this.install({ kind: "blocks", buffer: [], lastPoll: Date.now() }),
    eth_newPendingTransactionFilter: () => this.install({ kind: "pending", buffer: [], lastPoll: Date.now() }),
    eth_getFilterChanges: ([id]) => {
      const found = this.modules.filters.get(id);
      if (!found) throw rpcErrors.filterNotFound();
      const [, f] = found;
      const out = f.buffer.slice();
      f.buffer.length = 0;
      return out;
    },
    eth_getFilterLogs: async ([id]) => {
      const f = this.modules.filters.get(id)?.[1];
      if (f?.kind !== "logs") throw rpcErrors.filterNotFound();
      return this.getLogs(f.request);
    },
    eth_uninstallFilter: ([id]) => this.modules.filters.uninstall(id),
    eth_subscribe: ([kind, arg], ctx) => {
      if (!ctx.subscribe) throw rpcErrors.notificationsNotSupported();
      let filter: FilterRequest | undefined;
      if (kind === "logs")
        filter = arg === undefined || arg === null ? { addresses: [], topics: [] } : parseLogSubscription(arg);
      return ctx.subscribe(kind, filter);
    },
    eth_unsubscribe: ([id], ctx) => {
      if (!ctx.unsubscribe) throw rpcErrors.notificationsNotSupported();
      return ctx.unsubscribe(id);
    },
    debug_traceTransaction: ([hash, config]) => this.debugApi().traceTransaction(hash, config ?? DEFAULT_TRACE_CONFIG),
    debug_traceCall: async ([req, id, config]) => {
      const debug = this.debugApi();
      const cfg = config ?? DEFAULT_TRACE_CONFIG;
      debug.checkTracer(cfg);
      return debug.traceCall(await this.simulation(req, id), cfg);
    },
  };

  private install(f: Parameters<FilterManager["install"]>[0]): string {
    const id = this.modules.filters.install(f);
    if (!id) throw rpcErrors.tooManyFilters();
    return id;
  }
}

function parseLogSubscription(arg: unknown): FilterRequest {
  return rpcParams.filterRequest(arg, 1);
}

function bloomMatches(bloom: Uint8Array, f: FilterRequest): boolean {
  if (f.addresses.length && !f.addresses.some((a) => bloomContains(bloom, a))) return false;
  for (const want of f.topics) if (want && !want.some((t) => bloomContains(bloom, t))) return false;
  return true;
}
