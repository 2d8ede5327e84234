// Slashing protection: the last line of defence against a validator signing two conflicting messages (after a crash,
// a restart from an old backup, or the same key running on two machines). Every proposal, attestation and finalize vote
// is checked against what this key has already signed and recorded BEFORE the signature is produced ("record, then
// sign"): the check and the record are one atomic, synced RocksDB write batch, so a crash between recording and signing
// can only lose a signature, never allow a second, conflicting one.
//
// Storage. The protection lives in its own small RocksDB at `<datadir>/slashing-protection` (see
// `openSlashingProtection`), not in the node's chain database: it must outlive a chain resync or a wiped chain
// database, it is exported and imported on its own (EIP-3076), and RocksDB's LOCK file stops a second process from
// opening it — two validator processes with the same data dir cannot both sign. Inside that database we use our own
// bucket ids 0x20–0x22 (outside the node's `Bucket` table, so they could never collide if the stores were merged).
//
// Epochs = half-slots. RustChain justifies and finalizes per slot, and a validator signs two votes in a slot: the
// attestation (source slot S < target slot t) and, once it has seen >= 2/3 of the weight attest to (s, B), the finalize
// vote for (s, B). The safety proof embeds both into Casper FFG on a grid of half-slots: an attestation (S, T) is the
// grid link 2S → 2T, a finalize vote at slot s is the grid link 2s → 2s+1. The slashing conditions are then exactly
// FFG's on the grid — two different votes with the same grid target (double vote; e.g. two finalize votes for one slot
// with different roots) or one grid link strictly inside another (surround vote; e.g. a finalize vote at s and an
// attestation with source < s < target). So every vote is stored and checked as a grid link, in half-slot epochs, and
// one set of rules below covers both kinds. An honest validator climbs the grid: attest at s (2J, 2s) → finalize at s
// (2s, 2s+1) → attest at s+1 with source >= s (>= 2s, 2s+2); each vote has a source >= and a target > the previous one,
// so the minimal rules never refuse it. Block proposals are not votes and stay in slots.
//
// State per BLS pubkey is O(1), EIP-3076's "minimal" form (the same idea as Lighthouse's lower bounds):
//   proposals: the highest signed slot and, when known, its signing root;
//   votes:     the vote with the highest grid target (source sT, target T, signing root when known) and the vote with
//              the highest grid source (source S, target tS).
// Rules (stricter than "not slashable", which is what makes the O(1) state sufficient):
//   proposal at slot s: allowed iff s > highest slot, or s == highest slot with the identical signing root.
//   vote with grid link (s, t): refused with a precise code when it provably conflicts with a recorded vote
//     (DOUBLE_VOTE: same target, different root; SURROUND_VOTE: the new vote surrounds a recorded one;
//     SURROUNDED_VOTE: a recorded vote surrounds the new one); otherwise allowed iff s >= S and t > T
//     (ATTESTATION_BELOW_WATERMARK), or it is the identical vote at target T (idempotent re-sign).
//   Any two votes accepted under these rules are not slashable with each other: each accepted vote has a source >= and
//   a target > than everything recorded before it, which excludes both a double vote and a surround.
//
// Interchange (EIP-3076, format version 5): export writes the minimal form (at most one block and two attestations per
// key, the second one root-less); import accepts the complete or minimal form from any source, validates everything
// first (size-limited JSON, strict field syntax), then merges by keeping the safest state — max slot, max source,
// max target; equal heights with differing roots keep no root, so neither can be re-signed — in one write batch.
// `source_epoch` / `target_epoch` are half-slot epochs (a finalize vote at slot s is exported as 2s / 2s+1). Files
// exported by RustChain versions before the finalize vote carry slot units, and nothing in such a file says so; read as
// half-slots its watermarks would sit at half their height, so it must not be imported: re-export from the upgraded
// node instead (its database was migrated on open). Import refuses pairs that cannot be grid links (odd source; odd
// target other than source + 1), which catches many such files but not all. A file is only meaningful between
// RustChain nodes of the same chain, which the `genesis_validators_root` check enforces.
//
// Migration. A database written before the half-slot grid stores slots and has no `epoch_unit` meta key. Opening it
// rewrites every vote record (S, T) in slots as (2S, 2T) — the same attestations on the grid; roots stay — and writes
// the marker, in one atomic batch: a crash leaves the old or the new layout, never a mix, and a marked database is
// never doubled again. An unknown marker is DB_CORRUPT. Old code opening a migrated database reads the doubled values
// as slots: too high, so still safe, but it refuses to attest until the chain gets there.
import { join } from "node:path";
import { bytesToHex, equalBytes, hexToBytes, RustChainError } from "@rustchain/shared";
import { attestationLink, finalizeLink } from "@rustchain/shared/consensus/grid";
import { type BucketId, Database, WriteBatch } from "../../db/database.ts";

