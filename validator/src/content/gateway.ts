// The trustless gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/) on the node's RPC port:
//   GET|HEAD /ipfs/<cid>?format=raw  or  Accept: application/vnd.ipld.raw  → the one block, bytes as stored
//   GET|HEAD /ipfs/<cid>?format=car  or  Accept: application/vnd.ipld.car  → a CARv1 of the DAG, root first,
//                                                                          depth-first, no duplicates
// Nothing deserialized is served: a client verifies every block against its CID itself, so it need not trust us.
// Blocks we do not hold are fetched over bitswap (bounded by the store's fetch timeout and DAG size limit).
// Only the root CID is addressed (no /path below it yet; `dag-scope=block` and `all`/`entity` for a whole file).

import type { IncomingMessage, ServerResponse } from "node:http";
import {
  carHeaderBytes,
  type GatewayRefusal,
  type GatewayRequest,
  gatewayHeaders,
  parseGatewayRequest,
} from "@rustchain/shared/content/trustlessGateway";
import { varint } from "multiformats";
import type { CID } from "multiformats/cid";
import type { ContentStore } from "./contentStore.ts";
import { ContentError, type ContentErrorType } from "./errors.ts";

// Request parsing, the supported CIDs and the answer's headers are shared with the edge's gateway (one copy).
export {
  CAR_TYPE,
  type GatewayFormat,
  type GatewayRefusal,
  type GatewayRequest,
  parseGatewayRequest,
  RAW_TYPE,
} from "@rustchain/shared/content/trustlessGateway";

/** The one map from content error codes to HTTP statuses. */
export function gatewayStatus(type: ContentErrorType): number {
  switch (type.code) {
    case "CONTENT_INVALID_CID":
    case "CONTENT_UNSUPPORTED_HASH":
    case "CONTENT_UNSUPPORTED_CODEC":
      return 400;
    case "CONTENT_NOT_FOUND":
      return 404;
    case "CONTENT_FETCH_TIMEOUT":
      return 504;
    case "CONTENT_TOO_LARGE":
    case "CONTENT_BLOCK_TOO_LARGE":
    case "CONTENT_DAG_TOO_LARGE":
      return 413;
    case "CONTENT_HASH_MISMATCH":
      return 502;
    case "CONTENT_NOT_STARTED":
      return 503;
  }
}

export interface GatewayOptions {
  /**
   * Requests served at once. Each may hold bitswap wants for up to the store's fetch timeout, and the port is public:
   * beyond this, 429 with Retry-After.
   */
  maxConcurrent: number;
}

export const defaultGatewayOptions: GatewayOptions = { maxConcurrent: 32 };

/** Serves `/ipfs/…` GET and HEAD requests from `store`; returns false for anything else (left to the caller). */
export function createGateway(
  store: ContentStore,
  opts: GatewayOptions = defaultGatewayOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  let inFlight = 0;
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const request = parseGatewayRequest(req.url ?? "", req.headers.accept);
    if (request === undefined) return false;
    if ("status" in request) {
      refuse(res, request);
      return true;
    }
    if (inFlight >= opts.maxConcurrent) {
      res.setHeader("retry-after", "1");
      refuse(res, { status: 429, message: "too many gateway requests in flight" });
      return true;
    }
    inFlight++;
    try {
      await serve(store, request, req, res);
    } finally {
      inFlight--;
    }
    return true;
  };
}

async function serve(
  store: ContentStore,
  request: GatewayRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const head = req.method === "HEAD";
  try {
    if (request.format === "raw") {
      const block = await store.getBlock(request.cid);
      res.writeHead(200, gatewayHeaders(request, block.length));
      res.end(head ? undefined : block);
      return;
    }
    // The root block first: a missing or bad root is an HTTP error, not a truncated CAR.
    const blocks = request.rootOnly ? singleBlock(store, request.cid) : store.dagBlocks(request.cid);
    const first = await blocks.next();
    res.writeHead(200, gatewayHeaders(request));
    if (head) {
      await blocks.return(undefined);
      res.end();
      return;
    }
    await writeCar(res, request.cid, first.done ? [] : [first.value], blocks);
  } catch (e) {
    if (!res.headersSent && e instanceof ContentError) {
      refuse(res, { status: gatewayStatus(e.type), message: e.type.code });
    } else if (!res.headersSent) {
      refuse(res, { status: 500, message: "internal error" });
    } else {
      // Mid-CAR: cut the response so the client sees a truncated CAR, never a complete-looking wrong one.
      res.destroy();
    }
  }
}

async function* singleBlock(store: ContentStore, cid: CID) {
  yield { cid, bytes: await store.getBlock(cid) };
}

/** CARv1 straight onto the response, with backpressure; stops (and releases the DAG walk) when the client goes. */
async function writeCar(
  res: ServerResponse,
  root: CID,
  head: { cid: CID; bytes: Uint8Array }[],
  rest: AsyncGenerator<{ cid: CID; bytes: Uint8Array }>,
): Promise<void> {
  const written = async (bytes: Uint8Array): Promise<boolean> => {
    if (res.destroyed) return false;
    if (!res.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
    return !res.destroyed;
  };
  if (!(await written(carHeaderBytes(root)))) return;
  for (const block of head) if (!(await written(carBlock(block)))) return;
  for await (const block of rest) {
    if (!(await written(carBlock(block)))) {
      await rest.return(undefined);
      return;
    }
  }
  res.end();
}

/** One CARv1 section: varint(|cid| + |bytes|), the CID's bytes, the block. */
function carBlock({ cid, bytes }: { cid: CID; bytes: Uint8Array }): Uint8Array {
  const length = cid.bytes.length + bytes.length;
  const prefix = varint.encodingLength(length);
  const out = new Uint8Array(prefix + length);
  varint.encodeTo(length, out, 0);
  out.set(cid.bytes, prefix);
  out.set(bytes, prefix + cid.bytes.length);
  return out;
}

function refuse(res: ServerResponse, refusal: GatewayRefusal): void {
  const body = `${refusal.message}\n`;
  res.writeHead(refusal.status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
