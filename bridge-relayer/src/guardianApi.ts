// A signed VAA from a Wormhole guardian API (docs/bridge.md, "Wormhole"), in the public REST shape
//   GET <base>/v1/signed_vaa/<chain>/<emitter: 64 hex digits>/<sequence>  →  200 {"vaaBytes": "<base64>"}, 404 not yet
// The API is not trusted: the answer must be the message asked for (chain, emitter, sequence) and verify against the
// guardian set the destination gateway holds, so a wrong or forged answer is an error here, never a submission.
// Bounded: the response body is read up to MAX_RESPONSE_BYTES.
import { bytesToHex, equalBytes, RustChainError } from "@rustchain/shared";
import { decodeVaa, type GuardianSet, MAX_VAA_BYTES, type Vaa, verifyVaa } from "@rustchain/shared/bridge/vaa";

export type GuardianApiErrorCode = "GUARDIAN_API_HTTP" | "GUARDIAN_API_RESPONSE";
export class GuardianApiError extends RustChainError<{ code: GuardianApiErrorCode; reason: string }> {}

const MAX_RESPONSE_BYTES = 2 * MAX_VAA_BYTES; // base64 and JSON around the largest VAA

export interface SignedVaaQuery {
  emitterChain: number;
  /** 32 bytes. */
  emitterAddress: Uint8Array;
  sequence: bigint;
}

export type SignedVaaAnswer = { state: "pending" } | { state: "signed"; vaa: Vaa; bytes: Uint8Array };

export function signedVaaUrl(baseUrl: string, q: SignedVaaQuery): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/signed_vaa/${q.emitterChain}/${bytesToHex(q.emitterAddress).slice(2)}/${q.sequence}`;
}

/** Fetch and verify; a 404 means the guardians have not signed it (yet). Throws GuardianApiError or BridgeError. */
export async function fetchSignedVaa(o: {
  baseUrl: string;
  query: SignedVaaQuery;
  guardianSet: GuardianSet;
  /** Unix seconds, for the set's expiry. */
  now: number;
  timeoutMs?: number;
}): Promise<SignedVaaAnswer> {
  const fail = (code: GuardianApiErrorCode, reason: string): never => {
    throw new GuardianApiError({ code, reason });
  };
  let res: Response;
  try {
    res = await fetch(signedVaaUrl(o.baseUrl, o.query), { signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
  } catch (e) {
    return fail("GUARDIAN_API_HTTP", (e as Error).message);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return { state: "pending" };
  }
  if (!res.ok) {
    await res.body?.cancel();
    return fail("GUARDIAN_API_HTTP", `HTTP ${res.status}`);
  }
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES) fail("GUARDIAN_API_RESPONSE", `${text.length} bytes`);
  let vaaBytes: unknown;
  try {
    vaaBytes = (JSON.parse(text) as { vaaBytes?: unknown }).vaaBytes;
  } catch {
    vaaBytes = undefined;
  }
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
  verifyVaa(vaa, o.guardianSet, o.now);
  return { state: "signed", vaa, bytes };
}
