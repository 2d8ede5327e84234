// The object store under snapshot export and warp sync: whole objects put, fetched, listed and deleted by key, with two
// backends behind one interface, S3 (AWS or any S3-compatible endpoint) and a local directory. Keys are relative to
// the store's root (the URL's prefix, or the directory) and use "/" as separator; both backends apply the same key
// rules, so a layout written to disk can be uploaded as is.
//
// Callers only see what retrying cannot fix, as an ObjectStoreError:
// - S3 requests are retried by the SDK's standard retry strategy, which already classifies what is worth retrying
//   (connection errors and timeouts, 500/502/503/504, 429, SlowDown; never NoSuchKey, AccessDenied or other 4xx) and
//   backs off exponentially with full jitter (from 50 ms, or 1 s when throttled, capped at 20 s); we only set its
//   maxAttempts (retries + 1). Its retry quota (per client) stops retrying once most recent attempts fail, so an outage
//   fails fast rather than multiplying load.
// - What the SDK cannot retry is a response body that breaks after the headers arrived (it hands the stream over and
//   is done), so get() does that itself: it resumes from the last byte received with a Range request pinned to the
//   object's ETag, with the backoff below.
// Nothing here logs, so credentials cannot leak into logs; errors carry the store's location (no credentials in it).

import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { RustChainError } from "@rustchain/shared";

export interface ObjectStore {
  /** Human-readable location, e.g. s3://bucket/prefix or a directory path (for logs and errors). */
  readonly location: string;
  /** Writes the whole object; a reader sees the old object or the new one, never a part. */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Reads the whole object, refusing one above maxBytes (default ObjectStoreOptions.maxGetBytes). */
  get(key: string, opts?: { maxBytes?: number; signal?: AbortSignal }): Promise<Uint8Array>;
  /** Every object whose key starts with prefix (a string prefix, not a directory), in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Deletes the objects; keys that do not exist are not an error. */
  delete(keys: string[]): Promise<void>;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export type ObjectStoreOp = "put" | "get" | "list" | "delete";

export type ObjectStoreErrorType =
  | { code: "INVALID_S3_URL"; url: string; reason: string }
  | { code: "INVALID_S3_ENDPOINT"; variable: string; reason: string }
  | { code: "INCOMPLETE_S3_CREDENTIALS"; missing: string }
  | { code: "INVALID_OBJECT_KEY"; key: string; reason: string }
  | { code: "OBJECT_NOT_FOUND"; location: string; key: string }
  /** size: the announced size, or the bytes received when the body ran past the limit. */
  | { code: "OBJECT_TOO_LARGE"; location: string; key: string; size: number; limit: number }
  /** 401/403: credentials or permissions, which no retry fixes. */
  | { code: "OBJECT_STORE_DENIED"; location: string; op: ObjectStoreOp; key: string; reason: string }
  | { code: "OBJECT_STORE_IO"; location: string; op: ObjectStoreOp; key: string; reason: string };

export class ObjectStoreError extends RustChainError<ObjectStoreErrorType> {}

export interface ObjectStoreOptions {
  /** Retries after the first attempt for transient failures (S3 requests, and broken download bodies). */
  retries: number;
  /** Backoff before retry n (from 0) of a broken download: random in [0, min(max, base * 2^n)] (full jitter). */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** get() refuses objects above this unless told otherwise; bounds the memory one download can take. */
  maxGetBytes: number;
  /** S3: bodies above this go up as multipart uploads (parts retried on their own, in parallel). */
  multipartThresholdBytes: number;
  /** S3 multipart part size (S3's minimum is 5 MiB; 10,000 parts at most, so 8 MiB parts allow 78 GiB). */
  partSizeBytes: number;
  /** S3 multipart parts in flight at once (memory: about queueSize * partSize). */
  uploadQueueSize: number;
  /** S3 keys per ListObjectsV2 page (S3 returns at most 1000; smaller pages exercise pagination in tests). */
  listPageSize: number;
  /** S3: connecting gives up after this long (then retried as a timeout). */
  connectTimeoutMs: number;
  /** S3: a connection silent for this long (including mid-body) fails with a timeout, which is retried. */
  idleTimeoutMs: number;
}

export const defaultObjectStoreOptions: ObjectStoreOptions = {
  retries: 5,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 5_000,
  maxGetBytes: 256 * 1024 * 1024,
  multipartThresholdBytes: 8 * 1024 * 1024,
  partSizeBytes: 8 * 1024 * 1024,
  uploadQueueSize: 4,
  listPageSize: 1000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};

/** "s3://" opens the bucket (AWS configuration from process.env), anything else is a directory. */
export function openObjectStore(urlOrDir: string): ObjectStore {
  return /^s3:\/\//i.test(urlOrDir) ? createS3Store(urlOrDir) : createDirStore(urlOrDir);
}

// ---------------------------------------------------------------------------------------------------------------------
// Keys

const MAX_KEY_BYTES = 1024; // S3's limit for a whole key, prefix included

/** The key rules of both backends: "/"-separated relative paths that map onto a filesystem without surprises. */
export function checkObjectKey(key: string): void {
  const reason = objectKeyProblem(key);
  if (reason) throw new ObjectStoreError({ code: "INVALID_OBJECT_KEY", key, reason });
}

function objectKeyProblem(key: string): string | undefined {
  if (key === "") return "empty";
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(key)) return "backslash or control character";
  if (key.startsWith("/")) return "absolute (starts with /)";
  for (const segment of key.split("/")) {
    if (segment === "") return "empty path segment (// or trailing /)";
    if (segment === "." || segment === "..") return "'.' or '..' segment";
  }
  return undefined;
}

