// What consensus knows and remembers: fork choice, the finality tracker, the weights of every block fork choice
// holds, and the block numbers of the justified (`safe`) and finalized checkpoints. It is created before the chain
// (the chain's block rules read it) and restored from the database once the chain is open:
//   - the anchor is the persisted finalized checkpoint (genesis on first start), with the weights of its block;
//   - the canonical blocks above it are replayed into fork choice, each with its weights, and the votes they carry
//     into the tracker (they were verified when imported);
//   - the persisted justified checkpoint is restored last: its votes may only ever have been gossiped.
// Weights are those of the last finalized block (stake × AI score, 0 once slashed); the tracker switches to the new
// finalized block's table the moment finality moves (docs/consensus.md, "Weights").
import { EventEmitter } from "node:events";
import { type BlockHeader, bytesToHex, hexToBytes } from "@rustchain/shared";
import type { Logger } from "pino";
import type { CheckpointStore } from "../db/checkpointStore.ts";
import type { ChainView } from "./chainView.ts";
import { ConsensusBlockError, ConsensusError } from "./errors.ts";
import {
  type Checkpoint,
  FinalityError,
  FinalityTracker,
  type Finalization,
  ForkChoice,
  ForkChoiceError,
  type IndexedAttestation,
  type Root,
  type WeightTable,
} from "./forkChoice/index.ts";
import { type AggregateAttestation, decodeAggregateAttestation, toIndexed } from "./messages/attestation.ts";

/** The stored chain, as restoring needs it. */
export interface CanonicalChainReader {
  readonly genesisHash: Uint8Array;
  readonly head: BlockHeader;
  canonicalHash(number: bigint): Promise<Uint8Array | undefined>;
  getBlock(hash: Uint8Array): Promise<{ attestations: Uint8Array[] } | undefined>;
}

export interface ConsensusStateEvents {
  justified: [Checkpoint];
  finalized: [Checkpoint, Finalization];
  conflict: [{ finalized: Checkpoint; candidate: Checkpoint }];
}

const toRoot = (b: Uint8Array): Root => bytesToHex(b);

export class ConsensusState extends EventEmitter<ConsensusStateEvents> {
  private fc: ForkChoice | undefined;
  private tracker: FinalityTracker | undefined;
  /** Weights at the state of each block fork choice holds (and the finalized anchor's). */
  private readonly weightsByRoot = new Map<Root, WeightTable>();
  /** Block numbers of the justified (`safe`) and finalized checkpoints, for RPC block tags. */
  justifiedNumber = 0n;
  finalizedNumber = 0n;

  constructor(private readonly modules: { view: ChainView; checkpoints: CheckpointStore; logger: Logger }) {
    super();
  }

  get forkChoice(): ForkChoice {
    if (this.fc === undefined) throw new ConsensusError({ code: "CONSENSUS_NOT_INITIALIZED" });
    return this.fc;
  }

  get finality(): FinalityTracker {
    if (this.tracker === undefined) throw new ConsensusError({ code: "CONSENSUS_NOT_INITIALIZED" });
    return this.tracker;
  }

  /**
   * Rebuild fork choice and finality from the database (see the file header). The aggregates of each replayed block
   * go to `replayAggregates`, which must count their votes (countVotes); by default that is all it does.
   */
  async restore(
    chain: CanonicalChainReader,
    replayAggregates: (aggregates: AggregateAttestation[]) => void = (aggs) =>
      this.countVotes(aggs.flatMap((a) => toIndexed(a))),
  ): Promise<void> {
    const { view, checkpoints } = this.modules;
    view.init(chain.genesisHash);
    let anchor: Checkpoint = { slot: 0, root: toRoot(chain.genesisHash) };
    let anchorHeader = await view.header(chain.genesisHash);
    const stored = await checkpoints.finalized();
    const storedHeader = stored && (await view.header(hexToBytes(stored.root)));
    if (stored && storedHeader) {
      anchor = stored;
      anchorHeader = storedHeader;
    }
    if (anchorHeader === undefined)
      throw new ConsensusError({ code: "CONSENSUS_STORE_CORRUPT", reason: "anchor block" });
    const weights = await this.readWeights(anchorHeader);
    this.weightsByRoot.set(anchor.root, weights);
    // Fork choice holds the anchor block at its own slot (the checkpoint's slot can be later, after empty slots), so
    // votes cast for it in those empty slots still count; its checkpoints are then set to the finalized checkpoint.
    this.fc = new ForkChoice({ anchor: { slot: Number(anchorHeader.slot), root: anchor.root }, weights });
    this.fc.updateCheckpoints(anchor, anchor);
    this.tracker = new FinalityTracker(
      { anchor, weights },
      {
        blocks: this.fc,
        weightsAt: (cp) => this.weightsByRoot.get(cp.root),
        onJustified: (cp) => this.onJustified(cp),
        onFinalized: (cp, how) => this.onFinalized(cp, how),
        onFinalityConflict: (c) => {
          this.modules.logger.error({ c }, "Conflicting finalization: >= 1/3 of the weight equivocated");
          this.emit("conflict", c);
        },
      },
    );
    // The canonical blocks above the anchor, then the votes they carry.
    const replay: Uint8Array[] = [];
    for (let n = anchorHeader.number + 1n; n <= chain.head.number; n++) {
      const hash = await chain.canonicalHash(n);
      const h = hash && (await view.header(hash));
      if (!hash || !h) break;
      this.fc.onBlock(toRoot(hash), toRoot(h.parentHash), Number(h.slot));
      this.weightsByRoot.set(toRoot(hash), await this.readWeights(h));
      replay.push(hash);
    }
    for (const hash of replay) {
      const block = await chain.getBlock(hash);
      replayAggregates((block?.attestations ?? []).map((enc) => decodeAggregateAttestation(enc)));
    }
    const justified = await checkpoints.justified();
    if (justified && justified.slot > this.tracker.justified.slot && this.tracker.restoreJustified(justified)) {
      this.modules.logger.info({ justified }, "Restored the justified checkpoint from before the stop");
    }
    this.syncCheckpoints();
    await this.refreshNumbers();
  }

