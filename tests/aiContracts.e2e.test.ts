// The AI and zero-knowledge example contracts end to end on a devnet, through viem: the int8 MLP classifier
// (ai_mlp_forward, its model named by CID) against the TypeScript kernels, and the Groth16 verifier (groth16_verify) with a real snarkjs proof.
import { readFileSync } from "node:fs";
import { CID } from "multiformats/cid";
import * as snarkjs from "snarkjs";
import {
  bytesToHex,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  hexToBytes,
  http,
  parseEventLogs,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContracts } from "../contracts/build.ts";
import { buildCircuits, type CircuitArtefacts, terminateSnarkjs } from "../validator/src/consensus/ai/circuitBuild.ts";
import { modelCid } from "../validator/src/models/modelCid.ts";
import {
  argmaxI8,
  encodeMlpModel,
  type MlpLayer,
  type MlpModel,
  mlpForward,
  mlpPrice,
} from "../validator/src/runtime/ai/int8Kernels.ts";
import { Gas } from "../validator/src/runtime/gasSchedule.ts";
import {
  inputsFromSnarkjs,
  proofFromSnarkjs,
  type SnarkjsProof,
  type SnarkjsVerificationKey,
  vkFromSnarkjs,
} from "../validator/src/runtime/groth16/groth16.ts";
import { DEV_KEYS, type Devnet, devnetChain, startDevnet } from "./support/devnet.ts";

type Artefact = { abi: unknown[]; bytecode: Hex };

let devnet: Devnet;
let classifier: Artefact;
let verifier: Artefact;
let circuit: CircuitArtefacts;
let startBlock: bigint;
const deployer = privateKeyToAccount(DEV_KEYS[0]);
const prover = privateKeyToAccount(DEV_KEYS[1]);

const client = () => createPublicClient({ chain: devnetChain, transport: http(devnet.url) });
const wallet = (account = deployer) => createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });

beforeAll(async () => {
  const [built, circuits] = await Promise.all([buildContracts(), buildCircuits()]);
  classifier = built.classifier as unknown as Artefact;
  verifier = built.groth16_verifier as unknown as Artefact;
  circuit = circuits.artefacts.multiplier;
  devnet = await startDevnet({ slotMs: 500 });
  startBlock = await client().getBlockNumber();
}, 60_000);

afterAll(async () => {
  await terminateSnarkjs();
  await devnet?.stop();
  await devnet?.cleanup();
});

async function deploy(artefact: Artefact, args: unknown[]): Promise<Hex> {
  const hash = await wallet().deployContract({ abi: artefact.abi, bytecode: artefact.bytecode, args });
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
  expect(receipt.status).toBe("success");
  return receipt.contractAddress as Hex;
}

// ---- a seeded int8 MLP ----

/** mulberry32: a small deterministic PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInt8s(rand: () => number, len: number, lo = -128, hi = 127): Int8Array {
  const out = new Int8Array(len);
  for (let i = 0; i < len; i++) out[i] = lo + Math.floor(rand() * (hi - lo + 1));
  return out;
}

/** Dense layers over `dims`; relu on every hidden layer; requantization that keeps activations mostly unclamped. */
function randomMlp(rand: () => number, dims: number[]): MlpModel {
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l];
    const outDim = dims[l + 1];
    const bias = new Int32Array(outDim);
    for (let j = 0; j < outDim; j++) bias[j] = Math.floor(rand() * 8001) - 4000;
    layers.push({
      inDim,
      outDim,
      multiplier: 1 + Math.floor(rand() * 255),
      shift: 8 + Math.ceil(Math.log2(inDim)) + 4,
      relu: l + 2 < dims.length,
      weights: randomInt8s(rand, inDim * outDim),
      bias,
    });
  }
  return { layers };
}

