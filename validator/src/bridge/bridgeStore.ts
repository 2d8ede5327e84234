// Bridge messages and their committee signatures on disk: the one owner of the bridge bucket's keys and encodings.
//
//   0x01 ‖ digest[32]                             → RLP [body, [[guardianSetIndex, guardianIndex, signature], …]]
//   0x02 ‖ emitterChain u16 ‖ emitter[32] ‖ seq u64 → digest (the message of an emitter's sequence)
//   0x03 ‖ watcher name (UTF-8)                   → u64: the last source block whose messages were all handled
//
// A message and its id index are written in one batch; signatures are added by rewriting the record (they are few:
// one per guardian). Any node stores every valid signature it sees, so any node can serve a VAA.
import { rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "@rustchain/shared";
import { decodeVaaBody, type VaaBody, vaaDigest } from "@rustchain/shared/bridge/vaa";
import { Bucket, type Database, u64Key, WriteBatch } from "../db/database.ts";

export interface StoredSignature {
  guardianSetIndex: number;
  guardianIndex: number;
  signature: Uint8Array;
}

export interface StoredMessage {
  digest: Uint8Array;
  body: Uint8Array;
  decoded: VaaBody;
  signatures: StoredSignature[];
}

const MESSAGE = 0x01;
const BY_ID = 0x02;
const CURSOR = 0x03;

const prefixed = (prefix: number, ...parts: Uint8Array[]) => Uint8Array.from([prefix, ...parts.flatMap((p) => [...p])]);

function idKey(emitterChain: number, emitter: Uint8Array, sequence: bigint): Uint8Array {
  return prefixed(BY_ID, Uint8Array.of(emitterChain >> 8, emitterChain & 0xff), emitter, u64Key(sequence));
}

export class BridgeStore {
  /** Signature writes one at a time: each rewrites its message's record. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Database) {}

  async message(digest: Uint8Array): Promise<StoredMessage | undefined> {
    const raw = await this.db.get(Bucket.bridge, prefixed(MESSAGE, digest));
    if (!raw) return undefined;
    const [body, sigs] = rlpList(rlpDecode(raw), "bridge message", 2);
    const bodyBytes = rlpBytes(body, "body");
    return {
      digest,
      body: bodyBytes,
      decoded: decodeVaaBody(bodyBytes),
      signatures: rlpList(sigs, "signatures").map((s) => {
        const [set, index, sig] = rlpList(s, "signature", 3);
        return {
          guardianSetIndex: Number(rlpUint(set, "set", 4)),
          guardianIndex: Number(rlpUint(index, "index", 1)),
          signature: rlpBytes(sig, "signature", 65),
        };
      }),
    };
  }

  async messageById(emitterChain: number, emitter: Uint8Array, sequence: bigint): Promise<StoredMessage | undefined> {
    const digest = await this.db.get(Bucket.bridge, idKey(emitterChain, emitter, sequence));
    return digest ? this.message(digest) : undefined;
  }

  /**
   * Record a signature over `body` (the caller checked it). Returns false when it was already there. The message
   * record and its id index are written together.
   */
  addSignature(body: Uint8Array, sig: StoredSignature): Promise<boolean> {
    const done = this.writes.then(() => this.addSignatureNow(body, sig));
    this.writes = done.catch(() => undefined);
    return done;
  }

  private async addSignatureNow(body: Uint8Array, sig: StoredSignature): Promise<boolean> {
    const digest = vaaDigest(body);
    const existing = await this.message(digest);
    const signatures = existing?.signatures ?? [];
    if (signatures.some((s) => s.guardianSetIndex === sig.guardianSetIndex && s.guardianIndex === sig.guardianIndex))
      return false;
    signatures.push(sig);
    const decoded = existing?.decoded ?? decodeVaaBody(body);
    const batch = new WriteBatch().put(
      Bucket.bridge,
      prefixed(MESSAGE, digest),
      rlpEncode([body, signatures.map((s) => [BigInt(s.guardianSetIndex), BigInt(s.guardianIndex), s.signature])]),
    );
    if (!existing)
      batch.put(Bucket.bridge, idKey(decoded.emitterChain, decoded.emitterAddress, decoded.sequence), digest);
    await this.db.write(batch);
    return true;
  }

  async cursor(name: string): Promise<bigint | undefined> {
    const raw = await this.db.get(Bucket.bridge, prefixed(CURSOR, new TextEncoder().encode(name)));
    return raw ? Buffer.from(raw).readBigUInt64BE() : undefined;
  }

  setCursor(name: string, block: bigint): Promise<void> {
    return this.db.write(
      new WriteBatch().put(Bucket.bridge, prefixed(CURSOR, new TextEncoder().encode(name)), u64Key(block)),
    );
  }
}
