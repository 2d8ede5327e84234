// A model's CID and CAR: the CID must be the one any IPFS tool computes for the same bytes (checked against
// ipfs-unixfs-importer, the importer helia uses), and the CAR must carry exactly the model's blocks under that root.

import { randomBytes } from "node:crypto";
import { CarReader } from "@ipld/car/reader";
import { CODEC_RAW } from "@rustchain/shared/content/trustlessGateway";
import { MemoryBlockstore } from "blockstore-core/memory";
import { importBytes } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { devnetAiModel } from "../consensus/ai/devnetModel.ts";
import { ModelError } from "./errors.ts";
import { modelCar } from "./modelCar.ts";
import {
  fetchVerifiedModel,
  IPFS_DEFAULT_LAYOUT,
  type ModelDagLayout,
  modelCid,
  modelDag,
  modelMatchesCid,
  parseModelCid,
  UNIXFS_V1_2025_LAYOUT,
} from "./modelCid.ts";
import { pieceCidV2, pieceCommitment } from "./pieceCid.ts";

/** The CID ipfs-unixfs-importer gives `bytes`: with its built-in defaults, or with the given layout spelled out. */
async function importerCid(bytes: Uint8Array, layout?: ModelDagLayout): Promise<string> {
  const entry = await importBytes(bytes, new MemoryBlockstore(), {
    cidVersion: 1,
    rawLeaves: true,
    ...(layout
      ? {
          chunker: fixedSize({ chunkSize: layout.chunkSize }),
          layout: balanced({ maxChildrenPerNode: layout.maxChildrenPerNode }),
        }
      : {}),
  });
  return entry.cid.toString();
}

describe("model CID", () => {
  it("equals ipfs-unixfs-importer's CID (CIDv1, raw leaves, 256 KiB chunks) for one and several chunks", async () => {
    for (const size of [1, 1000, 262_144, 262_145, 3 * 262_144 + 7]) {
      const model = randomBytes(size);
      expect(modelCid(model).toString(), `size ${size}`).toBe(await importerCid(model));
      expect(modelCid(model).toString(), `size ${size}`).toBe(await importerCid(model, IPFS_DEFAULT_LAYOUT));
    }
    const devnet = devnetAiModel();
    expect(modelCid(devnet).toString()).toBe(await importerCid(devnet));
    expect(modelCid(devnet).code).toBe(CODEC_RAW);
  });

  it("equals the importer's CID for balanced trees several levels deep, and with repeated chunks", async () => {
    const layout = { chunkSize: 16, maxChildrenPerNode: 3 };
    for (const size of [17, 48, 49, 144, 145, 433, 1000]) {
      const model = randomBytes(size);
      expect(modelDag(model, layout).root.toString(), `size ${size}`).toBe(await importerCid(model, layout));
    }
    const repeated = new Uint8Array(16 * 20).fill(7);
    const dag = modelDag(repeated, layout);
    expect(dag.root.toString()).toBe(await importerCid(repeated, layout));
    // 20 identical leaves are one block.
    expect(dag.blocks.filter((b) => b.cid.code === CODEC_RAW)).toHaveLength(1);
  });

  it("equals the importer's CID under the unixfs-v1-2025 profile (helia's default) when given that layout", async () => {
    for (const size of [1000, 1_048_577, 2_500_000]) {
      const model = randomBytes(size);
      const profile = await importBytes(model, new MemoryBlockstore(), { profile: "unixfs-v1-2025" });
      expect(modelDag(model, UNIXFS_V1_2025_LAYOUT).root.toString(), `size ${size}`).toBe(profile.cid.toString());
    }
    // One chunk under both layouts: one CID. Several: the layouts differ, which is why the layout is fixed.
    const small = randomBytes(200_000);
    expect(modelDag(small, UNIXFS_V1_2025_LAYOUT).root.equals(modelCid(small))).toBe(true);
    const large = randomBytes(300_000);
    expect(modelDag(large, UNIXFS_V1_2025_LAYOUT).root.equals(modelCid(large))).toBe(false);
  });

  it("refuses bytes that do not hash to the CID", () => {
    const model = randomBytes(300_000);
    const cid = modelCid(model);
    expect(modelMatchesCid(model, cid)).toBe(true);
    const tampered = Uint8Array.from(model);
    tampered[299_999] = (tampered[299_999] as number) ^ 1;
    expect(modelMatchesCid(tampered, cid)).toBe(false);
    expect(modelMatchesCid(model.subarray(0, 262_144), cid)).toBe(false);
  });

  it("fetches a model by CID and refuses bytes that do not hash to it (MODEL_CID_MISMATCH)", async () => {
    const model = randomBytes(600_000);
    const cid = modelCid(model);
    expect(Buffer.from(await fetchVerifiedModel(cid, async () => model)).equals(model)).toBe(true);
    const tampered = Uint8Array.from(model);
    tampered[0] = (tampered[0] as number) ^ 0x80;
    for (const offered of [tampered, model.subarray(1), new Uint8Array(0)]) {
      const err = await fetchVerifiedModel(cid, async () => offered).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).type).toMatchObject({ code: "MODEL_CID_MISMATCH", expected: cid.toString() });
    }
  });

  it("parses model CIDs and refuses other CIDs (MODEL_CID_INVALID) and empty models (MODEL_EMPTY)", () => {
    const cid = modelCid(randomBytes(500_000));
    expect(parseModelCid(cid.toString()).equals(cid)).toBe(true);
    const others = [
      "not a cid",
      "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn", // CIDv0 (the empty UnixFS directory)
      "bafyreihdb57fdysx5h35urvxz64ros7zvywshber7id6t6c6fek37jgyfe", // dag-cbor
      pieceCidV2(pieceCommitment(randomBytes(100))).toString(), // raw, but a piece multihash
    ];
    const codes = others.map((s) => {
      try {
        parseModelCid(s);
      } catch (e) {
        return (e as ModelError).type.code;
      }
      return "accepted";
    });
    expect(codes).toEqual(others.map(() => "MODEL_CID_INVALID"));
    expect(() => modelCid(new Uint8Array(0))).toThrow(ModelError);
  });
});

describe("model CAR", () => {
  it("is a CARv1 whose one root is the model CID and whose blocks are the DAG's, each hashing to its CID", async () => {
    const model = randomBytes(600_000);
    const { cid, car } = await modelCar(model);
    const reader = await CarReader.fromBytes(car);
    expect(reader.version).toBe(1);
    expect((await reader.getRoots()).map(String)).toEqual([cid.toString()]);
    const blocks = [];
    for await (const block of reader.blocks()) blocks.push(block);
    // root + 3 leaves, root first (depth-first order)
    expect(blocks.map((b) => b.cid.toString())).toEqual(modelDag(model).blocks.map((b) => b.cid.toString()));
    expect(blocks[0]?.cid.toString()).toBe(cid.toString());
    for (const block of blocks) {
      const digest = await sha256.digest(block.bytes);
      expect(CID.createV1(block.cid.code, digest).equals(block.cid)).toBe(true);
    }
    const leaves = blocks.filter((b) => b.cid.code === CODEC_RAW).map((b) => b.bytes);
    expect(Buffer.concat(leaves).equals(model)).toBe(true);
  });

  it("is the same bytes every time for the same model", async () => {
    const model = randomBytes(70_000);
    expect(Buffer.from((await modelCar(model)).car).equals(Buffer.from((await modelCar(model)).car))).toBe(true);
  });
});
