// Gossip validation of slashing evidence.
import { GossipValidationError } from "../../network/errors.ts";
import { decodeEvidence, type Evidence, evidenceId, verifyEvidence } from "../messages/evidence.ts";
import type { GossipClockContext } from "./context.ts";

export interface EvidenceGossipContext extends Pick<GossipClockContext, "chainId" | "pubkeyOf"> {
  isKnown(id: string): boolean;
  poolFull(): boolean;
}

export function validateGossipEvidence(
  ctx: EvidenceGossipContext,
  data: Uint8Array,
): { evidence: Evidence; offender: number } {
  let evidence: Evidence;
  let offender: number;
  try {
    evidence = decodeEvidence(data);
    // Rule: the evidence proves a slashable offence by a validator of the set, with valid signatures.
    offender = verifyEvidence(evidence, { chainId: ctx.chainId, pubkeyOf: (i) => ctx.pubkeyOf(i) }).offender;
  } catch {
    throw new GossipValidationError("REJECT", { code: "EVIDENCE_INVALID" });
  }
  if (ctx.isKnown(evidenceId(evidence))) throw new GossipValidationError("IGNORE", { code: "EVIDENCE_KNOWN" });
  if (ctx.poolFull()) throw new GossipValidationError("IGNORE", { code: "EVIDENCE_POOL_FULL" });
  return { evidence, offender };
}
