// Moves each transfer through its states (docs/bridge.md, "The relayer"), one step per visit, persisting the state
// after every step so a restart resumes where it stopped:
//
//   waiting_finality → signing → signed → submitted → completed
//                                       ↘ queued (governor) → completed
//                                       ↘ refundable (asset paused) → refund_requested → refunded
//
// Wormhole transfers (bridge "wormhole", made by wormholeWatcher.ts) start at signed (or awaiting_recipient) with the
// guardians' VAA and go to the Wormhole gateway; they have no committee step and no refund path.
//
// Before it submits anything it asks the destination whether the digest is already completed or queued, so a crash
// between sending and recording never leads to a second submission; the gateways refuse a replay in any case.
import { bytesToHex, hexToBytes, RustChainError } from "@rustchain/shared";
import { decodeTokenBridgePayload, REFUND_PAYLOAD_ID } from "@rustchain/shared/bridge/payloads";
import { decodeVaa, decodeVaaBody, fromUniversalAddress } from "@rustchain/shared/bridge/vaa";
import type { Logger } from "pino";
import { type Hex, parseEventLogs } from "viem";
import type { BridgeClients } from "./clients.ts";
import { collectVaa } from "./committeeSignatures.ts";
import { type ChainName, chainOf, type Deployment } from "./deployment.ts";
import { gatewayAbi } from "./gatewayAbi.ts";
import type { RelayerMetrics } from "./metrics.ts";
import { revertOf } from "./revert.ts";
import type { Observation } from "./sourceWatcher.ts";
import { TERMINAL_STATES, type TransferRecord, type TransferStore } from "./transferStore.ts";

export interface ProcessorOptions {
  pollMs: number;
  /** Longest wait between two attempts after failures. */
  maxBackoffMs: number;
}

/** A record the deployment cannot serve (a Wormhole transfer without deployment.wormhole). */
export class RelayerError extends RustChainError<{ code: "NO_WORMHOLE_GATEWAY"; reason: string }> {}

const other = (c: ChainName): ChainName => (c === "ethereum" ? "rustchain" : "ethereum");

export class Processor {
  constructor(
    private readonly opts: ProcessorOptions,
    private readonly m: {
      deployment: Deployment;
      clients: BridgeClients;
      store: TransferStore;
      metrics: RelayerMetrics;
      logger: Logger;
    },
  ) {}

  /** Turn stream entries into transfer records (idempotent), then acknowledge them. */
  async ingest(entries: { id: string; message: Record<string, string> }[]): Promise<void> {
    for (const e of entries) {
      const record = this.recordOf(e.message as Observation);
      if (record && (await this.m.store.create(record))) {
        this.m.metrics.observed.inc({ chain: record.sourceChain, kind: record.kind });
        if (record.kind === "refund" && record.related) {
          const original = await this.m.store.get(record.related);
          if (original && !TERMINAL_STATES.has(original.state))
            await this.m.store.update(original.digest, { state: "refund_requested", related: record.digest });
        }
      }
      await this.m.store.ack(e.id);
    }
  }

