// A miner's Proof-of-AI submission and its verification (docs/ai.md, "Proof of AI").
//
// Wire format: RLP list [epoch (u64, canonical integer), miner (20 bytes), output (the int8 outputs as bytes, two's
// complement), proof (256 bytes, the groth16.ts binary proof)], at most AI_PROOF_MAX_SIZE bytes, canonical: decoding
// re-encodes and requires the same bytes, so one proof has exactly one encoding.
//
// Verification, cheapest check first, with the task's model named by CID (validators never need its bytes):
//   1. epoch = the task's epoch                                       else AI_PROOF_WRONG_EPOCH
//   2. the output has the model's output count                        else AI_PROOF_MALFORMED
//   3. Groth16 verification of the proof against the model circuit's verifying key with the public inputs
//      aiPublicInputs(aiTaskInput(chainId, model, seed, epoch), output, miner)   else AI_PROOF_INVALID
// The circuit constrains output = mlpForward(model, input) bit-exactly (mlpCircuit.ts), so a wrong output fails 3.
// A correct output alone earns nothing: anyone with the model can compute it. The proof shows the miner's key holder
// ran the circuit for this input and address; it is bound to the address because the address is a public input.

import {
  bytesToBigint,
  ChainError,
  equalBytes,
  RustChainError,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  rlpUint,
} from "@rustchain/shared";
import { MLP_MAX_DIM } from "../../runtime/ai/int8Kernels.ts";
import { encodeGroth16Input, Groth16Error, PROOF_SIZE, verifyGroth16 } from "../../runtime/groth16/groth16.ts";
import { AI_SIGNAL_OFFSET } from "./mlpCircuit.ts";
import { type AiTaskModel, aiTaskInput } from "./task.ts";

/** Upper bound of an encoded AiProof. */
export const AI_PROOF_MAX_SIZE = 1024;
export const AI_MINER_LENGTH = 20;

const MAX_U64 = (1n << 64n) - 1n;

export interface AiProof {
  epoch: bigint;
  /** The miner's 20-byte address; the proof is bound to it. */
  miner: Uint8Array;
  output: Int8Array;
  /** 256-byte Groth16 proof (groth16.ts binary format). */
  proof: Uint8Array;
}

export type AiProofErrorType =
  | { code: "AI_PROOF_MALFORMED"; reason: string }
  | { code: "AI_PROOF_WRONG_EPOCH"; expected: bigint; got: bigint }
  | { code: "AI_PROOF_WRONG_OUTPUT"; expected: readonly number[]; got: readonly number[] }
  | { code: "AI_PROOF_INVALID"; reason: string };

/** A Proof-of-AI submission that cannot be decoded, is for another task, or does not verify. Nothing was recorded. */
export class AiProofError extends RustChainError<AiProofErrorType> {
  constructor(type: AiProofErrorType) {
    super(type, aiProofErrorMessage(type));
  }
}

function aiProofErrorMessage(t: AiProofErrorType): string {
  switch (t.code) {
    case "AI_PROOF_MALFORMED":
      return `malformed AI proof: ${t.reason}`;
    case "AI_PROOF_WRONG_EPOCH":
      return `AI proof for epoch ${t.got}, expected ${t.expected}`;
    case "AI_PROOF_WRONG_OUTPUT":
      return `AI proof output [${t.got.join(", ")}] differs from the task output [${t.expected.join(", ")}]`;
    case "AI_PROOF_INVALID":
      return `invalid AI proof: ${t.reason}`;
  }
}

function malformed(reason: string): AiProofError {
  return new AiProofError({ code: "AI_PROOF_MALFORMED", reason });
}

/** Field checks shared by encode and verify (decode produces only valid fields). */
function checkFields(p: AiProof): void {
  if (typeof p.epoch !== "bigint" || p.epoch < 0n || p.epoch > MAX_U64) throw malformed("epoch is not a u64");
  if (!(p.miner instanceof Uint8Array) || p.miner.length !== AI_MINER_LENGTH) {
    throw malformed(`miner is not ${AI_MINER_LENGTH} bytes`);
  }
  if (!(p.output instanceof Int8Array) || p.output.length < 1 || p.output.length > MLP_MAX_DIM) {
    throw malformed(`output is not an Int8Array of 1..${MLP_MAX_DIM} values`);
  }
  if (!(p.proof instanceof Uint8Array) || p.proof.length !== PROOF_SIZE) {
    throw malformed(`proof is not ${PROOF_SIZE} bytes`);
  }
}

