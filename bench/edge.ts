// `npm run bench:edge`: cached-read throughput and latency through the Node-hosted edge (`rustchain edge` + a
// redis-server) against the same calls straight to the validator core, same machine. Starts redis-server, a
// one-validator core pushing its replication feed to the edge, and the edge (rate limit raised out of the way); waits
// for a finalized block; makes the measured account's state part of the replica (one transfer from it); then, per
// case, requests for a fixed time with C in flight over keep-alive HTTP (autocannon), after a short warm-up:
//   eth_getBlockByNumber("finalized", false) and eth_getBalance(<dev account 0>, "latest"), edge and core.
// Prints a table (req/s, p50, p99 in ms, errors), the edge/core ratios, and the edge's cache hit ratio from its
// metrics (overall and per measured method). Stops everything by itself. Ends with one line:
//   edge finalized_ratio=<edge/core req/s> balance_ratio=<edge/core req/s> hit_p99_ms=<the edge's worse p99>
//
// Options: --seconds S (per case, default 5), --concurrency C (32), --warmup N (requests, 500),
//   --node-log-level LEVEL (core and edge, default warn), --timeout SEC (whole bench, default 600).
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { privateKeyToAccount } from "viem/accounts";
import { DEV_KEYS } from "../tests/support/devnet.ts";
import {
  type CoreForEdge,
  call,
  edgeUrlsFor,
  onSpawn,
  parseCallCounts,
  type RedisServer,
  startCoreForEdge,
  startNodeEdge,
  startRedis,
  waitFor,
} from "../tests/support/edge.ts";
import { intOpt } from "./support/cli.ts";
import { hardStop, installCleanup, trackChild } from "./support/processes.ts";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    warmup: { type: "string", default: "500" },
    "node-log-level": { type: "string", default: "warn" },
    timeout: { type: "string", default: "600" },
  },
});

const SECONDS = intOpt("seconds", opts.seconds, 1);
const CONCURRENCY = intOpt("concurrency", opts.concurrency, 1);
const WARMUP = intOpt("warmup", opts.warmup, 0);
const TIMEOUT_MS = intOpt("timeout", opts.timeout, 10) * 1000;
const LOG_LEVEL = opts["node-log-level"] as string;

interface CaseResult {
  name: string;
  target: "edge" | "core";
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * POSTs of `body` to `url` over `concurrency` keep-alive connections, for `seconds` (or `amount` requests, for a
 * warm-up), by autocannon (native sockets, far cheaper per request than fetch: with fetch this process, not the
 * server, was the limit near 6,000 req/s). Timed runs, because a run of a fixed count ends on autocannon's next
 * one-second tick, which rounds the rate down. A reply without a result counts as an error.
 */
async function load(url: string, body: string, run: { seconds: number } | { amount: number }, concurrency: number) {
  let errors = 0;
  let firstError: string | undefined;
  const result = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: concurrency,
    ...("seconds" in run ? { duration: run.seconds } : { amount: run.amount }),
    timeout: 30,
    setupClient: (client) => {
      client.on("body", (buf: Buffer) => {
        const text = buf.toString();
        if (text.includes('"result":null') || !text.includes('"result"')) {
          errors++;
          firstError ??= text.slice(0, 200);
        }
      });
    },
  });
  if (result.errors > 0 || result.non2xx > 0) {
    errors += result.errors + result.non2xx;
    firstError ??= `${result.errors} connection errors, ${result.non2xx} non-2xx answers`;
  }
  return {
    reqPerSec: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    firstError,
  };
}

/** The edge's call counters (`method|source`) and its overall cache hit ratio, from its Prometheus text. */
function parseEdgeMetrics(text: string) {
  const ratio = /^rustchain_edge_cache_hit_ratio (\S+)$/m.exec(text);
  return { calls: parseCallCounts(text), hitRatio: ratio ? Number(ratio[1]) : undefined };
}

/** Calls of `method` answered per source between two metric snapshots. */
function sourcesDelta(before: Map<string, number>, after: Map<string, number>, method: string) {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    const [m, source] = k.split("|") as [string, string];
    if (m !== method) continue;
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out[source] = d;
  }
  return out;
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");

