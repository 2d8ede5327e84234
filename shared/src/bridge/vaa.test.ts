import {
  createVAA,
  deserialize,
  deserializePayload,
  serialize,
  UniversalAddress,
} from "@wormhole-foundation/sdk-definitions";
import { mocks } from "@wormhole-foundation/sdk-definitions/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keccak256 } from "../hash.ts";
import { bytesToHex, hexToBytes } from "../hex.ts";
import { privateKeyToAddress } from "../secp256k1.ts";
import { BridgeError } from "./errors.ts";
import {
  decodeGovernance,
  encodeGovernance,
  encodeGuardianSetUpgrade,
  encodeRegisterChain,
  encodeSetGovernor,
  encodeSetMessageFee,
  encodeTransferFees,
  GOVERNANCE_EMITTER,
} from "./governance.ts";
import {
  decodeTokenBridgePayload,
  denormalizeAmount,
  encodeAssetMeta,
  encodeRefund,
  encodeTransfer,
  encodeTransferWithPayload,
  normalizeAmount,
} from "./payloads.ts";
import {
  decodeVaa,
  encodeVaa,
  quorum,
  signVaa,
  toUniversalAddress,
  type VaaBody,
  vaaDigest,
  verifyVaa,
  WORMHOLE_CHAIN,
} from "./vaa.ts";
import {
  CONSISTENCY_INSTANT,
  CONSISTENCY_SAFE,
  consistencyTag,
  WORMHOLE_GOVERNANCE_EMITTER,
  WORMHOLE_TOKEN_BRIDGE_EMITTERS,
} from "./wormhole.ts";

const KEYS = Array.from({ length: 4 }, (_, i) => keccak256(Uint8Array.of(i + 1)));
const SET = { index: 3, keys: KEYS.map(privateKeyToAddress) };
const body: VaaBody = {
  timestamp: 1_700_000_000,
  nonce: 42,
  emitterChain: WORMHOLE_CHAIN.rustchain,
  emitterAddress: toUniversalAddress(hexToBytes("0x00000000000000000000000000000000000b41d6")),
  sequence: 7n,
  consistencyLevel: 1,
  payload: encodeTransfer({
    amount: 12_345_678n,
    tokenAddress: new Uint8Array(32),
    tokenChain: WORMHOLE_CHAIN.rustchain,
    to: toUniversalAddress(hexToBytes("0x1111111111111111111111111111111111111111")),
    toChain: WORMHOLE_CHAIN.ethereum,
    fee: 1_000n,
  }),
};
const signedBy = (idx: number[], b = body, set = SET.index) =>
  decodeVaa(
    signVaa(
      b,
      set,
      idx.map((index) => ({ index, privateKey: KEYS[index]! })),
    ),
  );
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof BridgeError ? e.type.code : `not a BridgeError: ${e}`;
  }
  return "no error";
};

describe("VAA v1 codec", () => {
  it("agrees with the Wormhole SDK byte for byte, both ways (a chain the SDK knows)", () => {
    const key = "cfb12303a19cde580bb4dd771639b0d26bc68353645571a8cff516ab2ee113a0";
    const guardians = new mocks.MockGuardians(0, [key]);
    const theirs = guardians.addSignatures(
      createVAA("Uint8Array", {
        guardianSet: 0,
        timestamp: 5,
        nonce: 7,
        emitterChain: "Ethereum",
        emitterAddress: new UniversalAddress(new Uint8Array(32).fill(1)),
        sequence: 9n,
        consistencyLevel: 1,
        signatures: [],
        payload: Uint8Array.of(1, 2, 3),
      }),
    );
    const bytes = serialize(theirs);
    const ours = decodeVaa(bytes);
    expect(ours).toMatchObject({ timestamp: 5, nonce: 7, emitterChain: 2, sequence: 9n, guardianSetIndex: 0 });
    expect(ours.digest).toEqual(keccak256(theirs.hash));
    const mine = signVaa(ours, 0, [{ index: 0, privateKey: hexToBytes(`0x${key}`) }]);
    expect(bytesToHex(mine)).toBe(bytesToHex(bytes));
    expect(deserialize("Uint8Array", mine).sequence).toBe(9n);
  });

  it("round-trips RustChain's chain id, which the SDK's own deserialize refuses", () => {
    const vaa = signedBy([0, 1, 2]);
    expect(vaa).toMatchObject({ emitterChain: 21075, sequence: 7n, guardianSetIndex: 3 });
    expect(() => deserialize("Uint8Array", encodeVaa(vaa))).toThrow();
    expect(encodeVaa(vaa)).toEqual(
      signVaa(
        body,
        3,
        [0, 1, 2].map((index) => ({ index, privateKey: KEYS[index]! })),
      ),
    );
  });

  it("refuses truncated, extended, wrong-version and random input with VAA_ errors only", () => {
    const bytes = encodeVaa(signedBy([0, 1, 2]));
    expect(code(() => decodeVaa(bytes.subarray(0, 60)))).toBe("VAA_MALFORMED");
    expect(code(() => decodeVaa(Uint8Array.of(2, ...bytes.subarray(1))))).toBe("VAA_VERSION");
    expect(code(() => decodeVaa(new Uint8Array(200_000)))).toBe("VAA_MALFORMED");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        const c = code(() => decodeVaa(Uint8Array.of(1, ...junk)));
        return c === "no error" || c.startsWith("VAA_");
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: bytes.length - 1 }), (cut) =>
        ["VAA_MALFORMED", "no error"].includes(code(() => decodeVaa(bytes.subarray(0, cut)))),
      ),
    );
  });
});

