// Consensus checkpoints and finality certificates on disk: the one owner of their keys and encodings.
//
//   meta "consensus-finalized"    u64 slot ‖ root[32]   the finalized checkpoint (fork choice's anchor on restart)
//   meta "consensus-justified"    u64 slot ‖ root[32]   the latest justified checkpoint, written before any vote uses
//                                                       it as a source (its votes may never reach a block)
//   finalityCertificates          u64 slot → certificate (shared/src/consensus/finalityCertificate.ts) of the
//                                 finalized checkpoint at that slot
//   certificateIndex              u64 block number → u64 slot of the certificate whose checkpoint block it is
//
// The finalized checkpoint and its certificate are written in one atomic batch, so a certificate never names a
// checkpoint the node does not consider final, and a crash leaves either both or neither.
//
// The stored certificates always form one chain: each names the one before it as its parent. A certificate whose
// parent is older than the latest stored one (a node that lost its finalized checkpoint re-finalizes from the votes
// its blocks carry, which skip slots that finalize votes had reached) replaces those in between, in the same batch.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import type { Checkpoint } from "@rustchain/shared/consensus/checkpoint";
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { Bucket, type Database, u64Key, WriteBatch } from "./database.ts";

const META_FINALIZED = new TextEncoder().encode("consensus-finalized");
const META_JUSTIFIED = new TextEncoder().encode("consensus-justified");
/** The meta keys of the two checkpoints (for tests that simulate a crash before they were written). */
export const CHECKPOINT_META_KEYS = { finalized: META_FINALIZED, justified: META_JUSTIFIED } as const;

export interface StoredCertificate {
  readonly slot: number;
  readonly encoded: Uint8Array;
}

export class CheckpointStore {
  constructor(private readonly db: Database) {}

  async finalized(): Promise<Checkpoint | undefined> {
    return decodeCheckpoint(await this.db.get(Bucket.meta, META_FINALIZED));
  }

  async justified(): Promise<Checkpoint | undefined> {
    return decodeCheckpoint(await this.db.get(Bucket.meta, META_JUSTIFIED));
  }

  writeJustified(cp: Checkpoint): Promise<void> {
    return this.db.write(new WriteBatch().put(Bucket.meta, META_JUSTIFIED, encodeCheckpoint(cp)));
  }

  /** The finalized checkpoint, with its certificate when there is one (for the block `number`), in one batch. */
  async writeFinalized(cp: Checkpoint, certificate?: { number: bigint; encoded: Uint8Array }): Promise<void> {
    const batch = new WriteBatch().put(Bucket.meta, META_FINALIZED, encodeCheckpoint(cp));
    if (certificate) await this.linkCertificate(batch, cp.slot, certificate.number, certificate.encoded);
    return this.db.write(batch);
  }

  /** A certificate built after its checkpoint was finalized (its signatures arrived later). */
  async writeCertificate(slot: number, number: bigint, encoded: Uint8Array): Promise<void> {
    const batch = new WriteBatch();
    await this.linkCertificate(batch, slot, number, encoded);
    return this.db.write(batch);
  }

  /**
   * A warp sync's verified certificate chain, ending at the finalized checkpoint it adopts, added to `batch` (which
   * also anchors the chain): the node then serves these certificates to the next node that syncs.
   */
  putSnapshotFinality(
    batch: WriteBatch,
    finalized: Checkpoint,
    certificates: readonly { slot: number; number: bigint; encoded: Uint8Array }[],
  ): void {
    batch.put(Bucket.meta, META_FINALIZED, encodeCheckpoint(finalized));
    batch.put(Bucket.meta, META_JUSTIFIED, encodeCheckpoint(finalized));
    for (const c of certificates) this.putCertificate(batch, c.slot, c.number, c.encoded);
  }

  /** Puts a certificate, deleting the stored ones between its parent's slot and its own (no longer on the chain). */
  private async linkCertificate(batch: WriteBatch, slot: number, number: bigint, encoded: Uint8Array): Promise<void> {
    const parentSlot = decodeFinalityCertificate(encoded).parent.slot;
    for await (const [key, stale] of this.db.range(Bucket.finalityCertificates, {
      from: u64Key(BigInt(parentSlot + 1)),
      to: u64Key(BigInt(slot)),
    })) {
      batch.del(Bucket.finalityCertificates, key);
      batch.del(Bucket.certificateIndex, u64Key(decodeFinalityCertificate(stale).header.number));
    }
    this.putCertificate(batch, slot, number, encoded);
  }

  private putCertificate(batch: WriteBatch, slot: number, number: bigint, encoded: Uint8Array): void {
    batch.put(Bucket.finalityCertificates, u64Key(BigInt(slot)), encoded);
    batch.put(Bucket.certificateIndex, u64Key(number), u64Key(BigInt(slot)));
  }

  async certificateAt(slot: number): Promise<StoredCertificate | undefined> {
    const encoded = await this.db.get(Bucket.finalityCertificates, u64Key(BigInt(slot)));
    return encoded ? { slot, encoded } : undefined;
  }

  /**
   * The certificate that proves block `number` final: the one of the first certified checkpoint at or above that
   * block (a block between two certified checkpoints is final as an ancestor of the later one).
   */
  async certificateCovering(number: bigint): Promise<StoredCertificate | undefined> {
    for await (const [, slotKey] of this.db.range(Bucket.certificateIndex, { from: u64Key(number), limit: 1 })) {
      return this.certificateAt(Number(new DataView(slotKey.buffer, slotKey.byteOffset).getBigUint64(0)));
    }
    return undefined;
  }

  /** The certificate of the latest certified checkpoint (a snapshot is pinned to its block). */
  async latestCertificate(): Promise<StoredCertificate | undefined> {
    for await (const [key, encoded] of this.db.range(Bucket.finalityCertificates, { reverse: true, limit: 1 })) {
      return { slot: Number(new DataView(key.buffer, key.byteOffset).getBigUint64(0)), encoded };
    }
    return undefined;
  }

  /** Certificates in slot order from `slot` on, at most `limit` (a certificate chain's segment). */
  async certificatesFrom(slot: number, limit: number): Promise<StoredCertificate[]> {
    const out: StoredCertificate[] = [];
    for await (const [key, encoded] of this.db.range(Bucket.finalityCertificates, {
      from: u64Key(BigInt(slot)),
      limit,
    })) {
      out.push({ slot: Number(new DataView(key.buffer, key.byteOffset).getBigUint64(0)), encoded });
    }
    return out;
  }
}

function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const value = new Uint8Array(40);
  new DataView(value.buffer).setBigUint64(0, BigInt(cp.slot));
  value.set(hexToBytes(cp.root), 8);
  return value;
}

function decodeCheckpoint(value: Uint8Array | undefined): Checkpoint | undefined {
  if (value?.length !== 40) return undefined;
  const slot = new DataView(value.buffer, value.byteOffset).getBigUint64(0);
  return { slot: Number(slot), root: bytesToHex(value.subarray(8, 40)) };
}
