// The half-slot grid of the safety argument (docs/consensus.md, "Finality within the slot"). Every vote a validator
// signs is a Casper-FFG link on it:
//   an attestation with source slot S and target slot T   is the link 2S -> 2T;
//   a finalize vote at slot s                             is the link 2s -> 2s + 1.
// The slashing conditions are FFG's on the grid, for any two votes of one validator:
//   double vote    two different votes with the same grid target (two attestations for one target slot, or two
//                  finalize votes for one slot);
//   surround vote  one link strictly surrounds the other: s1 < s2 and t2 < t1 (an attestation whose source slot is
//                  before s and whose target slot is after s surrounds the finalize vote at s).
// Slashing protection records votes in these units and the slashing detectors judge pairs with them, so both apply
// one rule.

/** A vote as a grid link; integers so u64 slots double without loss. */
export interface GridLink {
  readonly source: bigint;
  readonly target: bigint;
}

export function attestationLink(sourceSlot: number | bigint, targetSlot: number | bigint): GridLink {
  return { source: 2n * BigInt(sourceSlot), target: 2n * BigInt(targetSlot) };
}

export function finalizeLink(slot: number | bigint): GridLink {
  return { source: 2n * BigInt(slot), target: 2n * BigInt(slot) + 1n };
}

/** Same grid target: two different messages with this are a double vote. */
export function sameTarget(a: GridLink, b: GridLink): boolean {
  return a.target === b.target;
}

/** `outer` strictly surrounds `inner`. */
export function surrounds(outer: GridLink, inner: GridLink): boolean {
  return outer.source < inner.source && inner.target < outer.target;
}