/** A list prefix may stop anywhere (e.g. "chunks/00"), but may not climb out of the store. */
function checkListPrefix(prefix: string): void {
  if (prefix === "") return;
  const complete = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  const reason = objectKeyProblem(complete);
  if (reason) throw new ObjectStoreError({ code: "INVALID_OBJECT_KEY", key: prefix, reason });
}

// ---------------------------------------------------------------------------------------------------------------------
// S3 configuration

// Current S3 bucket naming rules (lowercase letters, digits, dots, hyphens; 3-63 characters; alphanumeric ends).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** "s3://bucket/some/prefix" → { bucket, prefix: "some/prefix" } (no leading or trailing slash; "" for none). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const refuse = (reason: string): never => {
    throw new ObjectStoreError({ code: "INVALID_S3_URL", url, reason });
  };
  if (!url.startsWith("s3://")) refuse("expected s3://bucket[/prefix]");
  const rest = url.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket === "") refuse("no bucket");
  if (!BUCKET_NAME.test(bucket)) {
    refuse(`bucket "${bucket}" is not a valid name (3-63 lowercase letters, digits, '.', '-')`);
  }
  const prefix = slash === -1 ? "" : rest.slice(slash + 1).replace(/^\/+|\/+$/g, "");
  if (prefix !== "") {
    const problem = objectKeyProblem(prefix);
    if (problem) refuse(`prefix: ${problem}`);
  }
  return { bucket, prefix };
}

/**
 * S3 client configuration read from the environment the way AWS tools read it. Endpoint: AWS_ENDPOINT_URL_S3, else
 * AWS_ENDPOINT_URL (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true); region: AWS_REGION, else
 * AWS_DEFAULT_REGION, else us-east-1; credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
 * when set, otherwise the SDK's default provider chain (profiles, SSO, instance roles...).
 */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const config: S3ClientConfig = {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    // By default the SDK now checksums every upload, and streams it with aws-chunked framing that S3-compatible servers
    // (s3rver, older MinIO and Ceph) cannot read; checksums only where S3 requires one (DeleteObjects).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== "true") {
    const variable = env.AWS_ENDPOINT_URL_S3 ? "AWS_ENDPOINT_URL_S3" : env.AWS_ENDPOINT_URL ? "AWS_ENDPOINT_URL" : "";
    if (variable) {
      const endpoint = env[variable] as string;
      let parsed: URL | undefined;
      try {
        parsed = new URL(endpoint);
      } catch {
        parsed = undefined;
      }
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
        throw new ObjectStoreError({ code: "INVALID_S3_ENDPOINT", variable, reason: "expected an http(s):// URL" });
      }
      config.endpoint = endpoint;
      // Custom endpoints (MinIO, s3rver, R2, Ceph) are addressed as endpoint/bucket; bucket.endpoint needs wildcard DNS.
      config.forcePathStyle = true;
    }
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    config.credentials = {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  } else if (accessKeyId || secretAccessKey) {
    // Half a key pair is a configuration mistake; falling back to another identity would hide it.
    const missing = accessKeyId ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID";
    throw new ObjectStoreError({ code: "INCOMPLETE_S3_CREDENTIALS", missing });
  }
  return config;
}

// ---------------------------------------------------------------------------------------------------------------------
// S3 backend

