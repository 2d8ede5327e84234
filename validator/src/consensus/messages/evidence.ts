// Slashing evidence, as gossiped and as carried in block bodies. Two messages signed by one validator that together
// break a slashing rule (docs/consensus.md, "Slashing"):
//
//   evidence          = rlp([kind, message1, message2])      each message an RLP byte string holding
//   kind 1            double proposal: encodeHeader(header1), encodeHeader(header2)   (shared/block.ts)
//   kind 2            attester:        encodeSignedAttestation(a1), encodeSignedAttestation(a2)
//   kind 3            double finalize: encodeSignedFinalizeVote(f1), encodeSignedFinalizeVote(f2)
//   kind 4            finalize surround: encodeSignedFinalizeVote(f), encodeSignedAttestation(a)
//   evidenceId        = blake3("RUSTCHAIN_EVIDENCE_V1" ‖ kind ‖ min(m1, m2) ‖ max(m1, m2)), where m is
//                         kind 1: blockHash(header)            (the signature is deterministic and excluded)
//                         kind 2: blake3(u64(validatorIndex) ‖ rlp(data))   (rlp(data) as in attestation.ts)
//                         kind 3: blake3(u64(validatorIndex) ‖ rlp([slot, root])) of each finalize vote
//                         kind 4: those of the finalize vote and of the attestation
//
// The id names the offence, not the bytes: the same two messages in either order, or re-encoded, give the same id,
// so a block includes each offence once. A validator caught several times (three conflicting votes make three
// pairs) has several ids; the state transition slashes it once.
import {
  BLS_SIGNATURE_LENGTH,
  type BlockHeader,
  blake3,
  blockHash,
  blsVerify,
  bytesToHex,
  ChainError,
  compareBytes,
  concatBytes,
  decodeHeader,
  encodeHeader,
  equalBytes,
  type RlpDecoded,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  rlpUint,
} from "@rustchain/shared";
import { blockSigningRoot } from "../../chain/chain.ts";
import { detectAttesterSlashing, detectDoubleProposal, detectFinalizerSlashing } from "../forkChoice/slashing.ts";
import {
  attestationSigningRoot,
  checkAttestationData,
  decodeSignedAttestation,
  decodeSignedFinalizeVote,
  encodeAttestationData,
  encodeFinalizeData,
  encodeSignedAttestation,
  encodeSignedFinalizeVote,
  finalizeSigningRoot,
  MAX_SIGNED_ATTESTATION_BYTES,
  MAX_SIGNED_FINALIZE_VOTE_BYTES,
  MAX_VALIDATOR_COUNT,
  type SignedAttestation,
  type SignedFinalizeVote,
} from "./attestation.ts";
import { EvidenceError, MessageError } from "./errors.ts";

export type Evidence =
  | { readonly kind: "double_proposal"; readonly header1: BlockHeader; readonly header2: BlockHeader }
  | { readonly kind: "attester"; readonly a1: SignedAttestation; readonly a2: SignedAttestation }
  | { readonly kind: "double_finalize"; readonly f1: SignedFinalizeVote; readonly f2: SignedFinalizeVote }
  | {
      readonly kind: "finalize_surround";
      readonly finalize: SignedFinalizeVote;
      readonly attestation: SignedAttestation;
    };

export interface EvidenceContext {
  readonly chainId: bigint;
  /** BLS public key of a validator, undefined when the index is not in the set. */
  pubkeyOf(index: number): Uint8Array | undefined;
}

export interface VerifiedEvidence {
  /** The validator to slash. */
  readonly offender: number;
  readonly kind: "double_proposal" | "double_vote" | "surround_vote" | "double_finalize" | "finalize_surround";
}

export const EVIDENCE_DOMAIN = new TextEncoder().encode("RUSTCHAIN_EVIDENCE_V1");
/** decodeHeader refuses headers above 4096 bytes; two of them plus the list framing fit here. */
export const MAX_HEADER_BYTES = 4096;
export const MAX_EVIDENCE_BYTES = 2 * MAX_HEADER_BYTES + 32;

const KIND_DOUBLE_PROPOSAL = 1;
const KIND_ATTESTER = 2;
const KIND_DOUBLE_FINALIZE = 3;
const KIND_FINALIZE_SURROUND = 4;

