// Gossip wiring (docs/consensus.md, "Gossip validation"): per topic, the pure validator that decides accept / IGNORE /
// REJECT inside gossipsub's callback (consensus/validation/*), and the handler that processes an accepted message
// afterwards. Blocks are imported after acceptance, outside the callback; an import that then fails on a rule costs
// the sender its score, and a missing parent starts a sync with it.
import type { EventEmitter } from "node:events";
import type { PeerId } from "@libp2p/interface";
import { bytesToHex, decodeBlock, type RustChainError, type SignedTransaction } from "@rustchain/shared";
import type { Logger } from "pino";
import type { BridgeService } from "../bridge/bridgeService.ts";
import type { Chain } from "../chain/chain.ts";
import { verifyAiProofOnChain } from "../consensus/ai/verifyOnChain.ts";
import type { ChainView } from "../consensus/chainView.ts";
import type { SlotClock } from "../consensus/clock.ts";
import type { ConsensusState } from "../consensus/consensusState.ts";
import type { Doppelganger } from "../consensus/duties/doppelganger.ts";
import type { ConsensusEngine } from "../consensus/engine.ts";
import { blockImportFault } from "../consensus/errors.ts";
import type { ConsensusOptions } from "../consensus/options.ts";
import type { AiProofPool } from "../consensus/pools/aiProofPool.ts";
import type { EvidencePool } from "../consensus/pools/evidencePool.ts";
import { validateGossipAiProof } from "../consensus/validation/aiProof.ts";
import { validateGossipAttestation } from "../consensus/validation/attestation.ts";
import { validateGossipBlock } from "../consensus/validation/block.ts";
import type { BlockGossipContext } from "../consensus/validation/context.ts";
import { validateGossipEvidence } from "../consensus/validation/evidence.ts";
import { validateGossipFinalizeVote } from "../consensus/validation/finalizeVote.ts";
import type { VoteProcessor } from "../consensus/voteProcessor.ts";
import type { SenderRecovery } from "../execution/senderRecovery.ts";
import type { Mempool } from "../mempool/mempool.ts";
import { GossipValidationError } from "../network/errors.ts";
import type { GossipValidator } from "../network/gossipValidatorFn.ts";
import type { Network } from "../network/network.ts";
import { GOSSIP_TOPIC_NAMES, type GossipTopicName } from "../network/topics.ts";
import { decodeTxBatch, defaultTxGossipBatcherOptions, TxGossipBatcher } from "./txGossip.ts";

export interface GossipModules {
  chain: Chain;
  view: ChainView;
  state: ConsensusState;
  votes: VoteProcessor;
  pools: { evidence: EvidencePool; aiProofs: AiProofPool };
  mempool: Mempool;
  recovery: SenderRecovery;
  clock: SlotClock;
  /** Transactions that came in by gossip (not gossiped back when they enter the pool); shared with wireGossip. */
  txsFromGossip: WeakSet<SignedTransaction>;
  /** Collects the bridge committee's signatures (every node serves them). */
  bridge: BridgeService;
  /** This validator's doppelganger guard: it sees every valid vote carrying our index. */
  doppelganger?: Doppelganger;
  logger: Logger;
}

export interface GossipEvents {
  /** A gossiped block's parent is unknown: `peer` has blocks we lack. */
  unknownParent: [PeerId];
}

