// Proof-of-AI: the task derivation, the proof codec, verification outcomes, and the circuit's agreement with the
// bit-exact reference (mlpForward). Builds the devnet PoAI circuit on first run (~30 s, mostly the one-off 2^10 powers
// of tau; later builds reuse it).

import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { blake3, bytesToHex, concatBytes, hexToBytes, rlpEncode } from "@rustchain/shared";
import fc from "fast-check";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelCid } from "../../models/modelCid.ts";
import { AiError, encodeMlpModel, type MlpLayer, mlpForward, parseMlpModel } from "../../runtime/ai/int8Kernels.ts";
import { BN254_P, Groth16Error, PROOF_SIZE } from "../../runtime/groth16/groth16.ts";
import { CIRCUITS_BUILD_DIR, compileCircuit, terminateSnarkjs } from "./circuitBuild.ts";
import {
  AI_PROOF_MAX_SIZE,
  AI_TASK_DOMAIN,
  type AiProof,
  AiProofError,
  type AiProofErrorType,
  type AiVerifyContext,
  aiCircuitInput,
  aiPublicInputs,
  aiTaskInput,
  aiTaskModelOf,
  decodeAiProof,
  devnetAiModel,
  encodeAiProof,
  ensurePoaiCircuit,
  mlpCircuitSource,
  type PoaiCircuit,
  proveAiTask,
  verifyAiProof,
} from "./index.ts";

// snarkjs' witness API (not in runtime/groth16/snarkjs.d.ts). A "mem" file gets its bytes in `data` when closed.
interface MemFile {
  type: "mem";
  data?: Uint8Array;
}
interface SnarkjsWtns {
  calculate(input: Record<string, unknown>, wasm: string, out: MemFile): Promise<void>;
  exportJson(file: MemFile): Promise<bigint[]>;
  check(r1cs: string, file: MemFile, logger: { info(): void; warn(): void }): Promise<boolean>;
}
const { wtns } = snarkjs as unknown as { wtns: SnarkjsWtns };
const quiet = { info() {}, warn() {} };

const CHAIN_ID = 21076n;
const EPOCH = 7n;
const SEED_A = new Uint8Array(32).fill(0xa5);
const SEED_B = new Uint8Array(32).fill(0x5a);
const MINER_A = hexToBytes("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const MINER_B = hexToBytes("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

const model = devnetAiModel();
const parsed = parseMlpModel(model);
/** What genesis says of the model: its CID and shape (validators never see the bytes). */
const task = { ...aiTaskModelOf(model), outputs: 4 };

let circuit: PoaiCircuit;
let ctx: AiVerifyContext;
let valid: AiProof;

function expectCode(fn: () => unknown, code: AiProofErrorType["code"]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AiProofError);
  expect((err as AiProofError).type.code).toBe(code);
}

function expectedOutput(seed: Uint8Array, epoch: bigint): Int8Array {
  return mlpForward(parsed, aiTaskInput(CHAIN_ID, task, seed, epoch));
}

/** The circuit's outputs y (witness signals 1..outDim, after the constant 1), decoded from v + 128. */
async function witnessOutput(wasm: string, input: Int8Array, miner: Uint8Array, outDim: number, r1cs?: string) {
  const file: MemFile = { type: "mem" };
  await wtns.calculate(aiCircuitInput(input, miner), wasm, file);
  if (r1cs) expect(await wtns.check(r1cs, file, quiet)).toBe(true);
  const w = await wtns.exportJson(file);
  return Int8Array.from(w.slice(1, 1 + outDim), (v) => Number(v) - 128);
}

const int8Array = (n: number) => fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n });