  private recordOf(o: Observation): TransferRecord | undefined {
    const d = this.m.deployment;
    const body = decodeVaaBody(hexToBytes(o.body));
    const source = o.chain as ChainName;
    const base = {
      digest: o.digest.toLowerCase(),
      sourceChain: source,
      emitterChain: body.emitterChain,
      emitterAddress: bytesToHex(body.emitterAddress),
      sequence: body.sequence.toString(),
      sourceTx: o.txHash.toLowerCase(),
      sourceBlock: o.blockNumber,
      sender: o.sender,
      state: "observed" as const,
      eta: Date.now(),
      observedAt: Date.now(),
      updatedAt: Date.now(),
      attempts: 0,
      history: [{ state: "observed" as const, at: Date.now() }],
    };
    let payload: ReturnType<typeof decodeTokenBridgePayload>;
    try {
      payload = decodeTokenBridgePayload(body.payload);
    } catch (e) {
      this.m.logger.warn({ digest: o.digest, err: (e as Error).message }, "Unknown bridge payload; not relayed");
      return undefined;
    }
    const none = { recipient: "", amount: "0", fee: "0", tokenChain: 0, tokenAddress: bytesToHex(new Uint8Array(32)) };
    if (payload.payloadId === 1 || payload.payloadId === 3) {
      const destination = chainOf(d, payload.toChain);
      if (!destination) {
        this.m.logger.warn(
          { digest: o.digest, toChain: payload.toChain },
          "Transfer to a chain this relayer does not serve",
        );
        return undefined;
      }
      return {
        ...base,
        kind: "transfer",
        destinationChain: destination,
        recipient: bytesToHex(fromUniversalAddress(payload.to)),
        amount: payload.amount.toString(),
        fee: payload.payloadId === 1 ? payload.fee.toString() : "0",
        tokenChain: payload.tokenChain,
        tokenAddress: bytesToHex(payload.tokenAddress),
      };
    }
    if (payload.payloadId === REFUND_PAYLOAD_ID)
      return {
        ...base,
        ...none,
        kind: "refund",
        destinationChain: other(source),
        related: bytesToHex(payload.originalDigest),
      };
    return { ...base, ...none, kind: "asset_meta", destinationChain: other(source) };
  }

  /** Visit every transfer that is due. */
  async runDue(limit = 20): Promise<number> {
    const due = await this.m.store.due(Date.now(), limit);
    for (const digest of due) await this.visit(digest);
    this.m.metrics.queueDepth.set(await this.m.store.queueDepth());
    return due.length;
  }

  async visit(digest: string): Promise<void> {
    const t = await this.m.store.get(digest);
    if (!t || TERMINAL_STATES.has(t.state)) {
      await this.m.store.done(digest);
      return;
    }
    try {
      const next = await this.step(t);
      await this.m.store.update(digest, { ...next.patch, attempts: 0, lastError: "" });
      if (next.patch.state && next.patch.state !== t.state)
        this.m.logger.info({ digest, from: t.state, to: next.patch.state }, "Transfer state");
      if (next.patch.state && TERMINAL_STATES.has(next.patch.state)) {
        this.m.metrics.finished.inc({ state: next.patch.state, kind: t.kind });
        await this.m.store.done(digest);
      } else await this.m.store.schedule(digest, Date.now() + next.retryMs);
    } catch (e) {
      const { code, reason } = revertOf(e);
      const attempts = t.attempts + 1;
      const wait = Math.min(this.opts.maxBackoffMs, this.opts.pollMs * 2 ** Math.min(attempts, 8));
      this.m.metrics.failures.inc({ code: code ?? "ERROR" });
      this.m.logger.warn({ digest, state: t.state, err: reason, retryInMs: wait }, "Transfer step failed; will retry");
      await this.m.store.update(digest, { attempts, lastError: reason.slice(0, 300) });
      await this.m.store.schedule(digest, Date.now() + wait);
    }
  }

