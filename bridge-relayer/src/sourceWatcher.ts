// Watches one chain's gateway for published messages as soon as they are mined (not only once final: the status
// page shows "waiting for finality" with an ETA), and appends each to the Redis stream. The cursor moves after a
// range's messages are all appended, so a crash repeats at most one range; the processor drops repeats by digest.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { LOG_MESSAGE_PUBLISHED, messageFromLog, type RpcLog } from "@rustchain/shared/bridge/messageLog";
import { encodeVaaBody, vaaDigest } from "@rustchain/shared/bridge/vaa";
import type { Logger } from "pino";
import type { PublicClient } from "viem";
import type { ChainName } from "./deployment.ts";
import type { RelayerMetrics } from "./metrics.ts";
import type { TransferStore } from "./transferStore.ts";

export interface SourceWatcherOptions {
  chain: ChainName;
  wormholeChain: number;
  gateway: string;
  fromBlock: bigint;
  maxRange: bigint;
}

/** What the watcher appends to the stream for each message (all strings: stream fields). */
export interface Observation extends Record<string, string> {
  chain: string;
  body: string;
  digest: string;
  txHash: string;
  blockNumber: string;
  blockHash: string;
  sender: string;
}

export class SourceWatcher {
  constructor(
    private readonly opts: SourceWatcherOptions,
    private readonly modules: { client: PublicClient; store: TransferStore; metrics: RelayerMetrics; logger: Logger },
  ) {}

  /** One pass up to the chain's latest block. Returns how many messages were appended. */
  async poll(): Promise<number> {
    const { client, store } = this.modules;
    const latest = await client.getBlockNumber({ cacheTime: 0 });
    const done = await store.cursor(this.opts.chain);
    let from = done === undefined ? this.opts.fromBlock : done + 1n;
    let appended = 0;
    const gateway = hexToBytes(this.opts.gateway.toLowerCase());
    while (from <= latest) {
      const to = from + this.opts.maxRange - 1n < latest ? from + this.opts.maxRange - 1n : latest;
      const logs = (await client.request({
        method: "eth_getLogs",
        params: [
          {
            address: this.opts.gateway as `0x${string}`,
            topics: [LOG_MESSAGE_PUBLISHED],
            fromBlock: `0x${from.toString(16)}`,
            toBlock: `0x${to.toString(16)}`,
          },
        ],
      })) as unknown as RpcLog[];
      for (const log of logs) {
        const block = await client.getBlock({ blockNumber: BigInt(log.blockNumber) });
        const body = messageFromLog(log, this.opts.wormholeChain, gateway, Number(block.timestamp));
        if (!body) continue;
        const tx = await client.getTransaction({ hash: log.transactionHash as `0x${string}` });
        const encoded = encodeVaaBody(body);
        const observation: Observation = {
          chain: this.opts.chain,
          body: bytesToHex(encoded),
          digest: bytesToHex(vaaDigest(encoded)),
          txHash: log.transactionHash,
          blockNumber: BigInt(log.blockNumber).toString(),
          blockHash: log.blockHash,
          sender: tx.from.toLowerCase(),
        };
        await store.append(observation);
        appended++;
        this.modules.logger.info(
          { chain: this.opts.chain, sequence: Number(body.sequence), tx: log.transactionHash },
          "Bridge message observed",
        );
      }
      await store.setCursor(this.opts.chain, to);
      from = to + 1n;
      this.modules.metrics.lagBlocks.set({ chain: this.opts.chain }, Number(latest - to));
    }
    return appended;
  }
}
