// Where every verified vote goes (docs/consensus.md, "Every received attestation"): our own, gossiped ones, and those
// a stored block carries. Single votes pass the equivocation index first (a double, surround or finalizer offence
// becomes evidence, and the offender's votes stop counting in fork choice); then they count in fork choice and
// finality and enter the pools that blocks and finality certificates draw from. Block headers pass the index too
// (double proposals).
import { EventEmitter } from "node:events";
import { type BlockHeader, bytesToHex } from "@rustchain/shared";
import type { Logger } from "pino";
import type { CertificateBuilder } from "./certificates/certificateBuilder.ts";
import type { ConsensusState } from "./consensusState.ts";
import {
  EquivocationIndex,
  FinalityError,
  type IndexedAttestation,
  type IndexedFinalizeVote,
  type ProposalHeader,
  type SlashingEvidence,
} from "./forkChoice/index.ts";
import {
  type AggregateAttestation,
  type SignedAttestation,
  type SignedFinalizeVote,
  toIndexed,
} from "./messages/attestation.ts";
import type { Evidence } from "./messages/evidence.ts";
import type { AttestationPool } from "./pools/attestationPool.ts";
import type { FinalizeVotePool } from "./pools/finalizeVotePool.ts";
import type { ConsensusEffects } from "./stateTransition/index.ts";

type EquivAttestation = IndexedAttestation & { signed: SignedAttestation };
type EquivFinalize = IndexedFinalizeVote & { signed: SignedFinalizeVote };
type EquivHeader = ProposalHeader & { header: BlockHeader };

export interface VoteProcessorEvents {
  /** A slashable offence this node detected itself. */
  evidence: [Evidence, number];
  /** A block was stored (its votes counted). */
  block: [Uint8Array, BlockHeader];
}

export class VoteProcessor extends EventEmitter<VoteProcessorEvents> {
  private readonly equivocations = new EquivocationIndex<EquivAttestation, EquivHeader, EquivFinalize>();
  /** Slots in which a valid block was stored (a fallback proposer waits for one). */
  private readonly slotsWithBlocks = new Set<bigint>();

  constructor(
    private readonly modules: {
      state: ConsensusState;
      attestations: AttestationPool;
      finalizeVotes: FinalizeVotePool;
      certificates: CertificateBuilder;
      logger: Logger;
    },
  ) {
    super();
  }

  /** A signature-checked single attestation (ours or gossiped). */
  onAttestation(att: SignedAttestation): void {
    const evidence = this.equivocations.ingestAttestation({
      validatorIndex: att.validatorIndex,
      data: att.data,
      signed: att,
    });
    this.report(evidence);
    if (evidence.length > 0) return;
    this.modules.state.countVotes([{ validatorIndex: att.validatorIndex, data: att.data }]);
    this.modules.attestations.add(att);
  }

  /** A signature-checked finalize vote (ours or gossiped). */
  onFinalizeVote(vote: SignedFinalizeVote): void {
    const evidence = this.equivocations.ingestFinalizeVote({
      validatorIndex: vote.validatorIndex,
      checkpoint: vote.checkpoint,
      signed: vote,
    });
    this.report(evidence);
    if (evidence.length > 0) return;
    try {
      this.modules.state.finality.onFinalizeVote({ validatorIndex: vote.validatorIndex, checkpoint: vote.checkpoint });
    } catch (e) {
      // An unknown block (it may arrive later) or an invalid checkpoint: nothing to count now.
      if (!(e instanceof FinalityError)) throw e;
      return;
    }
    this.modules.finalizeVotes.add(vote);
  }

  /** A block was stored: its carried votes count, its weights are recorded, and its header is checked for equivocation. */
  onBlockImported(hash: Uint8Array, header: BlockHeader, effects: ConsensusEffects): void {
    const { state, certificates } = this.modules;
    state.setBlockWeights(hash, header, effects.weights);
    this.slotsWithBlocks.add(header.slot);
    this.report(
      this.equivocations.ingestProposal({
        slot: Number(header.slot),
        proposerIndex: Number(header.proposerIndex),
        root: bytesToHex(hash),
        header,
      }),
    );
    // Votes carried by blocks count toward fork choice and finality (a node that missed the gossip still finalizes);
    // their aggregates are kept first, for the certificate of whatever they finalize.
    certificates.recordBlockAggregates(effects.aggregates);
    state.countVotes(effects.votes);
    this.emit("block", hash, header);
  }

  /** The aggregates of a stored block replayed on start-up (verified when it was imported). */
  onReplayedAggregates(aggregates: readonly AggregateAttestation[]): void {
    this.modules.certificates.recordBlockAggregates(aggregates);
    this.modules.state.countVotes(aggregates.flatMap((a) => toIndexed(a)));
  }

  hasBlockInSlot(slot: bigint): boolean {
    return this.slotsWithBlocks.has(slot);
  }

  /** Forgets votes and headers before `minSlot` (the equivocation window). */
  prune(minSlot: number): void {
    this.equivocations.prune(minSlot);
    for (const s of this.slotsWithBlocks) if (s < BigInt(minSlot)) this.slotsWithBlocks.delete(s);
  }

  private report(found: readonly SlashingEvidence<EquivAttestation, EquivHeader, EquivFinalize>[]): void {
    for (const ev of found) {
      let evidence: Evidence;
      let offender: number;
      switch (ev.kind) {
        case "double_proposal":
          evidence = { kind: "double_proposal", header1: ev.header1.header, header2: ev.header2.header };
          offender = ev.proposerIndex;
          break;
        case "double_vote":
        case "surround_vote":
          evidence = { kind: "attester", a1: ev.attestation1.signed, a2: ev.attestation2.signed };
          offender = ev.validatorIndex;
          break;
        case "double_finalize":
          evidence = { kind: "double_finalize", f1: ev.vote1.signed, f2: ev.vote2.signed };
          offender = ev.validatorIndex;
          break;
        case "finalize_surround":
          evidence = { kind: "finalize_surround", finalize: ev.finalize.signed, attestation: ev.attestation.signed };
          offender = ev.validatorIndex;
          break;
      }
      // A validator caught voting both ways stops counting in fork choice at once.
      if (ev.kind !== "double_proposal") this.modules.state.forkChoice.onEquivocation(offender);
      this.emit("evidence", evidence, offender);
    }
  }
}
