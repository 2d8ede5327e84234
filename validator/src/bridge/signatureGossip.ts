// The `bridge_signatures` gossip topic: one committee member's signature over one bridge message body.
//
//   RLP [guardianSetIndex, guardianIndex, signature (65 bytes: r ‖ s ‖ recovery id), body]
//
// Validation is pure (docs/bridge.md, "The committee"): the body must decode within the VAA bounds, the set must be
// one we know, the index inside it, and the signature must recover to that guardian's key. A signature from a set we
// do not know yet is IGNOREd (we may be behind on a rotation); anything that can never be valid is REJECTed.
import { equalBytes, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "@rustchain/shared";
import {
  decodeVaaBody,
  type GuardianSet,
  MAX_VAA_PAYLOAD,
  recoverSigner,
  vaaDigest,
} from "@rustchain/shared/bridge/vaa";
import { GossipValidationError } from "../network/errors.ts";

/** The largest message: a full body plus the signature fields. */
export const MAX_BRIDGE_SIGNATURE_BYTES = MAX_VAA_PAYLOAD + 51 + 128;

export interface BridgeSignatureMessage {
  guardianSetIndex: number;
  guardianIndex: number;
  signature: Uint8Array;
  body: Uint8Array;
}

export function encodeBridgeSignature(m: BridgeSignatureMessage): Uint8Array {
  return rlpEncode([BigInt(m.guardianSetIndex), BigInt(m.guardianIndex), m.signature, m.body]);
}

export interface BridgeSignatureContext {
  guardianSet(index: number): GuardianSet | undefined;
}

export function validateGossipBridgeSignature(
  ctx: BridgeSignatureContext,
  data: Uint8Array,
): BridgeSignatureMessage & { digest: Uint8Array } {
  let m: BridgeSignatureMessage;
  try {
    const [set, index, signature, body] = rlpList(rlpDecode(data, MAX_BRIDGE_SIGNATURE_BYTES), "bridge signature", 4);
    m = {
      guardianSetIndex: Number(rlpUint(set, "guardian set", 4)),
      guardianIndex: Number(rlpUint(index, "guardian index", 1)),
      signature: rlpBytes(signature, "signature", 65),
      body: rlpBytes(body, "body", MAX_VAA_PAYLOAD + 51),
    };
    decodeVaaBody(m.body);
  } catch {
    throw new GossipValidationError("REJECT", { code: "BRIDGE_SIGNATURE_MALFORMED" });
  }
  const set = ctx.guardianSet(m.guardianSetIndex);
  if (!set) throw new GossipValidationError("IGNORE", { code: "BRIDGE_SIGNATURE_UNKNOWN_SET" });
  const key = set.keys[m.guardianIndex];
  if (!key) throw new GossipValidationError("REJECT", { code: "BRIDGE_SIGNATURE_BAD_INDEX" });
  const digest = vaaDigest(m.body);
  const signer = recoverSigner(digest, m.signature);
  if (!signer || !equalBytes(signer, key))
    throw new GossipValidationError("REJECT", { code: "BRIDGE_SIGNATURE_INVALID" });
  return { ...m, digest };
}
