// Child processes and temporary directories of a bench: whatever is registered here is killed / removed on every
// exit path (normal exit, SIGINT, SIGTERM, the hard time limit).
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Devnet } from "../../tests/support/devnet.ts";

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function trackChild(proc: ChildProcess): void {
  children.add(proc);
}
export function untrackChild(proc: ChildProcess): void {
  children.delete(proc);
}

/** A fresh directory under the OS temporary directory, removed on exit unless `removeTempDir` did it before. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** SIGKILL every tracked child still running and remove every tracked directory. */
export function cleanupSync(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;
/** Run `cleanupSync` at process exit and on SIGINT / SIGTERM (then exit 130). */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.once("exit", cleanupSync);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.exit(130);
    });
  }
}

/** Whatever happens, the bench ends on its own: after `ms`, print `message`, clean up and exit 2. */
export function hardStop(ms: number, message: string): void {
  const timer = setTimeout(() => {
    console.error(message);
    cleanupSync();
    process.exit(2);
  }, ms);
  timer.unref();
}

/** `stop()`, SIGKILLing `proc` if that takes longer than `ms`. */
export async function stopWithin(proc: ChildProcess, stop: () => Promise<void>, ms = 15_000): Promise<void> {
  const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
  try {
    await stop();
  } finally {
    clearTimeout(timer);
  }
}

/** Track a devnet started with `startDevnet`: its process and its data directory. */
export function trackDevnet(devnet: Devnet): void {
  children.add(devnet.proc);
  tempDirs.add(devnet.datadir);
}

/** Stop a tracked devnet (SIGKILL after 15 s) and remove its data directory. */
export async function stopDevnet(devnet: Devnet): Promise<void> {
  await stopWithin(devnet.proc, () => devnet.stop());
  children.delete(devnet.proc);
  await devnet.cleanup();
  tempDirs.delete(devnet.datadir);
}
