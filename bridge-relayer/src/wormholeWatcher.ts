// Wormhole as a source of the relayer (docs/bridge.md, "The relayer"): for each watched emitter (a foreign token
// bridge registered on the Wormhole gateway) it asks a guardian's public API for the next sequences, and turns every
// signed token-bridge transfer to RustChain into a transfer record that the processor completes on the Wormhole
// gateway. Rules:
//
// - The cursor of an emitter is its first sequence not yet relayed or skipped. Each poll asks the cursor and the
//   sequences after it until `lookahead` of them were not signed (404), so a message the guardians hold back does not
//   stall the ones behind it; a sequence the guardians' governor lists as enqueued does not count against the budget
//   (it exists and will come). The cursor then moves over the resolved ones: a restart asks nothing below it again.
// - A VAA is verified against the Wormhole gateway's guardian sets before anything is recorded (guardianApi.ts): a
//   wrong answer from the API is retried later, never relayed and never skipped.
// - Payloads 1 and 3 to RustChain become records (payload 3 as awaiting_recipient: only its recipient may redeem);
//   anything else (another target chain, an attestation, not a token-bridge payload) is recorded as skipped.
// - Not signed yet: `queued` with the governor's release time when its list names the message, else
//   `waiting_signatures` with an ETA of first seen + the emitter's signingSeconds. Such a record is kept only for a
//   message that exists for sure (governor-listed, or one a user asked for), not for every sequence asked ahead.
// - A record's digest makes it once (HSETNX); the processor asks the gateway before it submits, so a VAA consumed
//   meanwhile (redeemed by the user) becomes completed, not a second submission.
import { bytesToHex, describeError } from "@rustchain/shared";
import { decodeTokenBridgePayload } from "@rustchain/shared/bridge/payloads";
import { fromUniversalAddress, quorum, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import type { Logger } from "pino";
import type { ChainClients } from "./clients.ts";
import type { WatchedEmitter } from "./deployment.ts";
import { gatewayGuardianSet } from "./gatewayGuardianSet.ts";
import {
  type EnqueuedVaa,
  fetchEnqueuedVaas,
  fetchSignedVaa,
  messageId,
  parseMessageId,
  type SignedVaaQuery,
} from "./guardianApi.ts";
import type { RelayerMetrics } from "./metrics.ts";
import {
  RESOLVED_WORMHOLE_STATES,
  type TransferRecord,
  type TransferStore,
  type WormholeMessage,
  type WormholeMessageState,
} from "./transferStore.ts";

export interface WormholeWatcherOptions {
  guardianApiUrl: string;
  emitters: WatchedEmitter[];
  lookahead: number;
  /** RustChain's block time, for the ETA of a signed transfer's completion. */
  blockTimeMs: number;
}

/** Sequences asked in one poll of one emitter, at most (lookahead bounds the unsigned ones, this the rest). */
const MAX_WINDOW = 256n;
const CHAIN_NAMES = new Map<number, string>(Object.entries(WORMHOLE_CHAIN).map(([name, id]) => [id, name]));

export function wormholeChainName(chain: number): string {
  return CHAIN_NAMES.get(chain) ?? `wormhole chain ${chain}`;
}

const emitterKey = (e: { chain: number; address: string }) => `${e.chain}/${e.address.slice(2).toLowerCase()}`;

export class WormholeWatcher {
  constructor(
    private readonly opts: WormholeWatcherOptions,
    private readonly m: {
      /** The Wormhole gateway on RustChain (clients.wormhole). */
      gateway: ChainClients;
      store: TransferStore;
      metrics: RelayerMetrics;
      logger: Logger;
    },
  ) {}

  /** The watched emitter a message id belongs to, if any (users may ask only about these). */
  emitterOf(q: SignedVaaQuery): WatchedEmitter | undefined {
    const key = messageId(q).split("/").slice(0, 2).join("/");
    return this.opts.emitters.find((e) => emitterKey(e) === key);
  }

  /** One pass: every emitter from its cursor, then the messages users asked for. */
  async poll(): Promise<void> {
    // undefined when the list is unavailable: queued messages then stay queued
    const enqueued = await fetchEnqueuedVaas(this.opts.guardianApiUrl).catch((e: Error) => {
      this.m.logger.debug({ err: describeError(e) }, "Governor list unavailable; ETAs without it");
      return undefined;
    });
    for (const emitter of this.opts.emitters) await this.pollEmitter(emitter, enqueued);
    for (const id of await this.m.store.requestedWormholeMessages()) {
      const q = parseMessageId(id);
      const emitter = q && this.emitterOf(q);
      if (!q || !emitter) await this.m.store.forgetWormholeRequest(id);
      else await this.visit(q, emitter, enqueued, true);
    }
  }

  private async pollEmitter(emitter: WatchedEmitter, enqueued: Map<string, EnqueuedVaa> | undefined): Promise<void> {
    const key = emitterKey(emitter);
    const start = (await this.m.store.wormholeCursor(key)) ?? BigInt(emitter.startSequence);
    const address = new Uint8Array(Buffer.from(emitter.address.slice(2), "hex"));
    let unsigned = 0;
    for (let sequence = start; unsigned < this.opts.lookahead && sequence < start + MAX_WINDOW; sequence++) {
      const state = await this.visit(
        { emitterChain: emitter.chain, emitterAddress: address, sequence },
        emitter,
        enqueued,
      );
      if (state === undefined || state === "waiting_signatures") unsigned++;
    }
    let cursor = start;
    for (;;) {
      const m = await this.m.store.wormholeMessage(
        messageId({ emitterChain: emitter.chain, emitterAddress: address, sequence: cursor }),
      );
      if (!m || !RESOLVED_WORMHOLE_STATES.has(m.state)) break;
      cursor++;
    }
    if (cursor !== start) await this.m.store.setWormholeCursor(key, cursor);
  }

  /**
   * Look at one message: relayed or skipped ones are done; otherwise ask the guardian API. Returns its state, or
   * undefined for a sequence nobody knows of (not signed, not enqueued, not asked for).
   */
  private async visit(
    q: SignedVaaQuery,
    emitter: WatchedEmitter,
    enqueued: Map<string, EnqueuedVaa> | undefined,
    requested = false,
  ): Promise<WormholeMessageState | undefined> {
    const { store, logger, gateway } = this.m;
    const id = messageId(q);
    const known = await store.wormholeMessage(id);
    if (known && RESOLVED_WORMHOLE_STATES.has(known.state)) {
      if (requested) await store.forgetWormholeRequest(id);
      return known.state;
    }
    const fresh = () => ({
      id,
      emitterChain: q.emitterChain,
      emitterAddress: bytesToHex(q.emitterAddress),
      sequence: q.sequence.toString(),
      eta: 0,
    });
    const listed = enqueued?.get(id);
    let answer: Awaited<ReturnType<typeof fetchSignedVaa>>;
    let setSize = 0;
    try {
      answer = await fetchSignedVaa({
        baseUrl: this.opts.guardianApiUrl,
        query: q,
        guardianSet: async (index) => {
          const set = await gatewayGuardianSet(gateway.public, gateway.gateway, index);
          setSize = set.keys.length;
          return set;
        },
        now: Math.floor(Date.now() / 1000),
      });
    } catch (e) {
      const reason = describeError(e);
      this.m.metrics.failures.inc({ code: (e as { type?: { code?: string } }).type?.code ?? "ERROR" });
      logger.warn({ id, err: reason }, "Guardian API answer refused; will ask again");
      if (known) await store.saveWormholeMessage(id, { state: known.state, lastError: reason.slice(0, 300) }, fresh);
      return known?.state ?? "waiting_signatures";
    }
    if (answer.state === "pending") {
      if (listed)
        return (
          await store.saveWormholeMessage(
            id,
            {
              state: "queued",
              releaseTime: listed.releaseTime,
              eta: listed.releaseTime * 1000,
              notionalValue: listed.notionalValue,
              sourceTx: listed.txHash,
            },
            fresh,
          )
        ).state;
      if (!enqueued && known?.state === "queued") return "queued";
      if (!known && !requested) return undefined;
      const firstSeen = known?.observedAt ?? Date.now();
      await store.saveWormholeMessage(
        id,
        { state: "waiting_signatures", eta: Math.max(firstSeen + emitter.signingSeconds * 1000, Date.now()) },
        fresh,
      );
      return "waiting_signatures";
    }

    const outcome = this.transferOf(answer, setSize, known, listed);
    if ("skip" in outcome) {
      await store.saveWormholeMessage(id, { state: "skipped", reason: outcome.skip, eta: 0 }, fresh);
      logger.info({ id, reason: outcome.skip }, "Wormhole message skipped");
      this.m.metrics.wormholeMessages.inc({ outcome: "skipped" });
    } else {
      if (await store.create(outcome.record)) this.m.metrics.observed.inc({ chain: "wormhole", kind: "transfer" });
      await store.saveWormholeMessage(id, { state: "relayed", digest: outcome.record.digest, eta: 0 }, fresh);
      logger.info({ id, digest: outcome.record.digest }, "Wormhole transfer to RustChain picked up");
      this.m.metrics.wormholeMessages.inc({ outcome: "relayed" });
    }
    await store.forgetWormholeRequest(id);
    return "skip" in outcome ? "skipped" : "relayed";
  }

  /** The transfer record a signed VAA makes, or why it is skipped. */
  private transferOf(
    answer: Extract<Awaited<ReturnType<typeof fetchSignedVaa>>, { state: "signed" }>,
    setSize: number,
    known: WormholeMessage | undefined,
    listed: EnqueuedVaa | undefined,
  ): { record: TransferRecord } | { skip: string } {
    const { vaa, bytes } = answer;
    let payload: ReturnType<typeof decodeTokenBridgePayload>;
    try {
      payload = decodeTokenBridgePayload(vaa.payload);
    } catch {
      return { skip: "not a token-bridge payload" };
    }
    if (payload.payloadId !== 1 && payload.payloadId !== 3)
      return { skip: `payload ${payload.payloadId}, not a transfer` };
    if (payload.toChain !== WORMHOLE_CHAIN.rustchain) return { skip: `a transfer to chain ${payload.toChain}` };
    let recipient: Uint8Array;
    try {
      recipient = fromUniversalAddress(payload.to);
    } catch {
      return { skip: "the recipient is not a 20-byte RustChain address" };
    }
    const now = Date.now();
    const state = payload.payloadId === 3 ? "awaiting_recipient" : "signed";
    return {
      record: {
        digest: bytesToHex(vaa.digest),
        kind: "transfer",
        bridge: "wormhole",
        sourceChain: wormholeChainName(vaa.emitterChain),
        destinationChain: "rustchain",
        emitterChain: vaa.emitterChain,
        emitterAddress: bytesToHex(vaa.emitterAddress),
        sequence: vaa.sequence.toString(),
        sourceTx: listed?.txHash ?? known?.sourceTx ?? "",
        sourceBlock: "",
        sender: payload.payloadId === 3 ? bytesToHex(payload.fromAddress) : "",
        recipient: bytesToHex(recipient),
        amount: payload.amount.toString(),
        fee: payload.payloadId === 1 ? payload.fee.toString() : "0",
        tokenChain: payload.tokenChain,
        tokenAddress: bytesToHex(payload.tokenAddress),
        state,
        eta: state === "signed" ? now + 2 * this.opts.blockTimeMs : 0,
        observedAt: known?.observedAt ?? now,
        updatedAt: now,
        vaa: bytesToHex(bytes),
        signatures: vaa.signatures.length,
        quorum: quorum(setSize),
        attempts: 0,
        history: [{ state, at: now }],
      },
    };
  }
}
