// Range sync: a node that starts late, restarts, or comes back from a partition asks its peers for their status and
// downloads the canonical blocks it lacks, 64 at a time, from its own finalized block upward (blocks it already has
// are skipped), importing each through the chain's one import path. Then gossip keeps it at the head.
// Finality sync: when the peer has finalized further, the node fetches the peer's finality certificates from its own
// finalized checkpoint on, verifies each (shared/src/consensus/certificateVerifier.ts) and adopts the checkpoints they
// prove. Blocks carry attestations but never finalize votes, so a node that missed a slot's finalize votes (down,
// cut off) could otherwise not finalize what the others did, nor switch to the weights they switched to.
import type { PeerId } from "@libp2p/interface";
import { type Block, blockHash, decodeBlock, encodeBlock, hexToBytes } from "@rustchain/shared";
import { CertificateVerifier } from "@rustchain/shared/consensus/certificateVerifier";
import { checkpointEquals } from "@rustchain/shared/consensus/checkpoint";
import { CertificateError, decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { CheckpointStore } from "../db/checkpointStore.ts";
import type { Network } from "../network/network.ts";
import {
  MAX_REQUEST_BLOCKS,
  MAX_REQUEST_CERTIFICATES,
  type ReqRespHandlers,
  type Status,
} from "../network/reqRespCodec.ts";
import type { ConsensusState } from "./consensusState.ts";
import { blockImportFault } from "./errors.ts";

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
    private readonly modules: {
      chain: Chain;
      state: ConsensusState;
      network: Network;
      logger: Logger;
      /** The chain's head follows fork choice. */
      updateHead(): Promise<void>;
    },
  ) {
    this.log = modules.logger;
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
    const { chain, state, network } = this.modules;
    try {
      const status = await network.requestStatus(peer);
      if (Buffer.compare(status.genesisHash, chain.genesisHash) !== 0) {
        network.reportPeer(peer, "SYNC_OTHER_GENESIS", "irrelevant");
        return;
      }
      const aheadInFinality = () => status.finalizedSlot > BigInt(state.finality.finalized.slot);
      if (status.headNumber <= chain.head.number && (await chain.hasBlock(status.headHash))) {
        if (aheadInFinality()) await this.syncFinality(peer);
        return;
      }
      let start = state.finalizedNumber + 1n;
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
            const { code, fault } = blockImportFault(e);
            if (code === "BLOCK_ALREADY_KNOWN") continue;
            this.log.warn(
              { err: (e as Error).message, number: Number(block.header.number), peer: peer.toString() },
              "Sync: a peer's block failed to import",
            );
            // A block breaking a rule proves the peer wrong; another chain (checkpoint) gets it banned; races cost nothing.
            if (fault === "invalid" || fault === "irrelevant") network.reportPeer(peer, code, fault);
            return;
          }
        }
        start += BigInt(raw.length);
      }
      if (aheadInFinality()) await this.syncFinality(peer);
      if (imported > 0) {
        await this.modules.updateHead();
        this.log.info({ imported, head: Number(chain.head.number), peer: peer.toString() }, "Synced blocks");
      }
    } catch (e) {
      this.log.debug({ err: (e as Error).message, peer: peer.toString() }, "Sync round failed");
    } finally {
      this.running = false;
    }
  }

  /**
   * Adopt the peer's finality beyond ours, certificate by certificate: each must name our finalized checkpoint as its
   * parent, verify, and finalize a block we hold. A certificate that does not verify costs the peer.
   */
  private async syncFinality(peer: PeerId): Promise<void> {
    const { chain, state, network } = this.modules;
    let adopted = 0;
    for (let batch = 0; batch < MAX_CERTIFICATE_BATCHES; batch++) {
      const from = state.finality.finalized;
      const certs = await network.requestFinalityCertificates(peer, BigInt(from.slot), MAX_REQUEST_CERTIFICATES);
      let progressed = false;
      for (const encoded of certs) {
        const ours = state.finality.finalized;
        let next: ReturnType<typeof decodeFinalityCertificate>;
        try {
          next = decodeFinalityCertificate(encoded);
          if (!checkpointEquals(next.parent, ours)) continue; // another part of the peer's history
          const verifier = new CertificateVerifier(
            { chainId: chain.chainId, validators: chain.genesis.validators, crypto: nativeCertificateCrypto },
            { checkpoint: ours },
          );
          await verifier.verifyNext(encoded);
        } catch (e) {
          if (!(e instanceof CertificateError)) throw e;
          this.log.warn({ code: e.type.code, peer: peer.toString() }, "Sync: a peer's finality certificate is invalid");
          network.reportPeer(peer, e.type.code, "invalid");
          return;
        }
        // The block must be ours already (blocks are synced first), on our finalized chain.
        const refused = state.finality.adoptFinalized(next.checkpoint, encoded);
        if (refused !== undefined) {
          this.log.debug(
            { checkpoint: next.checkpoint, refused, peer: peer.toString() },
            "Sync: certificate not adopted",
          );
          break;
        }
        adopted++;
        progressed = true;
      }
      if (!progressed || certs.length < MAX_REQUEST_CERTIFICATES) break;
    }
    if (adopted > 0) {
      this.log.info({ adopted, finalized: state.finality.finalized, peer: peer.toString() }, "Synced finality");
    }
  }
}

/** Most certificate requests in one finality sync round. */
const MAX_CERTIFICATE_BATCHES = 8;

/**
 * What this node serves to peers: status, canonical blocks and finality certificates. Used only once the chain is
 * open and consensus restored (the network starts after both).
 */
export function createReqRespHandlers(modules: {
  chain: Chain;
  state: ConsensusState;
  checkpoints: CheckpointStore;
}): Omit<ReqRespHandlers, "snapshotManifest" | "snapshotChunk"> {
  const { chain, state, checkpoints } = modules;
  return {
    status: async (): Promise<Status> => ({
      chainId: chain.chainId,
      genesisHash: chain.genesisHash,
      headHash: chain.headHash,
      headNumber: chain.head.number,
      finalizedHash: hexToBytes(state.finality.finalized.root),
      finalizedNumber: state.finalizedNumber,
      finalizedSlot: BigInt(state.finality.finalized.slot),
    }),
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
    finalityCertificates: async (fromSlot, count) =>
      (await checkpoints.certificatesFrom(Number(fromSlot), count)).map((c) => c.encoded),
  };
}
