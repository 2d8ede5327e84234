// A validator node stopped and started again on its datadir resumes consensus where it was: the finalized and the
// justified checkpoints survive the restart. Neither can be rebuilt from blocks: the votes that justified the head's
// slot are in no block yet, and finalize votes are never in blocks (the head's slot is finalized within the slot by
// them), while the validator already used that checkpoint as the source of its finalize vote.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { RustChainNode } from "./node.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a node restarted on its datadir", () => {
  it("resumes with the finalized and justified checkpoints it had, and keeps finalizing", async () => {
    const datadir = await mkdtemp(join(tmpdir(), "rustchain-restart-"));
    dirs.push(datadir);
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(21));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    );
    const start = () =>
      RustChainNode.start(
        { datadir, genesis, secretKey: validator.secretKey, rpc: { host: "127.0.0.1", port: 0 } },
        pino({ level: "silent" }),
      );

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
});
