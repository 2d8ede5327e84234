// Genesis schema and chain parameters. A genesis file is JSON; hex quantities follow JSON-RPC conventions.
import { CID } from "multiformats/cid";
import { z } from "zod";
import { decodeCidText, modelCidProblem } from "./content/trustlessGateway.ts";
import { ChainError } from "./errors.ts";
import { hexToBytes } from "./hex.ts";

const hexQuantity = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, "hex quantity");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "20-byte hex address");
const blsKey = z.string().regex(/^0x[0-9a-fA-F]{96}$/, "48-byte hex BLS public key");
const blsSignature = z.string().regex(/^0x[0-9a-fA-F]{192}$/, "96-byte hex BLS signature");
const ecdsaSignature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "65-byte hex secp256k1 signature");

function isModelCid(text: string): boolean {
  const decoded = decodeCidText(text);
  return "cid" in decoded && modelCidProblem(decoded.cid) === undefined;
}

export const genesisSchema = z.object({
  chainId: z
    .number()
    .int()
    .positive()
    .max(2 ** 53 - 1),
  timestamp: z.number().int().nonnegative().default(0),
  gasLimit: hexQuantity,
  baseFeePerGas: hexQuantity,
  extraData: z
    .string()
    .regex(/^0x([0-9a-fA-F]{2}){0,32}$/)
    .default("0x"),
  params: z
    .object({
      slotMs: z.number().int().min(100).max(600_000).default(12_000),
      /** Base fee never falls below this (wei). */
      minBaseFeePerGas: hexQuantity.default("0x0"),
      /** EIP-1559 elasticity: the gas target is gasLimit / elasticity. */
      elasticityMultiplier: z.number().int().min(1).max(8).default(2),
      baseFeeChangeDenominator: z.number().int().min(1).max(1024).default(8),
      /** Slots per epoch: the proposer-election seed and the Proof-of-AI task change once per epoch. */
      slotsPerEpoch: z.number().int().min(1).max(1024).default(32),
      /** Expected number of VRF-eligible proposers per slot (f in docs/consensus.md). */
      expectedLeadersPerSlot: z.number().min(0.01).max(16).default(1),
    })
    .prefault({}),
  alloc: z.record(address, z.object({ balance: hexQuantity, nonce: hexQuantity.optional() })),
  /**
   * Proof of AI (docs/ai.md): the int8 MLP every epoch's task runs, named by its IPFS CID (docs/models.md: CIDv1,
   * sha2-256, raw or dag-pb), its input and output counts, and the Groth16 key of its circuit. Validators verify proofs
   * with the key alone; miners fetch the model by CID and refuse bytes that do not hash to it.
   */
  ai: z
    .object({
      modelCid: z.string().refine(isModelCid, "a CIDv1 (sha2-256, codec raw or dag-pb)"),
      /** The model's input count (layer 0's inDim); a task input comes from one BLAKE3 digest, so at most 32. */
      inputs: z.number().int().min(1).max(32),
      /** The model's output count (the last layer's outDim). */
      outputs: z.number().int().min(1).max(1024),
      verifyingKey: z.string().regex(/^0x([0-9a-fA-F]{2}){1,65536}$/),
      /** Paid to the miner for each accepted proof (wei). */
      reward: hexQuantity.default("0xde0b6b3a7640000"),
      /** AI score (basis points) a validator whose fee recipient mined the proof gains, up to 10_000. */
      scoreStepBps: z.number().int().min(0).max(10_000).default(500),
    })
    .optional(),
  /**
   * Wormhole's guardian set when the chain starts (docs/bridge.md, "Wormhole"): the set RustChain's Wormhole core
   * bridge is deployed with; later sets come by guardian-set-upgrade VAAs. Absent: no Wormhole deployment.
   */
  wormhole: z
    .object({
      guardianSetIndex: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .default(0),
      guardians: z
        .array(address)
        .min(1)
        .max(255)
        .refine((a) => new Set(a.map((x) => x.toLowerCase())).size === a.length, "duplicate guardian"),
    })
    .optional(),
  validators: z
    .array(
      z.object({
        blsPublicKey: blsKey,
        /**
         * The key's signature over itself (`rustchain keys create` prints it). Checked by
         * `checkProofsOfPossession` (bls.ts, kept out of this module so the edge bundle stays free of native BLS).
         */
        proofOfPossession: blsSignature,
        stake: hexQuantity,
        feeRecipient: address,
        /**
         * The validator's secp256k1 bridge key (docs/bridge.md, "The committee"), as its address, with the key's
         * signature binding it to this validator's BLS key (`bridgeKeyProof`, checked by `checkBridgeKeyProofs`).
         */
        bridge: z.object({ address, proof: ecdsaSignature }).optional(),
      }),
    )
    .min(1, "at least one validator")
    .max(4096, "at most 4096 validators"),
});

export type GenesisJson = z.input<typeof genesisSchema>;

export interface ChainParams {
  chainId: bigint;
  slotMs: number;
  minBaseFeePerGas: bigint;
  elasticityMultiplier: bigint;
  baseFeeChangeDenominator: bigint;
  slotsPerEpoch: bigint;
  expectedLeadersPerSlot: number;
}

export interface GenesisAi {
  /** The model's CID in binary form (the task input hashes these bytes); `CID.decode` gives the text form. */
  modelCid: Uint8Array;
  inputs: number;
  outputs: number;
  verifyingKey: Uint8Array;
  reward: bigint;
  scoreStepBps: number;
}

