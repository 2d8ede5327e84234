// A multi-validator cluster for end-to-end consensus tests and benchmarks: one `rustchain node` OS process per
// validator, each with its own datadir, encrypted keystore, p2p key and loopback ports, all listed in each other's
// bootstrap lists. Tests drive it through JSON-RPC, the admin API (peer scores, deny lists for partitions) and
// signals (kill, restart). Child output is kept in a bounded per-node buffer for failure reports.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { blsKeypairFromSeed, type GenesisJson, hexToBytes } from "@rustchain/shared";
import { pino } from "pino";
import { validatorNodeArgs } from "../../validator/src/cli/devnetCluster.ts";
import { type DevnetValidatorKey, devnetFeeRecipient, devnetGenesis } from "../../validator/src/cli/devnetGenesis.ts";
import { createBridgeKey, writeBridgeKeystore } from "../../validator/src/keys/bridgeKeystore.ts";
import { encryptBlsKey, writeKeystoreFile } from "../../validator/src/keys/keystore.ts";
import type { NetworkError } from "../../validator/src/network/errors.ts";
import { createNetwork, type Network } from "../../validator/src/network/network.ts";
import { networkOptions } from "../../validator/src/network/options.ts";
import { loadOrCreatePeerKey } from "../../validator/src/network/peerKey.ts";
import { genesisOnlyHandlers } from "../../validator/src/network/reqRespCodec.ts";
import type { GossipTopicName } from "../../validator/src/network/topics.ts";
import { freePort } from "./devnet.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last lines a process printed: at most `maxLines` lines and `maxBytes` characters. */
export class LogBuffer {
  private lines: string[] = [];
  private bytes = 0;
  private partial = "";
  /** Lines ever added (so `mark()`/`since()` keep working after old lines were dropped). */
  private total = 0;

  constructor(
    private readonly maxLines = 4000,
    private readonly maxBytes = 2 * 1024 * 1024,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = (parts.pop() ?? "").slice(-64 * 1024);
    for (const line of parts) this.add(line);
  }

  /** Marks an event of the harness (start, kill, restart) in the node's log. */
  note(text: string): void {
    this.add(`---- harness: ${text} (${new Date().toISOString()})`);
  }

  private add(line: string): void {
    this.total++;
    this.lines.push(line);
    this.bytes += line.length;
    while (this.lines.length > this.maxLines || (this.bytes > this.maxBytes && this.lines.length > 1)) {
      this.bytes -= (this.lines.shift() as string).length;
    }
  }

  tail(n = 60): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n);
  }

  /** Lines (from the retained ones) containing `text`. */
  grep(text: string): string[] {
    return this.lines.filter((l) => l.includes(text));
  }

  /** A position in the log, for `since`. */
  mark(): number {
    return this.total;
  }

  /** The retained lines added after `mark`. */
  since(mark: number): string[] {
    const n = this.total - mark;
    return n <= 0 ? [] : this.lines.slice(-Math.min(n, this.lines.length));
  }
}

export interface ClusterNode {
  index: number;
  name: string;
  datadir: string;
  rpcUrl: string;
  adminUrl: string;
  metricsUrl: string;
  peerId: string;
  /** The node's p2p address as the others have it in their bootstrap lists. */
  multiaddr: string;
  /** The current process (replaced by restart). */
  proc: ChildProcess;
  logs: LogBuffer;
  byzantine: boolean;
  /** The validator's BLS secret key (a throwaway test key), for tests that forge messages. */
  secretKey: Uint8Array;
}

