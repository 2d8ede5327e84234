// Gossip validation of slashing evidence: every kind that proves an offence is accepted with its offender; evidence
// that proves nothing (undecodable, not a slashable pair, two validators, a forged signature) is REJECTed; evidence
// already pooled (in either message order) or arriving at a full pool is IGNOREd.
import { type BlockHeader, blockHash, blsKeypairFromSeed, blsSign, concatBytes } from "@rustchain/shared";
import { testHeader } from "@rustchain/shared/testHeaders";
import { describe, expect, it } from "vitest";
import { blockSigningRoot } from "../../chain/chain.ts";
import { GossipValidationError } from "../../network/errors.ts";
import type { Checkpoint, Root } from "../forkChoice/checkpoint.ts";
import {
  type SignedAttestation,
  type SignedFinalizeVote,
  signAttestation,
  signFinalizeVote,
} from "../messages/attestation.ts";
import { type Evidence, encodeEvidence, evidenceId } from "../messages/evidence.ts";
import { type EvidenceGossipContext, validateGossipEvidence } from "./evidence.ts";

const CHAIN_ID = 21076n;
const keys = Array.from({ length: 4 }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x51 + i)));
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const cp = (slot: number, root = slot): Checkpoint => ({ slot, root: r(root) });

function context(opts: { known?: ReadonlySet<string>; full?: boolean } = {}): EvidenceGossipContext {
  return {
    chainId: CHAIN_ID,
    pubkeyOf: (i) => keys[i]?.publicKey,
    isKnown: (id) => opts.known?.has(id) ?? false,
    poolFull: () => opts.full ?? false,
  };
}

function header(proposer: number, slot: number, variant = 0, signer = proposer): BlockHeader {
  const h = testHeader({ slot: BigInt(slot), proposerIndex: BigInt(proposer), variant });
  h.signature = blsSign(keys[signer]!.secretKey, blockSigningRoot(CHAIN_ID, blockHash(h)));
  return h;
}

/** Validator v's attestation with source slot `source` and target slot `target`, signed with `signer`'s key. */
function vote(v: number, source: number, target: number, head = target, signer = v): SignedAttestation {
  const data = { slot: target, headRoot: r(head), source: cp(source), target: cp(target) };
  return { ...signAttestation(keys[signer]!.secretKey, CHAIN_ID, v, data), validatorIndex: v };
}

function fin(v: number, slot: number, root = slot, signer = v): SignedFinalizeVote {
  return { ...signFinalizeVote(keys[signer]!.secretKey, CHAIN_ID, v, cp(slot, root)), validatorIndex: v };
}

const doubleProposal = (proposer: number): Evidence => ({
  kind: "double_proposal",
  header1: header(proposer, 10, 0),
  header2: header(proposer, 10, 1),
});
const attester = (a1: SignedAttestation, a2: SignedAttestation): Evidence => ({ kind: "attester", a1, a2 });
const doubleFinalize = (f1: SignedFinalizeVote, f2: SignedFinalizeVote): Evidence => ({
  kind: "double_finalize",
  f1,
  f2,
});
const finalizeSurround = (finalize: SignedFinalizeVote, attestation: SignedAttestation): Evidence => ({
  kind: "finalize_surround",
  finalize,
  attestation,
});

function verdict(bytes: Uint8Array, ctx = context()): string {
  try {
    validateGossipEvidence(ctx, bytes);
    return "accept";
  } catch (e) {
    expect(e).toBeInstanceOf(GossipValidationError);
    const err = e as GossipValidationError;
    return `${err.action} ${err.type.code}`;
  }
}

describe("validateGossipEvidence accepts every kind of offence and names the offender", () => {
  const cases: [string, Evidence, number][] = [
    ["double proposal", doubleProposal(1), 1],
    ["attester double vote", attester(vote(2, 4, 6), vote(2, 4, 6, 5)), 2],
    ["attester surround vote", attester(vote(3, 1, 9), vote(3, 4, 6)), 3],
    ["double finalize", doubleFinalize(fin(0, 7, 7), fin(0, 7, 8)), 0],
    ["finalize surround", finalizeSurround(fin(2, 5), vote(2, 4, 6)), 2],
  ];
  for (const [name, ev, offender] of cases) {
    it(name, () => {
      const out = validateGossipEvidence(context(), encodeEvidence(ev));
      expect(out.offender).toBe(offender);
      expect(out.evidence).toEqual(ev);
      expect(evidenceId(out.evidence)).toBe(evidenceId(ev));
    });
  }
});