async function main(): Promise<void> {
  installCleanup();
  hardStop(TIMEOUT_MS, `bench:edge: still running after ${TIMEOUT_MS / 1000} s; giving up`);
  onSpawn(trackChild);

  console.log(`bench:edge: ${SECONDS} s per case, concurrency ${CONCURRENCY}, warm-up ${WARMUP} requests`);
  let redis: RedisServer | undefined;
  let core: CoreForEdge | undefined;
  let edge: Awaited<ReturnType<typeof startNodeEdge>> | undefined;
  try {
    const edgeUrls = await edgeUrlsFor();
    redis = await startRedis();
    core = await startCoreForEdge({ replicateTo: edgeUrls.ingestUrl, slotMs: 500, logLevel: LOG_LEVEL });
    edge = await startNodeEdge({
      port: edgeUrls.port,
      redisUrl: redis.url,
      coreRpcUrl: core.url,
      coreAdminUrl: core.adminUrl,
      replicationKeyFile: core.replicationKeyFile,
      rateLimit: "10000000/10000000",
      logLevel: LOG_LEVEL,
    });
    console.log(`core ${core.url}, edge ${edge.url} (redis ${redis.url})`);

    // The measured account transacts once through the edge, so the replica holds its state (an account the
    // replica never saw would be forwarded to the core).
    const account = privateKeyToAccount(DEV_KEYS[0]);
    const edgeUrl = edge.url;
    const coreUrl = core.url;
    const raw = await account.signTransaction({
      type: "eip1559",
      chainId: 21076,
      nonce: Number(BigInt((await call(edgeUrl, "eth_getTransactionCount", [account.address, "pending"])) as string)),
      to: "0x00000000000000000000000000000000000bec11",
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: 100n * 10n ** 9n,
      maxPriorityFeePerGas: 10n ** 9n,
    });
    const hash = (await call(edgeUrl, "eth_sendRawTransaction", [raw])) as string;
    const mined = await waitFor(
      "the transfer's receipt at the edge",
      async () =>
        ((await call(edgeUrl, "eth_getTransactionReceipt", [hash])) as { blockNumber: string } | null) ?? undefined,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const minedAt = Number(BigInt(mined.blockNumber));
    await waitFor(
      "a finalized block at or above the transfer at the edge",
      async () => {
        const b = (await call(edgeUrl, "eth_getBlockByNumber", ["finalized", false])) as { number: string } | null;
        return b && Number(BigInt(b.number)) >= minedAt ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    const cases = [
      {
        name: 'eth_getBlockByNumber("finalized", false)',
        method: "eth_getBlockByNumber",
        params: ["finalized", false],
      },
      { name: 'eth_getBalance(dev0, "latest")', method: "eth_getBalance", params: [account.address, "latest"] },
    ];
    for (const c of cases) {
      const a = await call(edgeUrl, c.method, c.params);
      const b = await call(coreUrl, c.method, c.params);
      // The head may move between the two for "latest"/"finalized"; only the shape must agree.
      if (typeof a !== typeof b || a === null)
        throw new Error(`${c.name}: edge ${JSON.stringify(a)} core ${JSON.stringify(b)}`);
    }

    const results: CaseResult[] = [];
    const hits: { name: string; sources: Record<string, number> }[] = [];
    for (const c of cases) {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: c.method, params: c.params });
      for (const target of ["edge", "core"] as const) {
        const url = target === "edge" ? edgeUrl : coreUrl;
        if (WARMUP > 0) await load(url, body, { amount: WARMUP }, CONCURRENCY);
        const before = target === "edge" ? parseEdgeMetrics(await edge.metrics()) : undefined;
        const r = await load(url, body, { seconds: SECONDS }, CONCURRENCY);
        if (before) {
          const after = parseEdgeMetrics(await edge.metrics());
          hits.push({ name: c.name, sources: sourcesDelta(before.calls, after.calls, c.method) });
        }
        results.push({ name: c.name, target, ...r });
        console.log(
          `  ${c.name} via ${target}: ${fmt(r.reqPerSec, 0)} req/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms` +
            (r.errors ? `, ${r.errors} errors (first: ${r.firstError})` : ""),
        );
        await sleep(200);
      }
    }

    console.log("");
    const header = ["case", "target", "req/s", "p50 ms", "p99 ms", "errors"];
    const rows = results.map((r) => [r.name, r.target, fmt(r.reqPerSec, 0), fmt(r.p50), fmt(r.p99), String(r.errors)]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log("");
    for (const c of cases) {
      const e = results.find((r) => r.name === c.name && r.target === "edge") as CaseResult;
      const k = results.find((r) => r.name === c.name && r.target === "core") as CaseResult;
      console.log(
        `ratio edge/core ${c.name}: req/s ${fmt(e.reqPerSec / k.reqPerSec)}x, p50 ${fmt(e.p50 / k.p50)}x, p99 ${fmt(e.p99 / k.p99)}x`,
      );
    }
    const m = parseEdgeMetrics(await edge.metrics());
    console.log("");
    console.log(
      `edge cache hit ratio (all calls since start): ${m.hitRatio === undefined ? "n/a" : fmt(m.hitRatio, 4)}`,
    );
    for (const h of hits) {
      const total = Object.values(h.sources).reduce((a, b) => a + b, 0);
      const cache = h.sources.cache ?? 0;
      console.log(
        `edge answers for ${h.name} during its run: ${JSON.stringify(h.sources)} (cache hit ratio ${total ? fmt(cache / total, 4) : "n/a"})`,
      );
    }
    const edgeOf = (name: string) => results.find((r) => r.name === name && r.target === "edge") as CaseResult;
    const coreOf = (name: string) => results.find((r) => r.name === name && r.target === "core") as CaseResult;
    const [finalized, balance] = cases.map((c) => edgeOf(c.name).reqPerSec / coreOf(c.name).reqPerSec);
    const hitP99 = Math.max(...cases.map((c) => edgeOf(c.name).p99));
    console.log("");
    console.log(
      `edge finalized_ratio=${fmt(finalized ?? Number.NaN)} balance_ratio=${fmt(balance ?? Number.NaN)} hit_p99_ms=${fmt(hitP99)}`,
    );
    const failed = results.filter((r) => r.errors > 0);
    if (failed.length > 0) {
      process.exitCode = 1;
      console.error(`bench:edge: ${failed.length} case(s) had errors`);
    }
  } finally {
    await edge?.stop().catch(() => undefined);
    await core?.cleanup().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
  }
}

await main();
