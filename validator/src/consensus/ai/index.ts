export * from "./artefacts.ts";
export * from "./devnetModel.ts";
export * from "./mlpCircuit.ts";
export * from "./proof.ts";
export * from "./prover.ts";
export * from "./task.ts";
