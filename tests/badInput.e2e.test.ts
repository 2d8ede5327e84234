// Hostile and malformed input: every case gets a clear JSON-RPC error, the node keeps serving and writes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes, rlpEncode, signTransaction } from "../shared/src/index.ts";
import { DEV_KEYS, type Devnet, rpc, startDevnet } from "./support/devnet.ts";

let devnet: Devnet;

beforeAll(async () => {
  devnet = await startDevnet({ slotMs: 500 });
});

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

async function post(body: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(devnet.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const call = (method: string, params: unknown, id: unknown = 1) =>
  post(JSON.stringify({ jsonrpc: "2.0", id, method, params }));

describe("JSON-RPC envelope", () => {
  it("malformed JSON is a parse error with a null id", async () => {
    const r = await post('{"jsonrpc":"2.0","id":1,"method":');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "parse error", data: { code: "PARSE_ERROR" } },
    });
  });

  it("wrong request shapes are invalid requests", async () => {
    for (const bad of [
      "{}",
      "1",
      '"x"',
      '{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}',
      '{"jsonrpc":"2.0","id":1,"method":5}',
      '{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}',
    ]) {
      const r = await post(bad);
      expect(r.status).toBe(200);
      expect(r.body.error.code, bad).toBe(-32600);
    }
  });

  it("invalid params name the argument", async () => {
    const cases: [string, unknown][] = [
      ["eth_getBalance", ["0x1234"]],
      ["eth_getBalance", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"],
      ["eth_getBlockByNumber", ["0x01", false]],
      ["eth_getBlockByNumber", ["latest"]],
      ["eth_getBlockByNumber", ["latest", false, 3]],
      ["eth_getLogs", [{ topics: [1, 2, 3, 4, 5] }]],
      ["eth_sendRawTransaction", ["0xabc"]],
    ];
    for (const [method, params] of cases) {
      const r = await call(method, params);
      expect(r.body.error.code, `${method} ${JSON.stringify(params)}`).toBe(-32602);
      expect(r.body.error.message).toMatch(/argument|params/);
    }
  });

  it("unknown methods answer HTTP 200 with -32601, including eth_fillTransaction", async () => {
    for (const m of ["eth_fillTransaction", "debug_traceTransaction", "admin_peers", "x".repeat(10_000)]) {
      const r = await call(m, []);
      expect(r.status).toBe(200);
      expect(r.body.error.code).toBe(-32601);
      expect(r.body.error.message.length).toBeLessThan(200);
    }
  });

  it("answers requests whose id is null, and not notifications", async () => {
    const r = await call("eth_chainId", [], null);
    expect(r.body).toEqual({ jsonrpc: "2.0", id: null, result: "0x5254" });
    const n = await post(JSON.stringify({ jsonrpc: "2.0", method: "eth_chainId" }));
    expect(n.status).toBe(200);
    expect(n.body).toBeUndefined();
  });

  it("bodies over the limit are refused with 413 and -32005", async () => {
    const r = await post(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["${"a".repeat(6 * 1024 * 1024)}"]}`);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe(-32005);
  });

  it("batches: empty is invalid, over 1000 is a limit error, mixed entries answer one by one", async () => {
    expect((await post("[]")).body.error.code).toBe(-32600);
    const big = Array.from({ length: 1001 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId" }));
    expect((await post(JSON.stringify(big))).body.error.code).toBe(-32005);
    const mixed = await post(
      JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "eth_chainId" }, 5, { jsonrpc: "2.0", id: 3, method: "nope" }]),
    );
    expect(mixed.body).toHaveLength(3);
    expect(mixed.body[0].result).toBe("0x5254");
    expect(mixed.body[1].error.code).toBe(-32600);
    expect(mixed.body[2].error.code).toBe(-32601);
  });
});

describe("raw transactions", () => {
  const send = async (raw: string) =>
    (await call("eth_sendRawTransaction", [raw])).body.error as { code: number; message: string };

  it("garbage and length-bomb RLP are rejected as rlp errors", async () => {
    // 0xbb + 4-byte length claiming ~4 GiB, followed by nothing.
    for (const raw of [
      "0xc0",
      "0xf8",
      "0xbbffffffff",
      "0xf9ffff01",
      "0xfa0000000000ffffffff00",
      `0x${"ff".repeat(1000)}`,
    ]) {
      const err = await send(raw);
      expect(err.code, raw).toBe(-32000);
      expect(err.message, raw).toMatch(/rlp|invalid transaction|not a transaction/);
    }
  });

  it("unsupported transaction types are named", async () => {
    for (const t of ["03", "04", "7f"]) {
      const err = await send(`0x${t}${bytesToHex(rlpEncode([1n, 2n])).slice(2)}`);
      expect(err.message).toBe("transaction type not supported");
    }
  });

  it("pre-EIP-155 legacy transactions are refused", async () => {
    const stx = signTransaction(
      {
        type: 0,
        chainId: 21076n,
        nonce: 0n,
        maxPriorityFeePerGas: 10n ** 10n,
        maxFeePerGas: 10n ** 10n,
        gasLimit: 21000n,
        to: new Uint8Array(20),
        value: 1n,
        data: new Uint8Array(0),
        accessList: [],
      },
      hexToBytes(DEV_KEYS[9]),
    );
    const { encodeTransaction } = await import("../shared/src/transaction.ts");
    const unprotected = encodeTransaction({ ...stx.tx, v: 27n + BigInt(stx.tx.yParity) });
    expect((await send(bytesToHex(unprotected))).message).toMatch(/replay-protected/);
  });

  it("a batch of eth_sendRawTransaction answers each item as its own call would, notifications unanswered", async () => {
    // Nonce 5 of a fresh account: accepted into the pool, never executable, so nothing is written.
    const gapped = signTransaction(
      {
        type: 2,
        chainId: 21076n,
        nonce: 5n,
        maxPriorityFeePerGas: 1n,
        maxFeePerGas: 10n ** 11n,
        gasLimit: 21000n,
        to: new Uint8Array(20),
        value: 1n,
        data: new Uint8Array(0),
        accessList: [],
      },
      hexToBytes(DEV_KEYS[8]),
    );
    const raw = bytesToHex(gapped.raw);
    const item = (params: unknown, id?: number) => ({
      jsonrpc: "2.0",
      method: "eth_sendRawTransaction",
      params,
      ...(id === undefined ? {} : { id }),
    });
    const r = await post(
      JSON.stringify([item([raw], 1), item(["0xc0"], 2), item(["0xabc"], 3), item(["0xc0"]), item([raw], 4)]),
    );
    expect(r.body.map((x: { id: number }) => x.id)).toEqual([1, 2, 3, 4]);
    expect(r.body[0].result).toBe(bytesToHex(gapped.hash));
    expect(r.body[1].error).toEqual((await call("eth_sendRawTransaction", ["0xc0"])).body.error);
    expect(r.body[2].error).toEqual((await call("eth_sendRawTransaction", ["0xabc"])).body.error);
    expect(r.body[2].error.code).toBe(-32602);
    expect(r.body[3].error).toEqual({ code: -32000, message: "already known", data: { code: "TX_ALREADY_KNOWN" } });
    expect(await rpc(devnet.url, "eth_getTransactionCount", [bytesToHex(gapped.from), "pending"])).toBe("0x0");
  });

  it("oversized transactions are refused before decoding", async () => {
    const err = await send(`0x02${"00".repeat(129 * 1024)}`);
    expect(err.code).toBe(-32602);
    expect(err.message).toMatch(/longer than 131072 bytes/);
  });

  it("creation data that is not a contract artefact is refused with a clear error", async () => {
    const stx = signTransaction(
      {
        type: 2,
        chainId: 21076n,
        nonce: 0n,
        maxPriorityFeePerGas: 1n,
        maxFeePerGas: 10n ** 11n,
        gasLimit: 100_000n,
        to: null,
        value: 0n,
        data: Uint8Array.of(0, 0x61, 0x73, 0x6d),
        accessList: [],
      },
      hexToBytes(DEV_KEYS[9]),
    );
    expect((await send(bytesToHex(stx.raw))).message).toMatch(
      /^invalid contract: data does not start with the RustChain artefact magic/,
    );
  });

  it("after all of it the node serves and nothing was written", async () => {
    const dev9 = "0xa0ee7a142d267c1f36714e4a8f75612f20a79720";
    expect(await rpc(devnet.url, "eth_getTransactionCount", [dev9, "pending"])).toBe("0x0");
    const head = BigInt((await rpc(devnet.url, "eth_blockNumber")) as string);
    for (let n = 1n; n <= head; n++) {
      const count = await rpc(devnet.url, "eth_getBlockTransactionCountByNumber", [`0x${n.toString(16)}`]);
      expect(count).toBe("0x0");
    }
    const start = Date.now();
    while (BigInt((await rpc(devnet.url, "eth_blockNumber")) as string) <= head) {
      expect(Date.now() - start).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
