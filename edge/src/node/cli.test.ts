import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../validator/src/cli/devnetCluster.ts";
import type { LocalRedis } from "./redisServer.ts";
import { startTestRedis } from "./testing.ts";

// `rustchain edge` as an operator runs it: a child process, flags validated, one "Edge listening" JSON line, SIGTERM.
const MAIN = fileURLToPath(new URL("../../../bin/rustchain.js", import.meta.url));

let redis: LocalRedis;
let dir: string;
let keyFile: string;

function cli(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "edge", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, out: () => out, exited };
}

beforeAll(async () => {
  redis = await startTestRedis();
  dir = await mkdtemp(join(tmpdir(), "rustchain-edge-cli-"));
  keyFile = join(dir, "replication-key");
  await writeFile(keyFile, `${"ab".repeat(32)}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("rustchain edge", () => {
  // Each case is a process start (several seconds): a few representative ones; the rest share the same commander path.
  it("refuses bad flags with a clear error and exit code 1", async () => {
    const cases: [string[], RegExp][] = [
      [["--replication-key-file", keyFile], /required option '--core-rpc <url>'/],
      [["--core-rpc", "http://127.0.0.1:1", "--replication-key-file", keyFile, "--redis-url", "x"], /redis:\/\//],
      [["--core-rpc", "http://127.0.0.1:1", "--replication-key-file", join(dir, "none"), "--chain-id", "1"], /none/],
    ];
    for (const [args, message] of cases) {
      const run = cli(args);
      expect(await run.exited).toBe(1);
      expect(run.out()).toMatch(message);
    }
  });

  it('starts, logs one JSON "Edge listening" line with its URLs, answers, and stops on SIGTERM', async () => {
    const port = await freePort();
    const run = cli([
      "--listen",
      `127.0.0.1:${port}`,
      "--redis-url",
      redis.url,
      "--core-rpc",
      `http://127.0.0.1:${await freePort()}`,
      "--replication-key-file",
      keyFile,
      "--chain-id",
      "21076",
      "--rate-limit",
      "100/500",
    ]);
    const deadline = Date.now() + 60_000;
    let line: { msg?: string; url?: string; wsUrl?: string } | undefined;
    while (!line && Date.now() < deadline && run.child.exitCode === null) {
      line = run
        .out()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { msg?: string; url?: string; wsUrl?: string })
        .find((l) => l.msg === "Edge listening");
      if (!line) await new Promise((r) => setTimeout(r, 100));
    }
    expect(line, run.out()).toMatchObject({ url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` });
    const res = await fetch(line?.url as string, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "eth_chainId", params: [] }),
    });
    expect(await res.json()).toEqual({ jsonrpc: "2.0", id: 7, result: "0x5254" });
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });
});
