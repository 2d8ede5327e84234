// What gossip validation reads: the clock, finality, the validator keys, and (for blocks) the stored chain. The
// validators are pure functions of this context and the message (Lodestar's chain/validation/*.ts): they return the
// decoded message to accept it, or throw a GossipValidationError saying IGNORE or REJECT with the rule's code. One
// adapter (network/gossipValidatorFn.ts) maps that to libp2p and to peer scores.
import type { BlockHeader } from "@rustchain/shared";
import type { ChainView } from "../chainView.ts";

export interface GossipClockContext {
  readonly chainId: bigint;
  currentSlot(): bigint;
  /** Slot of the finalized checkpoint. */
  finalizedSlot(): number;
  /** Messages up to this many slots ahead of the clock are tolerated (clock skew); further is REJECT. */
  readonly futureSlotTolerance: number;
  /** Votes older than this many slots are IGNOREd. */
  readonly voteWindowSlots: number;
  /** BLS public key of a validator; undefined outside the set. */
  pubkeyOf(index: number): Uint8Array | undefined;
}

export interface BlockGossipContext extends GossipClockContext {
  readonly view: ChainView;
  /** Whether the block is stored already. */
  hasBlock(hash: Uint8Array): Promise<boolean>;
  /** The stored header of a block, if any. */
  header(hash: Uint8Array): Promise<BlockHeader | undefined>;
  /** The fee recipient registered for a validator (the block's coinbase must be it). */
  feeRecipientOf(index: number): Uint8Array | undefined;
  /** Whether a stored block is on our finalized chain (fork choice holds it). */
  onFinalizedChain(hash: Uint8Array): boolean;
}
