// Processes for the edge's end-to-end tests and its benchmark: a throwaway redis-server, a one-validator core that
// pushes its replication feed to an edge (restartable on the same datadir and ports), the Node-hosted edge (the
// `rustchain edge` CLI) and the Workers-hosted edge under `wrangler dev` (offline). Every process binds 127.0.0.1 on
// a free port, keeps its output in a bounded buffer for failure reports, and is stopped by its handle; every wait is
// bounded.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { blsKeypairFromSeed } from "@rustchain/shared";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../../validator/src/cli/devnetGenesis.ts";
import { encryptBlsKey, writeKeystoreFile } from "../../validator/src/keys/keystore.ts";
import { LogBuffer } from "./cluster.ts";
import { freePort } from "./devnet.ts";

export { freePort, LogBuffer };

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "validator/src/cli/main.ts");
/** The `rustchain` command, which routes `rustchain edge` to the edge package. */
const RUSTCHAIN = join(ROOT, "bin/rustchain.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The path the edge mounts its replication ingest endpoint at (both hosts). */
export const EDGE_INGEST_PATH = "/replication/ingest";

let spawnHook: ((proc: ChildProcess) => void) | undefined;

/** Told about every child process started here (e.g. a bench that kills them all on a hard exit). */
export function onSpawn(hook: ((proc: ChildProcess) => void) | undefined): void {
  spawnHook = hook;
}

/** A child process with its output kept and a bounded, idempotent stop. */
export interface Managed {
  proc: ChildProcess;
  logs: LogBuffer;
  running(): boolean;
  /** `signal` (SIGTERM by default), SIGKILL after `graceMs`, wait for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Spawn a child process. `group`: in its own process group (killed as a group: `wrangler dev` runs workerd and
 * esbuild as its own children).
 */
export function spawnManaged(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; group?: boolean; name?: string } = {},
): Managed {
  const proc = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.group ?? false,
  });
  spawnHook?.(proc);
  const logs = new LogBuffer(4000, 1024 * 1024);
  logs.note(`${opts.name ?? command} started pid ${proc.pid}`);
  proc.stdout?.setEncoding("utf8").on("data", (d: string) => logs.push(d));
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => logs.push(d));
  const exited = new Promise<void>((r) =>
    proc.once("exit", (code, signal) => {
      logs.note(`exited code=${code} signal=${signal}`);
      r();
    }),
  );
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const signalIt = (signal: NodeJS.Signals) => {
    try {
      if (opts.group && proc.pid !== undefined) process.kill(-proc.pid, signal);
      else proc.kill(signal);
    } catch {
      // Already gone.
    }
  };
  return {
    proc,
    logs,
    running,
    stop: async (signal = "SIGTERM", graceMs = 15_000) => {
      if (running()) {
        logs.note(`sending ${signal}`);
        signalIt(signal);
        const timer = setTimeout(() => {
          logs.note(`still running after ${graceMs} ms: SIGKILL`);
          signalIt("SIGKILL");
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      // The group may outlive its leader (workerd under wrangler): make sure nothing of it is left.
      if (opts.group) signalIt("SIGKILL");
    },
  };
}

/** Poll `probe` until it returns a value other than undefined; fail after `timeoutMs` or when `alive()` is false. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; alive?: () => boolean; logs?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError = "";
  for (;;) {
    if (opts.alive && !opts.alive()) throw new Error(`${what}: the process exited\n${opts.logs?.() ?? ""}`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}\n${opts.logs?.() ?? ""}`,
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

export interface RpcAnswer {
  status: number;
  body: { jsonrpc?: string; id?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };
  headers: Headers;
}

/** POST one JSON-RPC call (or any body) and return the HTTP status, the parsed body and the headers. */
export async function postRpc(url: string, body: unknown, timeoutMs = 15_000): Promise<RpcAnswer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: RpcAnswer["body"];
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`HTTP ${res.status} from ${url}: not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** One JSON-RPC call; the result, or throws with the error's code and message. */
export async function call(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const { body, status } = await postRpc(url, { jsonrpc: "2.0", id: 1, method, params });
  if (body.error) {
    throw Object.assign(new Error(`${method}: ${body.error.message} (${body.error.code}, HTTP ${status})`), {
      code: body.error.code,
    });
  }
  return body.result;
}

// ---- redis ----

export interface RedisServer {
  url: string;
  port: number;
  logs: LogBuffer;
  stop(): Promise<void>;
}

/** A redis-server (/usr/bin/redis-server) on a free loopback port, no persistence, in its own temp dir. */
export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "rustchain-redis-"));
  const port = await freePort();
  const server = spawnManaged(
    "/usr/bin/redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { cwd: dir, name: "redis-server" },
  );
  const { createConnection } = await import("node:net");
  // Ready when it answers PING with +PONG.
  await waitFor(
    "redis-server",
    () =>
      new Promise<true | undefined>((done) => {
        const s = createConnection({ host: "127.0.0.1", port });
        const finish = (v: true | undefined) => {
          s.destroy();
          done(v);
        };
        s.setTimeout(1000, () => finish(undefined));
        s.on("error", () => finish(undefined));
        s.on("connect", () => s.write("PING\r\n"));
        s.on("data", (d) => finish(d.toString().startsWith("+PONG") ? true : undefined));
      }),
    { timeoutMs: 15_000, alive: server.running, logs: () => server.logs.tail(40).join("\n") },
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    logs: server.logs,
    stop: async () => {
      await server.stop("SIGTERM", 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- the validator core ----

export interface CoreForEdge {
  url: string;
  wsUrl: string;
  /** Prometheus text (per-method `rustchain_rpc_request_seconds_count{method=...}`). */
  metricsUrl: string;
  /** Admin base URL: GET /replication/head and /replication/bundles for the edge's gap pulls. */
  adminUrl: string;
  datadir: string;
  /** The hex HMAC key file shared with the edge. */
  replicationKeyFile: string;
  replicationKeyHex: string;
  logs: LogBuffer;
  running(): boolean;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** Start again: same datadir, key and ports; waits for its RPC. */
  restart(): Promise<void>;
  /** Stop (if running) and remove the data directory. */
  cleanup(): Promise<void>;
}

export interface CoreForEdgeOptions {
  /** The edge's ingest URL (`<edge>/replication/ingest`); absent: the feed is served for pulls only. */
  replicateTo?: string;
  slotMs?: number;
  /** Ports picked beforehand (the edge is told the core's URLs before either starts). */
  ports?: { rpc?: number; admin?: number; metrics?: number };
  logLevel?: string;
  /** Wait for the core's RPC at most this long (default 60 s). */
  readyTimeoutMs?: number;
}

/** Free ports for a core, to hand its URLs to an edge before the core starts. */
export async function coreUrlsFor(ports: { rpc?: number; admin?: number; metrics?: number } = {}) {
  const rpc = ports.rpc ?? (await freePort());
  const admin = ports.admin ?? (await freePort());
  const metrics = ports.metrics ?? (await freePort());
  return {
    ports: { rpc, admin, metrics },
    url: `http://127.0.0.1:${rpc}`,
    adminUrl: `http://127.0.0.1:${admin}`,
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
  };
}

