// Attestation wire format: the signing root is the specified preimage, encodings round-trip and are unique, signatures
// bind validator, data and chain, aggregates verify only for exactly their participants, and hostile bytes only ever
// produce MESSAGE_MALFORMED.
import {
  blake3,
  blsAggregatePublicKeys,
  blsAggregateSignatures,
  blsFastAggregateVerify,
  blsKeypairFromSeed,
  blsSign,
  blsVerify,
  ChainError,
  concatBytes,
  hexToBytes,
  rlpEncode,
} from "@rustchain/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttestationData, Root } from "../forkChoice/checkpoint.ts";
import {
  type AggregateAttestation,
  aggregateFromAttestation,
  aggregateParticipants,
  attestationSigningRoot,
  decodeAggregateAttestation,
  decodeSignedAttestation,
  encodeAggregateAttestation,
  encodeSignedAttestation,
  MAX_VALIDATOR_COUNT,
  type SignedAttestation,
  signAttestation,
  toIndexed,
  verifyAggregate,
  verifySignedAttestation,
} from "./attestation.ts";
import { MessageError } from "./errors.ts";

const CHAIN_ID = 21076n;
const r = (n: number): Root => `0x${n.toString(16).padStart(64, "0")}`;
const allKeys = Array.from({ length: 10 }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(i + 1)));
/** The validator set of most tests: 6 validators, so one byte of bits with two unused high bits. */
const keys = allKeys.slice(0, 6);
const pubkeys = keys.map((k) => k.publicKey);

function data(slot: number, source = slot - 1, head = slot): AttestationData {
  return { slot, headRoot: r(head), source: { slot: source, root: r(source) }, target: { slot, root: r(slot + 1000) } };
}

function expectMalformed(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MessageError);
    expect((e as MessageError).type.code).toBe("MESSAGE_MALFORMED");
    return;
  }
  throw new Error("expected MESSAGE_MALFORMED");
}

/** An aggregate of validators `indices` (of a set of `count`) over `d`. */
function aggregate(indices: number[], d: AttestationData, count = keys.length): AggregateAttestation {
  const bits = new Uint8Array(Math.ceil(count / 8));
  for (const i of indices) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  const root = attestationSigningRoot(CHAIN_ID, d);
  const signature = blsAggregateSignatures(indices.map((i) => blsSign(allKeys[i]!.secretKey, root)));
  return { data: d, bits, signature };
}

describe("attestationSigningRoot", () => {
  it("is blake3(domain ‖ u64be(chainId) ‖ rlp([slot, headRoot, sourceSlot, sourceRoot, targetSlot, targetRoot]))", () => {
    const d = data(7, 5);
    const expected = blake3(
      concatBytes(
        new TextEncoder().encode("RUSTCHAIN_ATTESTATION_V1"),
        Uint8Array.of(0, 0, 0, 0, 0, 0, 0x52, 0x54),
        rlpEncode([7, hexToBytes(r(7)), 5, hexToBytes(r(5)), 7, hexToBytes(r(1007))]),
      ),
    );
    expect(attestationSigningRoot(CHAIN_ID, d)).toEqual(expected);
  });

  it("differs per chain and per field", () => {
    const base = attestationSigningRoot(CHAIN_ID, data(7, 5));
    expect(attestationSigningRoot(CHAIN_ID + 1n, data(7, 5))).not.toEqual(base);
    expect(attestationSigningRoot(CHAIN_ID, data(7, 4))).not.toEqual(base);
    expect(attestationSigningRoot(CHAIN_ID, data(7, 5, 6))).not.toEqual(base);
  });

  it("refuses non-canonical roots and chain ids outside u64 with MESSAGE_MALFORMED", () => {
    expectMalformed(() => attestationSigningRoot(CHAIN_ID, { ...data(7), headRoot: r(1).toUpperCase() }));
    expectMalformed(() => attestationSigningRoot(1n << 64n, data(7)));
    expectMalformed(() => attestationSigningRoot(-1n, data(7)));
  });
});

