// Slashing protection refuses every double proposal, double vote and surround vote — attestations and finalize votes
// alike, as links on the half-slot grid — keeps refusing after a restart, after migrating a slot-unit database and
// after an EIP-3076 export → import into a fresh database, and rejects bad interchange documents without changing
// anything.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake3, bytesToHex } from "@rustchain/shared";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type BucketId, Database, WriteBatch } from "../../db/database.ts";
import {
  type AttestationRequest,
  createSlashingProtection,
  defaultSlashingProtectionOptions,
  type FinalizeVoteRequest,
  type InterchangeV5,
  openSlashingProtection,
  parseInterchange,
  SLASHING_PROTECTION_DIR,
  type SlashingProtection,
  SlashingProtectionError,
  type SlashingProtectionErrorType,
  type SlashingProtectionStore,
} from "./slashingProtection.ts";

const GENESIS = blake3(new TextEncoder().encode("rustchain genesis"));
const OTHER_GENESIS = blake3(new TextEncoder().encode("another chain"));
const pubkey = (i: number) => Uint8Array.from({ length: 48 }, (_, j) => (i * 31 + j) & 0xff);
const root = (tag: string | number) => blake3(new TextEncoder().encode(`root-${tag}`));
const PK = pubkey(1);
const PK2 = pubkey(2);

/** The same contract as `Database`, in memory: for fast property runs. */
class MemoryStore implements SlashingProtectionStore {
  readonly map = new Map<string, Uint8Array>();
  async get(bucket: BucketId, k: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(Buffer.concat([Buffer.of(bucket), k]).toString("hex"));
  }
  async write(batch: WriteBatch): Promise<void> {
    for (const op of batch.ops) {
      if (op.type === "put") this.map.set(op.key.toString("hex"), Uint8Array.from(op.value!));
      else this.map.delete(op.key.toString("hex"));
    }
  }
  async *range(bucket: BucketId): AsyncIterable<[Uint8Array, Uint8Array]> {
    const prefix = Buffer.of(bucket).toString("hex");
    for (const k of [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      yield [Buffer.from(k.slice(2), "hex"), this.map.get(k)!];
    }
  }
}

const memoryProtection = (db: SlashingProtectionStore = new MemoryStore()) =>
  createSlashingProtection({ ...defaultSlashingProtectionOptions, genesisValidatorsRoot: GENESIS }, { db });

async function codeOf(p: Promise<unknown>): Promise<SlashingProtectionErrorType["code"] | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof SlashingProtectionError) return e.type.code;
    throw e;
  }
}

/** An attestation (source slot, target slot): the grid link (2 × source, 2 × target). */
const att = (sourceSlot: number, targetSlot: number, tag: string | number = `${sourceSlot}-${targetSlot}`) =>
  ({
    sourceSlot: BigInt(sourceSlot),
    targetSlot: BigInt(targetSlot),
    signingRoot: root(tag),
  }) satisfies AttestationRequest;

/** A finalize vote at a slot: the grid link (2 × slot, 2 × slot + 1). */
const fin = (slot: number, tag: string | number = `fin-${slot}`) =>
  ({ slot: BigInt(slot), signingRoot: root(tag) }) satisfies FinalizeVoteRequest;

/** A key's recorded votes as the export shows them (half-slot epochs): asserts what was, and was not, recorded. */
async function votesOf(sp: SlashingProtection, pk: Uint8Array) {
  const doc = await sp.exportInterchange();
  return doc.data.find((d) => d.pubkey === bytesToHex(pk))?.signed_attestations ?? [];
}

// The layout written before the half-slot grid, spelled out byte by byte (not through the module's encoders), so the
// migration tests start from exactly what old databases hold.
const OLD_META = 0x20 as number as BucketId;
const OLD_BLOCKS = 0x21 as number as BucketId;
const OLD_ATTESTATIONS = 0x22 as number as BucketId;
const OLD_GENESIS_KEY = new TextEncoder().encode("genesis_validators_root");
const EPOCH_UNIT_KEY = new TextEncoder().encode("epoch_unit");

/** u64 maxSource ‖ u64 targetAtMaxSource ‖ u64 sourceAtMaxTarget ‖ u64 maxTarget ‖ [root], all in slots. */
function oldAttestationRecord(
  maxSource: bigint,
  targetAtMaxSource: bigint,
  sourceAtMaxTarget: bigint,
  maxTarget: bigint,
  signingRoot?: Uint8Array,
): Uint8Array {
  const out = Buffer.alloc(32 + (signingRoot ? 32 : 0));
  out.writeBigUInt64BE(maxSource, 0);
  out.writeBigUInt64BE(targetAtMaxSource, 8);
  out.writeBigUInt64BE(sourceAtMaxTarget, 16);
  out.writeBigUInt64BE(maxTarget, 24);
  if (signingRoot) out.set(signingRoot, 32);
  return out;
}

