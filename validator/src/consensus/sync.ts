// Range sync: a node that starts late, restarts, or comes back from a partition asks its peers for their status and
// downloads the canonical blocks it lacks, 64 at a time, from its own finalized block upward (blocks it already has
// are skipped), importing each through the chain's one import path. Then gossip keeps it at the head.
import type { PeerId } from "@libp2p/interface";
import { type Block, blockHash, bytesToHex, decodeBlock, encodeBlock } from "@rustchain/shared";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import { BlockError } from "../chain/errors.ts";
import type { Network } from "../network/network.ts";
import { MAX_REQUEST_BLOCKS, type ReqRespHandlers, type Status } from "../network/reqRespCodec.ts";
import type { ConsensusEngine } from "./engine.ts";

/** Import failures that prove the serving peer wrong (the rest can be races with our own head or finality). */
const PEER_FAULTS = new Set([
  "BLOCK_INVALID_CONSENSUS",
  "BLOCK_EXTRAS_ROOT_MISMATCH",
  "BLOCK_INVALID_NUMBER",
  "BLOCK_INVALID_TIMESTAMP",
  "BLOCK_INVALID_GAS_LIMIT",
  "BLOCK_INVALID_BASE_FEE",
  "BLOCK_INVALID_PROPOSER",
  "BLOCK_INVALID_SIGNATURE",
  "BLOCK_INVALID_TRANSACTION",
  "BLOCK_GAS_USED_MISMATCH",
  "BLOCK_STATE_ROOT_MISMATCH",
  "BLOCK_TX_ROOT_MISMATCH",
  "BLOCK_RECEIPT_ROOT_MISMATCH",
  "BLOCK_BLOOM_MISMATCH",
]);

export interface SyncOptions {
  /** Ask a peer for its status at least this often (ms). */
  pollMs: number;
  /** Stop a sync round after this many batches (a round restarts at the next poll). */
  maxBatchesPerRound: number;
}

export class RangeSync {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private readonly log: Logger;

  constructor(
    private readonly opts: SyncOptions,
    private readonly modules: { chain: Chain; engine: ConsensusEngine; network: Network; logger: Logger },
  ) {
    this.log = modules.logger;
  }

  /** What this node serves to peers: status and canonical blocks. */
  static handlers(chain: Chain, engine: () => ConsensusEngine | undefined): ReqRespHandlers {
    return {
      status: async (): Promise<Status> => {
        const e = engine();
        const fin = e ? (await e.status()).finalized : { number: 0n, root: bytesToHex(chain.genesisHash) };
        return {
          chainId: chain.chainId,
          genesisHash: chain.genesisHash,
          headHash: chain.headHash,
          headNumber: chain.head.number,
          finalizedHash: Buffer.from(fin.root.slice(2), "hex"),
          finalizedNumber: fin.number,
        };
      },
      blocksByRange: async (start, count) => {
        const out: Uint8Array[] = [];
        for (let n = start; n < start + BigInt(count); n++) {
          const hash = await chain.canonicalHash(n);
          const block = hash && (await chain.getBlock(hash));
          if (!block) break;
          out.push(encodeBlock(block));
        }
        return out;
      },
      blocksByRoot: async (hashes) => {
        const out: Uint8Array[] = [];
        for (const h of hashes) {
          const block = await chain.getBlock(h);
          if (block) out.push(encodeBlock(block));
        }
        return out;
      },
    };
  }

  start(): void {
    this.stopped = false;
    const net = this.modules.network;
    net.libp2p.addEventListener("peer:connect", this.onConnect);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    try {
      this.modules.network.libp2p.removeEventListener("peer:connect", this.onConnect);
    } catch {
      // network already stopped
    }
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    setTimeout(() => void this.syncWith(evt.detail), 200);
  };

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const peers = this.modules.network.peers();
      const peer = peers[Math.floor(Math.random() * peers.length)];
      const done = peer ? this.syncWith(peer) : Promise.resolve();
      void done.finally(() => this.schedule());
    }, this.opts.pollMs);
  }

  /** A peer showed us a block whose parent we lack. */
  onUnknownParent(peer: PeerId): void {
    void this.syncWith(peer);
  }

  /** One sync round with one peer; concurrent calls while a round runs are dropped. */
  async syncWith(peer: PeerId): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    const { chain, engine, network } = this.modules;
    try {
      const status = await network.requestStatus(peer);
      if (Buffer.compare(status.genesisHash, chain.genesisHash) !== 0) {
        network.reportPeer(peer, "SYNC_OTHER_GENESIS", "irrelevant");
        return;
      }
      if (status.headNumber <= chain.head.number && (await chain.hasBlock(status.headHash))) return;
      let start = (await engine.status()).finalized.number + 1n;
      let imported = 0;
      for (let batch = 0; batch < this.opts.maxBatchesPerRound && start <= status.headNumber; batch++) {
        const raw = await network.requestBlocksByRange(peer, start, MAX_REQUEST_BLOCKS);
        if (raw.length === 0) break;
        for (const data of raw) {
          let block: Block;
          try {
            block = decodeBlock(data);
          } catch {
            this.log.debug({ peer: peer.toString() }, "Sync: malformed block from peer");
            network.reportPeer(peer, "SYNC_MALFORMED_BLOCK", "invalid");
            return;
          }
          if (await chain.hasBlock(blockHash(block.header))) continue;
          try {
            await chain.importBlock(block);
            imported++;
          } catch (e) {
            if (e instanceof BlockError && e.type.code === "BLOCK_ALREADY_KNOWN") continue;
            this.log.warn(
              { err: (e as Error).message, number: Number(block.header.number), peer: peer.toString() },
              "Sync: a peer's block failed to import",
            );
            if (e instanceof BlockError && e.type.code === "BLOCK_CONFLICTS_CHECKPOINT") {
              network.reportPeer(peer, e.type.code, "irrelevant");
            } else if (e instanceof BlockError && PEER_FAULTS.has(e.type.code)) {
              network.reportPeer(peer, e.type.code, "invalid");
            }
            return;
          }
        }
        start += BigInt(raw.length);
      }
      if (imported > 0) {
        await engine.updateHead();
        this.log.info({ imported, head: Number(chain.head.number), peer: peer.toString() }, "Synced blocks");
      }
    } catch (e) {
      this.log.debug({ err: (e as Error).message, peer: peer.toString() }, "Sync round failed");
    } finally {
      this.running = false;
    }
  }
}
