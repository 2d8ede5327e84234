import { readFileSync } from "node:fs";
import { bn254 } from "@noble/curves/bn254.js";
import fc from "fast-check";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCircuits, type CircuitArtefacts, terminateSnarkjs } from "../../consensus/ai/circuitBuild.ts";
import {
  BN254_P,
  BN254_R,
  encodeG1,
  encodeG2,
  encodeGroth16Input,
  G1_SIZE,
  G2_SIZE,
  Groth16Error,
  inputsFromSnarkjs,
  PROOF_SIZE,
  parseGroth16Vk,
  proofFromSnarkjs,
  type SnarkjsProof,
  type SnarkjsVerificationKey,
  VK_HEADER_SIZE,
  verifyGroth16,
  vkFromSnarkjs,
} from "./groth16.ts";

const { G1, G2 } = bn254;
const { Fr, Fp2 } = bn254.fields;

/** "valid" | "invalid" | the Groth16Error code. */
function outcome(vk: Uint8Array, proof: Uint8Array, inputs: readonly Uint8Array[]): string {
  try {
    return verifyGroth16(vk, proof, inputs) ? "valid" : "invalid";
  } catch (e) {
    if (e instanceof Groth16Error) return e.type.code;
    throw e;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function u32be(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, false);
  return out;
}

function be32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const g1 = (s: bigint) => (s === 0n ? G1.Point.ZERO : G1.Point.BASE.multiply(s));
const g2 = (s: bigint) => (s === 0n ? G2.Point.ZERO : G2.Point.BASE.multiply(s));

/** A point on the G2 twist curve outside the prime-order subgroup. */
function g2OffSubgroup(): Uint8Array {
  const b = Fp2.div(Fp2.create({ c0: 3n, c1: 0n }), Fp2.create({ c0: 9n, c1: 1n }));
  for (let i = 1n; ; i++) {
    const x = Fp2.create({ c0: i, c1: 0n });
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    let y: typeof x;
    try {
      y = Fp2.sqrt(rhs);
    } catch {
      continue;
    }
    if (!Fp2.eql(Fp2.sqr(y), rhs)) continue;
    const p = G2.Point.fromAffine({ x, y });
    if (p.isTorsionFree()) continue;
    return concat(be32(x.c1), be32(x.c0), be32(y.c1), be32(y.c0));
  }
}

// ---- synthetic keys and proofs from known scalars (independent of snarkjs) ----

interface Synthetic {
  vk: Uint8Array;
  proof: Uint8Array;
  inputs: Uint8Array[];
  /** Same vk and inputs, C shifted by one generator: a well-formed proof that must not verify. */
  badProof: Uint8Array;
}

function synthetic(s: {
  alpha: bigint;
  beta: bigint;
  gamma: bigint;
  delta: bigint;
  ic: bigint[];
  inputs: bigint[];
  a: bigint;
  b: bigint;
}): Synthetic {
  let vkx = s.ic[0];
  s.inputs.forEach((x, i) => {
    vkx = Fr.add(vkx, Fr.mul(x, s.ic[i + 1]));
  });
  // a·b = α·β + vk_x·γ + c·δ in the exponent.
  const c = Fr.div(Fr.sub(Fr.sub(Fr.mul(s.a, s.b), Fr.mul(s.alpha, s.beta)), Fr.mul(vkx, s.gamma)), s.delta);
  const vk = concat(
    encodeG1(g1(s.alpha)),
    encodeG2(g2(s.beta)),
    encodeG2(g2(s.gamma)),
    encodeG2(g2(s.delta)),
    u32be(s.ic.length),
    ...s.ic.map((x) => encodeG1(g1(x))),
  );
  const proof = concat(encodeG1(g1(s.a)), encodeG2(g2(s.b)), encodeG1(g1(c)));
  const badProof = concat(encodeG1(g1(s.a)), encodeG2(g2(s.b)), encodeG1(g1(Fr.add(c, 1n))));
  return { vk, proof, inputs: s.inputs.map(encodeGroth16Input), badProof };
}

const scalar = fc.bigInt({ min: 1n, max: BN254_R - 1n });
const scalarOrZero = fc.oneof(fc.constant(0n), fc.constant(1n), fc.constant(BN254_R - 1n), scalar);

describe("groth16 (synthetic keys)", () => {
  it("accepts proofs built from known scalars and rejects a shifted C", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }).chain((n) =>
          fc.record({
            alpha: scalar,
            beta: scalar,
            gamma: scalar,
            delta: scalar,
            ic: fc.array(scalarOrZero, { minLength: n + 1, maxLength: n + 1 }),
            inputs: fc.array(scalarOrZero, { minLength: n, maxLength: n }),
            a: scalar,
            b: scalar,
          }),
        ),
        (s) => {
          const t = synthetic(s);
          expect(outcome(t.vk, t.proof, t.inputs)).toBe("valid");
          expect(outcome(t.vk, t.badProof, t.inputs)).toBe("invalid");
        },
      ),
      { numRuns: 8 },
    );
  });

  it("treats all-zero points as infinity", () => {
    // A = O: e(−A, B) drops out, and α·β + vk_x·γ + c·δ = 0 can be met with C = −(αβ + vk_x·γ)/δ.
    const alpha = 5n;
    const beta = 7n;
    const gamma = 11n;
    const delta = 13n;
    const ic0 = 17n;
    const c = Fr.neg(Fr.div(Fr.add(Fr.mul(alpha, beta), Fr.mul(ic0, gamma)), delta));
    const vk = concat(encodeG1(g1(alpha)), encodeG2(g2(beta)), encodeG2(g2(gamma)), encodeG2(g2(delta)), u32be(1));
    const vkFull = concat(vk, encodeG1(g1(ic0)));
    const proof = concat(new Uint8Array(G1_SIZE), encodeG2(g2(3n)), encodeG1(g1(c)));
    expect(outcome(vkFull, proof, [])).toBe("valid");
    const proofZeroB = concat(encodeG1(g1(3n)), new Uint8Array(G2_SIZE), encodeG1(g1(c)));
    expect(outcome(vkFull, proofZeroB, [])).toBe("valid");
    expect(outcome(vkFull, new Uint8Array(PROOF_SIZE), [])).toBe("invalid");
    // α at infinity is rejected in a verifying key.
    const vkZeroAlpha = concat(new Uint8Array(G1_SIZE), vkFull.subarray(G1_SIZE));
    expect(outcome(vkZeroAlpha, proof, [])).toBe("GROTH16_MALFORMED_VK");
  });
});

