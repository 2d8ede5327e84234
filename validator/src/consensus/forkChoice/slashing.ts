// Slashing conditions (docs/consensus.md, "Slashing"). Votes are judged as links on the half-slot grid
// (shared/src/consensus/grid.ts: attestation S -> T is 2S -> 2T, a finalize vote at s is 2s -> 2s + 1):
//   double vote        two different attestations by one validator with the same target slot;
//   surround vote      two attestations by one validator where one's source is strictly before the other's and its
//                      target strictly after: s1 < s2 and t2 < t1 (so s1 < s2 < t2 < t1);
//   double finalize    two finalize votes by one validator for the same slot and different roots;
//   finalize surround  a finalize vote at slot s and an attestation by the same validator with source slot < s <
//                      target slot (the attestation's link surrounds the finalize vote's on the grid);
//   double proposal    two different block headers by one proposer for the same slot.
// The detectors are pure functions over plain objects; they are generic so signatures and other fields the caller
// attaches travel into the evidence unchanged.
import {
  attestationLink,
  finalizeLink,
  type GridLink,
  surrounds as gridSurrounds,
  sameTarget,
} from "@rustchain/shared/consensus/grid";
import {
  type AttestationData,
  attestationDataEquals,
  checkpointEquals,
  type IndexedAttestation,
  type IndexedFinalizeVote,
  isRoot,
  isSlot,
  type Root,
} from "./checkpoint.ts";
import { SlashingError } from "./errors.ts";

/** The fields of a signed block header the double-proposal rule looks at. */
export interface ProposalHeader {
  readonly slot: number;
  readonly proposerIndex: number;
  /** Root of the header; two headers with different roots are different blocks. */
  readonly root: Root;
}

export interface DoubleVoteEvidence<A extends IndexedAttestation = IndexedAttestation> {
  readonly kind: "double_vote";
  readonly validatorIndex: number;
  readonly attestation1: A;
  readonly attestation2: A;
}

export interface SurroundVoteEvidence<A extends IndexedAttestation = IndexedAttestation> {
  readonly kind: "surround_vote";
  readonly validatorIndex: number;
  /** The surrounding vote: source before attestation2's source, target after attestation2's target. */
  readonly attestation1: A;
  /** The surrounded vote. */
  readonly attestation2: A;
}

export interface DoubleProposalEvidence<H extends ProposalHeader = ProposalHeader> {
  readonly kind: "double_proposal";
  readonly proposerIndex: number;
  readonly slot: number;
  readonly header1: H;
  readonly header2: H;
}

export type AttesterEvidence<A extends IndexedAttestation = IndexedAttestation> =
  | DoubleVoteEvidence<A>
  | SurroundVoteEvidence<A>;

export interface DoubleFinalizeEvidence<F extends IndexedFinalizeVote = IndexedFinalizeVote> {
  readonly kind: "double_finalize";
  readonly validatorIndex: number;
  readonly vote1: F;
  readonly vote2: F;
}

export interface FinalizeSurroundEvidence<
  F extends IndexedFinalizeVote = IndexedFinalizeVote,
  A extends IndexedAttestation = IndexedAttestation,
> {
  readonly kind: "finalize_surround";
  readonly validatorIndex: number;
  /** The finalize vote at slot s. */
  readonly finalize: F;
  /** The attestation with source slot < s < target slot. */
  readonly attestation: A;
}

export type FinalizerEvidence<
  F extends IndexedFinalizeVote = IndexedFinalizeVote,
  A extends IndexedAttestation = IndexedAttestation,
> = DoubleFinalizeEvidence<F> | FinalizeSurroundEvidence<F, A>;

export type SlashingEvidence<
  A extends IndexedAttestation = IndexedAttestation,
  H extends ProposalHeader = ProposalHeader,
  F extends IndexedFinalizeVote = IndexedFinalizeVote,
> = AttesterEvidence<A> | DoubleProposalEvidence<H> | FinalizerEvidence<F, A>;

