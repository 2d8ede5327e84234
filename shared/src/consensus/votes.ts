// Votes on the wire: attestations (the FFG + LMD vote of a slot) and finalize votes (the second vote of a slot), each
// single and as BLS aggregates of many validators signing the same data. Integers are big-endian, ‖ is concatenation,
// RLP integers canonical:
//
//   attestation data   = rlp([slot, headRoot[32], source.slot, source.root[32], target.slot, target.root[32]])
//   attestation root   = H("RUSTCHAIN_ATTESTATION_V1" ‖ u64(chainId) ‖ attestation data)
//   finalize data      = rlp([slot, root[32]])                       the checkpoint (slot, root) voted final
//   finalize root      = H("RUSTCHAIN_FINALIZE_V1" ‖ u64(chainId) ‖ finalize data)
//   single             = rlp([validatorIndex, dataList, signature])  signature = BLS.sign(sk, root), 96 bytes (G2)
//   aggregate          = rlp([dataList, bits, signature])
//                        bits: participant i is bit (i mod 8) of byte floor(i / 8) (little-endian bit order), and
//                        bits.length = ceil(validatorCount / 8); signature = BLS aggregate of the participants'
//
// H is BLAKE3, passed in (`HashFn`) so this module runs where hash-wasm cannot (Cloudflare Workers compile no
// WebAssembly at run time); the node binds it to its BLAKE3 in validator/src/consensus/messages/. The domain tags
// differ from each other and from the block's ("RUSTCHAIN_BLOCK_V1") and the VRF's in their first bytes, so no
// signing root of one kind can equal one of another. Decoders accept exactly one encoding per message (they re-encode
// and compare), so equal messages have equal bytes, which gossip message ids and deduplication rely on.