function oldBlockRecord(slot: bigint, signingRoot: Uint8Array): Uint8Array {
  const out = Buffer.alloc(40);
  out.writeBigUInt64BE(slot, 0);
  out.set(signingRoot, 8);
  return out;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "rustchain-slashing-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("slashing protection: proposals", () => {
  it("DOUBLE_PROPOSAL: refuses a different block at or below the highest signed slot, allows the identical one", async () => {
    const sp = await memoryProtection();
    expect(await codeOf(sp.checkAndRecordBlock(PK, 10n, root("a")))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 10n, root("b")))).toBe("DOUBLE_PROPOSAL");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 9n, root("c")))).toBe("DOUBLE_PROPOSAL");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 0n, root("a")))).toBe("DOUBLE_PROPOSAL");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 10n, root("a")))).toBe("ok"); // re-sign the same block
    expect(await codeOf(sp.checkAndRecordBlock(PK2, 10n, root("b")))).toBe("ok"); // other keys are independent
    expect(await codeOf(sp.checkAndRecordBlock(PK, 11n, root("b")))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 10n, root("a")))).toBe("DOUBLE_PROPOSAL"); // no longer the latest
  });

  it("INVALID_REQUEST: wrong pubkey or root length, slot outside u64, vote slot whose 2 × slot + 1 overflows u64", async () => {
    const sp = await memoryProtection();
    expect(await codeOf(sp.checkAndRecordBlock(PK.subarray(1), 1n, root(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 1n, root(1).subarray(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordBlock(PK, -1n, root(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 1n << 64n, root(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 2)))).toBe("INVALID_REQUEST");
    const big = (1n << 63n) - 1n; // the highest slot a vote may name: 2 × big + 1 = 2^64 − 1
    const over = { sourceSlot: 0n, targetSlot: big + 1n, signingRoot: root(1) };
    expect(await codeOf(sp.checkAndRecordAttestation(PK, over))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, { ...over, sourceSlot: -1n, targetSlot: 1n }))).toBe(
      "INVALID_REQUEST",
    );
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, { slot: big + 1n, signingRoot: root(1) }))).toBe(
      "INVALID_REQUEST",
    );
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, { slot: -1n, signingRoot: root(1) }))).toBe(
      "INVALID_REQUEST",
    );
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK.subarray(1), fin(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, { slot: 1n, signingRoot: root(1).subarray(1) }))).toBe(
      "INVALID_REQUEST",
    );
    expect(await votesOf(sp, PK)).toEqual([]); // nothing invalid was recorded
    expect(await codeOf(sp.checkAndRecordAttestation(PK, { ...over, targetSlot: big }))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, { slot: big, signingRoot: root(1) }))).toBe("ok");
    expect(await votesOf(sp, PK)).toEqual([
      {
        source_epoch: (2n * big).toString(),
        target_epoch: (2n * big + 1n).toString(),
        signing_root: bytesToHex(root(1)),
      },
    ]);
  });
});

