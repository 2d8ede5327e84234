// The parsers of what users and guardian APIs hand the relayer and the CLI about Wormhole: `redeem --vaa` text (hex or
// base64, bounded) and message ids (<chain>/<emitter>/<sequence>). Any input gives bytes / an id, or a clear typed
// refusal; nothing else is ever thrown.
import { bytesToHex } from "@rustchain/shared";
import { MAX_VAA_BYTES } from "@rustchain/shared/bridge/vaa";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BridgeCliError } from "../src/cli/bridgeCliError.ts";
import { parseVaaText } from "../src/cli/redeemVaaCommand.ts";
import { messageId, parseMessageId } from "../src/guardianApi.ts";

const refusal = (text: string) => {
  try {
    parseVaaText(text);
  } catch (e) {
    if (e instanceof BridgeCliError) return e.type.code;
    throw e;
  }
  return "accepted";
};

describe("redeem --vaa text", () => {
  it("reads hex with or without 0x and base64 (standard and URL-safe) as the same bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Uint8Array.of(1, ...b)),
        (bytes) => {
          const hex = bytesToHex(bytes);
          for (const text of [hex, hex.slice(2), hex.toUpperCase().replace("0X", "0x"), ` ${hex}\n`])
            expect(bytesToHex(parseVaaText(text))).toBe(hex);
          expect(bytesToHex(parseVaaText(Buffer.from(bytes).toString("base64")))).toBe(hex);
          expect(bytesToHex(parseVaaText(Buffer.from(bytes).toString("base64url")))).toBe(hex);
        },
      ),
    );
  });

  it("any other text is BAD_ARGUMENT, never another exception; longer than a VAA is refused by length", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => ["accepted", "BAD_ARGUMENT"].includes(refusal(text))),
    );
    expect(refusal("")).toBe("BAD_ARGUMENT");
    expect(refusal("0x")).toBe("BAD_ARGUMENT");
    expect(refusal("A")).toBe("BAD_ARGUMENT"); // one base64 character is no byte
    expect(refusal("AA".repeat(MAX_VAA_BYTES + 2))).toBe("BAD_ARGUMENT");
  });
});

describe("Wormhole message ids", () => {
  it("round-trip through messageId, with or without 0x on the emitter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (chain, emitter, sequence) => {
          const id = messageId({ emitterChain: chain, emitterAddress: emitter, sequence });
          const q = parseMessageId(id.replace("/", "/0x"));
          expect(q && messageId(q)).toBe(id);
        },
      ),
    );
  });

  it("refuses chain 0, chains over 65535, sequences of 2^64 and more, and short emitters", () => {
    const e = "ab".repeat(32);
    expect(parseMessageId(`0/${e}/1`)).toBeUndefined();
    expect(parseMessageId(`65536/${e}/1`)).toBeUndefined();
    expect(parseMessageId(`1/${e}/${2n ** 64n}`)).toBeUndefined();
    expect(parseMessageId(`1/${e.slice(2)}/1`)).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        const q = parseMessageId(text);
        return q === undefined || messageId(q).length > 0;
      }),
    );
  });
});
