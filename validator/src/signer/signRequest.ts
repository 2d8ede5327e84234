// The wire format of `POST /api/v1/eth2/sign/{publicKey}` (EIP-3030 / Web3Signer style, RustChain's message types),
// one copy for the server's parser and the client's encoder. Invariants of the parser: the body is at most
// MAX_SIGN_BODY_BYTES of UTF-8 JSON (checked before parsing); it is one object with exactly the fields of its type;
// roots are 0x-hex of 32 bytes, a VRF input 0x-hex of 1..MAX_VRF_INPUT_BYTES bytes, slots decimal u64 strings
// without leading zeros; anything else is SIGNER_BAD_REQUEST and reaches neither the key nor the protection database.
//   { "type": "VRF",           "input": "0x…" }
//   { "type": "BLOCK",         "signingRoot": "0x…32", "slot": "12" }
//   { "type": "ATTESTATION",   "signingRoot": "0x…32", "sourceSlot": "10", "targetSlot": "12" }
//   { "type": "FINALIZE_VOTE", "signingRoot": "0x…32", "slot": "12" }
// Answer: 200 { "signature": "0x…96" }.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { SignerError } from "./errors.ts";

export const MAX_SIGN_BODY_BYTES = 16 * 1024;
/** VRF inputs are 32-byte hashes today; a little room, still far below the body limit. */
export const MAX_VRF_INPUT_BYTES = 1024;
export const SIGN_TYPES = ["VRF", "BLOCK", "ATTESTATION", "FINALIZE_VOTE"] as const;
export type SignType = (typeof SIGN_TYPES)[number];

export type SignRequest =
  | { type: "VRF"; input: Uint8Array }
  | { type: "BLOCK"; signingRoot: Uint8Array; slot: bigint }
  | { type: "ATTESTATION"; signingRoot: Uint8Array; sourceSlot: bigint; targetSlot: bigint }
  | { type: "FINALIZE_VOTE"; signingRoot: Uint8Array; slot: bigint };

const FIELDS: Record<SignType, readonly string[]> = {
  VRF: ["type", "input"],
  BLOCK: ["type", "signingRoot", "slot"],
  ATTESTATION: ["type", "signingRoot", "sourceSlot", "targetSlot"],
  FINALIZE_VOTE: ["type", "signingRoot", "slot"],
};
const MAX_U64 = (1n << 64n) - 1n;
const U64_RE = /^(0|[1-9][0-9]{0,19})$/;
const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/;
const PUBKEY_RE = /^0x[0-9a-fA-F]{96}$/;

function bad(reason: string): never {
  throw new SignerError({ code: "SIGNER_BAD_REQUEST", reason });
}

/** The bytes a request's signature is over: the signing root, or the VRF input. */
export function signedMessage(r: SignRequest): Uint8Array {
  return r.type === "VRF" ? r.input : r.signingRoot;
}

export function encodeSignRequest(r: SignRequest): string {
  switch (r.type) {
    case "VRF":
      return JSON.stringify({ type: r.type, input: bytesToHex(r.input) });
    case "BLOCK":
    case "FINALIZE_VOTE":
      return JSON.stringify({ type: r.type, signingRoot: bytesToHex(r.signingRoot), slot: r.slot.toString() });
    case "ATTESTATION":
      return JSON.stringify({
        type: r.type,
        signingRoot: bytesToHex(r.signingRoot),
        sourceSlot: r.sourceSlot.toString(),
        targetSlot: r.targetSlot.toString(),
      });
  }
}

/** Parse a request body (bytes as received). Throws SIGNER_BODY_TOO_LARGE or SIGNER_BAD_REQUEST. */
export function parseSignRequest(body: Uint8Array): SignRequest {
  if (body.length > MAX_SIGN_BODY_BYTES) {
    throw new SignerError({ code: "SIGNER_BODY_TOO_LARGE", limit: MAX_SIGN_BODY_BYTES });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    bad("body is not UTF-8 JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) bad("body must be a JSON object");
  const o = doc as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== "string" || !(SIGN_TYPES as readonly string[]).includes(type)) {
    bad(`type must be one of ${SIGN_TYPES.join(", ")}`);
  }
  const t = type as SignType;
  const extra = Object.keys(o).filter((k) => !FIELDS[t].includes(k));
  if (extra.length > 0) bad(`unexpected field ${JSON.stringify(extra[0]?.slice(0, 32))} for ${t}`);
  switch (t) {
    case "VRF": {
      const input = hexField(o.input, "input");
      if (input.length === 0 || input.length > MAX_VRF_INPUT_BYTES)
        bad(`input must be 1..${MAX_VRF_INPUT_BYTES} bytes`);
      return { type: t, input };
    }
    case "BLOCK":
    case "FINALIZE_VOTE":
      return { type: t, signingRoot: rootField(o.signingRoot), slot: u64Field(o.slot, "slot") };
    case "ATTESTATION": {
      const sourceSlot = u64Field(o.sourceSlot, "sourceSlot");
      const targetSlot = u64Field(o.targetSlot, "targetSlot");
      if (sourceSlot > targetSlot) bad("sourceSlot after targetSlot");
      return { type: t, signingRoot: rootField(o.signingRoot), sourceSlot, targetSlot };
    }
  }
}

/** A `{publicKey}` path segment: 0x and 96 hex digits, returned lower-case. */
export function parsePublicKeyParam(s: string): string {
  if (!PUBKEY_RE.test(s)) bad("public key must be 0x followed by 96 hex digits");
  return s.toLowerCase();
}

function hexField(v: unknown, what: string): Uint8Array {
  if (typeof v !== "string" || v.length > 2 + 2 * MAX_SIGN_BODY_BYTES || !HEX_RE.test(v)) {
    bad(`${what} must be 0x-hex`);
  }
  return hexToBytes(v);
}

function rootField(v: unknown): Uint8Array {
  const b = hexField(v, "signingRoot");
  if (b.length !== 32) bad("signingRoot must be 32 bytes");
  return b;
}

function u64Field(v: unknown, what: string): bigint {
  if (typeof v !== "string" || !U64_RE.test(v)) bad(`${what} must be a decimal u64 string`);
  const n = BigInt(v);
  if (n > MAX_U64) bad(`${what} exceeds u64`);
  return n;
}
