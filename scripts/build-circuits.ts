// Builds the example circuits and the devnet Proof-of-AI circuit into contracts/build/circuits/ (DEV-ONLY setup; the
// machinery is validator/src/consensus/ai/circuitBuild.ts, which the node also uses for its devnet).
//
// Usage: tsx scripts/build-circuits.ts [--force]   (--force rebuilds the circuits; the shared ptau files are kept)
import {
  buildCircuits,
  CIRCUITS,
  ensureCircuit,
  POAI_CIRCUIT,
  poaiCircuitSpec,
} from "../validator/src/consensus/ai/circuitBuild.ts";

{
  const force = process.argv.includes("--force");
  const { built, artefacts, ms } = await buildCircuits({ force });
  for (const name of CIRCUITS) {
    console.log(`${name}: ${built.includes(name) ? "built" : "up to date"} → ${artefacts[name].zkey}`);
  }
  const poai = await ensureCircuit(poaiCircuitSpec(), { force, log: (msg) => console.log(msg) });
  const state = poai.built ? "built" : "up to date";
  console.log(`${POAI_CIRCUIT}: ${state} (${poai.info.constraints} constraints) → ${poai.artefacts.zkey}`);
  console.log(`done in ${((ms + poai.ms) / 1000).toFixed(2)} s`);
}
