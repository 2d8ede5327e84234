// `rustchain bridge …` run as the user runs it: `node bin/rustchain.js bridge <args>` in its own process.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const BIN = join(ROOT, "bin/rustchain.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function bridge(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, "bridge", ...args],
      { cwd: ROOT, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A run that must succeed with --json: its one JSON document. */
export async function bridgeJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const r = await bridge(...args, "--json");
  if (r.code !== 0) throw new Error(`rustchain bridge ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}