  private async step(t: TransferRecord): Promise<{ patch: Partial<TransferRecord>; retryMs: number }> {
    const poll = this.opts.pollMs;
    const d = this.m.deployment;
    const src = this.m.clients[t.sourceChain as ChainName];
    const dst = this.destination(t);
    switch (t.state) {
      case "observed":
      case "waiting_finality": {
        const finalized = (await src.public.getBlock({ blockTag: "finalized" })).number ?? 0n;
        const at = BigInt(t.sourceBlock);
        if (finalized < at) {
          const blocks = Number(at - finalized);
          return {
            patch: {
              state: "waiting_finality",
              eta: Date.now() + blocks * d[t.sourceChain as ChainName].blockTimeMs + this.signingMs(),
            },
            retryMs: poll,
          };
        }
        return { patch: { state: "signing", eta: Date.now() + this.signingMs() }, retryMs: 0 };
      }
      case "signing": {
        const set = await this.guardianSet(t.destinationChain as ChainName);
        const collected = await collectVaa({
          rpcUrls: d.rustchain.signatureRpcUrls,
          emitterChain: t.emitterChain,
          emitterAddress: t.emitterAddress,
          sequence: BigInt(t.sequence),
          guardianSet: set,
        });
        if (!collected?.vaa)
          return {
            patch: {
              signatures: collected?.signatures ?? 0,
              quorum: collected?.quorum,
              eta: Date.now() + this.signingMs(),
            },
            retryMs: poll,
          };
        return {
          patch: {
            state: "signed",
            vaa: collected.vaa,
            signatures: collected.signatures,
            quorum: collected.quorum,
            eta: Date.now() + d[t.destinationChain as ChainName].blockTimeMs * 2,
          },
          retryMs: 0,
        };
      }
      case "signed":
      case "refundable":
        return t.kind === "refund"
          ? this.submitRefund(t, dst)
          : t.kind === "transfer"
            ? this.submitTransfer(t, dst)
            : { patch: { state: "completed" }, retryMs: 0 };
      case "submitted": {
        if (!t.destinationTx) return { patch: { state: "signed" }, retryMs: 0 };
        const receipt = await dst.public.getTransactionReceipt({ hash: t.destinationTx as Hex }).catch(() => undefined);
        if (!receipt) return { patch: {}, retryMs: poll };
        if (receipt.status !== "success") return { patch: { state: "signed" }, retryMs: 0 };
        return { patch: this.outcome(t, receipt.logs), retryMs: 0 };
      }
      case "queued": {
        const release = (t.releaseTime ?? 0) * 1000;
        if (Date.now() < release)
          return { patch: { eta: release }, retryMs: Math.min(release - Date.now() + 500, 60_000) };
        const body = bytesToHex(decodeVaa(hexToBytes(t.vaa ?? "0x")).body);
        const hash = await this.send(dst, "releaseQueued", [body]);
        return { patch: { state: "submitted", destinationTx: hash }, retryMs: poll };
      }
      case "refund_requested":
        // The refund message's own record does the work; this one waits for it.
        return { patch: {}, retryMs: poll * 5 };
      case "awaiting_recipient":
        return (await this.destinationOutcome(t, dst)) ?? { patch: {}, retryMs: poll * 5 };
      default:
        return { patch: {}, retryMs: poll };
    }
  }

  /**
   * What the destination already did with a digest. `isCompleted` means consumed: completed, queued by the governor
   * or cancelled for a refund; the queue and the TransferCancelled / TransferCompleted events tell them apart.
   */
  private async destinationOutcome(
    t: TransferRecord,
    dst: BridgeClients[ChainName],
  ): Promise<{ patch: Partial<TransferRecord>; retryMs: number } | undefined> {
    const at = { address: dst.gateway, abi: gatewayAbi, args: [t.digest as Hex] } as const;
    const queuedUntil = Number(await dst.public.readContract({ ...at, functionName: "queuedUntil" }));
    if (queuedUntil > 0)
      return { patch: { state: "queued", releaseTime: queuedUntil, eta: queuedUntil * 1000 }, retryMs: 0 };
    if (!(await dst.public.readContract({ ...at, functionName: "isCompleted" }))) return undefined;
    const fromBlock = dst.fromBlock;
    const args = { digest: t.digest as Hex };
    const cancelled = await dst.public.getContractEvents({
      address: dst.gateway,
      abi: gatewayAbi,
      eventName: "TransferCancelled",
      args,
      fromBlock,
    });
    if (cancelled.length > 0) return { patch: { state: "refund_requested" }, retryMs: this.opts.pollMs };
    const [completed] = await dst.public.getContractEvents({
      address: dst.gateway,
      abi: gatewayAbi,
      eventName: "TransferCompleted",
      args,
      fromBlock,
    });
    return {
      patch: { state: "completed", eta: 0, destinationTx: completed?.transactionHash ?? undefined },
      retryMs: 0,
    };
  }

