// One bad-input table for every JSON-RPC server: the core (validator/src/rpc/rpcServer.ts), the Node-hosted edge and
// the Workers-hosted edge answer each row with the same HTTP status, JSON-RPC code, message and `data` (the shared
// envelope and error constructors, shared/src/rpc/envelope.ts and shared/src/rpcErrors.ts). Every row is refused before
// it could reach the core's state: envelope, method table, parameters, and the form of raw transactions.
// tests/support/edgeScenarios.ts runs the table against the core and the edge of each host and requires (1) every
// answer matches its row and (2) the answers of all servers are identical, byte for byte after JSON parsing.
import { type Hex, parseGwei, parseTransaction, serializeTransaction } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** What one call of a row must answer: a result, or an error with this code and domain code. */
export type ExpectedCall = { result: true } | { code: number; dataCode: string; message?: string | RegExp };

export interface BadInputRow {
  name: string;
  body: string;
  status: number;
  /** One call's answer; an array for a batch; "empty" for a body of notifications (no answer at all). */
  expect: ExpectedCall | ExpectedCall[] | "empty";
  /** The answer's id must be null (the request's id could not be read). */
  idNull?: boolean;
}

export interface BadInputTableOptions {
  /** The chain the servers serve. */
  chainId: number;
  /** A funded or unfunded account: only its signatures matter. */
  signer: PrivateKeyAccount;
  recipient: Hex;
  /** The servers' body limit (5 MiB by default on all of them). */
  maxBodyBytes?: number;
  /** The servers' batch limit (1000). */
  maxBatch?: number;
}

const rpcBody = (method: string, params?: unknown, id: unknown = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });

const err = (code: number, dataCode: string, message?: string | RegExp): ExpectedCall => ({ code, dataCode, message });
const invalidParams = (message?: string | RegExp) => err(-32602, "INVALID_PARAMS", message);