/** Double vote: same validator, same target slot, different attestation data. */
export function detectDoubleVote<A extends IndexedAttestation>(a1: A, a2: A): DoubleVoteEvidence<A> | undefined {
  checkAttestation(a1);
  checkAttestation(a2);
  if (a1.validatorIndex !== a2.validatorIndex) return undefined;
  if (!sameTarget(linkOf(a1.data), linkOf(a2.data)) || attestationDataEquals(a1.data, a2.data)) return undefined;
  return { kind: "double_vote", validatorIndex: a1.validatorIndex, attestation1: a1, attestation2: a2 };
}

/** Surround vote: same validator, one vote's (source, target) strictly surrounds the other's. Order-independent. */
export function detectSurroundVote<A extends IndexedAttestation>(a1: A, a2: A): SurroundVoteEvidence<A> | undefined {
  checkAttestation(a1);
  checkAttestation(a2);
  if (a1.validatorIndex !== a2.validatorIndex) return undefined;
  const [outer, inner] = surrounds(a1.data, a2.data) ? [a1, a2] : surrounds(a2.data, a1.data) ? [a2, a1] : [];
  if (outer === undefined || inner === undefined) return undefined;
  return { kind: "surround_vote", validatorIndex: a1.validatorIndex, attestation1: outer, attestation2: inner };
}

/** Either attester condition; a double vote is reported in preference to a surround vote. */
export function detectAttesterSlashing<A extends IndexedAttestation>(a1: A, a2: A): AttesterEvidence<A> | undefined {
  return detectDoubleVote(a1, a2) ?? detectSurroundVote(a1, a2);
}

/** Double finalize: same validator, two finalize votes for one slot (same grid target) with different roots. */
export function detectDoubleFinalize<F extends IndexedFinalizeVote>(
  f1: F,
  f2: F,
): DoubleFinalizeEvidence<F> | undefined {
  checkFinalizeVote(f1);
  checkFinalizeVote(f2);
  if (f1.validatorIndex !== f2.validatorIndex) return undefined;
  if (!sameTarget(finalizeLink(f1.checkpoint.slot), finalizeLink(f2.checkpoint.slot))) return undefined;
  if (checkpointEquals(f1.checkpoint, f2.checkpoint)) return undefined;
  return { kind: "double_finalize", validatorIndex: f1.validatorIndex, vote1: f1, vote2: f2 };
}

/** Finalize surround: the attestation's grid link surrounds the finalize vote's (source slot < s < target slot). */
export function detectFinalizeSurround<F extends IndexedFinalizeVote, A extends IndexedAttestation>(
  f: F,
  a: A,
): FinalizeSurroundEvidence<F, A> | undefined {
  checkFinalizeVote(f);
  checkAttestation(a);
  if (f.validatorIndex !== a.validatorIndex) return undefined;
  if (!gridSurrounds(linkOf(a.data), finalizeLink(f.checkpoint.slot))) return undefined;
  return { kind: "finalize_surround", validatorIndex: f.validatorIndex, finalize: f, attestation: a };
}

/** Either finalizer condition between two votes of any kind (undefined for two attestations: see the above). */
export function detectFinalizerSlashing<F extends IndexedFinalizeVote, A extends IndexedAttestation>(
  v1: F | A,
  v2: F | A,
): FinalizerEvidence<F, A> | undefined {
  const isFinalize = (v: F | A): v is F => "checkpoint" in v;
  if (isFinalize(v1) && isFinalize(v2)) return detectDoubleFinalize(v1, v2);
  if (isFinalize(v1) && !isFinalize(v2)) return detectFinalizeSurround(v1, v2);
  if (!isFinalize(v1) && isFinalize(v2)) return detectFinalizeSurround(v2, v1);
  return undefined;
}

/** Double proposal: same proposer, same slot, different header roots. */
export function detectDoubleProposal<H extends ProposalHeader>(h1: H, h2: H): DoubleProposalEvidence<H> | undefined {
  checkHeader(h1);
  checkHeader(h2);
  if (h1.proposerIndex !== h2.proposerIndex || h1.slot !== h2.slot || h1.root === h2.root) return undefined;
  return { kind: "double_proposal", proposerIndex: h1.proposerIndex, slot: h1.slot, header1: h1, header2: h2 };
}

function surrounds(outer: AttestationData, inner: AttestationData): boolean {
  return gridSurrounds(linkOf(outer), linkOf(inner));
}

