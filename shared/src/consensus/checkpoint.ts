// Plain data the consensus rules work on: roots, checkpoints, attestations, weight tables, and the block-tree view
// the finality rules need. No I/O; roots are canonical lowercase 0x-hex strings so they can be map keys.
import { bytesToHex } from "../hex.ts";

/** A 32-byte block root as lowercase 0x-prefixed hex (66 characters). */
export type Root = string;

/**
 * A checkpoint is a (slot, root) pair: the block `root` is the block at or below `slot` on some chain. Every slot has
 * a checkpoint on every chain, even an empty slot (its root is then the last block before it), so (5, r) and (6, r)
 * are two checkpoints of the same chain when slot 6 is empty.
 */
export interface Checkpoint {
  readonly slot: number;
  readonly root: Root;
}

/** What a validator signs when it attests in `slot`: an LMD head vote and an FFG source -> target vote. */
export interface AttestationData {
  readonly slot: number;
  /** The block the validator sees as head (LMD-GHOST vote). */
  readonly headRoot: Root;
  /** The validator's latest justified checkpoint. */
  readonly source: Checkpoint;
  /** The checkpoint for `slot` on the validator's head chain; `target.slot === slot`. */
  readonly target: Checkpoint;
}

/** One validator's attestation (an aggregate is expanded into one of these per participant). */
export interface IndexedAttestation {
  readonly validatorIndex: number;
  readonly data: AttestationData;
}

/** Voting weight (stake x AI score) per validator index. Validators absent from the table weigh 0. */
export type WeightTable = ReadonlyMap<number, bigint>;

/** The part of the block tree the finality rules need; `ForkChoice` implements it. */
export interface BlockTreeView {
  /** Slot of a known block; undefined when the block is unknown or was pruned. */
  getBlockSlot(root: Root): number | undefined;
  /** Root of the block at or below `slot` on the chain ending at `root`; undefined when unknown or pruned. */
  getAncestorAtSlot(root: Root, slot: number): Root | undefined;
}

const ROOT_RE = /^0x[0-9a-f]{64}$/;

export function isRoot(value: unknown): value is Root {
  return typeof value === "string" && ROOT_RE.test(value);
}

/** Canonical root of 32 bytes. Returns undefined for any other length. */
export function rootFromBytes(bytes: Uint8Array): Root | undefined {
  return bytes.length === 32 ? bytesToHex(bytes) : undefined;
}

export function isSlot(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Map key of a checkpoint. */
export function checkpointKey(cp: Checkpoint): string {
  return `${cp.slot}:${cp.root}`;
}

export function checkpointEquals(a: Checkpoint, b: Checkpoint): boolean {
  return a.slot === b.slot && a.root === b.root;
}

export function attestationDataEquals(a: AttestationData, b: AttestationData): boolean {
  return (
    a.slot === b.slot &&
    a.headRoot === b.headRoot &&
    checkpointEquals(a.source, b.source) &&
    checkpointEquals(a.target, b.target)
  );
}

/**
 * True when checkpoint `a` is `b` or lies on `b`'s chain before it: a.slot <= b.slot and the block at or below
 * a.slot on b's chain is a.root. This is what "b descends from a" means for checkpoints, empty slots included.
 */
export function isCheckpointAncestor(view: BlockTreeView, a: Checkpoint, b: Checkpoint): boolean {
  return a.slot <= b.slot && view.getAncestorAtSlot(b.root, a.slot) === a.root;
}

/** Two checkpoints conflict when neither is an ancestor of the other (they sit on different forks). */
export function checkpointsConflict(view: BlockTreeView, a: Checkpoint, b: Checkpoint): boolean {
  return !isCheckpointAncestor(view, a, b) && !isCheckpointAncestor(view, b, a);
}

/** Exactly 2/3 or more of `total` (integer arithmetic, no rounding). A zero total never reaches a supermajority. */
export function isSupermajority(weight: bigint, total: bigint): boolean {
  return total > 0n && 3n * weight >= 2n * total;
}

/**
 * One validator's finalize vote (docs/consensus.md, "Finality within the slot"): in slot `checkpoint.slot`, having
 * seen >= 2/3 of the weight attest to `checkpoint`, the validator votes to finalize it. On the half-slot grid of the
 * safety argument it is the FFG link (2 * slot) -> (2 * slot + 1).
 */
export interface IndexedFinalizeVote {
  readonly validatorIndex: number;
  readonly checkpoint: Checkpoint;
}
