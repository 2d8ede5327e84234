// `rustchain devnet --validators N` as a user runs it: one command, N validator processes, RPC on the first.
//   - the validators find each other, all four keys are in the validator set, and blocks get finalized within their
//     slot: over 60 samples the finalized block lags the latest by at most 1 at p99;
//   - Ctrl-C (SIGINT to the whole foreground process group, as a terminal sends it) stops every validator and the
//     command exits 0;
//   - a second start on the same datadir resumes the same chain and keeps finalizing;
//   - a supervisor killed with SIGKILL (no signal can be forwarded) still leaves no validator running;
//   - a genesis whose validator key lacks a valid proof of possession is refused by `rustchain node`;
//   - bad flags are refused with a message and exit code 1.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { GenesisJson } from "@rustchain/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, rpc } from "./support/devnet.ts";

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "validator/src/cli/main.ts");
const VALIDATORS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Pids of the validator processes, from the supervisor's "Started validator process" log lines. */
  validatorPids(): number[];
}

function startDevnetCommand(args: string[]): Run {
  // Detached: the command leads its own process group, so a "terminal Ctrl-C" can be sent to the whole group.
  const proc = spawn(process.execPath, ["--import", "tsx", MAIN, "devnet", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  proc.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once("exit", (code, signal) => r({ code, signal })),
  );
  const rpcArg = args[args.indexOf("--rpc-addr") + 1];
  return {
    proc,
    url: `http://${rpcArg}`,
    output: () => out,
    exited,
    validatorPids: () =>
      out
        .split("\n")
        .filter((l) => l.includes('"msg":"Started validator process"'))
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, run: Run, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (run.proc.exitCode !== null) throw new Error(`devnet exited while waiting for ${what}:\n${run.output()}`);
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      // Warnings and state restores tell more than the tail of a log full of produced blocks.
      const notable = run
        .output()
        .split("\n")
        .filter((l) => /"level":[4-6]0|Consensus state restored|Finalized|Justified/.test(l))
        .slice(-60);
      const status = await rpc(run.url, "rustchain_finalityStatus").catch((e: unknown) => String(e));
      throw new Error(
        `timed out waiting for ${what}; finality status ${JSON.stringify(status)}\n${notable.join("\n")}\n…\n${run.output().slice(-3000)}`,
      );
    }
    await sleep(250);
  }
}

const finalizedNumber = async (url: string) =>
  Number(BigInt(((await rpc(url, "eth_getBlockByNumber", ["finalized", false])) as { number: string }).number));

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(200);
  return pids.filter(alive);
}

