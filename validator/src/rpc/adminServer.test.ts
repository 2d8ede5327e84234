import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServer } from "./adminServer.ts";

// The admin API on the shared JSON-RPC envelope: its own bearer token, the same envelope rules and errors as the
// public port (a node without networking, so the network methods answer "networking is off").
let dir: string;
let server: AdminServer;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "admin-"));
  server = new AdminServer(
    { host: "127.0.0.1", port: 0, tokenFile: join(dir, "admin-token") },
    { network: undefined, logger: pino({ level: "silent" }) },
  );
  await server.listen();
  token = readFileSync(join(dir, "admin-token"), "utf8").trim();
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: string, auth = token) {
  const res = await fetch(server.url, {
    method: "POST",
    headers: auth ? { authorization: `Bearer ${auth}` } : {},
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const call = (method: string, params?: unknown) => post(JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }));

describe("admin API", () => {
  it("writes its token owner-only and refuses a missing or wrong token with 401", async () => {
    expect(statSync(join(dir, "admin-token")).mode & 0o777).toBe(0o600);
    for (const auth of ["", "nope", `${token}x`]) {
      const r = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "admin_peers" }), auth);
      expect(r.status).toBe(401);
      expect(r.json.error).toMatchObject({ code: -32600, data: { code: "UNAUTHORIZED" } });
    }
  });

  it("answers its methods through the shared envelope", async () => {
    expect((await call("admin_peers")).json).toEqual({ jsonrpc: "2.0", id: 1, result: [] });
    expect((await call("admin_nodeInfo")).json.result).toEqual({ peerId: null, multiaddrs: [] });
    const batch = await post(
      JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "admin_peers" },
        { jsonrpc: "2.0", id: 2, method: "eth_chainId" },
        { jsonrpc: "2.0", method: "admin_peers" },
      ]),
    );
    expect(batch.json).toHaveLength(2);
    expect(batch.json[1].error).toMatchObject({ code: -32601, data: { code: "METHOD_NOT_FOUND" } });
  });

  it("refuses bad input with the public port's codes", async () => {
    expect((await post("{")).json.error).toMatchObject({ code: -32700, data: { code: "PARSE_ERROR" } });
    const missing = await call("admin_peerScore", []);
    expect(missing.json.error).toEqual({
      code: -32602,
      message: "missing value for required argument 0",
      data: { code: "INVALID_PARAMS" },
    });
    const tooMany = await call("admin_setDeniedPeers", [Array.from({ length: 1025 }, () => "x")]);
    expect(tooMany.json.error).toMatchObject({ code: -32602 });
    expect((await call("admin_setDeniedPeers", [["a"]])).json.error).toMatchObject({
      code: -32601,
      data: { code: "NOT_ENABLED" },
    });
    const big = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "admin_peers", pad: "x".repeat(70_000) }));
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ code: -32005, data: { code: "BODY_TOO_LARGE" } });
    const get = await fetch(server.url);
    expect(get.status).toBe(405);
  });
});