function linkOf(d: AttestationData): GridLink {
  return attestationLink(d.source.slot, d.target.slot);
}

/**
 * Remembers attestations and block headers and reports evidence as soon as a new one is slashable together with one
 * seen before. Per validator it keeps the first attestation for each target slot (a second, different one is
 * already a double vote, which is all that is needed to slash), so memory is bounded by validators x retained
 * slots; `prune` drops slots older than the retention window. Each piece of evidence is reported once.
 */
export class EquivocationIndex<
  A extends IndexedAttestation = IndexedAttestation,
  H extends ProposalHeader = ProposalHeader,
  F extends IndexedFinalizeVote = IndexedFinalizeVote,
> {
  /** validator -> target slot -> first attestation seen. */
  private readonly attestations = new Map<number, Map<number, A>>();
  /** validator -> slot -> first finalize vote seen. */
  private readonly finalizeVotes = new Map<number, Map<number, F>>();
  /** "proposer:slot" -> first header seen. */
  private readonly proposals = new Map<string, H>();
  /** Evidence already reported, keyed by its content, with the lowest slot it involves (for pruning). */
  private readonly reported = new Map<string, number>();
  private readonly offenders = new Set<number>();

  /** Validators (attesters or proposers) with reported evidence. */
  get slashable(): ReadonlySet<number> {
    return this.offenders;
  }

  /** Records an attestation; returns the evidence it creates against the votes recorded earlier. */
  ingestAttestation(attestation: A): (AttesterEvidence<A> | FinalizeSurroundEvidence<F, A>)[] {
    checkAttestation(attestation);
    const v = attestation.validatorIndex;
    let byTarget = this.attestations.get(v);
    if (byTarget === undefined) {
      byTarget = new Map();
      this.attestations.set(v, byTarget);
    }
    const found: (AttesterEvidence<A> | FinalizeSurroundEvidence<F, A>)[] = [];
    const first = byTarget.get(attestation.data.target.slot);
    if (first !== undefined) {
      if (attestationDataEquals(first.data, attestation.data)) return found;
    }
    for (const f of this.finalizeVotes.get(v)?.values() ?? []) {
      const evidence = detectFinalizeSurround(f, attestation);
      if (evidence !== undefined) this.reportFinalizer(evidence, found);
    }
    if (first !== undefined) {
      const evidence = detectDoubleVote(first, attestation);
      if (evidence !== undefined) this.report(evidence, found);
    }
    for (const other of byTarget.values()) {
      const evidence = detectSurroundVote(other, attestation);
      if (evidence !== undefined) this.report(evidence, found);
    }
    if (first === undefined) byTarget.set(attestation.data.target.slot, attestation);
    return found;
  }

  /** Records a finalize vote; returns the evidence it creates against the votes recorded earlier. */
  ingestFinalizeVote(vote: F): FinalizerEvidence<F, A>[] {
    checkFinalizeVote(vote);
    const v = vote.validatorIndex;
    let bySlot = this.finalizeVotes.get(v);
    if (bySlot === undefined) {
      bySlot = new Map();
      this.finalizeVotes.set(v, bySlot);
    }
    const found: FinalizerEvidence<F, A>[] = [];
    const first = bySlot.get(vote.checkpoint.slot);
    if (first !== undefined) {
      if (checkpointEquals(first.checkpoint, vote.checkpoint)) return found;
      const evidence = detectDoubleFinalize(first, vote);
      if (evidence !== undefined) this.reportFinalizer(evidence, found);
    } else {
      bySlot.set(vote.checkpoint.slot, vote);
    }
    for (const a of this.attestations.get(v)?.values() ?? []) {
      const evidence = detectFinalizeSurround(vote, a);
      if (evidence !== undefined) this.reportFinalizer(evidence, found);
    }
    return found;
  }

  /** Records a block header; returns double-proposal evidence against the first header seen for its slot. */
  ingestProposal(header: H): DoubleProposalEvidence<H>[] {
    checkHeader(header);
    const key = `${header.proposerIndex}:${header.slot}`;
    const first = this.proposals.get(key);
    if (first === undefined) {
      this.proposals.set(key, header);
      return [];
    }
    const evidence = detectDoubleProposal(first, header);
    if (evidence === undefined) return [];
    const id = `p:${key}:${first.root}:${header.root}`;
    if (this.reported.has(id)) return [];
    this.reported.set(id, header.slot);
    this.offenders.add(header.proposerIndex);
    return [evidence];
  }

  /** Forgets attestations with a target slot, and headers with a slot, before `minSlot`. */
  prune(minSlot: number): void {
    for (const [v, byTarget] of this.attestations) {
      for (const slot of byTarget.keys()) if (slot < minSlot) byTarget.delete(slot);
      if (byTarget.size === 0) this.attestations.delete(v);
    }
    for (const [v, bySlot] of this.finalizeVotes) {
      for (const slot of bySlot.keys()) if (slot < minSlot) bySlot.delete(slot);
      if (bySlot.size === 0) this.finalizeVotes.delete(v);
    }
    for (const [key, header] of this.proposals) if (header.slot < minSlot) this.proposals.delete(key);
    for (const [id, slot] of this.reported) if (slot < minSlot) this.reported.delete(id);
  }

  private report(evidence: AttesterEvidence<A>, out: SlashingEvidence<A, H, F>[]): void {
    const d1 = evidence.attestation1.data;
    const d2 = evidence.attestation2.data;
    const id = `${evidence.kind}:${evidence.validatorIndex}:${dataKey(d1)}|${dataKey(d2)}`;
    if (this.reported.has(id)) return;
    this.reported.set(id, Math.min(d1.target.slot, d2.target.slot));
    this.offenders.add(evidence.validatorIndex);
    out.push(evidence);
  }

  private reportFinalizer(evidence: FinalizerEvidence<F, A>, out: SlashingEvidence<A, H, F>[]): void {
    const id =
      evidence.kind === "double_finalize"
        ? `df:${evidence.validatorIndex}:${cpKey(evidence.vote1)}|${cpKey(evidence.vote2)}`
        : `fs:${evidence.validatorIndex}:${cpKey(evidence.finalize)}|${dataKey(evidence.attestation.data)}`;
    if (this.reported.has(id)) return;
    const slot =
      evidence.kind === "double_finalize" ? evidence.vote1.checkpoint.slot : evidence.finalize.checkpoint.slot;
    this.reported.set(id, slot);
    this.offenders.add(evidence.validatorIndex);
    out.push(evidence);
  }
}

