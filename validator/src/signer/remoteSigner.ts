// A ValidatorSigner that asks a remote signer (signerServer.ts) over HTTP with a bearer token. The signer holds the key
// and the slashing protection; this client adds what the node needs to trust its answers:
// - a per-request timeout (a signature that comes after the slot's deadline is worthless);
// - retries only when the request could not be sent or the connection broke (ECONNREFUSED, ECONNRESET): re-sending
//   the identical request is harmless (the signer re-signs an identical message, refuses anything else). Never after
//   an HTTP answer: a 412 is final, and so is every other status;
// - 412 becomes a SignerError SIGNER_SLASHING_REFUSED naming the slashing-protection code, which the duties log as
//   "Slashing protection refused …";
// - every returned signature is verified against the validator's key and the message: a signer returning garbage
//   (or another key's signature) makes the duty fail rather than the node publish it.
import { readFile, stat } from "node:fs/promises";
import { blsVerify, bytesToHex, hexToBytes } from "@rustchain/shared";
import type { ValidatorSigner } from "../consensus/duties/signer.ts";
import { SignerError } from "./errors.ts";
import { encodeSignRequest, type SignRequest, signedMessage } from "./signRequest.ts";

export interface RemoteSignerOptions {
  /** Per HTTP request, in milliseconds. */
  timeoutMs: number;
  /** Extra attempts after a connection failure. */
  retries: number;
  retryDelayMs: number;
}

export const defaultRemoteSignerOptions: RemoteSignerOptions = { timeoutMs: 2_000, retries: 2, retryDelayMs: 100 };

/** Answers are small; anything bigger is a faulty signer. */
const MAX_RESPONSE_BYTES = 16 * 1024;
const MAX_TOKEN_FILE_BYTES = 4 * 1024;
const SIGNATURE_RE = /^0x[0-9a-fA-F]{192}$/;

export class RemoteSigner implements ValidatorSigner {
  private readonly publicKeyHex: string;

  constructor(
    private readonly url: string,
    private readonly token: string,
    readonly publicKey: Uint8Array,
    private readonly opts: RemoteSignerOptions = defaultRemoteSignerOptions,
  ) {
    this.url = url.replace(/\/+$/, "");
    this.publicKeyHex = bytesToHex(publicKey);
  }

  /** Read the token, check the signer is up (`/upcheck`) and lists this key. */
  static async connect(
    url: string,
    tokenFile: string,
    publicKey: Uint8Array,
    opts: Partial<RemoteSignerOptions> = {},
  ): Promise<RemoteSigner> {
    const signer = new RemoteSigner(url, await readTokenFile(tokenFile), publicKey, {
      ...defaultRemoteSignerOptions,
      ...opts,
    });
    await signer.upcheck();
    const keys = await signer.listPublicKeys();
    if (!keys.includes(signer.publicKeyHex)) {
      throw new SignerError({ code: "SIGNER_KEY_NOT_LISTED", publicKey: signer.publicKeyHex, url: signer.url });
    }
    return signer;
  }

  async upcheck(): Promise<void> {
    const r = await this.request("GET", "/upcheck", undefined);
    if (r.status !== 200) throw badResponse(r.status, "upcheck failed");
  }

  async listPublicKeys(): Promise<string[]> {
    const r = await this.request("GET", "/api/v1/eth2/publicKeys", undefined);
    if (r.status !== 200) throw errorFromAnswer(r.status, r.body);
    const keys = parseJson(r.status, r.body);
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
      throw badResponse(r.status, "publicKeys must be an array of strings");
    }
    return keys.map((k: string) => k.toLowerCase());
  }

  vrf(input: Uint8Array): Promise<Uint8Array> {
    return this.sign({ type: "VRF", input });
  }

  block(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array> {
    return this.sign({ type: "BLOCK", slot, signingRoot });
  }

  attestation(vote: { sourceSlot: bigint; targetSlot: bigint; signingRoot: Uint8Array }): Promise<Uint8Array> {
    return this.sign({ type: "ATTESTATION", ...vote });
  }

  finalizeVote(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array> {
    return this.sign({ type: "FINALIZE_VOTE", slot, signingRoot });
  }

  private async sign(req: SignRequest): Promise<Uint8Array> {
    const r = await this.request("POST", `/api/v1/eth2/sign/${this.publicKeyHex}`, encodeSignRequest(req));
    if (r.status !== 200) throw errorFromAnswer(r.status, r.body);
    const body = parseJson(r.status, r.body) as { signature?: unknown } | null;
    const sig = body?.signature;
    if (typeof sig !== "string" || !SIGNATURE_RE.test(sig)) throw badResponse(r.status, "signature must be 96 bytes");
    const signature = hexToBytes(sig);
    if (!blsVerify(this.publicKey, signedMessage(req), signature)) {
      throw new SignerError({ code: "SIGNER_BAD_SIGNATURE", publicKey: this.publicKeyHex, type: req.type });
    }
    return signature;
  }

  /** One HTTP exchange, retried only when no answer came because the connection failed. */
  private async request(
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
  ): Promise<{ status: number; body: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${this.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        return { status: res.status, body: await readBounded(res) };
      } catch (e) {
        if (e instanceof SignerError) throw e;
        const name = (e as Error).name;
        if (name === "TimeoutError" || name === "AbortError") {
          throw new SignerError({ code: "SIGNER_TIMEOUT", url: this.url, timeoutMs: this.opts.timeoutMs });
        }
        if (attempt >= this.opts.retries) {
          throw new SignerError({ code: "SIGNER_UNREACHABLE", url: this.url, reason: networkReason(e) });
        }
        await new Promise((r) => setTimeout(r, this.opts.retryDelayMs));
      }
    }
  }
}

async function readTokenFile(path: string): Promise<string> {
  const config = (reason: string) =>
    new SignerError({ code: "SIGNER_CONFIG", reason: `token file ${path}: ${reason}` });
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw config("not a regular file");
    if (st.size > MAX_TOKEN_FILE_BYTES) throw config(`larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
    text = await readFile(path, "utf8");
  } catch (e) {
    if (e instanceof SignerError) throw e;
    throw config((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  const token = text.trim();
  if (!/^[\x21-\x7e]+$/.test(token)) throw config("must hold one printable token");
  return token;
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new SignerError({ code: "SIGNER_BAD_RESPONSE", status: res.status, reason: "answer too large" });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(status: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badResponse(status, "not JSON");
  }
}

function badResponse(status: number, reason: string): SignerError {
  return new SignerError({ code: "SIGNER_BAD_RESPONSE", status, reason });
}

/** A non-200 answer as a typed error: 412 is the slashing refusal, the rest are named by the signer's code. */
function errorFromAnswer(status: number, text: string): SignerError {
  let body: { error?: unknown; message?: unknown } = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "object" && parsed !== null) body = parsed as typeof body;
  } catch {
    // keep the status alone
  }
  const code = typeof body.error === "string" ? body.error.slice(0, 64) : "UNKNOWN";
  const message = typeof body.message === "string" ? body.message.slice(0, 256) : "";
  if (status === 412) return new SignerError({ code: "SIGNER_SLASHING_REFUSED", slashingCode: code, reason: message });
  return badResponse(status, message === "" ? code : `${code}: ${message}`);
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === "string") return cause.code;
  return (e as Error).message ?? String(e);
}
