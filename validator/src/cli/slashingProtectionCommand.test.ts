// `rustchain slashing-protection import --genesis`: a node's signing history moved into a remote signer's datadir
// (which holds no chain), run as an operator runs it; the signer's database then refuses what the node signed.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { blsKeypairFromSeed, parseGenesis } from "@rustchain/shared";
import { afterAll, describe, expect, it } from "vitest";
import { openSlashingProtection } from "../consensus/validatorDuties/slashingProtection.ts";
import { genesisValidatorsRoot } from "../signer/genesisRoot.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "./devnetGenesis.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe("rustchain slashing-protection import --genesis", () => {
  it("moves a node's history into a signer's datadir, which then refuses a conflicting block", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rustchain-sp-"));
    dirs.push(dir);
    const key = blsKeypairFromSeed(new Uint8Array(32).fill(5));
    const genesisJson = devnetGenesis([{ secretKey: key.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 1000);
    const genesisPath = join(dir, "genesis.json");
    await writeFile(genesisPath, JSON.stringify(genesisJson));
    const root = await genesisValidatorsRoot(parseGenesis(genesisJson));
    // The node's history: one block at slot 7.
    await mkdir(join(dir, "node"));
    const node = await openSlashingProtection(join(dir, "node"), { genesisValidatorsRoot: root });
    await node.checkAndRecordBlock(key.publicKey, 7n, new Uint8Array(32).fill(1));
    await writeFile(join(dir, "history.json"), JSON.stringify(await node.exportInterchange()));
    await node.close();

    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, "bin/rustchain.js"),
        "slashing-protection",
        "import",
        "--datadir",
        join(dir, "signer"),
        "--genesis",
        genesisPath,
        "--file",
        join(dir, "history.json"),
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("imported the history of 1 key(s)");
    const signer = await openSlashingProtection(join(dir, "signer"), { genesisValidatorsRoot: root });
    await expect(signer.checkAndRecordBlock(key.publicKey, 7n, new Uint8Array(32).fill(2))).rejects.toThrow();
    await signer.close();
  }, 60_000);
});