export const SIGNING_ROOT_LENGTH = 32;
export const SLASHING_PROTECTION_PUBKEY_LENGTH = 48;
export const INTERCHANGE_FORMAT_VERSION = "5";
/** Sub-directory of the node data dir holding the slashing-protection RocksDB. */
export const SLASHING_PROTECTION_DIR = "slashing-protection";

const MAX_U64 = (1n << 64n) - 1n;
/** The highest slot a vote may name: its half-slot epochs, up to 2 × slot + 1, must fit a u64. */
const MAX_VOTE_SLOT = (MAX_U64 - 1n) / 2n;

/** Our own bucket ids inside the dedicated database (the node's `Bucket` table stops at 0x0b). */
const SpBucket = {
  meta: 0x20 as number as BucketId, // name → value
  blocks: 0x21 as number as BucketId, // pubkey → u64 slot ‖ [signing root]
  // pubkey → u64 S ‖ u64 tS ‖ u64 sT ‖ u64 T ‖ [signing root of (sT, T)], in the unit named by `epoch_unit`
  attestations: 0x22 as number as BucketId,
} as const;
const META_GENESIS_ROOT = new TextEncoder().encode("genesis_validators_root");
/** Absent: the vote records are in slots (written before the half-slot grid) and are migrated on open. */
const META_EPOCH_UNIT = new TextEncoder().encode("epoch_unit");
const EPOCH_UNIT_HALF_SLOT = new TextEncoder().encode("half-slot");

export interface SlashingProtectionOptions {
  /** Root identifying the chain (RustChain: the genesis block hash); binds the database and interchange files. */
  genesisValidatorsRoot: Uint8Array;
  /** Upper bound on an interchange document accepted by `importInterchange`, in bytes. */
  maxInterchangeBytes: number;
}

export const defaultSlashingProtectionOptions: Omit<SlashingProtectionOptions, "genesisValidatorsRoot"> = {
  maxInterchangeBytes: 32 * 1024 * 1024,
};

