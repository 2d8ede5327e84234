// The consensus's plain data (roots, checkpoints, attestation data, weight tables) and checkpoint ancestry live in
// shared/, where the finality-certificate verifier uses them too; fork choice and finality import them from here.
export * from "@rustchain/shared/consensus/checkpoint";
