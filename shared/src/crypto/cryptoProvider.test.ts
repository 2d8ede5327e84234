// The two CryptoProvider implementations are interchangeable: native.ts (the node's bindings) and noble.ts (pure JS,
// what Workers run) give the same answers on random inputs for every member, and the same refusals where libraries
// tend to differ: invalid secret keys, the point at infinity, uncompressed encodings, points outside the subgroup,
// empty lists. On Node, "#crypto" is the native one.
import { bls12_381 } from "@noble/curves/bls12-381.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cryptoProvider as selected } from "../crypto.ts";
import { bigintToBytes32, bytesToHex, hexToBytes } from "../hex.ts";
import { BLS_PUBKEY_LENGTH, BLS_SIGNATURE_LENGTH, type CryptoProvider } from "./cryptoProvider.ts";
import { cryptoProvider as native } from "./native.ts";
import { cryptoProvider as noble } from "./noble.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const BLS_R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => bytesToHex(b);

/** What `f` gives with each provider: its hex, or "throws". */
function both(f: (p: CryptoProvider) => Uint8Array | boolean): [string | boolean, string | boolean] {
  const run = (p: CryptoProvider) => {
    try {
      const out = f(p);
      return typeof out === "boolean" ? out : hex(out);
    } catch {
      return "throws";
    }
  };
  return [run(native), run(noble)];
}
const agree = (f: (p: CryptoProvider) => Uint8Array | boolean) => {
  const [a, b] = both(f);
  expect(b).toBe(a);
  return a;
};

const digest = fc.uint8Array({ minLength: 32, maxLength: 32 });
const secpKey = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map(bigintToBytes32);
const blsKey = fc.bigInt({ min: 1n, max: BLS_R - 1n }).map(bigintToBytes32);
const message = fc.uint8Array({ maxLength: 100 });

/** A compressed G1 encoding of a point on the curve but outside the order-r subgroup (almost every x gives one). */
function g1OutsideSubgroup(): Uint8Array {
  const { Fp } = bls12_381.fields;
  for (let x = 1n; ; x++) {
    let y: bigint;
    try {
      y = Fp.sqrt(Fp.add(Fp.pow(x, 3n), 4n));
    } catch {
      continue;
    }
    const point = bls12_381.G1.Point.fromAffine({ x, y });
    let inSubgroup = true;
    try {
      point.assertValidity();
    } catch {
      inSubgroup = false;
    }
    if (inSubgroup) continue;
    const out = hexToBytes(`0x${x.toString(16).padStart(96, "0")}`);
    out[0] = (out[0] as number) | 0x80; // compressed; y's sign bit left clear (either root is outside too)
    return out;
  }
}