describe("int8 MLP classifier", () => {
  const rand = prng(0x5eed);
  const small = randomMlp(rand, [16, 24, 5]);
  const big = randomMlp(rand, [16, 128, 64, 5]);
  const smallBytes = encodeMlpModel(small);
  const bigBytes = encodeMlpModel(big);
  let smallAddr: Hex;
  let bigAddr: Hex;

  /** The model's CID as `rustchain model cid` and the content store name it (docs/models.md), in binary. */
  const cidOf = (bytes: Uint8Array) => bytesToHex(modelCid(bytes).bytes);

  it("deploys with the model named by its CID; modelCid, modelSize and inputSize match", async () => {
    smallAddr = await deploy(classifier, [cidOf(smallBytes), bytesToHex(smallBytes)]);
    bigAddr = await deploy(classifier, [cidOf(bigBytes), bytesToHex(bigBytes)]);
    const c = client();
    for (const [address, bytes] of [
      [smallAddr, smallBytes],
      [bigAddr, bigBytes],
    ] as const) {
      const read = (functionName: string) =>
        c.readContract({ address, abi: classifier.abi, functionName }) as Promise<unknown>;
      expect(await read("modelCid")).toBe(cidOf(bytes));
      expect(CID.decode(hexToBytes((await read("modelCid")) as Hex)).toString()).toBe(modelCid(bytes).toString());
      expect(await read("modelSize")).toBe(BigInt(bytes.length));
      expect(await read("inputSize")).toBe(16n);
    }
  });

  it("classify (eth_call) equals argmax(mlpForward) computed in TypeScript, for both models", async () => {
    const c = client();
    const inputs = Array.from({ length: 20 }, () => randomInt8s(rand, 16));
    const expected = { small: [] as bigint[], big: [] as bigint[] };
    const got = { small: [] as bigint[], big: [] as bigint[] };
    for (const input of inputs) {
      expected.small.push(BigInt(argmaxI8(mlpForward(small, input))));
      expected.big.push(BigInt(argmaxI8(mlpForward(big, input))));
    }
    await Promise.all(
      inputs.map(async (input, i) => {
        const args = [Array.from(input)];
        got.small[i] = (await c.readContract({
          address: smallAddr,
          abi: classifier.abi,
          functionName: "classify",
          args,
        })) as bigint;
        got.big[i] = (await c.readContract({
          address: bigAddr,
          abi: classifier.abi,
          functionName: "classify",
          args,
        })) as bigint;
      }),
    );
    expect(got).toEqual(expected);
    // The random models do discriminate: not every input lands in the same class.
    expect(new Set(expected.small).size).toBeGreaterThan(1);
  });

  it("an input of the wrong length reverts with the contract's reason", async () => {
    await expect(
      client().readContract({
        address: smallAddr,
        abi: classifier.abi,
        functionName: "classify",
        args: [[1, 2, 3]],
      }),
    ).rejects.toThrow(/Classifier: wrong input length/);
  });

  it("estimated gas grows with the model by at least the AI compute units of ai_mlp_forward", async () => {
    const c = client();
    const input = Array.from(randomInt8s(rand, 16));
    const estimate = (address: Hex) =>
      c.estimateContractGas({
        address,
        abi: classifier.abi,
        functionName: "classify",
        args: [input],
        account: deployer,
      });
    const [gasSmall, gasBig] = await Promise.all([estimate(smallAddr), estimate(bigAddr)]);
    const priceDiff = mlpPrice(big) - mlpPrice(small);
    expect(priceDiff).toBeGreaterThan(0n);
    expect(gasSmall).toBeGreaterThan(21_000n + mlpPrice(small));
    expect(gasBig - gasSmall).toBeGreaterThanOrEqual(priceDiff);
    // And the bigger model is also read from more (cold) storage slots: 32-byte chunks of the stored `bytes`.
    const chunks = (bytes: Uint8Array) => BigInt(Math.ceil(bytes.length / 32));
    const sloadDiff = Gas.storageReadCold * (chunks(bigBytes) - chunks(smallBytes));
    expect(gasBig - gasSmall).toBeGreaterThanOrEqual(priceDiff + sloadDiff);
  });

  it("a malformed model, and bytes that do not hash to the CID, are rejected at deploy", async () => {
    const truncated = smallBytes.subarray(0, smallBytes.length - 1);
    await expect(
      wallet().deployContract({
        abi: classifier.abi,
        bytecode: classifier.bytecode,
        args: [cidOf(truncated), bytesToHex(truncated)],
      }),
    ).rejects.toThrow(/Classifier: malformed model/);
    const tampered = smallBytes.slice();
    tampered[20] ^= 1;
    await expect(
      wallet().deployContract({
        abi: classifier.abi,
        bytecode: classifier.bytecode,
        args: [cidOf(smallBytes), bytesToHex(tampered)],
      }),
    ).rejects.toThrow(/Classifier: model does not match its CID/);
  });
});

