// Gossip validation of finalize votes: a valid vote is returned decoded; undecodable bytes, votes from beyond the clock,
// unknown signers and signatures that are not a finalize vote's on this chain (another key, another chain, or an
// attestation's signature over the same slot and root: domain separation) are REJECTed; votes at or before the
// finalized slot, or older than the window, are IGNOREd.
import { blsKeypairFromSeed, blsSign, concatBytes, hexToBytes, rlpEncode } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { GossipValidationError } from "../../network/errors.ts";
import type { Checkpoint, Root } from "../forkChoice/checkpoint.ts";
import {
  attestationSigningRoot,
  encodeSignedFinalizeVote,
  type SignedFinalizeVote,
  signAttestation,
  signFinalizeVote,
} from "../messages/attestation.ts";
import type { GossipClockContext } from "./context.ts";
import { validateGossipFinalizeVote } from "./finalizeVote.ts";

const CHAIN_ID = 21076n;
const NOW = 100n;
const TOLERANCE = 2;
const WINDOW = 8;
const FINALIZED = 95;
const keys = Array.from({ length: 4 }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x31 + i)));
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;

function clock(overrides: Partial<GossipClockContext> = {}): GossipClockContext {
  return {
    chainId: CHAIN_ID,
    currentSlot: () => NOW,
    finalizedSlot: () => FINALIZED,
    futureSlotTolerance: TOLERANCE,
    voteWindowSlots: WINDOW,
    pubkeyOf: (i) => keys[i]?.publicKey,
    ...overrides,
  };
}

const cp = (slot: number, root = slot): Checkpoint => ({ slot, root: r(root) });

function fvote(v: number, slot: number, signer = v, chainId = CHAIN_ID): SignedFinalizeVote {
  return { ...signFinalizeVote(keys[signer]!.secretKey, chainId, signer, cp(slot)), validatorIndex: v };
}

function verdict(bytes: Uint8Array, ctx = clock()): string {
  try {
    validateGossipFinalizeVote(ctx, bytes);
    return "accept";
  } catch (e) {
    expect(e).toBeInstanceOf(GossipValidationError);
    const err = e as GossipValidationError;
    return `${err.action} ${err.type.code}`;
  }
}

