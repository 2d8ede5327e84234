// Build artefacts of the devnet Proof-of-AI circuit (Node only), under contracts/build/circuits/: the circuit is
// generated from the devnet model (mlpCircuit.ts) and built, with a DEV-ONLY single-party Groth16 setup, by the
// build-circuits machinery (circuitBuild.ts), which skips it when its stamp matches the source.

import { readFileSync } from "node:fs";
import {
  type CircuitArtefacts,
  circuitArtefacts,
  ensureCircuit,
  POAI_CIRCUIT,
  poaiCircuitSpec,
  type R1csInfo,
} from "./circuitBuild.ts";

export type PoaiArtefacts = CircuitArtefacts;

/** Paths of the devnet PoAI circuit's artefacts (they exist once `ensurePoaiCircuit` has run). */
export function poaiArtefacts(): PoaiArtefacts {
  return circuitArtefacts(POAI_CIRCUIT);
}

export interface PoaiCircuit {
  artefacts: PoaiArtefacts;
  /** Verifying key in the groth16.ts binary format, for `AiVerifyContext.verifyingKey`. */
  verifyingKey: Uint8Array;
  /** Whether this call built the circuit. */
  built: boolean;
  info: R1csInfo;
  ms: number;
}

/** Builds the devnet PoAI circuit if it is missing or stale (idempotent; tens of seconds the first time). */
export async function ensurePoaiCircuit(opts: { log?: (msg: string) => void } = {}): Promise<PoaiCircuit> {
  const { artefacts, built, info, ms } = await ensureCircuit(poaiCircuitSpec(), { log: opts.log });
  return { artefacts, verifyingKey: new Uint8Array(readFileSync(artefacts.vkBin)), built, info, ms };
}