describe("slashing protection: attestations", () => {
  it("DOUBLE_VOTE, SURROUND_VOTE, SURROUNDED_VOTE and the watermark; identical re-sign allowed", async () => {
    const sp = await memoryProtection();
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(1, 2, "x")))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(1, 2, "y")))).toBe("DOUBLE_VOTE");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(0, 2, "x")))).toBe("DOUBLE_VOTE"); // same root, other data
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(1, 2, "x")))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 5)))).toBe("ok");
    // (2, 6) surrounds the recorded (3, 5).
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(2, 6)))).toBe("SURROUND_VOTE");
    // (4, 4) is surrounded by the recorded (3, 5).
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(4, 4)))).toBe("SURROUNDED_VOTE");
    // (1, 3): older than the latest vote; not provably slashable against what is kept exactly, refused anyway.
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(1, 3)))).toBe("ATTESTATION_BELOW_WATERMARK");
    expect(await codeOf(sp.checkAndRecordAttestation(PK2, att(0, 6)))).toBe("ok"); // other keys are independent
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(5, 9)))).toBe("ok");
  });

  it("check-and-record is atomic: of concurrent conflicting requests exactly one is accepted", async () => {
    const dir = await tempDir();
    const sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    try {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => codeOf(sp.checkAndRecordAttestation(PK, att(4, 7, `c${i}`)))),
      );
      expect(results.filter((r) => r === "ok")).toHaveLength(1);
      expect(results.filter((r) => r === "DOUBLE_VOTE")).toHaveLength(15);
      const blocks = await Promise.all(
        Array.from({ length: 16 }, (_, i) => codeOf(sp.checkAndRecordBlock(PK, 3n, root(`b${i}`)))),
      );
      expect(blocks.filter((r) => r === "ok")).toHaveLength(1);
      const finals = await Promise.all(
        Array.from({ length: 16 }, (_, i) => codeOf(sp.checkAndRecordFinalizeVote(PK, fin(7, `f${i}`)))),
      );
      expect(finals.filter((r) => r === "ok")).toHaveLength(1);
      expect(finals.filter((r) => r === "DOUBLE_VOTE")).toHaveLength(15);
    } finally {
      await sp.close();
    }
  });

  it("pairwise non-slashable on the half-slot grid: random attestations and finalize votes (with export/import hops) never accept two slashable votes", async () => {
    const request = fc.record({
      key: fc.integer({ min: 0, max: 1 }),
      finalize: fc.boolean(), // a finalize vote at slot `source`, else an attestation (source, source + span)
      source: fc.integer({ min: 0, max: 24 }),
      span: fc.integer({ min: 0, max: 8 }),
      tag: fc.integer({ min: 0, max: 2 }),
      hop: fc.integer({ min: 0, max: 19 }), // 0: move to a fresh store through export → JSON → import
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 60 }), async (reqs) => {
        let sp = await memoryProtection();
        // Accepted votes as grid links: attestation (S, T) → (2S, 2T), finalize at s → (2s, 2s + 1).
        const accepted: { key: number; s: bigint; t: bigint; tag: number }[] = [];
        for (const r of reqs) {
          if (r.hop === 0) {
            const doc = JSON.stringify(await sp.exportInterchange());
            sp = await memoryProtection();
            await sp.importInterchange(doc);
          }
          const s = 2n * BigInt(r.source);
          const t = r.finalize ? s + 1n : 2n * BigInt(r.source + r.span);
          const code = await codeOf(
            r.finalize
              ? sp.checkAndRecordFinalizeVote(pubkey(r.key), fin(r.source, r.tag))
              : sp.checkAndRecordAttestation(pubkey(r.key), att(r.source, r.source + r.span, r.tag)),
          );
          const mine = accepted.filter((x) => x.key === r.key);
          if (code === "ok") {
            const isRepeat = mine.some((x) => x.s === s && x.t === t && x.tag === r.tag);
            if (!isRepeat) accepted.push({ key: r.key, s, t, tag: r.tag });
            continue;
          }
          // Every precise refusal names a real conflict on the grid with something accepted before.
          if (code === "DOUBLE_VOTE") expect(mine.some((x) => x.t === t)).toBe(true);
          if (code === "SURROUND_VOTE") expect(mine.some((x) => s < x.s && x.t < t)).toBe(true);
          if (code === "SURROUNDED_VOTE") expect(mine.some((x) => x.s < s && t < x.t)).toBe(true);
          expect(["DOUBLE_VOTE", "SURROUND_VOTE", "SURROUNDED_VOTE", "ATTESTATION_BELOW_WATERMARK"]).toContain(code);
        }
        for (const [i, a] of accepted.entries()) {
          for (const b of accepted.slice(i + 1)) {
            if (a.key !== b.key) continue;
            expect(a.t === b.t, "double vote").toBe(false);
            expect((a.s < b.s && b.t < a.t) || (b.s < a.s && a.t < b.t), "surround vote").toBe(false);
          }
        }
      }),
      { numRuns: 300, seed: 3076 },
    );
  });
});