import { ChainError } from "../errors.ts";
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from "../hex.ts";
import { type RlpDecoded, type RlpInput, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "../rlp.ts";
import {
  type AttestationData,
  type Checkpoint,
  type IndexedAttestation,
  isRoot,
  isSlot,
  type Root,
} from "./checkpoint.ts";
import { MessageError } from "./errors.ts";

export type HashFn = (data: Uint8Array) => Uint8Array;

export const ATTESTATION_DOMAIN = new TextEncoder().encode("RUSTCHAIN_ATTESTATION_V1");
export const FINALIZE_DOMAIN = new TextEncoder().encode("RUSTCHAIN_FINALIZE_V1");
export const VOTE_SIGNATURE_LENGTH = 96;
/** Largest validator set an aggregate bitfield can describe. */
export const MAX_VALIDATOR_COUNT = 8192;
export const MAX_AGGREGATION_BITS_BYTES = MAX_VALIDATOR_COUNT / 8;
/** Upper bounds on encoded sizes (the largest valid encodings are ~230 and ~1,250 bytes). */
export const MAX_SIGNED_ATTESTATION_BYTES = 512;
export const MAX_AGGREGATE_ATTESTATION_BYTES = 2048;
export const MAX_SIGNED_FINALIZE_VOTE_BYTES = 256;
export const MAX_FINALIZE_AGGREGATE_BYTES = 1536;

const MAX_U64 = (1n << 64n) - 1n;

export interface SignedAttestation {
  readonly validatorIndex: number;
  readonly data: AttestationData;
  readonly signature: Uint8Array;
}

export interface AggregateAttestation {
  readonly data: AttestationData;
  /** Participants over validator indices, little-endian bit order; length = ceil(validatorCount / 8). */
  readonly bits: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SignedFinalizeVote {
  readonly validatorIndex: number;
  readonly checkpoint: Checkpoint;
  readonly signature: Uint8Array;
}

export interface FinalizeAggregate {
  readonly checkpoint: Checkpoint;
  readonly bits: Uint8Array;
  readonly signature: Uint8Array;
}

// ---------------------------------------------------------------- signing roots

/** What a validator signs for `data` on chain `chainId`. Throws MESSAGE_MALFORMED for non-canonical data. */
export function attestationSigningRoot(hash: HashFn, chainId: bigint, data: AttestationData): Uint8Array {
  checkDataFields(data);
  return hash(concatBytes(ATTESTATION_DOMAIN, u64(chainId), rlpEncode(dataFields(data))));
}

/** What a validator signs to vote `checkpoint` final on chain `chainId`. Throws MESSAGE_MALFORMED on bad input. */
export function finalizeSigningRoot(hash: HashFn, chainId: bigint, checkpoint: Checkpoint): Uint8Array {
  checkCheckpoint(checkpoint, "checkpoint");
  return hash(concatBytes(FINALIZE_DOMAIN, u64(chainId), rlpEncode(checkpointFields(checkpoint))));
}

// ---------------------------------------------------------------- attestations

export function encodeSignedAttestation(att: SignedAttestation): Uint8Array {
  checkValidatorIndex(att.validatorIndex);
  checkAttestationData(att.data);
  checkSignatureLength(att.signature);
  return rlpEncode([att.validatorIndex, dataFields(att.data), att.signature]);
}

/** Strict, bounded decoding; throws MESSAGE_MALFORMED (never anything else) on any other input. */
export function decodeSignedAttestation(bytes: Uint8Array): SignedAttestation {
  return decodeCanonical(bytes, MAX_SIGNED_ATTESTATION_BYTES, encodeSignedAttestation, (item) => {
    const [index, data, signature] = rlpList(item, "signed attestation", 3);
    return {
      validatorIndex: decodeSafeInt(index, "validatorIndex"),
      data: decodeData(data),
      signature: rlpBytes(signature, "signature"),
    };
  });
}

/** A one-participant aggregate of a single attestation, for a validator set of `validatorCount`. */
export function aggregateFromAttestation(att: SignedAttestation, validatorCount: number): AggregateAttestation {
  checkValidatorCount(validatorCount);
  checkValidatorIndex(att.validatorIndex);
  checkAttestationData(att.data);
  if (att.validatorIndex >= validatorCount) throw malformed("validatorIndex outside the validator set");
  const bits = new Uint8Array(Math.ceil(validatorCount / 8));
  setBit(bits, att.validatorIndex);
  return { data: att.data, bits, signature: att.signature };
}

export function encodeAggregateAttestation(agg: AggregateAttestation): Uint8Array {
  checkAttestationData(agg.data);
  checkBits(agg.bits);
  checkSignatureLength(agg.signature);
  return rlpEncode([dataFields(agg.data), agg.bits, agg.signature]);
}

/** Strict, bounded decoding; throws MESSAGE_MALFORMED (never anything else) on any other input. */
export function decodeAggregateAttestation(bytes: Uint8Array): AggregateAttestation {
  return decodeCanonical(bytes, MAX_AGGREGATE_ATTESTATION_BYTES, encodeAggregateAttestation, (item) => {
    const [data, bits, signature] = rlpList(item, "aggregate attestation", 3);
    return {
      data: decodeData(data),
      bits: rlpBytes(bits, "bits", MAX_AGGREGATION_BITS_BYTES),
      signature: rlpBytes(signature, "signature"),
    };
  });
}

/** One IndexedAttestation per participant, as FinalityTracker and ForkChoice take them (after verification). */
export function toIndexed(agg: AggregateAttestation): IndexedAttestation[] {
  return aggregateParticipants(agg).map((validatorIndex) => ({ validatorIndex, data: agg.data }));
}

/** rlp(data) as signed and sent (validated first; throws MESSAGE_MALFORMED). */
export function encodeAttestationData(data: AttestationData): Uint8Array {
  checkAttestationData(data);
  return rlpEncode(dataFields(data));
}

/** A string key equal for equal AttestationData (map key for pools). */
export function attestationDataKey(d: AttestationData): string {
  return `${d.slot}/${d.headRoot}/${d.source.slot}/${d.source.root}/${d.target.slot}/${d.target.root}`;
}

/**
 * Checks everything a decoder checks about AttestationData: slots are safe non-negative integers, roots canonical,
 * target.slot === slot and source.slot < target.slot (the FFG link rules that no valid vote can break).
 */
export function checkAttestationData(data: AttestationData): void {
  checkDataFields(data);
  if (data.target.slot !== data.slot) throw malformed("target.slot differs from slot");
  if (data.source.slot >= data.target.slot) throw malformed("source.slot is not before target.slot");
}

// ---------------------------------------------------------------- finalize votes

export function encodeSignedFinalizeVote(vote: SignedFinalizeVote): Uint8Array {
  checkValidatorIndex(vote.validatorIndex);
  checkCheckpoint(vote.checkpoint, "checkpoint");
  checkSignatureLength(vote.signature);
  return rlpEncode([vote.validatorIndex, checkpointFields(vote.checkpoint), vote.signature]);
}

/** Strict, bounded decoding; throws MESSAGE_MALFORMED (never anything else) on any other input. */
export function decodeSignedFinalizeVote(bytes: Uint8Array): SignedFinalizeVote {
  return decodeCanonical(bytes, MAX_SIGNED_FINALIZE_VOTE_BYTES, encodeSignedFinalizeVote, (item) => {
    const [index, checkpoint, signature] = rlpList(item, "signed finalize vote", 3);
    return {
      validatorIndex: decodeSafeInt(index, "validatorIndex"),
      checkpoint: decodeCheckpoint(checkpoint, "checkpoint"),
      signature: rlpBytes(signature, "signature"),
    };
  });
}

/** A one-participant aggregate of a single finalize vote, for a validator set of `validatorCount`. */
export function aggregateFromFinalizeVote(vote: SignedFinalizeVote, validatorCount: number): FinalizeAggregate {
  checkValidatorCount(validatorCount);
  checkValidatorIndex(vote.validatorIndex);
  checkCheckpoint(vote.checkpoint, "checkpoint");
  if (vote.validatorIndex >= validatorCount) throw malformed("validatorIndex outside the validator set");
  const bits = new Uint8Array(Math.ceil(validatorCount / 8));
  setBit(bits, vote.validatorIndex);
  return { checkpoint: vote.checkpoint, bits, signature: vote.signature };
}

export function encodeFinalizeAggregate(agg: FinalizeAggregate): Uint8Array {
  checkCheckpoint(agg.checkpoint, "checkpoint");
  checkBits(agg.bits);
  checkSignatureLength(agg.signature);
  return rlpEncode([checkpointFields(agg.checkpoint), agg.bits, agg.signature]);
}

/** Strict, bounded decoding; throws MESSAGE_MALFORMED (never anything else) on any other input. */
export function decodeFinalizeAggregate(bytes: Uint8Array): FinalizeAggregate {
  return decodeCanonical(bytes, MAX_FINALIZE_AGGREGATE_BYTES, encodeFinalizeAggregate, (item) => {
    const [checkpoint, bits, signature] = rlpList(item, "finalize aggregate", 3);
    return {
      checkpoint: decodeCheckpoint(checkpoint, "checkpoint"),
      bits: rlpBytes(bits, "bits", MAX_AGGREGATION_BITS_BYTES),
      signature: rlpBytes(signature, "signature"),
    };
  });
}

/** rlp([slot, root]) as signed (validated first; throws MESSAGE_MALFORMED). */
export function encodeFinalizeData(checkpoint: Checkpoint): Uint8Array {
  checkCheckpoint(checkpoint, "checkpoint");
  return rlpEncode(checkpointFields(checkpoint));
}

// ---------------------------------------------------------------- participation bits

/** Validator indices whose bit is set in an aggregate's bits, ascending. */
export function aggregateParticipants(agg: { readonly bits: Uint8Array }): number[] {
  const bits = agg.bits;
  const out: number[] = [];
  for (let byte = 0; byte < bits.length; byte++) {
    const b = bits[byte] as number;
    if (b === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((b >> bit) & 1) out.push(byte * 8 + bit);
  }
  return out;
}

/** Number of set bits. */
export function participantCount(bits: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) {
    let b = bits[i] as number;
    while (b !== 0) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

export function setBit(bits: Uint8Array, index: number): void {
  bits[index >> 3] = (bits[index >> 3] as number) | (1 << (index & 7));
}

export function hasBit(bits: Uint8Array, index: number): boolean {
  return index >> 3 < bits.length && ((bits[index >> 3] as number) & (1 << (index & 7))) !== 0;
}

/**
 * The participants of an aggregate over a set of `validatorCount`, or undefined when the bitfield cannot describe a
 * subset of it: wrong length (exactly ceil(validatorCount / 8) bytes), a bit beyond the set, or no bit at all.
 */
export function participantsIn(bits: Uint8Array, validatorCount: number): number[] | undefined {
  if (!(bits instanceof Uint8Array) || bits.length !== Math.ceil(validatorCount / 8)) return undefined;
  const participants = aggregateParticipants({ bits });
  if (participants.length === 0 || (participants.at(-1) as number) >= validatorCount) return undefined;
  return participants;
}

// ---------------------------------------------------------------- helpers

function u64(n: bigint): Uint8Array {
  if (typeof n !== "bigint" || n < 0n || n > MAX_U64) throw malformed("chainId is not a u64");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

function checkDataFields(data: AttestationData): void {
  if (typeof data !== "object" || data === null) throw malformed("attestation data");
  if (!isSlot(data.slot) || !isRoot(data.headRoot)) throw malformed("slot or headRoot");
  checkCheckpoint(data.source, "source");
  checkCheckpoint(data.target, "target");
}

function checkCheckpoint(cp: Checkpoint, what: string): void {
  if (typeof cp !== "object" || cp === null || !isSlot(cp.slot) || !isRoot(cp.root)) throw malformed(what);
}

/** A validator index any message may carry: a safe non-negative integer below MAX_VALIDATOR_COUNT. */
export function checkValidatorIndex(index: number): void {
  if (!isSlot(index) || index >= MAX_VALIDATOR_COUNT) throw malformed("validatorIndex");
}

function checkValidatorCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_VALIDATOR_COUNT) throw malformed("validatorCount");
}

function checkSignatureLength(signature: Uint8Array): void {
  if (!(signature instanceof Uint8Array) || signature.length !== VOTE_SIGNATURE_LENGTH) {
    throw malformed("signature is not 96 bytes");
  }
}

function checkBits(bits: Uint8Array): void {
  if (!(bits instanceof Uint8Array) || bits.length === 0 || bits.length > MAX_AGGREGATION_BITS_BYTES) {
    throw malformed("bits length");
  }
  if (bits.every((b) => b === 0)) throw malformed("no participants");
}

function dataFields(d: AttestationData): RlpInput[] {
  return [
    d.slot,
    rootBytes(d.headRoot),
    d.source.slot,
    rootBytes(d.source.root),
    d.target.slot,
    rootBytes(d.target.root),
  ];
}

function checkpointFields(cp: Checkpoint): RlpInput[] {
  return [cp.slot, rootBytes(cp.root)];
}

function rootBytes(root: Root): Uint8Array {
  return hexToBytes(root);
}

function decodeData(item: RlpDecoded | undefined): AttestationData {
  const [slot, head, sourceSlot, sourceRoot, targetSlot, targetRoot] = rlpList(item, "attestation data", 6);
  return {
    slot: decodeSafeInt(slot, "slot"),
    headRoot: decodeRoot(head, "headRoot"),
    source: { slot: decodeSafeInt(sourceSlot, "source.slot"), root: decodeRoot(sourceRoot, "source.root") },
    target: { slot: decodeSafeInt(targetSlot, "target.slot"), root: decodeRoot(targetRoot, "target.root") },
  };
}

function decodeCheckpoint(item: RlpDecoded | undefined, what: string): Checkpoint {
  const [slot, root] = rlpList(item, what, 2);
  return { slot: decodeSafeInt(slot, `${what}.slot`), root: decodeRoot(root, `${what}.root`) };
}

function decodeSafeInt(item: RlpDecoded | undefined, what: string): number {
  const n = rlpUint(item, what, 8);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${what} is not a safe integer`);
  return Number(n);
}

function decodeRoot(item: RlpDecoded | undefined, what: string): Root {
  const b = rlpBytes(item, what, 32);
  if (b.length !== 32) throw malformed(`${what} is not 32 bytes`);
  return bytesToHex(b);
}

/**
 * Decode `bytes` (at most `limit` long) with `parse`, then require that `encode` gives back exactly `bytes`: this
 * runs every semantic check of the encoder and rejects any second encoding of the same message. Codec errors
 * (ChainError) come out as MESSAGE_MALFORMED.
 */
function decodeCanonical<T>(
  bytes: Uint8Array,
  limit: number,
  encode: (value: T) => Uint8Array,
  parse: (item: RlpDecoded) => T,
): T {
  if (!(bytes instanceof Uint8Array)) throw malformed("not bytes");
  if (bytes.length > limit) throw malformed(`${bytes.length} bytes exceeds the limit of ${limit}`);
  try {
    const value = parse(rlpDecode(bytes, limit));
    if (!equalBytes(encode(value), bytes)) throw malformed("non-canonical encoding");
    return value;
  } catch (e) {
    if (e instanceof MessageError) throw e;
    if (e instanceof ChainError) throw malformed("reason" in e.type ? e.type.reason : e.type.code);
    throw malformed("undecodable");
  }
}

function malformed(reason: string): MessageError {
  return new MessageError({ code: "MESSAGE_MALFORMED", reason });
}
