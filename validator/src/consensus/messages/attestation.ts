// Attestations on the wire: what a validator signs, single signed attestations, and BLS aggregates of many validators
// signing the same AttestationData. Specification (integers big-endian, ‖ is concatenation, RLP integers canonical):
//
//   data          = rlp([slot, headRoot[32], source.slot, source.root[32], target.slot, target.root[32]])
//   signingRoot   = blake3("RUSTCHAIN_ATTESTATION_V1" ‖ u64(chainId) ‖ data)
//   signature     = BLS.sign(sk, signingRoot)                      96-byte compressed G2 point (shared/bls.ts)
//   single        = rlp([validatorIndex, dataList, signature])
//   aggregate     = rlp([dataList, bits, signature])
//                   bits: participant i is bit (i mod 8) of byte floor(i / 8) (little-endian bit order), and
//                   bits.length = ceil(validatorCount / 8); signature = BLS aggregate of the participants' signatures
//
// The domain tag differs from the block's ("RUSTCHAIN_BLOCK_V1") and the VRF's in its first bytes, so an attestation
// signing root can never equal a block or VRF signing root. Decoders accept exactly one encoding per message (they
// re-encode and compare), so equal messages have equal bytes, which gossip message ids and deduplication rely on.
import {
  BLS_SIGNATURE_LENGTH,
  blake3,
  blsFastAggregateVerify,
  blsSign,
  blsVerify,
  bytesToHex,
  ChainError,
  concatBytes,
  equalBytes,
  hexToBytes,
  type RlpDecoded,
  type RlpInput,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  rlpUint,
} from "@rustchain/shared";
import { type AttestationData, type IndexedAttestation, isRoot, isSlot, type Root } from "../forkChoice/checkpoint.ts";
import { MessageError } from "./errors.ts";

export const ATTESTATION_DOMAIN = new TextEncoder().encode("RUSTCHAIN_ATTESTATION_V1");
/** Largest validator set an aggregate bitfield can describe. */
export const MAX_VALIDATOR_COUNT = 8192;
export const MAX_AGGREGATION_BITS_BYTES = MAX_VALIDATOR_COUNT / 8;
/** Upper bounds on encoded sizes (the largest valid encodings are ~230 and ~1,250 bytes). */
export const MAX_SIGNED_ATTESTATION_BYTES = 512;
export const MAX_AGGREGATE_ATTESTATION_BYTES = 2048;

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

/** What a validator signs for `data` on chain `chainId`. Throws MESSAGE_MALFORMED for non-canonical data. */
export function attestationSigningRoot(chainId: bigint, data: AttestationData): Uint8Array {
  if (typeof chainId !== "bigint" || chainId < 0n || chainId > MAX_U64) throw malformed("chainId is not a u64");
  checkDataFields(data);
  const chain = new Uint8Array(8);
  new DataView(chain.buffer).setBigUint64(0, chainId);
  return blake3(concatBytes(ATTESTATION_DOMAIN, chain, rlpEncode(dataFields(data))));
}

/**
 * Sign `data` as validator `validatorIndex`. Refuses data that no peer would accept (an invalid FFG link), so a
 * validator never signs a message it cannot publish. Slashing protection must have approved `data` before this.
 */
export function signAttestation(
  secretKey: Uint8Array,
  chainId: bigint,
  validatorIndex: number,
  data: AttestationData,
): SignedAttestation {
  checkValidatorIndex(validatorIndex);
  checkAttestationData(data);
  return { validatorIndex, data, signature: blsSign(secretKey, attestationSigningRoot(chainId, data)) };
}

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

/** The signature is `pubkey`'s over this attestation on chain `chainId`. Malformed input verifies as false. */
export function verifySignedAttestation(att: SignedAttestation, chainId: bigint, pubkey: Uint8Array): boolean {
  let root: Uint8Array;
  try {
    checkValidatorIndex(att.validatorIndex);
    checkAttestationData(att.data);
    root = attestationSigningRoot(chainId, att.data);
  } catch {
    return false;
  }
  return blsVerify(pubkey, root, att.signature);
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

/** Validator indices whose bit is set, ascending. */
export function aggregateParticipants(agg: AggregateAttestation): number[] {
  const out: number[] = [];
  const bits = agg.bits;
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

/**
 * The aggregate signature is the participants' over `agg.data` on chain `chainId`, where participant i has public key
 * `pubkeys[i]`. False when the bitfield does not have exactly ceil(pubkeys.length / 8) bytes, has a bit beyond the
 * validator set, has no participant, or anything is malformed.
 */
export function verifyAggregate(agg: AggregateAttestation, chainId: bigint, pubkeys: readonly Uint8Array[]): boolean {
  if (!(agg.bits instanceof Uint8Array) || agg.bits.length !== Math.ceil(pubkeys.length / 8)) return false;
  const participants = aggregateParticipants(agg);
  if (participants.length === 0 || (participants.at(-1) as number) >= pubkeys.length) return false;
  let root: Uint8Array;
  try {
    checkAttestationData(agg.data);
    root = attestationSigningRoot(chainId, agg.data);
  } catch {
    return false;
  }
  return blsFastAggregateVerify(
    participants.map((i) => pubkeys[i] as Uint8Array),
    root,
    agg.signature,
  );
}

/** One IndexedAttestation per participant, as FinalityTracker and ForkChoice take them (after verifyAggregate). */
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

export function setBit(bits: Uint8Array, index: number): void {
  bits[index >> 3] = (bits[index >> 3] as number) | (1 << (index & 7));
}

export function hasBit(bits: Uint8Array, index: number): boolean {
  return index >> 3 < bits.length && ((bits[index >> 3] as number) & (1 << (index & 7))) !== 0;
}

function checkDataFields(data: AttestationData): void {
  if (typeof data !== "object" || data === null) throw malformed("attestation data");
  if (!isSlot(data.slot) || !isRoot(data.headRoot)) throw malformed("slot or headRoot");
  for (const cp of [data.source, data.target]) {
    if (typeof cp !== "object" || cp === null || !isSlot(cp.slot) || !isRoot(cp.root)) throw malformed("checkpoint");
  }
}

function checkValidatorIndex(index: number): void {
  if (!isSlot(index) || index >= MAX_VALIDATOR_COUNT) throw malformed("validatorIndex");
}

function checkValidatorCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_VALIDATOR_COUNT) throw malformed("validatorCount");
}

function checkSignatureLength(signature: Uint8Array): void {
  if (!(signature instanceof Uint8Array) || signature.length !== BLS_SIGNATURE_LENGTH) {
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
 * runs every semantic check of the encoder and rejects any second encoding of the same message. Codec errors from
 * shared (ChainError) come out as MESSAGE_MALFORMED.
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
    if (e instanceof ChainError) throw malformed(reasonOf(e));
    throw malformed("undecodable");
  }
}

function reasonOf(e: ChainError): string {
  return "reason" in e.type ? e.type.reason : e.type.code;
}

function malformed(reason: string): MessageError {
  return new MessageError({ code: "MESSAGE_MALFORMED", reason });
}
