// The devnet's genesis: chain 21076, the 10 "test … junk" dev accounts with 10,000 RTC each, N validators with 32 RTC
// stake, 8-slot epochs, and (optionally) the Proof-of-AI task.
import {
  blsProofOfPossession,
  blsPublicKey,
  bytesToHex,
  DEVNET_ACCOUNTS,
  DEVNET_CHAIN_ID,
  type GenesisJson,
  privateKeyToAddress,
} from "@rustchain/shared";
import { signBridgeKeyProof } from "@rustchain/shared/bridge/committee";
import { mlpShape } from "../consensus/ai/task.ts";
import { modelCid } from "../models/modelCid.ts";

const ONE_RTC = 10n ** 18n;
/** Where the first devnet validator's tips go: a fixed address that is none of the dev accounts. */
export const DEVNET_FEE_RECIPIENT = "0x5254000000000000000000000000000000000001";

export interface DevnetValidatorKey {
  /** Used here only to derive the public key and sign its proof of possession. */
  secretKey: Uint8Array;
  feeRecipient: string;
  /** The validator's bridge key (secp256k1), registered with its proof: the validator joins the bridge committee. */
  bridgePrivateKey?: Uint8Array;
}

/** Fee recipient of devnet validator `i`: 0x5254…0001, 0x5254…0002, … (none of them a dev account). */
export function devnetFeeRecipient(i: number): string {
  return `0x5254${(i + 1).toString(16).padStart(36, "0")}`;
}

/** Genesis names the Proof-of-AI model by its CID and shape; the bytes are published through the content store. */
function aiTaskShape(model: Uint8Array): { modelCid: string; inputs: number; outputs: number } {
  return { modelCid: modelCid(model).toString(), ...mlpShape(model) };
}

export function devnetGenesis(
  validators: DevnetValidatorKey[],
  slotMs: number,
  ai?: { model: Uint8Array; verifyingKey: Uint8Array },
): GenesisJson {
  const alloc: GenesisJson["alloc"] = {};
  for (const a of DEVNET_ACCOUNTS) alloc[a] = { balance: `0x${(10_000n * ONE_RTC).toString(16)}` };
  return {
    chainId: DEVNET_CHAIN_ID,
    timestamp: Math.floor(Date.now() / 1000),
    gasLimit: `0x${(300_000_000).toString(16)}`,
    baseFeePerGas: "0x3b9aca00",
    extraData: "0x",
    params: { slotMs, minBaseFeePerGas: "0x3b9aca00", slotsPerEpoch: 8, expectedLeadersPerSlot: 1 },
    alloc,
    ...(ai ? { ai: { ...aiTaskShape(ai.model), verifyingKey: bytesToHex(ai.verifyingKey) } } : {}),
    validators: validators.map((v) => {
      const publicKey = blsPublicKey(v.secretKey);
      return {
        blsPublicKey: bytesToHex(publicKey),
        proofOfPossession: bytesToHex(blsProofOfPossession(v.secretKey)),
        stake: `0x${(32n * ONE_RTC).toString(16)}`,
        feeRecipient: v.feeRecipient,
        ...(v.bridgePrivateKey
          ? {
              bridge: {
                address: bytesToHex(privateKeyToAddress(v.bridgePrivateKey)),
                proof: bytesToHex(signBridgeKeyProof(v.bridgePrivateKey, BigInt(DEVNET_CHAIN_ID), publicKey)),
              },
            }
          : {}),
      };
    }),
  };
}
