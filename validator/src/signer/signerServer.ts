// The remote signer (EIP-3030 / Web3Signer style): an HTTP service that holds validators' BLS keys and their slashing
// protection database, so the keys live on another machine (or process) than the node. The node asks it to sign
// (signer/remoteSigner.ts); the signer records every block, attestation and finalize vote in its own protection
// database BEFORE signing ("record, then sign", as LocalSigner does) and refuses a slashable request with 412.
//   GET  /upcheck                          200 "OK" (no token: a liveness probe, reveals nothing)
//   GET  /api/v1/eth2/publicKeys           200 ["0x…48", …]
//   POST /api/v1/eth2/sign/{publicKey}     200 {"signature":"0x…96"}; body: signRequest.ts
// Errors answer {"error": code, "message": …}: 400 malformed, 401 no/wrong bearer token (every /api request), 404
// unknown key or route, 405 wrong method, 412 slashable (error = the slashing-protection code, nothing signed), 413 body
// above 16 KiB, 500 signer fault. The bearer token is written to `<datadir>/signer-token` (0600) on first start; the
// default listen address is loopback.
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { blsPublicKey, blsSign, bytesToHex, describeError } from "@rustchain/shared";
import type { Logger } from "pino";
import {
  type SlashingProtection,
  SlashingProtectionError,
  type SlashingProtectionErrorType,
} from "../consensus/validatorDuties/slashingProtection.ts";
import { loadOrCreateAdminToken } from "../rpc/adminServer.ts";
import { SignerError, signerHttpStatus } from "./errors.ts";
import {
  MAX_SIGN_BODY_BYTES,
  parsePublicKeyParam,
  parseSignRequest,
  SIGN_TYPES,
  type SignRequest,
  type SignType,
  signedMessage,
} from "./signRequest.ts";

export const SIGNER_TOKEN_FILE = "signer-token";
const SIGN_PATH = "/api/v1/eth2/sign/";
const PUBLIC_KEYS_PATH = "/api/v1/eth2/publicKeys";

export interface SignerServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The bearer token file, created 0600 when missing. */
  tokenFile: string;
}

export const defaultSignerListen = { host: "127.0.0.1", port: 9100 };

/** Refusals that mean "slashable" (412); the other slashing-protection codes are bad requests or faults. */
const SLASHABLE: ReadonlySet<SlashingProtectionErrorType["code"]> = new Set([
  "DOUBLE_PROPOSAL",
  "DOUBLE_VOTE",
  "SURROUND_VOTE",
  "SURROUNDED_VOTE",
  "ATTESTATION_BELOW_WATERMARK",
]);

/** What the signer did, per message type (tests and logs; the counts are bounded by the type list). */
export interface SignerCounters {
  signed: Record<SignType, number>;
  refused: Record<SignType, number>;
}

export class SignerServer {
  private server: Server | undefined;
  private token = "";
  /** 0x-hex public key (lower case) → secret key. */
  private readonly keys = new Map<string, Uint8Array>();
  readonly counters: SignerCounters = {
    signed: Object.fromEntries(SIGN_TYPES.map((t) => [t, 0])) as Record<SignType, number>,
    refused: Object.fromEntries(SIGN_TYPES.map((t) => [t, 0])) as Record<SignType, number>,
  };
  url = "";

  constructor(
    private readonly opts: SignerServerOptions,
    private readonly modules: { secretKeys: readonly Uint8Array[]; protection: SlashingProtection; logger: Logger },
  ) {
    if (modules.secretKeys.length === 0) throw new SignerError({ code: "SIGNER_CONFIG", reason: "no keys" });
    for (const sk of modules.secretKeys) {
      const hex = bytesToHex(blsPublicKey(sk));
      if (this.keys.has(hex)) throw new SignerError({ code: "SIGNER_CONFIG", reason: `key ${hex} given twice` });
      this.keys.set(hex, sk);
    }
  }

  get publicKeys(): string[] {
    return [...this.keys.keys()];
  }

  async listen(): Promise<void> {
    this.token = await loadOrCreateAdminToken(this.opts.tokenFile);
    const server = createServer((req, res) => void this.handle(req, res));
    // Bounded time to send a request: a stalled client cannot hold a connection forever.
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
    const a = server.address();
    if (a && typeof a !== "string") {
      this.url = a.family === "IPv6" ? `http://[${a.address}]:${a.port}` : `http://${a.address}:${a.port}`;
    }
    this.modules.logger.info(
      { url: this.url, keys: this.keys.size, tokenFile: this.opts.tokenFile },
      "Remote signer listening",
    );
  }