export function encodeEvidence(ev: Evidence): Uint8Array {
  if (ev.kind === "double_proposal") {
    checkHeader(ev.header1);
    checkHeader(ev.header2);
    return rlpEncode([KIND_DOUBLE_PROPOSAL, encodeHeader(ev.header1), encodeHeader(ev.header2)]);
  }
  if (ev.kind === "attester") {
    return rlpEncode([KIND_ATTESTER, encodeAttestation(ev.a1), encodeAttestation(ev.a2)]);
  }
  if (ev.kind === "double_finalize") {
    return rlpEncode([KIND_DOUBLE_FINALIZE, encodeFinalize(ev.f1), encodeFinalize(ev.f2)]);
  }
  if (ev.kind === "finalize_surround") {
    return rlpEncode([KIND_FINALIZE_SURROUND, encodeFinalize(ev.finalize), encodeAttestation(ev.attestation)]);
  }
  throw malformed("unknown kind");
}

/** Strict, bounded decoding; throws EVIDENCE_MALFORMED (never anything else) on any other input. */
export function decodeEvidence(bytes: Uint8Array): Evidence {
  if (!(bytes instanceof Uint8Array)) throw malformed("not bytes");
  if (bytes.length > MAX_EVIDENCE_BYTES)
    throw malformed(`${bytes.length} bytes exceeds the limit of ${MAX_EVIDENCE_BYTES}`);
  let ev: Evidence;
  try {
    const [kind, m1, m2] = rlpList(rlpDecode(bytes, MAX_EVIDENCE_BYTES), "evidence", 3);
    const tag = rlpUint(kind, "kind", 1);
    if (tag === BigInt(KIND_DOUBLE_PROPOSAL)) {
      ev = { kind: "double_proposal", header1: decodeHeaderItem(m1), header2: decodeHeaderItem(m2) };
    } else if (tag === BigInt(KIND_ATTESTER)) {
      ev = {
        kind: "attester",
        a1: decodeSignedAttestation(rlpBytes(m1, "attestation 1", MAX_SIGNED_ATTESTATION_BYTES)),
        a2: decodeSignedAttestation(rlpBytes(m2, "attestation 2", MAX_SIGNED_ATTESTATION_BYTES)),
      };
    } else if (tag === BigInt(KIND_DOUBLE_FINALIZE)) {
      ev = {
        kind: "double_finalize",
        f1: decodeSignedFinalizeVote(rlpBytes(m1, "finalize vote 1", MAX_SIGNED_FINALIZE_VOTE_BYTES)),
        f2: decodeSignedFinalizeVote(rlpBytes(m2, "finalize vote 2", MAX_SIGNED_FINALIZE_VOTE_BYTES)),
      };
    } else if (tag === BigInt(KIND_FINALIZE_SURROUND)) {
      ev = {
        kind: "finalize_surround",
        finalize: decodeSignedFinalizeVote(rlpBytes(m1, "finalize vote", MAX_SIGNED_FINALIZE_VOTE_BYTES)),
        attestation: decodeSignedAttestation(rlpBytes(m2, "attestation", MAX_SIGNED_ATTESTATION_BYTES)),
      };
    } else {
      throw malformed("unknown kind");
    }
    // One encoding per piece of evidence (the parts already re-encode exactly; this catches the outer framing).
    if (!equalBytes(encodeEvidence(ev), bytes)) throw malformed("non-canonical encoding");
  } catch (e) {
    throw asMalformed(e);
  }
  return ev;
}

/**
 * Checks that `ev` proves an offence and returns the offender. In order: well-formed (EVIDENCE_MALFORMED), a
 * slashable pair by one validator (EVIDENCE_NOT_SLASHABLE), the validator is in the set (EVIDENCE_UNKNOWN_VALIDATOR),
 * both signatures verify on this chain (EVIDENCE_BAD_SIGNATURE). Cheap checks come before the two BLS verifications.
 */
export function verifyEvidence(ev: Evidence, ctx: EvidenceContext): VerifiedEvidence {
  if (typeof ev !== "object" || ev === null) throw malformed("not an object");
  if (ev.kind === "double_proposal") return verifyDoubleProposal(ev.header1, ev.header2, ctx);
  if (ev.kind === "attester") return verifyAttester(ev.a1, ev.a2, ctx);
  if (ev.kind === "double_finalize") return verifyFinalizer(ev.f1, ev.f2, ctx);
  if (ev.kind === "finalize_surround") return verifyFinalizer(ev.finalize, ev.attestation, ctx);
  throw malformed("unknown kind");
}