/**
 * A one-validator chain (`rustchain node --no-p2p`, devnet genesis: chain id 21076, the 10 dev accounts funded) with
 * `--admin-addr` and the replication feed on, pushing to `replicateTo`. The genesis, keystore and replication key are
 * written here once, so `restart()` brings back the very same chain.
 */
export async function startCoreForEdge(opts: CoreForEdgeOptions = {}): Promise<CoreForEdge> {
  const datadir = await mkdtemp(join(tmpdir(), "rustchain-core-edge-"));
  const key = blsKeypairFromSeed(randomBytes(32));
  const password = randomBytes(16).toString("hex");
  const passwordPath = join(datadir, "password.txt");
  const keystorePath = join(datadir, "validator-keystore.json");
  await writeFile(passwordPath, `${password}\n`, { mode: 0o600 });
  await writeKeystoreFile(keystorePath, await encryptBlsKey(key.secretKey, password, { kdf: "pbkdf2" }));
  const genesisPath = join(datadir, "genesis.json");
  const genesis = devnetGenesis([{ secretKey: key.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], opts.slotMs ?? 500);
  await writeFile(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`);
  const replicationKeyHex = randomBytes(32).toString("hex");
  const replicationKeyFile = join(datadir, "replication-key");
  await writeFile(replicationKeyFile, `${replicationKeyHex}\n`, { mode: 0o600 });
  const urls = await coreUrlsFor(opts.ports);
  const args = [
    // tsx as a loader in this very process (not its CLI, which forks), so signals reach the node itself.
    "--import",
    "tsx",
    MAIN,
    "node",
    "--datadir",
    datadir,
    "--genesis",
    genesisPath,
    "--key",
    keystorePath,
    "--password-file",
    passwordPath,
    "--no-p2p",
    "--rpc-addr",
    `127.0.0.1:${urls.ports.rpc}`,
    "--metrics-addr",
    `127.0.0.1:${urls.ports.metrics}`,
    "--grpc-addr",
    "off",
    "--admin-addr",
    `127.0.0.1:${urls.ports.admin}`,
    "--replication-key-file",
    replicationKeyFile,
    ...(opts.replicateTo ? ["--replicate-to", opts.replicateTo] : []),
    "--log-level",
    opts.logLevel ?? "info",
  ];
  const logs = new LogBuffer();
  let current: Managed | undefined;
  const start = async () => {
    const m = spawnManaged(process.execPath, args, { name: "core" });
    // One buffer across restarts.
    m.proc.stdout?.on("data", (d: string) => logs.push(d));
    m.proc.stderr?.on("data", (d: string) => logs.push(d));
    logs.note(`core started pid ${m.proc.pid}`);
    current = m;
    await waitFor("the core's JSON-RPC", async () => ((await call(urls.url, "eth_chainId")) ? true : undefined), {
      timeoutMs: opts.readyTimeoutMs ?? 60_000,
      alive: m.running,
      logs: () => logs.tail(60).join("\n"),
    });
  };
  const stop = async () => {
    logs.note("stopping the core");
    await current?.stop("SIGTERM", 15_000);
  };
  try {
    await start();
  } catch (e) {
    await stop();
    await rm(datadir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: urls.url,
    wsUrl: urls.url.replace(/^http/, "ws"),
    metricsUrl: urls.metricsUrl,
    adminUrl: urls.adminUrl,
    datadir,
    replicationKeyFile,
    replicationKeyHex,
    logs,
    running: () => current?.running() ?? false,
    stop,
    restart: async () => {
      if (current?.running()) throw new Error("restart: the core is still running");
      await start();
    },
    cleanup: async () => {
      await stop();
      await rm(datadir, { recursive: true, force: true });
    },
  };
}

/** The core's per-method JSON-RPC request counts (from its Prometheus histogram), "unknown" for unknown methods. */
export async function coreRequestCounts(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^rustchain_rpc_request_seconds_count\{method="([^"]*)"\} (\S+)$/gm)) {
    counts.set(m[1] as string, Number(m[2]));
  }
  return counts;
}

/** Per-method differences `after - before`, only the methods that changed. */
export function countDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) delta[k] = d;
  }
  return delta;
}

// ---- the edge ----

export interface EdgeProcess {
  url: string;
  wsUrl: string;
  ingestUrl: string;
  logs: LogBuffer;
  running(): boolean;
  /** The edge's metrics (Node: Prometheus text; Workers: the JSON snapshot as text). */
  metrics(): Promise<string>;
  /** Calls the edge answered so far, keyed `method|source` (source: cache, replica, core, edge). */
  callCounts(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

/**
 * The edge's call counters, keyed `method|source`, from either metrics format: Prometheus text
 * (`rustchain_edge_rpc_calls_total{method,source,result}`, Node) or the JSON snapshot (`calls: [{method, source,
 * result, count}]`, Workers).
 */
export function parseCallCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (method: string, source: string, n: number) => {
    const key = `${method}|${source}`;
    counts.set(key, (counts.get(key) ?? 0) + n);
  };
  if (text.trimStart().startsWith("{")) {
    const snapshot = JSON.parse(text) as { calls?: { method: string; source: string; count: number }[] };
    for (const c of snapshot.calls ?? []) add(c.method, c.source, c.count);
    return counts;
  }
  for (const m of text.matchAll(
    /^rustchain_edge_rpc_calls_total\{method="([^"]*)",source="([^"]*)",result="([^"]*)"\} (\S+)$/gm,
  )) {
    add(m[1] as string, m[2] as string, Number(m[4]));
  }
  return counts;
}

/** Ports and URLs of an edge, known before anything starts (the core pushes to the ingest URL). */
export async function edgeUrlsFor(port?: number) {
  const p = port ?? (await freePort());
  return {
    port: p,
    url: `http://127.0.0.1:${p}`,
    wsUrl: `ws://127.0.0.1:${p}`,
    ingestUrl: `http://127.0.0.1:${p}${EDGE_INGEST_PATH}`,
  };
}

export interface NodeEdgeOptions {
  port: number;
  redisUrl: string;
  coreRpcUrl: string;
  coreAdminUrl?: string;
  replicationKeyFile: string;
  metricsPort?: number;
  /** `--rate-limit <perSecond>[/<burst>]`, e.g. "100000/100000" for a bench. */
  rateLimit?: string;
  logLevel?: string;
  readyTimeoutMs?: number;
}

/** The Node-hosted edge: `rustchain edge ...` as a child process; ready when it answered eth_chainId over HTTP. */
export async function startNodeEdge(opts: NodeEdgeOptions): Promise<EdgeProcess> {
  const urls = await edgeUrlsFor(opts.port);
  const metricsPort = opts.metricsPort ?? (await freePort());
  const args = [
    "--import",
    "tsx",
    RUSTCHAIN,
    "edge",
    "--listen",
    `127.0.0.1:${urls.port}`,
    "--redis-url",
    opts.redisUrl,
    "--core-rpc",
    opts.coreRpcUrl,
    ...(opts.coreAdminUrl ? ["--core-admin", opts.coreAdminUrl] : []),
    "--replication-key-file",
    opts.replicationKeyFile,
    "--metrics-addr",
    `127.0.0.1:${metricsPort}`,
    ...(opts.rateLimit ? ["--rate-limit", opts.rateLimit] : []),
    ...(opts.logLevel ? ["--log-level", opts.logLevel] : []),
  ];
  const m = spawnManaged(process.execPath, args, { name: "rustchain edge" });
  try {
    await waitFor(
      "the Node edge",
      async () => ((await call(urls.url, "eth_chainId")) === "0x5254" ? true : undefined),
      { timeoutMs: opts.readyTimeoutMs ?? 60_000, alive: m.running, logs: () => m.logs.tail(60).join("\n") },
    );
    // The CLI announces itself at info level (quieter levels hide it).
    const announces = !opts.logLevel || ["trace", "debug", "info"].includes(opts.logLevel);
    if (announces && m.logs.grep("Edge listening").length === 0) {
      throw new Error(`the Node edge answers but never logged "Edge listening":\n${m.logs.tail(40).join("\n")}`);
    }
  } catch (e) {
    await m.stop("SIGKILL");
    throw e;
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const metrics = async () => (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  return {
    ...urls,
    logs: m.logs,
    running: m.running,
    metrics,
    callCounts: async () => parseCallCounts(await metrics()),
    stop: () => m.stop("SIGTERM", 10_000),
  };
}

export interface WranglerEdgeOptions {
  port: number;
  coreRpcUrl: string;
  coreAdminUrl?: string;
  replicationKeyHex: string;
  /** Bearer token for GET /metrics (default: a random one). */
  metricsToken?: string;
  /** More `--var NAME:VALUE` bindings (e.g. RATE_LIMIT_PER_SECOND). */
  vars?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Default: the repo's wrangler.toml. */
  configPath?: string;
}

/**
 * The Workers-hosted edge under `wrangler dev` (local mode, workerd), offline: no metrics, no update check, no
 * login. Its own process group (wrangler, esbuild, workerd) is killed as a whole by stop(). State persists to a
 * temp directory removed by stop().
 */
export async function startWranglerEdge(opts: WranglerEdgeOptions): Promise<EdgeProcess> {
  const urls = await edgeUrlsFor(opts.port);
  const inspectorPort = await freePort();
  const persist = await mkdtemp(join(tmpdir(), "rustchain-wrangler-"));
  const metricsToken = opts.metricsToken ?? randomBytes(16).toString("hex");
  const vars: Record<string, string> = {
    CORE_RPC_URL: opts.coreRpcUrl,
    ...(opts.coreAdminUrl ? { CORE_REPLICATION_URL: opts.coreAdminUrl } : {}),
    REPLICATION_KEY: opts.replicationKeyHex,
    METRICS_TOKEN: metricsToken,
    ...opts.vars,
  };
  // Run by this very Node (not whatever `node` is first on PATH).
  const args = [
    join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--config",
    opts.configPath ?? join(ROOT, "wrangler.toml"),
    "--ip",
    "127.0.0.1",
    "--port",
    String(urls.port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persist,
    "--local",
    "--show-interactive-dev-session=false",
    "--log-level",
    "info",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    NO_UPDATE_NOTIFIER: "1",
    // Offline: do not fetch the `request.cf` object from Cloudflare at start-up (miniflare waits on it otherwise).
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: join(persist, "logs"),
    // wrangler's own settings (metrics consent, auth) in the temp dir, never the user's.
    XDG_CONFIG_HOME: join(persist, "config"),
    FORCE_COLOR: "0",
  };
  const m = spawnManaged(process.execPath, args, { env, group: true, name: "wrangler dev" });
  const stop = async () => {
    await m.stop("SIGTERM", 10_000);
    await rm(persist, { recursive: true, force: true });
  };
  try {
    await waitFor("wrangler dev", async () => ((await call(urls.url, "eth_chainId")) === "0x5254" ? true : undefined), {
      timeoutMs: opts.readyTimeoutMs ?? 90_000,
      intervalMs: 250,
      alive: m.running,
      logs: () => m.logs.tail(80).join("\n"),
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const metrics = async () => {
    const res = await fetch(`${urls.url}/metrics`, {
      headers: { authorization: `Bearer ${metricsToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status} ${text.slice(0, 200)}`);
    return text;
  };
  return {
    ...urls,
    logs: m.logs,
    running: m.running,
    metrics,
    callCounts: async () => parseCallCounts(await metrics()),
    stop,
  };
}

// ---- a counting proxy in front of the core's JSON-RPC ----

export interface CoreProxy {
  url: string;
  /** Every request that reached the core through the proxy: the JSON-RPC method(s), or "<unparsed>". */
  methods: string[];
  /** Bytes of every request body forwarded. */
  bytes: number;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy the edge uses as its core URL: it forwards every POST to the core and records what passed, so a test
 * can prove that a request never reached the core, including bodies the core would not count in its metrics (parse
 * errors, oversized bodies and batches). When the core is down the client's connection is dropped, as the core's
 * closed port would.
 */
export async function startCoreProxy(coreUrl: string): Promise<CoreProxy> {
  const { createServer } = await import("node:http");
  const methods: string[] = [];
  const state = { bytes: 0 };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return;
    }
    const body = Buffer.concat(chunks);
    state.bytes += body.length;
    try {
      const parsed = JSON.parse(body.toString("utf8")) as unknown;
      const list = Array.isArray(parsed) ? parsed : [parsed];
      for (const r of list) methods.push(String((r as { method?: unknown })?.method ?? "<no method>"));
    } catch {
      methods.push("<unparsed>");
    }
    try {
      const answer = await fetch(coreUrl, {
        method: req.method ?? "POST",
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
        signal: AbortSignal.timeout(30_000),
      });
      const out = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
        "content-length": out.length,
      });
      res.end(out);
    } catch {
      req.socket.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    methods,
    get bytes() {
      return state.bytes;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---- a whole stack: redis (Node host), core, proxy, edge ----

export type EdgeHost = "node" | "workers";

export interface EdgeStack {
  host: EdgeHost;
  /** The edge's HTTP and WebSocket URLs: the only URLs clients are given. */
  url: string;
  wsUrl: string;
  edge: EdgeProcess;
  core: CoreForEdge;
  /** Between the edge and the core's JSON-RPC. */
  proxy: CoreProxy;
  redis?: RedisServer;
  /** The last lines of every process, for failure messages. */
  dumpLogs(lines?: number): string;
  stop(): Promise<void>;
}

export interface EdgeStackOptions {
  slotMs?: number;
  /** Per-IP budget, `<perSecond>/<burst>` (default: high enough that the tests are never limited). */
  rateLimit?: { perSecond: number; burst: number };
  coreLogLevel?: string;
  edgeLogLevel?: string;
}

/**
 * Ports first (the core pushes to the edge, the edge forwards to the core), then redis (Node host), the core, the
 * proxy and the edge. On a failure half way everything started is stopped.
 */
export async function startEdgeStack(host: EdgeHost, opts: EdgeStackOptions = {}): Promise<EdgeStack> {
  const edgeUrls = await edgeUrlsFor();
  const rate = opts.rateLimit ?? { perSecond: 100_000, burst: 100_000 };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const redis = host === "node" ? await startRedis() : undefined;
    if (redis) stops.push(redis.stop);
    const core = await startCoreForEdge({
      replicateTo: edgeUrls.ingestUrl,
      slotMs: opts.slotMs ?? 500,
      logLevel: opts.coreLogLevel,
    });
    stops.push(core.cleanup);
    const proxy = await startCoreProxy(core.url);
    stops.push(proxy.stop);
    const edge =
      host === "node"
        ? await startNodeEdge({
            port: edgeUrls.port,
            redisUrl: (redis as RedisServer).url,
            coreRpcUrl: proxy.url,
            coreAdminUrl: core.adminUrl,
            replicationKeyFile: core.replicationKeyFile,
            rateLimit: `${rate.perSecond}/${rate.burst}`,
            logLevel: opts.edgeLogLevel,
          })
        : await startWranglerEdge({
            port: edgeUrls.port,
            coreRpcUrl: proxy.url,
            coreAdminUrl: core.adminUrl,
            replicationKeyHex: core.replicationKeyHex,
            vars: { RATE_LIMIT_PER_SECOND: String(rate.perSecond), RATE_LIMIT_BURST: String(rate.burst) },
          });
    stops.push(edge.stop);
    // Ready when the edge serves what the core has (the pusher backs off up to 5 s while the edge is starting).
    const coreHead = Number(BigInt((await call(core.url, "eth_blockNumber")) as string));
    await waitFor(
      `the edge to catch up with the core (block ${coreHead})`,
      async () => (Number(BigInt((await call(edge.url, "eth_blockNumber")) as string)) >= coreHead ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        logs: () => `${core.logs.tail(20).join("\n")}\n${edge.logs.tail(20).join("\n")}`,
      },
    );
    return {
      host,
      url: edge.url,
      wsUrl: edge.wsUrl,
      edge,
      core,
      proxy,
      redis,
      dumpLogs: (lines = 40) =>
        [
          `---- core\n${core.logs.tail(lines).join("\n")}`,
          // Without the per-request log lines, which would drown everything else.
          `---- edge (${host})\n${edge.logs
            .tail(4000)
            .filter((l) => !l.includes('"msg":"rpc"'))
            .slice(-lines)
            .join("\n")}`,
          ...(redis ? [`---- redis\n${redis.logs.tail(10).join("\n")}`] : []),
        ].join("\n"),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
