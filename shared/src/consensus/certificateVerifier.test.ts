// The standalone finality-certificate verifier against synthetic chains with real BLS signatures and real registry
// proofs: a good chain verifies from genesis; each forgery is refused with the rule it breaks; weights are stake x AI
// score at the parent's state, and a slashed validator weighs nothing. The same checks run inside workerd in
// edge/test/workers/certificates.test.ts with the pure-JS crypto.
import { describe, expect, it } from "vitest";
import { blsAggregateSignatures, blsPublicKey, blsSign } from "../bls.ts";
import { nativeCertificateCrypto } from "../crypto/native.ts";
import * as noble from "../crypto/noble.ts";
import { blake3 } from "../hash.ts";
import { CertificateVerifier, verifyCertificateChain } from "./certificateVerifier.ts";
import {
  CertificateError,
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
} from "./finalityCertificate.ts";
import type { ValidatorRecord } from "./registry.ts";
import {
  buildCertificateFixture,
  type CertificateFixture,
  certificateRefusal,
  type FixtureStep,
} from "./testCertificates.ts";

const nativeFixtureCrypto = { blake3, blsSign, blsPublicKey, blsAggregateSignatures };
const STAKE = 32n * 10n ** 18n;
const honest = (n: number, patch: Record<number, Partial<ValidatorRecord>> = {}): ValidatorRecord[] =>
  Array.from({ length: n }, (_, i) => ({ stake: STAKE, aiScoreBps: 0, slashed: false, ...patch[i] }));

async function fixture(steps: FixtureStep[], validatorCount = 4): Promise<CertificateFixture> {
  return buildCertificateFixture(nativeFixtureCrypto, { chainId: 21076n, validatorCount, steps });
}

function verifier(f: CertificateFixture, crypto = nativeCertificateCrypto): CertificateVerifier {
  return new CertificateVerifier({ chainId: f.chainId, validators: f.validators, crypto }, f.start);
}

const withCert = (f: CertificateFixture, i: number, patch: Partial<FinalityCertificate>) =>
  encodeFinalityCertificate({ ...(f.certificates[i] as FinalityCertificate), ...patch });

