// The consensus parts a node needs before its chain exists (the chain's block rules read them), wired in their
// constructors: the slot clock, the chain view, consensus state, the pools, the vote processor, the certificate
// builder and the block rules handed to the chain. The engine (duties, reactions) comes after the chain and network.
import type { Genesis } from "@rustchain/shared";
import type { Logger } from "pino";
import type { HeaderStore } from "../chain/headerStore.ts";
import { CheckpointStore } from "../db/checkpointStore.ts";
import type { Database } from "../db/database.ts";
import type { StateDb } from "../state/stateDb.ts";
import { BlockRules } from "./blockRules.ts";
import { CertificateBuilder } from "./certificates/certificateBuilder.ts";
import { ChainView } from "./chainView.ts";
import { SlotClock } from "./clock.ts";
import { type CanonicalChainReader, ConsensusState } from "./consensusState.ts";
import { type FinalityMetrics, FinalityRecorder } from "./finalityRecorder.ts";
import type { ConsensusOptions } from "./options.ts";
import { AiProofPool } from "./pools/aiProofPool.ts";
import { AttestationPool } from "./pools/attestationPool.ts";
import { EvidencePool } from "./pools/evidencePool.ts";
import { FinalizeVotePool } from "./pools/finalizeVotePool.ts";
import { VoteProcessor } from "./voteProcessor.ts";

export type ConsensusParts = ReturnType<typeof createConsensus>;

export function createConsensus(
  opts: ConsensusOptions,
  modules: {
    genesis: Genesis;
    db: Database;
    stateDb: StateDb;
    headers: HeaderStore;
    logger: Logger;
    metrics?: FinalityMetrics;
  },
) {
  const { genesis, db, stateDb, headers, logger } = modules;
  const validatorCount = () => genesis.validators.length;
  const clock = new SlotClock(Number(genesis.timestamp) * 1000, genesis.params.slotMs);
  const view = new ChainView(genesis, { headers, state: stateDb });
  const checkpoints = new CheckpointStore(db);
  const state = new ConsensusState({ view, checkpoints, logger });
  const pools = {
    attestations: new AttestationPool(
      { maxSlotsKept: opts.attestationWindowSlots, maxDataPerSlot: 64 },
      { validatorCount },
    ),
    finalizeVotes: new FinalizeVotePool(
      { maxSlotsKept: opts.attestationWindowSlots, maxCheckpointsPerSlot: 16 },
      { validatorCount },
    ),
    evidence: new EvidencePool({ maxPooled: opts.maxPooledEvidence }),
    aiProofs: new AiProofPool({ maxPooled: opts.maxPooledAiProofs }),
  };
  const certificates = new CertificateBuilder(
    { maxSlotsKept: opts.attestationWindowSlots },
    {
      validatorCount: genesis.validators.length,
      view,
      state: stateDb,
      attestations: pools.attestations,
      finalizeVotes: pools.finalizeVotes,
    },
  );
  const votes = new VoteProcessor({
    state,
    attestations: pools.attestations,
    finalizeVotes: pools.finalizeVotes,
    certificates,
    logger,
  });
  // Listening from here on: what start-up replay finalizes is recorded too.
  const recorder = new FinalityRecorder(
    { certificateRetrySlots: opts.inclusionWindowSlots + 2 },
    { state, checkpoints, certificates, clock, logger, metrics: modules.metrics },
  );
  votes.on("block", () => recorder.retryCertificates());
  const rules = new BlockRules(opts, {
    genesis,
    view,
    state,
    onImported: (hash, header, effects) => votes.onBlockImported(hash, header, effects),
  });
  /** Restore consensus state once the chain is open (before any block can be imported). */
  const restore = (chain: CanonicalChainReader) =>
    state.restore(chain, (aggregates) => votes.onReplayedAggregates(aggregates));
  return { clock, view, checkpoints, state, pools, certificates, votes, recorder, rules, restore };
}
