export * from "./connectionGater.ts";
export * from "./errors.ts";
export * from "./gossipValidatorFn.ts";
export * from "./network.ts";
export * from "./options.ts";
export * from "./peerScore.ts";
export * from "./reqRespCodec.ts";
export * from "./topics.ts";
