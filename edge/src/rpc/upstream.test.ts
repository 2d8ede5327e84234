import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UpstreamUnavailableError } from "../app/contract.ts";
import { HttpUpstream } from "./upstream.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A loopback server answering every POST with `reply(body)`; `hang` never answers. */
async function serve(reply: (body: Record<string, unknown>) => { status: number; text: string } | "hang") {
  const seen: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      seen.push({ ...body, contentType: req.headers["content-type"], auth: req.headers.authorization });
      const out = reply(body);
      if (out === "hang") return;
      res.writeHead(out.status, { "content-type": "application/json" }).end(out.text);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe("HttpUpstream", () => {
  it("sends one JSON-RPC call and returns the core's result", async () => {
    const s = await serve((b) => ({ status: 200, text: JSON.stringify({ jsonrpc: "2.0", id: b.id, result: "0x10" }) }));
    const up = new HttpUpstream({ url: s.url, headers: { authorization: "Bearer t" } });
    expect(await up.call("eth_blockNumber", [])).toEqual({ result: "0x10" });
    expect(s.seen[0]).toMatchObject({
      jsonrpc: "2.0",
      method: "eth_blockNumber",
      params: [],
      contentType: "application/json",
      auth: "Bearer t",
    });
  });

  it("returns the core's error object as a value, whatever the HTTP status", async () => {
    const s = await serve((b) => ({
      status: b.method === "big" ? 413 : 200,
      text: JSON.stringify({
        jsonrpc: "2.0",
        id: b.id,
        error: { code: -32000, message: "already known", data: "0x1" },
      }),
    }));
    const up = new HttpUpstream({ url: s.url });
    expect(await up.call("eth_sendRawTransaction", ["0x01"])).toEqual({
      error: { code: -32000, message: "already known", data: "0x1" },
    });
    expect(await up.call("big", [])).toMatchObject({ error: { code: -32000 } });
  });

  it("a non-JSON answer, a refused connection and a timeout are UpstreamUnavailableError", async () => {
    const bad = await serve(() => ({ status: 502, text: "<html>bad gateway</html>" }));
    await expect(new HttpUpstream({ url: bad.url }).call("eth_chainId", [])).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );

    const closed = await serve(() => ({ status: 200, text: "{}" }));
    const url = closed.url;
    servers.pop();
    await new Promise((r) => closed.server.close(r));
    await expect(new HttpUpstream({ url }).call("eth_chainId", [])).rejects.toBeInstanceOf(UpstreamUnavailableError);

    const hang = await serve(() => "hang");
    const err = await new HttpUpstream({ url: hang.url, timeoutMs: 200 }).call("eth_chainId", []).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect((err as UpstreamUnavailableError).reason).toBe("timeout after 200 ms");
  });

  it("a 200 without result or error is unavailable, not a null result", async () => {
    const s = await serve(() => ({ status: 200, text: JSON.stringify({ jsonrpc: "2.0", id: 1 }) }));
    await expect(new HttpUpstream({ url: s.url }).call("eth_chainId", [])).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
  });
});
