// Request/response over libp2p streams: one stream per request, a single length-prefixed request frame, the
// requester half-closes, the responder writes result-prefixed chunks and closes. Everything is bounded: frame sizes,
// chunk counts and a whole-exchange deadline. Malformed input from either side resets the stream and costs the peer.
import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";
import { MAX_CERTIFICATE_BYTES } from "@rustchain/shared/consensus/finalityCertificate";
import * as lp from "it-length-prefixed";
import type { Logger } from "pino";
import { ReqRespError } from "./errors.ts";
import type { ReqRespOptions } from "./options.ts";
import { plainBytes } from "./plainBytes.ts";
import {
  decodeBlocksByRangeRequest,
  decodeBlocksByRootRequest,
  decodeCertificatesRequest,
  decodeResponseChunk,
  decodeSnapshotChunkRequest,
  decodeSnapshotManifestRequest,
  decodeStatus,
  decodeStatusRequest,
  encodeBlocksByRangeRequest,
  encodeBlocksByRootRequest,
  encodeCertificatesRequest,
  encodeSnapshotChunkRequest,
  encodeSnapshotManifestRequest,
  encodeStatus,
  errorChunk,
  MAX_ERROR_MESSAGE_BYTES,
  REQ_RESP_PROTOCOL_NAMES,
  type ReqRespHandlers,
  type ReqRespProtocolName,
  reqRespProtocol,
  STATUS_REQUEST,
  type Status,
  successChunk,
} from "./reqRespCodec.ts";
import { streamSource } from "./streamSource.ts";

export interface ReqRespModules {
  libp2p: Libp2p;
  handlers: ReqRespHandlers;
  chainId: bigint;
  logger: Logger;
  /** A peer broke the protocol (malformed request or response): penalise it. */
  onInvalid(peer: PeerId, code: string): void;
  /** Every exchange's outcome ("ok" or the error code), made ("out") or served ("in"): the node's metrics. */
  onOutcome?(protocol: ReqRespProtocolName, direction: "in" | "out", result: string): void;
}

export class ReqResp {
  constructor(
    private readonly opts: ReqRespOptions,
    private readonly modules: ReqRespModules,
  ) {}

  async register(): Promise<void> {
    for (const name of REQ_RESP_PROTOCOL_NAMES) {
      await this.modules.libp2p.handle(
        reqRespProtocol(this.modules.chainId, name),
        (stream: Stream, connection: Connection) => this.serve(name, stream, connection.remotePeer),
        { maxInboundStreams: this.opts.maxInboundStreams },
      );
    }
  }

  // --- client ---

  async status(peer: PeerId): Promise<Status> {
    const chunks = await this.request(peer, "status", STATUS_REQUEST, 1, 512);
    if (chunks.length !== 1) return this.invalidResponse(peer, `status: expected 1 chunk, got ${chunks.length}`);
    let status: Status;
    try {
      status = decodeStatus(chunks[0]);
    } catch (e) {
      if (e instanceof ReqRespError) this.modules.onInvalid(peer, e.type.code);
      throw e;
    }
    if (status.chainId !== this.modules.chainId) return this.invalidResponse(peer, "status: wrong chain id");
    return status;
  }

  async blocksByRange(peer: PeerId, start: bigint, count: number): Promise<Uint8Array[]> {
    const request = encodeBlocksByRangeRequest(start, count);
    return this.request(peer, "blocks_by_range", request, count, this.opts.maxBlockBytes);
  }

  async blocksByRoot(peer: PeerId, hashes: Uint8Array[]): Promise<Uint8Array[]> {
    const request = encodeBlocksByRootRequest(hashes);
    return this.request(peer, "blocks_by_root", request, hashes.length, this.opts.maxBlockBytes);
  }

  /** Certificates from `fromSlot` on; each is at most a certificate's size limit (the caller verifies them). */
  async finalityCertificates(peer: PeerId, fromSlot: bigint, count: number): Promise<Uint8Array[]> {
    const request = encodeCertificatesRequest(fromSlot, count);
    return this.request(peer, "finality_certificates", request, count, MAX_CERTIFICATE_BYTES);
  }

  /** A peer's snapshot manifest (newest when `id` is undefined); undefined when it has none. Unverified. */
  async snapshotManifest(peer: PeerId, id: string | undefined): Promise<Uint8Array | undefined> {
    const chunks = await this.request(
      peer,
      "snapshot_manifest",
      encodeSnapshotManifestRequest(id),
      1,
      this.opts.maxSnapshotBytes,
    );
    return chunks[0];
  }