describe("slashing protection: finalize votes", () => {
  it("an honest sequence (attest s, finalize s, attest s+1 with source >= s, ...) is all accepted, also across a close/reopen", async () => {
    const dir = await tempDir();
    let sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    try {
      let justified = 0;
      for (let slot = 1; slot <= 60; slot++) {
        if (slot === 30) {
          await sp.close();
          sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
          // A restart may re-sign the last vote it made before stopping: identical, so harmless.
          expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(slot - 1)))).toBe("ok");
        }
        expect(await codeOf(sp.checkAndRecordAttestation(PK, att(justified, slot))), `attest ${slot}`).toBe("ok");
        if (slot % 5 === 3) continue; // no 2/3 seen in time: no finalize vote, the source stays behind
        if (slot % 7 === 0) {
          justified = slot; // justification seen only after the slot: a newer source, no finalize vote
          continue;
        }
        expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(slot))), `finalize ${slot}`).toBe("ok");
        justified = slot;
      }
      // The last slot (60) was finalized: (120, 121).
      expect(await votesOf(sp, PK)).toEqual([
        { source_epoch: "120", target_epoch: "121", signing_root: bytesToHex(root("fin-60")) },
      ]);
    } finally {
      await sp.close();
    }
  });

  it("DOUBLE_VOTE: a second finalize vote for the same slot with another root is refused; the identical one is accepted", async () => {
    const sp = await memoryProtection();
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(4, 5)))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(5, "B")))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(5, "B'")))).toBe("DOUBLE_VOTE");
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(5, "B")))).toBe("ok"); // idempotent re-sign
    expect(await votesOf(sp, PK)).toEqual([
      { source_epoch: "10", target_epoch: "11", signing_root: bytesToHex(root("B")) },
    ]);
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK2, fin(5, "B'")))).toBe("ok"); // other keys are independent
  });

  it("SURROUNDED_VOTE / SURROUND_VOTE: a finalize vote at s and an attestation with source < s < target conflict in either order, and nothing is recorded", async () => {
    // Attestation (2, 6) is the grid link (4, 12); the finalize vote at 4 is (8, 9), strictly inside it.
    const first = await memoryProtection();
    expect(await codeOf(first.checkAndRecordAttestation(PK, att(2, 6, "wide")))).toBe("ok");
    expect(await codeOf(first.checkAndRecordFinalizeVote(PK, fin(4)))).toBe("SURROUNDED_VOTE");
    expect(await votesOf(first, PK)).toEqual([
      { source_epoch: "4", target_epoch: "12", signing_root: bytesToHex(root("wide")) },
    ]);

    const second = await memoryProtection();
    expect(await codeOf(second.checkAndRecordFinalizeVote(PK, fin(4)))).toBe("ok");
    expect(await codeOf(second.checkAndRecordAttestation(PK, att(2, 6, "wide")))).toBe("SURROUND_VOTE");
    expect(await votesOf(second, PK)).toEqual([
      { source_epoch: "8", target_epoch: "9", signing_root: bytesToHex(root("fin-4")) },
    ]);
    // The boundaries are fine: an attestation from the finalized slot onwards.
    expect(await codeOf(second.checkAndRecordAttestation(PK, att(4, 6)))).toBe("ok");
  });

  it("a late finalize vote for slot s, after the attestation of slot s+1, is refused", async () => {
    // Attestation of slot 6 with source 4 < 5 is (8, 12): a finalize vote at 5, (10, 11), would be slashable.
    const sp = await memoryProtection();
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(4, 5)))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(4, 6)))).toBe("ok");
    const before = await votesOf(sp, PK);
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(5)))).toBe("SURROUNDED_VOTE");
    expect(await votesOf(sp, PK)).toEqual(before);
    // With source 5 the pair is not slashable ((10, 12) and (10, 11) share the source), but a late vote is still
    // refused: the target would not climb, and the O(1) state cannot tell which late votes are safe.
    expect(await codeOf(sp.checkAndRecordAttestation(PK2, att(4, 5)))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordAttestation(PK2, att(5, 6)))).toBe("ok");
    expect(await codeOf(sp.checkAndRecordFinalizeVote(PK2, fin(5)))).toBe("ATTESTATION_BELOW_WATERMARK");
  });

  it("error messages name half-slot epochs", async () => {
    const sp = await memoryProtection();
    await sp.checkAndRecordFinalizeVote(PK, fin(5, "B"));
    await expect(sp.checkAndRecordFinalizeVote(PK, fin(5, "C"))).rejects.toThrow(/target 11 \(half-slot epochs\)/);
    await expect(sp.checkAndRecordAttestation(PK, att(4, 6))).rejects.toThrow(/half-slot epochs/);
  });
});

