// Slashing conditions (docs/consensus.md, "Slashing"):
//   double vote      two different attestations by one validator with the same target slot;
//   surround vote    two attestations by one validator where one's source is strictly before the other's and its
//                    target strictly after: s1 < s2 and t2 < t1 (so s1 < s2 < t2 < t1);
//   double proposal  two different block headers by one proposer for the same slot.
// The detectors are pure functions over plain objects; they are generic so signatures and other fields the caller
// attaches travel into the evidence unchanged.
import {
  type AttestationData,
  attestationDataEquals,
  type IndexedAttestation,
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

export type SlashingEvidence<
  A extends IndexedAttestation = IndexedAttestation,
  H extends ProposalHeader = ProposalHeader,
> = AttesterEvidence<A> | DoubleProposalEvidence<H>;

/** Double vote: same validator, same target slot, different attestation data. */
export function detectDoubleVote<A extends IndexedAttestation>(a1: A, a2: A): DoubleVoteEvidence<A> | undefined {
  checkAttestation(a1);
  checkAttestation(a2);
  if (a1.validatorIndex !== a2.validatorIndex) return undefined;
  if (a1.data.target.slot !== a2.data.target.slot || attestationDataEquals(a1.data, a2.data)) return undefined;
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

/** Double proposal: same proposer, same slot, different header roots. */
export function detectDoubleProposal<H extends ProposalHeader>(h1: H, h2: H): DoubleProposalEvidence<H> | undefined {
  checkHeader(h1);
  checkHeader(h2);
  if (h1.proposerIndex !== h2.proposerIndex || h1.slot !== h2.slot || h1.root === h2.root) return undefined;
  return { kind: "double_proposal", proposerIndex: h1.proposerIndex, slot: h1.slot, header1: h1, header2: h2 };
}

function surrounds(outer: AttestationData, inner: AttestationData): boolean {
  return outer.source.slot < inner.source.slot && inner.target.slot < outer.target.slot;
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
> {
  /** validator -> target slot -> first attestation seen. */
  private readonly attestations = new Map<number, Map<number, A>>();
  /** "proposer:slot" -> first header seen. */
  private readonly proposals = new Map<string, H>();
  /** Evidence already reported, keyed by its content, with the lowest slot it involves (for pruning). */
  private readonly reported = new Map<string, number>();
  private readonly offenders = new Set<number>();

  /** Validators (attesters or proposers) with reported evidence. */
  get slashable(): ReadonlySet<number> {
    return this.offenders;
  }

  /** Records an attestation; returns the evidence it creates against attestations recorded earlier. */
  ingestAttestation(attestation: A): AttesterEvidence<A>[] {
    checkAttestation(attestation);
    const v = attestation.validatorIndex;
    let byTarget = this.attestations.get(v);
    if (byTarget === undefined) {
      byTarget = new Map();
      this.attestations.set(v, byTarget);
    }
    const found: AttesterEvidence<A>[] = [];
    const first = byTarget.get(attestation.data.target.slot);
    if (first !== undefined) {
      if (attestationDataEquals(first.data, attestation.data)) return found;
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
    for (const [key, header] of this.proposals) if (header.slot < minSlot) this.proposals.delete(key);
    for (const [id, slot] of this.reported) if (slot < minSlot) this.reported.delete(id);
  }

  private report(evidence: AttesterEvidence<A>, out: AttesterEvidence<A>[]): void {
    const d1 = evidence.attestation1.data;
    const d2 = evidence.attestation2.data;
    const id = `${evidence.kind}:${evidence.validatorIndex}:${dataKey(d1)}|${dataKey(d2)}`;
    if (this.reported.has(id)) return;
    this.reported.set(id, Math.min(d1.target.slot, d2.target.slot));
    this.offenders.add(evidence.validatorIndex);
    out.push(evidence);
  }
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

function checkHeader(h: ProposalHeader): void {
  if (typeof h !== "object" || h === null || !isSlot(h.slot) || !isSlot(h.proposerIndex) || !isRoot(h.root)) {
    throw new SlashingError({ code: "SLASHING_MALFORMED_INPUT", reason: "header" });
  }
}