/** The part of `Database` slashing protection needs; tests may pass an in-memory implementation. */
export interface SlashingProtectionStore {
  get(bucket: BucketId, key: Uint8Array): Promise<Uint8Array | undefined>;
  write(batch: WriteBatch): Promise<void>;
  range(bucket: BucketId): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** Epoch fields of the vote errors are half-slot epochs (grid links, see the header), as the messages say. */
export type SlashingProtectionErrorType =
  | { code: "DOUBLE_PROPOSAL"; pubkey: string; slot: bigint; highestSignedSlot: bigint }
  | { code: "DOUBLE_VOTE"; pubkey: string; targetEpoch: bigint }
  | {
      code: "SURROUND_VOTE" | "SURROUNDED_VOTE";
      pubkey: string;
      sourceEpoch: bigint;
      targetEpoch: bigint;
      recordedSourceEpoch: bigint;
      recordedTargetEpoch: bigint;
    }
  | {
      code: "ATTESTATION_BELOW_WATERMARK";
      pubkey: string;
      sourceEpoch: bigint;
      targetEpoch: bigint;
      minSourceEpoch: bigint;
      minTargetEpoch: bigint;
    }
  | { code: "INVALID_REQUEST"; reason: string }
  | { code: "INTERCHANGE_TOO_LARGE"; size: number; limit: number }
  | { code: "INTERCHANGE_INVALID"; reason: string }
  | { code: "GENESIS_MISMATCH"; expected: string; got: string }
  | { code: "DB_CORRUPT"; reason: string };

/** A signing request refused by slashing protection, or an interchange document rejected before it changed anything. */
export class SlashingProtectionError extends RustChainError<SlashingProtectionErrorType> {
  constructor(type: SlashingProtectionErrorType) {
    super(type, slashingProtectionErrorMessage(type));
  }
}

export function slashingProtectionErrorMessage(t: SlashingProtectionErrorType): string {
  switch (t.code) {
    case "DOUBLE_PROPOSAL":
      return `refusing to propose at slot ${t.slot}: already signed a proposal up to slot ${t.highestSignedSlot}`;
    case "DOUBLE_VOTE":
      return `refusing to vote: already signed a different vote with target ${t.targetEpoch} (half-slot epochs)`;
    case "SURROUND_VOTE":
      return `refusing to vote (${t.sourceEpoch}, ${t.targetEpoch}): it surrounds the recorded vote (${t.recordedSourceEpoch}, ${t.recordedTargetEpoch}) (half-slot epochs)`;
    case "SURROUNDED_VOTE":
      return `refusing to vote (${t.sourceEpoch}, ${t.targetEpoch}): the recorded vote (${t.recordedSourceEpoch}, ${t.recordedTargetEpoch}) surrounds it (half-slot epochs)`;
    case "ATTESTATION_BELOW_WATERMARK":
      return `refusing to vote (${t.sourceEpoch}, ${t.targetEpoch}): needs source >= ${t.minSourceEpoch} and target > ${t.minTargetEpoch} (half-slot epochs)`;
    case "INVALID_REQUEST":
      return `invalid signing request: ${t.reason}`;
    case "INTERCHANGE_TOO_LARGE":
      return `interchange document too large: ${t.size} bytes, limit ${t.limit}`;
    case "INTERCHANGE_INVALID":
      return `invalid EIP-3076 interchange: ${t.reason}`;
    case "GENESIS_MISMATCH":
      return `genesis validators root mismatch: expected ${t.expected}, got ${t.got}`;
    case "DB_CORRUPT":
      return `slashing protection database corrupt: ${t.reason}`;
  }
}

/** An attestation about to be signed: its source and target checkpoint slots (slots, not half-slots). */
export interface AttestationRequest {
  sourceSlot: bigint;
  targetSlot: bigint;
  signingRoot: Uint8Array;
}

/** A finalize vote about to be signed: the slot of the checkpoint it finalizes. */
export interface FinalizeVoteRequest {
  slot: bigint;
  signingRoot: Uint8Array;
}

/** A vote as a link on the half-slot grid: the unit every vote record and check uses. */
export interface GridVote {
  sourceEpoch: bigint;
  targetEpoch: bigint;
  signingRoot: Uint8Array;
}

/** The attestation (S, T) is the grid link 2S → 2T (shared/src/consensus/grid.ts). */
export function attestationGridVote(att: AttestationRequest): GridVote {
  const link = attestationLink(att.sourceSlot, att.targetSlot);
  return { sourceEpoch: link.source, targetEpoch: link.target, signingRoot: att.signingRoot };
}

/** The finalize vote at slot s is the grid link 2s → 2s+1: after the attestation of s, before any of s+1. */
export function finalizeGridVote(vote: FinalizeVoteRequest): GridVote {
  const link = finalizeLink(vote.slot);
  return { sourceEpoch: link.source, targetEpoch: link.target, signingRoot: vote.signingRoot };
}

/** EIP-3076 interchange, format version 5 (u64 values as decimal strings, bytes as 0x-hex). */
export interface InterchangeV5 {
  metadata: { interchange_format_version: "5"; genesis_validators_root: string };
  data: {
    pubkey: string;
    signed_blocks: { slot: string; signing_root?: string }[];
    signed_attestations: { source_epoch: string; target_epoch: string; signing_root?: string }[];
  }[];
}

interface BlockRecord {
  slot: bigint;
  signingRoot?: Uint8Array;
}

/** The minimal vote state of one key, in half-slot epochs. */
interface AttestationRecord {
  /** Highest source, and the target of the vote it came from. */
  maxSource: bigint;
  targetAtMaxSource: bigint;
  /** Highest target, the source of the vote it came from, and its signing root when known. */
  sourceAtMaxTarget: bigint;
  maxTarget: bigint;
  signingRoot?: Uint8Array;
}

/** Open (or create) the slashing-protection database at `<dataDir>/slashing-protection`. */
export async function openSlashingProtection(
  dataDir: string,
  opts: Pick<SlashingProtectionOptions, "genesisValidatorsRoot"> & Partial<SlashingProtectionOptions>,
): Promise<SlashingProtection> {
  const db = await Database.open(join(dataDir, SLASHING_PROTECTION_DIR));
  try {
    return await createSlashingProtection({ ...defaultSlashingProtectionOptions, ...opts }, { db, ownsDb: true });
  } catch (e) {
    await db.close();
    throw e;
  }
}

/**
 * Bind a store to one chain and bring it to the half-slot layout: the first open records the genesis validators root
 * (later opens must match it) and the epoch unit; a database without the unit is migrated (see the header). All of it
 * is one write batch, written only after every check passed.
 */
export async function createSlashingProtection(
  opts: SlashingProtectionOptions,
  modules: { db: SlashingProtectionStore & { close?(): Promise<void> }; ownsDb?: boolean },
): Promise<SlashingProtection> {
  checkLength(opts.genesisValidatorsRoot, 32, "genesis validators root");
  const { db } = modules;
  const batch = new WriteBatch();
  const stored = await db.get(SpBucket.meta, META_GENESIS_ROOT);
  if (stored === undefined) {
    batch.put(SpBucket.meta, META_GENESIS_ROOT, opts.genesisValidatorsRoot);
  } else if (!equalBytes(stored, opts.genesisValidatorsRoot)) {
    throw new SlashingProtectionError({
      code: "GENESIS_MISMATCH",
      expected: bytesToHex(stored),
      got: bytesToHex(opts.genesisValidatorsRoot),
    });
  }
  const unit = await db.get(SpBucket.meta, META_EPOCH_UNIT);
  if (unit === undefined) {
    // Slot units (or a new database): every recorded attestation (S, T) is the grid link (2S, 2T).
    for await (const [pubkey, value] of db.range(SpBucket.attestations)) {
      batch.put(
        SpBucket.attestations,
        pubkey,
        encodeAttestation(slotRecordToHalfSlots(pubkey, decodeAttestation(value))),
      );
    }
    batch.put(SpBucket.meta, META_EPOCH_UNIT, EPOCH_UNIT_HALF_SLOT);
  } else if (!equalBytes(unit, EPOCH_UNIT_HALF_SLOT)) {
    throw new SlashingProtectionError({
      code: "DB_CORRUPT",
      reason: `unknown epoch_unit ${JSON.stringify(new TextDecoder().decode(unit))}`,
    });
  }
  if (batch.ops.length > 0) await db.write(batch);
  return new SlashingProtection(opts, modules);
}

/** Migration: a record written in slots, as the same votes in half-slot epochs. */
function slotRecordToHalfSlots(pubkey: Uint8Array, r: AttestationRecord): AttestationRecord {
  for (const slot of [r.maxSource, r.targetAtMaxSource, r.sourceAtMaxTarget, r.maxTarget]) {
    if (slot > MAX_VOTE_SLOT) {
      throw new SlashingProtectionError({
        code: "DB_CORRUPT",
        reason: `attestation record of ${bytesToHex(pubkey)} holds slot ${slot}, too large for half-slot epochs`,
      });
    }
  }
  return {
    maxSource: 2n * r.maxSource,
    targetAtMaxSource: 2n * r.targetAtMaxSource,
    sourceAtMaxTarget: 2n * r.sourceAtMaxTarget,
    maxTarget: 2n * r.maxTarget,
    ...(r.signingRoot ? { signingRoot: r.signingRoot } : {}),
  };
}

export class SlashingProtection {
  private readonly lock = new KeyedLock();

