// The gateway rules both the node and the edge apply: which CIDs are served, when bytes are the block a CID names
// (checked against multiformats' own sha2-256 and identity hashers), how a request picks its answer.
import { close, createWriter, headerLength } from "@ipld/car/buffer-writer";
import { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256, sha512 as sha512Hasher } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import {
  blockMatchesCid,
  CODEC_DAG_PB,
  CODEC_RAW,
  carHeaderBytes,
  cidSupportProblem,
  decodeCidText,
  gatewayHeaders,
  parseGatewayRequest,
} from "./trustlessGateway.ts";

const bytes = new TextEncoder().encode("hello gateway");
const rawCid = CID.createV1(CODEC_RAW, await sha256.digest(bytes));

describe("CIDs and blocks", () => {
  it("accepts bytes whose sha2-256 or identity digest is the CID's, refuses a flipped byte", async () => {
    expect(blockMatchesCid(rawCid, bytes)).toBe(true);
    const tampered = bytes.slice();
    tampered[3] = (tampered[3] as number) ^ 1;
    expect(blockMatchesCid(rawCid, tampered)).toBe(false);
    const inline = CID.createV1(CODEC_RAW, identity.digest(bytes));
    expect(blockMatchesCid(inline, bytes)).toBe(true);
    expect(blockMatchesCid(inline, tampered)).toBe(false);
  });

  it("refuses codecs other than dag-pb/raw and hashes other than sha2-256/identity", async () => {
    expect(cidSupportProblem(rawCid)).toBeUndefined();
    expect(cidSupportProblem(CID.createV1(CODEC_DAG_PB, rawCid.multihash))).toBeUndefined();
    expect(cidSupportProblem(CID.createV1(0x71, rawCid.multihash))?.code).toBe("CONTENT_UNSUPPORTED_CODEC");
    const sha512 = CID.createV1(CODEC_RAW, await sha512Hasher.digest(bytes));
    expect(cidSupportProblem(sha512)?.code).toBe("CONTENT_UNSUPPORTED_HASH");
    expect(blockMatchesCid(sha512, bytes)).toBe(false);
  });

  it("parses CIDv1 and CIDv0 text, bounded, and names what is wrong", () => {
    expect("cid" in decodeCidText(rawCid.toString())).toBe(true);
    expect("cid" in decodeCidText("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")).toBe(true);
    expect(decodeCidText("not-a-cid")).toEqual({ problem: { code: "CONTENT_INVALID_CID", cid: "not-a-cid" } });
    expect(decodeCidText("")).toMatchObject({ problem: { code: "CONTENT_INVALID_CID" } });
    expect(decodeCidText(`b${"a".repeat(300)}`)).toMatchObject({ problem: { code: "CONTENT_INVALID_CID" } });
  });
});

describe("requests", () => {
  const cid = rawCid.toString();
  it("picks raw or CAR from ?format or Accept, 406 for neither, 400/501/414 for what the spec says", () => {
    expect(parseGatewayRequest(`/ipfs/${cid}?format=raw`, undefined)).toMatchObject({ format: "raw", rootOnly: false });
    expect(parseGatewayRequest(`/ipfs/${cid}`, "application/vnd.ipld.car")).toMatchObject({ format: "car" });
    expect(parseGatewayRequest(`/ipfs/${cid}?format=car&dag-scope=block`, null)).toMatchObject({ rootOnly: true });
    expect(parseGatewayRequest(`/ipfs/${cid}`, "text/html")).toMatchObject({ status: 406 });
    expect(parseGatewayRequest(`/ipfs/${cid}?format=tar`, null)).toMatchObject({ status: 400 });
    expect(parseGatewayRequest(`/ipfs/${cid}?format=car&dag-scope=x`, null)).toMatchObject({ status: 400 });
    expect(parseGatewayRequest("/ipfs/nope?format=raw", null)).toEqual({ status: 400, message: "CONTENT_INVALID_CID" });
    expect(parseGatewayRequest("/ipfs/?format=raw", null)).toMatchObject({ status: 400 });
    expect(parseGatewayRequest(`/ipfs/${cid}/a?format=raw`, null)).toMatchObject({ status: 501 });
    expect(parseGatewayRequest(`/ipfs/${cid}?format=raw&entity-bytes=0:9`, null)).toMatchObject({ status: 501 });
    expect(parseGatewayRequest(`/ipfs/${cid}?format=raw&x=${"a".repeat(600)}`, null)).toMatchObject({ status: 414 });
    expect(parseGatewayRequest("/other", null)).toBeUndefined();
  });

  it("answers with immutable caching and an ETag of the CID and format", () => {
    const car = parseGatewayRequest(`/ipfs/${cid}?format=car`, null);
    if (!car || "status" in car) throw new Error("expected a request");
    expect(gatewayHeaders(car)).toMatchObject({
      "content-type": "application/vnd.ipld.car; version=1; order=dfs; dups=n",
      "cache-control": "public, max-age=29030400, immutable",
      etag: `"${cid}.car"`,
      "x-ipfs-roots": cid,
    });
    expect(gatewayHeaders({ ...car, format: "raw" }, 13)).toMatchObject({
      "content-length": "13",
      etag: `"${cid}.raw"`,
    });
  });

  it("writes the CARv1 header for a root exactly as @ipld/car's writer does", async () => {
    const dagPb = CID.createV1(CODEC_DAG_PB, rawCid.multihash);
    const v0 = CID.createV0(rawCid.multihash as Parameters<typeof CID.createV0>[0]);
    const inline = CID.createV1(CODEC_RAW, identity.digest(new Uint8Array(200)));
    for (const root of [rawCid, dagPb, v0, inline]) {
      const writer = createWriter(new ArrayBuffer(headerLength({ roots: [root] })), { roots: [root] });
      expect(carHeaderBytes(root)).toEqual(close(writer));
    }
  });
});
