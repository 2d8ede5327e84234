// A validator node stopped and started again on its datadir resumes consensus where it was: the finalized and the
// justified checkpoints survive the restart. The justified one matters most: the votes that justified it may only have
// been gossiped (the last slot's votes are in no block yet), so replaying blocks cannot rebuild it, while the
// validator may already have used it as the source of a vote.
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
    // Stop just after the validator voted for the head's own slot: that vote justified the slot, and no block
    // carries it yet (the next block would).
    const votedOnHead = () => first.engine.finality.justified.slot === Number(first.chain.head.slot);
    for (let i = 0; i < 500 && !votedOnHead(); i++) await sleep(5);
    expect(votedOnHead()).toBe(true);
    await first.stop();
    // What the node knew when it stopped (the trackers stay readable in memory).
    const justified = first.engine.finality.justified;
    const finalized = first.engine.finality.finalized;
    expect(justified.slot).toBeGreaterThan(finalized.slot);

    const second = await start();
    try {
      const restored = await second.engine.status();
      expect({ slot: restored.justified.slot, root: restored.justified.root }).toEqual(justified);
      expect({ slot: restored.finalized.slot, root: restored.finalized.root }).toEqual(finalized);
      // RPC tags name these blocks at once, not genesis until the next justification.
      expect(second.engine.finalizedNumber).toBe(restored.finalized.number);
      expect(second.engine.finalizedNumber).toBeGreaterThan(0n);
      // And the validator keeps voting (its slashing protection accepts the restored source): finality moves on.
      for (let i = 0; i < 80 && (await second.engine.status()).finalized.slot <= justified.slot; i++) await sleep(100);
      expect((await second.engine.status()).finalized.slot).toBeGreaterThan(justified.slot);
    } finally {
      await second.stop();
    }
  });
});