describe("SignedAttestation", () => {
  const att = signAttestation(keys[2]!.secretKey, CHAIN_ID, 2, data(9, 8));

  it("round-trips through its encoding", () => {
    const bytes = encodeSignedAttestation(att);
    const back = decodeSignedAttestation(bytes);
    expect(back).toEqual(att);
    expect(encodeSignedAttestation(back)).toEqual(bytes);
  });

  it("verifies with the signer's key and chain only", () => {
    expect(verifySignedAttestation(att, CHAIN_ID, pubkeys[2]!)).toBe(true);
    expect(verifySignedAttestation(att, CHAIN_ID, pubkeys[3]!)).toBe(false); // another validator's key
    expect(verifySignedAttestation(att, CHAIN_ID + 1n, pubkeys[2]!)).toBe(false); // replay on another chain
    expect(verifySignedAttestation({ ...att, data: data(9, 7) }, CHAIN_ID, pubkeys[2]!)).toBe(false); // altered data
    const flipped = att.signature.slice();
    flipped[50] = (flipped[50] as number) ^ 1;
    expect(verifySignedAttestation({ ...att, signature: flipped }, CHAIN_ID, pubkeys[2]!)).toBe(false);
    expect(verifySignedAttestation({ ...att, signature: att.signature.subarray(1) }, CHAIN_ID, pubkeys[2]!)).toBe(
      false,
    );
    expect(verifySignedAttestation(att, CHAIN_ID, new Uint8Array(48))).toBe(false); // malformed key: false, no throw
  });

  it("refuses to sign or encode an invalid FFG link or a bad index", () => {
    const sk = keys[0]!.secretKey;
    expectMalformed(() => signAttestation(sk, CHAIN_ID, 0, { ...data(9), target: { slot: 8, root: r(8) } }));
    expectMalformed(() => signAttestation(sk, CHAIN_ID, 0, data(9, 9)));
    expectMalformed(() => signAttestation(sk, CHAIN_ID, -1, data(9)));
    expectMalformed(() => signAttestation(sk, CHAIN_ID, MAX_VALIDATOR_COUNT, data(9)));
    expectMalformed(() => encodeSignedAttestation({ ...att, signature: new Uint8Array(95) }));
  });

  it("rejects decoded messages that break a rule: target.slot !== slot, source not before target, short fields", () => {
    const sig = att.signature;
    const root = hexToBytes(r(1));
    const enc = (fields: unknown[]) => rlpEncode(fields as never);
    expect(decodeSignedAttestation(enc([2, [9, root, 8, root, 9, root], sig])).data.slot).toBe(9);
    expectMalformed(() => decodeSignedAttestation(enc([2, [9, root, 8, root, 10, root], sig])));
    expectMalformed(() => decodeSignedAttestation(enc([2, [9, root, 9, root, 9, root], sig])));
    expectMalformed(() => decodeSignedAttestation(enc([2, [9, root.subarray(1), 8, root, 9, root], sig])));
    expectMalformed(() => decodeSignedAttestation(enc([2, [9, root, 8, root, 9, root], sig.subarray(1)])));
    expectMalformed(() => decodeSignedAttestation(enc([2, [9, root, 8, root, 9, root]])));
    expectMalformed(() => decodeSignedAttestation(enc([2, [2 ** 53, root, 8, root, 2 ** 53, root], sig])));
    expectMalformed(() => decodeSignedAttestation(enc([MAX_VALIDATOR_COUNT, [9, root, 8, root, 9, root], sig])));
    // A slot with a leading zero byte is a second encoding of the same number.
    expectMalformed(() => decodeSignedAttestation(enc([2, [Uint8Array.of(0, 9), root, 8, root, 9, root], sig])));
  });
});

