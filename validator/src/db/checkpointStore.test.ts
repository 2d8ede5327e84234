// The stored finality certificates stay one chain: a certificate whose parent is older than the latest stored one
// replaces the certificates in between, and the block-number index forgets them with it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsAggregateSignatures, blsPublicKey, blsSign } from "@rustchain/shared/bls";
import {
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
} from "@rustchain/shared/consensus/finalityCertificate";
import { buildCertificateFixture } from "@rustchain/shared/consensus/testCertificates";
import { blake3 } from "@rustchain/shared/hash";
import { afterEach, describe, expect, it } from "vitest";
import { CheckpointStore } from "./checkpointStore.ts";
import { Database } from "./database.ts";

const STAKE = 32n * 10n ** 18n;
const registry = Array.from({ length: 4 }, () => ({ stake: STAKE, aiScoreBps: 0, slashed: false }));

let db: Database | undefined;
let dir: string | undefined;
afterEach(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("CheckpointStore certificates", () => {
  it("a certificate with an older parent replaces the stored certificates between its parent and itself", async () => {
    const f = await buildCertificateFixture(
      { blake3, blsSign, blsPublicKey, blsAggregateSignatures },
      {
        chainId: 21076n,
        validatorCount: 4,
        steps: [0, 1, 2, 3, 4].map((i) => ({ registry, ...(i > 0 && { kind: "link", signers: [0, 1, 2] }) })),
      },
    );
    dir = await mkdtemp(join(tmpdir(), "rustchain-checkpoints-"));
    db = await Database.open(dir);
    const store = new CheckpointStore(db);
    const [c1, c2, c3] = f.certificates as [FinalityCertificate, FinalityCertificate, FinalityCertificate];
    for (const [i, c] of [c1, c2, c3].entries()) {
      await store.writeFinalized(c.checkpoint, { number: c.header.number, encoded: f.encoded[i] as Uint8Array });
    }
    expect((await store.certificatesFrom(0, 10)).map((c) => c.slot)).toEqual([1, 2, 3]);

    // Checkpoint 3 finalized again with checkpoint 1 as its parent (as a replay of stored blocks' votes does).
    const relinked = encodeFinalityCertificate({ ...c3, parent: c2.parent, parentHeader: c2.parentHeader });
    await store.writeFinalized(c3.checkpoint, { number: c3.header.number, encoded: relinked });

    const stored = await store.certificatesFrom(0, 10);
    expect(stored.map((c) => c.slot)).toEqual([1, 3]);
    // Each names the one before it.
    const [first, second] = stored.map((c) => decodeFinalityCertificate(c.encoded));
    expect(second?.parent).toEqual(first?.checkpoint);
    // Block 2 is now proven final by checkpoint 3's certificate, not by the dropped one.
    expect((await store.certificateCovering(c2.header.number))?.slot).toBe(3);

    // A certificate extending the latest one drops nothing.
    const c4 = f.certificates[3] as FinalityCertificate;
    await store.writeCertificate(c4.checkpoint.slot, c4.header.number, f.encoded[3] as Uint8Array);
    expect((await store.certificatesFrom(0, 10)).map((c) => c.slot)).toEqual([1, 3, 4]);
  });
});
