// Filecoin Onchain Cloud (FOC) as the model archive: the CAR is uploaded with @filoz/synapse-sdk, which pays with
// USDFC from the configured wallet, picks storage providers from the on-chain registry, uploads to them (Curio's PDP
// HTTP API) and adds the piece to a data set that the providers must then prove with Proof of Data Possession.
// The deal reference recorded is the piece CID with, per copy, the provider, the data set and the piece id.
//
// This module is the code around the SDK: options, the seam (`FocStorage`), the check that the provider stored the
// piece computed here, and the mapping to an `ArchiveDeal`. The SDK itself is loaded only when an archive is made with
// FOC configured, and no test reaches a Filecoin network (docs/models.md says what was exercised).
import { ModelError } from "./errors.ts";
import type { ArchiveRequest, ModelArchive } from "./modelArchive.ts";
import type { ArchiveDeal } from "./modelRecord.ts";

export const FOC_SERVICE = "filecoin-onchain-cloud";

export type FocNetwork = "calibration" | "mainnet";

export interface FocArchiveOptions {
  network: FocNetwork;
  /** Filecoin JSON-RPC (Lotus API) URL; the SDK's default public endpoint for the network when absent. */
  rpcUrl?: string;
  /** 0x-prefixed secp256k1 key of the paying wallet (read from a key file by the CLI, never from the command line). */
  privateKey: `0x${string}`;
}

/** One stored copy as the SDK reports it. */
export interface FocCopy {
  providerId: string;
  dataSetId: string;
  pieceId: string;
  retrievalUrl?: string;
}

/** The part of the SDK this module uses: one upload that returns the piece CID and the copies made. */
export interface FocStorage {
  upload(car: Uint8Array, metadata: Record<string, string>): Promise<{ pieceCid: string; copies: FocCopy[] }>;
}

export type FocConnect = (opts: FocArchiveOptions) => Promise<FocStorage>;

export function createFocArchive(opts: FocArchiveOptions, modules: { connect?: FocConnect } = {}): ModelArchive {
  const connect = modules.connect ?? connectSynapse;
  let storage: Promise<FocStorage> | undefined;
  return {
    service: FOC_SERVICE,
    async store(request: ArchiveRequest): Promise<ArchiveDeal> {
      let result: { pieceCid: string; copies: FocCopy[] };
      try {
        storage ??= connect(opts);
        // Piece metadata is public and on-chain: the model CID lets anyone find the model's piece.
        result = await (await storage).upload(request.car, { modelCid: request.modelCid });
      } catch (e) {
        storage = undefined;
        throw new ModelError({
          code: "ARCHIVE_FAILED",
          service: FOC_SERVICE,
          reason: serviceReason(e),
        });
      }
      if (result.copies.length === 0) {
        throw new ModelError({ code: "ARCHIVE_FAILED", service: FOC_SERVICE, reason: "no provider confirmed a copy" });
      }
      return {
        service: FOC_SERVICE,
        pieceCid: result.pieceCid,
        reference: { network: opts.network, copies: result.copies },
        at: new Date().toISOString(),
      };
    },
  };
}

/** One line of a service error: viem's short message when there is one (its full message dumps the call data). */
function serviceReason(e: unknown): string {
  const short = (e as { shortMessage?: unknown }).shortMessage;
  const text = typeof short === "string" ? short : e instanceof Error ? e.message : String(e);
  return (text.split("\n")[0] ?? "").slice(0, 300);
}

/** The real SDK behind the seam, loaded on first use (it pulls in viem and the FOC contract bindings). */
async function connectSynapse(opts: FocArchiveOptions): Promise<FocStorage> {
  // The SDK re-exports synapse-core's chain definitions (calibration, mainnet).
  const [{ Synapse, calibration, mainnet }, { http }, { privateKeyToAccount }] = await Promise.all([
    import("@filoz/synapse-sdk"),
    import("viem"),
    import("viem/accounts"),
  ]);
  const synapse = Synapse.create({
    chain: opts.network === "mainnet" ? mainnet : calibration,
    transport: http(opts.rpcUrl),
    account: privateKeyToAccount(opts.privateKey),
    // Data sets are tagged with the application, so RustChain's uploads reuse RustChain's data sets only.
    source: "rustchain",
  });
  return {
    async upload(car, metadata) {
      const result = await synapse.storage.upload(car, { pieceMetadata: metadata });
      return {
        pieceCid: result.pieceCid.toString(),
        copies: result.copies.map((copy) => ({
          providerId: String(copy.providerId),
          dataSetId: String(copy.dataSetId),
          pieceId: String(copy.pieceId),
          retrievalUrl: copy.retrievalUrl,
        })),
      };
    },
  };
}
