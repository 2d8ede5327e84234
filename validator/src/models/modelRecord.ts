// The one owner of `<datadir>/models/<cid>.json`: what this node knows about a model it archived — its CID, its CAR's
// size and piece CID, and the deals (storage-provider references) made for that CAR, newest last.
// Written whole to a temporary file and renamed, so a crash leaves the old record or the new one, never half of one.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CID } from "multiformats/cid";

/** A storage service's reference for one stored CAR; `reference` is the service's own identifiers, as JSON. */
export interface ArchiveDeal {
  /** Service name, e.g. "filecoin-onchain-cloud". */
  service: string;
  /** The piece CID (v2) the service reports for what it stored. */
  pieceCid: string;
  reference: Record<string, unknown>;
  /** ISO 8601 time the service confirmed the store. */
  at: string;
}

export interface ModelRecord {
  version: 1;
  cid: string;
  modelSize: number;
  carSize: number;
  /** v2 piece CID of the CAR (FRC-0069). */
  pieceCid: string;
  /** v1 piece CID (lotus) of the same CAR, with the padded piece size a deal proposal carries. */
  pieceCidV1: string;
  pieceSize: number;
  deals: ArchiveDeal[];
}

export function modelRecordPath(datadir: string, cid: CID | string): string {
  return join(datadir, "models", `${cid.toString()}.json`);
}

/** The record, or undefined when this datadir has none for `cid`. */
export async function readModelRecord(datadir: string, cid: CID | string): Promise<ModelRecord | undefined> {
  let text: string;
  try {
    text = await readFile(modelRecordPath(datadir, cid), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return JSON.parse(text) as ModelRecord;
}

export async function writeModelRecord(datadir: string, record: ModelRecord): Promise<string> {
  const path = modelRecordPath(datadir, record.cid);
  await mkdir(join(datadir, "models"), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, path);
  return path;
}
