export * from "./attestationDuty.ts";
export * from "./checkpoint.ts";
export * from "./errors.ts";
export * from "./finality.ts";
export * from "./forkChoice.ts";
export * from "./protoArray.ts";
export * from "./slashing.ts";
