// `rustchain slashing-protection export|import`: move a validator's signing history between machines in the EIP-3076
// v5 interchange format, so a migrated validator never signs something it already signed elsewhere. Run it with the
// node stopped (the databases are single-writer).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { openSlashingProtection } from "../consensus/validatorDuties/slashingProtection.ts";
import { Bucket, Database } from "../db/database.ts";
import { loadGenesisFile } from "../node/node.ts";
import { genesisValidatorsRoot } from "../signer/genesisRoot.ts";

/**
 * The genesis hash that binds the interchange file to one chain: computed from `--genesis` when given (a remote
 * signer's datadir holds no chain), else read from the datadir's chain.
 */
async function genesisRootOf(datadir: string, genesisFile?: string): Promise<Uint8Array> {
  if (genesisFile) return genesisValidatorsRoot(await loadGenesisFile(genesisFile));
  let db: Database;
  try {
    db = await Database.open(join(datadir, "chaindata"));
  } catch (e) {
    throw new Error(`cannot open ${datadir}/chaindata (${(e as Error).message}); is the node still running?`);
  }
  try {
    const root = await db.get(Bucket.meta, new TextEncoder().encode("genesis"));
    if (!root) throw new Error(`${datadir} has no chain yet: start the node on it once first`);
    return root;
  } finally {
    await db.close();
  }
}

export function registerSlashingProtectionCommand(program: Command): void {
  const sp = program
    .command("slashing-protection")
    .description(
      "export or import the slashing-protection history (EIP-3076 interchange v5; epochs are half-slots: an " +
        "attestation S->T is (2S, 2T), a finalize vote at s is (2s, 2s+1); files exported before finalize votes " +
        "existed carry slots and must be re-exported from an upgraded node)",
    );
  sp.command("export")
    .description("write this datadir's signing history as an EIP-3076 v5 JSON file")
    .requiredOption("--datadir <dir>", "the validator's data directory (node stopped)")
    .requiredOption("--out <file>", "where to write the interchange JSON")
    .option("--genesis <file>", "the chain's genesis file (for a remote signer's datadir, which holds no chain)")
    .action(async (o) => {
      const datadir = resolve(o.datadir);
      const protection = await openSlashingProtection(datadir, {
        genesisValidatorsRoot: await genesisRootOf(datadir, o.genesis),
      });
      try {
        const doc = await protection.exportInterchange();
        await writeFile(o.out, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
        console.log(`exported ${doc.data.length} key(s) to ${o.out}`);
      } finally {
        await protection.close();
      }
    });
  sp.command("import")
    .description("merge an EIP-3076 v5 JSON file into this datadir's slashing-protection database")
    .requiredOption("--datadir <dir>", "the validator's data directory (node stopped)")
    .requiredOption("--file <file>", "the interchange JSON to import")
    .option("--genesis <file>", "the chain's genesis file (for a remote signer's datadir, which holds no chain)")
    .action(async (o) => {
      const datadir = resolve(o.datadir);
      // A signer's datadir may not exist yet: the history is its first content.
      if (o.genesis) await mkdir(datadir, { recursive: true, mode: 0o700 });
      const protection = await openSlashingProtection(datadir, {
        genesisValidatorsRoot: await genesisRootOf(datadir, o.genesis),
      });
      try {
        const { imported } = await protection.importInterchange(await readFile(o.file));
        console.log(`imported the history of ${imported} key(s)`);
      } finally {
        await protection.close();
      }
    });
}
