// The proposer duty (docs/consensus.md, "Slots and proposers"): at a slot's start, an elected validator builds a
// block on the fork-choice head with the pools' attestations, evidence and AI proofs, signs it after slashing
// protection recorded it, imports it and gossips it. The weighted fallback pick proposes after `fallbackDelayMs` if no
// block of the slot arrived. One proposal at a time: a slow one lands before the next slot builds on the head.
import { type BlockExtras, bytesToBigint, encodeBlock } from "@rustchain/shared";
import type { Logger } from "pino";
import { blockSigningRoot, type Chain } from "../../chain/chain.ts";
import { REGISTRY_ADDRESS } from "../../chain/validatorRegistry.ts";
import type { StateDb } from "../../state/stateDb.ts";
import type { AiProof } from "../ai/proof.ts";
import { type ChainView, encodeVrfClaim } from "../chainView.ts";
import type { Scheduler, SlotClock } from "../clock.ts";
import type { ConsensusState } from "../consensusState.ts";
import { fallbackProposer, isEligible, totalWeight, vrfInput, vrfOutput } from "../election/vrfElection.ts";
import { encodeAggregateAttestation } from "../messages/attestation.ts";
import type { ConsensusOptions } from "../options.ts";
import type { AiProofPool } from "../pools/aiProofPool.ts";
import type { AttestationPool } from "../pools/attestationPool.ts";
import type { EvidencePool } from "../pools/evidencePool.ts";
import { aiUsedSlot } from "../stateTransition/aiProofs.ts";
import type { GossipPublisher, LocalValidator } from "./types.ts";

export interface ProposerModules {
  chain: Chain;
  view: ChainView;
  stateDb: StateDb;
  state: ConsensusState;
  clock: SlotClock;
  scheduler: Scheduler;
  validator: LocalValidator;
  publisher: GossipPublisher | undefined;
  pools: { attestations: AttestationPool; evidence: EvidencePool; aiProofs: AiProofPool };
  /** Whether a valid block of `slot` was stored. */
  hasBlockInSlot(slot: bigint): boolean;
  /** The chain's head follows fork choice. */
  updateHead(): Promise<void>;
  /** Throws when a pooled AI proof does not verify on the chain ending at `tip`. */
  verifyAiProof(proof: AiProof, tip: Uint8Array): Promise<void>;
  logger: Logger;
}

