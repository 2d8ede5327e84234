// The object store under snapshot export and warp sync. One scenario table runs against both backends: a real S3
// server (s3rver on 127.0.0.1) and a local directory. Then the S3 failure handling against a real HTTP server in front
// of s3rver that injects faults (503s, SlowDown, resets, 403, a body cut or stalled mid-download, no Content-Length),
// and the pure parts (URL parsing, configuration from the environment).
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeError } from "@rustchain/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3TestServer, startS3Server } from "../../../tests/support/s3Server.ts";
import {
  createDirStore,
  createS3Store,
  defaultObjectStoreOptions,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreErrorType,
  type ObjectStoreOptions,
  openObjectStore,
  parseS3Url,
  s3ClientConfig,
} from "./objectStore.ts";

const BUCKET = "snapshots";
const MiB = 1024 * 1024;

async function failure(promise: Promise<unknown>): Promise<ObjectStoreErrorType> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ObjectStoreError)) throw new Error(`expected an ObjectStoreError, got ${String(e)}`);
  return e.type;
}

// ---------------------------------------------------------------------------------------------------------------------
// One scenario table, two backends

interface Backend {
  name: string;
  /** A fresh, empty store (its own prefix or directory). */
  open(opts?: Partial<ObjectStoreOptions>): Promise<ObjectStore>;
  /** S3 only: the requests the server received since `mark()` (to see multipart uploads and list pages). */
  requestsSince?(mark: number): { method: string; url: string }[];
  mark?(): number;
}

let s3: S3TestServer;
let scratch: string;
let nextId = 0;

