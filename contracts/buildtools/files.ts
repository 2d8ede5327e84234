// File helpers of the contract build: outputs are written atomically and only when their content changes, so a
// build that changed nothing touches nothing.
import { readFile, rename, writeFile } from "node:fs/promises";

export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** A path next to `path` for a temporary output, unique to this process and call. */
export function tempPath(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/** Writes atomically (temp file + rename), and only if the content differs. Returns whether it wrote. */
export async function writeIfChanged(path: string, data: Uint8Array | string): Promise<boolean> {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.length);
  const old = await readIfExists(path);
  if (old?.equals(bytes)) return false;
  const tmp = tempPath(path);
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return true;
}