describe("slashing protection: migration from slot units", () => {
  it("a slot-unit database (no epoch_unit) is migrated on open: votes doubled, roots kept, marker written, never doubled twice", async () => {
    const dir = await tempDir();
    const raw = await Database.open(join(dir, SLASHING_PROTECTION_DIR));
    await raw.write(
      new WriteBatch()
        .put(OLD_META, OLD_GENESIS_KEY, GENESIS)
        .put(OLD_BLOCKS, PK, oldBlockRecord(5n, root("b5")))
        .put(OLD_ATTESTATIONS, PK, oldAttestationRecord(3n, 4n, 3n, 4n, root("old")))
        // After an old import: highest source 5 (from (5, 6)) and highest target 10 (from (2, 10)).
        .put(OLD_ATTESTATIONS, PK2, oldAttestationRecord(5n, 6n, 2n, 10n, root("k2"))),
    );
    await raw.close();

    // A failed open (wrong chain) migrates nothing.
    await expect(openSlashingProtection(dir, { genesisValidatorsRoot: OTHER_GENESIS })).rejects.toMatchObject({
      type: { code: "GENESIS_MISMATCH" },
    });

    let sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    const migrated = await sp.exportInterchange();
    expect(migrated.data).toEqual([
      {
        pubkey: bytesToHex(PK),
        signed_blocks: [{ slot: "5", signing_root: bytesToHex(root("b5")) }], // blocks stay in slots
        signed_attestations: [{ source_epoch: "6", target_epoch: "8", signing_root: bytesToHex(root("old")) }],
      },
      {
        pubkey: bytesToHex(PK2),
        signed_blocks: [],
        signed_attestations: [
          { source_epoch: "4", target_epoch: "20", signing_root: bytesToHex(root("k2")) },
          { source_epoch: "10", target_epoch: "12" },
        ],
      },
    ]);
    await sp.close();

    const check = await Database.open(join(dir, SLASHING_PROTECTION_DIR));
    expect(new TextDecoder().decode(await check.get(OLD_META, EPOCH_UNIT_KEY))).toBe("half-slot");
    await check.close();

    sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    try {
      expect((await sp.exportInterchange()).data).toEqual(migrated.data); // the second open changed nothing
      // The old watermarks hold in half-slot epochs.
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 4, "other")))).toBe("DOUBLE_VOTE");
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 4, "old")))).toBe("ok"); // the root survived
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(2, 5)))).toBe("SURROUND_VOTE");
      expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(3)))).toBe("ATTESTATION_BELOW_WATERMARK");
      expect(await codeOf(sp.checkAndRecordAttestation(PK2, att(3, 11)))).toBe("SURROUND_VOTE"); // surrounds (5, 6)
      expect(await codeOf(sp.checkAndRecordFinalizeVote(PK2, fin(7)))).toBe("SURROUNDED_VOTE"); // inside (2, 10)
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 5)))).toBe("ok");
      expect(await codeOf(sp.checkAndRecordFinalizeVote(PK, fin(5)))).toBe("ok");
      expect(await codeOf(sp.checkAndRecordFinalizeVote(PK2, fin(10, "k2-fin")))).toBe("ok");
    } finally {
      await sp.close();
    }
  });

  it("a new database is marked half-slot at once, so its votes are never doubled", async () => {
    const store = new MemoryStore();
    const sp = await memoryProtection(store);
    expect(new TextDecoder().decode(await store.get(OLD_META, EPOCH_UNIT_KEY))).toBe("half-slot");
    await sp.checkAndRecordAttestation(PK, att(3, 4));
    const reopened = await memoryProtection(store);
    expect(await votesOf(reopened, PK)).toEqual([
      { source_epoch: "6", target_epoch: "8", signing_root: bytesToHex(root("3-4")) },
    ]);
  });

  it("a slot-unit database with only proposals just gets the marker; a root-less vote record is doubled root-less", async () => {
    const onlyBlocks = new MemoryStore();
    await onlyBlocks.write(
      new WriteBatch().put(OLD_META, OLD_GENESIS_KEY, GENESIS).put(OLD_BLOCKS, PK, oldBlockRecord(9n, root("b9"))),
    );
    const a = await memoryProtection(onlyBlocks);
    expect(new TextDecoder().decode(await onlyBlocks.get(OLD_META, EPOCH_UNIT_KEY))).toBe("half-slot");
    expect(await codeOf(a.checkAndRecordBlock(PK, 9n, root("other")))).toBe("DOUBLE_PROPOSAL");

    const rootless = new MemoryStore();
    await rootless.write(
      new WriteBatch()
        .put(OLD_META, OLD_GENESIS_KEY, GENESIS)
        .put(OLD_ATTESTATIONS, PK, oldAttestationRecord(7n, 8n, 7n, 8n)),
    );
    const b = await memoryProtection(rootless);
    expect(await votesOf(b, PK)).toEqual([{ source_epoch: "14", target_epoch: "16" }]);
    expect(await codeOf(b.checkAndRecordAttestation(PK, att(7, 8)))).toBe("DOUBLE_VOTE"); // no root: no re-sign
  });

  it("DB_CORRUPT: an unknown epoch_unit, or a slot-unit record too large to double, is refused and nothing is written", async () => {
    const unknown = new MemoryStore();
    await unknown.write(
      new WriteBatch()
        .put(OLD_META, OLD_GENESIS_KEY, GENESIS)
        .put(OLD_META, EPOCH_UNIT_KEY, new TextEncoder().encode("quarter-slot"))
        .put(OLD_ATTESTATIONS, PK, oldAttestationRecord(3n, 4n, 3n, 4n)),
    );
    const unknownBefore = new Map(unknown.map);
    expect(await codeOf(memoryProtection(unknown))).toBe("DB_CORRUPT");
    expect(unknown.map).toEqual(unknownBefore);

    const tooLarge = new MemoryStore();
    await tooLarge.write(
      new WriteBatch()
        .put(OLD_META, OLD_GENESIS_KEY, GENESIS)
        .put(OLD_ATTESTATIONS, PK, oldAttestationRecord(3n, 4n, 3n, 4n))
        .put(OLD_ATTESTATIONS, PK2, oldAttestationRecord(1n, 1n << 63n, 1n, 1n << 63n)),
    );
    const tooLargeBefore = new Map(tooLarge.map);
    expect(await codeOf(memoryProtection(tooLarge))).toBe("DB_CORRUPT");
    expect(tooLarge.map).toEqual(tooLargeBefore); // PK's record was not doubled either: one batch or nothing
  });
});