  /** Use `createSlashingProtection` / `openSlashingProtection`, which check the genesis root first. */
  constructor(
    private readonly opts: SlashingProtectionOptions,
    private readonly modules: { db: SlashingProtectionStore & { close?(): Promise<void> }; ownsDb?: boolean },
  ) {}

  /**
   * Check a block proposal and record it; resolves only once the record is durable. Throws DOUBLE_PROPOSAL when
   * `slot` is at or below the highest signed slot, unless it repeats the identical signing root at that slot.
   */
  async checkAndRecordBlock(pubkey: Uint8Array, slot: bigint, signingRoot: Uint8Array): Promise<void> {
    checkLength(pubkey, SLASHING_PROTECTION_PUBKEY_LENGTH, "pubkey");
    checkLength(signingRoot, SIGNING_ROOT_LENGTH, "signing root");
    checkU64(slot, "slot");
    await this.lock.run([bytesToHex(pubkey)], async () => {
      const prev = await this.readBlock(pubkey);
      if (prev !== undefined && slot <= prev.slot) {
        // Re-signing the identical block is harmless (same message, same signature) and needs no new record.
        const identical =
          slot === prev.slot && prev.signingRoot !== undefined && equalBytes(prev.signingRoot, signingRoot);
        if (identical) return;
        throw new SlashingProtectionError({
          code: "DOUBLE_PROPOSAL",
          pubkey: bytesToHex(pubkey),
          slot,
          highestSignedSlot: prev.slot,
        });
      }
      await this.modules.db.write(new WriteBatch().put(SpBucket.blocks, pubkey, encodeBlock({ slot, signingRoot })));
    });
  }