/** The validators of every topic, and the transactions they accepted (so we do not gossip those back). */
export function createGossipValidators(
  opts: ConsensusOptions,
  modules: GossipModules,
  events: EventEmitter<GossipEvents>,
): Record<GossipTopicName, GossipValidator> {
  const { chain, view, state, pools, votes } = modules;
  const genesis = chain.genesis;
  const clockCtx = {
    chainId: genesis.params.chainId,
    currentSlot: () => modules.clock.currentSlot(),
    finalizedSlot: () => state.finality.finalized.slot,
    futureSlotTolerance: opts.futureSlotTolerance,
    voteWindowSlots: opts.attestationWindowSlots,
    pubkeyOf: (i: number) => genesis.validators[i]?.blsPublicKey,
  };
  const blockCtx: BlockGossipContext = {
    ...clockCtx,
    view,
    hasBlock: (hash) => chain.hasBlock(hash),
    header: (hash) => view.header(hash),
    feeRecipientOf: (i) => genesis.validators[i]?.feeRecipient,
    onFinalizedChain: (hash) => state.forkChoice.hasBlock(bytesToHex(hash)),
  };
  return {
    blocks: async (_t, data, from) => {
      try {
        await validateGossipBlock(blockCtx, data);
      } catch (e) {
        if (e instanceof GossipValidationError && e.type.code === "BLOCK_UNKNOWN_PARENT")
          events.emit("unknownParent", from);
        throw e;
      }
    },
    attestations: async (_t, data) => {
      const att = validateGossipAttestation(clockCtx, data);
      votes.onAttestation(att);
      modules.doppelganger?.observe("attestation", att.validatorIndex, BigInt(att.data.target.slot));
    },
    finalize_votes: async (_t, data) => {
      const vote = validateGossipFinalizeVote(clockCtx, data);
      votes.onFinalizeVote(vote);
      modules.doppelganger?.observe("finalize_vote", vote.validatorIndex, BigInt(vote.checkpoint.slot));
    },
    slashings: async (_t, data) => {
      const { evidence, offender } = validateGossipEvidence(
        {
          ...clockCtx,
          isKnown: (id) => pools.evidence.has(id),
          poolFull: () => pools.evidence.size >= opts.maxPooledEvidence,
        },
        data,
      );
      pools.evidence.add(evidence, offender);
    },
    ai_proofs: async (_t, data) => {
      const proof = await validateGossipAiProof(
        {
          enabled: genesis.ai !== undefined,
          currentEpoch: () => view.epochOf(clockCtx.currentSlot()),
          isKnownExactly: (p, d) => pools.aiProofs.hasExactly(p, d),
          hasProofFor: (p) => pools.aiProofs.get(p.miner, p.epoch) !== undefined,
          poolFull: () => pools.aiProofs.size >= opts.maxPooledAiProofs,
          verify: (p) => verifyAiProofOnChain(view, p, chain.headHash),
        },
        data,
      );
      pools.aiProofs.add(proof, data);
    },
    txs: transactionValidator(modules),
    bridge_signatures: (_t, data) => modules.bridge.onGossip(data),
  };
}

/**
 * A gossiped batch of transactions is checked like an RPC batch: one recovery call, then each enters the pool (those
 * accepted are not gossiped back). A transaction that cannot be decoded or recovered REJECTs the message (its
 * sender should have checked it); a batch of which nothing was new is IGNOREd (not forwarded further).
 */
function transactionValidator(modules: GossipModules): GossipValidator {
  return async (_t, data) => {
    // A busy pool takes nothing more (mempool.busy()): not the sender's fault, so IGNORE, before any recovery.
    if (modules.mempool.busy()) throw new GossipValidationError("IGNORE", { code: "TX_POOL_BUSY" });
    const recovered = await modules.recovery.recover(decodeTxBatch(data));
    if (recovered.some((r) => !("tx" in r))) throw new GossipValidationError("REJECT", { code: "TX_INVALID" });
    let accepted = 0;
    let lastRefusal = "TX";
    for (const r of recovered as SignedTransaction[]) {
      modules.txsFromGossip.add(r);
      try {
        await modules.mempool.add(r);
        accepted++;
      } catch (e) {
        lastRefusal = (e as RustChainError<{ code: string }>).type?.code ?? "TX";
      }
    }
    if (accepted === 0) throw new GossipValidationError("IGNORE", { code: lastRefusal });
  };
}

/**
 * After validation: accepted blocks are imported (an import that fails on a rule costs the sender), our own pool's
 * new transactions are gossiped, and the consensus topics are subscribed to.
 */
export function wireGossip(
  network: Network,
  modules: {
    chain: Chain;
    engine: ConsensusEngine;
    mempool: Mempool;
    txsFromGossip: WeakSet<SignedTransaction>;
    logger: Logger;
  },
): { stop(): void } {
  const { chain, engine, mempool, logger } = modules;
  network.onGossip(async (topic, data, from) => {
    if (topic !== "blocks") return;
    const block = decodeBlock(data);
    try {
      await chain.importBlock(block);
      await engine.updateHead();
    } catch (e) {
      const { code, fault } = blockImportFault(e);
      if (fault === "invalid" || fault === "irrelevant") network.reportPeer(from, code, fault);
      else if (fault === "ours")
        logger.warn({ err: (e as Error).message, slot: Number(block.header.slot) }, "Gossip block import failed");
      else logger.debug({ code, slot: Number(block.header.slot) }, "Gossip block not imported");
    }
  });
  for (const t of GOSSIP_TOPIC_NAMES) network.subscribe(t);
  const txBatches = new TxGossipBatcher(defaultTxGossipBatcherOptions, {
    send: (batch) => {
      network.publish("txs", batch).catch((e) => logger.debug({ err: (e as Error).message }, "Tx publish failed"));
    },
  });
  mempool.on("added", (stx: SignedTransaction) => {
    if (!modules.txsFromGossip.has(stx)) txBatches.add(stx.raw);
  });
  return { stop: () => txBatches.stop() };
}