export function createS3Store(
  url: string,
  opts: { env?: NodeJS.ProcessEnv } & Partial<ObjectStoreOptions> = {},
): ObjectStore {
  const { env, ...rest } = opts;
  const options = { ...defaultObjectStoreOptions, ...dropUndefined(rest) };
  const { bucket, prefix } = parseS3Url(url);
  const client = new S3Client({
    ...s3ClientConfig(env ?? process.env),
    maxAttempts: options.retries + 1,
    requestHandler: { connectionTimeout: options.connectTimeoutMs, socketTimeout: options.idleTimeoutMs },
  });
  return new S3ObjectStore(client, bucket, prefix, options);
}

class S3ObjectStore implements ObjectStore {
  readonly location: string;
  /** Prepended to every key: "prefix/" or "" at the bucket's root. */
  private readonly base: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix: string,
    private readonly options: ObjectStoreOptions,
  ) {
    this.location = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
    this.base = prefix ? `${prefix}/` : "";
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    checkObjectKey(key);
    const params = { Bucket: this.bucket, Key: this.base + key, Body: body };
    try {
      if (body.byteLength > this.options.multipartThresholdBytes) {
        // A failed multipart upload is aborted (leavePartsOnError: false), so no orphaned parts are left billed.
        await new Upload({
          client: this.client,
          params,
          partSize: this.options.partSizeBytes,
          queueSize: this.options.uploadQueueSize,
          leavePartsOnError: false,
        }).done();
      } else {
        await this.client.send(new PutObjectCommand({ ...params, ContentLength: body.byteLength }));
      }
    } catch (e) {
      throw this.failure(e, "put", key);
    }
  }

  async get(key: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Uint8Array> {
    checkObjectKey(key);
    const limit = opts.maxBytes ?? this.options.maxGetBytes;
    const { signal } = opts;
    const download = { chunks: [] as Uint8Array[], received: 0, etag: undefined as string | undefined };
    const restart = () => {
      download.chunks = [];
      download.received = 0;
      download.etag = undefined;
    };
    for (let bodyFailures = 0; ; ) {
      const resuming = download.received > 0;
      let res: GetObjectCommandOutput;
      try {
        res = await this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: this.base + key,
            ...(resuming ? { Range: `bytes=${download.received}-`, IfMatch: download.etag } : {}),
          }),
          { abortSignal: signal },
        );
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (!(resuming && httpStatus(e) === 412)) throw this.failure(e, "get", key);
        // Replaced since the first attempt (If-Match failed): the parts we hold belong to the old object.
        restart();
        if (++bodyFailures > this.options.retries) throw this.failure(e, "get", key);
        continue;
      }
      const body = res.Body instanceof Readable ? res.Body : undefined;
      if (!body) throw this.io("get", key, "response has no Node.js body stream");
      let expected: number | undefined;
      if (resuming) {
        const range = parseContentRange(res.ContentRange);
        if (range && range.start === download.received && res.ETag === download.etag) {
          expected = range.total;
        } else if (!range && res.$metadata.httpStatusCode === 200) {
          restart(); // the server ignored Range and sent the whole object: take it from the start
        } else {
          // A range we did not ask for, or another object (a server that ignores If-Match): fetch it whole again.
          body.destroy();
          restart();
          if (++bodyFailures > this.options.retries) throw this.io("get", key, "resumed download did not match");
          continue;
        }
      }
      if (download.received === 0) {
        download.etag = res.ETag;
        expected = res.ContentLength;
        if (expected !== undefined && expected > limit) {
          body.destroy(); // drop the connection rather than drain a body we refuse
          throw new ObjectStoreError({ code: "OBJECT_TOO_LARGE", location: this.location, key, size: expected, limit });
        }
      }
      try {
        await readBody(body, signal, (chunk) => {
          download.received += chunk.byteLength;
          if (download.received > limit) {
            const size = download.received;
            throw new ObjectStoreError({ code: "OBJECT_TOO_LARGE", location: this.location, key, size, limit });
          }
          download.chunks.push(chunk);
        });
        if (expected !== undefined && download.received !== expected) {
          throw this.io("get", key, `body ended at ${download.received} of ${expected} bytes`);
        }
        return Buffer.concat(download.chunks, download.received);
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (e instanceof ObjectStoreError && e.type.code === "OBJECT_TOO_LARGE") throw e;
        if (++bodyFailures > this.options.retries) {
          throw this.io("get", key, `${describe(e)} (body failed ${bodyFailures} times)`);
        }
        await backoff(bodyFailures - 1, this.options, signal);
      }
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkListPrefix(prefix);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      let res: ListObjectsV2CommandOutput;
      try {
        res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.base + prefix,
            MaxKeys: this.options.listPageSize,
            ContinuationToken: token,
          }),
        );
      } catch (e) {
        throw this.failure(e, "list", prefix);
      }
      for (const object of res.Contents ?? []) {
        // A key equal to the base is a console-made "folder" marker, not an object of ours.
        if (!object.Key || object.Key.length <= this.base.length) continue;
        out.push({
          key: object.Key.slice(this.base.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified,
        });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
      if (res.IsTruncated && !token) throw this.io("list", prefix, "truncated page without a continuation token");
    } while (token);
    return out;
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) checkObjectKey(key);
    for (let i = 0; i < keys.length; i += S3_DELETE_BATCH) {
      const batch = keys.slice(i, i + S3_DELETE_BATCH);
      let errors: { Key?: string; Code?: string; Message?: string }[] | undefined;
      try {
        const res = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.base + key })), Quiet: true },
          }),
        );
        errors = res.Errors;
      } catch (e) {
        throw this.failure(e, "delete", batch[0]!);
      }
      // DeleteObjects answers 200 and lists per-key failures in the body.
      if (errors && errors.length > 0) {
        const first = errors[0]!;
        const key = first.Key?.slice(this.base.length) ?? batch[0]!;
        const reason = `${first.Code}: ${first.Message} (${errors.length} of ${batch.length} keys failed)`;
        throw first.Code === "AccessDenied"
          ? new ObjectStoreError({ code: "OBJECT_STORE_DENIED", location: this.location, op: "delete", key, reason })
          : this.io("delete", key, reason);
      }
    }
  }

  private io(op: ObjectStoreOp, key: string, reason: string): ObjectStoreError {
    return new ObjectStoreError({ code: "OBJECT_STORE_IO", location: this.location, op, key, reason });
  }

  /** An SDK failure (already retried by the SDK if it was worth retrying) as our typed error. */
  private failure(e: unknown, op: ObjectStoreOp, key: string): ObjectStoreError {
    if (e instanceof ObjectStoreError) return e;
    const status = httpStatus(e);
    const name = e instanceof Error ? e.name : "";
    if (op === "get" && (name === "NoSuchKey" || (status === 404 && name !== "NoSuchBucket"))) {
      return new ObjectStoreError({ code: "OBJECT_NOT_FOUND", location: this.location, key });
    }
    const attempts = (e as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    const reason =
      describe(e) +
      (status ? ` (HTTP ${status})` : "") +
      (attempts && attempts > 1 ? ` after ${attempts} attempts` : "");
    if (status === 401 || status === 403) {
      return new ObjectStoreError({ code: "OBJECT_STORE_DENIED", location: this.location, op, key, reason });
    }
    return this.io(op, key, reason);
  }
}

