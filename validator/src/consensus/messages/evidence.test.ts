// Slashing evidence: double proposals, double votes and surround votes signed by one validator are proven and name the
// offender; pairs that are not slashable, signatures that do not verify and unknown validators are refused with their
// codes; the id is the same whichever message comes first; hostile bytes only produce EVIDENCE_MALFORMED.
import { type BlockHeader, blockHash, blsKeypairFromSeed, blsSign, concatBytes, rlpEncode } from "@rustchain/shared";
import { testHeader } from "@rustchain/shared/testHeaders";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockSigningRoot } from "../../chain/chain.ts";
import type { AttestationData, Root } from "../forkChoice/checkpoint.ts";
import {
  encodeSignedAttestation,
  encodeSignedFinalizeVote,
  type SignedAttestation,
  type SignedFinalizeVote,
  signAttestation,
  signFinalizeVote,
} from "./attestation.ts";
import { EvidenceError, type EvidenceErrorType } from "./errors.ts";
import { decodeEvidence, type Evidence, encodeEvidence, evidenceId, verifyEvidence } from "./evidence.ts";

const CHAIN_ID = 21076n;
const keys = Array.from({ length: 4 }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x90 + i)));
const ctx = { chainId: CHAIN_ID, pubkeyOf: (i: number) => keys[i]?.publicKey };
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;

function header(proposer: number, slot: number, variant = 0, signer = proposer, chainId = CHAIN_ID): BlockHeader {
  const h = testHeader({ slot: BigInt(slot), proposerIndex: BigInt(proposer), variant });
  h.signature = blsSign(keys[signer]!.secretKey, blockSigningRoot(chainId, blockHash(h)));
  return h;
}

function vote(v: number, source: number, target: number, head = target, signer = v): SignedAttestation {
  const data: AttestationData = {
    slot: target,
    headRoot: r(head),
    source: { slot: source, root: r(source) },
    target: { slot: target, root: r(target) },
  };
  const signed = signAttestation(keys[signer]!.secretKey, CHAIN_ID, v, data);
  return { ...signed, validatorIndex: v };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EvidenceError);
    return (e as EvidenceError).type.code;
  }
  return "no error";
}

const proposals = (h1: BlockHeader, h2: BlockHeader): Evidence => ({
  kind: "double_proposal",
  header1: h1,
  header2: h2,
});
const votes = (a1: SignedAttestation, a2: SignedAttestation): Evidence => ({ kind: "attester", a1, a2 });