  /**
   * Check an attestation (source slot S, target slot T) and record it as the grid link (2S, 2T); resolves only once
   * the record is durable. See the rules at the top.
   */
  async checkAndRecordAttestation(pubkey: Uint8Array, att: AttestationRequest): Promise<void> {
    checkLength(pubkey, SLASHING_PROTECTION_PUBKEY_LENGTH, "pubkey");
    checkLength(att.signingRoot, SIGNING_ROOT_LENGTH, "signing root");
    checkVoteSlot(att.sourceSlot, "source slot");
    checkVoteSlot(att.targetSlot, "target slot");
    if (att.sourceSlot > att.targetSlot) {
      throw new SlashingProtectionError({ code: "INVALID_REQUEST", reason: "source slot after target slot" });
    }
    await this.checkAndRecordVote(pubkey, attestationGridVote(att));
  }

  /**
   * Check a finalize vote at `slot` and record it as the grid link (2 × slot, 2 × slot + 1); resolves only once the
   * record is durable. Refused after any attestation with a target above `slot` (it would be late, hence slashable
   * with that attestation or below the watermark).
   */
  async checkAndRecordFinalizeVote(pubkey: Uint8Array, vote: FinalizeVoteRequest): Promise<void> {
    checkLength(pubkey, SLASHING_PROTECTION_PUBKEY_LENGTH, "pubkey");
    checkLength(vote.signingRoot, SIGNING_ROOT_LENGTH, "signing root");
    checkVoteSlot(vote.slot, "slot");
    await this.checkAndRecordVote(pubkey, finalizeGridVote(vote));
  }

  private async checkAndRecordVote(pubkey: Uint8Array, vote: GridVote): Promise<void> {
    await this.lock.run([bytesToHex(pubkey)], async () => {
      const prev = await this.readAttestation(pubkey);
      if (prev !== undefined) {
        if (checkVote(pubkey, vote, prev) === "identical") return;
      }
      const next: AttestationRecord = {
        maxSource: vote.sourceEpoch,
        targetAtMaxSource: vote.targetEpoch,
        sourceAtMaxTarget: vote.sourceEpoch,
        maxTarget: vote.targetEpoch,
        signingRoot: vote.signingRoot,
      };
      await this.modules.db.write(new WriteBatch().put(SpBucket.attestations, pubkey, encodeAttestation(next)));
    });
  }

  /** Export every key's state in the EIP-3076 v5 minimal form; attestation epochs are half-slot epochs. */
  async exportInterchange(): Promise<InterchangeV5> {
    const byKey = new Map<string, InterchangeV5["data"][number]>();
    const entry = (pubkey: Uint8Array) => {
      const hex = bytesToHex(pubkey);
      let e = byKey.get(hex);
      if (e === undefined) {
        e = { pubkey: hex, signed_blocks: [], signed_attestations: [] };
        byKey.set(hex, e);
      }
      return e;
    };
    for await (const [pubkey, value] of this.modules.db.range(SpBucket.blocks)) {
      const b = decodeBlock(value);
      entry(pubkey).signed_blocks.push({
        slot: b.slot.toString(),
        ...(b.signingRoot ? { signing_root: bytesToHex(b.signingRoot) } : {}),
      });
    }
    for await (const [pubkey, value] of this.modules.db.range(SpBucket.attestations)) {
      const a = decodeAttestation(value);
      const atts = entry(pubkey).signed_attestations;
      atts.push({
        source_epoch: a.sourceAtMaxTarget.toString(),
        target_epoch: a.maxTarget.toString(),
        ...(a.signingRoot ? { signing_root: bytesToHex(a.signingRoot) } : {}),
      });
      // After imports the highest source can come from another attestation; keep it so the importer keeps it too.
      if (a.maxSource !== a.sourceAtMaxTarget || a.targetAtMaxSource !== a.maxTarget) {
        atts.push({ source_epoch: a.maxSource.toString(), target_epoch: a.targetAtMaxSource.toString() });
      }
    }
    return {
      metadata: {
        interchange_format_version: INTERCHANGE_FORMAT_VERSION,
        genesis_validators_root: bytesToHex(this.opts.genesisValidatorsRoot),
      },
      data: [...byKey.values()],
    };
  }