/** The offence's id (lowercase 0x hex of 32 bytes), independent of message order and encoding. */
export function evidenceId(ev: Evidence): string {
  if (typeof ev !== "object" || ev === null) throw malformed("not an object");
  let kind: number;
  let m1: Uint8Array;
  let m2: Uint8Array;
  if (ev.kind === "double_proposal") {
    checkHeader(ev.header1);
    checkHeader(ev.header2);
    kind = KIND_DOUBLE_PROPOSAL;
    m1 = blockHash(ev.header1);
    m2 = blockHash(ev.header2);
  } else if (ev.kind === "attester") {
    kind = KIND_ATTESTER;
    checkAttestation(ev.a1);
    checkAttestation(ev.a2);
    m1 = attestationId(ev.a1);
    m2 = attestationId(ev.a2);
  } else if (ev.kind === "double_finalize") {
    kind = KIND_DOUBLE_FINALIZE;
    checkFinalize(ev.f1);
    checkFinalize(ev.f2);
    m1 = finalizeId(ev.f1);
    m2 = finalizeId(ev.f2);
  } else if (ev.kind === "finalize_surround") {
    kind = KIND_FINALIZE_SURROUND;
    checkFinalize(ev.finalize);
    checkAttestation(ev.attestation);
    m1 = finalizeId(ev.finalize);
    m2 = attestationId(ev.attestation);
  } else {
    throw malformed("unknown kind");
  }
  const [lo, hi] = compareBytes(m1, m2) <= 0 ? [m1, m2] : [m2, m1];
  return bytesToHex(blake3(concatBytes(EVIDENCE_DOMAIN, Uint8Array.of(kind), lo, hi)));
}

function verifyDoubleProposal(h1: BlockHeader, h2: BlockHeader, ctx: EvidenceContext): VerifiedEvidence {
  checkHeader(h1);
  checkHeader(h2);
  const hash1 = blockHash(h1);
  const hash2 = blockHash(h2);
  // Same proposer, same slot, different blocks (forkChoice/slashing.ts, double proposal).
  const found = detectDoubleProposal(proposal(h1, hash1), proposal(h2, hash2));
  if (found === undefined) throw notSlashable("not two different headers by one proposer for one slot");
  const pubkey = pubkeyOrThrow(ctx, found.proposerIndex);
  // Both headers carry the proposer's signature over their block hash on this chain.
  if (!blsVerify(pubkey, blockSigningRoot(ctx.chainId, hash1), h1.signature)) throw badSignature(1);
  if (!blsVerify(pubkey, blockSigningRoot(ctx.chainId, hash2), h2.signature)) throw badSignature(2);
  return { offender: found.proposerIndex, kind: "double_proposal" };
}

function verifyAttester(a1: SignedAttestation, a2: SignedAttestation, ctx: EvidenceContext): VerifiedEvidence {
  checkAttestation(a1);
  checkAttestation(a2);
  // Same validator, and a double vote or a surround vote (forkChoice/slashing.ts).
  const found = detectAttesterSlashing(a1, a2);
  if (found === undefined) throw notSlashable("neither a double vote nor a surround vote by one validator");
  const pubkey = pubkeyOrThrow(ctx, found.validatorIndex);
  // Both attestations carry the validator's signature over their data on this chain.
  if (!blsVerify(pubkey, attestationSigningRoot(ctx.chainId, a1.data), a1.signature)) throw badSignature(1);
  if (!blsVerify(pubkey, attestationSigningRoot(ctx.chainId, a2.data), a2.signature)) throw badSignature(2);
  return { offender: found.validatorIndex, kind: found.kind };
}

/** Two votes of which at least one is a finalize vote: a double finalize or a finalize surround, both signed. */
function verifyFinalizer(
  v1: SignedFinalizeVote,
  v2: SignedFinalizeVote | SignedAttestation,
  ctx: EvidenceContext,
): VerifiedEvidence {
  checkFinalize(v1);
  if ("checkpoint" in v2) checkFinalize(v2);
  else checkAttestation(v2);
  // Same validator, two finalize votes for one slot, or an attestation surrounding the finalize vote on the grid.
  const found = detectFinalizerSlashing<SignedFinalizeVote, SignedAttestation>(v1, v2);
  if (found === undefined) throw notSlashable("neither a double finalize vote nor a finalize vote surrounded");
  const pubkey = pubkeyOrThrow(ctx, found.validatorIndex);
  if (!blsVerify(pubkey, finalizeSigningRoot(ctx.chainId, v1.checkpoint), v1.signature)) throw badSignature(1);
  const root2 =
    "checkpoint" in v2 ? finalizeSigningRoot(ctx.chainId, v2.checkpoint) : attestationSigningRoot(ctx.chainId, v2.data);
  if (!blsVerify(pubkey, root2, v2.signature)) throw badSignature(2);
  return { offender: found.validatorIndex, kind: found.kind };
}

