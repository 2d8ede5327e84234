// `rustchain model cid|car|archive`: a model file's CID, its CAR with the piece CID, and the archive step that records
// them (and, with a storage service configured, the deal reference) in <datadir>/models/<cid>.json (docs/models.md).
// Nothing leaves the machine unless `--archive foc` is given.
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { createFocArchive, type FocNetwork } from "../models/focArchive.ts";
import { archiveModel, type ModelArchive } from "../models/modelArchive.ts";
import { modelPiece } from "../models/modelCar.ts";
import { modelCid } from "../models/modelCid.ts";

async function readPrivateKey(file: string): Promise<`0x${string}`> {
  const text = (await readFile(file, "utf8")).trim();
  const hex = text.startsWith("0x") ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new InvalidArgumentError(`--foc-key-file ${file}: expected a 32-byte hex private key`);
  }
  return hex as `0x${string}`;
}

export function registerModelCommand(program: Command): void {
  const model = program
    .command("model")
    .description("AI models by content address: CID, CAR and Filecoin piece CID, archive to Filecoin (docs/models.md)");

  model
    .command("cid <file>")
    .description("print the model's CID (UnixFS, CIDv1, raw leaves, sha2-256: what `ipfs add --cid-version=1` gives)")
    .action(async (file: string) => {
      console.log(modelCid(await readFile(file)).toString());
    });

  model
    .command("car <file>")
    .description("write the model as a CARv1 rooted at its CID and print the CAR's piece CID")
    .requiredOption("--out <file>", "where to write the CAR")
    .action(async (file: string, o: { out: string }) => {
      const { cid, car, piece, pieceCid } = await modelPiece(await readFile(file));
      await writeFile(o.out, car);
      console.log(`cid ${cid}\npiece ${pieceCid}\ncar ${car.length} bytes, piece size ${piece.paddedSize}`);
    });

  model
    .command("archive <file>")
    .description(
      "compute the model's CID, CAR and piece CID, store the CAR with --archive, record all in <datadir>/models",
    )
    .requiredOption("--datadir <dir>", "the node's data directory")
    .addOption(
      new Option("--archive <service>", "storage service for the CAR: none, or foc (Filecoin Onchain Cloud)")
        .choices(["none", "foc"])
        .default("none"),
    )
    .addOption(
      new Option("--foc-network <name>", "FOC network").choices(["calibration", "mainnet"]).default("calibration"),
    )
    .option("--foc-rpc-url <url>", "Filecoin JSON-RPC URL (default: the SDK's public endpoint for the network)")
    .option(
      "--foc-key-file <file>",
      "file holding the paying wallet's hex private key (USDFC for storage, FIL for gas)",
    )
    .option("--car <file>", "also write the CAR here")
    .action(
      async (
        file: string,
        o: {
          datadir: string;
          archive: string;
          focNetwork: FocNetwork;
          focRpcUrl?: string;
          focKeyFile?: string;
          car?: string;
        },
      ) => {
        let archive: ModelArchive | undefined;
        if (o.archive === "foc") {
          if (!o.focKeyFile) throw new InvalidArgumentError("--archive foc needs --foc-key-file");
          archive = createFocArchive({
            network: o.focNetwork,
            rpcUrl: o.focRpcUrl,
            privateKey: await readPrivateKey(o.focKeyFile),
          });
        }
        const { record, recordPath, car } = await archiveModel(
          await readFile(file),
          { datadir: resolve(o.datadir) },
          { archive },
        );
        if (o.car) await writeFile(o.car, car);
        const deal = record.deals.at(-1);
        console.log(`cid ${record.cid}\npiece ${record.pieceCid}\ncar ${record.carSize} bytes\nrecord ${recordPath}`);
        console.log(
          archive ? `deal ${deal?.service} ${JSON.stringify(deal?.reference)}` : "deal none (no --archive service)",
        );
      },
    );
}
