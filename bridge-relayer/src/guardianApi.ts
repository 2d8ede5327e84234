// A Wormhole guardian's public REST API (docs/bridge.md, "Wormhole"):
//   GET <base>/v1/signed_vaa/<chain>/<emitter: 64 hex digits>/<sequence>  →  200 {"vaaBytes": "<base64>"}, 404 not yet
//   GET <base>/v1/governor/enqueued_vaas  →  {"entries": [{emitterChain, emitterAddress, sequence, releaseTime,
//                                             notionalValue, txHash}]}   (the guardian governor's delayed messages)
// The API is not trusted: a signed answer must be the message asked for (chain, emitter, sequence) and verify against
// the guardian set the destination gateway holds, so a wrong or forged answer is an error here, never a submission.
// The governor's list only ever sets an ETA. Bounded: response bodies are read up to a limit.
import { bytesToHex, equalBytes, hexToBytes, RustChainError } from "@rustchain/shared";
import { decodeVaa, type GuardianSet, MAX_VAA_BYTES, type Vaa, verifyVaa } from "@rustchain/shared/bridge/vaa";

export type GuardianApiErrorCode = "GUARDIAN_API_HTTP" | "GUARDIAN_API_RESPONSE";
export class GuardianApiError extends RustChainError<{ code: GuardianApiErrorCode; reason: string }> {}

const MAX_RESPONSE_BYTES = 2 * MAX_VAA_BYTES; // base64 and JSON around the largest VAA
const MAX_ENQUEUED_BYTES = 4 * 1024 * 1024;
const MAX_ENQUEUED_ENTRIES = 20_000;

export interface SignedVaaQuery {
  emitterChain: number;
  /** 32 bytes. */
  emitterAddress: Uint8Array;
  sequence: bigint;
}

/** `<chain>/<emitter>/<sequence>`, the key Wormhole names a message by (emitter: 64 lowercase hex digits, no 0x). */
export function messageId(q: SignedVaaQuery): string {
  return `${q.emitterChain}/${bytesToHex(q.emitterAddress).slice(2)}/${q.sequence}`;
}

/** Reads `<chain>/<emitter hex, 0x optional>/<sequence>`; undefined if it is not one. */
export function parseMessageId(value: string): SignedVaaQuery | undefined {
  const m = /^(\d{1,5})\/(?:0x)?([0-9a-fA-F]{64})\/(\d{1,20})$/.exec(value.trim());
  if (!m) return undefined;
  const chain = Number(m[1]);
  const sequence = BigInt(m[3] as string);
  if (chain < 1 || chain > 0xffff || sequence >= 2n ** 64n) return undefined;
  return { emitterChain: chain, emitterAddress: hexToBytes(`0x${m[2]}`), sequence };
}

export type SignedVaaAnswer = { state: "pending" } | { state: "signed"; vaa: Vaa; bytes: Uint8Array };

export function signedVaaUrl(baseUrl: string, q: SignedVaaQuery): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/signed_vaa/${q.emitterChain}/${bytesToHex(q.emitterAddress).slice(2)}/${q.sequence}`;
}

/** Fetch and verify; a 404 means the guardians have not signed it (yet). Throws GuardianApiError or BridgeError. */
export async function fetchSignedVaa(o: {
  baseUrl: string;
  query: SignedVaaQuery;
  /** The set to verify against, or how to get the set a VAA names (the destination gateway's sets). */
  guardianSet: GuardianSet | ((index: number) => Promise<GuardianSet>);
  /** Unix seconds, for the set's expiry. */
  now: number;
  timeoutMs?: number;
}): Promise<SignedVaaAnswer> {
  const json = await getJson(signedVaaUrl(o.baseUrl, o.query), MAX_RESPONSE_BYTES, o.timeoutMs);
  if (json === NOT_FOUND) return { state: "pending" };
  const vaaBytes = (json as { vaaBytes?: unknown } | null)?.vaaBytes;
  if (typeof vaaBytes !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(vaaBytes))
    return fail("GUARDIAN_API_RESPONSE", "no base64 vaaBytes");
  const bytes = new Uint8Array(Buffer.from(vaaBytes, "base64"));
  const vaa = decodeVaa(bytes);
  if (
    vaa.emitterChain !== o.query.emitterChain ||
    !equalBytes(vaa.emitterAddress, o.query.emitterAddress) ||
    vaa.sequence !== o.query.sequence
  )
    fail("GUARDIAN_API_RESPONSE", "the VAA is not the message asked for");
  const set = typeof o.guardianSet === "function" ? await o.guardianSet(vaa.guardianSetIndex) : o.guardianSet;
  verifyVaa(vaa, set, o.now);
  return { state: "signed", vaa, bytes };
}

function fail(code: GuardianApiErrorCode, reason: string): never {
  throw new GuardianApiError({ code, reason });
}

const NOT_FOUND = Symbol("404");

/** GET a JSON document of at most `maxBytes`; NOT_FOUND on a 404, GuardianApiError on anything else but 200. */
async function getJson(url: string, maxBytes: number, timeoutMs = 10_000): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return fail("GUARDIAN_API_HTTP", (e as Error).message);
  }
  if (res.status === 404 || !res.ok) {
    await res.body?.cancel();
    return res.status === 404 ? NOT_FOUND : fail("GUARDIAN_API_HTTP", `HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel();
    fail("GUARDIAN_API_RESPONSE", `${declared} bytes, at most ${maxBytes}`);
  }
  const text = await res.text();
  if (text.length > maxBytes) fail("GUARDIAN_API_RESPONSE", `${text.length} bytes, at most ${maxBytes}`);
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A message the guardians' governor holds back, and when it will sign it. */
export interface EnqueuedVaa {
  /** messageId(): `<chain>/<emitter hex>/<sequence>`. */
  id: string;
  /** Unix seconds. */
  releaseTime: number;
  /** USD value the governor counted, as it reports it. */
  notionalValue: string;
  /** The source transaction, as the API names it. */
  txHash: string;
}

/**
 * The governor's enqueued messages by message id. Entries that do not parse are left out (the list only ever gives an
 * ETA); a guardian without the governor answers 404, read as an empty list.
 */
export async function fetchEnqueuedVaas(baseUrl: string, timeoutMs?: number): Promise<Map<string, EnqueuedVaa>> {
  const url = `${baseUrl.replace(/\/+$/, "")}/v1/governor/enqueued_vaas`;
  const json = await getJson(url, MAX_ENQUEUED_BYTES, timeoutMs);
  const out = new Map<string, EnqueuedVaa>();
  if (json === NOT_FOUND) return out;
  const entries = (json as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) return fail("GUARDIAN_API_RESPONSE", "no entries array");
  for (const e of entries.slice(0, MAX_ENQUEUED_ENTRIES) as Record<string, unknown>[]) {
    const chain = Number(e?.emitterChain);
    const emitter = String(e?.emitterAddress ?? "").replace(/^0x/, "");
    const sequence = String(e?.sequence ?? "");
    const releaseTime = Number(e?.releaseTime);
    if (!/^\d{1,20}$/.test(sequence) || !Number.isSafeInteger(releaseTime) || releaseTime < 0) continue;
    const query = parseMessageId(`${chain}/${emitter}/${sequence}`);
    if (!query) continue;
    out.set(messageId(query), {
      id: messageId(query),
      releaseTime,
      notionalValue: String(e.notionalValue ?? "").slice(0, 40),
      txHash: String(e.txHash ?? "").slice(0, 130),
    });
  }
  return out;
}
