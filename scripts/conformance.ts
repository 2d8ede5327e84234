// JSON-RPC conformance: calls every method of our table that the execution-apis OpenRPC document also defines, with
// realistic parameters against a live devnet, and validates each result against the method's result schema.
//
//   npm run conformance -- <path/to/openrpc.json> [--url http://127.0.0.1:8545]
//
// Without --url a fresh devnet is started (and stopped and removed at the end). Exits 1 on any mismatch, on an RPC
// error to a call that should succeed, or on an implemented method the script has no call for.
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { createPublicClient, createWalletClient, defineChain, type Hex, http, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { rpcMethods } from "../shared/src/rpc/methods.ts";
import { DEV_KEYS, type Devnet, startDevnet } from "../tests/support/devnet.ts";

const CHAIN_ID = 21076;
const DOC_ID = "openrpc.json";
const UNKNOWN_HASH: Hex = `0x${"ab".repeat(32)}`;

interface JsonSchema {
  [k: string]: unknown;
}
interface OpenRpcMethod {
  name: string;
  params: { name: string; required?: boolean; schema: JsonSchema }[];
  result?: { name: string; schema: JsonSchema };
}
interface OpenRpcDoc {
  methods: OpenRpcMethod[];
  components?: Record<string, unknown>;
}

type RpcReply = { result: unknown } | { error: { code: number; message: string } };

/** What the seeding step produced, for building parameters. */
interface Ctx {
  /** Head block number when the calls were built. */
  head: Hex;
  sender: Hex;
  recipient: Hex;
  tx1559: Hex;
  txLegacy: Hex;
  tx2930: Hex;
  block: { number: Hex; hash: Hex; index: Hex };
  logFilter?: string;
  blockFilter?: string;
  pendingFilter?: string;
  rawTx?: Hex;
  rawTxHash?: Hex;
}

interface Call {
  /** Short description of the variant, shown on failure. */
  label: string;
  params: (c: Ctx) => unknown[];
  /** Stash something from the result for later calls. */
  after?: (result: unknown, c: Ctx) => void;
  /** The seeded data exists, so null ("not found") is wrong even where the schema allows it. */
  found?: boolean;
  /** The answer must be a non-empty array. */
  nonEmpty?: boolean;
  /** Adjust the result before validation, for a documented gap in the spec; returns a note when it did. */
  patch?: (result: unknown) => { value: unknown; note: string } | undefined;
}

const call = (label: string, params: (c: Ctx) => unknown[], after?: Call["after"]): Call => ({ label, params, after });
/** A call whose answer must not be null. */
const find = (label: string, params: (c: Ctx) => unknown[]): Call => ({ label, params, found: true });

/**
 * The spec's transaction schema requires blockHash, blockNumber, transactionIndex and blockTimestamp as strings, so it
 * has no shape for a pending transaction, which every client returns with those fields null. Validate the rest.
 */
const pendingTx: Call["patch"] = (r) => {
  if (!r || typeof r !== "object") return undefined;
  const o = r as Record<string, unknown>;
  const fields = {
    blockHash: `0x${"0".repeat(64)}`,
    blockNumber: "0x0",
    transactionIndex: "0x0",
    blockTimestamp: "0x0",
  };
  const nulls = Object.keys(fields).filter((k) => o[k] === null);
  if (nulls.length === 0) return undefined;
  const value = { ...o };
  for (const k of nulls) value[k] = fields[k as keyof typeof fields];
  return { value, note: `pending tx: null ${nulls.join("/")} tolerated` };
};

// Calls run in this order, grouped by method; filters are installed before seeding (see main) so that
// eth_getFilterChanges has something to report.
const calls: Partial<Record<keyof typeof rpcMethods, Call[]>> = {
  web3_clientVersion: [call("", () => [])],
  web3_sha3: [call("", () => ["0x68656c6c6f"])],
  net_version: [call("", () => [])],
  net_listening: [call("", () => [])],
  net_peerCount: [call("", () => [])],
  eth_chainId: [call("", () => [])],
  eth_syncing: [call("", () => [])],
  eth_blockNumber: [call("", () => [])],
  eth_gasPrice: [call("", () => [])],
  eth_maxPriorityFeePerGas: [call("", () => [])],
  eth_feeHistory: [
    call("latest, percentiles", () => ["0xa", "latest", [10, 50, 90]]),
    call("seeded block, no percentiles", (c) => ["0x2", c.block.number, []]),
    call("blockCount 0", () => ["0x0", "latest", [50]]),
  ],
  eth_accounts: [call("", () => [])],
  eth_getBalance: [
    call("latest", (c) => [c.sender, "latest"]),
    call("earliest", (c) => [c.sender, "earliest"]),
    call("by number", (c) => [c.recipient, c.block.number]),
    call("safe", (c) => [c.sender, "safe"]),
    call("finalized", (c) => [c.sender, "finalized"]),
    call("pending", (c) => [c.sender, "pending"]),
    call("by block hash", (c) => [c.sender, c.block.hash]),
  ],
  eth_getTransactionCount: [
    call("latest", (c) => [c.sender, "latest"]),
    call("pending", (c) => [c.sender, "pending"]),
    call("by number", (c) => [c.sender, c.block.number]),
  ],
  eth_getCode: [call("latest", (c) => [c.sender, "latest"])],
  eth_getStorageAt: [
    call("slot 0", (c) => [c.sender, "0x0", "latest"]),
    call("word slot", (c) => [c.recipient, `0x${"0".repeat(63)}1`, c.block.number]),
  ],
  eth_call: [
    call("transfer", (c) => [{ from: c.sender, to: c.recipient, value: "0x1" }, "latest"]),
    call("no block", (c) => [{ to: c.recipient }]),
  ],
  eth_estimateGas: [
    call("transfer", (c) => [{ from: c.sender, to: c.recipient, value: "0x1" }, "latest"]),
    call("no block", (c) => [{ from: c.sender, to: c.recipient }]),
  ],
  eth_sendRawTransaction: [
    call(
      "signed 1559",
      (c) => [c.rawTx],
      (r, c) => {
        c.rawTxHash = r as Hex;
      },
    ),
  ],
  eth_getTransactionByHash: [
    { label: "pending", params: (c) => [c.rawTxHash], found: true, patch: pendingTx },
    find("1559", (c) => [c.tx1559]),
    find("legacy", (c) => [c.txLegacy]),
    find("2930", (c) => [c.tx2930]),
    call("unknown", () => [UNKNOWN_HASH]),
  ],
  eth_getTransactionByBlockHashAndIndex: [
    find("seeded", (c) => [c.block.hash, c.block.index]),
    call("out of range", (c) => [c.block.hash, "0x3e8"]),
  ],
  eth_getTransactionByBlockNumberAndIndex: [
    find("seeded", (c) => [c.block.number, c.block.index]),
    call("latest, out of range", () => ["latest", "0x3e8"]),
  ],
  eth_getTransactionReceipt: [
    find("1559", (c) => [c.tx1559]),
    find("legacy", (c) => [c.txLegacy]),
    find("2930", (c) => [c.tx2930]),
    call("unknown", () => [UNKNOWN_HASH]),
  ],
  eth_getBlockReceipts: [
    find("by number", (c) => [c.block.number]),
    find("latest", () => ["latest"]),
    find("by block hash", (c) => [c.block.hash]),
  ],
  eth_getBlockByNumber: [
    find("seeded, hashes", (c) => [c.block.number, false]),
    find("seeded, full", (c) => [c.block.number, true]),
    find("latest, full", () => ["latest", true]),
    find("earliest", () => ["earliest", false]),
    find("safe", () => ["safe", false]),
    find("finalized", () => ["finalized", false]),
    find("pending", () => ["pending", false]),
    call("unknown number", () => ["0xffffffff", false]),
  ],
  eth_getBlockByHash: [
    find("seeded, hashes", (c) => [c.block.hash, false]),
    find("seeded, full", (c) => [c.block.hash, true]),
    call("unknown", () => [UNKNOWN_HASH, false]),
  ],
  eth_getBlockTransactionCountByNumber: [find("seeded", (c) => [c.block.number]), find("latest", () => ["latest"])],
  eth_getBlockTransactionCountByHash: [find("seeded", (c) => [c.block.hash]), call("unknown", () => [UNKNOWN_HASH])],
  eth_getUncleCountByBlockNumber: [call("", (c) => [c.block.number])],
  eth_getUncleCountByBlockHash: [call("", (c) => [c.block.hash])],
  eth_getLogs: [
    // The spec's filter takes block numbers only (no tags) and no null topic wildcards.
    call("range", (c) => [{ fromBlock: "0x0", toBlock: c.head }]),
    call("blockHash", (c) => [{ blockHash: c.block.hash }]),
    call("address + topics", (c) => [{ address: [c.sender], topics: [[UNKNOWN_HASH]], fromBlock: c.block.number }]),
  ],
  eth_getProof: [
    call("dev account, one slot", (c) => [c.sender, [`0x${"0".repeat(64)}`], "latest"]),
    call("no slots, by number", (c) => [c.recipient, [], c.block.number]),
  ],
  eth_newFilter: [
    call(
      "logs",
      (c) => [{ fromBlock: c.head }],
      (r, c) => {
        c.logFilter = r as string;
      },
    ),
  ],
  eth_newBlockFilter: [
    call(
      "",
      () => [],
      (r, c) => {
        c.blockFilter = r as string;
      },
    ),
  ],
  eth_newPendingTransactionFilter: [
    call(
      "",
      () => [],
      (r, c) => {
        c.pendingFilter = r as string;
      },
    ),
  ],
  eth_getFilterChanges: [
    { label: "block filter", params: (c) => [c.blockFilter], nonEmpty: true },
    { label: "pending filter", params: (c) => [c.pendingFilter], nonEmpty: true },
    call("log filter", (c) => [c.logFilter]),
  ],
  eth_getFilterLogs: [call("log filter", (c) => [c.logFilter])],
  eth_uninstallFilter: [
    call("log filter", (c) => [c.logFilter]),
    call("block filter", (c) => [c.blockFilter]),
    call("pending filter", (c) => [c.pendingFilter]),
    call("already removed", (c) => [c.logFilter]),
  ],
  eth_subscribe: [],
  eth_unsubscribe: [],
};

/** Methods that must run before the seeding transactions are sent. */
const BEFORE_SEEDING = ["eth_newFilter", "eth_newBlockFilter", "eth_newPendingTransactionFilter"];

function usage(msg?: string): never {
  if (msg) console.error(`conformance: ${msg}`);
  console.error("usage: npm run conformance -- <path/to/openrpc.json> [--url http://host:port]");
  process.exit(2);
}

function parseArgs(argv: string[]): { specPath: string; url?: string } {
  let specPath: string | undefined;
  let url: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--url" || a.startsWith("--url=")) {
      url = a === "--url" ? argv[++i] : a.slice(6);
      if (!url || !/^https?:\/\/./.test(url)) usage("--url needs an http(s) URL");
    } else if (a === "-h" || a === "--help") {
      usage();
    } else if (a.startsWith("-")) {
      usage(`unknown option ${a}`);
    } else if (specPath === undefined) {
      specPath = a;
    } else {
      usage(`unexpected argument ${a}`);
    }
  }
  if (!specPath) usage("missing path to openrpc.json");
  return { specPath, url };
}