beforeAll(async () => {
  circuit = await ensurePoaiCircuit({ log: (msg) => console.log(msg) });
  console.log(
    `poai circuit: ${circuit.built ? "built" : "up to date"}, ${circuit.info.constraints} constraints, ` +
      `${circuit.ms.toFixed(0)} ms`,
  );
  ctx = { chainId: CHAIN_ID, model: task, verifyingKey: circuit.verifyingKey, seed: SEED_A, epoch: EPOCH };
  const input = aiTaskInput(CHAIN_ID, task, SEED_A, EPOCH);
  const t = performance.now();
  const answer = await proveAiTask({ model, input, miner: MINER_A, artefacts: circuit.artefacts });
  console.log(`proveAiTask: ${(performance.now() - t).toFixed(0)} ms`);
  valid = { epoch: EPOCH, miner: MINER_A, ...answer };
}, 180_000);

afterAll(async () => {
  await terminateSnarkjs();
});

describe("devnet model and task", () => {
  it("devnetAiModel is a fixed 8 -> 8 (relu) -> 4 model in the docs/ai.md format", () => {
    expect(bytesToHex(devnetAiModel())).toBe(bytesToHex(model));
    expect(parsed.layers.map((l) => [l.inDim, l.outDim, l.relu])).toEqual([
      [8, 8, true],
      [8, 4, false],
    ]);
    // Pins the seed expansion and the model's CID (docs/models.md layout: one raw block), which genesis names it by.
    expect(bytesToHex(blake3(model))).toBe("0xb1db66e774077055f1db6b99342615ddb5e6d04b7b554068f7adb80885275fa9");
    expect(modelCid(model).toString()).toBe("bafkreigprv3aamis47uruxdoz3ubjsrtyvn3e7yqawoaekgx5fg2mwrnne");
    expect(task).toEqual({ modelCid: modelCid(model).bytes, inputs: 8, outputs: 4 });
  });

  it("aiTaskInput follows the specification and pins a test vector", () => {
    expect(new TextDecoder().decode(AI_TASK_DOMAIN)).toBe("RUSTCHAIN_AI_TASK_V2");
    const seed = new Uint8Array(32);
    const x = aiTaskInput(CHAIN_ID, task, seed, 1n);
    // blake3(domain ‖ u64 chainId ‖ u16 len(cid) ‖ cid ‖ seed ‖ u64 epoch), first `inputs` bytes as int8.
    const u64 = (n: bigint) => hexToBytes(`0x${n.toString(16).padStart(16, "0")}`);
    const cid = modelCid(model).bytes;
    const len = hexToBytes(`0x${cid.length.toString(16).padStart(4, "0")}`);
    const digest = blake3(concatBytes(AI_TASK_DOMAIN, u64(CHAIN_ID), len, cid, seed, u64(1n)));
    expect([...x]).toEqual([...new Int8Array(digest.slice(0, 8).buffer)]);
    expect([...x]).toEqual([57, 86, 102, -56, -78, 15, 114, -113]);
    expect([...mlpForward(parsed, x)]).toEqual([-7, -6, 49, -25]);
  });

  it("aiTaskInput changes with the chain id, seed, epoch and model CID, and needs no model bytes", () => {
    const base = bytesToHex(new Uint8Array(aiTaskInput(CHAIN_ID, task, SEED_A, EPOCH).buffer));
    const other = encodeMlpModel({ layers: parsed.layers.map((l, i) => (i === 0 ? { ...l, multiplier: 1 } : l)) });
    for (const x of [
      aiTaskInput(CHAIN_ID + 1n, task, SEED_A, EPOCH),
      aiTaskInput(CHAIN_ID, task, SEED_B, EPOCH),
      aiTaskInput(CHAIN_ID, task, SEED_A, EPOCH + 1n),
      aiTaskInput(CHAIN_ID, aiTaskModelOf(other), SEED_A, EPOCH),
    ]) {
      expect(bytesToHex(new Uint8Array(x.buffer))).not.toBe(base);
    }
  });

  it("aiTaskInput rejects a bad seed, an out-of-range u64, an empty CID and an input count outside 1..32", () => {
    expect(() => aiTaskInput(CHAIN_ID, task, new Uint8Array(31), EPOCH)).toThrow(AiError);
    expect(() => aiTaskInput(-1n, task, SEED_A, EPOCH)).toThrow(AiError);
    expect(() => aiTaskInput(CHAIN_ID, task, SEED_A, 1n << 64n)).toThrow(AiError);
    expect(() => aiTaskInput(CHAIN_ID, { ...task, modelCid: new Uint8Array(0) }, SEED_A, EPOCH)).toThrow(AiError);
    for (const inputs of [0, 33, 1.5]) {
      expect(() => aiTaskInput(CHAIN_ID, { ...task, inputs }, SEED_A, EPOCH)).toThrow(AiError);
    }
    const wide = encodeMlpModel({
      layers: [
        {
          inDim: 33,
          outDim: 1,
          multiplier: 1,
          shift: 0,
          relu: false,
          weights: new Int8Array(33),
          bias: new Int32Array(1),
        },
      ],
    });
    expect(() => aiTaskInput(CHAIN_ID, aiTaskModelOf(wide), SEED_A, EPOCH)).toThrow(AiError);
  });
});

