// Slashing protection refuses every double proposal, double vote and surround vote, keeps refusing after a restart and
// after an EIP-3076 export → import into a fresh database, and rejects bad interchange documents without changing
// anything.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake3, bytesToHex } from "@rustchain/shared";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { BucketId, WriteBatch } from "../../db/database.ts";
import {
  type AttestationRequest,
  createSlashingProtection,
  defaultSlashingProtectionOptions,
  type InterchangeV5,
  openSlashingProtection,
  parseInterchange,
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

const memoryProtection = () =>
  createSlashingProtection(
    { ...defaultSlashingProtectionOptions, genesisValidatorsRoot: GENESIS },
    { db: new MemoryStore() },
  );

async function codeOf(p: Promise<unknown>): Promise<SlashingProtectionErrorType["code"] | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof SlashingProtectionError) return e.type.code;
    throw e;
  }
}

const att = (sourceEpoch: number, targetEpoch: number, tag: string | number = `${sourceEpoch}-${targetEpoch}`) =>
  ({
    sourceEpoch: BigInt(sourceEpoch),
    targetEpoch: BigInt(targetEpoch),
    signingRoot: root(tag),
  }) satisfies AttestationRequest;

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

  it("INVALID_REQUEST: wrong pubkey or root length, slot outside u64", async () => {
    const sp = await memoryProtection();
    expect(await codeOf(sp.checkAndRecordBlock(PK.subarray(1), 1n, root(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 1n, root(1).subarray(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordBlock(PK, -1n, root(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 1n << 64n, root(1)))).toBe("INVALID_REQUEST");
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 2)))).toBe("INVALID_REQUEST");
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
    } finally {
      await sp.close();
    }
  });

  it("pairwise non-slashable: random request sequences (with export/import hops) never accept two slashable votes", async () => {
    const request = fc.record({
      key: fc.integer({ min: 0, max: 1 }),
      source: fc.integer({ min: 0, max: 24 }),
      span: fc.integer({ min: 0, max: 8 }),
      tag: fc.integer({ min: 0, max: 2 }),
      hop: fc.integer({ min: 0, max: 19 }), // 0: move to a fresh store through export → JSON → import
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 60 }), async (reqs) => {
        let sp = await memoryProtection();
        const accepted: { key: number; s: bigint; t: bigint; tag: number }[] = [];
        for (const r of reqs) {
          if (r.hop === 0) {
            const doc = JSON.stringify(await sp.exportInterchange());
            sp = await memoryProtection();
            await sp.importInterchange(doc);
          }
          const a = att(r.source, r.source + r.span, r.tag);
          const code = await codeOf(sp.checkAndRecordAttestation(pubkey(r.key), a));
          const mine = accepted.filter((x) => x.key === r.key);
          if (code === "ok") {
            const isRepeat = mine.some((x) => x.s === a.sourceEpoch && x.t === a.targetEpoch && x.tag === r.tag);
            if (!isRepeat) accepted.push({ key: r.key, s: a.sourceEpoch, t: a.targetEpoch, tag: r.tag });
            continue;
          }
          // Every precise refusal names a real conflict with something accepted before.
          const s = a.sourceEpoch;
          const t = a.targetEpoch;
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
  it("export → import into a fresh RocksDB refuses the same slashable messages", async () => {
    const src = await memoryProtection();
    await src.checkAndRecordBlock(PK, 40n, root("b40"));
    await src.checkAndRecordAttestation(PK, att(30, 39, "a"));
    await src.checkAndRecordAttestation(PK2, att(7, 8, "k2"));
    const exported = await src.exportInterchange();
    expect(exported.metadata).toEqual({
      interchange_format_version: "5",
      genesis_validators_root: bytesToHex(GENESIS),
    });
    expect(exported.data).toContainEqual({
      pubkey: bytesToHex(PK),
      signed_blocks: [{ slot: "40", signing_root: bytesToHex(root("b40")) }],
      signed_attestations: [{ source_epoch: "30", target_epoch: "39", signing_root: bytesToHex(root("a")) }],
    });

    const dir = await tempDir();
    const dst = await openSlashingProtection(dir, { genesisValidatorsRoot: GENESIS });
    try {
      expect(await dst.importInterchange(JSON.stringify(exported))).toEqual({ imported: 2 });
      expect(await codeOf(dst.checkAndRecordBlock(PK, 40n, root("x")))).toBe("DOUBLE_PROPOSAL");
      expect(await codeOf(dst.checkAndRecordBlock(PK, 39n, root("x")))).toBe("DOUBLE_PROPOSAL");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(30, 39, "b")))).toBe("DOUBLE_VOTE");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(29, 40)))).toBe("SURROUND_VOTE");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(31, 38)))).toBe("SURROUNDED_VOTE");
      expect(await codeOf(dst.checkAndRecordAttestation(PK2, att(7, 8, "other")))).toBe("DOUBLE_VOTE");
      // Identical re-signs and genuinely new messages still go through.
      expect(await codeOf(dst.checkAndRecordBlock(PK, 40n, root("b40")))).toBe("ok");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(30, 39, "a")))).toBe("ok");
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(39, 41)))).toBe("ok");
      // Importing the same document again is a no-op that must not roll anything back.
      await dst.importInterchange(JSON.stringify(exported));
      expect(await codeOf(dst.checkAndRecordAttestation(PK, att(39, 41, "again")))).toBe("DOUBLE_VOTE");
    } finally {
      await dst.close();
    }
  });

  it("import merges a complete-form history into the minimal safe state (max slot, max source, max target)", async () => {
    const sp = await memoryProtection();
    await sp.checkAndRecordAttestation(PK, att(5, 6, "local"));
    await sp.checkAndRecordBlock(PK, 7n, root("local-block"));
    const doc: InterchangeV5 = {
      metadata: { interchange_format_version: "5", genesis_validators_root: bytesToHex(GENESIS) },
      data: [
        {
          pubkey: bytesToHex(PK),
          signed_blocks: [{ slot: "3" }, { slot: "7", signing_root: bytesToHex(root("imported-block")) }],
          signed_attestations: [
            { source_epoch: "0", target_epoch: "1" },
            { source_epoch: "2", target_epoch: "10", signing_root: bytesToHex(root("imported")) },
          ],
        },
      ],
    };
    await sp.importInterchange(JSON.stringify(doc));
    // Slot 7 was signed with two roots (locally and elsewhere): neither may be signed again.
    expect(await codeOf(sp.checkAndRecordBlock(PK, 7n, root("local-block")))).toBe("DOUBLE_PROPOSAL");
    expect(await codeOf(sp.checkAndRecordBlock(PK, 8n, root("next")))).toBe("ok");
    // Max source 5 (from local (5, 6)) and max target 10 (from imported (2, 10)) are both kept.
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(3, 11)))).toBe("SURROUND_VOTE"); // surrounds (5, 6)
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(6, 7)))).toBe("SURROUNDED_VOTE"); // inside (2, 10)
    expect(await codeOf(sp.checkAndRecordAttestation(PK, att(2, 10, "imported")))).toBe("ok");

    // Both are exported (the second without a root) and survive another hop.
    const exported = await sp.exportInterchange();
    expect(exported.data[0].signed_attestations).toEqual([
      { source_epoch: "2", target_epoch: "10", signing_root: bytesToHex(root("imported")) },
      { source_epoch: "5", target_epoch: "6" },
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