const S3_DELETE_BATCH = 1000; // DeleteObjects takes at most 1000 keys

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.message && e.message !== e.name ? `${e.name}: ${e.message}` : e.name;
}

/** "bytes 100-199/1000" → { start: 100, total: 1000 }. */
function parseContentRange(header: string | undefined): { start: number; total: number } | undefined {
  const match = header ? /^bytes (\d+)-\d+\/(\d+)$/.exec(header) : null;
  return match ? { start: Number(match[1]), total: Number(match[2]) } : undefined;
}

async function readBody(body: Readable, signal: AbortSignal | undefined, onChunk: (chunk: Uint8Array) => void) {
  const onAbort = () => body.destroy(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of body) onChunk(chunk as Uint8Array);
  } catch (e) {
    body.destroy();
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

async function backoff(retry: number, options: ObjectStoreOptions, signal: AbortSignal | undefined): Promise<void> {
  const ceiling = Math.min(options.retryMaxDelayMs, options.retryBaseDelayMs * 2 ** retry);
  try {
    await sleep(Math.random() * ceiling, undefined, { signal });
  } catch (e) {
    throw signal?.aborted ? signal.reason : e;
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------------------------------
// Directory backend

/** In-flight writes live here until renamed into place, so readers and list() never see half an object. */
const PARTIAL_DIR = ".partial";

/**
 * The same store on a local directory: key "a/b" is the file <dir>/a/b. A put writes <dir>/.partial/<random>, syncs it
 * and renames it over the target (then syncs the directory), so after a crash the key holds the old object or the new
 * one; an interrupted write leaves only a stray file under .partial/. Unlike S3, a key cannot be both an object and
 * the directory of others ("a" and "a/b").
 */
export function createDirStore(dir: string, opts: Partial<ObjectStoreOptions> = {}): ObjectStore {
  return new DirObjectStore(resolve(dir), { ...defaultObjectStoreOptions, ...dropUndefined(opts) });
}

class DirObjectStore implements ObjectStore {
  constructor(
    readonly location: string,
    private readonly options: ObjectStoreOptions,
  ) {}

  private pathOf(key: string): string {
    checkObjectKey(key);
    if (key.split("/", 1)[0] === PARTIAL_DIR) {
      throw new ObjectStoreError({ code: "INVALID_OBJECT_KEY", key, reason: `${PARTIAL_DIR}/ is reserved` });
    }
    return join(this.location, ...key.split("/"));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const partialDir = join(this.location, PARTIAL_DIR);
    const temp = join(partialDir, `${randomBytes(8).toString("hex")}`);
    try {
      await mkdir(partialDir, { recursive: true });
      await mkdir(dirname(target), { recursive: true });
      const file = await open(temp, "wx");
      try {
        await file.writeFile(body);
        await file.sync(); // the data must be on disk before the rename makes it visible
      } finally {
        await file.close();
      }
      await rename(temp, target);
      await syncDir(dirname(target));
    } catch (e) {
      await rm(temp, { force: true }).catch(() => {});
      throw this.io("put", key, e);
    }
  }

  async get(key: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const path = this.pathOf(key);
    const limit = opts.maxBytes ?? this.options.maxGetBytes;
    opts.signal?.throwIfAborted();
    let file: Awaited<ReturnType<typeof open>>;
    try {
      file = await open(path, "r");
    } catch (e) {
      if (isNotFound(e)) throw new ObjectStoreError({ code: "OBJECT_NOT_FOUND", location: this.location, key });
      throw this.io("get", key, e);
    }
    try {
      const info = await file.stat();
      if (!info.isFile()) throw new ObjectStoreError({ code: "OBJECT_NOT_FOUND", location: this.location, key });
      if (info.size > limit) {
        throw new ObjectStoreError({ code: "OBJECT_TOO_LARGE", location: this.location, key, size: info.size, limit });
      }
      // put() replaces files by rename and never writes into one, so the open file keeps the size just checked.
      return await file.readFile({ signal: opts.signal });
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (e instanceof ObjectStoreError) throw e;
      throw this.io("get", key, e);
    } finally {
      await file.close();
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkListPrefix(prefix);
    // Only the directory the prefix points into can hold matches ("chunks/00" → walk chunks/).
    const start = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (start.split("/", 1)[0] === PARTIAL_DIR) return [];
    const out: ObjectInfo[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(rel ? join(this.location, ...rel.split("/")) : this.location, { withFileTypes: true });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      await Promise.all(
        entries.map(async (entry) => {
          const key = rel ? `${rel}/${entry.name}` : entry.name;
          if (entry.isDirectory()) {
            if (key === PARTIAL_DIR) return;
            if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(key);
          } else if (entry.isFile() && key.startsWith(prefix)) {
            const info = await stat(join(this.location, ...key.split("/"))).catch((e) => {
              if (isNotFound(e)) return undefined; // deleted while we listed
              throw e;
            });
            if (info) out.push({ key, size: info.size, lastModified: info.mtime });
          }
        }),
      );
    };
    try {
      await walk(start);
    } catch (e) {
      throw this.io("list", prefix, e);
    }
    // S3 lists in UTF-8 byte order; for the ASCII keys we write, code unit order is the same.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: string[]): Promise<void> {
    const paths = keys.map((key) => this.pathOf(key));
    // Empty directories are left behind: removing them could race with a put creating a file in them.
    await Promise.all(
      paths.map(async (path, i) => {
        try {
          await unlink(path);
        } catch (e) {
          if (!isNotFound(e)) throw this.io("delete", keys[i]!, e);
        }
      }),
    );
  }

  private io(op: ObjectStoreOp, key: string, e: unknown): ObjectStoreError {
    const reason = e instanceof Error ? e.message : String(e);
    return new ObjectStoreError({ code: "OBJECT_STORE_IO", location: this.location, op, key, reason });
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string } | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Makes a rename into dir durable (the directory entry itself is data the disk may not have yet). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
