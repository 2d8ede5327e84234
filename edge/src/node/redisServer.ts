// A throwaway redis-server for tests and `npm run devnet:edge`: its own temp directory, loopback only, no persistence.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LocalRedis {
  url: string;
  port: number;
  pid: number | undefined;
  /** Stop the server (SIGTERM, then SIGKILL after 5 s) and delete its directory. */
  stop(): Promise<void>;
}

export class RedisNotInstalledError extends Error {
  constructor(readonly binary: string) {
    super(`redis-server not found at ${binary}: install it (apt-get install redis-server) or pass another binary`);
    this.name = "RedisNotInstalledError";
  }
}

export const DEFAULT_REDIS_SERVER = "/usr/bin/redis-server";

/** Answers PING with +PONG within `ms`. */
function ping(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

/** Start redis-server on 127.0.0.1:`port` and wait (at most `timeoutMs`) until it answers PING. */
export async function startLocalRedis(opts: {
  port: number;
  binary?: string;
  timeoutMs?: number;
  /** Own process group: a terminal's Ctrl-C does not reach it, so the caller stops it after its clients. */
  detached?: boolean;
}): Promise<LocalRedis> {
  const binary = opts.binary ?? process.env.REDIS_SERVER ?? DEFAULT_REDIS_SERVER;
  if (!existsSync(binary)) throw new RedisNotInstalledError(binary);
  const dir = await mkdtemp(join(tmpdir(), "rustchain-redis-"));
  const child: ChildProcess = spawn(
    binary,
    ["--save", "", "--appendonly", "no", "--port", String(opts.port), "--bind", "127.0.0.1", "--dir", dir],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"], detached: opts.detached ?? false },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`redis-server exited early: ${stderr.trim() || `code ${child.exitCode}`}`);
    }
    if (await ping(opts.port, 500)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer on 127.0.0.1:${opts.port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${opts.port}`, port: opts.port, pid: child.pid, stop };
}