describe("validateGossipEvidence refuses evidence that proves nothing: REJECT EVIDENCE_INVALID", () => {
  it("malformed bytes", () => {
    const valid = encodeEvidence(attester(vote(2, 4, 6), vote(2, 4, 6, 5)));
    expect(verdict(Uint8Array.from({ length: 300 }, (_, i) => (i * 31 + 11) & 0xff))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(new Uint8Array(0))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(valid.subarray(0, valid.length - 1))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(concatBytes(valid, Uint8Array.of(0)))).toBe("REJECT EVIDENCE_INVALID");
  });

  it("the same vote twice (attestations or finalize votes)", () => {
    const a = vote(2, 4, 6);
    expect(verdict(encodeEvidence(attester(a, a)))).toBe("REJECT EVIDENCE_INVALID");
    const f = fin(2, 6);
    expect(verdict(encodeEvidence(doubleFinalize(f, f)))).toBe("REJECT EVIDENCE_INVALID");
  });

  it("votes of two validators", () => {
    expect(verdict(encodeEvidence(attester(vote(1, 4, 6), vote(2, 4, 6, 5))))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(doubleFinalize(fin(1, 7, 7), fin(2, 7, 8))))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(finalizeSurround(fin(1, 5), vote(2, 4, 6))))).toBe("REJECT EVIDENCE_INVALID");
  });

  it("a forged signature on either message", () => {
    const forgedAtt = vote(2, 4, 6, 5, 0); // validator 2's vote signed with key 0
    expect(verdict(encodeEvidence(attester(vote(2, 4, 6), forgedAtt)))).toBe("REJECT EVIDENCE_INVALID");
    const forgedFin = fin(0, 7, 8, 3);
    expect(verdict(encodeEvidence(doubleFinalize(fin(0, 7, 7), forgedFin)))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(finalizeSurround(fin(2, 5, 5, 1), vote(2, 4, 6))))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(finalizeSurround(fin(2, 5), vote(2, 4, 6, 6, 1))))).toBe("REJECT EVIDENCE_INVALID");
    const forgedHeader = header(1, 10, 1, 2); // claims proposer 1, signed by 2
    const ev: Evidence = { kind: "double_proposal", header1: header(1, 10, 0), header2: forgedHeader };
    expect(verdict(encodeEvidence(ev))).toBe("REJECT EVIDENCE_INVALID");
  });

  it("a finalize vote and an attestation that do not surround it", () => {
    // Finalize vote at 5; the attestation must have source < 5 < target.
    expect(verdict(encodeEvidence(finalizeSurround(fin(2, 5), vote(2, 5, 6))))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(finalizeSurround(fin(2, 5), vote(2, 4, 5))))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(finalizeSurround(fin(2, 5), vote(2, 6, 9))))).toBe("REJECT EVIDENCE_INVALID");
    expect(verdict(encodeEvidence(finalizeSurround(fin(2, 5), vote(2, 1, 3))))).toBe("REJECT EVIDENCE_INVALID");
    // Two finalize votes for different slots are no double finalize either.
    expect(verdict(encodeEvidence(doubleFinalize(fin(2, 5), fin(2, 6))))).toBe("REJECT EVIDENCE_INVALID");
  });

  it("an offender outside the validator set", () => {
    const ev = encodeEvidence(attester(vote(2, 4, 6), vote(2, 4, 6, 5)));
    const three = { ...context(), pubkeyOf: (i: number) => (i < 2 ? keys[i]!.publicKey : undefined) };
    expect(verdict(ev, three)).toBe("REJECT EVIDENCE_INVALID");
  });
});

describe("validateGossipEvidence ignores what it cannot use", () => {
  it("IGNORE EVIDENCE_KNOWN for a pooled offence, in either message order", () => {
    const a = vote(2, 4, 6);
    const b = vote(2, 4, 6, 5);
    const known = new Set([evidenceId(attester(a, b))]);
    expect(verdict(encodeEvidence(attester(a, b)), context({ known }))).toBe("IGNORE EVIDENCE_KNOWN");
    expect(verdict(encodeEvidence(attester(b, a)), context({ known }))).toBe("IGNORE EVIDENCE_KNOWN");
    // Another offence by the same validator is not known.
    expect(verdict(encodeEvidence(attester(a, vote(2, 4, 6, 4))), context({ known }))).toBe("accept");
    const f1 = fin(0, 7, 7);
    const f2 = fin(0, 7, 8);
    const knownF = new Set([evidenceId(doubleFinalize(f1, f2))]);
    expect(verdict(encodeEvidence(doubleFinalize(f2, f1)), context({ known: knownF }))).toBe("IGNORE EVIDENCE_KNOWN");
  });

  it("IGNORE EVIDENCE_POOL_FULL for new valid evidence; invalid evidence is still REJECTed, known still IGNOREd", () => {
    const ev = attester(vote(3, 1, 9), vote(3, 4, 6));
    expect(verdict(encodeEvidence(ev), context({ full: true }))).toBe("IGNORE EVIDENCE_POOL_FULL");
    expect(verdict(encodeEvidence(ev), context({ full: true, known: new Set([evidenceId(ev)]) }))).toBe(
      "IGNORE EVIDENCE_KNOWN",
    );
    const a = vote(3, 4, 6);
    expect(verdict(encodeEvidence(attester(a, a)), context({ full: true }))).toBe("REJECT EVIDENCE_INVALID");
  });
});
