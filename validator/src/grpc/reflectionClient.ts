// A gRPC client that knows nothing but the server reflection protocol (grpc.reflection.v1, as grpcurl does): it
// lists a server's services, fetches their file descriptors and builds callable clients from them. The tests use it
// to prove that generic clients work against the node with no .proto files of ours (docs/grpc.md).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { credentials, type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, loadSync } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
/** The reflection protocol's own definition, as @grpc/reflection ships it. */
const REFLECTION_PROTO = join(
  dirname(require.resolve("@grpc/reflection")),
  "../proto/grpc/reflection/v1/reflection.proto",
);

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** A FileDescriptorSet (field 1: repeated FileDescriptorProto) around already-encoded files. */
function descriptorSet(files: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const len: number[] = [];
    for (let n = f.length; ; n >>>= 7) {
      if (n < 0x80) {
        len.push(n);
        break;
      }
      len.push((n & 0x7f) | 0x80);
    }
    parts.push(Buffer.from([0x0a, ...len]), f);
  }
  return Buffer.concat(parts);
}

export interface Reflected {
  /** Full names of the services the server lists. */
  services: string[];
  /** The services' packages, built from the reflected descriptors (`grpc.loadPackageDefinition`). */
  root: GrpcObject;
  /** A client of service `fullName` (e.g. "rustchain.v1.NodeService") on the same address. */
  client(fullName: string): InstanceType<ServiceClientConstructor> & Record<string, unknown>;
}

/** Ask `address`'s reflection service for everything it serves. */
export async function reflect(address: string, opts: { timeoutMs?: number } = {}): Promise<Reflected> {
  const pkg = loadPackageDefinition(loadSync(REFLECTION_PROTO, { keepCase: false, defaults: true, oneofs: true })) as {
    grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
  };
  const reflection = new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  const stream = reflection.serverReflectionInfo({ deadline: Date.now() + (opts.timeoutMs ?? 10_000) });
  const pending: ((r: ReflectionResponse) => void)[] = [];
  const failures: ((e: Error) => void)[] = [];
  stream.on("data", (r: ReflectionResponse) => pending.shift()?.(r));
  stream.on("error", (e: Error) => {
    for (const f of failures.splice(0)) f(e);
  });
  const ask = (req: object) =>
    new Promise<ReflectionResponse>((resolve, reject) => {
      pending.push(resolve);
      failures.push(reject);
      stream.write(req);
    });
  try {
    const listed = await ask({ listServices: "*" });
    const services = (listed.listServicesResponse?.service ?? []).map((s) => s.name);
    const files = new Map<string, Buffer>();
    for (const name of services) {
      const r = await ask({ fileContainingSymbol: name });
      if (r.errorResponse) throw new Error(`reflection: ${name}: ${r.errorResponse.errorMessage}`);
      for (const f of r.fileDescriptorResponse?.fileDescriptorProto ?? []) files.set(f.toString("base64"), f);
    }
    const root = loadPackageDefinition(
      loadFileDescriptorSetFromBuffer(descriptorSet([...files.values()]), {
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
      }),
    );
    const client = (fullName: string) => {
      let node: unknown = root;
      for (const part of fullName.split(".")) node = (node as Record<string, unknown>)?.[part];
      if (typeof node !== "function") throw new Error(`reflection: no service ${fullName}`);
      const Ctor = node as ServiceClientConstructor;
      return new Ctor(address, credentials.createInsecure()) as InstanceType<ServiceClientConstructor> &
        Record<string, unknown>;
    };
    return { services, root, client };
  } finally {
    stream.end();
    reflection.close();
  }
}