  private async submitTransfer(t: TransferRecord, dst: BridgeClients[ChainName]) {
    const poll = this.opts.pollMs;
    const done = await this.destinationOutcome(t, dst);
    if (done) return done;
    try {
      const hash = await this.send(dst, "completeTransfer", [t.vaa as Hex]);
      return { patch: { state: "submitted" as const, destinationTx: hash }, retryMs: poll };
    } catch (e) {
      const { code, reason } = revertOf(e);
      // Wormhole: no refund through our committee and no re-collection of signatures; retried with lastError shown
      if (t.bridge === "wormhole" && code !== "NOT_RECIPIENT" && code !== "VAA_CONSUMED") throw e;
      if (code === "ASSET_PAUSED")
        return { patch: { state: "refundable" as const, lastError: reason, eta: 0 }, retryMs: poll * 10 };
      if (code === "VAA_GUARDIAN_SET_EXPIRED" || code === "VAA_UNKNOWN_GUARDIAN_SET")
        return { patch: { state: "signing" as const, vaa: "" }, retryMs: 0 };
      if (code === "NOT_RECIPIENT") return { patch: { state: "awaiting_recipient" as const }, retryMs: poll };
      // Consumed since we looked (someone redeemed or cancelled it meanwhile): look again.
      if (code === "VAA_CONSUMED") return (await this.destinationOutcome(t, dst)) ?? { patch: {}, retryMs: poll };
      throw e;
    }
  }

  private async submitRefund(t: TransferRecord, dst: BridgeClients[ChainName]) {
    try {
      const hash = await this.send(dst, "refund", [t.vaa as Hex]);
      return { patch: { state: "submitted" as const, destinationTx: hash }, retryMs: this.opts.pollMs };
    } catch (e) {
      if (revertOf(e).code === "ALREADY_REFUNDED") return { patch: this.refunded(t), retryMs: 0 };
      throw e;
    }
  }

  /** What a mined destination transaction did. */
  private outcome(t: TransferRecord, logs: Parameters<typeof parseEventLogs>[0]["logs"]): Partial<TransferRecord> {
    const events = parseEventLogs({ abi: gatewayAbi, logs });
    const queued = events.find((e) => e.eventName === "TransferQueued");
    if (queued && queued.eventName === "TransferQueued")
      return {
        state: "queued",
        releaseTime: Number(queued.args.releaseTime),
        eta: Number(queued.args.releaseTime) * 1000,
      };
    if (t.kind === "refund") return this.refunded(t);
    return { state: "completed", eta: 0 };
  }

  private refunded(t: TransferRecord): Partial<TransferRecord> {
    if (t.related)
      void this.m.store
        .update(t.related, { state: "refunded", related: t.digest })
        .then(() => this.m.store.done(t.related as string));
    return { state: "refunded", eta: 0 };
  }

  private async send(
    dst: BridgeClients[ChainName],
    functionName: "completeTransfer" | "releaseQueued" | "refund",
    args: [Hex],
  ) {
    const { request } = await dst.public.simulateContract({
      address: dst.gateway,
      abi: gatewayAbi,
      functionName,
      args,
      account: dst.wallet.account,
      // The release time is checked against the block the transaction will be in, not the last one (a chain that
      // mines only on demand, like hardhat's, may not have made a block since).
      ...(functionName === "releaseQueued" ? { blockTag: "pending" as const } : {}),
    });
    const hash = await dst.wallet.writeContract(request);
    this.m.metrics.submitted.inc({ chain: dst.name, fn: functionName });
    return hash;
  }

  /** The gateway a transfer completes on: the Wormhole deployment's for Wormhole VAAs. */
  private destination(t: TransferRecord): BridgeClients[ChainName] {
    if (t.bridge !== "wormhole") return this.m.clients[t.destinationChain as ChainName];
    if (!this.m.clients.wormhole)
      throw new RelayerError({ code: "NO_WORMHOLE_GATEWAY", reason: "deployment.wormhole is not configured" });
    return this.m.clients.wormhole;
  }

  private async guardianSet(chain: ChainName): Promise<{ index: number; keys: string[] }> {
    const c = this.m.clients[chain];
    const index = Number(
      await c.public.readContract({ address: c.gateway, abi: gatewayAbi, functionName: "guardianSetIndex" }),
    );
    const [keys] = await c.public.readContract({
      address: c.gateway,
      abi: gatewayAbi,
      functionName: "guardianSet",
      args: [index],
    });
    return { index, keys: [...keys] };
  }

  private signingMs(): number {
    return this.m.deployment.rustchain.blockTimeMs * 3;
  }
}