describe("Groth16 verifier (circom multiplier, snarkjs proof)", () => {
  const ADDRESS = getAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  const OTHER_ADDRESS = getAddress("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
  let address: Hex;
  let proof: Hex;
  let inputs: bigint[];
  let otherInputs: bigint[];

  const toWords = (xs: Uint8Array[]) => xs.map((x) => BigInt(bytesToHex(x)));
  const verify = (p: Hex, ins: bigint[]) =>
    client().readContract({ address, abi: verifier.abi, functionName: "verify", args: [p, ins] }) as Promise<boolean>;

  beforeAll(async () => {
    const vkJson = JSON.parse(readFileSync(circuit.vkJson, "utf8")) as SnarkjsVerificationKey;
    const vk = vkFromSnarkjs(vkJson);
    expect(vk).toEqual(new Uint8Array(readFileSync(circuit.vkBin)));
    const [deployed, r1, r2] = await Promise.all([
      deploy(verifier, [bytesToHex(vk)]),
      snarkjs.groth16.fullProve({ a: "3", b: "11", address: BigInt(ADDRESS).toString() }, circuit.wasm, circuit.zkey),
      snarkjs.groth16.fullProve(
        { a: "3", b: "11", address: BigInt(OTHER_ADDRESS).toString() },
        circuit.wasm,
        circuit.zkey,
      ),
    ]);
    address = deployed;
    expect(r1.publicSignals).toEqual(["33", BigInt(ADDRESS).toString()]);
    proof = bytesToHex(proofFromSnarkjs(r1.proof as unknown as SnarkjsProof));
    inputs = toWords(inputsFromSnarkjs(r1.publicSignals));
    otherInputs = toWords(inputsFromSnarkjs(r2.publicSignals));
  }, 30_000);

  it("inputCount is the circuit's public signal count", async () => {
    expect(await client().readContract({ address, abi: verifier.abi, functionName: "inputCount" })).toBe(2n);
  });

  it("verify (eth_call) accepts the proof with its inputs", async () => {
    expect(await verify(proof, inputs)).toBe(true);
  });

  it("a tampered proof is rejected (false or a revert)", async () => {
    const bytes = Buffer.from(proof.slice(2), "hex");
    bytes[31] ^= 0x01; // last byte of A.x
    const tampered = bytesToHex(bytes);
    const result = await verify(tampered, inputs).catch((e: Error) => e);
    if (result instanceof Error) expect(result.message).toMatch(/revert/i);
    else expect(result).toBe(false);
  });

  it("the proof is bound to its address: another address's inputs do not verify", async () => {
    expect(otherInputs[1]).toBe(BigInt(OTHER_ADDRESS));
    expect(await verify(proof, otherInputs)).toBe(false);
  });

  it("malformed calls revert with the contract's reasons", async () => {
    await expect(verify(bytesToHex(new Uint8Array(255)), inputs)).rejects.toThrow(/Groth16: proof must be 256 bytes/);
    await expect(verify(proof, inputs.slice(0, 1))).rejects.toThrow(/Groth16: wrong number of public inputs/);
  });

  it("verifyAndRecord as a transaction emits Verified(by, ok)", async () => {
    const c = client();
    const hash = await wallet(prover).writeContract({
      address,
      abi: verifier.abi,
      functionName: "verifyAndRecord",
      args: [proof, inputs],
    });
    const receipt = await c.waitForTransactionReceipt({ hash, pollingInterval: 100 });
    expect(receipt.status).toBe("success");
    // groth16_verify alone costs 8,000,000 + 100,000 per public input.
    expect(receipt.gasUsed).toBeGreaterThan(8_200_000n);
    const events = parseEventLogs({ abi: verifier.abi as never, logs: receipt.logs, eventName: "Verified" }) as {
      address: Hex;
      args: unknown;
    }[];
    expect(events).toHaveLength(1);
    expect(events[0].address.toLowerCase()).toBe(address.toLowerCase());
    expect(events[0].args).toEqual({ by: prover.address, ok: true });

    // A failing verification is still a successful transaction that records ok = false.
    const hash2 = await wallet(prover).writeContract({
      address,
      abi: verifier.abi,
      functionName: "verifyAndRecord",
      args: [proof, otherInputs],
    });
    const receipt2 = await c.waitForTransactionReceipt({ hash: hash2, pollingInterval: 100 });
    expect(receipt2.status).toBe("success");
    const events2 = parseEventLogs({ abi: verifier.abi as never, logs: receipt2.logs, eventName: "Verified" }) as {
      args: unknown;
    }[];
    expect(events2.map((e) => e.args)).toEqual([{ by: prover.address, ok: false }]);
  });
});

describe("liveness", () => {
  it("the node kept producing blocks throughout", async () => {
    const start = await client().getBlockNumber();
    expect(start).toBeGreaterThan(startBlock);
    const deadline = Date.now() + 5000;
    let now = start;
    while (now <= start && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = await client().getBlockNumber();
    }
    expect(now).toBeGreaterThan(start);
  });
});