export async function badInputTable(o: BadInputTableOptions): Promise<BadInputRow[]> {
  const maxBody = o.maxBodyBytes ?? 5 * 1024 * 1024;
  const maxBatch = o.maxBatch ?? 1000;
  const fee = { maxFeePerGas: parseGwei("100"), maxPriorityFeePerGas: parseGwei("1") };
  const transfer = { to: o.recipient, value: 1n, gas: 21_000n, nonce: 0 };
  const wrongChain = await o.signer.signTransaction({ ...transfer, ...fee, type: "eip1559", chainId: o.chainId + 1 });
  const legacyNoChain = await o.signer.signTransaction({ ...transfer, type: "legacy", gasPrice: parseGwei("100") });
  const good = await o.signer.signTransaction({ ...transfer, ...fee, type: "eip1559", chainId: o.chainId });
  // The same signature with s mirrored into the high half: valid ECDSA, refused by EIP-2.
  const p = parseTransaction(good);
  const { r, s, v: _v, yParity, ...unsigned } = p;
  const highS = serializeTransaction(unsigned as never, {
    r: r as Hex,
    s: `0x${(SECP256K1_N - BigInt(s as string)).toString(16)}`,
    yParity: yParity === 0 ? 1 : 0,
  });
  const send = (raw: string) => rpcBody("eth_sendRawTransaction", [raw]);
  const rlp = (message: RegExp) => err(-32000, "RLP_INVALID", message);

  return [
    // The envelope.
    {
      name: "malformed JSON",
      body: '{"jsonrpc":"2.0","id":1,"method":',
      status: 200,
      expect: err(-32700, "PARSE_ERROR"),
      idNull: true,
    },
    { name: "a number, not a request", body: "1", status: 200, expect: err(-32600, "INVALID_REQUEST"), idNull: true },
    {
      name: "wrong jsonrpc version",
      body: '{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}',
      status: 200,
      expect: err(-32600, "INVALID_REQUEST"),
    },
    {
      name: "an id that is an object",
      body: '{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}',
      status: 200,
      expect: err(-32600, "INVALID_REQUEST"),
      idNull: true,
    },
    {
      name: "a method that is not a string",
      body: '{"jsonrpc":"2.0","id":1,"method":5}',
      status: 200,
      expect: err(-32600, "INVALID_REQUEST"),
    },
    { name: "empty batch", body: "[]", status: 200, expect: err(-32600, "EMPTY_BATCH"), idNull: true },
    {
      name: "batch over the limit",
      body: JSON.stringify(
        Array.from({ length: maxBatch + 1 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId" })),
      ),
      status: 200,
      expect: err(-32005, "BATCH_TOO_LARGE", `batch of ${maxBatch + 1} exceeds limit ${maxBatch}`),
      idNull: true,
    },
    {
      name: "body over the limit",
      body: rpcBody("eth_call", [{ to: o.recipient, data: `0x${"ab".repeat(Math.ceil(maxBody / 2) + 16)}` }]),
      status: 413,
      expect: err(-32005, "BODY_TOO_LARGE", `request body exceeds ${maxBody} bytes`),
      idNull: true,
    },
    {
      name: "a batch of one good call, one bad request and one unknown method",
      body: JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
        { jsonrpc: "2.0", id: 2 },
        { jsonrpc: "2.0", id: 3, method: "eth_nope" },
      ]),
      status: 200,
      expect: [{ result: true }, err(-32600, "INVALID_REQUEST"), err(-32601, "METHOD_NOT_FOUND")],
    },
    {
      name: "notifications only",
      body: JSON.stringify([
        { jsonrpc: "2.0", method: "eth_chainId" },
        { jsonrpc: "2.0", method: "eth_nope" },
      ]),
      status: 200,
      expect: "empty",
    },
    // The method table.
    {
      name: "unknown method",
      body: rpcBody("debug_traceTransaction", [`0x${"11".repeat(32)}`]),
      status: 200,
      expect: err(-32601, "METHOD_NOT_FOUND", "the method debug_traceTransaction does not exist/is not available"),
    },
    { name: "admin method", body: rpcBody("admin_peers", []), status: 200, expect: err(-32601, "METHOD_NOT_FOUND") },
    {
      name: "unsupported method",
      body: rpcBody("eth_fillTransaction", [{}]),
      status: 200,
      expect: err(-32601, "METHOD_NOT_FOUND"),
    },
    {
      name: "a very long method name",
      body: rpcBody("x".repeat(10_000), []),
      status: 200,
      expect: err(-32601, "METHOD_NOT_FOUND"),
    },
    // Parameters.
    {
      name: "short address",
      body: rpcBody("eth_getBalance", ["0x1234", "latest"]),
      status: 200,
      expect: invalidParams("invalid argument 0: 20-byte hex address expected"),
    },
    {
      name: "block number with a leading zero",
      body: rpcBody("eth_getBlockByNumber", ["0x01", false]),
      status: 200,
      expect: invalidParams(/^invalid argument 0: /),
    },
    {
      name: "missing required argument",
      body: rpcBody("eth_getBlockByNumber", ["latest"]),
      status: 200,
      expect: invalidParams("missing value for required argument 1"),
    },
    {
      name: "too many arguments",
      body: rpcBody("eth_blockNumber", [1]),
      status: 200,
      expect: invalidParams("too many arguments, want at most 0"),
    },
    {
      name: "params not an array",
      body: rpcBody("eth_getBalance", { address: o.recipient }),
      status: 200,
      expect: invalidParams("invalid params: expected an array"),
    },
    {
      name: "five log topics",
      body: rpcBody("eth_getLogs", [{ topics: [null, null, null, null, null] }]),
      status: 200,
      expect: invalidParams(),
    },
    {
      name: "eth_call to a short address",
      body: rpcBody("eth_call", [{ to: "0x12" }, "latest"]),
      status: 200,
      expect: invalidParams(),
    },
    {
      name: "pending nonce of a short address (a method the edge forwards)",
      body: rpcBody("eth_getTransactionCount", ["0x1234", "pending"]),
      status: 200,
      expect: invalidParams(),
    },
    {
      name: "unknown subscription over HTTP",
      body: rpcBody("eth_subscribe", ["newBlocks"]),
      status: 200,
      expect: invalidParams("invalid argument 0: unsupported subscription type"),
    },
    {
      name: "subscription over HTTP",
      body: rpcBody("eth_subscribe", ["newHeads"]),
      status: 200,
      expect: err(-32004, "NOTIFICATIONS_NOT_SUPPORTED", "notifications not supported"),
    },
    // Raw transactions: refused for their form, before any state is read.
    {
      name: "odd-length raw transaction",
      body: send("0xabc"),
      status: 200,
      expect: invalidParams("invalid argument 0: hex string of whole bytes expected"),
    },
    {
      name: "raw transaction over the size limit",
      body: send(`0x02${"00".repeat(129 * 1024)}`),
      status: 200,
      expect: invalidParams(/data longer than/),
    },
    {
      name: "empty raw transaction",
      body: send("0x"),
      status: 200,
      expect: err(-32000, "TX_MALFORMED", "invalid transaction: empty"),
    },
    {
      name: "an empty list",
      body: send("0xc0"),
      status: 200,
      expect: rlp(/^rlp: transaction: expected 9 items, got 0$/),
    },
    {
      name: "a byte string, not a transaction",
      body: send("0xbbffffffff"),
      status: 200,
      expect: err(-32000, "TX_MALFORMED", "invalid transaction: not a transaction"),
    },
    { name: "a length bomb", body: send("0xfbffffffff"), status: 200, expect: rlp(/^rlp: /) },
    { name: "junk", body: send(`0x${"ff".repeat(1000)}`), status: 200, expect: rlp(/^rlp: /) },
    {
      name: "blob transaction type",
      body: send("0x03c0"),
      status: 200,
      expect: err(-32000, "TX_TYPE_NOT_SUPPORTED", "transaction type not supported"),
    },
    {
      name: "pre-EIP-155 legacy transaction",
      body: send(legacyNoChain),
      status: 200,
      expect: err(-32000, "TX_NOT_REPLAY_PROTECTED", "only replay-protected (EIP-155) transactions allowed over RPC"),
    },
    {
      name: "high-s signature",
      body: send(highS),
      status: 200,
      expect: err(-32000, "TX_INVALID_SIGNATURE", "invalid transaction v, r, s values"),
    },
    {
      name: "another chain's transaction",
      body: send(wrongChain),
      status: 200,
      expect: err(-32000, "TX_WRONG_CHAIN_ID", `invalid chain id for signer: have ${o.chainId + 1} want ${o.chainId}`),
    },
  ];
}

