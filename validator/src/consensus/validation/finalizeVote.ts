// Gossip validation of finalize votes (the second vote of a slot).
import { GossipValidationError } from "../../network/errors.ts";
import {
  decodeSignedFinalizeVote,
  type SignedFinalizeVote,
  verifySignedFinalizeVote,
} from "../messages/attestation.ts";
import type { GossipClockContext } from "./context.ts";

export function validateGossipFinalizeVote(ctx: GossipClockContext, data: Uint8Array): SignedFinalizeVote {
  let vote: SignedFinalizeVote;
  try {
    vote = decodeSignedFinalizeVote(data);
  } catch {
    // Rule: one canonical encoding (votes.ts).
    throw new GossipValidationError("REJECT", { code: "FINALIZE_VOTE_MALFORMED" });
  }
  const now = ctx.currentSlot();
  const slot = BigInt(vote.checkpoint.slot);
  // Rule: no vote from beyond the clock (plus tolerance).
  if (slot > now + BigInt(ctx.futureSlotTolerance)) {
    throw new GossipValidationError("REJECT", { code: "FINALIZE_VOTE_FUTURE_SLOT" });
  }
  // Rule: a vote for a finalized slot, or older than the window, can change nothing (not the sender's fault).
  if (vote.checkpoint.slot <= ctx.finalizedSlot() || slot + BigInt(ctx.voteWindowSlots) < now) {
    throw new GossipValidationError("IGNORE", { code: "FINALIZE_VOTE_STALE" });
  }
  // Rule: the signer is a validator of the set, and its signature covers the checkpoint on this chain.
  const pubkey = ctx.pubkeyOf(vote.validatorIndex);
  if (!pubkey) throw new GossipValidationError("REJECT", { code: "FINALIZE_VOTE_UNKNOWN_VALIDATOR" });
  if (!verifySignedFinalizeVote(vote, ctx.chainId, pubkey)) {
    throw new GossipValidationError("REJECT", { code: "FINALIZE_VOTE_BAD_SIGNATURE" });
  }
  return vote;
}