function loadSpec(path: string): OpenRpcDoc {
  let doc: OpenRpcDoc;
  try {
    doc = JSON.parse(readFileSync(path, "utf8")) as OpenRpcDoc;
  } catch (e) {
    return usage(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc.methods)) usage(`${path} is not an OpenRPC document (no methods)`);
  return doc;
}

/** Point local `#/components/...` references at the document registered under DOC_ID. */
function rebaseRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebaseRefs);
  if (schema && typeof schema === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${DOC_ID}${v}` : rebaseRefs(v);
    }
    return out;
  }
  return schema;
}

/** The same schema with every oneOf read as anyOf: tells "matches several branches" apart from "matches none". */
function oneOfAsAnyOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(oneOfAsAnyOf);
  if (schema && typeof schema === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) out[k === "oneOf" ? "anyOf" : k] = oneOfAsAnyOf(v);
    return out;
  }
  return schema;
}

class Validators {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly cache = new Map<object, { strict: ValidateFunction; loose: ValidateFunction }>();

  constructor(doc: OpenRpcDoc) {
    this.ajv.addSchema({ $id: DOC_ID, components: doc.components ?? {} });
  }

  /** null when valid; "" when valid only because several oneOf branches match; otherwise an error summary. */
  check(schema: JsonSchema, value: unknown): string | null {
    let v = this.cache.get(schema);
    if (!v) {
      const rebased = rebaseRefs(schema) as JsonSchema;
      v = { strict: this.ajv.compile(rebased), loose: this.ajv.compile(oneOfAsAnyOf(rebased) as JsonSchema) };
      this.cache.set(schema, v);
    }
    if (v.strict(value)) return null;
    const errors = v.strict.errors ?? [];
    if (v.loose(value)) return "";
    return summarize(errors);
  }
}

/**
 * Ajv reports, under allErrors, the failures of every oneOf/anyOf branch. Keep, at each such alternative, only the
 * branch that came closest (fewest JSON type mismatches, then fewest errors), then print the leaves.
 */
function summarize(errors: ErrorObject[]): string {
  const composite = (e: ErrorObject) => e.keyword === "oneOf" || e.keyword === "anyOf";
  // Innermost alternatives first, so an outer one compares branches that are already reduced.
  const anchors = errors
    .filter(composite)
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length || b.instancePath.length - a.instancePath.length);
  let kept = errors.filter((e) => !composite(e));
  const under = (e: ErrorObject, a: ErrorObject) =>
    e.schemaPath.startsWith(`${a.schemaPath}/`) &&
    (e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`));
  const shown: ErrorObject[] = [];
  for (const a of anchors) {
    const mine = kept.filter((e) => under(e, a));
    if (mine.length === 0) {
      if (kept.length === 0 || !errors.some((e) => e !== a && under(e, a))) shown.push(a);
      continue;
    }
    const branches = new Map<string, ErrorObject[]>();
    for (const e of mine) {
      const branch = e.schemaPath.slice(a.schemaPath.length + 1).split("/")[0]!;
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    // A branch that wants another JSON type is the least likely intent; then the one with fewest complaints.
    const wrongTypes = (es: ErrorObject[]) => es.filter((e) => e.keyword === "type").length;
    const best = [...branches.values()].sort((x, y) => wrongTypes(x) - wrongTypes(y) || x.length - y.length)[0]!;
    kept = kept.filter((e) => !mine.includes(e) || best.includes(e));
  }
  const lines = [...kept, ...shown].map((e) => {
    let msg = `${e.instancePath || "/"} ${e.message ?? e.keyword}`;
    if (e.keyword === "additionalProperties") msg += ` (${String(e.params.additionalProperty)})`;
    return msg;
  });
  const unique = [...new Set(lines)];
  return unique.slice(0, 4).join("; ") + (unique.length > 4 ? `; (+${unique.length - 4} more)` : "");
}