describe("validateGossipFinalizeVote", () => {
  it("accepts a valid finalize vote and returns it decoded", () => {
    const v = fvote(1, Number(NOW));
    expect(validateGossipFinalizeVote(clock(), encodeSignedFinalizeVote(v))).toEqual(v);
  });

  it("REJECT FINALIZE_VOTE_MALFORMED: random bytes, truncated, extended, non-canonical, short root", () => {
    const v = fvote(1, Number(NOW));
    const valid = encodeSignedFinalizeVote(v);
    const random = Uint8Array.from({ length: 150 }, (_, i) => (i * 97 + 3) & 0xff);
    expect(verdict(random)).toBe("REJECT FINALIZE_VOTE_MALFORMED");
    expect(verdict(new Uint8Array(0))).toBe("REJECT FINALIZE_VOTE_MALFORMED");
    expect(verdict(valid.subarray(0, valid.length - 1))).toBe("REJECT FINALIZE_VOTE_MALFORMED");
    expect(verdict(concatBytes(valid, Uint8Array.of(0)))).toBe("REJECT FINALIZE_VOTE_MALFORMED");
    const root = hexToBytes(v.checkpoint.root);
    expect(rlpEncode([1, [v.checkpoint.slot, root], v.signature])).toEqual(valid);
    // The slot with a leading zero byte: a second encoding of the same vote.
    const paddedSlot = rlpEncode([1, [Uint8Array.of(0, Number(NOW)), root], v.signature]);
    expect(verdict(paddedSlot)).toBe("REJECT FINALIZE_VOTE_MALFORMED");
    expect(verdict(rlpEncode([1, [v.checkpoint.slot, root.subarray(1)], v.signature]))).toBe(
      "REJECT FINALIZE_VOTE_MALFORMED",
    );
    expect(verdict(rlpEncode([1, [v.checkpoint.slot, root], v.signature.subarray(1)]))).toBe(
      "REJECT FINALIZE_VOTE_MALFORMED",
    );
  });

  it("REJECT FINALIZE_VOTE_FUTURE_SLOT beyond now + tolerance; exactly now + tolerance is accepted", () => {
    const edge = Number(NOW) + TOLERANCE;
    expect(verdict(encodeSignedFinalizeVote(fvote(2, edge)))).toBe("accept");
    expect(verdict(encodeSignedFinalizeVote(fvote(2, edge + 1)))).toBe("REJECT FINALIZE_VOTE_FUTURE_SLOT");
  });

  it("IGNORE FINALIZE_VOTE_STALE at or before the finalized slot; the next slot is accepted", () => {
    expect(verdict(encodeSignedFinalizeVote(fvote(0, FINALIZED)))).toBe("IGNORE FINALIZE_VOTE_STALE");
    expect(verdict(encodeSignedFinalizeVote(fvote(0, FINALIZED - 1)))).toBe("IGNORE FINALIZE_VOTE_STALE");
    expect(verdict(encodeSignedFinalizeVote(fvote(0, FINALIZED + 1)))).toBe("accept");
  });

  it("IGNORE FINALIZE_VOTE_STALE before the window even above the finalized slot; the window's edge is accepted", () => {
    const ctx = clock({ finalizedSlot: () => 10 });
    const oldest = Number(NOW) - WINDOW;
    expect(verdict(encodeSignedFinalizeVote(fvote(3, oldest)), ctx)).toBe("accept");
    expect(verdict(encodeSignedFinalizeVote(fvote(3, oldest - 1)), ctx)).toBe("IGNORE FINALIZE_VOTE_STALE");
  });

  it("REJECT FINALIZE_VOTE_UNKNOWN_VALIDATOR for an index outside the set", () => {
    const outside = fvote(6, Number(NOW), 0);
    expect(verdict(encodeSignedFinalizeVote(outside))).toBe("REJECT FINALIZE_VOTE_UNKNOWN_VALIDATOR");
    expect(verdict(encodeSignedFinalizeVote({ ...outside, validatorIndex: 0 }))).toBe("accept");
  });

  it("REJECT FINALIZE_VOTE_BAD_SIGNATURE: another key, another chain id", () => {
    expect(verdict(encodeSignedFinalizeVote(fvote(1, Number(NOW), 2)))).toBe("REJECT FINALIZE_VOTE_BAD_SIGNATURE");
    expect(verdict(encodeSignedFinalizeVote(fvote(1, Number(NOW), 1, CHAIN_ID + 1n)))).toBe(
      "REJECT FINALIZE_VOTE_BAD_SIGNATURE",
    );
    const v = fvote(1, Number(NOW));
    expect(verdict(encodeSignedFinalizeVote({ ...v, checkpoint: cp(Number(NOW), 7) }))).toBe(
      "REJECT FINALIZE_VOTE_BAD_SIGNATURE",
    );
  });

  it("REJECT FINALIZE_VOTE_BAD_SIGNATURE for an attestation's signature over the same slot and root (domain)", () => {
    const slot = Number(NOW);
    const target = cp(slot);
    const attestation = signAttestation(keys[1]!.secretKey, CHAIN_ID, 1, {
      slot,
      headRoot: target.root,
      source: cp(slot - 1),
      target,
    });
    const asFinalize: SignedFinalizeVote = { validatorIndex: 1, checkpoint: target, signature: attestation.signature };
    expect(verdict(encodeSignedFinalizeVote(asFinalize))).toBe("REJECT FINALIZE_VOTE_BAD_SIGNATURE");
    // Nor does a BLS signature over the attestation root of any data carrying this checkpoint.
    const root = attestationSigningRoot(CHAIN_ID, { slot, headRoot: target.root, source: cp(0), target });
    const other = { ...asFinalize, signature: blsSign(keys[1]!.secretKey, root) };
    expect(verdict(encodeSignedFinalizeVote(other))).toBe("REJECT FINALIZE_VOTE_BAD_SIGNATURE");
    // The finalize vote the same key signs for this checkpoint passes: only the domain differs.
    expect(verdict(encodeSignedFinalizeVote(fvote(1, slot)))).toBe("accept");
  });
});