describe("BLS aggregation (shared/bls.ts)", () => {
  const msg = new TextEncoder().encode("message");
  const sigs = keys.slice(0, 4).map((k) => blsSign(k.secretKey, msg));

  it("an aggregate of 4 signatures verifies against the 4 keys, and not against 3 or a wrong one", () => {
    const agg = blsAggregateSignatures(sigs);
    expect(agg.length).toBe(96);
    expect(blsFastAggregateVerify(pubkeys.slice(0, 4), msg, agg)).toBe(true);
    expect(blsFastAggregateVerify(pubkeys.slice(0, 3), msg, agg)).toBe(false);
    expect(blsFastAggregateVerify([...pubkeys.slice(0, 3), pubkeys[4]!], msg, agg)).toBe(false);
    expect(blsVerify(blsAggregatePublicKeys(pubkeys.slice(0, 4)), msg, agg)).toBe(true);
  });

  it("returns false, never throws, on malformed input; aggregation throws ChainError", () => {
    const agg = blsAggregateSignatures(sigs);
    expect(blsFastAggregateVerify([], msg, agg)).toBe(false);
    expect(blsFastAggregateVerify([new Uint8Array(48)], msg, agg)).toBe(false);
    expect(blsFastAggregateVerify([pubkeys[0]!.subarray(1)], msg, agg)).toBe(false);
    expect(blsFastAggregateVerify(pubkeys.slice(0, 4), msg, new Uint8Array(96).fill(0xff))).toBe(false);
    expect(() => blsAggregateSignatures([])).toThrow(ChainError);
    expect(() => blsAggregateSignatures([new Uint8Array(96).fill(0xff)])).toThrow(ChainError);
    expect(() => blsAggregatePublicKeys([new Uint8Array(48)])).toThrow(ChainError);
  });
});

describe("AggregateAttestation", () => {
  const d = data(12, 11);
  const agg = aggregate([0, 2, 3, 5], d);

  it("round-trips through its encoding; participants are little-endian bits", () => {
    expect(agg.bits).toEqual(Uint8Array.of(0b101101));
    const back = decodeAggregateAttestation(encodeAggregateAttestation(agg));
    expect(back).toEqual(agg);
    expect(aggregateParticipants(back)).toEqual([0, 2, 3, 5]);
    expect(toIndexed(back)).toEqual([0, 2, 3, 5].map((validatorIndex) => ({ validatorIndex, data: d })));
    const wide = aggregate([1, 9], d, 10);
    expect(wide.bits).toEqual(Uint8Array.of(0b10, 0b10));
    expect(aggregateParticipants(wide)).toEqual([1, 9]);
  });

  it("an aggregate of 4 keys verifies; a wrong, missing or extra bit fails", () => {
    const four = aggregate([0, 1, 2, 3], d);
    expect(verifyAggregate(four, CHAIN_ID, pubkeys)).toBe(true);
    expect(verifyAggregate({ ...four, bits: Uint8Array.of(0b10111) }, CHAIN_ID, pubkeys)).toBe(false); // 3 -> 4
    expect(verifyAggregate({ ...four, bits: Uint8Array.of(0b0111) }, CHAIN_ID, pubkeys)).toBe(false); // missing 3
    expect(verifyAggregate({ ...four, bits: Uint8Array.of(0b11111) }, CHAIN_ID, pubkeys)).toBe(false); // extra 4
    expect(verifyAggregate(four, CHAIN_ID + 1n, pubkeys)).toBe(false);
    expect(verifyAggregate({ ...four, data: data(12, 10) }, CHAIN_ID, pubkeys)).toBe(false);
  });

  it("is false for no participant, bits beyond the set, or a bitfield of the wrong length", () => {
    expect(verifyAggregate({ ...agg, bits: Uint8Array.of(0) }, CHAIN_ID, pubkeys)).toBe(false);
    const inSet = aggregate([0, 1], d);
    expect(verifyAggregate(inSet, CHAIN_ID, pubkeys)).toBe(true);
    // Validator 6 does not exist in a set of 6, even though its bit fits in the byte.
    expect(verifyAggregate({ ...inSet, bits: Uint8Array.of(0b1000011) }, CHAIN_ID, pubkeys)).toBe(false);
    expect(verifyAggregate({ ...inSet, bits: Uint8Array.of(0b11, 0) }, CHAIN_ID, pubkeys)).toBe(false);
    expect(verifyAggregate(inSet, CHAIN_ID, [])).toBe(false);
  });

  it("a one-participant aggregate of a signed attestation verifies like the attestation", () => {
    const att = signAttestation(keys[4]!.secretKey, CHAIN_ID, 4, d);
    const single = aggregateFromAttestation(att, keys.length);
    expect(aggregateParticipants(single)).toEqual([4]);
    expect(verifyAggregate(single, CHAIN_ID, pubkeys)).toBe(true);
    expectMalformed(() => aggregateFromAttestation(att, 4)); // index outside a set of 4
  });

  it("decoding refuses empty bitfields, bitfields above 8192 validators and bad signatures", () => {
    const fields = rlpEncode([
      [12, hexToBytes(r(12)), 11, hexToBytes(r(11)), 12, hexToBytes(r(1012))],
      new Uint8Array(1),
      agg.signature,
    ]);
    expectMalformed(() => decodeAggregateAttestation(fields));
    const big = new Uint8Array(MAX_VALIDATOR_COUNT / 8 + 1).fill(1);
    expectMalformed(() => encodeAggregateAttestation({ ...agg, bits: big }));
    const max = new Uint8Array(MAX_VALIDATOR_COUNT / 8).fill(0xff);
    expect(decodeAggregateAttestation(encodeAggregateAttestation({ ...agg, bits: max })).bits).toEqual(max);
    expectMalformed(() => encodeAggregateAttestation({ ...agg, signature: new Uint8Array(0) }));
  });
});