  /** A valid block joins fork choice (before it is stored: the chain asks fork choice for the head next). */
  addBlock(hash: Uint8Array, header: BlockHeader): void {
    const root = toRoot(hash);
    try {
      this.forkChoice.onBlock(root, toRoot(header.parentHash), Number(header.slot));
    } catch (e) {
      if (e instanceof ForkChoiceError) {
        throw new ConsensusBlockError({ code: "BLOCK_BEFORE_FINALIZED", slot: header.slot });
      }
      throw e;
    }
  }

  /** A stored block's weights: its items' new table, or its parent's. */
  setBlockWeights(hash: Uint8Array, header: BlockHeader, weights: WeightTable | undefined): void {
    const table = weights ?? this.weightsByRoot.get(toRoot(header.parentHash));
    if (table !== undefined) this.weightsByRoot.set(toRoot(hash), table);
  }

  /** Votes from any source (verified): LMD head votes for fork choice, FFG votes for finality. */
  countVotes(votes: readonly IndexedAttestation[]): void {
    const fc = this.forkChoice;
    const tracker = this.finality;
    for (const vote of votes) {
      if (fc.hasBlock(vote.data.headRoot)) {
        try {
          fc.onAttestation(vote.validatorIndex, vote.data.headRoot, vote.data.slot);
        } catch (e) {
          // A head vote fork choice cannot place (e.g. older than its anchor) still counts for finality below.
          if (!(e instanceof ForkChoiceError)) throw e;
        }
      }
      try {
        tracker.onAttestation(vote);
      } catch (e) {
        if (!(e instanceof FinalityError)) throw e;
      }
    }
  }

  /** The head fork choice picks, as bytes. */
  head(): Uint8Array {
    return hexToBytes(this.forkChoice.getHead());
  }

  /** Weights at a block fork choice still holds (or the finalized anchor). */
  weightsAt(root: Root): WeightTable | undefined {
    return this.weightsByRoot.get(root);
  }

  private async readWeights(header: BlockHeader): Promise<WeightTable> {
    const set = await this.modules.view.validatorsAt(header);
    return new Map(set.map((v, i) => [i, v.weight] as [number, bigint]));
  }

  private onJustified(cp: Checkpoint): void {
    this.syncCheckpoints();
    void this.refreshNumbers();
    this.emit("justified", cp);
  }

  private onFinalized(cp: Checkpoint, how: Finalization): void {
    this.syncCheckpoints();
    // Blocks not descending from the finalized checkpoint can never be head again; nor can their weights matter.
    for (const root of this.forkChoice.pruneBelowFinalized()) if (root !== cp.root) this.weightsByRoot.delete(root);
    void this.refreshNumbers();
    this.emit("finalized", cp, how);
  }

  private syncCheckpoints(): void {
    try {
      this.forkChoice.updateCheckpoints(this.finality.justified, this.finality.finalized);
    } catch (e) {
      this.modules.logger.warn({ err: (e as Error).message }, "Fork choice refused checkpoints");
    }
  }

  private async refreshNumbers(): Promise<void> {
    const j = await this.modules.view.header(hexToBytes(this.finality.justified.root));
    const f = await this.modules.view.header(hexToBytes(this.finality.finalized.root));
    if (j) this.justifiedNumber = j.number;
    if (f) this.finalizedNumber = f.number;
  }
}
