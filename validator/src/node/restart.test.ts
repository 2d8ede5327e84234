// A validator node stopped and started again on its datadir resumes consensus where it was: the finalized and the
// justified checkpoints survive the restart. Neither can be rebuilt from blocks: the votes that justified the head's
// slot are in no block yet, and finalize votes are never in blocks (the head's slot is finalized within the slot by
// them), while the validator already used that checkpoint as the source of its finalize vote.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, bytesToHex, hexToBytes, parseGenesis } from "@rustchain/shared";
import { verifyCertificateChain } from "@rustchain/shared/consensus/certificateVerifier";
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { CHECKPOINT_META_KEYS } from "../db/checkpointStore.ts";
import { Bucket, Database, WriteBatch } from "../db/database.ts";
import { RustChainNode } from "./node.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A one-validator chain (250 ms slots) in a fresh datadir, and how to start its node (again) on that datadir. */
async function singleValidatorNode(seed: number) {
  const datadir = await mkdtemp(join(tmpdir(), "rustchain-restart-"));
  dirs.push(datadir);
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(seed));
  const genesis = parseGenesis(
    devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
  );
  const start = () =>
    RustChainNode.start(
      { datadir, genesis, secretKey: validator.secretKey, rpc: { host: "127.0.0.1", port: 0 } },
      pino({ level: "silent" }),
    );
  return { datadir, genesis, start };
}

describe("a node restarted on its datadir", () => {
  it("resumes with the finalized and justified checkpoints it had, and keeps finalizing", async () => {
    const { start } = await singleValidatorNode(21);

    const first = await start();
    for (let i = 0; i < 80 && (await first.engine.status()).finalized.slot < 6; i++) await sleep(100);
    expect((await first.engine.status()).finalized.slot).toBeGreaterThanOrEqual(6);
    // Stop just after the validator voted for the head's own slot: its attestation justified the slot and its
    // finalize vote finalized it, within the slot; no block carries either vote.
    const votedOnHead = () => first.consensus.finality.finalized.slot === Number(first.chain.head.slot);
    for (let i = 0; i < 500 && !votedOnHead(); i++) await sleep(5);
    expect(votedOnHead()).toBe(true);
    await first.stop();
    // What the node knew when it stopped (the trackers stay readable in memory).
    const justified = first.consensus.finality.justified;
    const finalized = first.consensus.finality.finalized;
    expect(justified).toEqual(finalized);

    const second = await start();
    try {
      const restored = await second.engine.status();
      expect({ slot: restored.justified.slot, root: restored.justified.root }).toEqual(justified);
      expect({ slot: restored.finalized.slot, root: restored.finalized.root }).toEqual(finalized);
      // RPC tags name these blocks at once, not genesis until the next justification.
      expect(second.consensus.finalizedNumber).toBe(restored.finalized.number);
      expect(second.consensus.finalizedNumber).toBeGreaterThan(0n);
      // And the validator keeps voting (its slashing protection accepts the restored source): finality moves on.
      for (let i = 0; i < 80 && (await second.engine.status()).finalized.slot <= justified.slot; i++) await sleep(100);
      expect((await second.engine.status()).finalized.slot).toBeGreaterThan(justified.slot);
    } finally {
      await second.stop();
    }
  });

  it("re-finalizes from stored blocks when the finalized checkpoint was never written, recording every certificate", async () => {
    // A crash between a finalization and its write, as bad as it gets: neither checkpoint is on disk. Replaying the
    // stored blocks' votes finalizes again, and each of those finalizations is recorded with its certificate, so the
    // node's certificate chain still verifies from genesis (the chain a syncing node walks).
    const { datadir, genesis, start } = await singleValidatorNode(22);
    const first = await start();
    for (let i = 0; i < 80 && (await first.engine.status()).finalized.slot < 8; i++) await sleep(100);
    const before = first.consensus.finality.finalized;
    expect(before.slot).toBeGreaterThanOrEqual(8);
    await first.stop();
    const db = await Database.open(join(datadir, "chaindata"));
    await db.write(
      new WriteBatch()
        .del(Bucket.meta, CHECKPOINT_META_KEYS.finalized)
        .del(Bucket.meta, CHECKPOINT_META_KEYS.justified),
    );
    await db.close();

    const second = await start();
    try {
      // Restored by replay: the 2-chain rule over the votes blocks carry (slot s's attestations are in slot s + 1's
      // block, and finalize slot s - 1), so up to two slots behind what finalize votes had reached.
      const restored = second.consensus.finality.finalized;
      expect(restored.slot).toBeGreaterThanOrEqual(before.slot - 2);
      // Let a few more slots finalize, then walk the certificates back from the finalized block and verify them.
      for (let i = 0; i < 40 && second.consensus.finality.finalized.slot < restored.slot + 3; i++) await sleep(100);
      const rpc = async (method: string, params: unknown[]) => {
        const r = await fetch(second.rpc.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        });
        return ((await r.json()) as { result: unknown }).result;
      };
      // The whole chain, in slot order, 64 at a time (rustchain_getFinalityCertificates).
      const chain: string[] = [];
      for (let from = 0n; chain.length < 10_000; ) {
        const batch = (await rpc("rustchain_getFinalityCertificates", [`0x${from.toString(16)}`, "0x40"])) as string[];
        chain.push(...batch);
        if (batch.length < 64) break;
        from = BigInt(decodeFinalityCertificate(hexToBytes(batch.at(-1)!)).checkpoint.slot + 1);
      }
      const latest = second.consensus.finality.finalized;
      const verified = await verifyCertificateChain(
        { chainId: genesis.params.chainId, validators: genesis.validators, crypto: nativeCertificateCrypto },
        { checkpoint: { slot: 0, root: bytesToHex(second.chain.genesisHash) } },
        chain.map((c) => hexToBytes(c)),
      );
      expect(verified.at(-1)?.checkpoint.slot).toBeGreaterThanOrEqual(latest.slot - 1);
      // Every finalization has its certificate, the replayed ones (link kind) included.
      const kinds = chain.map((c) => decodeFinalityCertificate(hexToBytes(c)).kind);
      expect(kinds).toContain("link");
      // Not sparse: on a loaded machine some slots have no block and finalize nothing, so allow for skipped slots.
      expect(verified.length).toBeGreaterThanOrEqual(before.slot / 3);
    } finally {
      await second.stop();
    }
  });
});