/** One server's answer to a row: the HTTP status and the parsed body (undefined when empty). */
export interface ServerAnswer {
  status: number;
  body: unknown;
}

export async function postRaw(url: string, body: string): Promise<ServerAnswer> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Where an answer differs from its row (empty when it matches). */
export function rowMismatches(row: BadInputRow, a: ServerAnswer): string[] {
  const out: string[] = [];
  if (a.status !== row.status) out.push(`status ${a.status}, want ${row.status}`);
  if (row.expect === "empty") {
    if (a.body !== undefined) out.push(`a body ${JSON.stringify(a.body).slice(0, 200)}, want none`);
    return out;
  }
  const expects = Array.isArray(row.expect) ? row.expect : [row.expect];
  const answers = Array.isArray(row.expect) ? a.body : [a.body];
  if (!Array.isArray(answers) || answers.length !== expects.length) {
    return [...out, `answer ${JSON.stringify(a.body).slice(0, 200)} is not ${expects.length} response(s)`];
  }
  expects.forEach((want, i) => {
    const got = answers[i] as {
      id?: unknown;
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    if (row.idNull && got.id !== null) out.push(`id ${JSON.stringify(got.id)}, want null`);
    if ("result" in want) {
      if (got.result === undefined) out.push(`call ${i}: ${JSON.stringify(got).slice(0, 200)}, want a result`);
      return;
    }
    const e = got.error;
    if (!e) {
      out.push(`call ${i}: ${JSON.stringify(got).slice(0, 200)}, want an error`);
      return;
    }
    if (e.code !== want.code) out.push(`call ${i}: code ${e.code}, want ${want.code}`);
    const dataCode = (e.data as { code?: unknown } | undefined)?.code;
    if (dataCode !== want.dataCode) out.push(`call ${i}: data.code ${String(dataCode)}, want ${want.dataCode}`);
    const m = want.message;
    if (m !== undefined && !(typeof m === "string" ? e.message === m : m.test(e.message))) {
      out.push(`call ${i}: message ${JSON.stringify(e.message)}, want ${String(m)}`);
    }
  });
  return out;
}