export interface ClusterOptions {
  validators: number;
  /** The Proof-of-AI task in genesis (model and verifying key); without it the chain has none. */
  ai?: { model: Uint8Array; verifyingKey: Uint8Array };
  slotMs?: number;
  /** Validator indices started with --byzantine (RUSTCHAIN_ALLOW_BYZANTINE=1). */
  byzantine?: number[];
  /** What they equivocate on (`--byzantine <kinds>`: blocks,attestations,finalize_votes); default all. */
  byzantineKinds?: string;
  /** More funded accounts in genesis (address → balance as a hex quantity). */
  extraAlloc?: Record<string, { balance: string }>;
  /** More `rustchain node` arguments, for every node or per node. */
  extraArgs?: string[] | ((i: number) => string[]);
  logLevel?: string;
  /** Wait until every node answers eth_blockNumber (default 90 s). */
  readyTimeoutMs?: number;
  /**
   * After start-up, wait (30 s at most) until every node is connected to every other ("all", the default; fails
   * otherwise), or accept a connected peer graph after that wait ("connected"; gossip still reaches everyone), or
   * don't wait ("none").
   */
  waitForPeers?: "all" | "connected" | "none";
  /** Told about anything the harness tolerated (e.g. an incomplete peer mesh with waitForPeers "connected"). */
  onWarning?: (message: string) => void;
  /** An empty directory to hold the cluster (removed by stop()); default: a new temp directory. */
  dir?: string;
  /** Called with every node process spawned (start and restarts), e.g. to kill them on a hard exit. */
  onSpawn?: (proc: ChildProcess) => void;
  /** Give every validator a bridge key (genesis committee, encrypted keystore, --bridge-keystore). */
  bridgeKeys?: boolean;
}

export interface FinalityStatus {
  currentSlot: number;
  headSlot: number;
  headNumber: number;
  headHash: string;
  justified: { slot: number; number: number; hash: string };
  finalized: { slot: number; number: number; hash: string };
  finalityLagSlots: number;
}

export interface ClusterValidator {
  index: number;
  publicKey: string;
  feeRecipient: string;
  stake: bigint;
  aiScoreBps: number;
  slashed: boolean;
  proposerWeight: bigint;
}

export interface Cluster {
  dir: string;
  genesisPath: string;
  genesis: GenesisJson;
  slotMs: number;
  /** Genesis time in ms: slot s starts at genesisMs + s * slotMs. */
  genesisMs: number;
  nodes: ClusterNode[];
  rpc(i: number, method: string, params?: unknown[]): Promise<unknown>;
  admin(i: number, method: string, params?: unknown[]): Promise<unknown>;
  finality(i: number): Promise<FinalityStatus>;
  validatorSet(i: number): Promise<ClusterValidator[]>;
  isRunning(i: number): boolean;
  /** Indices of the nodes whose process is running and not frozen. */
  running(): number[];
  /** SIGSTOP a node: it stays connected at the TCP level but does nothing until thawed. */
  freeze(i: number): void;
  /** SIGCONT a frozen node. */
  thaw(i: number): void;
  /** Signal a node and wait for its process to exit. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Start a stopped node again: same datadir, key, ports and peer id; waits for its RPC. A partition in force is
   * re-applied once its admin API answers (deny lists live in memory), so it may briefly connect across it.
   */
  restart(i: number): Promise<void>;
  /** Each node denies the peer ids of the nodes outside its group (nodes in no group are cut off from all). */
  partition(groups: number[][]): Promise<void>;
  /** Clear every deny list. */
  heal(): Promise<void>;
  /**
   * Start a node without a validator key (a full node joining late) on its own datadir and ports, bootstrapped from
   * every validator, with more `rustchain node` flags (e.g. --checkpoint). Stopped by stop() at the latest.
   */
  startFollower(name: string, extraArgs?: string[], opts?: { waitForRpc?: boolean }): Promise<Follower>;
  /** The last `lines` log lines of one node, or of every node, as one printable string. */
  dumpLogs(i?: number, lines?: number): string;
  /** SIGTERM all, wait, SIGKILL whatever is left after a grace period, remove the temp directory. */
  stop(): Promise<void>;
}