/** RLP [epoch, miner, output, proof]. Throws AI_PROOF_MALFORMED for an invalid field or an encoding over 1 KiB. */
export function encodeAiProof(p: AiProof): Uint8Array {
  checkFields(p);
  const output = new Uint8Array(p.output.buffer, p.output.byteOffset, p.output.length);
  const bytes = rlpEncode([p.epoch, p.miner, output, p.proof]);
  if (bytes.length > AI_PROOF_MAX_SIZE) throw malformed(`${bytes.length} bytes, limit ${AI_PROOF_MAX_SIZE}`);
  return bytes;
}

/** Decodes and copies (the result does not alias `b`). Throws AI_PROOF_MALFORMED on anything but a canonical proof. */
export function decodeAiProof(b: Uint8Array): AiProof {
  if (!(b instanceof Uint8Array)) throw malformed("not bytes");
  if (b.length > AI_PROOF_MAX_SIZE) throw malformed(`${b.length} bytes, limit ${AI_PROOF_MAX_SIZE}`);
  let p: AiProof;
  try {
    const items = rlpList(rlpDecode(b, AI_PROOF_MAX_SIZE), "AI proof", 4);
    const epoch = rlpUint(items[0], "epoch", 8);
    const miner = rlpBytes(items[1], "miner", AI_MINER_LENGTH);
    const output = rlpBytes(items[2], "output", MLP_MAX_DIM);
    const proof = rlpBytes(items[3], "proof", PROOF_SIZE);
    p = { epoch, miner: miner.slice(), output: new Int8Array(output.slice().buffer), proof: proof.slice() };
  } catch (e) {
    if (e instanceof ChainError) throw malformed(e.message);
    throw e;
  }
  checkFields(p);
  // @ethereumjs/rlp tolerates some non-minimal length prefixes; requiring the re-encoding makes encodings unique.
  if (!equalBytes(encodeAiProof(p), b)) throw malformed("non-canonical RLP");
  return p;
}

/**
 * The circuit's public inputs, 32-byte big-endian field elements, in this order (snarkjs puts the circuit outputs
 * first, then the public inputs in declaration order; see mlpCircuit.ts):
 *   output[0..outDim−1] + 128,  input[0..inDim−1] + 128,  miner (the 20 address bytes as a big-endian integer)
 * Throws AI_PROOF_MALFORMED when the miner is not 20 bytes.
 */
export function aiPublicInputs(input: Int8Array, output: Int8Array, miner: Uint8Array): Uint8Array[] {
  if (miner.length !== AI_MINER_LENGTH) throw malformed(`miner is not ${AI_MINER_LENGTH} bytes`);
  const signals: bigint[] = [];
  for (const v of output) signals.push(BigInt(v + AI_SIGNAL_OFFSET));
  for (const v of input) signals.push(BigInt(v + AI_SIGNAL_OFFSET));
  signals.push(bytesToBigint(miner));
  return signals.map(encodeGroth16Input);
}

export interface AiVerifyContext {
  chainId: bigint;
  /** The genesis model: its CID (binary), input count and output count. */
  model: AiTaskModel & { outputs: number };
  /** The model circuit's verifying key (groth16.ts binary format). */
  verifyingKey: Uint8Array;
  /** The epoch's 32-byte randomness. */
  seed: Uint8Array;
  epoch: bigint;
}

/**
 * Accepts `p` for the task of `ctx` or throws AiProofError (checks in the order of the comment at the top). A
 * malformed context (model CID or input count, seed, verifying key, or a key whose public-input count does not fit the
 * model) is a node fault and throws AiError or Groth16Error instead.
 */
export function verifyAiProof(p: AiProof, ctx: AiVerifyContext): void {
  checkFields(p);
  // Rule 1: a proof answers one epoch's task.
  if (p.epoch !== ctx.epoch)
    throw new AiProofError({ code: "AI_PROOF_WRONG_EPOCH", expected: ctx.epoch, got: p.epoch });
  // Rule 2: the output has the model's output count.
  if (p.output.length !== ctx.model.outputs) {
    throw malformed(`output has ${p.output.length} values, the model gives ${ctx.model.outputs}`);
  }
  const input = aiTaskInput(ctx.chainId, ctx.model, ctx.seed, ctx.epoch);
  // Rule 3: the proof verifies for (input, output, miner).
  let ok: boolean;
  try {
    ok = verifyGroth16(ctx.verifyingKey, p.proof, aiPublicInputs(input, p.output, p.miner));
  } catch (e) {
    if (e instanceof Groth16Error && e.type.code === "GROTH16_MALFORMED_PROOF") {
      throw new AiProofError({ code: "AI_PROOF_INVALID", reason: e.message });
    }
    throw e;
  }
  if (!ok) throw new AiProofError({ code: "AI_PROOF_INVALID", reason: "the Groth16 proof does not verify" });
}