describe("crypto providers", () => {
  it("Node resolves #crypto to the native provider", () => {
    expect(selected).toBe(native);
    expect(native.implementation).toBe("native");
    expect(noble.implementation).toBe("noble");
  });

  it("hashes: the spec vectors, and the same digest for any input (across BLAKE3's 1 KiB chunks)", () => {
    for (const p of [native, noble]) {
      expect(hex(p.blake3(new Uint8Array(0)))).toBe(
        "0xaf1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
      );
      expect(hex(p.blake3(text("abc")))).toBe("0x6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
      expect(hex(p.keccak256(new Uint8Array(0)))).toBe(
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
      );
      expect(hex(p.keccak256(text("abc")))).toBe("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        agree((p) => p.blake3(data));
        agree((p) => p.keccak256(data));
      }),
      { numRuns: 200 },
    );
  });

  it("secp256k1: same public key, the same RFC 6979 signature byte for byte, and each recovers the other's", () => {
    fc.assert(
      fc.property(secpKey, digest, (sk, h) => {
        const publicKey = agree((p) => p.secp256k1PublicKey(sk));
        const a = native.secp256k1Sign(h, sk);
        const b = noble.secp256k1Sign(h, sk);
        expect(hex(b.signature)).toBe(hex(a.signature));
        expect(b.recovery).toBe(a.recovery);
        // Low s, as Ethereum requires.
        expect(BigInt(hex(a.signature.subarray(32))) <= SECP256K1_N >> 1n).toBe(true);
        expect(hex(noble.secp256k1Recover(h, a.signature, a.recovery))).toBe(publicKey);
        expect(hex(native.secp256k1Recover(h, b.signature, b.recovery))).toBe(publicKey);
      }),
      { numRuns: 100 },
    );
  });

  it("secp256k1: any in-range r, s recover the same key in both or fail in both", () => {
    const scalar = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map(bigintToBytes32);
    fc.assert(
      fc.property(digest, scalar, scalar, fc.constantFrom(0, 1), (h, r, s, recovery) => {
        const sig = new Uint8Array([...r, ...s]);
        agree((p) => p.secp256k1Recover(h, sig, recovery));
      }),
      { numRuns: 200 },
    );
  });

  it("secp256k1: both refuse secret keys outside [1, n)", () => {
    const h = new Uint8Array(32).fill(1);
    for (const bad of [0n, SECP256K1_N, SECP256K1_N + 1n, 2n ** 256n - 1n]) {
      const sk = bigintToBytes32(bad);
      expect(both((p) => p.secp256k1PublicKey(sk))).toEqual(["throws", "throws"]);
      expect(both((p) => p.secp256k1Sign(h, sk).signature)).toEqual(["throws", "throws"]);
    }
  });

  it("BLS: KeyGen, public keys and signatures are identical; verification agrees on good and tampered input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 64 }), (ikm) => {
        agree((p) => p.blsSecretKeyFromSeed(ikm));
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(blsKey, message, fc.nat(), (sk, msg, at) => {
        const pk = agree((p) => p.blsPublicKey(sk));
        const sig = agree((p) => p.blsSign(sk, msg));
        const pkBytes = hexToBytes(pk as string);
        const sigBytes = hexToBytes(sig as string);
        expect(agree((p) => p.blsVerify(pkBytes, msg, sigBytes))).toBe(true);
        const otherMsg = new Uint8Array([...msg, at & 255]);
        expect(agree((p) => p.blsVerify(pkBytes, otherMsg, sigBytes))).toBe(false);
        const flipped = sigBytes.slice();
        flipped[1 + (at % (BLS_SIGNATURE_LENGTH - 1))] ^= 1;
        expect(agree((p) => p.blsVerify(pkBytes, msg, flipped))).toBe(false);
      }),
      { numRuns: 8 },
    );
  });

  it("BLS: aggregation and fast aggregate verification agree, and a missing signer fails in both", () => {
    fc.assert(
      fc.property(fc.uniqueArray(blsKey, { minLength: 2, maxLength: 4, selector: hex }), message, (sks, msg) => {
        const pks = sks.map((sk) => native.blsPublicKey(sk));
        const sigs = sks.map((sk) => native.blsSign(sk, msg));
        const aggSig = hexToBytes(agree((p) => p.blsAggregateSignatures(sigs)) as string);
        agree((p) => p.blsAggregatePublicKeys(pks));
        expect(agree((p) => p.blsFastAggregateVerify(pks, msg, aggSig))).toBe(true);
        expect(agree((p) => p.blsFastAggregateVerify(pks.slice(1), msg, aggSig))).toBe(false);
      }),
      { numRuns: 5 },
    );
  });

  it("BLS: both refuse malformed keys and signatures (infinity, uncompressed, off-curve, outside the subgroup)", () => {
    const sk = bigintToBytes32(42n);
    const msg = text("rustchain");
    const pk = native.blsPublicKey(sk);
    const sig = native.blsSign(sk, msg);
    const infinityKey = new Uint8Array(BLS_PUBKEY_LENGTH);
    infinityKey[0] = 0xc0;
    const infinitySig = new Uint8Array(BLS_SIGNATURE_LENGTH);
    infinitySig[0] = 0xc0;
    const uncompressedKey = bls12_381.G1.Point.fromBytes(pk).toBytes(false);
    const uncompressedSig = bls12_381.G2.Point.fromBytes(sig).toBytes(false);
    const offCurveKey = pk.slice();
    offCurveKey[47] ^= 1;
    const outsideKey = g1OutsideSubgroup();
    for (const badKey of [infinityKey, uncompressedKey, offCurveKey, outsideKey, pk.subarray(1), new Uint8Array(0)]) {
      expect(both((p) => p.blsVerify(badKey, msg, sig))).toEqual([false, false]);
      expect(both((p) => p.blsFastAggregateVerify([pk, badKey], msg, sig))).toEqual([false, false]);
      if (badKey.length === BLS_PUBKEY_LENGTH) {
        expect(both((p) => p.blsAggregatePublicKeys([pk, badKey]))).toEqual(["throws", "throws"]);
      }
    }
    for (const badSig of [infinitySig, uncompressedSig, sig.subarray(1), new Uint8Array(0)]) {
      expect(both((p) => p.blsVerify(pk, msg, badSig))).toEqual([false, false]);
      expect(both((p) => p.blsFastAggregateVerify([pk], msg, badSig))).toEqual([false, false]);
    }
    // Compressed flag set, x = 2^381 - 1 > p: no point at all.
    const notAPointSig = new Uint8Array(BLS_SIGNATURE_LENGTH).fill(0xff);
    notAPointSig[0] = 0x9f;
    expect(both((p) => p.blsVerify(pk, msg, notAPointSig))).toEqual([false, false]);
    expect(both((p) => p.blsAggregateSignatures([sig, notAPointSig]))).toEqual(["throws", "throws"]);
    expect(both((p) => p.blsFastAggregateVerify([], msg, sig))).toEqual([false, false]);
    expect(both((p) => p.blsAggregateSignatures([]))).toEqual(["throws", "throws"]);
    expect(both((p) => p.blsAggregatePublicKeys([]))).toEqual(["throws", "throws"]);
    for (const bad of [0n, BLS_R, 2n ** 256n - 1n]) {
      expect(both((p) => p.blsPublicKey(bigintToBytes32(bad)))).toEqual(["throws", "throws"]);
      expect(both((p) => p.blsSign(bigintToBytes32(bad), msg))).toEqual(["throws", "throws"]);
    }
    expect(both((p) => p.blsSecretKeyFromSeed(new Uint8Array(31)))).toEqual(["throws", "throws"]);
  });
});