async function rpcCall(url: string, method: string, params: unknown[]): Promise<RpcReply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  if (body.error) return { error: body.error };
  if (!("result" in body)) return { error: { code: 0, message: `HTTP ${res.status}: reply without result` } };
  return { result: body.result };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send an EIP-1559, a legacy and an EIP-2930 transfer from three dev accounts and wait for their receipts. */
async function seed(url: string): Promise<Ctx> {
  const chain = defineChain({
    id: CHAIN_ID,
    name: "RustChain devnet",
    nativeCurrency: { name: "RTC", symbol: "RTC", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const pub = createPublicClient({ chain, transport: http(url) });
  const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(url) });
  const [a0, a1, a2] = [DEV_KEYS[0], DEV_KEYS[1], DEV_KEYS[2]].map((k) => privateKeyToAccount(k));
  const recipient = privateKeyToAccount(DEV_KEYS[9]).address;
  const gasPrice = await pub.getGasPrice();
  const [tx1559, txLegacy, tx2930] = await Promise.all([
    wallet(DEV_KEYS[0]).sendTransaction({ to: recipient, value: parseEther("1") }),
    wallet(DEV_KEYS[1]).sendTransaction({ to: recipient, value: parseEther("0.5"), type: "legacy", gasPrice }),
    wallet(DEV_KEYS[2]).sendTransaction({
      to: recipient,
      value: parseEther("0.25"),
      type: "eip2930",
      gasPrice,
      accessList: [{ address: recipient, storageKeys: [`0x${"0".repeat(63)}1`] }],
    }),
  ]);
  const receipts = await Promise.all(
    [tx1559, txLegacy, tx2930].map((hash) => pub.waitForTransactionReceipt({ hash, pollingInterval: 100 })),
  );
  for (const r of receipts) if (r.status !== "success") throw new Error(`seed tx ${r.transactionHash} reverted`);
  const r1559 = receipts[0]!;
  // A transfer signed here for eth_sendRawTransaction; a2's seed transfer is mined, so its pending nonce is settled.
  const nonce = await pub.getTransactionCount({ address: a2!.address, blockTag: "pending" });
  const rawTx = await a2!.signTransaction({
    chainId: CHAIN_ID,
    type: "eip1559",
    to: a1!.address,
    value: 1n,
    nonce,
    gas: 21_000n,
    maxFeePerGas: gasPrice * 2n,
    maxPriorityFeePerGas: await pub.estimateMaxPriorityFeePerGas(),
  });
  // Let at least one more block pass so block filters and "latest" have moved past the seeded block.
  let head = await pub.getBlockNumber();
  while (head <= r1559.blockNumber) {
    await sleep(100);
    head = await pub.getBlockNumber();
  }
  return {
    head: `0x${head.toString(16)}`,
    sender: a0!.address,
    recipient,
    tx1559,
    txLegacy,
    tx2930,
    block: {
      number: `0x${r1559.blockNumber.toString(16)}`,
      hash: r1559.blockHash,
      index: `0x${r1559.transactionIndex.toString(16)}`,
    },
    rawTx,
  };
}

interface Outcome {
  method: string;
  status: "PASS" | "FAIL";
  detail: string;
}

async function runMethod(
  url: string,
  spec: OpenRpcMethod,
  list: Call[],
  ctx: Ctx,
  validators: Validators,
): Promise<Outcome> {
  const failures: string[] = [];
  const notes = new Set<string>();
  for (const c of list) {
    const tag = c.label ? `[${c.label}] ` : "";
    const params = c.params(ctx);
    // Our own parameters must be what the spec allows, or a failure would say nothing about the node.
    for (let i = 0; i < spec.params.length; i++) {
      const p = spec.params[i]!;
      if (params[i] === undefined) {
        if (p.required) failures.push(`${tag}script bug: missing required param ${p.name}`);
        continue;
      }
      const bad = validators.check(p.schema, params[i]);
      if (bad) failures.push(`${tag}script bug: param ${p.name} off-spec: ${bad}`);
    }
    let reply: RpcReply;
    try {
      reply = await rpcCall(url, spec.name, params);
    } catch (e) {
      failures.push(`${tag}request failed: ${(e as Error).message}`);
      continue;
    }
    if ("error" in reply) {
      failures.push(`${tag}RPC error ${reply.error.code}: ${reply.error.message}`);
      continue;
    }
    c.after?.(reply.result, ctx);
    if ((c.found || c.nonEmpty) && (reply.result === null || reply.result === undefined)) {
      failures.push(`${tag}null result for data that exists`);
      continue;
    }
    if (c.nonEmpty && (!Array.isArray(reply.result) || reply.result.length === 0)) {
      failures.push(`${tag}expected a non-empty array, got ${JSON.stringify(reply.result)}`);
      continue;
    }
    if (!spec.result) continue;
    let value = reply.result;
    const patched = c.patch?.(value);
    if (patched) {
      value = patched.value;
      notes.add(`${tag}${patched.note}`);
    }
    const bad = validators.check(spec.result.schema, value);
    if (bad === "") notes.add(`${tag}result matches several oneOf branches of the spec`);
    else if (bad !== null) failures.push(`${tag}${bad}`);
  }
  if (failures.length) return { method: spec.name, status: "FAIL", detail: failures.join(" | ") };
  return { method: spec.name, status: "PASS", detail: [...notes].join(" | ") };
}

async function main(): Promise<number> {
  const { specPath, url: givenUrl } = parseArgs(process.argv.slice(2));
  const doc = loadSpec(specPath);
  const validators = new Validators(doc);
  const specByName = new Map(doc.methods.map((m) => [m.name, m]));
  const ours = Object.keys(rpcMethods) as (keyof typeof rpcMethods)[];

  let devnet: Devnet | undefined;
  // Ctrl-C: still stop the devnet and remove its data directory.
  process.once("SIGINT", () => {
    const d = devnet;
    void (d ? d.stop().then(() => d.cleanup()) : Promise.resolve()).finally(() => process.exit(130));
  });
  let failed = 0;
  let passed = 0;
  let skipped = 0;
  const print = (o: Outcome) => {
    if (o.status === "PASS") passed++;
    else failed++;
    console.log(`${o.status} ${o.method}${o.detail ? `${o.status === "FAIL" ? ":" : ""} ${o.detail}` : ""}`);
  };
  const skip = (method: string, why: string) => {
    skipped++;
    console.log(`SKIP ${method} (${why})`);
  };

  try {
    let url = givenUrl;
    if (!url) {
      devnet = await startDevnet({ slotMs: 500, logLevel: "warn" });
      url = devnet.url;
    }
    const tested = ours.filter((m) => specByName.has(m));
    const head = await rpcCall(url, "eth_blockNumber", []);
    if (!("result" in head)) throw new Error(`eth_blockNumber failed: ${head.error.message}`);
    const ctx = { head: head.result } as Ctx;
    const outcomes = new Map<string, Outcome>();
    for (const m of tested.filter((m) => BEFORE_SEEDING.includes(m))) {
      const list = calls[m];
      if (list?.length) outcomes.set(m, await runMethod(url, specByName.get(m)!, list, ctx, validators));
    }
    Object.assign(ctx, await seed(url));
    for (const m of tested) {
      if (outcomes.has(m)) continue;
      const list = calls[m];
      outcomes.set(
        m,
        list?.length
          ? await runMethod(url, specByName.get(m)!, list, ctx, validators)
          : { method: m, status: "FAIL", detail: "no conformance call defined (add one to scripts/conformance.ts)" },
      );
    }
    for (const m of ours) {
      const o = outcomes.get(m);
      if (o) print(o);
      else skip(m, "not in spec");
    }
    const implemented = new Set<string>(ours);
    for (const m of doc.methods) if (!implemented.has(m.name)) skip(m.name, "not implemented");
  } catch (e) {
    failed++;
    console.log(`FAIL setup: ${(e as Error).stack ?? e}`);
    if (devnet) console.log(devnet.output().split("\n").slice(-20).join("\n"));
  } finally {
    if (devnet) {
      await devnet.stop();
      await devnet.cleanup();
    }
  }
  console.log(`conformance passed=${passed} failed=${failed} skipped=${skipped}`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