describe("double proposal", () => {
  const ev = proposals(header(1, 10, 0), header(1, 10, 1));

  it("is proven against the proposer, and survives encoding", () => {
    expect(verifyEvidence(ev, ctx)).toEqual({ offender: 1, kind: "double_proposal" });
    const back = decodeEvidence(encodeEvidence(ev));
    expect(back).toEqual(ev);
    expect(verifyEvidence(back, ctx)).toEqual({ offender: 1, kind: "double_proposal" });
  });

  it("is not slashable for the same block twice, two slots, or two proposers", () => {
    const h = header(1, 10);
    expect(codeOf(() => verifyEvidence(proposals(h, h), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(proposals(h, header(1, 11)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(proposals(h, header(2, 10, 1)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    // A different signature alone does not make a different block: the block hash excludes it.
    const resigned = { ...h, signature: header(1, 10, 0, 2).signature };
    expect(codeOf(() => verifyEvidence(proposals(h, resigned), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
  });

  it("is refused when a signature is not the proposer's on this chain", () => {
    const forged = header(1, 10, 1, 2); // claims proposer 1, signed by 2
    expect(codeOf(() => verifyEvidence(proposals(header(1, 10), forged), ctx))).toBe("EVIDENCE_BAD_SIGNATURE");
    const otherChain = header(1, 10, 1, 1, CHAIN_ID + 1n);
    expect(codeOf(() => verifyEvidence(proposals(otherChain, header(1, 10)), ctx))).toBe("EVIDENCE_BAD_SIGNATURE");
  });

  it("is refused for a proposer outside the validator set", () => {
    const unknown = { chainId: CHAIN_ID, pubkeyOf: () => undefined };
    expect(codeOf(() => verifyEvidence(ev, unknown))).toBe("EVIDENCE_UNKNOWN_VALIDATOR");
  });

  it("is malformed when a header has a short signature or an unusable index", () => {
    const h = header(1, 10, 1);
    const short = { ...h, signature: h.signature.subarray(1) };
    expect(codeOf(() => verifyEvidence(proposals(header(1, 10), short), ctx))).toBe("EVIDENCE_MALFORMED");
    expect(codeOf(() => encodeEvidence(proposals(header(1, 10), short)))).toBe("EVIDENCE_MALFORMED");
    const huge = { ...h, proposerIndex: 1n << 60n };
    expect(codeOf(() => verifyEvidence(proposals(huge, huge), ctx))).toBe("EVIDENCE_MALFORMED");
    const badRoot = { ...h, stateRoot: new Uint8Array(31) };
    expect(codeOf(() => verifyEvidence(proposals(header(1, 10), badRoot), ctx))).toBe("EVIDENCE_MALFORMED");
  });
});

describe("attester evidence", () => {
  it("proves a double vote: same target slot, different data", () => {
    const ev = votes(vote(2, 4, 6), vote(2, 4, 6, 5));
    expect(verifyEvidence(ev, ctx)).toEqual({ offender: 2, kind: "double_vote" });
    expect(verifyEvidence(decodeEvidence(encodeEvidence(ev)), ctx)).toEqual({ offender: 2, kind: "double_vote" });
  });

  it("proves a surround vote in either order", () => {
    const outer = vote(3, 1, 9);
    const inner = vote(3, 4, 6);
    expect(verifyEvidence(votes(outer, inner), ctx)).toEqual({ offender: 3, kind: "surround_vote" });
    expect(verifyEvidence(votes(inner, outer), ctx)).toEqual({ offender: 3, kind: "surround_vote" });
  });

  it("is not slashable for identical votes, honest successive votes, or two validators", () => {
    const a = vote(2, 4, 6);
    expect(codeOf(() => verifyEvidence(votes(a, a), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(votes(a, vote(2, 6, 7)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(votes(vote(2, 1, 5), vote(2, 4, 6)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    // Same source, nested targets: not a surround (the source must be strictly before).
    expect(codeOf(() => verifyEvidence(votes(vote(2, 4, 9), vote(2, 4, 6)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(votes(a, vote(1, 4, 6, 5)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
  });

  it("is refused when either signature is not the validator's", () => {
    const good = vote(2, 4, 6);
    const forged = vote(2, 4, 6, 5, 0); // validator 2's vote signed with key 0
    expect(codeOf(() => verifyEvidence(votes(good, forged), ctx))).toBe("EVIDENCE_BAD_SIGNATURE");
    expect(codeOf(() => verifyEvidence(votes(forged, good), ctx))).toBe("EVIDENCE_BAD_SIGNATURE");
    const zeroed = { ...good, signature: new Uint8Array(96) };
    expect(codeOf(() => verifyEvidence(votes(zeroed, vote(2, 4, 6, 5)), ctx))).toBe("EVIDENCE_BAD_SIGNATURE");
  });

  it("is refused for a validator outside the set", () => {
    const ev = votes(vote(3, 4, 6), vote(3, 4, 6, 5));
    const ctx3 = { chainId: CHAIN_ID, pubkeyOf: (i: number) => (i < 3 ? keys[i]!.publicKey : undefined) };
    expect(codeOf(() => verifyEvidence(ev, ctx3))).toBe("EVIDENCE_UNKNOWN_VALIDATOR");
  });

  it("is malformed for an invalid FFG link or a short signature", () => {
    const a = vote(2, 4, 6);
    const badLink = { ...a, data: { ...a.data, source: { slot: 6, root: r(6) } } };
    expect(codeOf(() => verifyEvidence(votes(a, badLink), ctx))).toBe("EVIDENCE_MALFORMED");
    const short = { ...a, signature: a.signature.subarray(0, 95) };
    expect(codeOf(() => verifyEvidence(votes(short, vote(2, 4, 6, 5)), ctx))).toBe("EVIDENCE_MALFORMED");
    expect(codeOf(() => verifyEvidence({ kind: "other" } as unknown as Evidence, ctx))).toBe("EVIDENCE_MALFORMED");
  });
});

describe("evidenceId", () => {
  it("is the same in either order and different for another offence", () => {
    const h1 = header(1, 10, 0);
    const h2 = header(1, 10, 1);
    expect(evidenceId(proposals(h1, h2))).toBe(evidenceId(proposals(h2, h1)));
    expect(evidenceId(proposals(h1, h2))).not.toBe(evidenceId(proposals(h1, header(1, 10, 2))));
    expect(evidenceId(proposals(h1, h2))).toMatch(/^0x[0-9a-f]{64}$/);
    const a = vote(2, 4, 6);
    const b = vote(2, 4, 6, 5);
    expect(evidenceId(votes(a, b))).toBe(evidenceId(votes(b, a)));
    expect(evidenceId(votes(a, b))).toBe(evidenceId(decodeEvidence(encodeEvidence(votes(b, a)))));
    expect(evidenceId(votes(a, b))).not.toBe(evidenceId(votes(a, vote(2, 4, 6, 4))));
    expect(evidenceId(votes(a, b))).not.toBe(evidenceId(votes(vote(3, 4, 6), vote(3, 4, 6, 5))));
  });
});

describe("hostile bytes only produce EVIDENCE_MALFORMED", () => {
  const valid = [
    encodeEvidence(proposals(header(1, 10, 0), header(1, 10, 1))),
    encodeEvidence(votes(vote(3, 1, 9), vote(3, 4, 6))),
  ];

  function decodeOrMalformed(bytes: Uint8Array): void {
    let ev: Evidence;
    try {
      ev = decodeEvidence(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(EvidenceError);
      expect((e as EvidenceError).type.code).toBe("EVIDENCE_MALFORMED");
      return;
    }
    expect(encodeEvidence(ev)).toEqual(bytes);
  }

  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10_000 }), (bytes) => decodeOrMalformed(bytes)),
      { numRuns: 300 },
    );
  });

  it("mutations, truncations and extensions of valid evidence", () => {
    for (const v of valid) {
      fc.assert(
        fc.property(fc.nat(v.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(v.length), (at, value, cut) => {
          const mutated = v.slice();
          mutated[at] = value;
          decodeOrMalformed(mutated);
          decodeOrMalformed(v.subarray(0, cut));
          decodeOrMalformed(concatBytes(v, Uint8Array.of(value)));
        }),
        { numRuns: 300 },
      );
    }
  });

  it("length bombs, unknown kinds and oversized input", () => {
    const att = encodeSignedAttestation(vote(3, 1, 9));
    const bombs = [
      Uint8Array.of(0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0xf9, 0xff, 0xff, 0x02),
      new Uint8Array(5000).fill(0xc1).fill(0x80, 4999),
      new Uint8Array(1 << 20),
      new Uint8Array(0),
      rlpEncode([3, att, att]), // unknown kind
      rlpEncode([Uint8Array.of(0, 2), att, att]), // kind with a leading zero
      rlpEncode([2, att]), // one message
      rlpEncode([2, att, att, att]), // three messages
      rlpEncode([2, [att], att]), // message as a list
      rlpEncode([1, new Uint8Array(4097), new Uint8Array(1)]), // header above the size limit
      rlpEncode([1, att, att]), // attestations under the header kind
    ];
    for (const b of bombs) expect(codeOf(() => decodeEvidence(b))).toBe("EVIDENCE_MALFORMED");
    expect(codeOf(() => decodeEvidence(null as unknown as Uint8Array))).toBe("EVIDENCE_MALFORMED");
  });
});

describe("finalize evidence: double finalize and finalize surround", () => {
  function fin(v: number, slot: number, root = slot, signer = v, chainId = CHAIN_ID): SignedFinalizeVote {
    const signed = signFinalizeVote(keys[signer]!.secretKey, chainId, v, { slot, root: r(root) });
    return { ...signed, validatorIndex: v };
  }
  const doubleFinalize = (f1: SignedFinalizeVote, f2: SignedFinalizeVote): Evidence => ({
    kind: "double_finalize",
    f1,
    f2,
  });
  const surround = (finalize: SignedFinalizeVote, attestation: SignedAttestation): Evidence => ({
    kind: "finalize_surround",
    finalize,
    attestation,
  });

  function errorOf(fn: () => unknown): EvidenceErrorType | "no error" {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(EvidenceError);
      return (e as EvidenceError).type;
    }
    return "no error";
  }

  it("encode and decode canonically: round trip, kinds 3 and 4 as specified, one encoding", () => {
    const f1 = fin(1, 7, 7);
    const f2 = fin(1, 7, 8);
    const df = doubleFinalize(f1, f2);
    const bytes = encodeEvidence(df);
    expect(bytes).toEqual(rlpEncode([3, encodeSignedFinalizeVote(f1), encodeSignedFinalizeVote(f2)]));
    expect(decodeEvidence(bytes)).toEqual(df);
    expect(encodeEvidence(decodeEvidence(bytes))).toEqual(bytes);
    const a = vote(1, 4, 9);
    const fs = surround(fin(1, 6), a);
    const fsBytes = encodeEvidence(fs);
    expect(fsBytes).toEqual(rlpEncode([4, encodeSignedFinalizeVote(fin(1, 6)), encodeSignedAttestation(a)]));
    expect(decodeEvidence(fsBytes)).toEqual(fs);
    // Second encodings and misplaced messages are malformed.
    const f1Bytes = encodeSignedFinalizeVote(f1);
    const f2Bytes = encodeSignedFinalizeVote(f2);
    expect(codeOf(() => decodeEvidence(rlpEncode([Uint8Array.of(0, 3), f1Bytes, f2Bytes])))).toBe("EVIDENCE_MALFORMED");
    expect(codeOf(() => decodeEvidence(rlpEncode([4, encodeSignedAttestation(a), f1Bytes])))).toBe(
      "EVIDENCE_MALFORMED",
    );
    expect(codeOf(() => decodeEvidence(rlpEncode([3, f1Bytes, encodeSignedAttestation(a)])))).toBe(
      "EVIDENCE_MALFORMED",
    );
    expect(codeOf(() => decodeEvidence(rlpEncode([2, f1Bytes, f2Bytes])))).toBe("EVIDENCE_MALFORMED");
    expect(codeOf(() => decodeEvidence(rlpEncode([3, f1Bytes, f2Bytes.subarray(1)])))).toBe("EVIDENCE_MALFORMED");
  });

  it("evidenceId: independent of message order for double_finalize, distinct per offence and per kind", () => {
    const f1 = fin(1, 7, 7);
    const f2 = fin(1, 7, 8);
    const id = evidenceId(doubleFinalize(f1, f2));
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    expect(evidenceId(doubleFinalize(f2, f1))).toBe(id);
    expect(evidenceId(decodeEvidence(encodeEvidence(doubleFinalize(f2, f1))))).toBe(id);
    // The signature is not part of the offence.
    expect(evidenceId(doubleFinalize({ ...f1, signature: new Uint8Array(96) }, f2))).toBe(id);
    expect(evidenceId(doubleFinalize(f1, fin(1, 7, 9)))).not.toBe(id);
    expect(evidenceId(doubleFinalize(fin(2, 7, 7), fin(2, 7, 8)))).not.toBe(id);
    const fs = evidenceId(surround(fin(1, 6), vote(1, 4, 9)));
    expect(fs).not.toBe(evidenceId(surround(fin(1, 6), vote(1, 5, 9))));
    expect(fs).not.toBe(evidenceId(surround(fin(1, 7), vote(1, 4, 9))));
    expect(fs).not.toBe(id);
  });

  it("verifyEvidence returns the offender and the kind", () => {
    const df = doubleFinalize(fin(3, 7, 7), fin(3, 7, 8));
    expect(verifyEvidence(df, ctx)).toEqual({ offender: 3, kind: "double_finalize" });
    expect(verifyEvidence(decodeEvidence(encodeEvidence(df)), ctx)).toEqual({ offender: 3, kind: "double_finalize" });
    const fs = surround(fin(2, 6), vote(2, 4, 9));
    expect(verifyEvidence(fs, ctx)).toEqual({ offender: 2, kind: "finalize_surround" });
    expect(verifyEvidence(surround(fin(0, 5), vote(0, 4, 6)), ctx)).toEqual({ offender: 0, kind: "finalize_surround" });
  });

  it("EVIDENCE_BAD_SIGNATURE names the message whose signature is not the validator's on this chain", () => {
    const good1 = fin(3, 7, 7);
    const good2 = fin(3, 7, 8);
    expect(errorOf(() => verifyEvidence(doubleFinalize(fin(3, 7, 7, 0), good2), ctx))).toEqual({
      code: "EVIDENCE_BAD_SIGNATURE",
      message: 1,
    });
    expect(errorOf(() => verifyEvidence(doubleFinalize(good1, fin(3, 7, 8, 0)), ctx))).toEqual({
      code: "EVIDENCE_BAD_SIGNATURE",
      message: 2,
    });
    expect(errorOf(() => verifyEvidence(doubleFinalize(good1, fin(3, 7, 8, 3, CHAIN_ID + 1n)), ctx))).toEqual({
      code: "EVIDENCE_BAD_SIGNATURE",
      message: 2,
    });
    expect(errorOf(() => verifyEvidence(surround(fin(2, 6, 6, 1), vote(2, 4, 9)), ctx))).toEqual({
      code: "EVIDENCE_BAD_SIGNATURE",
      message: 1,
    });
    expect(errorOf(() => verifyEvidence(surround(fin(2, 6), vote(2, 4, 9, 9, 1)), ctx))).toEqual({
      code: "EVIDENCE_BAD_SIGNATURE",
      message: 2,
    });
    // An attestation's signature does not pass as a finalize vote's (domain separation).
    const a = vote(2, 4, 6);
    const disguised: SignedFinalizeVote = { validatorIndex: 2, checkpoint: a.data.target, signature: a.signature };
    expect(errorOf(() => verifyEvidence(doubleFinalize(disguised, fin(2, 6, 7)), ctx))).toEqual({
      code: "EVIDENCE_BAD_SIGNATURE",
      message: 1,
    });
  });

  it("EVIDENCE_NOT_SLASHABLE for pairs that break no rule; EVIDENCE_UNKNOWN_VALIDATOR outside the set", () => {
    const f = fin(1, 6);
    expect(codeOf(() => verifyEvidence(doubleFinalize(f, f), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(doubleFinalize(f, fin(1, 7)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(doubleFinalize(f, fin(2, 6, 8)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(surround(f, vote(1, 6, 9)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE"); // source == s
    expect(codeOf(() => verifyEvidence(surround(f, vote(1, 4, 6)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE"); // target == s
    expect(codeOf(() => verifyEvidence(surround(f, vote(1, 7, 9)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    expect(codeOf(() => verifyEvidence(surround(f, vote(2, 4, 9)), ctx))).toBe("EVIDENCE_NOT_SLASHABLE");
    const ctx3 = { chainId: CHAIN_ID, pubkeyOf: (i: number) => (i < 3 ? keys[i]!.publicKey : undefined) };
    expect(errorOf(() => verifyEvidence(doubleFinalize(fin(3, 7, 7), fin(3, 7, 8)), ctx3))).toEqual({
      code: "EVIDENCE_UNKNOWN_VALIDATOR",
      validatorIndex: 3,
    });
  });

  it("hostile variants of finalize evidence only produce EVIDENCE_MALFORMED", () => {
    const valid = [
      encodeEvidence(doubleFinalize(fin(1, 7, 7), fin(1, 7, 8))),
      encodeEvidence(surround(fin(2, 6), vote(2, 4, 9))),
    ];
    for (const v of valid) {
      fc.assert(
        fc.property(fc.nat(v.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(v.length), (at, value, cut) => {
          for (const bytes of [
            v.slice().fill(value, at, at + 1),
            v.subarray(0, cut),
            concatBytes(v, Uint8Array.of(value)),
          ]) {
            let ev: Evidence;
            try {
              ev = decodeEvidence(bytes);
            } catch (e) {
              expect((e as EvidenceError).type.code).toBe("EVIDENCE_MALFORMED");
              continue;
            }
            expect(encodeEvidence(ev)).toEqual(bytes);
          }
        }),
        { numRuns: 200 },
      );
    }
  });
});