export interface Follower {
  name: string;
  rpcUrl: string;
  logs: LogBuffer;
  proc: ChildProcess;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let reply: RpcReply;
  try {
    reply = JSON.parse(text) as RpcReply;
  } catch {
    throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 200)}`);
  }
  return reply;
}

async function call(url: string, method: string, params: unknown[], headers?: Record<string, string>) {
  const reply = await post(url, { jsonrpc: "2.0", id: 1, method, params }, headers);
  if (reply.error) throw Object.assign(new Error(`${method}: ${reply.error.message}`), { code: reply.error.code });
  return reply.result;
}

const hexNum = (v: unknown) => Number(BigInt(v as string));

export function parseFinalityStatus(r: unknown): FinalityStatus {
  const s = r as Record<string, unknown> & {
    justified: Record<string, string>;
    finalized: Record<string, string>;
  };
  const cp = (c: Record<string, string>) => ({ slot: hexNum(c.slot), number: hexNum(c.number), hash: c.hash });
  return {
    currentSlot: hexNum(s.currentSlot),
    headSlot: hexNum(s.headSlot),
    headNumber: hexNum(s.headNumber),
    headHash: s.headHash as string,
    justified: cp(s.justified),
    finalized: cp(s.finalized),
    finalityLagSlots: Number(s.finalityLagSlots),
  };
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const count = opts.validators;
  const slotMs = opts.slotMs ?? 1000;
  const byzantine = new Set(opts.byzantine ?? []);
  const logLevel = opts.logLevel ?? "info";
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "rustchain-cluster-")));
  const quiet = pino({ level: "silent" });

  // Keys, keystores, p2p identities and ports first, so every node's bootstrap list is known before any starts.
  const prepared: {
    datadir: string;
    passwordPath: string;
    keystorePath: string;
    peerId: string;
    ports: { rpc: number; admin: number; metrics: number; p2p: number };
    secretKey: Uint8Array;
  }[] = [];
  const keys: DevnetValidatorKey[] = [];
  for (let i = 0; i < count; i++) {
    const datadir = join(dir, `node-${i}`);
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const key = blsKeypairFromSeed(randomBytes(32));
    const password = randomBytes(16).toString("hex");
    const passwordPath = join(datadir, "password.txt");
    const keystorePath = join(datadir, "validator-keystore.json");
    await writeFile(passwordPath, `${password}\n`, { mode: 0o600 });
    await writeKeystoreFile(keystorePath, await encryptBlsKey(key.secretKey, password, { kdf: "pbkdf2" }));
    let bridgePrivateKey: Uint8Array | undefined;
    if (opts.bridgeKeys) {
      const bridgeKey = createBridgeKey();
      bridgePrivateKey = bridgeKey.privateKey;
      await writeBridgeKeystore(join(datadir, "bridge-keystore.json"), bridgeKey, password, true);
    }
    keys.push({ secretKey: key.secretKey, feeRecipient: devnetFeeRecipient(i), bridgePrivateKey });
    const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(datadir, quiet)).toString();
    const ports = { rpc: await freePort(), admin: await freePort(), metrics: await freePort(), p2p: await freePort() };
    prepared.push({ datadir, passwordPath, keystorePath, peerId, ports, secretKey: key.secretKey });
  }
  const genesis = devnetGenesis(keys, slotMs, opts.ai);
  Object.assign(genesis.alloc, opts.extraAlloc ?? {});
  const genesisPath = join(dir, "genesis.json");
  await writeFile(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`);

  const nodes: ClusterNode[] = prepared.map((p, i) => ({
    index: i,
    name: `v${i}`,
    datadir: p.datadir,
    rpcUrl: `http://127.0.0.1:${p.ports.rpc}`,
    adminUrl: `http://127.0.0.1:${p.ports.admin}`,
    metricsUrl: `http://127.0.0.1:${p.ports.metrics}/metrics`,
    peerId: p.peerId,
    multiaddr: `/ip4/127.0.0.1/tcp/${p.ports.p2p}/p2p/${p.peerId}`,
    proc: undefined as unknown as ChildProcess,
    logs: new LogBuffer(),
    byzantine: byzantine.has(i),
    secretKey: p.secretKey,
  }));

  const exits = new Map<number, Promise<void>>();
  const tokens = new Map<number, string>();
  /** The partition currently applied (re-applied to a node that restarts, since deny lists live in memory). */
  let denied: Map<number, string[]> | undefined;
  let stopped = false;
  /** Nodes stopped with SIGSTOP (their RPC would not answer). */
  const frozen = new Set<number>();

  const spawnNode = (i: number) => {
    const n = nodes[i]!;
    const p = prepared[i]!;
    const extra = typeof opts.extraArgs === "function" ? opts.extraArgs(i) : (opts.extraArgs ?? []);
    const args = validatorNodeArgs({
      datadir: n.datadir,
      genesisPath,
      keystorePath: p.keystorePath,
      passwordPath: p.passwordPath,
      rpcAddr: `127.0.0.1:${p.ports.rpc}`,
      metricsAddr: `127.0.0.1:${p.ports.metrics}`,
      grpcAddr: "off",
      p2pAddr: `127.0.0.1:${p.ports.p2p}`,
      bootstrap: nodes.filter((m) => m.index !== i).map((m) => m.multiaddr),
      maxPeersPerPrefix: 64,
      logLevel,
      logName: n.name,
      extra: [
        "--admin-addr",
        `127.0.0.1:${p.ports.admin}`,
        ...(n.byzantine ? ["--byzantine", ...(opts.byzantineKinds ? [opts.byzantineKinds] : [])] : []),
        ...(opts.bridgeKeys ? ["--bridge-keystore", join(n.datadir, "bridge-keystore.json")] : []),
        ...extra,
      ],
    });
    const env = { ...process.env, ...(n.byzantine ? { RUSTCHAIN_ALLOW_BYZANTINE: "1" } : {}) };
    // The IPC channel makes the node stop by itself if this test process dies without stopping it.
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    n.logs.note(`started pid ${proc.pid}`);
    proc.stdout?.setEncoding("utf8").on("data", (d: string) => n.logs.push(d));
    proc.stderr?.setEncoding("utf8").on("data", (d: string) => n.logs.push(d));
    exits.set(
      i,
      new Promise<void>((r) =>
        proc.once("exit", (code, signal) => {
          n.logs.note(`exited code=${code} signal=${signal}`);
          r();
        }),
      ),
    );
    n.proc = proc;
    opts.onSpawn?.(proc);
  };

  const isRunning = (i: number) => {
    const proc = nodes[i]?.proc;
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  };

  const waitReady = async (i: number, timeoutMs: number) => {
    const n = nodes[i]!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!isRunning(i)) throw new Error(`${n.name} exited during start-up:\n${n.logs.tail(80).join("\n")}`);
      try {
        await call(n.rpcUrl, "eth_blockNumber", []);
        tokens.set(i, (await readFile(join(n.datadir, "admin-token"), "utf8")).trim());
        await call(n.adminUrl, "admin_nodeInfo", [], { authorization: `Bearer ${tokens.get(i)}` });
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`${n.name} did not become ready in ${timeoutMs} ms:\n${n.logs.tail(80).join("\n")}`);
        }
        await sleep(200);
      }
    }
  };

  const admin = async (i: number, method: string, params: unknown[] = []) => {
    const n = nodes[i]!;
    const token = tokens.get(i) ?? (await readFile(join(n.datadir, "admin-token"), "utf8")).trim();
    return call(n.adminUrl, method, params, { authorization: `Bearer ${token}` });
  };

  const kill = async (i: number, signal: NodeJS.Signals = "SIGKILL") => {
    if (!isRunning(i)) return;
    const n = nodes[i]!;
    n.logs.note(`sending ${signal}`);
    n.proc.kill(signal);
    // A node that ignores a polite signal for 15 s is killed, so the wait is bounded.
    const timer = setTimeout(() => {
      if (isRunning(i)) {
        n.logs.note("still running after 15 s: SIGKILL");
        n.proc.kill("SIGKILL");
      }
    }, 15_000);
    await exits.get(i);
    clearTimeout(timer);
  };

  const applyDenyList = async (i: number) => {
    await admin(i, "admin_setDeniedPeers", [denied?.get(i) ?? []]);
  };

  const peerLists = async () => {
    const ids = new Map(nodes.map((n) => [n.peerId, n.index]));
    const lists = await Promise.all(nodes.map((_, i) => admin(i, "admin_peers") as Promise<string[]>));
    return lists.map((l) => l.map((id) => ids.get(id)).filter((j): j is number => j !== undefined));
  };

  /** Every node reachable from node 0 over current connections (in either direction). */
  const connectedGraph = (lists: number[][]) => {
    const seen = new Set([0]);
    const queue = [0];
    while (queue.length > 0) {
      const i = queue.shift() as number;
      const next = [...lists[i]!, ...lists.flatMap((l, j) => (l.includes(i) ? [j] : []))];
      for (const j of next) {
        if (seen.has(j)) continue;
        seen.add(j);
        queue.push(j);
      }
    }
    return seen.size === count;
  };

  const waitForPeers = async (mode: "all" | "connected", timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lists = await peerLists();
      if (lists.every((l) => l.length >= count - 1)) return;
      if (Date.now() > deadline) {
        const counts = lists.map((l) => l.length).join(",");
        if (mode === "connected" && connectedGraph(lists)) {
          opts.onWarning?.(
            `peer mesh incomplete after ${timeoutMs} ms (peers per node: ${counts}); graph is connected`,
          );
          return;
        }
        throw new Error(`peers did not connect in ${timeoutMs} ms (peers per node: ${counts})`);
      }
      await sleep(250);
    }
  };

  const followers: Follower[] = [];
  const startFollower = async (
    name: string,
    extraArgs: string[] = [],
    startOpts: { waitForRpc?: boolean } = {},
  ): Promise<Follower> => {
    if (stopped) throw new Error("the cluster is stopped");
    const datadir = join(dir, name);
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const rpcUrl = `http://127.0.0.1:${await freePort()}`;
    const args = [
      ...["--import", "tsx", join(ROOT, "validator/src/cli/main.ts"), "node", "--datadir", datadir],
      ...["--genesis", genesisPath, "--rpc-addr", rpcUrl.slice("http://".length)],
      ...["--metrics-addr", `127.0.0.1:${await freePort()}`, "--p2p-addr", `127.0.0.1:${await freePort()}`],
      ...["--grpc-addr", "off"],
      ...["--bootstrap", nodes.map((m) => m.multiaddr).join(","), "--max-peers-per-prefix", "64"],
      ...["--log-level", logLevel, "--log-name", name, ...extraArgs],
    ];
    const logs = new LogBuffer();
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    logs.note(`started pid ${proc.pid}`);
    proc.stdout?.setEncoding("utf8").on("data", (d: string) => logs.push(d));
    proc.stderr?.setEncoding("utf8").on("data", (d: string) => logs.push(d));
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    opts.onSpawn?.(proc);
    const follower: Follower = {
      name,
      rpcUrl,
      logs,
      proc,
      rpc: (method, params = []) => call(rpcUrl, method, params),
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      },
    };
    followers.push(follower);
    if (startOpts.waitForRpc === false) return follower;
    await waitUntil(
      `${name} to answer RPC`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`${name} exited:\n${logs.tail(40).join("\n")}`);
        return (await follower.rpc("eth_chainId")) as string;
      },
      opts.readyTimeoutMs ?? 90_000,
    );
    return follower;
  };

  const cluster: Cluster = {
    dir,
    genesisPath,
    genesis,
    slotMs,
    genesisMs: Number(genesis.timestamp) * 1000,
    nodes,
    rpc: (i, method, params = []) => call(nodes[i]!.rpcUrl, method, params),
    admin,
    finality: async (i) => parseFinalityStatus(await call(nodes[i]!.rpcUrl, "rustchain_finalityStatus", [])),
    validatorSet: async (i) => {
      const list = (await call(nodes[i]!.rpcUrl, "rustchain_validators", [])) as Record<string, unknown>[];
      return list.map((v) => ({
        index: v.index as number,
        publicKey: v.publicKey as string,
        feeRecipient: v.feeRecipient as string,
        stake: BigInt(v.stake as string),
        aiScoreBps: v.aiScoreBps as number,
        slashed: v.slashed as boolean,
        proposerWeight: BigInt(v.proposerWeight as string),
      }));
    },
    isRunning,
    running: () => nodes.map((n) => n.index).filter((i) => isRunning(i) && !frozen.has(i)),
    freeze: (i) => {
      if (!isRunning(i)) throw new Error(`${nodes[i]!.name} is not running`);
      nodes[i]!.logs.note("sending SIGSTOP");
      nodes[i]!.proc.kill("SIGSTOP");
      frozen.add(i);
    },
    thaw: (i) => {
      nodes[i]!.logs.note("sending SIGCONT");
      nodes[i]!.proc.kill("SIGCONT");
      frozen.delete(i);
    },
    kill,
    restart: async (i) => {
      if (isRunning(i)) throw new Error(`${nodes[i]!.name} is still running`);
      spawnNode(i);
      await waitReady(i, opts.readyTimeoutMs ?? 90_000);
      if (denied) await applyDenyList(i);
    },
    partition: async (groups) => {
      const groupOf = new Map<number, number>();
      groups.forEach((g, gi) => {
        for (const i of g) groupOf.set(i, gi);
      });
      const together = (a: number, b: number) => groupOf.has(a) && groupOf.get(a) === groupOf.get(b);
      denied = new Map(
        nodes.map((n) => [
          n.index,
          nodes.filter((m) => m.index !== n.index && !together(n.index, m.index)).map((m) => m.peerId),
        ]),
      );
      for (const i of cluster.running()) await applyDenyList(i);
    },
    heal: async () => {
      denied = undefined;
      for (const i of cluster.running()) await applyDenyList(i);
    },
    startFollower,
    dumpLogs: (i, lines = 60) => {
      const which = i === undefined ? nodes : [nodes[i]!];
      return which.map((n) => `==== ${n.name} (last ${lines} lines)\n${n.logs.tail(lines).join("\n")}`).join("\n");
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(followers.map((f) => f.stop()));
      for (const i of frozen) cluster.thaw(i);
      for (const i of cluster.running()) nodes[i]!.proc.kill("SIGTERM");
      const all = Promise.all([...exits.values()]);
      const timer = setTimeout(() => {
        for (const i of cluster.running()) nodes[i]!.proc.kill("SIGKILL");
      }, 15_000);
      await all;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    for (let i = 0; i < count; i++) spawnNode(i);
    await Promise.all(nodes.map((_, i) => waitReady(i, opts.readyTimeoutMs ?? 90_000)));
    const mode = opts.waitForPeers ?? "all";
    if (mode !== "none") await waitForPeers(mode, 30_000);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** Poll `check` every `intervalMs` until it returns a value other than undefined; a bounded loop. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
    }
    await sleep(intervalMs);
  }
}

