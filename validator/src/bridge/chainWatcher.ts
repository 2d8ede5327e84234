// Watches one chain's gateway for bridge messages, final ones only (docs/bridge.md, "The committee"): every poll it
// reads the chain's `finalized` block, then the gateway's LogMessagePublished logs from its cursor up to it, in
// bounded ranges, and hands each message to `onMessage` before it moves the cursor past that range. The cursor is on
// disk, so a restart neither skips nor repeats a range (handling the same message twice is harmless: signing is
// deterministic and stores are idempotent). The same code watches Ethereum (its JSON-RPC) and RustChain (this node's
// own RPC handlers, in process): both speak the same eth_ methods.

import { LOG_MESSAGE_PUBLISHED, messageFromLog, type RpcLog } from "@rustchain/shared/bridge/messageLog";
import type { VaaBody } from "@rustchain/shared/bridge/vaa";
import type { Logger } from "pino";
import type { BridgeStore } from "./bridgeStore.ts";

export type RpcCall = (method: string, params: unknown[]) => Promise<unknown>;

export interface ChainWatcherOptions {
  /** Also the cursor's name: "ethereum", "rustchain". */
  name: string;
  /** The chain's Wormhole id (the emitterChain of its messages). */
  emitterChain: number;
  gateway: Uint8Array;
  pollMs: number;
  /** Largest eth_getLogs range. */
  maxRange: bigint;
  /** Where to start when there is no cursor yet (the gateway's deployment block, or 0). */
  fromBlock: bigint;
}

export interface ChainWatcherModules {
  rpc: RpcCall;
  store: BridgeStore;
  logger: Logger;
  onMessage(body: VaaBody): Promise<void>;
}

export class ChainWatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  /** Finalized height last seen, for status and metrics. */
  finalized: bigint | undefined;

  constructor(
    private readonly opts: ChainWatcherOptions,
    private readonly modules: ChainWatcherModules,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().then(
        () => {
          this.failures = 0;
          this.schedule(this.opts.pollMs);
        },
        (e) => {
          this.failures++;
          // Back off while the chain's RPC is down, without giving up: up to 30 s between attempts.
          const wait = Math.min(30_000, this.opts.pollMs * 2 ** Math.min(this.failures, 6));
          this.modules.logger.warn(
            { chain: this.opts.name, err: (e as Error).message, retryInMs: wait },
            "Bridge watcher poll failed",
          );
          this.schedule(wait);
        },
      );
    }, ms);
  }

  /** One pass: every final message up to the chain's finalized block. */
  async poll(): Promise<void> {
    const { rpc, store } = this.modules;
    const head = (await rpc("eth_getBlockByNumber", ["finalized", false])) as { number: string } | null;
    if (!head) return;
    const finalized = BigInt(head.number);
    this.finalized = finalized;
    const done = await store.cursor(this.opts.name);
    let from = done === undefined ? this.opts.fromBlock : done + 1n;
    while (from <= finalized && !this.stopped) {
      const to = from + this.opts.maxRange - 1n < finalized ? from + this.opts.maxRange - 1n : finalized;
      const logs = (await rpc("eth_getLogs", [
        {
          address: `0x${Buffer.from(this.opts.gateway).toString("hex")}`,
          topics: [LOG_MESSAGE_PUBLISHED],
          fromBlock: `0x${from.toString(16)}`,
          toBlock: `0x${to.toString(16)}`,
        },
      ])) as RpcLog[];
      const timestamps = new Map<string, number>();
      for (const log of logs) {
        let timestamp = timestamps.get(log.blockNumber);
        if (timestamp === undefined) {
          const block = (await rpc("eth_getBlockByNumber", [log.blockNumber, false])) as { timestamp: string };
          timestamp = Number(BigInt(block.timestamp));
          timestamps.set(log.blockNumber, timestamp);
        }
        const body = messageFromLog(log, this.opts.emitterChain, this.opts.gateway, timestamp);
        if (body) await this.modules.onMessage(body);
        else this.modules.logger.debug({ chain: this.opts.name, tx: log.transactionHash }, "Not a bridge message");
      }
      await store.setCursor(this.opts.name, to);
      from = to + 1n;
    }
  }
}