  /**
   * Merge an EIP-3076 v5 document (JSON text or bytes) whose attestation epochs are half-slot epochs. Everything is
   * validated before anything is written; the merge is one atomic batch and is idempotent. Throws
   * INTERCHANGE_TOO_LARGE, INTERCHANGE_INVALID or GENESIS_MISMATCH.
   */
  async importInterchange(input: string | Uint8Array): Promise<{ imported: number }> {
    const parsed = parseInterchange(input, this.opts.maxInterchangeBytes);
    if (!equalBytes(parsed.genesisValidatorsRoot, this.opts.genesisValidatorsRoot)) {
      throw new SlashingProtectionError({
        code: "GENESIS_MISMATCH",
        expected: bytesToHex(this.opts.genesisValidatorsRoot),
        got: bytesToHex(parsed.genesisValidatorsRoot),
      });
    }
    const keys = [...parsed.keys.keys()];
    await this.lock.run(keys, async () => {
      const batch = new WriteBatch();
      for (const k of parsed.keys.values()) {
        if (k.block !== undefined) {
          const merged = mergeBlock(await this.readBlock(k.pubkey), k.block);
          batch.put(SpBucket.blocks, k.pubkey, encodeBlock(merged));
        }
        if (k.attestation !== undefined) {
          const merged = mergeAttestation(await this.readAttestation(k.pubkey), k.attestation);
          batch.put(SpBucket.attestations, k.pubkey, encodeAttestation(merged));
        }
      }
      if (batch.ops.length > 0) await this.modules.db.write(batch);
    });
    return { imported: keys.length };
  }

  async close(): Promise<void> {
    // Wait for in-flight check-and-record operations so none is cut off mid-write.
    await this.lock.drain();
    if (this.modules.ownsDb) await this.modules.db.close?.();
  }

  private async readBlock(pubkey: Uint8Array): Promise<BlockRecord | undefined> {
    const v = await this.modules.db.get(SpBucket.blocks, pubkey);
    return v === undefined ? undefined : decodeBlock(v);
  }