export class ProposerDuty {
  private proposing: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: ConsensusOptions,
    private readonly modules: ProposerModules,
  ) {}

  /** Resolves once no proposal is in flight (a validator attests after its own block lands). */
  settled(): Promise<void> {
    return this.proposing;
  }

  async onSlot(slot: bigint): Promise<void> {
    const { chain, view, validator: v, clock, scheduler } = this.modules;
    await this.proposing;
    await this.modules.updateHead();
    // The election is judged on one head (its epoch seed and its weights), and the block must build on that head.
    const head = chain.head;
    const headHash = chain.headHash;
    if (head.slot >= slot) return;
    const seed = await view.seed(view.epochOf(slot), headHash);
    const validators = await view.validatorsAt(head);
    const weights = validators.map((x) => x.weight);
    const me = validators[v.index];
    const total = totalWeight(weights);
    if (!me || me.weight === 0n || total === 0n) return;
    const proof = await v.signer.vrf(vrfInput(chain.chainId, seed, slot));
    const vrf = { proof, output: vrfOutput(proof) };
    if (isEligible(vrf.output, me.weight, total, chain.genesis.params.expectedLeadersPerSlot)) {
      await this.propose(slot, encodeVrfClaim(vrf.proof, false), headHash);
      return;
    }
    if (fallbackProposer(chain.chainId, seed, slot, weights) !== v.index) return;
    scheduler.at(clock.slotStartMs(slot) + this.opts.fallbackDelayMs, async () => {
      if (this.modules.hasBlockInSlot(slot) || clock.currentSlot() !== slot) return;
      await this.modules.updateHead();
      if (chain.head.slot >= slot) return;
      await this.propose(slot, encodeVrfClaim(vrf.proof, true), headHash);
    });
  }

  private propose(slot: bigint, vrfProof: Uint8Array, electedOn: Uint8Array): Promise<void> {
    const report = this.modules.validator.onDuty;
    const run = this.proposing
      .then(() => this.proposeNow(slot, vrfProof, electedOn))
      .then(
        (made) => {
          if (made) report?.("propose", "done");
        },
        (e) => {
          report?.("propose", "missed");
          throw e;
        },
      );
    this.proposing = run.catch(() => undefined);
    return run;
  }

  /**
   * Build, sign and publish our block of `slot` on `electedOn`; false when another block of the slot got there first,
   * or when a block imported meanwhile moved the head (then the election is judged again on the new head: a block on
   * it with this VRF proof would fail the election check, everyone's and our own).
   */
  private async proposeNow(slot: bigint, vrfProof: Uint8Array, electedOn: Uint8Array): Promise<boolean> {
    const { chain, validator: v, publisher, logger } = this.modules;
    if (chain.head.slot >= slot) return false;
    const extras = await this.extrasFor(slot);
    // No await between this check and produce() reading the head.
    if (Buffer.compare(chain.headHash, electedOn) !== 0) {
      logger.debug({ slot: Number(slot) }, "The head moved while proposing; judging the election again");
      setImmediate(() => {
        this.onSlot(slot).catch((e: unknown) => logger.warn({ err: e, slot: Number(slot) }, "Proposal failed"));
      });
      return false;
    }
    const imported = await v.producer.produce({
      slot,
      vrfProof,
      extras,
      sign: (s, hash) => v.signer.block(s, blockSigningRoot(chain.chainId, hash)),
    });
    await publisher
      ?.publish("blocks", encodeBlock(imported.block))
      .catch((e) => logger.debug({ err: (e as Error).message }, "Block publish failed"));
    return true;
  }

  /** Evidence, attestations and AI proofs for a block on the current head. */
  private async extrasFor(slot: bigint): Promise<BlockExtras> {
    const { chain, view, stateDb, state, pools } = this.modules;
    const head = chain.head;
    const validators = await view.validatorsAt(head);
    const evidence = pools.evidence.forBlock(
      this.opts.maxEvidencePerBlock,
      (o) => validators[o]?.record.slashed ?? true,
    );
    const attestations = pools.attestations
      .forBlock(
        Number(slot),
        this.opts.maxAttestationsPerBlock,
        (d) => d.slot + this.opts.inclusionWindowSlots >= Number(slot) && state.forkChoice.hasBlock(d.target.root),
      )
      .map((a) => encodeAggregateAttestation(a));
    const aiProofs: Uint8Array[] = [];
    pools.aiProofs.prune(view.epochOf(slot));
    for (const p of pools.aiProofs.values()) {
      if (aiProofs.length >= this.opts.maxAiProofsPerBlock) break;
      const used = await stateDb.storageAt(head.stateRoot, REGISTRY_ADDRESS, aiUsedSlot(p.proof.miner, p.proof.epoch));
      if (bytesToBigint(used) !== 0n || !(await this.validOnHead(p.proof))) {
        pools.aiProofs.delete(p);
        continue;
      }
      aiProofs.push(p.encoded);
    }
    return { attestations, aiProofs, evidence };
  }

  /** A pooled proof's epoch seed can differ across forks: drop one that does not verify on the head chain. */
  private async validOnHead(proof: AiProof): Promise<boolean> {
    try {
      await this.modules.verifyAiProof(proof, this.modules.chain.headHash);
      return true;
    } catch (e) {
      this.modules.logger.info(
        { err: (e as Error).message, epoch: Number(proof.epoch) },
        "Dropping an AI proof that does not verify on the head chain",
      );
      return false;
    }
  }
}
