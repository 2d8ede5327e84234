// Compiles the Ethereum side of the bridge (bridge-relayer/contracts/*.sol) with solc-js into
// bridge-relayer/build/<Name>.json = { abi, bytecode } (gitignored), for viem's deployContract.
//
// - Offline: the solc package's bundled soljson only, never a download; `@openzeppelin/...` imports are read from
//   node_modules through solc's import callback, every other import relative to the importing file.
// - Cached: a stamp holds the hash of the sources (ours and every imported file), the compiler version and the
//   settings; when it matches and every artefact is present, the artefacts are read back without compiling.
// - Settings: optimizer on (200 runs), EVM version cancun (mainnet, Sepolia and hardhat node all run it), viaIR (the
//   legacy pipeline runs out of stack in the VAA signature loop).
//
// `compileSolidity` does the same for any directory of .sol files (the tests compile their fixtures with it).
//
// Usage: npm run bridge:contracts [-- --force]
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RustChainError } from "@rustchain/shared/errors";
import type { Abi, Hex } from "viem";

export const BRIDGE_RELAYER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CONTRACTS_DIR = join(BRIDGE_RELAYER_DIR, "contracts");
export const BUILD_DIR = join(BRIDGE_RELAYER_DIR, "build");

const require = createRequire(import.meta.url);
/** The bundled compiler's version, read without loading its 8 MB soljson (a cache hit never loads it). */
const SOLC_VERSION = (require("solc/package.json") as { version: string }).version;

export interface CompiledContract {
  abi: Abi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: Hex;
}

export type CompileErrorType =
  | { code: "SOLC_FAILED"; errors: string[] }
  | { code: "SOLC_IMPORT_NOT_FOUND"; path: string };

/** The sources did not compile; `errors` holds solc's formatted messages. */
export class CompileError extends RustChainError<CompileErrorType> {
  constructor(type: CompileErrorType) {
    super(type, type.code === "SOLC_FAILED" ? `SOLC_FAILED:\n${type.errors.join("\n")}` : undefined);
  }
}

export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: true,
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
} as const;

export interface CompileOptions {
  /** Directory of the .sol files to compile (not recursive). */
  sourceDir: string;
  /** Where <Name>.json and the stamp go. */
  outDir: string;
  /** Compile even when the stamp matches. */
  force?: boolean;
}

export interface CompileResult {
  contracts: Record<string, CompiledContract>;
  /** True when the artefacts came from the cache. */
  cached: boolean;
  /** solc's warnings (empty when cached). */
  warnings: string[];
}

/** Compiles the bridge contracts into bridge-relayer/build/, or reads them back when nothing changed. */
export async function compileBridgeContracts(
  opts: { force?: boolean } = {},
): Promise<Record<string, CompiledContract>> {
  const result = await compileSolidity({ sourceDir: CONTRACTS_DIR, outDir: BUILD_DIR, force: opts.force });
  return result.contracts;
}

export async function compileSolidity(opts: CompileOptions): Promise<CompileResult> {
  const sourceDir = resolve(opts.sourceDir);
  const sources = await readSources(sourceDir);
  const files = await collectImports(sources, sourceDir);
  const stamp = stampOf(files);
  const stampPath = join(opts.outDir, ".stamp.json");

  if (!opts.force) {
    const cached = await readCached(stampPath, stamp, opts.outDir);
    if (cached) return { contracts: cached, cached: true, warnings: [] };
  }

  const input = {
    language: "Solidity",
    sources: Object.fromEntries([...files].map(([name, content]) => [name, { content }])),
    settings: SOLC_SETTINGS,
  };
  const solc = (await import("solc")).default;
  // Every import was read ahead (collectImports), so the callback only reports what is missing.
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (path: string) => ({ error: `not found: ${path}` }),
    }),
  ) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage);
  if (errors.length > 0) throw new CompileError({ code: "SOLC_FAILED", errors });
  const warnings = (output.errors ?? []).filter((e) => e.severity !== "error").map((e) => e.formattedMessage);

  const contracts: Record<string, CompiledContract> = {};
  for (const name of sources.keys()) {
    for (const [contractName, c] of Object.entries(output.contracts?.[name] ?? {})) {
      // abstract contracts have no bytecode, libraries of internal functions no ABI: neither is deployed
      if (c.evm.bytecode.object === "" || c.abi.length === 0) continue;
      contracts[contractName] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
    }
  }

  await mkdir(opts.outDir, { recursive: true });
  const names = Object.keys(contracts).sort();
  for (const name of names) await writeAtomic(join(opts.outDir, `${name}.json`), JSON.stringify(contracts[name]));
  await writeAtomic(stampPath, JSON.stringify({ stamp, contracts: names }));
  return { contracts, cached: false, warnings };
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