function cpKey(f: IndexedFinalizeVote): string {
  return `${f.checkpoint.slot}/${f.checkpoint.root}`;
}

function dataKey(d: AttestationData): string {
  return `${d.slot}/${d.headRoot}/${d.source.slot}/${d.source.root}/${d.target.slot}/${d.target.root}`;
}

function checkAttestation(a: IndexedAttestation): void {
  const bad = (reason: string) => new SlashingError({ code: "SLASHING_MALFORMED_INPUT", reason });
  if (typeof a !== "object" || a === null || !isSlot(a.validatorIndex)) throw bad("validator index");
  const d = a.data;
  if (typeof d !== "object" || d === null || !isSlot(d.slot) || !isRoot(d.headRoot)) throw bad("attestation data");
  for (const cp of [d.source, d.target]) {
    if (typeof cp !== "object" || cp === null || !isSlot(cp.slot) || !isRoot(cp.root)) throw bad("checkpoint");
  }
}

function checkFinalizeVote(f: IndexedFinalizeVote): void {
  const cp = f?.checkpoint;
  if (typeof f !== "object" || f === null || !isSlot(f.validatorIndex)) {
    throw new SlashingError({ code: "SLASHING_MALFORMED_INPUT", reason: "validator index" });
  }
  if (typeof cp !== "object" || cp === null || !isSlot(cp.slot) || !isRoot(cp.root)) {
    throw new SlashingError({ code: "SLASHING_MALFORMED_INPUT", reason: "finalize checkpoint" });
  }
}

function checkHeader(h: ProposalHeader): void {
  if (typeof h !== "object" || h === null || !isSlot(h.slot) || !isSlot(h.proposerIndex) || !isRoot(h.root)) {
    throw new SlashingError({ code: "SLASHING_MALFORMED_INPUT", reason: "header" });
  }
}