export interface GenesisWormhole {
  guardianSetIndex: number;
  /** 20-byte guardian addresses, by guardian index. */
  guardians: Uint8Array[];
}

export interface GenesisValidator {
  blsPublicKey: Uint8Array;
  proofOfPossession: Uint8Array;
  stake: bigint;
  feeRecipient: Uint8Array;
  /** The bridge key's address and its proof (a member of the bridge committee); absent: not a member. */
  bridge?: { address: Uint8Array; proof: Uint8Array };
}

export interface Genesis {
  params: ChainParams;
  timestamp: bigint;
  gasLimit: bigint;
  baseFeePerGas: bigint;
  extraData: Uint8Array;
  alloc: { address: Uint8Array; balance: bigint; nonce: bigint }[];
  validators: GenesisValidator[];
  ai?: GenesisAi;
  wormhole?: GenesisWormhole;
}

export function parseGenesis(json: unknown): Genesis {
  const parsed = genesisSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ChainError({ code: "INVALID_GENESIS", reason: `${issue?.path.join(".")}: ${issue?.message}` });
  }
  const g = parsed.data;
  const seen = new Map<string, number>();
  const bridgeKeys = new Map<string, number>();
  for (const [i, v] of g.validators.entries()) {
    if (v.bridge) {
      const other = bridgeKeys.get(v.bridge.address.toLowerCase());
      if (other !== undefined)
        throw new ChainError({
          code: "INVALID_GENESIS",
          reason: `validators.${i}.bridge.address: same bridge key as validators.${other}`,
        });
      bridgeKeys.set(v.bridge.address.toLowerCase(), i);
    }
    const key = v.blsPublicKey.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ChainError({ code: "INVALID_GENESIS", reason: `validators.${i}: same BLS key as validators.${first}` });
    }
    seen.set(key, i);
    if (BigInt(v.stake) === 0n) {
      throw new ChainError({ code: "INVALID_GENESIS", reason: `validators.${i}.stake: must be above zero` });
    }
  }
  return {
    params: {
      chainId: BigInt(g.chainId),
      slotMs: g.params.slotMs,
      minBaseFeePerGas: BigInt(g.params.minBaseFeePerGas),
      elasticityMultiplier: BigInt(g.params.elasticityMultiplier),
      baseFeeChangeDenominator: BigInt(g.params.baseFeeChangeDenominator),
      slotsPerEpoch: BigInt(g.params.slotsPerEpoch),
      expectedLeadersPerSlot: g.params.expectedLeadersPerSlot,
    },
    ai: g.ai && {
      modelCid: CID.parse(g.ai.modelCid).bytes,
      inputs: g.ai.inputs,
      outputs: g.ai.outputs,
      verifyingKey: hexToBytes(g.ai.verifyingKey),
      reward: BigInt(g.ai.reward),
      scoreStepBps: g.ai.scoreStepBps,
    },
    ...(g.wormhole
      ? {
          wormhole: {
            guardianSetIndex: g.wormhole.guardianSetIndex,
            guardians: g.wormhole.guardians.map((a) => hexToBytes(a.toLowerCase())),
          },
        }
      : {}),
    timestamp: BigInt(g.timestamp),
    gasLimit: BigInt(g.gasLimit),
    baseFeePerGas: BigInt(g.baseFeePerGas),
    extraData: hexToBytes(g.extraData),
    alloc: Object.entries(g.alloc).map(([addr, a]) => ({
      address: hexToBytes(addr.toLowerCase()),
      balance: BigInt(a.balance),
      nonce: BigInt(a.nonce ?? "0x0"),
    })),
    validators: g.validators.map((v) => ({
      blsPublicKey: hexToBytes(v.blsPublicKey),
      proofOfPossession: hexToBytes(v.proofOfPossession),
      stake: BigInt(v.stake),
      feeRecipient: hexToBytes(v.feeRecipient.toLowerCase()),
      ...(v.bridge
        ? { bridge: { address: hexToBytes(v.bridge.address.toLowerCase()), proof: hexToBytes(v.bridge.proof) } }
        : {}),
    })),
  };
}

/** EIP-1559 base fee of the child of a block with the given gas use, floored at minBaseFeePerGas. */
export function nextBaseFee(
  params: ChainParams,
  parent: { gasLimit: bigint; gasUsed: bigint; baseFeePerGas: bigint },
): bigint {
  const target = parent.gasLimit / params.elasticityMultiplier;
  let next = parent.baseFeePerGas;
  if (parent.gasUsed > target) {
    const delta = (parent.baseFeePerGas * (parent.gasUsed - target)) / target / params.baseFeeChangeDenominator;
    next = parent.baseFeePerGas + (delta > 1n ? delta : 1n);
  } else if (parent.gasUsed < target) {
    const delta = (parent.baseFeePerGas * (target - parent.gasUsed)) / target / params.baseFeeChangeDenominator;
    next = parent.baseFeePerGas - delta;
  }
  return next < params.minBaseFeePerGas ? params.minBaseFeePerGas : next;
}

/** The devnet's well-known funded accounts: the first 10 of "test test ... junk" (m/44'/60'/0'/0/i). */
export const DEVNET_ACCOUNTS = [
  "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
  "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
  "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
  "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65",
  "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc",
  "0x976ea74026e726554db657fa54763abd0c3a0aa9",
  "0x14dc79964da2c08b23698b3d3cc7ca32193d9955",
  "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f",
  "0xa0ee7a142d267c1f36714e4a8f75612f20a79720",
] as const;

export const DEVNET_MNEMONIC = "test test test test test test test test test test test junk";
export const DEVNET_CHAIN_ID = 21076;
