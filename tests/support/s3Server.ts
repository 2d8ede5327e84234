// A real S3 endpoint for tests: s3rver (an S3 server backed by a directory) in this process, on 127.0.0.1, port 0.
// What it does not do like S3:
// - SigV4 signatures are not checked, only that the access key id is "S3RVER".
// - Listings come in the order of its directory walk, not key order, and the next page starts after the last key
//   returned, so keys can be missed or repeated across pages. Listings are right only when no key (or "directory") is
//   a prefix of a sibling followed by a character below "/", such as "-" or "." ("a" with "a/b", "a/b" with "a.txt",
//   "snap/x" with "snap-2/x"). Snapshot keys (fixed-width ids, <id>/chunks/…, <id>/manifest.json) are fine.
// - Paged listings need single DES, which Node's OpenSSL 3 no longer offers by default (see provideSingleDes).
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// s3rver is CommonJS without type declarations; this is the part of it the harness uses.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
type S3rverConstructor = new (opts: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string; configs: string[] }[];
}) => S3rverInstance;
const require = createRequire(import.meta.url);
const S3rver = require("s3rver") as S3rverConstructor;

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES ("des", i.e. DES-CBC), which OpenSSL 3 (Node >= 17)
 * keeps in its legacy provider only: every truncated listing fails with a 500 (ERR_OSSL_EVP_UNSUPPORTED), so paging
 * never works. DES-CBC with key K is exactly 3DES-EDE3-CBC with key K|K|K (encrypt-decrypt-encrypt under one key is one
 * encryption), which the default provider still has, so "des" is served by that. Only CommonJS callers of
 * require("crypto") see this (ESM bindings are not re-synced), and only the "des" name changes. Without it, run Node
 * with --openssl-legacy-provider.
 */
function provideSingleDes(): void {
  const crypto = require("node:crypto") as typeof import("node:crypto");
  try {
    crypto.createCipheriv("des", Buffer.alloc(8), Buffer.alloc(8));
    return; // this OpenSSL still has DES (legacy provider loaded, or already provided here)
  } catch {}
  type Factory = (algorithm: string, key: Buffer, ...rest: unknown[]) => unknown;
  const serveDes = <F>(original: F): F => {
    const call = original as unknown as Factory;
    const wrapped: Factory = (algorithm, key, ...rest) =>
      algorithm === "des"
        ? call("des-ede3-cbc", Buffer.concat([key, key, key]), ...rest)
        : call(algorithm, key, ...rest);
    return wrapped as unknown as F;
  };
  crypto.createCipheriv = serveDes(crypto.createCipheriv);
  crypto.createDecipheriv = serveDes(crypto.createDecipheriv);
}

export interface S3TestServer {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  /** What a process needs to reach this server the way AWS tools read it (endpoint, region, s3rver's fixed key). */
  env: NodeJS.ProcessEnv;
  /** s3rver's data directory (objects are files named `<key>._S3rver_object` under `<dir>/<bucket>/`). */
  dir: string;
  /** Every request the server received, in order, e.g. `{ method: "PUT", url: "/b/k?partNumber=1&uploadId=…" }`. */
  requests: { method: string; url: string }[];
  stop(): Promise<void>;
}

export async function startS3Server(opts: { buckets?: string[] } = {}): Promise<S3TestServer> {
  provideSingleDes();
  const dir = await mkdtemp(join(tmpdir(), "rustchain-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  const requests: { method: string; url: string }[] = [];
  server.httpServer.prependListener("request", (req) =>
    requests.push({ method: req.method ?? "", url: req.url ?? "" }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    },
    dir,
    requests,
    async stop() {
      // Clients keep connections alive; close() alone would wait for them to time out.
      const closed = server.close();
      server.httpServer.closeAllConnections();
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
