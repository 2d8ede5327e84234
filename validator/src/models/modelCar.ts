// A model as a CARv1 (the IPLD content-archive format Filecoin deals and IPFS gateways carry): the header names the
// model CID as the single root, then every block of the model's DAG depth-first from the root, each once. With that
// order the bytes, hence the piece CID, are a function of the model alone: `ipfs dag export <cid>` writes the same.
import { CarWriter } from "@ipld/car/writer";
import type { CID } from "multiformats/cid";
import { IPFS_DEFAULT_LAYOUT, type ModelDagLayout, modelDag } from "./modelCid.ts";
import { type PieceCommitment, pieceCidV2, pieceCommitment } from "./pieceCid.ts";

export async function modelCar(
  model: Uint8Array,
  layout: ModelDagLayout = IPFS_DEFAULT_LAYOUT,
): Promise<{ cid: CID; car: Uint8Array }> {
  const dag = modelDag(model, layout);
  const { writer, out } = CarWriter.create([dag.root]);
  const chunks: Uint8Array[] = [];
  const collected = (async () => {
    for await (const chunk of out) chunks.push(chunk);
  })();
  for (const block of dag.blocks) await writer.put(block);
  await writer.close();
  await collected;
  const car = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    car.set(chunk, offset);
    offset += chunk.length;
  }
  return { cid: dag.root, car };
}

/** Everything the archive step needs from a model: its CID, its CAR and the CAR's piece commitment. */
export interface ModelPiece {
  cid: CID;
  car: Uint8Array;
  piece: PieceCommitment;
  /** v2 piece CID of the CAR. */
  pieceCid: CID;
}

export async function modelPiece(model: Uint8Array): Promise<ModelPiece> {
  const { cid, car } = await modelCar(model);
  const piece = pieceCommitment(car);
  return { cid, car, piece, pieceCid: pieceCidV2(piece) };
}