  /** Stops accepting requests; the protection database is closed by its owner after this. */
  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeIdleConnections();
    await new Promise<void>((r) => s.close(() => r()));
    this.server = undefined;
  }

  private authorized(req: IncomingMessage): boolean {
    const header = String(req.headers.authorization ?? "");
    if (!header.startsWith("Bearer ")) return false;
    const given = Buffer.from(header.slice("Bearer ".length));
    const want = Buffer.from(this.token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? "/").split("?")[0] as string;
      if (path === "/upcheck") {
        if (req.method !== "GET")
          throw new SignerError({ code: "SIGNER_METHOD_NOT_ALLOWED", method: req.method ?? "" });
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("OK");
        return;
      }
      if (!path.startsWith("/api/")) throw new SignerError({ code: "SIGNER_NOT_FOUND", path: path.slice(0, 64) });
      if (!this.authorized(req)) throw new SignerError({ code: "SIGNER_UNAUTHORIZED" });
      if (path === PUBLIC_KEYS_PATH) {
        if (req.method !== "GET")
          throw new SignerError({ code: "SIGNER_METHOD_NOT_ALLOWED", method: req.method ?? "" });
        return json(res, 200, this.publicKeys);
      }
      if (path.startsWith(SIGN_PATH)) {
        if (req.method !== "POST") {
          throw new SignerError({ code: "SIGNER_METHOD_NOT_ALLOWED", method: req.method ?? "" });
        }
        const publicKey = parsePublicKeyParam(path.slice(SIGN_PATH.length));
        const secretKey = this.keys.get(publicKey);
        if (secretKey === undefined) throw new SignerError({ code: "SIGNER_UNKNOWN_KEY", publicKey });
        const request = parseSignRequest(await readBody(req));
        const signature = await this.sign(publicKey, secretKey, request);
        return json(res, 200, { signature: bytesToHex(signature) });
      }
      throw new SignerError({ code: "SIGNER_NOT_FOUND", path: path.slice(0, 64) });
    } catch (e) {
      const err = e instanceof SignerError ? e : new SignerError({ code: "SIGNER_INTERNAL", reason: describeError(e) });
      if (err.type.code === "SIGNER_INTERNAL") this.modules.logger.error({ err: err.message }, "Signing failed");
      const status = signerHttpStatus(err.type.code);
      const code = err.type.code === "SIGNER_SLASHING_REFUSED" ? err.type.slashingCode : err.type.code;
      if (!res.headersSent) json(res, status, { error: code, message: err.message }, status === 413);
    }
  }

  /** Record, then sign: the protection record is durable before the signature exists. */
  private async sign(publicKeyHex: string, secretKey: Uint8Array, r: SignRequest): Promise<Uint8Array> {
    const protection = this.modules.protection;
    const publicKey = blsPublicKey(secretKey);
    try {
      switch (r.type) {
        case "VRF":
          break; // a VRF proof is not slashable
        case "BLOCK":
          await protection.checkAndRecordBlock(publicKey, r.slot, r.signingRoot);
          break;
        case "ATTESTATION":
          await protection.checkAndRecordAttestation(publicKey, r);
          break;
        case "FINALIZE_VOTE":
          await protection.checkAndRecordFinalizeVote(publicKey, { slot: r.slot, signingRoot: r.signingRoot });
          break;
      }
    } catch (e) {
      if (!(e instanceof SlashingProtectionError)) throw e;
      if (SLASHABLE.has(e.type.code)) {
        this.counters.refused[r.type]++;
        this.modules.logger.warn({ type: r.type, publicKey: publicKeyHex, code: e.type.code }, "Refused to sign");
        throw new SignerError({ code: "SIGNER_SLASHING_REFUSED", slashingCode: e.type.code, reason: e.message });
      }
      if (e.type.code === "INVALID_REQUEST") throw new SignerError({ code: "SIGNER_BAD_REQUEST", reason: e.message });
      throw new SignerError({ code: "SIGNER_INTERNAL", reason: e.message });
    }
    const signature = blsSign(secretKey, signedMessage(r));
    this.counters.signed[r.type]++;
    return signature;
  }
}

function json(res: ServerResponse, status: number, body: unknown, close = false): void {
  res.writeHead(status, { "content-type": "application/json", ...(close ? { connection: "close" } : {}) });
  res.end(JSON.stringify(body));
}

/** The request body, at most MAX_SIGN_BODY_BYTES (a declared or actual larger body is refused without reading on). */
async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const tooLarge = () => new SignerError({ code: "SIGNER_BODY_TOO_LARGE", limit: MAX_SIGN_BODY_BYTES });
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_SIGN_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_SIGN_BODY_BYTES) throw tooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
