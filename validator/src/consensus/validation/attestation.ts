// Gossip validation of single attestations.
import { GossipValidationError } from "../../network/errors.ts";
import { decodeSignedAttestation, type SignedAttestation, verifySignedAttestation } from "../messages/attestation.ts";
import type { GossipClockContext } from "./context.ts";

export function validateGossipAttestation(ctx: GossipClockContext, data: Uint8Array): SignedAttestation {
  let att: SignedAttestation;
  try {
    att = decodeSignedAttestation(data);
  } catch {
    // Rule: one canonical encoding of a valid FFG link (attestation.ts).
    throw new GossipValidationError("REJECT", { code: "ATTESTATION_MALFORMED" });
  }
  const now = ctx.currentSlot();
  const slot = BigInt(att.data.slot);
  // Rule: no vote from beyond the clock (plus tolerance).
  if (slot > now + BigInt(ctx.futureSlotTolerance)) {
    throw new GossipValidationError("REJECT", { code: "ATTESTATION_FUTURE_SLOT" });
  }
  // Rule: votes older than the window cannot matter any more (not the sender's fault).
  if (slot + BigInt(ctx.voteWindowSlots) < now)
    throw new GossipValidationError("IGNORE", { code: "ATTESTATION_TOO_OLD" });
  // Rule: the signer is a validator of the set...
  const pubkey = ctx.pubkeyOf(att.validatorIndex);
  if (!pubkey) throw new GossipValidationError("REJECT", { code: "ATTESTATION_UNKNOWN_VALIDATOR" });
  // ...and its signature covers the data on this chain.
  if (!verifySignedAttestation(att, ctx.chainId, pubkey)) {
    throw new GossipValidationError("REJECT", { code: "ATTESTATION_BAD_SIGNATURE" });
  }
  return att;
}