describe("verifyAiProof", () => {
  it("accepts a valid proof, also after an encode/decode round trip", () => {
    expect([...valid.output]).toEqual([...expectedOutput(SEED_A, EPOCH)]);
    expect(valid.proof.length).toBe(PROOF_SIZE);
    verifyAiProof(valid, ctx);
    const decoded = decodeAiProof(encodeAiProof(valid));
    expect(decoded).toEqual(valid);
    const runs = 20;
    const t = performance.now();
    for (let i = 0; i < runs; i++) verifyAiProof(decoded, ctx);
    console.log(`verifyAiProof: ${((performance.now() - t) / runs).toFixed(1)} ms per proof (warm vk cache)`);
  });

  it("AI_PROOF_INVALID: a tampered proof byte", () => {
    // Bytes all over A, B and C: most leave a point off its curve (malformed), the rest fail the pairing check.
    for (const pos of [0, 31, 63, 64, 100, 191, 192, 255]) {
      const proof = valid.proof.slice();
      proof[pos] ^= 0x01;
      expectCode(() => verifyAiProof({ ...valid, proof }, ctx), "AI_PROOF_INVALID");
    }
  });

  it("AI_PROOF_INVALID: a well-formed proof that fails the pairing check (A negated)", () => {
    const proof = valid.proof.slice();
    const y = BigInt(bytesToHex(proof.subarray(32, 64)));
    proof.set(hexToBytes(`0x${(BN254_P - y).toString(16).padStart(64, "0")}`), 32);
    expectCode(() => verifyAiProof({ ...valid, proof }, ctx), "AI_PROOF_INVALID");
  });

  it("rejects the proof for another seed: wrong output, or its right output with a proof of another input", () => {
    const other = { ...ctx, seed: SEED_B };
    const outB = expectedOutput(SEED_B, EPOCH);
    expect([...outB]).not.toEqual([...valid.output]);
    expectCode(() => verifyAiProof(valid, other), "AI_PROOF_INVALID");
    expectCode(() => verifyAiProof({ ...valid, output: outB }, other), "AI_PROOF_INVALID");
  });

  it("rejects the proof for another epoch: wrong epoch, or its right output with a proof of another input", () => {
    const other = { ...ctx, epoch: EPOCH + 1n };
    expectCode(() => verifyAiProof(valid, other), "AI_PROOF_WRONG_EPOCH");
    const relabelled = { ...valid, epoch: EPOCH + 1n, output: expectedOutput(SEED_A, EPOCH + 1n) };
    expectCode(() => verifyAiProof(relabelled, other), "AI_PROOF_INVALID");
  });

  it("AI_PROOF_INVALID: a proof copied under another miner's address", () => {
    expectCode(() => verifyAiProof({ ...valid, miner: MINER_B }, ctx), "AI_PROOF_INVALID");
  });

  it("an output that is not the reference output fails the proof; one of the wrong length is malformed", () => {
    // The verifier has no model bytes: the circuit constrains the output, so the pairing check catches it.
    const output = valid.output.slice();
    output[1] = output[1] === 0 ? 1 : 0;
    expectCode(() => verifyAiProof({ ...valid, output }, ctx), "AI_PROOF_INVALID");
    expectCode(() => verifyAiProof({ ...valid, output: valid.output.slice(0, 3) }, ctx), "AI_PROOF_MALFORMED");
  });

  it("the task is bound to the model's CID: the same proof under another CID does not verify", () => {
    const otherCid = modelCid(Uint8Array.of(...model, 0)).bytes;
    expectCode(() => verifyAiProof(valid, { ...ctx, model: { ...task, modelCid: otherCid } }), "AI_PROOF_INVALID");
  });

  it("AI_PROOF_MALFORMED: fields of the wrong size", () => {
    expectCode(() => verifyAiProof({ ...valid, miner: MINER_A.slice(0, 19) }, ctx), "AI_PROOF_MALFORMED");
    expectCode(() => verifyAiProof({ ...valid, proof: valid.proof.slice(0, 255) }, ctx), "AI_PROOF_MALFORMED");
  });

  it("a verifying key of another circuit is a node fault (Groth16Error), not a verdict on the proof", () => {
    // Same key with one IC point dropped: it declares one public input fewer than the model needs.
    const vk = circuit.verifyingKey.slice(0, circuit.verifyingKey.length - 64);
    new DataView(vk.buffer).setUint32(448, new DataView(vk.buffer).getUint32(448) - 1);
    expect(() => verifyAiProof(valid, { ...ctx, verifyingKey: vk })).toThrow(Groth16Error);
  });
});

