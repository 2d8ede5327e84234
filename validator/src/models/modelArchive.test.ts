// The archive step around a storage service: the local record next to the model's CID, and the Filecoin Onchain
// Cloud client's handling of what the service answers. The service is a fake here (no Filecoin network is reachable
// from these machines); the SDK call itself is not exercised.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Piece } from "@web3-storage/data-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ModelError } from "./errors.ts";
import { createFocArchive, FOC_SERVICE, type FocStorage } from "./focArchive.ts";
import { archiveModel } from "./modelArchive.ts";
import { modelCid } from "./modelCid.ts";
import { modelRecordPath, readModelRecord } from "./modelRecord.ts";

let datadir: string;
beforeEach(async () => {
  datadir = await mkdtemp(join(tmpdir(), "rustchain-models-"));
});
afterEach(async () => {
  await rm(datadir, { recursive: true, force: true });
});

/** A storage service that computes the piece CID of what it receives, as a provider does (with data-segment). */
function fakeFoc(
  uploads: { car: Uint8Array; metadata: Record<string, string> }[],
  opts: { fail?: string } = {},
): FocStorage {
  return {
    async upload(car, metadata) {
      if (opts.fail) throw new Error(opts.fail);
      uploads.push({ car, metadata });
      return {
        pieceCid: Piece.fromPayload(car).link.toString(),
        copies: [
          {
            providerId: "4",
            dataSetId: "112",
            pieceId: String(uploads.length - 1),
            retrievalUrl: "https://sp.example/piece",
          },
        ],
      };
    },
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof ModelError ? e.type.code : `untyped: ${(e as Error).message}`;
  }
  return "resolved";
}

describe("model archive", () => {
  it("without a service records the CID, piece CID and CAR size in <datadir>/models/<cid>.json, with no deal", async () => {
    const model = randomBytes(400_000);
    const { record, recordPath, car } = await archiveModel(model, { datadir });
    expect(recordPath).toBe(modelRecordPath(datadir, modelCid(model)));
    expect(await readModelRecord(datadir, record.cid)).toEqual(record);
    expect(record).toMatchObject({
      version: 1,
      cid: modelCid(model).toString(),
      modelSize: 400_000,
      carSize: car.length,
      pieceCid: Piece.fromPayload(car).link.toString(),
      pieceSize: 524_288,
      deals: [],
    });
    expect(record.pieceCidV1).toMatch(/^baga6ea4seaq/);
  });

  it("with Filecoin Onchain Cloud stores the CAR and records the deal reference next to the model's CID", async () => {
    const uploads: { car: Uint8Array; metadata: Record<string, string> }[] = [];
    const archive = createFocArchive(
      { network: "calibration", privateKey: `0x${"11".repeat(32)}` },
      { connect: async () => fakeFoc(uploads) },
    );
    const model = randomBytes(5000);
    const first = await archiveModel(model, { datadir }, { archive });
    expect(uploads).toHaveLength(1);
    expect(Buffer.from(uploads[0]?.car as Uint8Array).equals(Buffer.from(first.car))).toBe(true);
    expect(uploads[0]?.metadata).toEqual({ modelCid: first.record.cid });
    expect(first.record.deals).toEqual([
      {
        service: FOC_SERVICE,
        pieceCid: first.record.pieceCid,
        reference: {
          network: "calibration",
          copies: [{ providerId: "4", dataSetId: "112", pieceId: "0", retrievalUrl: "https://sp.example/piece" }],
        },
        at: expect.any(String),
      },
    ]);
    // A second archive of the same model adds its deal to the same record.
    const second = await archiveModel(model, { datadir }, { archive });
    expect(second.record.deals.map((d) => (d.reference.copies as { pieceId: string }[])[0]?.pieceId)).toEqual([
      "0",
      "1",
    ]);
    expect(await readdir(join(datadir, "models"))).toEqual([`${first.record.cid}.json`]);
  });

  it("refuses a service answer naming another piece (ARCHIVE_PIECE_MISMATCH) and records nothing", async () => {
    const other = randomBytes(200);
    const archive = createFocArchive(
      { network: "calibration", privateKey: `0x${"11".repeat(32)}` },
      {
        connect: async () => ({
          upload: async () => ({
            pieceCid: Piece.fromPayload(other).link.toString(),
            copies: [{ providerId: "4", dataSetId: "1", pieceId: "0" }],
          }),
        }),
      },
    );
    const model = randomBytes(5000);
    expect(await codeOf(archiveModel(model, { datadir }, { archive }))).toBe("ARCHIVE_PIECE_MISMATCH");
    expect(await readModelRecord(datadir, modelCid(model))).toBeUndefined();
  });

  it("reports a failing service as ARCHIVE_FAILED, and a later attempt connects again", async () => {
    let connects = 0;
    const uploads: { car: Uint8Array; metadata: Record<string, string> }[] = [];
    const archive = createFocArchive(
      { network: "mainnet", privateKey: `0x${"22".repeat(32)}` },
      {
        connect: async () => {
          connects++;
          return fakeFoc(uploads, connects === 1 ? { fail: "insufficient USDFC allowance" } : {});
        },
      },
    );
    const model = randomBytes(5000);
    expect(await codeOf(archiveModel(model, { datadir }, { archive }))).toBe("ARCHIVE_FAILED");
    expect(await readModelRecord(datadir, modelCid(model))).toBeUndefined();
    const { record } = await archiveModel(model, { datadir }, { archive });
    expect(connects).toBe(2);
    expect(record.deals).toHaveLength(1);
  });

  it("with the real SDK sends its calls to the configured Filecoin RPC URL, and an RPC that fails is ARCHIVE_FAILED", async () => {
    // A local JSON-RPC endpoint that refuses everything: the SDK is wired (chain, account, transport) but no FOC
    // contract answers, so nothing is stored. This is as far as the SDK runs on a machine without a Filecoin network.
    const methods: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        const calls = [JSON.parse(body)].flat() as { id: number; method: string }[];
        for (const call of calls) methods.push(call.method);
        const answers = calls.map((c) => ({
          jsonrpc: "2.0",
          id: c.id,
          error: { code: -32000, message: "not a Filecoin node" },
        }));
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(Array.isArray(JSON.parse(body)) ? answers : answers[0]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const archive = createFocArchive({
        network: "calibration",
        rpcUrl: `http://127.0.0.1:${port}/rpc/v1`,
        privateKey: `0x${"11".repeat(32)}`,
      });
      const model = randomBytes(5000);
      expect(await codeOf(archiveModel(model, { datadir }, { archive }))).toBe("ARCHIVE_FAILED");
      expect(methods.length).toBeGreaterThan(0);
      expect(methods.every((m) => m.startsWith("eth_"))).toBe(true);
      expect(await readModelRecord(datadir, modelCid(model))).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