  private async readAttestation(pubkey: Uint8Array): Promise<AttestationRecord | undefined> {
    const v = await this.modules.db.get(SpBucket.attestations, pubkey);
    return v === undefined ? undefined : decodeAttestation(v);
  }
}

/**
 * The vote rules (on grid links) against the recorded state; throws on refusal, returns "identical" for a harmless
 * re-sign of the recorded vote and "new" for a vote that may be recorded.
 */
function checkVote(pubkey: Uint8Array, vote: GridVote, prev: AttestationRecord): "identical" | "new" {
  const s = vote.sourceEpoch;
  const t = vote.targetEpoch;
  const who = bytesToHex(pubkey);
  // Rule: same target as the latest recorded vote → only the identical message may be signed again.
  if (t === prev.maxTarget) {
    if (
      prev.signingRoot !== undefined &&
      s === prev.sourceAtMaxTarget &&
      equalBytes(prev.signingRoot, vote.signingRoot)
    ) {
      return "identical";
    }
    throw new SlashingProtectionError({ code: "DOUBLE_VOTE", pubkey: who, targetEpoch: t });
  }
  // Rules: no surround in either direction against the two votes we know exactly.
  const known: [bigint, bigint][] = [
    [prev.sourceAtMaxTarget, prev.maxTarget],
    [prev.maxSource, prev.targetAtMaxSource],
  ];
  for (const [rs, rt] of known) {
    if (t === rt) throw new SlashingProtectionError({ code: "DOUBLE_VOTE", pubkey: who, targetEpoch: t });
    const base = { pubkey: who, sourceEpoch: s, targetEpoch: t, recordedSourceEpoch: rs, recordedTargetEpoch: rt };
    if (s < rs && rt < t) throw new SlashingProtectionError({ code: "SURROUND_VOTE", ...base });
    if (rs < s && t < rt) throw new SlashingProtectionError({ code: "SURROUNDED_VOTE", ...base });
  }
  // Rule: monotonic watermarks (source >= max source, target > max target) cover everything not kept exactly.
  if (s < prev.maxSource || t <= prev.maxTarget) {
    throw new SlashingProtectionError({
      code: "ATTESTATION_BELOW_WATERMARK",
      pubkey: who,
      sourceEpoch: s,
      targetEpoch: t,
      minSourceEpoch: prev.maxSource,
      minTargetEpoch: prev.maxTarget,
    });
  }
  return "new";
}

function mergeBlock(local: BlockRecord | undefined, imported: BlockRecord): BlockRecord {
  if (local === undefined || imported.slot > local.slot) return imported;
  if (imported.slot < local.slot) return local;
  // Same slot: keep the root only if both agree, otherwise nothing at that slot may be signed again.
  const same = local.signingRoot && imported.signingRoot && equalBytes(local.signingRoot, imported.signingRoot);
  return same ? local : { slot: local.slot };
}

function mergeAttestation(local: AttestationRecord | undefined, imported: AttestationRecord): AttestationRecord {
  if (local === undefined) return imported;
  const out: AttestationRecord = { ...local };
  if (imported.maxSource > local.maxSource) {
    out.maxSource = imported.maxSource;
    out.targetAtMaxSource = imported.targetAtMaxSource;
  }
  if (imported.maxTarget > local.maxTarget) {
    out.maxTarget = imported.maxTarget;
    out.sourceAtMaxTarget = imported.sourceAtMaxTarget;
    out.signingRoot = imported.signingRoot;
  } else if (imported.maxTarget === local.maxTarget) {
    const same =
      imported.sourceAtMaxTarget === local.sourceAtMaxTarget &&
      local.signingRoot !== undefined &&
      imported.signingRoot !== undefined &&
      equalBytes(local.signingRoot, imported.signingRoot);
    if (!same) out.signingRoot = undefined;
  }
  return out;
}

// ---- Record encoding (fixed-width big-endian; the optional root is present iff the length says so) ----

function encodeBlock(r: BlockRecord): Uint8Array {
  const out = Buffer.alloc(8 + (r.signingRoot ? SIGNING_ROOT_LENGTH : 0));
  out.writeBigUInt64BE(r.slot, 0);
  if (r.signingRoot) out.set(r.signingRoot, 8);
  return out;
}

function decodeBlock(v: Uint8Array): BlockRecord {
  if (v.length !== 8 && v.length !== 8 + SIGNING_ROOT_LENGTH) {
    throw new SlashingProtectionError({ code: "DB_CORRUPT", reason: `block record of ${v.length} bytes` });
  }
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return { slot: b.readBigUInt64BE(0), ...(v.length > 8 ? { signingRoot: Uint8Array.from(v.subarray(8)) } : {}) };
}

function encodeAttestation(r: AttestationRecord): Uint8Array {
  const out = Buffer.alloc(32 + (r.signingRoot ? SIGNING_ROOT_LENGTH : 0));
  out.writeBigUInt64BE(r.maxSource, 0);
  out.writeBigUInt64BE(r.targetAtMaxSource, 8);
  out.writeBigUInt64BE(r.sourceAtMaxTarget, 16);
  out.writeBigUInt64BE(r.maxTarget, 24);
  if (r.signingRoot) out.set(r.signingRoot, 32);
  return out;
}

function decodeAttestation(v: Uint8Array): AttestationRecord {
  if (v.length !== 32 && v.length !== 32 + SIGNING_ROOT_LENGTH) {
    throw new SlashingProtectionError({ code: "DB_CORRUPT", reason: `attestation record of ${v.length} bytes` });
  }
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return {
    maxSource: b.readBigUInt64BE(0),
    targetAtMaxSource: b.readBigUInt64BE(8),
    sourceAtMaxTarget: b.readBigUInt64BE(16),
    maxTarget: b.readBigUInt64BE(24),
    ...(v.length > 32 ? { signingRoot: Uint8Array.from(v.subarray(32)) } : {}),
  };
}

// ---- Interchange parsing ----

export interface ParsedInterchange {
  genesisValidatorsRoot: Uint8Array;
  /** Per pubkey (0x-hex), the minimal safe summary of everything the document lists for it. */
  keys: Map<string, { pubkey: Uint8Array; block?: BlockRecord; attestation?: AttestationRecord }>;
}

const U64_RE = /^(0|[1-9][0-9]{0,19})$/;
const HEX_RE = /^0x[0-9a-fA-F]*$/;

function invalid(reason: string): never {
  throw new SlashingProtectionError({ code: "INTERCHANGE_INVALID", reason });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseU64(v: unknown, what: string): bigint {
  if (typeof v !== "string" || !U64_RE.test(v)) invalid(`${what} must be a decimal u64 string`);
  const n = BigInt(v);
  if (n > MAX_U64) invalid(`${what} exceeds u64`);
  return n;
}

function parseHex(v: unknown, length: number, what: string): Uint8Array {
  if (typeof v !== "string" || !HEX_RE.test(v) || v.length !== 2 + 2 * length) {
    invalid(`${what} must be 0x-hex of ${length} bytes`);
  }
  return hexToBytes(v);
}

function parseArray(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) invalid(`${what} must be an array`);
  return v;
}

/**
 * Parse and validate an EIP-3076 v5 document without touching any database. The size limit applies before JSON
 * parsing; every field is checked (attestation epochs are half-slot epochs and must form grid links), and each key's
 * entries are reduced to the minimal safe summary.
 */
export function parseInterchange(input: string | Uint8Array, maxBytes: number): ParsedInterchange {
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.length;
  if (size > maxBytes) throw new SlashingProtectionError({ code: "INTERCHANGE_TOO_LARGE", size, limit: maxBytes });
  let doc: unknown;
  try {
    doc = JSON.parse(typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input));
  } catch {
    invalid("not valid UTF-8 JSON");
  }
  if (!isObject(doc)) invalid("top level must be an object");
  if (!isObject(doc.metadata)) invalid("metadata must be an object");
  if (doc.metadata.interchange_format_version !== INTERCHANGE_FORMAT_VERSION) {
    invalid(`interchange_format_version must be "${INTERCHANGE_FORMAT_VERSION}"`);
  }
  const genesisValidatorsRoot = parseHex(doc.metadata.genesis_validators_root, 32, "genesis_validators_root");
  if (!Array.isArray(doc.data)) invalid("data must be an array");

