// The Wormhole guardian API client against a local HTTP server playing the guardian API (the public REST shape),
// serving VAAs laid out as Solana's token bridge emits them and signed by the 19 mock guardians of
// tests/support/wormhole.ts (the Wormhole devnet key and 18 derived keys, each signing with its own index).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { BridgeError } from "@rustchain/shared/bridge/errors";
import type { VaaBody } from "@rustchain/shared/bridge/vaa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  guardianAddresses,
  range,
  SOLANA_TOKEN_BRIDGE,
  signWormholeVaa,
  solanaBody,
  solTransfer,
  WORMHOLE_SET,
} from "../../tests/support/wormhole.ts";
import { fetchEnqueuedVaas, fetchSignedVaa, GuardianApiError, signedVaaUrl } from "../src/guardianApi.ts";

const guardianSet = { index: 0, keys: guardianAddresses(WORMHOLE_SET).map((k) => hexToBytes(k)) };
const solana = SOLANA_TOKEN_BRIDGE;
const body = (sequence: bigint): VaaBody => solanaBody(solTransfer(10n ** 8n, `0x${"07".repeat(20)}`), sequence);
const sign = (b: VaaBody, n: number) => signWormholeVaa(b, range(n));

/** sequence → what the server answers */
const answers = new Map<string, { status: number; json: unknown }>();
/** what /v1/governor/enqueued_vaas answers */
let governor: { status: number; body: string } = { status: 200, body: JSON.stringify({ entries: [] }) };
let server: Server;
let baseUrl: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? "");
    if (req.url === "/v1/governor/enqueued_vaas") {
      res.writeHead(governor.status, { "content-type": "application/json" });
      res.end(governor.body);
      return;
    }
    const sequence = /^\/v1\/signed_vaa\/1\/[0-9a-f]{64}\/(\d+)$/.exec(req.url ?? "")?.[1];
    const a = sequence === undefined ? undefined : answers.get(sequence);
    res.writeHead(a?.status ?? 404, { "content-type": "application/json" });
    res.end(JSON.stringify(a?.json ?? { code: 5, message: "requested VAA not found in store" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const ask = (sequence: bigint) =>
  fetchSignedVaa({
    baseUrl,
    query: { emitterChain: solana.chain, emitterAddress: solana.address, sequence },
    guardianSet,
    now: 1_733_400_100,
  });
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof GuardianApiError || e instanceof BridgeError) return e.type.code;
    throw e;
  }
  return "no error";
};
const base64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

describe("Wormhole guardian API client", () => {
  it("asks /v1/signed_vaa/<chain>/<emitter hex>/<sequence> and returns a VAA signed by 13 of 19", async () => {
    const vaa = sign(body(7n), 13);
    answers.set("7", { status: 200, json: { vaaBytes: base64(vaa) } });
    const answer = await ask(7n);
    expect(answer.state).toBe("signed");
    if (answer.state !== "signed") return;
    expect(bytesToHex(answer.bytes)).toBe(bytesToHex(vaa));
    expect(answer.vaa.signatures).toHaveLength(13);
    expect(seen.at(-1)).toBe(`/v1/signed_vaa/1/${bytesToHex(solana.address).slice(2)}/7`);
    expect(signedVaaUrl("http://x/", { emitterChain: 1, emitterAddress: solana.address, sequence: 7n })).toBe(
      `http://x/v1/signed_vaa/1/ec7372995d5cc8732397fb0ad35c0121e0eaa90d26f828a534cab54391b3a4f5/7`,
    );
  });

  it("reads a 404 as not signed yet", async () => {
    expect(await ask(8n)).toEqual({ state: "pending" });
  });

  it("refuses an answer that is not the asked message, lacks a quorum, or is not a VAA", async () => {
    answers.set("9", { status: 200, json: { vaaBytes: base64(sign(body(10n), 13)) } });
    expect(await codeOf(ask(9n))).toBe("GUARDIAN_API_RESPONSE");
    answers.set("11", { status: 200, json: { vaaBytes: base64(sign(body(11n), 12)) } });
    expect(await codeOf(ask(11n))).toBe("VAA_QUORUM");
    answers.set("12", { status: 200, json: { vaaBytes: "AQID" } });
    expect(await codeOf(ask(12n))).toBe("VAA_MALFORMED");
    answers.set("13", { status: 200, json: { vaa: "nope" } });
    expect(await codeOf(ask(13n))).toBe("GUARDIAN_API_RESPONSE");
    answers.set("14", { status: 500, json: {} });
    expect(await codeOf(ask(14n))).toBe("GUARDIAN_API_HTTP");
  });

  it("reads the governor's enqueued list in guardiand's shape, leaves out entries that do not parse, 404 = empty", async () => {
    const emitter = bytesToHex(solana.address).slice(2);
    const good = {
      emitterChain: 1,
      emitterAddress: emitter,
      sequence: "3",
      releaseTime: 1662057609,
      notionalValue: "69",
      txHash: "0xccdb6891688b551c1a182292f93e5a9e9e9671bc902116162f044041cafbdcaf",
    };
    governor = {
      status: 200,
      body: JSON.stringify({
        entries: [
          good,
          { ...good, sequence: 4, emitterAddress: `0x${emitter}` }, // a number and a 0x: wormholescan's variant
          { ...good, sequence: "-1" },
          { ...good, emitterAddress: "abc" },
          { ...good, emitterChain: 70000 },
          { ...good, releaseTime: "soon" },
          null,
          "junk",
        ],
      }),
    };
    const list = await fetchEnqueuedVaas(baseUrl);
    expect([...list.keys()]).toEqual([`1/${emitter}/3`, `1/${emitter}/4`]);
    expect(list.get(`1/${emitter}/3`)).toMatchObject({ releaseTime: 1662057609, notionalValue: "69" });
    governor = { status: 404, body: "{}" };
    expect((await fetchEnqueuedVaas(baseUrl)).size).toBe(0);
    governor = { status: 200, body: JSON.stringify({ entries: "nope" }) };
    expect(await codeOf(fetchEnqueuedVaas(baseUrl))).toBe("GUARDIAN_API_RESPONSE");
    governor = { status: 200, body: " ".repeat(4 * 1024 * 1024 + 1) };
    expect(await codeOf(fetchEnqueuedVaas(baseUrl))).toBe("GUARDIAN_API_RESPONSE");
    governor = { status: 503, body: "{}" };
    expect(await codeOf(fetchEnqueuedVaas(baseUrl))).toBe("GUARDIAN_API_HTTP");
  });
});
