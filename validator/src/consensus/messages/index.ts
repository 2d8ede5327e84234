export * from "./attestation.ts";
export * from "./attestationPool.ts";
export * from "./errors.ts";
export * from "./evidence.ts";