describe("finality certificate chain", () => {
  it("verifies a chain of fast and link certificates from genesis, each becoming the next one's parent", async () => {
    const f = await fixture([
      { registry: honest(4) },
      { registry: honest(4), kind: "fast", signers: [0, 1, 2, 3] },
      { registry: honest(4), kind: "link", signers: [0, 1, 2] },
      { registry: honest(4), kind: "fast", signers: [1, 2, 3] },
    ]);
    const out = await verifyCertificateChain(
      { chainId: f.chainId, validators: f.validators, crypto: nativeCertificateCrypto },
      f.start,
      f.encoded,
    );
    expect(out.map((v) => v.checkpoint)).toEqual(f.checkpoints.slice(1));
    expect(out.at(-1)?.header?.number).toBe(3n);
    // The codec round-trips exactly.
    for (const e of f.encoded) expect(encodeFinalityCertificate(decodeFinalityCertificate(e))).toEqual(e);
  });

  it("the pure-JS (noble) crypto verifies the same chain and agrees with blst", async () => {
    const f = await fixture([
      { registry: honest(4) },
      { registry: honest(4), kind: "fast", signers: [0, 1, 2] },
      { registry: honest(4), kind: "link", signers: [0, 1, 3] },
    ]);
    const v = verifier(f, noble.nobleCertificateCrypto);
    for (const e of f.encoded) await v.verifyNext(e);
    expect(v.verified.checkpoint).toEqual(f.checkpoints[2]);
    // A bad signature is refused by both implementations.
    const bad = await fixture([{ registry: honest(4) }, { registry: honest(4), signers: [0, 1, 2] }]);
    const forged = forgeSignature(bad, 0);
    expect(await certificateRefusal(verifier(bad, noble.nobleCertificateCrypto).verifyNext(forged))).toBe(
      "CERT_BAD_SIGNATURE",
    );
    expect(await certificateRefusal(verifier(bad).verifyNext(forged))).toBe("CERT_BAD_SIGNATURE");
  });

  it("refuses a forged signature (CERT_BAD_SIGNATURE)", async () => {
    const f = await fixture([{ registry: honest(4) }, { registry: honest(4), signers: [0, 1, 2, 3] }]);
    expect(await certificateRefusal(verifier(f).verifyNext(forgeSignature(f, 0)))).toBe("CERT_BAD_SIGNATURE");
  });

  it("refuses signers below 2/3 when a participant is missing (CERT_INSUFFICIENT_WEIGHT); exactly 2/3 passes", async () => {
    const f = await fixture([{ registry: honest(3) }, { registry: honest(3), signers: [0, 1] }], 3);
    await verifier(f).verifyNext(f.encoded[0] as Uint8Array); // 2 of 3 equal weights: exactly 2/3
    const g = await fixture([{ registry: honest(4) }, { registry: honest(4), signers: [0, 1] }]);
    expect(await certificateRefusal(verifier(g).verifyNext(g.encoded[0] as Uint8Array))).toBe(
      "CERT_INSUFFICIENT_WEIGHT",
    );
  });

  it("a slashed validator's vote counts for nothing: refused when only its weight would reach 2/3", async () => {
    // Validator 2 is slashed in block 1's state: certificate 2 (weights at block 1) cannot count it. Under genesis
    // weights, v0 + v2 would be 2/3; under block 1's, v0 alone is 1/2.
    const slashed = honest(3, { 2: { slashed: true, stake: STAKE / 2n } });
    const f = await fixture(
      [{ registry: honest(3) }, { registry: slashed, signers: [0, 1, 2] }, { registry: slashed, signers: [0, 2] }],
      3,
    );
    const v = verifier(f);
    await v.verifyNext(f.encoded[0] as Uint8Array); // certificate 1: weights at genesis, v2 not yet slashed
    expect(await certificateRefusal(v.verifyNext(f.encoded[1] as Uint8Array))).toBe("CERT_INSUFFICIENT_WEIGHT");
    // v0 and v1 are all the remaining weight.
    await v.verifyNext(withCert(f, 1, { aggregates: [f.sign(2, [0, 1], "fast")] }));
    expect(v.verified.checkpoint).toEqual(f.checkpoints[2]);
  });

  it("weights are stake x (1 + AI score): signers holding 3/4 of the stake but 3/5 of the weight are refused", async () => {
    const scored = honest(4, { 0: { aiScoreBps: 10_000 } }); // weights 2, 1, 1, 1
    const f = await fixture([{ registry: scored }, { registry: scored, signers: [1, 2, 3] }]);
    expect(await certificateRefusal(verifier(f).verifyNext(f.encoded[0] as Uint8Array))).toBe(
      "CERT_INSUFFICIENT_WEIGHT",
    );
    const g = await fixture([{ registry: scored }, { registry: scored, signers: [0, 1, 2] }]); // 4 of 5
    await verifier(g).verifyNext(g.encoded[0] as Uint8Array);
  });

  it("refuses a certificate for a block of another fork, or votes for another checkpoint (CERT_VOTE_MISMATCH)", async () => {
    const f = await fixture([{ registry: honest(4) }, { registry: honest(4), signers: [0, 1, 2, 3] }]);
    const other = await fixture([{ registry: honest(4) }, { registry: honest(4, { 1: { aiScoreBps: 5 } }) }]);
    // The other fork's block 1 (another state root, so another hash) with this fork's votes.
    const forkCert = withCert(f, 0, { header: other.headers[1], checkpoint: other.checkpoints[1] });
    expect(await certificateRefusal(verifier(f).verifyNext(forkCert))).toBe("CERT_VOTE_MISMATCH");
    // A link certificate whose votes have another source (genesis -> slot 1, not block 1 -> slot 2).
    const link = await fixture([{ registry: honest(4) }, { registry: honest(4), kind: "link" }]);
    const cert = link.certificates[0] as FinalityCertificate;
    const wrongSource = encodeFinalityCertificate({ ...cert, aggregates: [link.sign(0, [0, 1, 2, 3], "link")] });
    expect(await certificateRefusal(verifier(link).verifyNext(wrongSource))).toBe("CERT_VOTE_MISMATCH");
  });

  it("refuses a header that is not the checkpoint's block, a wrong parent, and a slot not after the parent", async () => {
    const f = await fixture([{ registry: honest(4) }, { registry: honest(4) }, { registry: honest(4) }]);
    const headerOf2 = withCert(f, 0, { header: f.headers[2] });
    expect(await certificateRefusal(verifier(f).verifyNext(headerOf2))).toBe("CERT_HEADER_MISMATCH");
    // Certificate 2 before certificate 1: its parent is not what was verified.
    expect(await certificateRefusal(verifier(f).verifyNext(f.encoded[1] as Uint8Array))).toBe("CERT_PARENT_MISMATCH");
    const backwards = withCert(f, 0, { checkpoint: { ...f.checkpoints[1]!, slot: 0 } });
    expect(await certificateRefusal(verifier(f).verifyNext(backwards))).toBe("CERT_NOT_AFTER_PARENT");
  });

  it("refuses a registry proof that does not match the parent's state root (CERT_REGISTRY_PROOF_INVALID)", async () => {
    const f = await fixture([
      { registry: honest(4) },
      { registry: honest(4) },
      { registry: honest(4, { 0: { stake: 1n } }) },
    ]);
    // Block 2's registry proof presented against block 0's state root.
    expect(
      await certificateRefusal(verifier(f).verifyNext(withCert(f, 0, { registryProof: f.registryProofs[2] }))),
    ).toBe("CERT_REGISTRY_PROOF_INVALID");
    expect(await certificateRefusal(verifier(f).verifyNext(withCert(f, 0, { registryProof: [] })))).toBe(
      "CERT_REGISTRY_PROOF_INVALID",
    );
  });

  it("refuses validators outside the set, malformed bytes and unknown versions", async () => {
    const f = await fixture([{ registry: honest(4) }, { registry: honest(4) }]);
    const eight = await buildCertificateFixture(nativeFixtureCrypto, {
      chainId: f.chainId,
      validatorCount: 9,
      steps: [{ registry: honest(9) }, { registry: honest(9) }],
    });
    // Aggregate bits sized for 9 validators against a set of 4.
    expect(
      await certificateRefusal(
        verifier(f).verifyNext(withCert(f, 0, { aggregates: [eight.sign(1, [0, 1, 2, 8], "fast")] })),
      ),
    ).toBe("CERT_VOTE_MISMATCH");
    const enc = f.encoded[0] as Uint8Array;
    expect(await certificateRefusal(verifier(f).verifyNext(enc.subarray(0, enc.length - 3)))).toBe("CERT_MALFORMED");
    expect(await certificateRefusal(verifier(f).verifyNext(new Uint8Array(2 * 1024 * 1024)))).toBe("CERT_MALFORMED");
    const v2 = enc.slice();
    const at = v2.indexOf(1, 1); // the version byte follows the list header
    v2[at] = 2;
    expect(["CERT_UNSUPPORTED_VERSION", "CERT_MALFORMED"]).toContain(
      await certificateRefusal(verifier(f).verifyNext(v2)),
    );
  });

  it("refuses a validator set with a key lacking its proof of possession", async () => {
    const f = await fixture([{ registry: honest(4) }, { registry: honest(4) }]);
    const validators = f.validators.map((v, i) =>
      i === 2 ? { ...v, proofOfPossession: f.validators[1]!.proofOfPossession } : v,
    );
    expect(
      () => new CertificateVerifier({ chainId: f.chainId, validators, crypto: nativeCertificateCrypto }, f.start),
    ).toThrow(CertificateError);
  });
});

/** Certificate `i` with one bit of its first aggregate's signature flipped (a point that may not even decode). */
function forgeSignature(f: CertificateFixture, i: number): Uint8Array {
  const cert = f.certificates[i] as FinalityCertificate;
  const agg = cert.aggregates[0] as Uint8Array;
  const forged = agg.slice();
  forged[forged.length - 10] = (forged[forged.length - 10] as number) ^ 1;
  return encodeFinalityCertificate({ ...cert, aggregates: [forged] });
}