/** The p-th percentile (0..100) of `values`, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface FinalitySample {
  /** Wall-clock time of the request (ms). */
  at: number;
  node: number;
  status: FinalityStatus;
}

/**
 * Samples `rustchain_finalityStatus` of every running node once per slot (at a phase that rotates through the slot,
 * so samples cover both halves of it) and checks finality safety at every sample: no two different blocks are ever
 * finalized at the same number or for the same checkpoint slot, across nodes and over time, and no node's finalized
 * slot ever moves back (restarts included). Violations are collected, not thrown, so every test can assert on them.
 */
export class FinalityWatcher {
  readonly samples: FinalitySample[] = [];
  readonly violations: string[] = [];
  private readonly byNumber = new Map<number, { hash: string; node: number }>();
  private readonly bySlot = new Map<number, { hash: string; node: number }>();
  private readonly lastSlot = new Map<number, number>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly c: Cluster,
    private readonly maxSamples = 50_000,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { slotMs, genesisMs } = this.c;
    // Bounded: at most one iteration per slot for a day of slots.
    for (let k = 0; k < 86_400 && !this.stopped; k++) {
      const phase = (k * 0.382) % 1;
      const intoSlot = (Date.now() - genesisMs) % slotMs;
      let wait = phase * slotMs - intoSlot;
      if (wait < 0) wait += slotMs;
      await sleep(wait);
      if (this.stopped) break;
      await this.sampleAll();
    }
  }

  /** One sample of every running node (a node that is stopping or starting is skipped). */
  async sampleAll(): Promise<FinalitySample[]> {
    const at = Date.now();
    const got = await Promise.all(
      this.c.running().map(async (node) => {
        try {
          return { at, node, status: await this.c.finality(node) };
        } catch {
          return undefined;
        }
      }),
    );
    const out = got.filter((s): s is FinalitySample => s !== undefined);
    for (const s of out) this.record(s);
    return out;
  }

  record(s: FinalitySample): void {
    const f = s.status.finalized;
    const seen = this.byNumber.get(f.number);
    if (seen && seen.hash !== f.hash) {
      this.violations.push(`block ${f.number}: v${seen.node} finalized ${seen.hash}, v${s.node} finalized ${f.hash}`);
    } else if (!seen) this.byNumber.set(f.number, { hash: f.hash, node: s.node });
    const atSlot = this.bySlot.get(f.slot);
    if (atSlot && atSlot.hash !== f.hash) {
      this.violations.push(`checkpoint slot ${f.slot}: v${atSlot.node} has ${atSlot.hash}, v${s.node} has ${f.hash}`);
    } else if (!atSlot) this.bySlot.set(f.slot, { hash: f.hash, node: s.node });
    const last = this.lastSlot.get(s.node);
    if (last !== undefined && f.slot < last)
      this.violations.push(`v${s.node} finalized slot went back ${last} -> ${f.slot}`);
    this.lastSlot.set(s.node, Math.max(last ?? 0, f.slot));
    this.samples.push(s);
    if (this.samples.length > this.maxSamples) this.samples.splice(0, this.samples.length - this.maxSamples);
  }

  /** Every finalized (number → hash) seen so far. */
  finalizedBlocks(): Map<number, string> {
    return new Map([...this.byNumber].map(([n, v]) => [n, v.hash]));
  }

  since(at: number): FinalitySample[] {
    return this.samples.filter((s) => s.at >= at);
  }
}

