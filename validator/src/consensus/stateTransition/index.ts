// The state transition of a block's consensus items (docs/consensus.md, "Every block"): pure functions of the block,
// the world-state overlay and the chain's genesis. They validate the items, apply their state effects (stake cuts,
// AI scores, rewards) and RETURN the votes the block carries; nothing here counts a vote. The chain runs this while a
// block is built and while it is imported, and hands the result back once the block is stored: only then do fork
// choice and finality count the votes (ConsensusEngine.onImported).
import type { BlockExtras, Genesis } from "@rustchain/shared";
import type { WeightTable } from "@rustchain/shared/consensus/checkpoint";
import { validatorWeight } from "@rustchain/shared/consensus/registry";
import { REGISTRY_ADDRESS, readValidators } from "../../chain/validatorRegistry.ts";
import type { WorldState } from "../../state/stateDb.ts";
import type { AiProof } from "../ai/proof.ts";
import type { IndexedAttestation } from "../forkChoice/index.ts";
import type { AggregateAttestation } from "../messages/attestation.ts";
import type { ConsensusOptions } from "../options.ts";
import { applyAiProofs } from "./aiProofs.ts";
import { processAttestations, type VerifiedAggregates } from "./attestations.ts";
import { applySlashings } from "./slashings.ts";

export interface ConsensusEffects {
  /** The block's attestation aggregates (signatures verified) and one vote per participant. */
  readonly aggregates: readonly AggregateAttestation[];
  readonly votes: readonly IndexedAttestation[];
  /** Validators the block slashed. */
  readonly slashed: readonly number[];
  /** AI proofs the block rewarded. */
  readonly aiProofs: readonly AiProof[];
  /** The weights after the block when its items changed the registry; undefined: the parent's weights hold. */
  readonly weights: WeightTable | undefined;
}

export interface TransitionContext {
  readonly chainId: bigint;
  readonly genesis: Genesis;
  readonly limits: Pick<ConsensusOptions, "maxAttestationsPerBlock" | "maxEvidencePerBlock" | "maxAiProofsPerBlock">;
  /** The block being built or imported. */
  readonly slot: bigint;
  readonly parentHash: Uint8Array;
  readonly epochOf: (slot: bigint) => bigint;
  /** The election seed of `epoch` on the chain ending at `tip` (ChainView.seed). */
  readonly seed: (epoch: bigint, tip: Uint8Array) => Promise<Uint8Array>;
  /** Aggregates whose signatures already verified (blocks re-include recent aggregates). */
  readonly verified: VerifiedAggregates;
}

export async function applyConsensusItems(
  ws: WorldState,
  extras: BlockExtras,
  ctx: TransitionContext,
): Promise<ConsensusEffects> {
  const { aggregates, votes } = processAttestations(extras.attestations, ctx);
  const slashed = await applySlashings(ws, extras.evidence, ctx);
  const aiProofs = await applyAiProofs(ws, extras.aiProofs, ctx);
  const weights = slashed.length > 0 || aiProofs.length > 0 ? await weightsIn(ws, ctx.genesis) : undefined;
  return { aggregates, votes, slashed, aiProofs, weights };
}

/** Every validator's weight (stake × AI score, 0 once slashed) in the overlay's state. */
export async function weightsIn(ws: WorldState, genesis: Genesis): Promise<WeightTable> {
  const records = await readValidators((slot) => ws.getStorage(REGISTRY_ADDRESS, slot), genesis.validators.length);
  return new Map(records.map((r, i) => [i, validatorWeight(r)] as [number, bigint]));
}