describe("slashing protection: persistence", () => {
  it("survives closing and reopening the RocksDB: still refuses, still allows the identical re-sign", async () => {
    const dir = await tempDir();
    let sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    await sp.checkAndRecordBlock(PK, 5n, root("block5"));
    await sp.checkAndRecordAttestation(PK, att(1, 2, "vote"));
    await sp.close();

    sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    try {
      expect(await codeOf(sp.checkAndRecordBlock(PK, 5n, root("other")))).toBe("DOUBLE_PROPOSAL");
      expect(await codeOf(sp.checkAndRecordBlock(PK, 5n, root("block5")))).toBe("ok");
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(1, 2, "other")))).toBe("DOUBLE_VOTE");
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(0, 3)))).toBe("SURROUND_VOTE");
      expect(await codeOf(sp.checkAndRecordAttestation(PK, att(1, 2, "vote")))).toBe("ok");
    } finally {
      await sp.close();
    }
  });

  it("GENESIS_MISMATCH: a database created for one chain refuses to open for another", async () => {
    const dir = await tempDir();
    const sp = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    await sp.close();
    await expect(openSlashingProtection(dir, { genesisValidatorsRoot: OTHER_GENESIS })).rejects.toMatchObject({
      type: { code: "GENESIS_MISMATCH" },
    });
    // The failed open released the database: the right chain can still open it.
    const again = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    await again.close();
  });
});