describe("AiProof codec", () => {
  const enc = () => encodeAiProof(valid);
  const fields = () => [valid.epoch, valid.miner, new Uint8Array(valid.output.buffer), valid.proof] as const;

  it("encodes to a bounded canonical RLP list", () => {
    const bytes = enc();
    expect(bytes.length).toBeLessThanOrEqual(AI_PROOF_MAX_SIZE);
    expect(bytesToHex(bytes)).toBe(bytesToHex(rlpEncode([...fields()])));
  });

  it("AI_PROOF_MALFORMED: truncated, extended, oversized or not RLP", () => {
    const bytes = enc();
    expectCode(() => decodeAiProof(new Uint8Array(0)), "AI_PROOF_MALFORMED");
    expectCode(() => decodeAiProof(bytes.subarray(0, bytes.length - 1)), "AI_PROOF_MALFORMED");
    expectCode(() => decodeAiProof(Uint8Array.of(...bytes, 0)), "AI_PROOF_MALFORMED");
    expectCode(() => decodeAiProof(new Uint8Array(AI_PROOF_MAX_SIZE + 1)), "AI_PROOF_MALFORMED");
    const [epoch, miner, , proof] = fields();
    expectCode(() => decodeAiProof(rlpEncode([epoch, miner, new Uint8Array(800), proof])), "AI_PROOF_MALFORMED");
    expectCode(() => decodeAiProof(rlpEncode(valid.proof)), "AI_PROOF_MALFORMED");
  });

  it("AI_PROOF_MALFORMED: wrong item count, types or sizes", () => {
    const [epoch, miner, output, proof] = fields();
    for (const items of [
      [epoch, miner, output],
      [epoch, miner, output, proof, new Uint8Array(0)],
      [[epoch], miner, output, proof],
      [epoch, miner, [output], proof],
      [Uint8Array.of(0, 7), miner, output, proof], // epoch with a leading zero
      [1n << 64n, miner, output, proof], // epoch beyond u64
      [epoch, miner.subarray(0, 19), output, proof],
      [epoch, Uint8Array.of(...miner, 0), output, proof],
      [epoch, miner, new Uint8Array(0), proof],
      [epoch, miner, output, proof.subarray(0, 255)],
      [epoch, miner, output, Uint8Array.of(...proof, 0)],
    ]) {
      expectCode(() => decodeAiProof(rlpEncode(items)), "AI_PROOF_MALFORMED");
    }
  });

  it("AI_PROOF_MALFORMED: non-canonical RLP (a length with a leading zero byte)", () => {
    const bytes = enc();
    // The proof is the last item: its header b9 01 00 becomes ba 00 01 00, and the list length grows by one.
    const headerAt = bytes.length - PROOF_SIZE - 3;
    expect([...bytes.subarray(headerAt, headerAt + 3)]).toEqual([0xb9, 0x01, 0x00]);
    const body = Uint8Array.of(...bytes.subarray(3, headerAt), 0xba, 0x00, 0x01, 0x00, ...bytes.subarray(headerAt + 3));
    expect(bytes[0]).toBe(0xf9);
    const listLen = body.length;
    expectCode(() => decodeAiProof(Uint8Array.of(0xf9, listLen >> 8, listLen & 0xff, ...body)), "AI_PROOF_MALFORMED");
  });

  it("encodeAiProof rejects invalid fields", () => {
    expectCode(() => encodeAiProof({ ...valid, epoch: -1n }), "AI_PROOF_MALFORMED");
    expectCode(() => encodeAiProof({ ...valid, miner: new Uint8Array(32) }), "AI_PROOF_MALFORMED");
    expectCode(() => encodeAiProof({ ...valid, output: new Int8Array(0) }), "AI_PROOF_MALFORMED");
    expectCode(() => encodeAiProof({ ...valid, output: new Int8Array(800) }), "AI_PROOF_MALFORMED");
  });

  it("fuzz: any mutation of a valid encoding decodes canonically or fails with AI_PROOF_MALFORMED", () => {
    const bytes = enc();
    const decodeOrCode = (b: Uint8Array) => {
      try {
        const p = decodeAiProof(b);
        expect(bytesToHex(encodeAiProof(p))).toBe(bytesToHex(b));
      } catch (e) {
        if (!(e instanceof AiProofError)) throw e;
        expect(e.type.code).toBe("AI_PROOF_MALFORMED");
      }
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(bytes.length),
        (edits, cut) => {
          const b = bytes.slice();
          for (const [pos, v] of edits) b[pos] = v;
          decodeOrCode(b);
          decodeOrCode(b.subarray(0, cut));
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), decodeOrCode), { numRuns: 500 });
  });
});

