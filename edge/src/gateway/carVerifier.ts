// Checks a CARv1 from the core as it streams, so the edge passes on only bytes it has verified itself. Invariants:
// - the header is exactly the one the node writes for the requested root (`carHeaderBytes`), nothing else;
// - the first block is the root; every later block is one an earlier dag-pb block linked to and that has not come yet
//   (no stray blocks, no repeats: the CAR is `dups=n`); with `dag-scope=block` nothing follows the root;
// - every block's CID is one we serve (dag-pb or raw, sha2-256 or identity) and its bytes hash to it;
// - a section is at most `maxBlockBytes` plus a CID, a DAG at most `maxBlocks` blocks (received or linked), so the
//   buffered bytes never exceed one section;
// - at the end no section is half read and no linked block is missing: a CAR that ends early is an error, never a
//   complete-looking answer.
// Each verified section is returned exactly as received, so the client gets the core's bytes unchanged.
// Pure and synchronous: push bytes in, get verified bytes out, or a GatewayError.

import { decode as decodeDagPb } from "@ipld/dag-pb";
import {
  blockMatchesCid,
  CODEC_DAG_PB,
  carHeaderBytes,
  cidSupportProblem,
} from "@rustchain/shared/content/trustlessGateway";
import { CID } from "multiformats/cid";
import { GatewayError } from "./errors.ts";

export interface CarVerifierOptions {
  /** Largest block (the node's `maxBlockBytes`: 1 MiB + 64 KiB). */
  maxBlockBytes: number;
  /** Most blocks in one DAG (the node's `maxDagBlocks`). */
  maxBlocks: number;
}

export const defaultCarVerifierOptions: CarVerifierOptions = {
  maxBlockBytes: 1024 * 1024 + 64 * 1024,
  maxBlocks: 65_536,
};

/** Room for a CID in front of a block: version, codec, hash code and length varints and a 64-byte digest. */
const MAX_CID_BYTES = 128;
/** A section length needs at most this many varint bytes at our limits (2^28 > any allowed section). */
const MAX_VARINT_BYTES = 4;

/** Bytes received and not yet consumed, kept as the chunks they came in (no copy until a section is complete). */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private offset = 0;
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first `n` bytes (n ≤ length), consumed. */
  take(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    let out: Uint8Array;
    if (first.length - this.offset >= n) {
      out = first.subarray(this.offset, this.offset + n);
      this.offset += n;
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0] as Uint8Array;
        const part = c.subarray(this.offset, this.offset + (n - filled));
        out.set(part, filled);
        filled += part.length;
        this.offset += part.length;
        if (this.offset === c.length) {
          this.chunks.shift();
          this.offset = 0;
        }
      }
      this.length -= n;
      return out;
    }
    if (this.offset === first.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    this.length -= n;
    return out;
  }

  /** Byte `i` from the front (i < length). */
  at(i: number): number {
    let index = i + this.offset;
    for (const c of this.chunks) {
      if (index < c.length) return c[index] as number;
      index -= c.length;
    }
    return 0;
  }
}

export class CarVerifier {
  private readonly queue = new ByteQueue();
  private readonly header: Uint8Array;
  private headerDone = false;
  /** Linked by a block received so far, not received yet. */
  private readonly wanted = new Set<string>();
  private readonly received = new Set<string>();
  private blocks = 0;

  constructor(
    private readonly root: CID,
    private readonly rootOnly: boolean,
    private readonly opts: CarVerifierOptions = defaultCarVerifierOptions,
  ) {
    this.header = carHeaderBytes(root);
  }

  /** True once the root block has been verified. */
  get rootVerified(): boolean {
    return this.blocks > 0;
  }

  /** Feeds bytes from the core; returns the verified bytes that may go to the client, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.queue.push(chunk);
    const out: Uint8Array[] = [];
    if (!this.headerDone) {
      const n = Math.min(this.queue.length, this.header.length);
      for (let i = 0; i < n; i++) {
        if (this.queue.at(i) !== this.header[i]) {
          throw new GatewayError({ code: "GATEWAY_CAR_MALFORMED", reason: "not the CARv1 header for the root" });
        }
      }
      if (this.queue.length < this.header.length) return out;
      out.push(this.queue.take(this.header.length));
      this.headerDone = true;
    }
    for (;;) {
      const length = this.sectionLength();
      if (length === undefined || this.queue.length < length.prefix + length.value) return out;
      const section = this.queue.take(length.prefix + length.value);
      this.verifySection(section.subarray(length.prefix));
      out.push(section);
    }
  }

  /** The core's CAR ended: throws unless it was whole. */
  end(): void {
    if (!this.headerDone || this.queue.length > 0) {
      throw new GatewayError({ code: "GATEWAY_CAR_MALFORMED", reason: "ends mid-section" });
    }
    if (this.blocks === 0 || this.wanted.size > 0) {
      throw new GatewayError({ code: "GATEWAY_CAR_INCOMPLETE", missing: Math.max(1, this.wanted.size) });
    }
  }

  /** The next section's varint length, or undefined while its bytes have not all arrived. */
  private sectionLength(): { value: number; prefix: number } | undefined {
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (i >= this.queue.length) return undefined;
      const byte = this.queue.at(i);
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (value === 0 || value > this.opts.maxBlockBytes + MAX_CID_BYTES) {
          throw new GatewayError({ code: "GATEWAY_BLOCK_TOO_LARGE", limit: this.opts.maxBlockBytes });
        }
        return { value, prefix: i + 1 };
      }
    }
    throw new GatewayError({ code: "GATEWAY_BLOCK_TOO_LARGE", limit: this.opts.maxBlockBytes });
  }

  private verifySection(body: Uint8Array): void {
    let cid: CID;
    let bytes: Uint8Array;
    try {
      [cid, bytes] = CID.decodeFirst(body);
    } catch {
      throw new GatewayError({ code: "GATEWAY_CAR_MALFORMED", reason: "a section's CID does not parse" });
    }
    const key = cid.toString();
    if (this.blocks === 0) {
      if (!cid.toV1().equals(this.root.toV1())) throw new GatewayError({ code: "GATEWAY_WRONG_ROOT", cid: key });
    } else if (this.rootOnly || !this.wanted.delete(key)) {
      throw new GatewayError({ code: "GATEWAY_UNEXPECTED_BLOCK", cid: key });
    }
    if (cidSupportProblem(cid)) throw new GatewayError({ code: "GATEWAY_UNSUPPORTED_CID", cid: key });
    if (bytes.length > this.opts.maxBlockBytes) {
      throw new GatewayError({ code: "GATEWAY_BLOCK_TOO_LARGE", limit: this.opts.maxBlockBytes });
    }
    if (!blockMatchesCid(cid, bytes)) throw new GatewayError({ code: "GATEWAY_HASH_MISMATCH", cid: key });
    this.received.add(key);
    this.blocks++;
    if (this.rootOnly || cid.code !== CODEC_DAG_PB) return;
    let links: CID[];
    try {
      links = decodeDagPb(bytes).Links.map((l) => l.Hash as CID);
    } catch {
      throw new GatewayError({ code: "GATEWAY_CAR_MALFORMED", reason: "a dag-pb block does not decode" });
    }
    for (const link of links) {
      const k = link.toString();
      if (!this.received.has(k)) this.wanted.add(k);
    }
    if (this.received.size + this.wanted.size > this.opts.maxBlocks) {
      throw new GatewayError({ code: "GATEWAY_DAG_TOO_LARGE", limit: this.opts.maxBlocks });
    }
  }
}
