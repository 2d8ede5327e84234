import { bls12_381 } from "@noble/curves/bls12-381.js";
import { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import {
  blsFastAggregateVerify,
  blsKeypairFromSeed,
  blsProofOfPossession,
  blsSign,
  blsVerifyProofOfPossession,
  checkProofsOfPossession,
} from "./bls.ts";
import { ChainError, describeError, RustChainError } from "./errors.ts";
import { type GenesisJson, parseGenesis } from "./genesis.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";

const alice = blsKeypairFromSeed(new Uint8Array(32).fill(1));
const bob = blsKeypairFromSeed(new Uint8Array(32).fill(2));

function entry(secretKey: Uint8Array, publicKey: Uint8Array) {
  return {
    blsPublicKey: bytesToHex(publicKey),
    proofOfPossession: bytesToHex(blsProofOfPossession(secretKey)),
    stake: "0x1",
    feeRecipient: `0x${"11".repeat(20)}`,
  };
}

function genesis(validators: GenesisJson["validators"]): GenesisJson {
  return { chainId: 7, gasLimit: "0x1000000", baseFeePerGas: "0x1", alloc: {}, validators };
}

/** Why a genesis is refused: by the schema and set rules (parseGenesis), or by its proofs of possession. */
function reason(json: GenesisJson): string {
  try {
    checkProofsOfPossession(parseGenesis(json).validators);
  } catch (err) {
    expect(err).toBeInstanceOf(ChainError);
    const type = (err as ChainError).type;
    expect(type.code).toBe("INVALID_GENESIS");
    return (type as { reason: string }).reason;
  }
  throw new Error("genesis was accepted");
}

describe("BLS proof of possession", () => {
  it("verifies for its own key only", () => {
    const pop = blsProofOfPossession(alice.secretKey);
    expect(blsVerifyProofOfPossession(alice.publicKey, pop)).toBe(true);
    expect(blsVerifyProofOfPossession(bob.publicKey, pop)).toBe(false);
    expect(blsVerifyProofOfPossession(alice.publicKey, blsProofOfPossession(bob.secretKey))).toBe(false);
    expect(blsVerifyProofOfPossession(alice.publicKey, pop.subarray(1))).toBe(false);
    expect(blsVerifyProofOfPossession(alice.publicKey.subarray(1), pop)).toBe(false);
    // A plain signature over the public key is not a proof of possession (the proof has its own domain).
    expect(blsVerifyProofOfPossession(alice.publicKey, blsSign(alice.secretKey, alice.publicKey))).toBe(false);
  });
});

describe("genesis validators", () => {
  it("parses keys that prove possession", () => {
    const g = parseGenesis(genesis([entry(alice.secretKey, alice.publicKey), entry(bob.secretKey, bob.publicKey)]));
    expect(g.validators.map((v) => bytesToHex(v.blsPublicKey))).toEqual([
      bytesToHex(alice.publicKey),
      bytesToHex(bob.publicKey),
    ]);
    expect(g.validators[1]!.proofOfPossession).toEqual(blsProofOfPossession(bob.secretKey));
  });

  it("refuses a missing, malformed or borrowed proof, a repeated key and a zero stake", () => {
    const { proofOfPossession: _, ...noPop } = entry(bob.secretKey, bob.publicKey);
    expect(reason(genesis([entry(alice.secretKey, alice.publicKey), noPop as never]))).toMatch(
      /^validators\.1\.proofOfPossession: /,
    );
    expect(reason(genesis([{ ...entry(alice.secretKey, alice.publicKey), proofOfPossession: "0x12" }]))).toBe(
      "validators.0.proofOfPossession: 96-byte hex BLS signature",
    );
    // Bob's key with Alice's proof.
    expect(reason(genesis([entry(alice.secretKey, bob.publicKey)]))).toBe(
      "validators.0.proofOfPossession: not a valid proof of possession of its BLS key",
    );
    expect(reason(genesis([entry(bob.secretKey, bob.publicKey), entry(bob.secretKey, bob.publicKey)]))).toBe(
      "validators.1: same BLS key as validators.0",
    );
    expect(reason(genesis([{ ...entry(bob.secretKey, bob.publicKey), stake: "0x0" }]))).toBe(
      "validators.0.stake: must be above zero",
    );
  });

  it("refuses a rogue key, which would otherwise forge an aggregate in the honest validator's name", () => {
    // The attacker knows a, publishes pk' = a·G1 − pk_alice. The aggregate of {pk_alice, pk'} is a·G1, so a
    // signature by a alone passes fast-aggregate verification as "Alice and the attacker both signed".
    const G1 = bls12_381.G1.Point;
    const a = blsKeypairFromSeed(new Uint8Array(32).fill(9));
    const rogue = G1.fromHex(bytesToHex(a.publicKey).slice(2))
      .subtract(G1.fromHex(bytesToHex(alice.publicKey).slice(2)))
      .toBytes(true);
    const message = new TextEncoder().encode("attestation nobody honest signed");
    expect(blsFastAggregateVerify([alice.publicKey, rogue], message, blsSign(a.secretKey, message))).toBe(true);

    // The attacker has no secret key for pk', so the best it can offer is a proof made with some other key.
    const forged = {
      blsPublicKey: bytesToHex(rogue),
      proofOfPossession: bytesToHex(blsProofOfPossession(a.secretKey)),
      stake: "0x1",
      feeRecipient: `0x${"22".repeat(20)}`,
    };
    expect(reason(genesis([entry(alice.secretKey, alice.publicKey), forged]))).toBe(
      "validators.1.proofOfPossession: not a valid proof of possession of its BLS key",
    );
    expect(hexToBytes(forged.blsPublicKey)).toHaveLength(48);
  });
});

describe("genesis Wormhole guardian set", () => {
  const base = () => genesis([entry(alice.secretKey, alice.publicKey)]);
  const g1 = `0x${"a1".repeat(20)}`;
  const g2 = `0x${"B2".repeat(20)}`;

  it("is optional, and parsed into the index and the guardians' addresses in order", () => {
    expect(parseGenesis(base()).wormhole).toBeUndefined();
    const g = parseGenesis({ ...base(), wormhole: { guardianSetIndex: 4, guardians: [g1, g2] } });
    expect(g.wormhole?.guardianSetIndex).toBe(4);
    expect(g.wormhole?.guardians.map(bytesToHex)).toEqual([g1, g2.toLowerCase()]);
    expect(parseGenesis({ ...base(), wormhole: { guardians: [g1] } }).wormhole?.guardianSetIndex).toBe(0);
  });

  it("refuses an empty set, a repeated guardian and a malformed address", () => {
    expect(reason({ ...base(), wormhole: { guardians: [] } })).toMatch(/^wormhole\.guardians: /);
    expect(reason({ ...base(), wormhole: { guardians: [g1, g1.toUpperCase().replace("0X", "0x")] } })).toBe(
      "wormhole.guardians: duplicate guardian",
    );
    expect(reason({ ...base(), wormhole: { guardians: ["0x12"] } })).toMatch(/^wormhole\.guardians\.0: /);
  });
});

describe("genesis Proof-of-AI model", () => {
  const base = () => genesis([entry(alice.secretKey, alice.publicKey)]);
  const ai = (modelCid: string, inputs = 8) => ({ modelCid, inputs, outputs: 4, verifyingKey: "0x01" });

  it("names the model by CIDv1 sha2-256 (raw or dag-pb) and keeps the CID's bytes", async () => {
    const digest = await sha256.digest(Uint8Array.of(1, 2, 3));
    for (const codec of [0x55, 0x70]) {
      const cid = CID.createV1(codec, digest);
      const g = parseGenesis({ ...base(), ai: ai(cid.toString()) });
      expect(g.ai?.modelCid).toEqual(cid.bytes);
      expect([g.ai?.inputs, g.ai?.outputs]).toEqual([8, 4]);
    }
  });

  it("refuses a CIDv0, another codec or hash, junk, and input counts outside 1..32", async () => {
    const digest = await sha256.digest(Uint8Array.of(1, 2, 3));
    for (const bad of [
      CID.createV0(digest).toString(),
      CID.createV1(0x71, digest).toString(), // dag-cbor
      CID.createV1(0x55, identity.digest(Uint8Array.of(1, 2, 3))).toString(),
      "bafy-not-a-cid",
      "",
    ]) {
      expect(reason({ ...base(), ai: ai(bad) }), bad).toMatch(/^ai\.modelCid: /);
    }
    const good = CID.createV1(0x55, digest).toString();
    expect(reason({ ...base(), ai: ai(good, 0) })).toMatch(/^ai\.inputs: /);
    expect(reason({ ...base(), ai: ai(good, 33) })).toMatch(/^ai\.inputs: /);
  });
});

describe("describeError", () => {
  it("spells out a typed error's fields on one line", () => {
    expect(
      describeError(new ChainError({ code: "INVALID_GENESIS", reason: "validators.0.stake: must be above zero" })),
    ).toBe("INVALID_GENESIS: validators.0.stake: must be above zero");
    expect(describeError(new RustChainError({ code: "BLOCK_INVALID_NUMBER", expected: 5n, got: 7n }))).toBe(
      "BLOCK_INVALID_NUMBER (expected=5, got=7)",
    );
    expect(describeError(new ChainError({ code: "INVALID_BLS_KEY" }))).toBe("INVALID_BLS_KEY");
    expect(describeError(new ChainError({ code: "INVALID_BLS_KEY" }, "custom words"))).toBe("custom words");
    expect(describeError(new Error("plain"))).toBe("plain");
  });
});