describe("aiPublicInputs", () => {
  it("orders outputs, inputs, miner as 32-byte field elements, int8 values offset by 128", () => {
    const input = Int8Array.of(-128, 127, 0, 1, -1, 5, 6, 7);
    const output = Int8Array.of(3, -3, 127, -128);
    const signals = aiPublicInputs(input, output, MINER_A).map((b) => BigInt(bytesToHex(b)));
    expect(signals).toEqual([
      131n,
      125n,
      255n,
      0n,
      0n,
      255n,
      128n,
      129n,
      127n,
      133n,
      134n,
      135n,
      BigInt(bytesToHex(MINER_A)),
    ]);
    expectCode(() => aiPublicInputs(input, output, MINER_A.subarray(1)), "AI_PROOF_MALFORMED");
  });
});

describe("circuit = mlpForward", () => {
  it("the devnet circuit's witness output equals mlpForward (random and extreme inputs)", async () => {
    const { wasm, r1cs } = circuit.artefacts;
    const extremes = [-128, 127, 0, -1].map((v) => new Int8Array(8).fill(v));
    for (const [i, x] of extremes.entries()) {
      const got = await witnessOutput(wasm, x, MINER_B, 4, i === 0 ? r1cs : undefined);
      expect([...got]).toEqual([...mlpForward(parsed, x)]);
    }
    await fc.assert(
      fc.asyncProperty(int8Array(8), async (values) => {
        const x = Int8Array.from(values);
        expect([...(await witnessOutput(wasm, x, MINER_A, 4))]).toEqual([...mlpForward(parsed, x)]);
      }),
      { numRuns: 40 },
    );
  });

  it("edge cases: int32 wrap-around, shift 0 and 31, multiplier 0 and 65535, clamping both ways", async () => {
    const layer = (inDim: number, outDim: number, m: number, s: number, relu: boolean, w: number[], b: number[]) =>
      ({
        inDim,
        outDim,
        multiplier: m,
        shift: s,
        relu,
        weights: Int8Array.from(w),
        bias: Int32Array.from(b),
      }) satisfies MlpLayer;
    // Each model's output shows its edge case directly (a later layer would hide it behind clamping).
    const edgeModels = [
      {
        what: "int32 wrap-around (biases at the int32 edges), multiplier 65535, shift 31, clamping both ways",
        layers: [
          layer(
            4,
            4,
            65535,
            31,
            false,
            [127, -128, 3, 127, 127, -128, -7, 100, 127, -128, 9, -100, 127, -128, 1, 1],
            [2147480000, -2147480000, 0, 2147483647],
          ),
        ],
        // column 0 is 127 without the wrap-around and -128 with it; both must occur
        minDistinct: 2,
      },
      {
        what: "shift 0 with relu, then negative values rounded by floor",
        layers: [
          layer(4, 3, 1, 0, true, [1, -1, 0, -1, 0, 1, 0, 1, -1, 1, 1, 0], [0, -100, 30]),
          layer(3, 3, 3000, 20, false, [100, -50, 0, 50, -100, 1, 25, 25, -128], [-100, 5000, 7]),
        ],
        minDistinct: 8,
      },
      {
        what: "multiplier 0",
        layers: [
          layer(3, 2, 0, 5, false, [1, 2, 3, 4, 5, 6], [-1000, 1000]),
          layer(2, 1, 0, 0, true, [127, -128], [99]),
        ],
        minDistinct: 1,
      },
    ];
    for (const [m, { what, layers, minDistinct }] of edgeModels.entries()) {
      const edge = encodeMlpModel({ layers });
      const edgeParsed = parseMlpModel(edge);
      const inDim = layers[0].inDim;
      const outDim = layers[layers.length - 1].outDim;
      const tmp = mkdtempSync(join(CIRCUITS_BUILD_DIR, ".poai-edge-"));
      try {
        const name = `mlp_edge${m}`;
        const source = mlpCircuitSource(edge);
        // the first model's sums leave int32, so its circuit must constrain the wrap-around
        expect(source.includes("= Int32Wrap();"), what).toBe(m === 0);
        const info = compileCircuit({ name, source, circomFlags: ["--O2"] }, tmp);
        expect([info.publicOutputs, info.publicInputs], what).toEqual([outDim, inDim + 1]);
        const wasm = join(tmp, `${name}.wasm`);
        const r1cs = join(tmp, `${name}.r1cs`);
        const seen = new Set<string>();
        const run = async (x: Int8Array, check: boolean) => {
          const want = mlpForward(edgeParsed, x);
          const got = await witnessOutput(wasm, x, MINER_A, outDim, check ? r1cs : undefined);
          expect([...got], `${what}: input ${x.join()}`).toEqual([...want]);
          seen.add(want.join());
        };
        for (const v of [-128, 127, 0, 1, -1]) await run(new Int8Array(inDim).fill(v), v === 127);
        await fc.assert(
          fc.asyncProperty(int8Array(inDim), async (values) => run(Int8Array.from(values), false)),
          { numRuns: 20 },
        );
        // Outputs that never vary would prove little.
        expect(seen.size, what).toBeGreaterThanOrEqual(minDistinct);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  });
});