  const keys: ParsedInterchange["keys"] = new Map();
  for (const [i, item] of doc.data.entries()) {
    if (!isObject(item)) invalid(`data[${i}] must be an object`);
    const pubkey = parseHex(item.pubkey, SLASHING_PROTECTION_PUBKEY_LENGTH, `data[${i}].pubkey`);
    const hex = bytesToHex(pubkey);
    let summary = keys.get(hex);
    if (summary === undefined) {
      summary = { pubkey };
      keys.set(hex, summary);
    }
    for (const [j, b] of parseArray(item.signed_blocks, `data[${i}].signed_blocks`).entries()) {
      const at = `data[${i}].signed_blocks[${j}]`;
      if (!isObject(b)) invalid(`${at} must be an object`);
      const rec: BlockRecord = { slot: parseU64(b.slot, `${at}.slot`) };
      if (b.signing_root !== undefined) rec.signingRoot = parseHex(b.signing_root, 32, `${at}.signing_root`);
      summary.block = mergeBlock(summary.block, rec);
    }
    for (const [j, a] of parseArray(item.signed_attestations, `data[${i}].signed_attestations`).entries()) {
      const at = `data[${i}].signed_attestations[${j}]`;
      if (!isObject(a)) invalid(`${at} must be an object`);
      const source = parseU64(a.source_epoch, `${at}.source_epoch`);
      const target = parseU64(a.target_epoch, `${at}.target_epoch`);
      if (source > target) invalid(`${at}: source_epoch after target_epoch`);
      // Rule: every vote is a grid link — an attestation (2S, 2T) or a finalize vote (2s, 2s+1). Anything else is
      // most likely a file in slot units from before the half-slot grid.
      if (source % 2n !== 0n || (target % 2n !== 0n && target !== source + 1n)) {
        invalid(
          `${at}: (${source}, ${target}) is not a half-slot vote; files exported before the half-slot grid carry slots: re-export from the upgraded node`,
        );
      }
      const rec: AttestationRecord = {
        maxSource: source,
        targetAtMaxSource: target,
        sourceAtMaxTarget: source,
        maxTarget: target,
      };
      if (a.signing_root !== undefined) rec.signingRoot = parseHex(a.signing_root, 32, `${at}.signing_root`);
      summary.attestation = mergeAttestation(summary.attestation, rec);
    }
  }
  return { genesisValidatorsRoot, keys };
}

// ---- Helpers ----

function checkLength(b: Uint8Array, length: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== length) {
    throw new SlashingProtectionError({ code: "INVALID_REQUEST", reason: `${what} must be ${length} bytes` });
  }
}

function checkU64(n: bigint, what: string): void {
  if (typeof n !== "bigint" || n < 0n || n > MAX_U64) {
    throw new SlashingProtectionError({ code: "INVALID_REQUEST", reason: `${what} must be a u64` });
  }
}

function checkVoteSlot(n: bigint, what: string): void {
  checkU64(n, what);
  if (n > MAX_VOTE_SLOT) {
    throw new SlashingProtectionError({
      code: "INVALID_REQUEST",
      reason: `${what} ${n} too large: its half-slot epoch 2 × slot + 1 must fit a u64`,
    });
  }
}

/**
 * Serialises operations per key (an operation on several keys waits for all of them). Registration is synchronous,
 * so each operation only waits for ones registered before it: no deadlock, and the read-check-write of one key can
 * never interleave with another on the same key.
 */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const before = keys.map((k) => this.tails.get(k));
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const k of keys) this.tails.set(k, done);
    try {
      await Promise.all(before);
      return await fn();
    } finally {
      release();
      for (const k of keys) if (this.tails.get(k) === done) this.tails.delete(k);
    }
  }

  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
