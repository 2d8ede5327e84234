// The consensus side of block import (chain/chain.ts ConsensusHooks): header rules (after finality, on the finalized
// chain, proposer elected), the state transition of the body's consensus items, fork choice learning of the block,
// and, once the block is stored, its votes counted and its weights recorded. Wiring only: the rules are in
// election/proposerCheck.ts and stateTransition/.
import type { BlockExtras, BlockHeader, Genesis } from "@rustchain/shared";
import { bytesToHex } from "@rustchain/shared";
import type { BlockContext, ConsensusHooks } from "../chain/chain.ts";
import type { WorldState } from "../state/stateDb.ts";
import type { ChainView } from "./chainView.ts";
import type { ConsensusState } from "./consensusState.ts";
import { checkProposerElection } from "./election/proposerCheck.ts";
import { ConsensusBlockError } from "./errors.ts";
import type { ConsensusOptions } from "./options.ts";
import { VerifiedAggregates } from "./stateTransition/attestations.ts";
import { applyConsensusItems, type ConsensusEffects } from "./stateTransition/index.ts";

export interface BlockRulesModules {
  readonly genesis: Genesis;
  readonly view: ChainView;
  readonly state: ConsensusState;
  /** A stored block's consensus effects: its votes count from now on. */
  readonly onImported: (hash: Uint8Array, header: BlockHeader, effects: ConsensusEffects) => void;
}

export class BlockRules implements ConsensusHooks {
  private readonly verified = new VerifiedAggregates();

  constructor(
    private readonly opts: ConsensusOptions,
    private readonly modules: BlockRulesModules,
  ) {}

  private get chainId(): bigint {
    return this.modules.genesis.params.chainId;
  }

  async validateHeader(h: BlockHeader, parent: BlockHeader): Promise<void> {
    const { state, view } = this.modules;
    // Rule: nothing at or before the finalized slot can join the chain.
    if (Number(h.slot) <= state.finality.finalized.slot) {
      throw new ConsensusBlockError({ code: "BLOCK_BEFORE_FINALIZED", slot: h.slot });
    }
    // Rule: the parent is on the finalized chain (fork choice holds exactly those blocks).
    if (!state.forkChoice.hasBlock(bytesToHex(h.parentHash))) {
      throw new ConsensusBlockError({ code: "BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN" });
    }
    // Rule: the proposer was elected for the slot (or is its fallback pick).
    await checkProposerElection(h, parent, view, this.chainId);
  }

  applyExtras(ws: WorldState, extras: BlockExtras, ctx: BlockContext): Promise<ConsensusEffects> {
    const { view, genesis } = this.modules;
    return applyConsensusItems(ws, extras, {
      chainId: this.chainId,
      genesis,
      limits: this.opts,
      slot: ctx.slot,
      parentHash: ctx.parentHash,
      epochOf: (slot) => view.epochOf(slot),
      seed: (epoch, tip) => view.seed(epoch, tip),
      verified: this.verified,
    });
  }

  onBlock(hash: Uint8Array, header: BlockHeader): void {
    this.modules.state.addBlock(hash, header);
  }

  onImported(hash: Uint8Array, header: BlockHeader, effects: unknown): void {
    this.modules.onImported(hash, header, effects as ConsensusEffects);
  }

  head(): Uint8Array {
    return this.modules.state.head();
  }
}
