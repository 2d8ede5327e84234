// The standalone finality-certificate verifier inside workerd (no native binding, no run-time WebAssembly): a chain of
// certificates built and signed with the pure-JS crypto verifies from genesis, and forgeries are refused with the
// same named errors as on Node (shared/src/consensus/certificateVerifier.test.ts).
import { CertificateVerifier } from "@rustchain/shared/consensus/certificateVerifier";
import { encodeFinalityCertificate, type FinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { buildCertificateFixture, certificateRefusal } from "@rustchain/shared/consensus/testCertificates";
import * as noble from "@rustchain/shared/crypto/noble";
import { describe, expect, it } from "vitest";

const STAKE = 32n * 10n ** 18n;
const registry = (slashed: number[] = []) =>
  Array.from({ length: 4 }, (_, i) => ({
    stake: slashed.includes(i) ? STAKE / 2n : STAKE,
    aiScoreBps: 0,
    slashed: slashed.includes(i),
  }));

describe("finality certificate verifier in workerd", () => {
  it("verifies a chain from genesis and refuses forged, underweight and mismatched certificates", async () => {
    const f = await buildCertificateFixture(noble.cryptoProvider, {
      chainId: 21076n,
      validatorCount: 4,
      steps: [
        { registry: registry() },
        { registry: registry([3]), kind: "fast", signers: [0, 1, 2] },
        { registry: registry([3]), kind: "link", signers: [0, 1, 2] },
      ],
    });
    const make = () =>
      new CertificateVerifier(
        { chainId: f.chainId, validators: f.validators, crypto: noble.nobleCertificateCrypto },
        f.start,
      );
    const v = make();
    for (const e of f.encoded) await v.verifyNext(e);
    expect(v.verified.checkpoint).toEqual(f.checkpoints[2]);
    expect(v.verified.header?.number).toBe(2n);

    const first = f.certificates[0] as FinalityCertificate;
    const second = f.certificates[1] as FinalityCertificate;
    // A forged signature.
    const forged = (first.aggregates[0] as Uint8Array).slice();
    forged[forged.length - 10] = (forged[forged.length - 10] as number) ^ 1;
    expect(
      await certificateRefusal(make().verifyNext(encodeFinalityCertificate({ ...first, aggregates: [forged] }))),
    ).toBe("CERT_BAD_SIGNATURE");
    // Two of four signers: below 2/3.
    const short = encodeFinalityCertificate({ ...first, aggregates: [f.sign(1, [0, 1], "fast")] });
    expect(await certificateRefusal(make().verifyNext(short))).toBe("CERT_INSUFFICIENT_WEIGHT");
    // Validator 3 is slashed at block 1: certificate 2 cannot reach 2/3 by counting it.
    const afterFirst = make();
    await afterFirst.verifyNext(f.encoded[0] as Uint8Array);
    const withSlashed = encodeFinalityCertificate({ ...second, aggregates: [f.sign(2, [0, 3], "link")] });
    expect(await certificateRefusal(afterFirst.verifyNext(withSlashed))).toBe("CERT_INSUFFICIENT_WEIGHT");
    // Votes for another block than the certificate claims.
    const otherBlock = encodeFinalityCertificate({ ...first, aggregates: [f.sign(2, [0, 1, 2], "fast")] });
    expect(await certificateRefusal(make().verifyNext(otherBlock))).toBe("CERT_VOTE_MISMATCH");
  });
});