const backends: Backend[] = [
  {
    name: "s3 (s3rver)",
    async open(opts) {
      // listPageSize 7: the 25-object listing below takes four pages, as >1000 keys would on real S3.
      return createS3Store(`s3://${BUCKET}/t${nextId++}/root`, { env: s3.env, listPageSize: 7, ...opts });
    },
    mark: () => s3.requests.length,
    requestsSince: (mark) => s3.requests.slice(mark),
  },
  {
    name: "directory",
    async open(opts) {
      return createDirStore(join(scratch, `d${nextId++}`), opts);
    },
  },
];

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  scratch = await mkdtemp(join(tmpdir(), "rustchain-objectstore-"));
});
afterAll(async () => {
  await s3?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const scenarios: { name: string; run(store: ObjectStore, backend: Backend): Promise<void> }[] = [
  {
    name: "put then get returns the same bytes, and a second put replaces the object",
    async run(store) {
      await store.put("snap-1/manifest.json", new TextEncoder().encode('{"v":1}'));
      await store.put("snap-1/chunks/000000-ab.zst", Uint8Array.of(1, 2, 3));
      await store.put("empty", new Uint8Array(0));
      // A view into a larger buffer: only the viewed bytes are stored.
      await store.put("view", new Uint8Array([9, 9, 4, 5, 6, 9]).subarray(2, 5));
      expect([...(await store.get("view"))]).toEqual([4, 5, 6]);
      expect(new TextDecoder().decode(await store.get("snap-1/manifest.json"))).toBe('{"v":1}');
      expect([...(await store.get("snap-1/chunks/000000-ab.zst"))]).toEqual([1, 2, 3]);
      expect((await store.get("empty")).byteLength).toBe(0);
      await store.put("snap-1/manifest.json", new TextEncoder().encode('{"v":2}'));
      expect(new TextDecoder().decode(await store.get("snap-1/manifest.json"))).toBe('{"v":2}');
    },
  },
  {
    name: "a 20 MiB object goes up as a multipart upload and reads back byte-identical",
    async run(store, backend) {
      const body = randomBytes(20 * MiB);
      const mark = backend.mark?.() ?? 0;
      await store.put("big/object.bin", body);
      const requests = backend.requestsSince?.(mark);
      if (requests) {
        // CreateMultipartUpload, three UploadParts (8 + 8 + 4 MiB), CompleteMultipartUpload; no single PutObject.
        expect(requests.filter((r) => r.method === "POST" && /\?uploads\b/.test(r.url))).toHaveLength(1);
        expect(requests.filter((r) => r.method === "PUT" && /[?&]partNumber=\d/.test(r.url))).toHaveLength(3);
        expect(requests.filter((r) => r.method === "POST" && /[?&]uploadId=/.test(r.url))).toHaveLength(1);
        expect(requests.filter((r) => r.method === "PUT" && !/[?&]partNumber=/.test(r.url))).toHaveLength(0);
      }
      const got = await store.get("big/object.bin");
      expect(got.byteLength).toBe(body.byteLength);
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(body)).toBe(true);
      expect(await store.list("big/")).toEqual([
        { key: "big/object.bin", size: 20 * MiB, lastModified: expect.any(Date) },
      ]);
    },
  },
  {
    name: "list returns every object under a prefix, across pages, in key order",
    async run(store, backend) {
      const names = Array.from({ length: 25 }, (_, i) => `list/obj-${i.toString().padStart(2, "0")}`);
      // Written out of order, so the order of the result is the store's doing.
      await Promise.all([...names].reverse().map((key, i) => store.put(key, new Uint8Array(i + 1))));
      await store.put("listing-not-under-the-prefix", new Uint8Array(1));
      await store.put("other/x", new Uint8Array(1));
      const mark = backend.mark?.() ?? 0;
      const listed = await store.list("list/");
      expect(listed.map((o) => o.key)).toEqual(names);
      expect(listed.map((o) => o.size)).toEqual(names.map((_, i) => 25 - i));
      for (const o of listed) expect(o.lastModified).toBeInstanceOf(Date);
      const pages = backend.requestsSince?.(mark).filter((r) => r.method === "GET" && /list-type=2/.test(r.url));
      if (pages) expect(pages).toHaveLength(4); // 7 + 7 + 7 + 4
      // A prefix is a string prefix, not a directory.
      expect((await store.list("list/obj-1")).map((o) => o.key)).toEqual(names.slice(10, 20));
      expect((await store.list("list")).length).toBe(26);
      expect((await store.list("")).length).toBe(27);
      expect(await store.list("nothing-here/")).toEqual([]);
    },
  },
  {
    name: "get of a missing key fails with OBJECT_NOT_FOUND",
    async run(store) {
      expect(await failure(store.get("no/such/key"))).toMatchObject({ code: "OBJECT_NOT_FOUND", key: "no/such/key" });
      await store.put("dir/file", new Uint8Array(1));
      // On disk "dir" is a directory, in S3 it is simply no object: both say not found.
      expect(await failure(store.get("dir"))).toMatchObject({ code: "OBJECT_NOT_FOUND", key: "dir" });
    },
  },
  {
    name: "get refuses an object above maxBytes with OBJECT_TOO_LARGE, and accepts one at the limit",
    async run(store) {
      await store.put("chunk", new Uint8Array(1000));
      expect(await failure(store.get("chunk", { maxBytes: 999 }))).toMatchObject({
        code: "OBJECT_TOO_LARGE",
        key: "chunk",
        size: 1000,
        limit: 999,
      });
      expect((await store.get("chunk", { maxBytes: 1000 })).byteLength).toBe(1000);
    },
  },
  {
    name: "without maxBytes, get is limited by the store's maxGetBytes (256 MiB by default)",
    async run(_store, backend) {
      expect(defaultObjectStoreOptions.maxGetBytes).toBe(256 * MiB);
      const store = await backend.open({ maxGetBytes: 10 });
      await store.put("ten", new Uint8Array(10));
      await store.put("eleven", new Uint8Array(11));
      expect((await store.get("ten")).byteLength).toBe(10);
      expect(await failure(store.get("eleven"))).toMatchObject({ code: "OBJECT_TOO_LARGE", size: 11, limit: 10 });
    },
  },
  {
    name: "delete removes the objects and ignores keys that do not exist",
    async run(store, backend) {
      await Promise.all(["a", "b/c", "d"].map((k) => store.put(k, new Uint8Array(1))));
      // 1002 keys: the S3 backend sends them as two DeleteObjects requests (at most 1000 keys each).
      const missing = Array.from({ length: 1000 }, (_, i) => `missing/${i}`);
      const mark = backend.mark?.() ?? 0;
      await store.delete(["a", ...missing, "b/c"]);
      const deletes = backend.requestsSince?.(mark).filter((r) => r.method === "POST" && /[?&]delete\b/.test(r.url));
      if (deletes) expect(deletes).toHaveLength(2);
      expect((await store.list("")).map((o) => o.key)).toEqual(["d"]);
      expect(await failure(store.get("a"))).toMatchObject({ code: "OBJECT_NOT_FOUND" });
      await store.delete([]);
      await store.delete(["a"]);
    },
  },
  {
    name: "keys that are not plain relative paths are refused with INVALID_OBJECT_KEY",
    async run(store) {
      for (const key of ["", "/abs", "a//b", "a/", "../escape", "a/./b", "a\\b", "a\u0000b", "x".repeat(1025)]) {
        expect(await failure(store.put(key, new Uint8Array(1)))).toMatchObject({ code: "INVALID_OBJECT_KEY" });
        expect(await failure(store.get(key))).toMatchObject({ code: "INVALID_OBJECT_KEY" });
      }
      expect(await failure(store.delete(["ok", "../no"]))).toMatchObject({ code: "INVALID_OBJECT_KEY", key: "../no" });
      expect(await failure(store.list("../"))).toMatchObject({ code: "INVALID_OBJECT_KEY" });
    },
  },
];

for (const backend of backends) {
  describe(`object store on ${backend.name}`, () => {
    for (const scenario of scenarios) {
      it(scenario.name, async () => {
        await scenario.run(await backend.open(), backend);
      });
    }
  });
}

describe("directory store", () => {
  it("never shows an in-flight write: a write interrupted before its rename leaves the old object", async () => {
    const dir = join(scratch, `d${nextId++}`);
    const store = createDirStore(dir);
    await store.put("snap/manifest.json", Uint8Array.of(1));
    // What a crash between write and rename leaves behind.
    await mkdir(join(dir, ".partial"), { recursive: true });
    await writeFile(join(dir, ".partial", "0123456789abcdef"), "half an obj");
    expect((await store.list("")).map((o) => o.key)).toEqual(["snap/manifest.json"]);
    expect(await store.list(".partial/")).toEqual([]);
    expect([...(await store.get("snap/manifest.json"))]).toEqual([1]);
    expect(await failure(store.put(".partial/x", Uint8Array.of(1)))).toMatchObject({ code: "INVALID_OBJECT_KEY" });
    // A completed put leaves nothing of its own in .partial/.
    await store.put("snap/manifest.json", Uint8Array.of(2));
    expect(await readdir(join(dir, ".partial"))).toEqual(["0123456789abcdef"]);
  });

  it("a put where a directory stands fails with OBJECT_STORE_IO and changes nothing", async () => {
    const store = createDirStore(join(scratch, `d${nextId++}`));
    await store.put("a/b", Uint8Array.of(1));
    expect(await failure(store.put("a", Uint8Array.of(2)))).toMatchObject({ code: "OBJECT_STORE_IO", op: "put" });
    expect((await store.list("")).map((o) => o.key)).toEqual(["a/b"]);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// S3 failures, injected by a real HTTP server in front of s3rver

type Fault =
  | "503" // 503 ServiceUnavailable
  | "slowdown" // 503 SlowDown (S3's throttling answer)
  | "403" // 403 AccessDenied
  | "reset" // connection dropped before any response
  | "cut" // the real response, cut off after part of the body
  | "stall" // the real response, stalling after part of the body
  | "no-length"; // the real response, without Content-Length (chunked)

interface FaultProxy {
  endpoint: string;
  /** Requests seen, with their headers (to check Range/If-Match on resumed downloads). */
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Forwards to `target`, applying the next queued fault to each request until the queue is empty. */
async function startFaultProxy(target: string, faults: Fault[]): Promise<FaultProxy> {
  const upstream = new URL(target);
  const seen: FaultProxy["seen"] = [];
  const s3Error = (code: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected ${code}</Message></Error>`;
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const fault = faults.shift();
    const answer = (status: number, code: string) => {
      const body = s3Error(code);
      res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (fault === "503") return answer(503, "ServiceUnavailable");
    if (fault === "slowdown") return answer(503, "SlowDown");
    if (fault === "403") return answer(403, "AccessDenied");
    if (fault === "reset") return req.socket.destroy();
    // The host header is kept: it is part of what the client signed.
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const headers = { ...up.headers };
        if (fault === "no-length") delete headers["content-length"];
        res.writeHead(up.statusCode ?? 502, headers);
        if (fault !== "cut" && fault !== "stall") return void up.pipe(res);
        // Pass the first 256 KiB through (flushed to the socket), then cut or go silent.
        let passed = 0;
        up.on("data", (chunk: Buffer) => {
          if (passed >= 256 * 1024) return;
          up.pause();
          passed += chunk.length;
          res.write(chunk, () => {
            if (passed < 256 * 1024) return void up.resume();
            if (fault === "cut") res.socket?.destroy();
            up.destroy();
          });
        });
      },
    );
    forward.on("error", () => res.socket?.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("S3 store failures", () => {
  const body = randomBytes(1 * MiB);
  let prefix: string;

  beforeAll(async () => {
    prefix = `s3://${BUCKET}/faults${nextId++}`;
    await createS3Store(prefix, { env: s3.env }).put("chunk", body);
  });

  /** A store reaching s3rver through a fault proxy. */
  async function throughProxy(faults: Fault[], opts: Partial<ObjectStoreOptions> = {}) {
    const proxy = await startFaultProxy(s3.endpoint, faults);
    const store = createS3Store(prefix, { env: { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }, ...opts });
    return { proxy, store };
  }

  it("transient 503s (ServiceUnavailable, SlowDown) are retried and the get succeeds", async () => {
    const { proxy, store } = await throughProxy(["503", "slowdown"]);
    try {
      expect(Buffer.from(await store.get("chunk")).equals(body)).toBe(true);
      expect(proxy.seen).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it("a connection reset before any response is retried", async () => {
    const { proxy, store } = await throughProxy(["reset"]);
    try {
      expect(Buffer.from(await store.get("chunk")).equals(body)).toBe(true);
      expect(proxy.seen).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it("a body cut mid-download is resumed from the last byte received, pinned to the same object", async () => {
    const { proxy, store } = await throughProxy(["cut"]);
    try {
      expect(Buffer.from(await store.get("chunk")).equals(body)).toBe(true);
      expect(proxy.seen).toHaveLength(2);
      const resumed = proxy.seen[1]!.headers;
      const from = Number(/^bytes=(\d+)-$/.exec(String(resumed.range))?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThan(body.length);
      expect(resumed["if-match"]).toMatch(/^"[0-9a-f]{32}"$/);
    } finally {
      await proxy.close();
    }
  });

  it("a body that stalls mid-download times out and is resumed", async () => {
    const { proxy, store } = await throughProxy(["stall"], { idleTimeoutMs: 300 });
    try {
      expect(Buffer.from(await store.get("chunk")).equals(body)).toBe(true);
      expect(proxy.seen).toHaveLength(2);
      expect(proxy.seen[1]!.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
    } finally {
      await proxy.close();
    }
  });

  it("an abort signal ends a stalled download with the signal's reason", async () => {
    const { proxy, store } = await throughProxy(["stall"]);
    try {
      const e = await store.get("chunk", { signal: AbortSignal.timeout(300) }).catch((err: unknown) => err);
      expect((e as Error).name).toBe("TimeoutError");
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("403 AccessDenied is not retried and fails with OBJECT_STORE_DENIED", async () => {
    const { proxy, store } = await throughProxy(["403"]);
    try {
      expect(await failure(store.get("chunk"))).toMatchObject({ code: "OBJECT_STORE_DENIED", op: "get", key: "chunk" });
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("retries are bounded: a server that keeps failing gives OBJECT_STORE_IO after retries + 1 attempts", async () => {
    const { proxy, store } = await throughProxy(Array(10).fill("503"), { retries: 2 });
    try {
      const type = await failure(store.get("chunk"));
      expect(type).toMatchObject({ code: "OBJECT_STORE_IO", op: "get", key: "chunk" });
      expect(describeError(new ObjectStoreError(type))).toContain("after 3 attempts");
      expect(proxy.seen).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it("a body without Content-Length is counted while streaming and refused past maxBytes", async () => {
    const { proxy, store } = await throughProxy(["no-length", "no-length"]);
    try {
      expect(await failure(store.get("chunk", { maxBytes: body.length - 1 }))).toMatchObject({
        code: "OBJECT_TOO_LARGE",
        limit: body.length - 1,
      });
      expect(Buffer.from(await store.get("chunk", { maxBytes: body.length })).equals(body)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Pure parts

describe("parseS3Url", () => {
  it("accepts s3://bucket[/prefix] and returns the prefix without leading or trailing slashes", () => {
    expect(parseS3Url("s3://snapshots")).toEqual({ bucket: "snapshots", prefix: "" });
    expect(parseS3Url("s3://snapshots/")).toEqual({ bucket: "snapshots", prefix: "" });
    expect(parseS3Url("s3://my.bucket-1/mainnet/v1/")).toEqual({ bucket: "my.bucket-1", prefix: "mainnet/v1" });
    expect(parseS3Url("s3://abc//a/b")).toEqual({ bucket: "abc", prefix: "a/b" });
  });

  it("refuses anything else with INVALID_S3_URL", () => {
    for (const url of [
      "",
      "/var/snapshots",
      "http://bucket/x",
      "S3://bucket",
      "s3:/bucket",
      "s3://",
      "s3:///prefix",
      "s3://ab",
      "s3://Bucket",
      "s3://bucket_name",
      "s3://-bucket",
      "s3://bucket/a//b",
      "s3://bucket/../x",
      "s3://bucket/a\\b",
    ]) {
      expect(() => parseS3Url(url), url).toThrow(ObjectStoreError);
      try {
        parseS3Url(url);
      } catch (e) {
        expect((e as ObjectStoreError).type).toMatchObject({ code: "INVALID_S3_URL", url });
      }
    }
  });
});

describe("openObjectStore", () => {
  it("opens s3:// URLs on S3 and anything else as a directory", () => {
    expect(openObjectStore("s3://snapshots/mainnet/").location).toBe("s3://snapshots/mainnet");
    expect(openObjectStore("s3://snapshots").location).toBe("s3://snapshots");
    expect(openObjectStore("/var/lib/rustchain/snapshots/").location).toBe("/var/lib/rustchain/snapshots");
    expect(() => openObjectStore("S3://Snapshots")).toThrow(ObjectStoreError);
  });
});

describe("s3ClientConfig", () => {
  it("takes the endpoint from AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, with path-style addressing", () => {
    const both = s3ClientConfig({ AWS_ENDPOINT_URL_S3: "http://s3.local:9000", AWS_ENDPOINT_URL: "http://all:1" });
    expect(both).toMatchObject({ endpoint: "http://s3.local:9000", forcePathStyle: true });
    expect(s3ClientConfig({ AWS_ENDPOINT_URL: "https://minio.example" })).toMatchObject({
      endpoint: "https://minio.example",
      forcePathStyle: true,
    });
    const aws = s3ClientConfig({});
    expect(aws.endpoint).toBeUndefined();
    expect(aws.forcePathStyle).toBeUndefined();
    const ignored = s3ClientConfig({ AWS_ENDPOINT_URL_S3: "http://x:1", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" });
    expect(ignored.endpoint).toBeUndefined();
  });

  it("takes the region from AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1", () => {
    expect(s3ClientConfig({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "ap-south-1" }).region).toBe("eu-west-1");
    expect(s3ClientConfig({ AWS_DEFAULT_REGION: "ap-south-1" }).region).toBe("ap-south-1");
    expect(s3ClientConfig({}).region).toBe("us-east-1");
  });

  it("uses static credentials when the key pair is set, and otherwise leaves the SDK's provider chain", () => {
    expect(s3ClientConfig({ AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret" }).credentials).toEqual({
      accessKeyId: "AKID",
      secretAccessKey: "secret",
    });
    expect(
      s3ClientConfig({ AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret", AWS_SESSION_TOKEN: "tok" })
        .credentials,
    ).toEqual({ accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "tok" });
    expect(s3ClientConfig({ AWS_PROFILE: "ops" }).credentials).toBeUndefined();
  });

  it("refuses half a key pair with INCOMPLETE_S3_CREDENTIALS, without echoing the secret", () => {
    try {
      s3ClientConfig({ AWS_SECRET_ACCESS_KEY: "very-secret-value" });
      expect.unreachable();
    } catch (e) {
      expect((e as ObjectStoreError).type).toEqual({ code: "INCOMPLETE_S3_CREDENTIALS", missing: "AWS_ACCESS_KEY_ID" });
      expect(describeError(e)).not.toContain("very-secret-value");
    }
  });

  it("refuses an endpoint that is not an http(s) URL with INVALID_S3_ENDPOINT", () => {
    expect(() => s3ClientConfig({ AWS_ENDPOINT_URL_S3: "minio:9000" })).toThrow(ObjectStoreError);
  });

  it("asks for checksums only where S3 requires them (no aws-chunked uploads)", () => {
    expect(s3ClientConfig({})).toMatchObject({
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  });
});
