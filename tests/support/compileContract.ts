// Compile a C snippet to a contract wasm module for tests that need modules the contract build would refuse.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CLANG_FLAGS, SDK_HEADER } from "../../contracts/build.ts";

/**
 * Compile `source` (the SDK header is included first) to a wasm module with the contract flags but none of the
 * build's safety checks, and without -Werror; `initialMemory` (bytes) replaces the flags' initial memory size.
 * `dir` holds `${name}.c` and `${name}.wasm`.
 */
export async function compileC(dir: string, name: string, source: string, initialMemory?: number): Promise<Uint8Array> {
  const src = join(dir, `${name}.c`);
  const out = join(dir, `${name}.wasm`);
  await writeFile(src, `#include "${SDK_HEADER}"\n${source}`);
  const flags = CLANG_FLAGS.filter((f) => f !== "-Werror" && !(initialMemory && f.startsWith("-Wl,--initial-memory")));
  if (initialMemory) flags.push(`-Wl,--initial-memory=${initialMemory}`);
  await promisify(execFile)("clang", [...flags, "-o", out, src]);
  return new Uint8Array(await readFile(out));
}