/** The .sol files of `dir`, keyed by their solc source name (the path relative to the directory). */
async function readSources(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".sol")).sort();
  const out = new Map<string, string>();
  for (const name of names) out.set(name, await readFile(join(dir, name), "utf8"));
  return out;
}

const IMPORT_RE = /^\s*import\s+(?:[^"';]*\sfrom\s+)?["']([^"']+)["']/gm;

/**
 * The sources with every file they import, transitively: `@scope/pkg/...` from node_modules (keeping the import path
 * as the source name, as solc expects), `./x.sol` / `../x.sol` relative to the importing source.
 */
async function collectImports(sources: Map<string, string>, sourceDir: string): Promise<Map<string, string>> {
  const files = new Map(sources);
  const queue = [...sources.keys()];
  while (queue.length > 0) {
    const name = queue.shift()!;
    for (const m of files.get(name)!.matchAll(IMPORT_RE)) {
      const spec = m[1]!;
      const target = spec.startsWith(".") ? join(dirname(name), spec).split(sep).join("/") : spec;
      if (files.has(target)) continue;
      files.set(target, await readFile(locate(target, sourceDir), "utf8"));
      queue.push(target);
    }
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function locate(sourceName: string, sourceDir: string): string {
  if (sourceName.startsWith("@")) {
    try {
      return require.resolve(sourceName);
    } catch {
      throw new CompileError({ code: "SOLC_IMPORT_NOT_FOUND", path: sourceName });
    }
  }
  const path = join(sourceDir, sourceName);
  if (!existsSync(path) || relative(sourceDir, path).startsWith("..")) {
    throw new CompileError({ code: "SOLC_IMPORT_NOT_FOUND", path: sourceName });
  }
  return path;
}

function stampOf(files: Map<string, string>): string {
  const h = createHash("sha256");
  h.update(`solc ${SOLC_VERSION}\n${JSON.stringify(SOLC_SETTINGS)}\n`);
  for (const [name, content] of files) h.update(`${name}\n${content.length}\n${content}`);
  return h.digest("hex");
}

async function readCached(
  stampPath: string,
  stamp: string,
  outDir: string,
): Promise<Record<string, CompiledContract> | undefined> {
  try {
    const saved = JSON.parse(await readFile(stampPath, "utf8")) as { stamp: string; contracts: string[] };
    if (saved.stamp !== stamp) return undefined;
    const out: Record<string, CompiledContract> = {};
    for (const name of saved.contracts) {
      out[name] = JSON.parse(await readFile(join(outDir, `${name}.json`), "utf8")) as CompiledContract;
    }
    return out;
  } catch {
    return undefined; // no stamp yet, or an artefact is missing: compile
  }
}

async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { force: { type: "boolean", default: false } } });
  const started = performance.now();
  let result: CompileResult;
  try {
    result = await compileSolidity({ sourceDir: CONTRACTS_DIR, outDir: BUILD_DIR, force: values.force });
  } catch (e) {
    console.error(e instanceof CompileError ? e.message : e);
    process.exit(1);
  }
  for (const w of result.warnings) console.warn(w);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const [name, c] of Object.entries(result.contracts)) {
    console.warn(`${name}: ${(c.bytecode.length - 2) / 2} bytes of creation code`);
  }
  console.warn(`${result.cached ? "up to date" : "compiled"} (solc ${SOLC_VERSION}) in ${seconds} s -> ${BUILD_DIR}`);
}
