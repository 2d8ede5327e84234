// The attester duties (docs/consensus.md, "Slot timing"):
//   at 1/3 of slot s   attest: head = the fork-choice head, target = the checkpoint of s on it, source = the latest
//                      justified checkpoint (after our own block of s, if we proposed, has landed);
//   once (s, B) is justified in slot s   finalize-vote it: the second vote that finalizes B within its slot.
// Each message is recorded by slashing protection before it is signed (attestations as the half-slot grid link
// 2·source → 2·target, finalize votes as 2s → 2s + 1), and signed only after the justified checkpoint it builds on
// is on disk, so a restart can never leave the validator unable to vote again.
import type { Logger } from "pino";
import type { SlotClock } from "../clock.ts";
import type { ConsensusState } from "../consensusState.ts";
import { type AttestationData, buildAttestationData, type Checkpoint } from "../forkChoice/index.ts";
import {
  attestationSigningRoot,
  encodeSignedAttestation,
  encodeSignedFinalizeVote,
  finalizeSigningRoot,
  signedAttestation,
  signedFinalizeVote,
} from "../messages/attestation.ts";
import type { VoteProcessor } from "../voteProcessor.ts";
import type { GossipPublisher, LocalValidator } from "./types.ts";

export interface AttesterModules {
  chainId: bigint;
  state: ConsensusState;
  clock: SlotClock;
  validator: LocalValidator;
  publisher: GossipPublisher | undefined;
  votes: VoteProcessor;
  /** Resolves once our own proposal (if any) has landed. */
  proposalSettled(): Promise<void>;
  updateHead(): Promise<void>;
  /** Resolves once the latest justified checkpoint is on disk. */
  justifiedPersisted(): Promise<void>;
  logger: Logger;
}

export class AttesterDuty {
  private attesting: Promise<void> = Promise.resolve();
  private finalizeVotedSlot = -1;

  constructor(private readonly modules: AttesterModules) {}

  attest(slot: bigint): Promise<void> {
    this.attesting = this.attestNow(slot);
    return this.attesting;
  }

  private async attestNow(slot: bigint): Promise<void> {
    const { state, validator: v, chainId, logger } = this.modules;
    // Our own block of this slot is still being built: vote after it lands, not for its parent.
    await this.modules.proposalSettled();
    await this.modules.updateHead();
    let data: AttestationData;
    try {
      data = buildAttestationData(Number(slot), state.forkChoice, state.finality.justified);
    } catch (e) {
      // An honest validator that cannot vote is worth seeing: finality needs its weight.
      logger.warn({ err: (e as Error).message, slot: Number(slot) }, "No attestation this slot");
      v.onDuty?.("attest", "missed");
      return;
    }
    await this.modules.justifiedPersisted();
    let signature: Uint8Array;
    try {
      signature = await v.signer.attestation({
        sourceSlot: BigInt(data.source.slot),
        targetSlot: BigInt(data.target.slot),
        signingRoot: attestationSigningRoot(chainId, data),
      });
    } catch (e) {
      logger.warn(
        { err: (e as Error).message, slot: Number(slot) },
        "Signer refused an attestation (slashing protection or doppelganger guard)",
      );
      v.onDuty?.("attest", "missed");
      return;
    }
    const att = signedAttestation(v.index, data, signature);
    v.onDuty?.("attest", "done");
    this.modules.votes.onAttestation(att);
    await this.modules.publisher
      ?.publish("attestations", encodeSignedAttestation(att))
      .catch((e) => logger.debug({ err: (e as Error).message }, "Attestation publish failed"));
  }

  /**
   * A checkpoint was justified in our view. If it is the current slot's, vote to finalize it, once per slot and
   * after our own attestation of the slot (a finalize vote first would put that attestation below the watermark).
   */
  async onJustified(cp: Checkpoint): Promise<void> {
    const { clock, validator: v, chainId, logger } = this.modules;
    if (BigInt(cp.slot) !== clock.currentSlot() || cp.slot <= this.finalizeVotedSlot) return;
    this.finalizeVotedSlot = cp.slot;
    await this.attesting;
    await this.modules.justifiedPersisted();
    if (BigInt(cp.slot) !== clock.currentSlot()) return; // too late now: the next slot's attestation may be out
    let signature: Uint8Array;
    try {
      signature = await v.signer.finalizeVote(BigInt(cp.slot), finalizeSigningRoot(chainId, cp));
    } catch (e) {
      logger.warn(
        { err: (e as Error).message, slot: cp.slot },
        "Signer refused a finalize vote (slashing protection or doppelganger guard)",
      );
      return;
    }
    const vote = signedFinalizeVote(v.index, cp, signature);
    this.modules.votes.onFinalizeVote(vote);
    await this.modules.publisher
      ?.publish("finalize_votes", encodeSignedFinalizeVote(vote))
      .catch((e) => logger.debug({ err: (e as Error).message }, "Finalize vote publish failed"));
  }
}
