// The req/resp codec is the parser of peer input: every malformed request or response must become a typed
// ReqRespError, never another exception, and valid messages must round-trip exactly.
import { blake3, rlpEncode } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { ReqRespError } from "./errors.ts";
import {
  decodeBlocksByRangeRequest,
  decodeBlocksByRootRequest,
  decodeResponseChunk,
  decodeStatus,
  decodeStatusRequest,
  encodeBlocksByRangeRequest,
  encodeBlocksByRootRequest,
  encodeStatus,
  errorChunk,
  STATUS_REQUEST,
  type Status,
  successChunk,
} from "./reqRespCodec.ts";

const status: Status = {
  chainId: 7777n,
  genesisHash: blake3(Uint8Array.of(0)),
  headHash: blake3(Uint8Array.of(1)),
  headNumber: 1234n,
  finalizedHash: blake3(Uint8Array.of(2)),
  finalizedNumber: 0n,
  finalizedSlot: 3n,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ReqRespError) return e.type.code;
    throw e;
  }
  return "OK";
}

describe("reqRespCodec", () => {
  it("round-trips status and requests", () => {
    expect(decodeStatus(encodeStatus(status))).toEqual(status);
    expect(() => decodeStatusRequest(STATUS_REQUEST)).not.toThrow();
    expect(decodeBlocksByRangeRequest(encodeBlocksByRangeRequest(10n, 64))).toEqual({ start: 10n, count: 64 });
    const hashes = [blake3(Uint8Array.of(5)), blake3(Uint8Array.of(6))];
    expect(decodeBlocksByRootRequest(encodeBlocksByRootRequest(hashes))).toEqual(hashes);
    expect(decodeResponseChunk(successChunk(Uint8Array.of(1, 2)))).toEqual(Uint8Array.of(1, 2));
  });

  it("REQ_INVALID_REQUEST for counts outside 1..64 and bad hashes", () => {
    expect(codeOf(() => encodeBlocksByRangeRequest(0n, 65))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => encodeBlocksByRangeRequest(0n, 0))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => decodeBlocksByRangeRequest(rlpEncode([0n, 65n])))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => decodeBlocksByRangeRequest(rlpEncode([0n, 0n])))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => decodeBlocksByRangeRequest(rlpEncode([2n ** 64n, 1n])))).toBe("REQ_INVALID_REQUEST");
    const h = blake3(Uint8Array.of(1));
    expect(codeOf(() => decodeBlocksByRootRequest(rlpEncode(Array(65).fill(h))))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => decodeBlocksByRootRequest(rlpEncode([])))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => decodeBlocksByRootRequest(rlpEncode([h.subarray(1)])))).toBe("REQ_INVALID_REQUEST");
    expect(codeOf(() => decodeStatusRequest(rlpEncode([1n])))).toBe("REQ_INVALID_REQUEST");
  });

  it("REQ_INVALID_RESPONSE for malformed status and chunks; REQ_SERVER_ERROR carries the bounded message", () => {
    expect(codeOf(() => decodeStatus(rlpEncode([1n, 2n])))).toBe("REQ_INVALID_RESPONSE");
    expect(codeOf(() => decodeStatus(Uint8Array.of(0xf9)))).toBe("REQ_INVALID_RESPONSE");
    expect(codeOf(() => decodeResponseChunk(new Uint8Array(0)))).toBe("REQ_INVALID_RESPONSE");
    expect(codeOf(() => decodeResponseChunk(Uint8Array.of(7, 1)))).toBe("REQ_INVALID_RESPONSE");
    try {
      decodeResponseChunk(errorChunk("x".repeat(1000)));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ReqRespError);
      const t = (e as ReqRespError).type;
      expect(t.code === "REQ_SERVER_ERROR" && t.message.length).toBe(256);
    }
  });

  it("random bytes only ever produce typed errors (bounded fuzz)", () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const decoders = [decodeStatus, decodeStatusRequest, decodeBlocksByRangeRequest, decodeBlocksByRootRequest];
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: rand() % 80 }, () => rand() & 0xff);
      if (i % 2 === 0 && bytes.length > 0) bytes[0] = 0xc0 + (rand() % 64); // bias toward RLP lists
      for (const decode of decoders) {
        const code = codeOf(() => decode(bytes));
        expect(["OK", "REQ_INVALID_REQUEST", "REQ_INVALID_RESPONSE"]).toContain(code);
      }
    }
  });
});