  /** One stored snapshot chunk from a peer; undefined when it does not have it. Unverified. */
  async snapshotChunk(peer: PeerId, id: string, index: number): Promise<Uint8Array | undefined> {
    const chunks = await this.request(
      peer,
      "snapshot_chunk",
      encodeSnapshotChunkRequest(id, index),
      1,
      this.opts.maxSnapshotBytes,
    );
    return chunks[0];
  }

  /** Snapshot transfers move megabytes: they get their own deadline (docs/sync.md), every other protocol the global one. */
  private timeoutFor(name: ReqRespProtocolName): number {
    return name === "snapshot_manifest" || name === "snapshot_chunk"
      ? this.opts.snapshotTimeoutMs
      : this.opts.timeoutMs;
  }

  private invalidResponse(peer: PeerId, reason: string): never {
    this.modules.onInvalid(peer, "REQ_INVALID_RESPONSE");
    throw new ReqRespError({ code: "REQ_INVALID_RESPONSE", reason });
  }

  /** Send one request and collect at most maxChunks success payloads of at most maxPayload bytes each. */
  private async request(
    peer: PeerId,
    name: ReqRespProtocolName,
    request: Uint8Array,
    maxChunks: number,
    maxPayload: number,
  ): Promise<Uint8Array[]> {
    const timeoutMs = this.timeoutFor(name);
    const signal = AbortSignal.timeout(timeoutMs);
    let stream: Stream;
    try {
      stream = await this.modules.libp2p.dialProtocol(peer, reqRespProtocol(this.modules.chainId, name), { signal });
    } catch (e) {
      if (signal.aborted) throw new ReqRespError({ code: "REQ_TIMEOUT", timeoutMs });
      throw new ReqRespError({ code: "REQ_DIAL_FAILED", reason: (e as Error).name });
    }
    const onAbort = (): void => stream.abort(new ReqRespError({ code: "REQ_TIMEOUT", timeoutMs }));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Start reading before writing so no part of the response can arrive unobserved.
      const reading = readResponse(stream, maxChunks, maxPayload);
      const writing = (async () => {
        stream.send(lp.encode.single(request));
        await stream.close({ signal });
      })();
      const [chunks] = await Promise.all([reading, writing]);
      this.modules.onOutcome?.(name, "out", "ok");
      return chunks;
    } catch (e) {
      const err = asReqRespError(e);
      this.modules.onOutcome?.(name, "out", err.type.code);
      if (err.type.code === "REQ_INVALID_RESPONSE") this.modules.onInvalid(peer, err.type.code);
      stream.abort(err);
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  // --- server ---

  private async serve(name: ReqRespProtocolName, stream: Stream, peer: PeerId): Promise<void> {
    const timeoutMs = this.timeoutFor(name);
    const signal = AbortSignal.timeout(timeoutMs);
    const onAbort = (): void => stream.abort(new ReqRespError({ code: "REQ_TIMEOUT", timeoutMs }));
    signal.addEventListener("abort", onAbort, { once: true });
    const log = this.modules.logger;
    try {
      const request = await readRequest(stream, this.opts.maxRequestBytes);
      let chunks: Uint8Array[];
      try {
        chunks = await this.handle(name, request);
      } catch (e) {
        if (e instanceof ReqRespError && e.type.code === "REQ_INVALID_REQUEST") throw e;
        log.warn({ protocol: name, err: (e as Error).message }, "Req/resp handler failed");
        this.modules.onOutcome?.(name, "in", "REQ_SERVER_ERROR");
        await writeChunks(stream, [errorChunk("server error")], signal);
        await stream.close({ signal });
        return;
      }
      await writeChunks(stream, chunks, signal);
      await stream.close({ signal });
      this.modules.onOutcome?.(name, "in", "ok");
    } catch (e) {
      const err = asReqRespError(e);
      this.modules.onOutcome?.(name, "in", err.type.code);
      if (err.type.code === "REQ_INVALID_REQUEST") this.modules.onInvalid(peer, err.type.code);
      log.debug({ protocol: name, code: err.type.code, peer: peer.toString() }, "Req/resp request failed");
      stream.abort(err);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Decode the request (throws REQ_INVALID_REQUEST) and produce the response chunks. */
  private async handle(name: ReqRespProtocolName, request: Uint8Array): Promise<Uint8Array[]> {
    const { handlers } = this.modules;
    switch (name) {
      case "status": {
        decodeStatusRequest(request);
        return [successChunk(encodeStatus(await handlers.status()))];
      }
      case "blocks_by_range": {
        const { start, count } = decodeBlocksByRangeRequest(request);
        return this.blockChunks(await handlers.blocksByRange(start, count), count);
      }
      case "blocks_by_root": {
        const hashes = decodeBlocksByRootRequest(request);
        return this.blockChunks(await handlers.blocksByRoot(hashes), hashes.length);
      }
      case "finality_certificates": {
        const { fromSlot, count } = decodeCertificatesRequest(request);
        const certs = await handlers.finalityCertificates(fromSlot, count);
        return certs
          .slice(0, count)
          .filter((c) => c.length <= MAX_CERTIFICATE_BYTES)
          .map(successChunk);
      }
      case "snapshot_manifest": {
        const manifest = await handlers.snapshotManifest(decodeSnapshotManifestRequest(request));
        return manifest && manifest.length <= this.opts.maxSnapshotBytes ? [successChunk(manifest)] : [];
      }
      case "snapshot_chunk": {
        const { id, index } = decodeSnapshotChunkRequest(request);
        const chunk = await handlers.snapshotChunk(id, index);
        return chunk && chunk.length <= this.opts.maxSnapshotBytes ? [successChunk(chunk)] : [];
      }
    }
  }

  /** Never send more blocks than asked for, nor one the client would have to reject as too large. */
  private blockChunks(blocks: Uint8Array[], max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const b of blocks.slice(0, max)) {
      if (b.length > this.opts.maxBlockBytes) break;
      out.push(successChunk(b));
    }
    return out;
  }
}

function asReqRespError(e: unknown): ReqRespError {
  if (e instanceof ReqRespError) return e;
  return new ReqRespError({ code: "REQ_STREAM_ERROR", reason: (e as Error)?.name ?? "unknown" });
}

/** Decoder failures (length prefix over the limit, truncated frame, bad varint) mean malformed peer input. */
function isFramingError(e: unknown): boolean {
  const name = (e as Error)?.name;
  return (
    name === "InvalidDataLengthError" ||
    name === "InvalidDataLengthLengthError" ||
    name === "InvalidMessageLengthError" ||
    name === "UnexpectedEOFError"
  );
}

async function readRequest(stream: Stream, maxBytes: number): Promise<Uint8Array> {
  let request: Uint8Array | undefined;
  try {
    for await (const frame of lp.decode(streamSource(stream), { maxDataLength: maxBytes })) {
      if (request !== undefined) throw new ReqRespError({ code: "REQ_INVALID_REQUEST", reason: "more than one frame" });
      request = plainBytes(frame.subarray());
    }
  } catch (e) {
    if (isFramingError(e)) throw new ReqRespError({ code: "REQ_INVALID_REQUEST", reason: (e as Error).name });
    throw e;
  }
  if (request === undefined) throw new ReqRespError({ code: "REQ_INVALID_REQUEST", reason: "no request frame" });
  return request;
}

async function readResponse(stream: Stream, maxChunks: number, maxPayload: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  try {
    // +1 for the result byte; error chunks are bounded far below any payload limit.
    const maxDataLength = Math.max(maxPayload, MAX_ERROR_MESSAGE_BYTES) + 1;
    for await (const frame of lp.decode(streamSource(stream), { maxDataLength })) {
      const payload = decodeResponseChunk(plainBytes(frame.subarray()));
      if (out.length >= maxChunks) {
        throw new ReqRespError({ code: "REQ_INVALID_RESPONSE", reason: `more than ${maxChunks} chunks` });
      }
      if (payload.length > maxPayload) {
        throw new ReqRespError({ code: "REQ_INVALID_RESPONSE", reason: "chunk too large" });
      }
      out.push(payload);
    }
  } catch (e) {
    if (isFramingError(e)) throw new ReqRespError({ code: "REQ_INVALID_RESPONSE", reason: (e as Error).name });
    throw e;
  }
  return out;
}

async function writeChunks(stream: Stream, chunks: Uint8Array[], signal: AbortSignal): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.send(lp.encode.single(chunk))) await stream.onDrain({ signal });
  }
}