// ---- snarkjs end to end ----

describe("groth16 (circom multiplier circuit, snarkjs)", () => {
  const ADDRESS = BigInt("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").toString();
  const OTHER_ADDRESS = BigInt("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359").toString();
  let art: CircuitArtefacts;
  let vkJson: SnarkjsVerificationKey;
  let vk: Uint8Array;
  let proofJson: SnarkjsProof;
  let publicSignals: string[];
  let proof: Uint8Array;
  let inputs: Uint8Array[];
  let otherProof: Uint8Array;
  let otherInputs: Uint8Array[];

  beforeAll(async () => {
    const build = await buildCircuits();
    art = build.artefacts.multiplier;
    console.log(
      `circuit build: ${build.built.length > 0 ? `built ${build.built.join(", ")}` : "up to date"} in ${build.ms.toFixed(0)} ms`,
    );
    vkJson = JSON.parse(readFileSync(art.vkJson, "utf8"));
    vk = vkFromSnarkjs(vkJson);

    let t = performance.now();
    const r1 = await snarkjs.groth16.fullProve({ a: "3", b: "11", address: ADDRESS }, art.wasm, art.zkey);
    console.log(`snarkjs fullProve (cold): ${(performance.now() - t).toFixed(0)} ms`);
    proofJson = r1.proof as unknown as SnarkjsProof;
    publicSignals = r1.publicSignals;
    proof = proofFromSnarkjs(proofJson);
    inputs = inputsFromSnarkjs(publicSignals);

    t = performance.now();
    const r2 = await snarkjs.groth16.fullProve({ a: "3", b: "11", address: OTHER_ADDRESS }, art.wasm, art.zkey);
    console.log(`snarkjs fullProve (warm): ${(performance.now() - t).toFixed(0)} ms`);
    otherProof = proofFromSnarkjs(r2.proof as unknown as SnarkjsProof);
    otherInputs = inputsFromSnarkjs(r2.publicSignals);
  });

  afterAll(async () => {
    await terminateSnarkjs();
  });

  it("public signals are [c, address]", () => {
    expect(publicSignals).toEqual(["33", ADDRESS]);
    expect(inputs.map((x) => Buffer.from(x).toString("hex"))).toEqual([
      33n.toString(16).padStart(64, "0"),
      BigInt(ADDRESS).toString(16).padStart(64, "0"),
    ]);
  });

  it("the build wrote the same binary vk as vkFromSnarkjs", () => {
    expect(new Uint8Array(readFileSync(art.vkBin))).toEqual(vk);
    expect(vk.length).toBe(VK_HEADER_SIZE + 3 * G1_SIZE);
  });

  it("proof bytes use the EVM (Solidity calldata) layout", async () => {
    const calldata = await snarkjs.groth16.exportSolidityCallData(proofJson, publicSignals);
    const words = [...calldata.matchAll(/0x([0-9a-f]{64})/g)].map((m) => m[1]);
    expect(words.length).toBe(8 + 2);
    expect(Buffer.from(proof).toString("hex")).toBe(words.slice(0, 8).join(""));
    expect(inputs.map((x) => Buffer.from(x).toString("hex"))).toEqual(words.slice(8));
  });

  it("accepts the snarkjs proof and agrees with snarkjs.groth16.verify", async () => {
    let t = performance.now();
    expect(verifyGroth16(vk, proof, inputs)).toBe(true);
    const cold = performance.now() - t;
    t = performance.now();
    const n = 5;
    for (let i = 0; i < n; i++) expect(verifyGroth16(vk, proof, inputs)).toBe(true);
    const warm = (performance.now() - t) / n;
    t = performance.now();
    parseGroth16Vk(vk);
    const parse = performance.now() - t;
    t = performance.now();
    expect(await snarkjs.groth16.verify(vkJson, publicSignals, proofJson)).toBe(true);
    const sj = performance.now() - t;
    console.log(
      `verifyGroth16: cold (with vk parse) ${cold.toFixed(1)} ms, warm (cached vk) ${warm.toFixed(1)} ms, ` +
        `vk parse ${parse.toFixed(1)} ms; snarkjs.groth16.verify ${sj.toFixed(1)} ms`,
    );
    expect(verifyGroth16(vk, otherProof, otherInputs)).toBe(true);
  });

  it("rejects different public inputs, like snarkjs", async () => {
    const wrongC = ["34", ADDRESS];
    expect(outcome(vk, proof, inputsFromSnarkjs(wrongC))).toBe("invalid");
    expect(await snarkjs.groth16.verify(vkJson, wrongC, proofJson)).toBe(false);
    const swapped = [ADDRESS, "33"];
    expect(outcome(vk, proof, inputsFromSnarkjs(swapped))).toBe("invalid");
    expect(outcome(vk, proof, [inputs[0], encodeGroth16Input(BN254_R - 1n)])).toBe("invalid");
  });

  it("a proof is bound to its address", async () => {
    expect(outcome(vk, otherProof, inputs)).toBe("invalid");
    expect(outcome(vk, proof, otherInputs)).toBe("invalid");
    expect(await snarkjs.groth16.verify(vkJson, publicSignals.slice(0, 1).concat(OTHER_ADDRESS), proofJson)).toBe(
      false,
    );
  });

  it("rejects every single-bit tamper of the proof (false or a malformed-proof error)", () => {
    const seen = new Set<string>();
    for (let i = 0; i < PROOF_SIZE; i++) {
      const bad = proof.slice();
      bad[i] ^= 0x01;
      const r = outcome(vk, bad, inputs);
      expect(["invalid", "GROTH16_MALFORMED_PROOF"]).toContain(r);
      seen.add(r);
    }
    expect(seen.has("GROTH16_MALFORMED_PROOF")).toBe(true);
  });

  it("rejects well-formed but wrong proofs: −A, swapped A and C, and B with c0/c1 order of snarkjs JSON", async () => {
    const a = G1.Point.fromAffine({ x: BigInt(proofJson.pi_a[0]), y: BigInt(proofJson.pi_a[1]) });
    const negA = concat(encodeG1(a.negate()), proof.subarray(G1_SIZE));
    expect(outcome(vk, negA, inputs)).toBe("invalid");
    const swappedAC = concat(
      proof.subarray(G1_SIZE + G2_SIZE),
      proof.subarray(G1_SIZE, G1_SIZE + G2_SIZE),
      proof.subarray(0, G1_SIZE),
    );
    expect(outcome(vk, swappedAC, inputs)).toBe("invalid");
    // Fp2 coordinates in (c0, c1) order instead of (c1, c0): not a valid B.
    const b = proof.subarray(G1_SIZE, G1_SIZE + G2_SIZE);
    const bSwapped = concat(b.subarray(32, 64), b.subarray(0, 32), b.subarray(96, 128), b.subarray(64, 96));
    const r = outcome(vk, concat(proof.subarray(0, G1_SIZE), bSwapped, proof.subarray(G1_SIZE + G2_SIZE)), inputs);
    expect(["invalid", "GROTH16_MALFORMED_PROOF"]).toContain(r);
  });

  describe("malformed encodings throw Groth16Error", () => {
    it("proof", () => {
      expect(outcome(vk, proof.subarray(0, PROOF_SIZE - 1), inputs)).toBe("GROTH16_MALFORMED_PROOF");
      expect(outcome(vk, concat(proof, Uint8Array.of(0)), inputs)).toBe("GROTH16_MALFORMED_PROOF");
      // coordinate = p (not reduced)
      const xP = concat(be32(BN254_P), proof.subarray(32));
      expect(outcome(vk, xP, inputs)).toBe("GROTH16_MALFORMED_PROOF");
      // A = (1, 1) is not on y² = x³ + 3
      const offCurve = concat(be32(1n), be32(1n), proof.subarray(G1_SIZE));
      expect(outcome(vk, offCurve, inputs)).toBe("GROTH16_MALFORMED_PROOF");
      // B on the twist but outside the prime-order subgroup
      const offSub = concat(proof.subarray(0, G1_SIZE), g2OffSubgroup(), proof.subarray(G1_SIZE + G2_SIZE));
      expect(outcome(vk, offSub, inputs)).toBe("GROTH16_MALFORMED_PROOF");
    });

    it("public inputs", () => {
      expect(outcome(vk, proof, inputs.slice(0, 1))).toBe("GROTH16_INPUT_COUNT_MISMATCH");
      expect(outcome(vk, proof, [...inputs, inputs[0]])).toBe("GROTH16_INPUT_COUNT_MISMATCH");
      expect(outcome(vk, proof, [inputs[0], be32(BN254_R)])).toBe("GROTH16_MALFORMED_INPUT");
      expect(outcome(vk, proof, [inputs[0], inputs[1].subarray(1)])).toBe("GROTH16_MALFORMED_INPUT");
      expect(() => inputsFromSnarkjs(["-1"])).toThrow(Groth16Error);
      expect(() => inputsFromSnarkjs([BN254_R.toString()])).toThrow(Groth16Error);
      expect(() => encodeGroth16Input(BN254_R)).toThrow(Groth16Error);
    });

    it("verifying key", () => {
      expect(outcome(vk.subarray(0, vk.length - 1), proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      expect(outcome(concat(vk, Uint8Array.of(0)), proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      expect(outcome(vk.subarray(0, VK_HEADER_SIZE - 1), proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      const withCount = (n: number) =>
        concat(vk.subarray(0, VK_HEADER_SIZE - 4), u32be(n), vk.subarray(VK_HEADER_SIZE));
      expect(outcome(withCount(0), proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      expect(outcome(withCount(2), proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      expect(outcome(withCount(0xffffffff), proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      const alphaP = concat(be32(BN254_P), vk.subarray(32));
      expect(outcome(alphaP, proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      const deltaOff = G1_SIZE + 2 * G2_SIZE;
      const badDelta = concat(vk.subarray(0, deltaOff), g2OffSubgroup(), vk.subarray(deltaOff + G2_SIZE));
      expect(outcome(badDelta, proof, inputs)).toBe("GROTH16_MALFORMED_VK");
      const badIc = vk.slice();
      badIc[VK_HEADER_SIZE + G1_SIZE - 1] ^= 1;
      expect(outcome(badIc, proof, inputs)).toBe("GROTH16_MALFORMED_VK");
    });

    it("snarkjs JSON", () => {
      expect(() => proofFromSnarkjs({ ...proofJson, protocol: "plonk" })).toThrow(Groth16Error);
      expect(() => proofFromSnarkjs({ ...proofJson, pi_a: [proofJson.pi_a[0], proofJson.pi_a[1], "2"] })).toThrow(
        Groth16Error,
      );
      expect(() => proofFromSnarkjs({ ...proofJson, pi_c: ["0x10", "1", "1"] })).toThrow(Groth16Error);
      expect(() => vkFromSnarkjs({ ...vkJson, curve: "bls12381" })).toThrow(Groth16Error);
      expect(() => vkFromSnarkjs({ ...vkJson, nPublic: 3 })).toThrow(Groth16Error);
      expect(() => vkFromSnarkjs({ ...vkJson, IC: [] })).toThrow(Groth16Error);
    });
  });
});