function finalizeId(f: SignedFinalizeVote): Uint8Array {
  const index = new Uint8Array(8);
  new DataView(index.buffer).setBigUint64(0, BigInt(f.validatorIndex));
  return blake3(concatBytes(index, encodeFinalizeData(f.checkpoint)));
}

function encodeFinalize(f: SignedFinalizeVote): Uint8Array {
  try {
    return encodeSignedFinalizeVote(f);
  } catch (e) {
    throw asMalformed(e);
  }
}

function checkFinalize(f: SignedFinalizeVote): void {
  try {
    if (typeof f !== "object" || f === null) throw malformed("finalize vote");
    encodeSignedFinalizeVote(f);
  } catch (e) {
    throw asMalformed(e);
  }
}

function proposal(h: BlockHeader, hash: Uint8Array) {
  return { slot: Number(h.slot), proposerIndex: Number(h.proposerIndex), root: bytesToHex(hash) };
}

function pubkeyOrThrow(ctx: EvidenceContext, index: number): Uint8Array {
  const pubkey = ctx.pubkeyOf(index);
  if (pubkey === undefined) throw new EvidenceError({ code: "EVIDENCE_UNKNOWN_VALIDATOR", validatorIndex: index });
  return pubkey;
}

function attestationId(a: SignedAttestation): Uint8Array {
  // Index and data name the vote; the signature over them is deterministic, so it is left out.
  const index = new Uint8Array(8);
  new DataView(index.buffer).setBigUint64(0, BigInt(a.validatorIndex));
  return blake3(concatBytes(index, encodeAttestationData(a.data)));
}

function encodeAttestation(a: SignedAttestation): Uint8Array {
  try {
    return encodeSignedAttestation(a);
  } catch (e) {
    throw asMalformed(e);
  }
}

function checkAttestation(a: SignedAttestation): void {
  try {
    if (typeof a !== "object" || a === null) throw malformed("attestation");
    checkAttestationData(a.data);
    encodeSignedAttestation(a);
  } catch (e) {
    throw asMalformed(e);
  }
}

/** What decodeHeader guarantees, plus a full 96-byte signature and indices the consensus layer can use. */
function checkHeader(h: BlockHeader): void {
  if (typeof h !== "object" || h === null) throw malformed("header");
  if (typeof h.slot !== "bigint" || h.slot < 0n || h.slot > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed("slot");
  if (typeof h.proposerIndex !== "bigint" || h.proposerIndex < 0n || h.proposerIndex >= BigInt(MAX_VALIDATOR_COUNT)) {
    throw malformed("proposerIndex");
  }
  if (!(h.signature instanceof Uint8Array) || h.signature.length !== BLS_SIGNATURE_LENGTH) {
    throw malformed("header signature is not 96 bytes");
  }
  let encoded: Uint8Array;
  try {
    encoded = encodeHeader(h);
  } catch (e) {
    throw asMalformed(e);
  }
  if (encoded.length > MAX_HEADER_BYTES) throw malformed("header too large");
  // A header that does not survive its own codec (wrong field sizes) is not a header any node could have signed.
  try {
    if (!equalBytes(encodeHeader(decodeHeader(encoded)), encoded)) throw malformed("header does not round-trip");
  } catch (e) {
    throw asMalformed(e);
  }
}

function decodeHeaderItem(item: RlpDecoded | undefined): BlockHeader {
  const bytes = rlpBytes(item, "header", MAX_HEADER_BYTES);
  const header = decodeHeader(bytes);
  checkHeader(header);
  if (!equalBytes(encodeHeader(header), bytes)) throw malformed("non-canonical header");
  return header;
}

function asMalformed(e: unknown): EvidenceError {
  if (e instanceof EvidenceError) return e;
  if (e instanceof MessageError) return malformed(e.type.reason);
  if (e instanceof ChainError) return malformed("reason" in e.type ? e.type.reason : e.type.code);
  return malformed("undecodable");
}

function malformed(reason: string): EvidenceError {
  return new EvidenceError({ code: "EVIDENCE_MALFORMED", reason });
}

function notSlashable(reason: string): EvidenceError {
  return new EvidenceError({ code: "EVIDENCE_NOT_SLASHABLE", reason });
}

function badSignature(message: 1 | 2): EvidenceError {
  return new EvidenceError({ code: "EVIDENCE_BAD_SIGNATURE", message });
}
