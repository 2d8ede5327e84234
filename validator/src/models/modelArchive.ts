// The archive step for a model: CID, CAR and piece CID computed here; then, when a storage service is configured,
// the CAR handed to it and its deal reference recorded next to the model's CID (modelRecord.ts). Without a service
// nothing leaves the machine and the record carries no deal.
import { ModelError } from "./errors.ts";
import { modelPiece } from "./modelCar.ts";
import { type ArchiveDeal, type ModelRecord, readModelRecord, writeModelRecord } from "./modelRecord.ts";
import { pieceCidV1 } from "./pieceCid.ts";

export interface ArchiveRequest {
  modelCid: string;
  /** v2 piece CID computed here; a service that reports another one stored other bytes. */
  pieceCid: string;
  car: Uint8Array;
}

/** A storage service for model CARs (Filecoin Onchain Cloud in focArchive.ts; a fake in tests). */
export interface ModelArchive {
  readonly service: string;
  store(request: ArchiveRequest): Promise<ArchiveDeal>;
}

export interface ArchiveModelResult {
  record: ModelRecord;
  recordPath: string;
  car: Uint8Array;
}

/**
 * Computes the model's CID, CAR and piece CID, stores the CAR with `archive` when one is given, and writes
 * `<datadir>/models/<cid>.json`. A service that answers with another piece CID is `ARCHIVE_PIECE_MISMATCH`, and its
 * answer is not recorded.
 */
export async function archiveModel(
  model: Uint8Array,
  opts: { datadir: string },
  modules: { archive?: ModelArchive } = {},
): Promise<ArchiveModelResult> {
  const { cid, car, piece, pieceCid } = await modelPiece(model);
  const previous = await readModelRecord(opts.datadir, cid);
  const deals = [...(previous?.deals ?? [])];
  if (modules.archive) {
    const deal = await modules.archive.store({ modelCid: cid.toString(), pieceCid: pieceCid.toString(), car });
    if (deal.pieceCid !== pieceCid.toString()) {
      throw new ModelError({ code: "ARCHIVE_PIECE_MISMATCH", expected: pieceCid.toString(), got: deal.pieceCid });
    }
    deals.push(deal);
  }
  const record: ModelRecord = {
    version: 1,
    cid: cid.toString(),
    modelSize: model.length,
    carSize: car.length,
    pieceCid: pieceCid.toString(),
    pieceCidV1: pieceCidV1(piece).toString(),
    pieceSize: piece.paddedSize,
    deals,
  };
  const recordPath = await writeModelRecord(opts.datadir, record);
  return { record, recordPath, car };
}
