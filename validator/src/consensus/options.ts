// Consensus options (Lodestar's options.ts pattern): every tunable with its default, derived from the slot length.

export interface ConsensusOptions {
  /** How long into its slot a fallback proposer waits for an elected block (default: a quarter slot). */
  fallbackDelayMs: number;
  /** Blocks and votes up to this many slots ahead of our clock are ignored rather than rejected. */
  futureSlotTolerance: number;
  /** Attestations older than this many slots are ignored. */
  attestationWindowSlots: number;
  /** Blocks carry aggregates from at most this many slots back. */
  inclusionWindowSlots: number;
  maxAttestationsPerBlock: number;
  maxEvidencePerBlock: number;
  maxAiProofsPerBlock: number;
  /** Pooled slashing evidence and AI proofs are capped (valid messages only reach the pools; this caps even those). */
  maxPooledEvidence: number;
  maxPooledAiProofs: number;
  /** Finality this many slots behind the clock is logged as a stall (and again every as many slots). */
  stallWarnSlots: number;
  /** Compute and submit the epoch's Proof-of-AI task (needs the circuit's prover artefacts). */
  miner?: { address: Uint8Array; artefacts: { wasm: string; zkey: string } };
}

export function defaultConsensusOptions(slotMs: number): ConsensusOptions {
  return {
    fallbackDelayMs: Math.floor(slotMs / 4),
    futureSlotTolerance: 1,
    attestationWindowSlots: 32,
    inclusionWindowSlots: 8,
    maxAttestationsPerBlock: 128,
    maxEvidencePerBlock: 16,
    maxAiProofsPerBlock: 32,
    maxPooledEvidence: 1024,
    maxPooledAiProofs: 4096,
    stallWarnSlots: 8,
  };
}