describe("verifyVaa", () => {
  it("accepts a quorum of ascending signatures from the set", () => {
    expect(quorum(4)).toBe(3);
    expect(quorum(19)).toBe(13);
    expect(code(() => verifyVaa(signedBy([0, 1, 2]), SET, 0))).toBe("no error");
    expect(code(() => verifyVaa(signedBy([0, 1, 2, 3]), SET, 0))).toBe("no error");
  });

  it("names each broken rule", () => {
    expect(code(() => verifyVaa(signedBy([0, 1]), SET, 0))).toBe("VAA_QUORUM");
    const swapped = signedBy([0, 1, 2]);
    swapped.signatures = [swapped.signatures[1]!, swapped.signatures[0]!, swapped.signatures[2]!];
    expect(code(() => verifyVaa(swapped, SET, 0))).toBe("VAA_SIGNATURE_ORDER");
    const forged = signedBy([0, 1, 2]);
    forged.signatures[1] = { ...forged.signatures[1]!, guardianIndex: 3 };
    forged.signatures.sort((a, b) => a.guardianIndex - b.guardianIndex);
    expect(code(() => verifyVaa(forged, SET, 0))).toBe("VAA_BAD_SIGNATURE");
    expect(code(() => verifyVaa(signedBy([0, 1, 2], body, 2), SET, 0))).toBe("VAA_UNKNOWN_GUARDIAN_SET");
    expect(code(() => verifyVaa(signedBy([0, 1, 2]), { ...SET, expiresAt: 100 }, 101))).toBe(
      "VAA_GUARDIAN_SET_EXPIRED",
    );
    const tampered = decodeVaa(encodeVaa(signedBy([0, 1, 2])));
    tampered.digest = vaaDigest(Uint8Array.of(...tampered.body, 0));
    expect(code(() => verifyVaa(tampered, SET, 0))).toBe("VAA_BAD_SIGNATURE");
  });
});

describe("token-bridge payloads", () => {
  it("round-trips Transfer, AssetMeta, TransferWithPayload and Refund", () => {
    const token = { tokenAddress: toUniversalAddress(new Uint8Array(20).fill(9)), tokenChain: 2 };
    const to = toUniversalAddress(new Uint8Array(20).fill(5));
    expect(decodeTokenBridgePayload(body.payload)).toMatchObject({ payloadId: 1, amount: 12_345_678n, fee: 1_000n });
    expect(
      decodeTokenBridgePayload(encodeAssetMeta({ ...token, decimals: 18, symbol: "RTC", name: "RustChain ✓" })),
    ).toEqual({ payloadId: 2, ...token, decimals: 18, symbol: "RTC", name: "RustChain ✓" });
    const twp = { ...token, amount: 5n, to, toChain: 21075, fromAddress: to, payload: Uint8Array.of(7, 7) };
    expect(decodeTokenBridgePayload(encodeTransferWithPayload(twp))).toEqual({ payloadId: 3, ...twp });
    const digest = new Uint8Array(32).fill(3);
    expect(decodeTokenBridgePayload(encodeRefund({ originalSequence: 2n ** 63n, originalDigest: digest }))).toEqual({
      payloadId: 0x81,
      originalSequence: 2n ** 63n,
      originalDigest: digest,
    });
    expect(code(() => decodeTokenBridgePayload(Uint8Array.of(9)))).toBe("VAA_PAYLOAD");
    expect(code(() => decodeTokenBridgePayload(body.payload.subarray(0, 50)))).toBe("VAA_MALFORMED");
  });

  it("normalises to 8 decimals, leaving the dust with the sender", () => {
    expect(normalizeAmount(1_234_567_890_123_456_789n, 18)).toEqual({ normalized: 123_456_789n, dust: 123_456_789n });
    expect(denormalizeAmount(123_456_789n, 18)).toBe(1_234_567_890_000_000_000n);
    expect(normalizeAmount(5_000_000n, 6)).toEqual({ normalized: 5_000_000n, dust: 0n });
  });
});

