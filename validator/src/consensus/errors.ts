// The consensus rules a block can break, one code per rule (docs/consensus.md, "Every block"), and the one place that
// says whose fault a failed import is: the peer's that served the block, or a race with our own head or finality.
import { RustChainError } from "@rustchain/shared";
import { BlockError } from "../chain/errors.ts";

export type ConsensusBlockErrorType =
  | { code: "BLOCK_BEFORE_FINALIZED"; slot: bigint }
  | { code: "BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN" }
  | { code: "BLOCK_VRF_MALFORMED" }
  | { code: "BLOCK_PROPOSER_NOT_ELECTED"; reason: string }
  | { code: "BLOCK_TOO_MANY_ITEMS"; kind: ConsensusItemKind; count: number; limit: number }
  | { code: "BLOCK_ITEM_MALFORMED"; kind: ConsensusItemKind; index: number; reason: string }
  | { code: "BLOCK_ATTESTATION_NOT_EARLIER"; index: number }
  | { code: "BLOCK_ATTESTATION_BAD_SIGNATURE"; index: number }
  | { code: "BLOCK_EVIDENCE_DUPLICATE"; index: number }
  | { code: "BLOCK_EVIDENCE_INVALID"; index: number; reason: string }
  | { code: "BLOCK_OFFENDER_ALREADY_SLASHED"; index: number; offender: number }
  | { code: "BLOCK_AI_DISABLED" }
  | { code: "BLOCK_AI_PROOF_WRONG_EPOCH"; index: number }
  | { code: "BLOCK_AI_PROOF_INVALID"; index: number; reason: string }
  | { code: "BLOCK_AI_PROOF_ALREADY_REWARDED"; index: number };

export type ConsensusItemKind = "attestation" | "evidence" | "aiProof";

/** A block that breaks a consensus rule; the chain is left unchanged. */
export class ConsensusBlockError extends RustChainError<ConsensusBlockErrorType> {}

export type ConsensusErrorType =
  | { code: "CONSENSUS_NOT_INITIALIZED" }
  | { code: "CONSENSUS_AI_DISABLED" }
  | { code: "CONSENSUS_STORE_CORRUPT"; reason: string };

/** A fault of this node's consensus machinery (used out of order, or its stored state unreadable). */
export class ConsensusError extends RustChainError<ConsensusErrorType> {}

/**
 * Import refusals that only mean the block came too late or twice, or builds on what our finality excludes (a peer
 * that has not learnt of our finalized checkpoint yet: it is behind, not wrong, and will adopt it from our
 * certificates): nobody's fault.
 */
const RACES = new Set([
  "BLOCK_ALREADY_KNOWN",
  "BLOCK_BEFORE_FINALIZED",
  "BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN",
  "BLOCK_UNKNOWN_PARENT",
  "BLOCK_NOT_ON_HEAD",
]);
/** Refusals by our own configuration (a weak-subjectivity checkpoint): the peer serves a chain we will never take. */
const IRRELEVANT = new Set(["BLOCK_CONFLICTS_CHECKPOINT"]);

/**
 * Whose fault a failed block import is: "invalid" (the block breaks a rule: the peer that sent it is penalised),
 * "irrelevant" (another chain than ours: banned at once), "race" (too late, twice, parent unknown: nobody's), or
 * "ours" (anything that is not a verdict on the block).
 */
export function blockImportFault(e: unknown): { code: string; fault: "invalid" | "irrelevant" | "race" | "ours" } {
  if (e instanceof ConsensusBlockError || e instanceof BlockError) {
    const code = e.type.code;
    if (RACES.has(code)) return { code, fault: "race" };
    if (IRRELEVANT.has(code)) return { code, fault: "irrelevant" };
    if (code === "REORG_UNKNOWN_BLOCK" || code === "GENESIS_MISMATCH") return { code, fault: "ours" };
    return { code, fault: "invalid" };
  }
  return { code: "INTERNAL", fault: "ours" };
}
