export * from "./attestation.ts";

export * from "./errors.ts";
export * from "./evidence.ts";