describe("governance payloads", () => {
  it("encodes the guardian-set upgrade as Wormhole's Core action 2 and round-trips every action", () => {
    const keys = SET.keys;
    const upgrade = encodeGuardianSetUpgrade({ chain: 0, newIndex: 4, keys });
    expect(bytesToHex(upgrade.subarray(0, 32))).toBe(`0x${"00".repeat(28)}436f7265`);
    expect(upgrade.length).toBe(32 + 1 + 2 + 4 + 1 + 20 * keys.length);
    expect(decodeGovernance(upgrade)).toEqual({ module: "Core", action: 2, chain: 0, newIndex: 4, keys });
    const governor = {
      module: "RustChainBridge" as const,
      action: 2 as const,
      chain: 2,
      tokenChain: 2,
      tokenAddress: new Uint8Array(32),
      dailyLimit: 10n ** 12n,
      threshold: 10n ** 10n,
      delay: 3600,
    };
    expect(decodeGovernance(encodeSetGovernor(governor))).toEqual(governor);
    const pause = {
      module: "RustChainBridge" as const,
      action: 1 as const,
      chain: 21075,
      tokenChain: 2,
      tokenAddress: new Uint8Array(32),
      paused: true,
    };
    expect(decodeGovernance(encodeGovernance(pause))).toEqual(pause);
    const register = {
      module: "TokenBridge" as const,
      action: 1 as const,
      chain: 2,
      emitterChain: 21075,
      emitterAddress: new Uint8Array(32).fill(1),
    };
    expect(decodeGovernance(encodeGovernance(register))).toEqual(register);
    expect(code(() => decodeGovernance(upgrade.subarray(0, upgrade.length - 1)))).toBe("GOVERNANCE");
    expect(GOVERNANCE_EMITTER.address[31]).toBe(4);
  });
});

describe("Wormhole governance and consistency levels", () => {
  it("SetMessageFee, TransferFees and RegisterChain are byte for byte the payloads the Wormhole SDK reads as Core 3, Core 4 and TokenBridge 1", () => {
    const fee = encodeSetMessageFee({ chain: 1, fee: 5n * 10n ** 15n });
    const theirs = deserializePayload("WormholeCore:SetMessageFee", fee) as unknown as Record<string, unknown>;
    expect(theirs).toMatchObject({ protocol: "WormholeCore", action: "SetMessageFee", chain: "Solana" });
    expect(JSON.stringify(theirs, (_, v) => (typeof v === "bigint" ? v.toString() : v))).toContain(
      '"5000000000000000"',
    );
    expect(decodeGovernance(fee)).toEqual({ module: "Core", action: 3, chain: 1, fee: 5n * 10n ** 15n });
    expect(code(() => decodeGovernance(fee.subarray(0, fee.length - 1)))).toBe("GOVERNANCE");

    const recipient = Uint8Array.from({ length: 32 }, (_, i) => (i < 12 ? 0 : i));
    const transferFees = encodeTransferFees({ chain: 1, amount: 7n * 10n ** 15n, recipient });
    const paid = deserializePayload("WormholeCore:TransferFees", transferFees) as unknown as {
      action: string;
      chain: string;
      actionArgs: { amount: bigint; recipient: { toUint8Array(): Uint8Array } };
    };
    expect(paid).toMatchObject({ action: "TransferFees", chain: "Solana" });
    expect(paid.actionArgs.amount).toBe(7n * 10n ** 15n);
    expect(paid.actionArgs.recipient.toUint8Array()).toEqual(recipient);
    expect(decodeGovernance(transferFees)).toEqual({
      module: "Core",
      action: 4,
      chain: 1,
      amount: 7n * 10n ** 15n,
      recipient,
    });
    expect(code(() => decodeGovernance(transferFees.subarray(0, 98)))).toBe("GOVERNANCE");

    const solana = WORMHOLE_TOKEN_BRIDGE_EMITTERS.solana;
    const register = encodeRegisterChain({ chain: 0, emitterChain: solana.chain, emitterAddress: solana.address });
    const registered = deserializePayload("TokenBridge:RegisterChain", register) as unknown as Record<string, unknown>;
    expect(registered).toMatchObject({ protocol: "TokenBridge", action: "RegisterChain" });
    expect(JSON.stringify(registered, (_, v) => (typeof v === "bigint" ? v.toString() : v))).toContain("Solana");
    expect(WORMHOLE_GOVERNANCE_EMITTER).toEqual({
      chain: 1,
      address: Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 4 : 0)),
    });
  });

  it("maps consistency levels to RustChain's tags: 200 the head, 201 safe, anything else finality", () => {
    expect(consistencyTag(CONSISTENCY_INSTANT)).toBe("latest");
    expect(consistencyTag(CONSISTENCY_SAFE)).toBe("safe");
    for (const level of [0, 1, 15, 32, 199, 202, 255]) expect(consistencyTag(level)).toBe("finalized");
  });
});