describe("hostile bytes only produce MESSAGE_MALFORMED", () => {
  const single = encodeSignedAttestation(signAttestation(keys[1]!.secretKey, CHAIN_ID, 1, data(30, 20)));
  const agg = encodeAggregateAttestation(aggregate([0, 1, 2], data(30, 20)));
  type Codec = { decode: (b: Uint8Array) => unknown; encode: (m: never) => Uint8Array };
  const decoders: [string, Codec, Uint8Array][] = [
    ["single", { decode: decodeSignedAttestation, encode: encodeSignedAttestation }, single],
    ["aggregate", { decode: decodeAggregateAttestation, encode: encodeAggregateAttestation }, agg],
  ];

  /** Decoding either fails with MESSAGE_MALFORMED or yields a message whose encoding is exactly the input. */
  function decodeOrMalformed(codec: Codec, bytes: Uint8Array): void {
    let message: unknown;
    try {
      message = codec.decode(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(MessageError);
      return;
    }
    expect(codec.encode(message as never)).toEqual(bytes);
  }

  for (const [name, codec, valid] of decoders) {
    it(`${name}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => decodeOrMalformed(codec, bytes)),
        { numRuns: 400 },
      );
    });

    it(`${name}: mutations of a valid encoding`, () => {
      fc.assert(
        fc.property(
          fc.nat(valid.length - 1),
          fc.integer({ min: 0, max: 255 }),
          fc.nat(valid.length),
          (at, value, cut) => {
            const mutated = valid.slice();
            mutated[at] = value;
            decodeOrMalformed(codec, mutated);
            decodeOrMalformed(codec, valid.subarray(0, cut));
            decodeOrMalformed(codec, concatBytes(valid, Uint8Array.of(value)));
          },
        ),
        { numRuns: 400 },
      );
    });

    it(`${name}: length bombs and oversized input`, () => {
      const bombs = [
        Uint8Array.of(0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), // string of 2^64-1 bytes
        Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), // list of 2^64-1 bytes
        Uint8Array.of(0xf9, 0xff, 0xff, 0x00), // list claiming 65535 bytes, 1 present
        new Uint8Array(300).fill(0xc1).fill(0x80, 299), // 299 nested lists
        new Uint8Array(1 << 20), // 1 MiB
        new Uint8Array(0),
      ];
      for (const b of bombs) expectMalformed(() => codec.decode(b));
    });
  }

  it("non-bytes input is refused with MESSAGE_MALFORMED", () => {
    expectMalformed(() => decodeSignedAttestation("0x00" as unknown as Uint8Array));
    expectMalformed(() => decodeAggregateAttestation(undefined as unknown as Uint8Array));
  });

  it("decoded messages re-encode to the same bytes (one encoding per message)", () => {
    const back = decodeSignedAttestation(single) as SignedAttestation;
    expect(encodeSignedAttestation(back)).toEqual(single);
  });
});