describe("rustchain devnet --validators 4 --slot-ms 1000", () => {
  let datadir: string;
  let args: string[];
  const runs: Run[] = [];

  beforeAll(async () => {
    datadir = await mkdtemp(join(tmpdir(), "rustchain-devnet-cluster-"));
    args = [
      ...["--validators", String(VALIDATORS), "--no-ai", "--slot-ms", "1000", "--datadir", datadir],
      ...["--rpc-addr", `127.0.0.1:${await freePort()}`, "--metrics-addr", `127.0.0.1:${await freePort()}`],
      ...["--grpc-addr", `127.0.0.1:${await freePort()}`],
    ];
  });

  afterAll(async () => {
    for (const r of runs) {
      for (const pid of r.validatorPids()) if (alive(pid)) process.kill(pid, "SIGKILL");
      if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
    }
    await rm(datadir, { recursive: true, force: true });
  });

  let firstFinalized = 0;
  let firstFinalizedHash = "";
  let firstHead = 0;

  it("finalizes with every validator, and Ctrl-C stops all of them with exit code 0", async () => {
    const run = startDevnetCommand(args);
    runs.push(run);
    const validators = await until("the validator set", run, async () => {
      const v = (await rpc(run.url, "rustchain_validators")) as unknown[];
      return v.length > 0 ? v : undefined;
    });
    expect(validators).toHaveLength(VALIDATORS);
    await until("3 peers on the first validator", run, async () =>
      Number(BigInt((await rpc(run.url, "net_peerCount")) as string)) >= VALIDATORS - 1 ? true : undefined,
    );
    firstFinalized = await until("a finalized block above 3", run, async () => {
      const n = await finalizedNumber(run.url);
      return n > 3 ? n : undefined;
    });
    // Finality within the slot, as a dApp sees it: latest minus finalized, sampled 60 times at phases spread over
    // the slot (half a slot apart, shifted by 0.382 slot each time).
    const lags: number[] = [];
    for (let k = 0; k < 60; k++) {
      await sleep(500 + ((k * 382) % 1000) / 10);
      const s = (await rpc(run.url, "rustchain_finalityStatus")) as {
        headNumber: string;
        finalized: { number: string };
      };
      lags.push(Number(BigInt(s.headNumber) - BigInt(s.finalized.number)));
    }
    const sorted = [...lags].sort((a, b) => a - b);
    const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    console.log(
      `devnet finality lag over ${lags.length} samples: p50=${sorted[29]} p99=${p99} max=${sorted.at(-1)} blocks`,
    );
    expect(p99, `lags ${lags.join(",")}`).toBeLessThanOrEqual(1);
    firstHead = Number(BigInt((await rpc(run.url, "eth_blockNumber")) as string));
    firstFinalizedHash = (
      (await rpc(run.url, "eth_getBlockByNumber", [`0x${firstFinalized.toString(16)}`, false])) as { hash: string }
    ).hash;
    const pids = run.validatorPids();
    expect(pids).toHaveLength(VALIDATORS);
    expect(pids.every(alive)).toBe(true);

    process.kill(-run.proc.pid!, "SIGINT"); // what a terminal's Ctrl-C does: the whole foreground group
    const exit = await Promise.race([run.exited, sleep(30_000).then(() => "timeout" as const)]);
    expect(exit, run.output().slice(-4000)).toEqual({ code: 0, signal: null });
    expect(await waitGone(pids, 5_000)).toEqual([]);
    expect(run.output()).toContain('"msg":"All validators stopped"');
    // No error or fatal log line from any process.
    expect(
      run
        .output()
        .split("\n")
        .filter((l) => /"level":(50|60)/.test(l)),
    ).toEqual([]);
  }, 120_000);

  it("a restart on the same datadir resumes the chain; a SIGKILLed supervisor leaves no validator behind", async () => {
    const run = startDevnetCommand(args);
    runs.push(run);
    // The same chain: the blocks finalized before the stop are still there, with the same hashes on every restart.
    const after = await until("finality to pass the first run's head", run, async () => {
      const n = await finalizedNumber(run.url);
      return n > firstHead ? n : undefined;
    });
    expect(after).toBeGreaterThan(firstFinalized);
    const block = (await rpc(run.url, "eth_getBlockByNumber", [`0x${firstFinalized.toString(16)}`, false])) as {
      hash: string;
    };
    expect(block.hash).toBe(firstFinalizedHash);
    const pids = run.validatorPids();
    expect(pids).toHaveLength(VALIDATORS);

    process.kill(run.proc.pid!, "SIGKILL"); // only the supervisor; nothing is forwarded to the validators
    await run.exited;
    expect(await waitGone(pids, 30_000), "validators still running after their supervisor died").toEqual([]);
  }, 120_000);

  it("a node refuses a genesis whose validator key lacks its proof of possession", async () => {
    const genesis = JSON.parse(await readFile(join(datadir, "genesis.json"), "utf8")) as GenesisJson;
    expect(genesis.validators).toHaveLength(VALIDATORS);
    // Validator 1's key with validator 0's proof: what a rogue key (one nobody holds the secret of) would have to do.
    genesis.validators[1]!.proofOfPossession = genesis.validators[0]!.proofOfPossession;
    const tampered = join(datadir, "tampered-genesis.json");
    await writeFile(tampered, JSON.stringify(genesis));
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", MAIN, "node", "--genesis", tampered, "--datadir", join(datadir, "tampered"), "--no-p2p"],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    proc.stdout?.on("data", (d) => (out += d));
    proc.stderr?.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
    expect(code, out).toBe(1);
    expect(out).toContain("validators.1.proofOfPossession: not a valid proof of possession of its BLS key");
  }, 60_000);

  it("refuses a bad validator count and a devnet of another size with a message and exit code 1", async () => {
    for (const [extra, message] of [
      [["--validators", "0"], "--validators must be between 1 and 64"],
      [["--validators", "2"], `holds a devnet of ${VALIDATORS} validator(s); use --reset or another --datadir`],
    ] as const) {
      const run = startDevnetCommand([...args, ...extra]);
      runs.push(run);
      const exit = await run.exited;
      expect(exit.code, run.output()).toBe(1);
      expect(run.output()).toContain(message);
    }
  }, 60_000);
});
