// Gossip validation of single attestations: a valid vote is returned decoded; undecodable and non-canonical bytes,
// votes from beyond the clock, unknown signers and foreign signatures are REJECTed; votes older than the window are
// IGNOREd. The boundaries (exactly now + tolerance, exactly the window's oldest slot) are accepted.
import { blsKeypairFromSeed, blsSign, concatBytes, hexToBytes, rlpEncode } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { GossipValidationError } from "../../network/errors.ts";
import type { AttestationData, Root } from "../forkChoice/checkpoint.ts";
import {
  encodeSignedAttestation,
  finalizeSigningRoot,
  type SignedAttestation,
  signAttestation,
} from "../messages/attestation.ts";
import { validateGossipAttestation } from "./attestation.ts";
import type { GossipClockContext } from "./context.ts";

const CHAIN_ID = 21076n;
const NOW = 100n;
const TOLERANCE = 2;
const WINDOW = 8;
const keys = Array.from({ length: 4 }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x21 + i)));
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;

function clock(overrides: Partial<GossipClockContext> = {}): GossipClockContext {
  return {
    chainId: CHAIN_ID,
    currentSlot: () => NOW,
    finalizedSlot: () => 90,
    futureSlotTolerance: TOLERANCE,
    voteWindowSlots: WINDOW,
    pubkeyOf: (i) => keys[i]?.publicKey,
    ...overrides,
  };
}

function data(slot: number, head = slot): AttestationData {
  return { slot, headRoot: r(head), source: { slot: slot - 1, root: r(slot - 1) }, target: { slot, root: r(slot) } };
}

function att(v: number, slot: number, signer = v, chainId = CHAIN_ID): SignedAttestation {
  return { ...signAttestation(keys[signer]!.secretKey, chainId, signer, data(slot)), validatorIndex: v };
}

/** The verdict of validating `bytes`: "accept", or "<action> <code>". */
function verdict(bytes: Uint8Array, ctx = clock()): string {
  try {
    validateGossipAttestation(ctx, bytes);
    return "accept";
  } catch (e) {
    expect(e).toBeInstanceOf(GossipValidationError);
    const err = e as GossipValidationError;
    return `${err.action} ${err.type.code}`;
  }
}

describe("validateGossipAttestation", () => {
  it("accepts a valid attestation and returns it decoded", () => {
    const a = att(2, Number(NOW));
    expect(validateGossipAttestation(clock(), encodeSignedAttestation(a))).toEqual(a);
  });

  it("REJECT ATTESTATION_MALFORMED: random bytes, truncated, extended, non-canonical, an invalid FFG link", () => {
    const valid = encodeSignedAttestation(att(1, Number(NOW)));
    const random = Uint8Array.from({ length: 200 }, (_, i) => (i * 151 + 7) & 0xff);
    expect(verdict(random)).toBe("REJECT ATTESTATION_MALFORMED");
    expect(verdict(new Uint8Array(0))).toBe("REJECT ATTESTATION_MALFORMED");
    expect(verdict(valid.subarray(0, valid.length - 1))).toBe("REJECT ATTESTATION_MALFORMED");
    expect(verdict(concatBytes(valid, Uint8Array.of(0)))).toBe("REJECT ATTESTATION_MALFORMED");
    const a = att(1, Number(NOW));
    const fields = (index: Uint8Array | number, d: AttestationData) => [
      index,
      [
        d.slot,
        hexToBytes(d.headRoot),
        d.source.slot,
        hexToBytes(d.source.root),
        d.target.slot,
        hexToBytes(d.target.root),
      ],
      a.signature,
    ];
    // The same vote with the validator index padded by a leading zero: a second encoding of one message.
    expect(verdict(rlpEncode(fields(Uint8Array.of(0, 1), a.data)))).toBe("REJECT ATTESTATION_MALFORMED");
    // Rebuilding the canonical fields gives back the valid bytes, so the two cases above differ only in the encoding.
    expect(rlpEncode(fields(1, a.data))).toEqual(valid);
    // target.slot !== slot: decodable RLP, but no valid vote has it.
    const badLink = { ...a.data, target: { slot: a.data.slot + 1, root: a.data.target.root } };
    expect(verdict(rlpEncode(fields(1, badLink)))).toBe("REJECT ATTESTATION_MALFORMED");
  });

  it("REJECT ATTESTATION_FUTURE_SLOT beyond now + tolerance; exactly now + tolerance is accepted", () => {
    const edge = Number(NOW) + TOLERANCE;
    expect(verdict(encodeSignedAttestation(att(0, edge)))).toBe("accept");
    expect(verdict(encodeSignedAttestation(att(0, edge + 1)))).toBe("REJECT ATTESTATION_FUTURE_SLOT");
    expect(verdict(encodeSignedAttestation(att(0, edge + 1000)))).toBe("REJECT ATTESTATION_FUTURE_SLOT");
  });

  it("IGNORE ATTESTATION_TOO_OLD before the window; exactly the window's oldest slot is accepted", () => {
    const oldest = Number(NOW) - WINDOW;
    expect(verdict(encodeSignedAttestation(att(3, oldest)))).toBe("accept");
    expect(verdict(encodeSignedAttestation(att(3, oldest - 1)))).toBe("IGNORE ATTESTATION_TOO_OLD");
    expect(verdict(encodeSignedAttestation(att(3, 1)))).toBe("IGNORE ATTESTATION_TOO_OLD");
  });

  it("REJECT ATTESTATION_UNKNOWN_VALIDATOR for an index outside the set", () => {
    const outside = att(7, Number(NOW), 0); // index 7 of a set of 4
    expect(verdict(encodeSignedAttestation(outside))).toBe("REJECT ATTESTATION_UNKNOWN_VALIDATOR");
    // The same vote under an index the set knows is judged on its signature instead.
    expect(verdict(encodeSignedAttestation({ ...outside, validatorIndex: 0 }))).toBe("accept");
  });

  it("REJECT ATTESTATION_BAD_SIGNATURE: signed by another key, or for another chain id", () => {
    const byOther = att(1, Number(NOW), 2); // claims validator 1, signed with validator 2's key
    expect(verdict(encodeSignedAttestation(byOther))).toBe("REJECT ATTESTATION_BAD_SIGNATURE");
    const otherChain = att(1, Number(NOW), 1, CHAIN_ID + 1n);
    expect(verdict(encodeSignedAttestation(otherChain))).toBe("REJECT ATTESTATION_BAD_SIGNATURE");
    // The same key's finalize-vote signature over the target checkpoint is not an attestation signature.
    const a = att(1, Number(NOW));
    const finalizeSig = blsSign(keys[1]!.secretKey, finalizeSigningRoot(CHAIN_ID, a.data.target));
    expect(verdict(encodeSignedAttestation({ ...a, signature: finalizeSig }))).toBe("REJECT ATTESTATION_BAD_SIGNATURE");
    expect(verdict(encodeSignedAttestation({ ...a, signature: new Uint8Array(96) }))).toBe(
      "REJECT ATTESTATION_BAD_SIGNATURE",
    );
  });

  it("checks the clock before the signer: a future vote by an unknown validator is a FUTURE_SLOT", () => {
    const bytes = encodeSignedAttestation(att(9, Number(NOW) + TOLERANCE + 1, 0));
    expect(verdict(bytes)).toBe("REJECT ATTESTATION_FUTURE_SLOT");
    expect(verdict(bytes, clock({ currentSlot: () => NOW + 1n }))).toBe("REJECT ATTESTATION_UNKNOWN_VALIDATOR");
  });
});
