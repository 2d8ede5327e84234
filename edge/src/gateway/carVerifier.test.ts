// The verifying CAR stream: a good CAR passes byte for byte whatever the chunking; a tampered block, a wrong root, a
// stray or repeated block, an oversized section, a missing block or a cut CAR are refused, and nothing after the fault
// is ever handed out.
import { concatBytes } from "@rustchain/shared/hex";
import { describe, expect, it } from "vitest";
import { CarVerifier } from "./carVerifier.ts";
import { GatewayError } from "./errors.ts";
import { carBytes, chunked, flipped, rawBlock, testDag } from "./testCars.ts";

const { root, blocks } = await testDag();
const good = carBytes(root.cid, blocks);

/** Feeds `chunks`, returns what the verifier released and the code it threw (if any). */
function run(v: CarVerifier, chunks: Uint8Array[]): { out: Uint8Array; code?: string } {
  const out: Uint8Array[] = [];
  try {
    for (const c of chunks) out.push(...v.push(c));
    v.end();
    return { out: concatBytes(...out) };
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    return { out: concatBytes(...out), code: e.type.code };
  }
}

/** Where `part` starts in `whole`. */
function offsetOf(whole: Uint8Array, part: Uint8Array): number {
  for (let i = 0; i + part.length <= whole.length; i++) {
    if (whole.subarray(i, i + part.length).every((b, j) => b === part[j])) return i;
  }
  throw new Error("not found");
}

describe("CarVerifier", () => {
  it.each([1, 7, 64, 1 << 20])("passes a good CAR through unchanged in chunks of %i bytes", (size) => {
    const v = new CarVerifier(root.cid, false);
    const { out, code } = run(v, chunked(good, size));
    expect(code).toBeUndefined();
    expect(out).toEqual(good);
    expect(v.rootVerified).toBe(true);
  });

  it("refuses a block whose bytes were changed, and hands out nothing from that block on", () => {
    const at = offsetOf(good, blocks[2]!.bytes) + 10; // inside leaf b
    const tampered = flipped(good, at);
    const { out, code } = run(new CarVerifier(root.cid, false), chunked(tampered, 100));
    expect(code).toBe("GATEWAY_HASH_MISMATCH");
    expect(out.length).toBeLessThan(at);
    expect(good.subarray(0, out.length)).toEqual(out);
  });

  it("refuses a CAR for another root (header) and a first block that is not the root", async () => {
    const other = await rawBlock("another root");
    expect(run(new CarVerifier(other.cid, false), [good])).toMatchObject({ code: "GATEWAY_CAR_MALFORMED" });
    const wrongFirst = carBytes(root.cid, [blocks[1]!, root]);
    expect(run(new CarVerifier(root.cid, false), [wrongFirst]).code).toBe("GATEWAY_WRONG_ROOT");
  });

  it("refuses a block nothing links to, and a repeated block (dups=n)", async () => {
    const stray = await rawBlock("not linked");
    expect(run(new CarVerifier(root.cid, false), [carBytes(root.cid, [...blocks, stray])]).code).toBe(
      "GATEWAY_UNEXPECTED_BLOCK",
    );
    expect(run(new CarVerifier(root.cid, false), [carBytes(root.cid, [...blocks, blocks[1]!])]).code).toBe(
      "GATEWAY_UNEXPECTED_BLOCK",
    );
  });

  it("refuses a CAR missing a linked block or cut mid-section", () => {
    expect(run(new CarVerifier(root.cid, false), [carBytes(root.cid, blocks.slice(0, 3))])).toMatchObject({
      code: "GATEWAY_CAR_INCOMPLETE",
    });
    expect(run(new CarVerifier(root.cid, false), [good.subarray(0, good.length - 3)]).code).toBe(
      "GATEWAY_CAR_MALFORMED",
    );
    expect(run(new CarVerifier(root.cid, false), [good.subarray(0, 10)]).code).toBe("GATEWAY_CAR_MALFORMED");
  });

  it("with dag-scope=block takes the root alone and refuses anything after it", () => {
    const rootOnly = carBytes(root.cid, [root]);
    expect(run(new CarVerifier(root.cid, true), [rootOnly])).toEqual({ out: rootOnly });
    expect(run(new CarVerifier(root.cid, true), [good]).code).toBe("GATEWAY_UNEXPECTED_BLOCK");
  });

  it("refuses a section longer than a block can be before buffering it, and DAGs over the block limit", () => {
    const header = carBytes(root.cid, []);
    const huge = new Uint8Array([0xff, 0xff, 0xff, 0x7f]); // varint 2^28 - 1
    expect(run(new CarVerifier(root.cid, false), [header, huge]).code).toBe("GATEWAY_BLOCK_TOO_LARGE");
    const small = { maxBlockBytes: 1 << 20, maxBlocks: 3 };
    expect(run(new CarVerifier(root.cid, false, small), [good]).code).toBe("GATEWAY_DAG_TOO_LARGE");
  });
});
