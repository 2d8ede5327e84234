import { describe, expect, it } from "vitest";
import { blsKeypairFromSeed, blsProofOfPossession } from "../bls.ts";
import { ChainError } from "../errors.ts";
import { type GenesisJson, parseGenesis } from "../genesis.ts";
import { keccak256 } from "../hash.ts";
import { bytesToHex } from "../hex.ts";
import { privateKeyToAddress } from "../secp256k1.ts";
import { checkBridgeKeyProofs, genesisGuardianSet, signBridgeKeyProof } from "./committee.ts";

const bls = [1, 2, 3].map((i) => blsKeypairFromSeed(new Uint8Array(32).fill(i)));
const bridgeKeys = [1, 2, 3].map((i) => keccak256(Uint8Array.of(0xb0, i)));

function validator(i: number, opts: { bridge?: boolean; proofKey?: Uint8Array; chainId?: bigint } = {}) {
  const { secretKey, publicKey } = bls[i]!;
  const key = bridgeKeys[i]!;
  return {
    blsPublicKey: bytesToHex(publicKey),
    proofOfPossession: bytesToHex(blsProofOfPossession(secretKey)),
    stake: "0x1",
    feeRecipient: `0x${"11".repeat(20)}`,
    ...(opts.bridge === false
      ? {}
      : {
          bridge: {
            address: bytesToHex(privateKeyToAddress(key)),
            proof: bytesToHex(signBridgeKeyProof(opts.proofKey ?? key, opts.chainId ?? 7n, publicKey)),
          },
        }),
  };
}

const genesis = (validators: GenesisJson["validators"]): GenesisJson => ({
  chainId: 7,
  gasLimit: "0x1000000",
  baseFeePerGas: "0x1",
  alloc: {},
  validators,
});

function refusal(json: GenesisJson): string {
  try {
    checkBridgeKeyProofs(parseGenesis(json));
  } catch (e) {
    expect(e).toBeInstanceOf(ChainError);
    return (e as ChainError & { type: { reason: string } }).type.reason;
  }
  return "accepted";
}

describe("bridge committee in genesis", () => {
  it("makes guardian set 0 of the validators with a bridge key, in genesis order", () => {
    const g = parseGenesis(genesis([validator(0), validator(1, { bridge: false }), validator(2)]));
    expect(refusal(genesis([validator(0), validator(1, { bridge: false }), validator(2)]))).toBe("accepted");
    const set = genesisGuardianSet(g);
    expect(set.index).toBe(0);
    expect(set.validators).toEqual([0, 2]);
    expect(set.keys.map(bytesToHex)).toEqual([0, 2].map((i) => bytesToHex(privateKeyToAddress(bridgeKeys[i]!))));
  });

  it("refuses a proof signed by another key, for another chain, or for another validator's BLS key", () => {
    expect(refusal(genesis([validator(0), validator(1, { proofKey: bridgeKeys[2] })]))).toMatch(
      /^validators\.1\.bridge\.proof: /,
    );
    expect(refusal(genesis([validator(0, { chainId: 8n })]))).toMatch(/^validators\.0\.bridge\.proof: /);
    const stolen = { ...validator(1), bridge: validator(0).bridge };
    expect(refusal(genesis([validator(2), stolen]))).toMatch(/^validators\.1\.bridge\.proof: /);
  });

  it("refuses two validators sharing a bridge key", () => {
    const twin = { ...validator(1), bridge: validator(0).bridge };
    expect(refusal(genesis([validator(0), twin]))).toBe("validators.1.bridge.address: same bridge key as validators.0");
  });
});
