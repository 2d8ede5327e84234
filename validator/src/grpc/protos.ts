// The gRPC API's definitions, loaded from proto/ at run time (no generated code): rustchain.v1 (NodeService,
// ReplicationService) and the standard grpc.health.v1 that grpc-health-check ships. Both feed server reflection, so
// a client that knows only the reflection protocol can call every service (docs/grpc.md).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadPackageDefinition, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync, type Options, type PackageDefinition } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";

/**
 * Where the .proto files are: RUSTCHAIN_PROTO_DIR, else proto/ of the checkout (from validator/src/grpc/), else the
 * packaged release's proto/ (from lib/, scripts/release.ts).
 */
export function protoDir(): string {
  const candidates = process.env.RUSTCHAIN_PROTO_DIR
    ? [process.env.RUSTCHAIN_PROTO_DIR]
    : ["../../../proto", "../proto"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const dir = candidates.find((d) => existsSync(`${d}/rustchain/v1/node.proto`));
  if (!dir) throw new Error(`no rustchain/v1/node.proto under ${candidates.join(" or ")}`);
  return dir;
}

/**
 * How messages look to handlers: field names in camelCase, 64-bit integers as decimal strings (block numbers, gas),
 * enums by name, unset fields with their defaults, and each oneof's chosen field named by its virtual property.
 */
export const PROTO_OPTIONS: Options = { longs: String, enums: String, defaults: true, oneofs: true };

export const RUSTCHAIN_PROTO_FILES = [
  "rustchain/v1/chain.proto",
  "rustchain/v1/node.proto",
  "rustchain/v1/replication.proto",
];

export interface RustChainDefinitions {
  /** Every loaded definition (rustchain.v1 and grpc.health.v1), for reflection. */
  all: PackageDefinition;
  nodeService: ServiceDefinition;
  replicationService: ServiceDefinition;
}

export function loadRustChainDefinitions(): RustChainDefinitions {
  const rustchain = loadSync(RUSTCHAIN_PROTO_FILES, { ...PROTO_OPTIONS, includeDirs: [protoDir()] });
  const health = loadSync(healthProtoPath, PROTO_OPTIONS);
  const pkg = loadPackageDefinition(rustchain) as unknown as {
    rustchain: { v1: Record<string, { service: ServiceDefinition }> };
  };
  const v1 = pkg.rustchain.v1;
  return {
    all: { ...rustchain, ...health },
    nodeService: (v1.NodeService as { service: ServiceDefinition }).service,
    replicationService: (v1.ReplicationService as { service: ServiceDefinition }).service,
  };
}