/**
 * A libp2p peer of the test process (not a validator) connected to cluster node `node` (the first of its addresses
 * that answers), subscribed to `topics`, presenting the node's genesis so it is kept as a peer on the same chain
 * (or `foreignGenesis`, to be treated as a peer of another chain).
 */
export async function startTestPeer(
  c: Cluster,
  node: number,
  topics: GossipTopicName[] = ["blocks", "attestations"],
  opts: { foreignGenesis?: Uint8Array } = {},
): Promise<Network> {
  const { multiaddrs: addrs } = (await c.admin(node, "admin_nodeInfo")) as { multiaddrs: string[] };
  const genesis = (await c.rpc(node, "eth_getBlockByNumber", ["0x0", false])) as { hash: string };
  const genesisHash = opts.foreignGenesis ?? hexToBytes(genesis.hash);
  const net = createNetwork(
    networkOptions({ listenAddrs: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], dht: { enabled: false } }),
    {
      logger: pino({ level: "silent" }),
      chainId: 21076n,
      // The node's own genesis as head: the node never syncs from it (and keeps it, as a peer on its chain).
      handlers: genesisOnlyHandlers(21076n, genesisHash),
    },
  );
  await net.start();
  try {
    for (const t of topics) net.subscribe(t);
    let node: PeerId | undefined;
    const failures: string[] = [];
    for (const addr of addrs) {
      try {
        node = await net.dial(addr);
        break;
      } catch (e) {
        failures.push(`${addr}: ${JSON.stringify((e as NetworkError).type ?? String(e))}`);
      }
    }
    if (!node) throw new Error(`could not dial the node:\n  ${failures.join("\n  ")}`);
    if (opts.foreignGenesis) return net; // the node hangs up on it; nothing to wait for
    const target = node;
    // Publishing reaches the node once we know it subscribes to both topics.
    await waitUntil(
      "the node's topic subscriptions",
      async () => (topics.every((t) => net.topicPeers(t).some((p) => p.equals(target))) ? true : undefined),
      10_000,
      50,
    );
  } catch (e) {
    await net.stop();
    throw e;
  }
  return net;
}