describe("slashing protection: EIP-3076 interchange", () => {
  it("export writes half-slot epochs (a finalize vote at s as 2s → 2s+1); import into a fresh RocksDB refuses the same slashable messages", async () => {
    const src = await memoryProtection();
    await src.checkAndRecordBlock(PK, 40n, root("b40"));
    await src.checkAndRecordAttestation(PK, att(30, 39, "a"));
    await src.checkAndRecordAttestation(PK2, att(7, 8, "k2"));
    await src.checkAndRecordFinalizeVote(PK2, fin(8, "k2-fin"));
    const exported = await src.exportInterchange();
    expect(exported.metadata).toEqual({
      interchange_format_version: "5",
      genesis_validators_root: bytesToHex(GENESIS),
    });
    expect(exported.data).toEqual([
      {
        pubkey: bytesToHex(PK),
        signed_blocks: [{ slot: "40", signing_root: bytesToHex(root("b40")) }], // blocks stay in slots
        signed_attestations: [{ source_epoch: "60", target_epoch: "78", signing_root: bytesToHex(root("a")) }],
      },
      {
        pubkey: bytesToHex(PK2),
        signed_blocks: [],
        signed_attestations: [{ source_epoch: "16", target_epoch: "17", signing_root: bytesToHex(root("k2-fin")) }],
      },
    ]);

    const dir = await tempDir();
    const dst = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    try {
      expect(await dst.importInterchange(JSON.stringify(exported))).toEqual({ imported: 2 });
      expect(await codeOf(dst.checkAndRecordBlock(PK, 40n, root("x")))).toBe("DOUBLE_PROPOSAL");
      expect(await codeOf(dst.checkAndRecordBlock(PK, 39n, root("x")))).toBe("DOUBLE_PROPOSAL");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(30, 39, "b")))).toBe("DOUBLE_VOTE");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(29, 40)))).toBe("SURROUND_VOTE");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(31, 38)))).toBe("SURROUNDED_VOTE");
      expect(await codeOf(dst.checkAndRecordFinalizeVote(PK2, fin(8, "other")))).toBe("DOUBLE_VOTE");
      expect(await codeOf(dst.checkAndRecordAttestation(PK2, att(7, 8, "k2")))).toBe("ATTESTATION_BELOW_WATERMARK");
      expect(await codeOf(dst.checkAndRecordAttestation(PK2, att(6, 9)))).toBe("SURROUND_VOTE"); // (12, 18) ⊃ (16, 17)
      // Identical re-signs and genuinely new messages still go through.
      expect(await codeOf(dst.checkAndRecordBlock(PK, 40n, root("b40")))).toBe("ok");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(30, 39, "a")))).toBe("ok");
      expect(await codeOf(dst.checkAndRecordFinalizeVote(PK2, fin(8, "k2-fin")))).toBe("ok");
      expect(await codeOf(dst.checkAndRecordAttestation(PK2, att(8, 9)))).toBe("ok");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(39, 41)))).toBe("ok");
      // Importing the same document again is a no-op that must not roll anything back.
      await dst.importInterchange(JSON.stringify(exported));
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(39, 41, "again")))).toBe("DOUBLE_VOTE");
    } finally {
      await dst.close();
    }
  });

  it("import merges a complete-form history (half-slot epochs) into the minimal safe state (max slot, max source, max target)", async () => {
    const sp = await memoryProtection();
    await sp.checkAndRecordAttestation(PK, att(5, 6, "local")); // (10, 12)
    await sp.checkAndRecordBlock(PK, 7n, root("local-block"));
    const doc: InterchangeV5 = {
      metadata: { interchange_format_version: "5", genesis_validators_root: bytesToHex(GENESIS) },
      data: [
        {
          pubkey: bytesToHex(PK),
          signed_blocks: [{ slot: "3" }, { slot: "7", signing_root: bytesToHex(root("imported-block")) }],
          signed_attestations: [
            { source_epoch: "0", target_epoch: "1" }, // finalize vote at slot 0
            { source_epoch: "4", target_epoch: "20", signing_root: bytesToHex(root("imported")) }, // attestation (2, 10)
          ],
        },
      ],
    };
    await sp.importInterchange(JSON.stringify(doc));
    // Slot 7 was signed with two roots (locally and elsewhere): neither may be signed again.
    expect(await codeOf(sp.checkAndRecordBlock(PK, 7n, root("local-block")))).toBe("DOUBLE_PROPOSAL");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 8n, root("next")))).toBe("ok");
    // Max source 10 (from local (5, 6)) and max target 20 (from imported (2, 10)) are both kept, in half-slot epochs.
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 11)))).toBe("SURROUND_VOTE"); // surrounds (5, 6)
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(6, 7)))).toBe("SURROUNDED_VOTE"); // inside (2, 10)
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(2, 10, "imported")))).toBe("ok");

    // Both are exported (the second without a root) and survive another hop.
    const exported = await sp.exportInterchange();
    expect(exported.data[0].signed_attestations).toEqual([
      { source_epoch: "4", target_epoch: "20", signing_root: bytesToHex(root("imported")) },
      { source_epoch: "10", target_epoch: "12" },
    ]);
    const fresh = await memoryProtection();
    await fresh.importInterchange(new TextEncoder().encode(JSON.stringify(exported)));
    expect(await codeOf(fresh.checkAndRecordAttestation(PK, att(3, 11)))).toBe("SURROUND_VOTE");
    expect(await codeOf(fresh.checkAndRecordAttestation(PK, att(6, 7)))).toBe("SURROUNDED_VOTE");
    expect(await codeOf(fresh.checkAndRecordAttestation(PK, att(5, 11)))).toBe("ok");
  });

  it("GENESIS_MISMATCH: refuses an interchange from another chain", async () => {
    const sp = await memoryProtection();
    const doc = {
      metadata: { interchange_format_version: "5", genesis_validators_root: bytesToHex(OTHER_GENESIS) },
      data: [{ pubkey: bytesToHex(PK), signed_blocks: [{ slot: "100" }], signed_attestations: [] }],
    };
    expect(await codeOf(sp.importInterchange(JSON.stringify(doc)))).toBe("GENESIS_MISMATCH");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 50n, root(1)))).toBe("ok"); // nothing was imported
  });

  it("INTERCHANGE_INVALID / INTERCHANGE_TOO_LARGE: malformed documents are rejected and change nothing", async () => {
    const gvr = bytesToHex(GENESIS);
    const pk = bytesToHex(PK);
    const meta = { interchange_format_version: "5", genesis_validators_root: gvr };
    const good = { pubkey: pk, signed_blocks: [{ slot: "100" }], signed_attestations: [] };
    const bad: unknown[] = [
      "not json",
      "[]",
      "null",
      { data: [] },
      { metadata: { ...meta, interchange_format_version: "4" }, data: [] },
      { metadata: { ...meta, interchange_format_version: 5 }, data: [] },
      { metadata: { ...meta, genesis_validators_root: "0x1234" }, data: [] },
      { metadata: meta, data: {} },
      { metadata: meta, data: [good, { ...good, pubkey: "0x1234" }] },
      { metadata: meta, data: [good, { ...good, pubkey: `${pk.slice(0, -2)}zz` }] },
      { metadata: meta, data: [good, { ...good, signed_blocks: [{ slot: 100 }] }] },
      { metadata: meta, data: [good, { ...good, signed_blocks: [{ slot: "-1" }] }] },
      { metadata: meta, data: [good, { ...good, signed_blocks: [{ slot: "007" }] }] },
      { metadata: meta, data: [good, { ...good, signed_blocks: [{ slot: "18446744073709551616" }] }] },
      { metadata: meta, data: [good, { ...good, signed_blocks: [{ slot: "1", signing_root: "0xab" }] }] },
      { metadata: meta, data: [good, { ...good, signed_blocks: "nope" }] },
      { metadata: meta, data: [good, { ...good, signed_attestations: [{ source_epoch: "3", target_epoch: "2" }] }] },
      { metadata: meta, data: [good, { ...good, signed_attestations: [{ source_epoch: "1" }] }] },
      // Not half-slot grid links (an odd source; an odd target that is not source + 1): e.g. an old slot-unit file.
      { metadata: meta, data: [good, { ...good, signed_attestations: [{ source_epoch: "3", target_epoch: "4" }] }] },
      { metadata: meta, data: [good, { ...good, signed_attestations: [{ source_epoch: "2", target_epoch: "5" }] }] },
      { metadata: meta, data: [good, 7] },
    ];
    const sp = await memoryProtection();
    for (const doc of bad) {
      const text = typeof doc === "string" ? doc : JSON.stringify(doc);
      expect(await codeOf(sp.importInterchange(text)), text).toBe("INTERCHANGE_INVALID");
    }
    expect(await codeOf(sp.importInterchange(Uint8Array.of(0xff, 0xfe, 0x7b)))).toBe("INTERCHANGE_INVALID");
    // The first entry of each rejected document was valid, yet nothing of it was written.
    expect(await codeOf(sp.checkAndRecordBlock(PK, 50n, root(1)))).toBe("ok");

    const small = await createSlashingProtection(
      { genesisValidatorsRoot: GENESIS, maxInterchangeBytes: 256 },
      { db: new MemoryStore() },
    );
    const big = JSON.stringify({ metadata: meta, data: [good, good, good] });
    expect(await codeOf(small.importInterchange(big))).toBe("INTERCHANGE_TOO_LARGE");
  });

  it("parseInterchange on arbitrary JSON and mangled documents: a typed error or a valid result, never a crash", () => {
    const valid = JSON.stringify({
      metadata: { interchange_format_version: "5", genesis_validators_root: bytesToHex(GENESIS) },
      data: [
        {
          pubkey: bytesToHex(PK),
          signed_blocks: [{ slot: "1", signing_root: bytesToHex(root(1)) }],
          signed_attestations: [{ source_epoch: "0", target_epoch: "1" }],
        },
      ],
    });
    expect(parseInterchange(valid, 1 << 20).keys.size).toBe(1);
    const input = fc.oneof(
      fc.json(),
      fc.string(),
      fc
        .tuple(fc.nat({ max: valid.length - 1 }), fc.nat({ max: 40 }), fc.string({ maxLength: 4 }))
        .map(([at, cut, ins]) => valid.slice(0, at) + ins + valid.slice(at + cut)),
    );
    fc.assert(
      fc.property(input, (text) => {
        try {
          parseInterchange(text, 1 << 20);
        } catch (e) {
          expect(e).toBeInstanceOf(SlashingProtectionError);
          expect(["INTERCHANGE_INVALID", "INTERCHANGE_TOO_LARGE"]).toContain((e as SlashingProtectionError).type.code);
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});
