// Builds the contracts of every language into deploy artefacts in contracts/build/ (gitignored):
//   C     contracts/examples/*.c, contracts/bridge/*.c  (buildtools/c.ts: clang + wasm-ld, sdk/rustchain.h)
//   C++   contracts/cpp/examples/*.cpp                  (buildtools/c.ts: the same clang, cpp/rustchain.hpp over the SDK)
//   Rust  contracts/rust/examples/*.rs                   (buildtools/rust.ts: Debian's rustc, the rustchain_sdk crate)
// Names are unique across all directories and languages; each source has its hand-written Ethereum JSON ABI
// <name>.abi.json beside it.
//
// For each contract:
//   <name>.module.wasm   the raw WebAssembly module (what the chain stores as code)
//   <name>.wasm          the deploy artefact: 0xEF 0x52 0x57 0x00 ‖ u32 BE module length ‖ module (docs/runtime.md)
//   <name>.abi.json      the ABI
//   <name>.json          { abi, bytecode: "0x<artefact>" } for viem's deployContract / ethers' ContractFactory
//   <name>.ts            `export const <camelName>Abi = [...] as const` and `<camelName>Bytecode`, so viem infers
//                        every call's types (contracts/build is outside the typecheck: import it after a build)
//
// Checks, so a broken contract fails here rather than at deploy:
//   - the selectors a source dispatches and the topics it emits equal keccak256 of their signatures and are exactly
//     the functions and events of its ABI (each language reads its own syntax: buildtools/<language>.ts);
//   - the module passes buildtools/moduleCheck.ts (host imports only, exports memory/call/deploy, MVP integer code).
//
// Fast and idempotent: a module is recompiled only when what its language says it depends on (source, headers or
// SDK, flags, compiler) changes (a stamp holds their hash), and outputs are rewritten only when their content changes.
//
// Adding a language: a ContractLanguage (buildtools/language.ts) in buildtools/<language>.ts, listed in LANGUAGES.
//
// Usage: npm run contracts:build [-- --force]

import { createHash } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Abi, bytesToHex, type Hex } from "viem";
import { ARTEFACT_MAGIC, splitDeployData, toArtefact } from "../validator/src/runtime/contractRuntime.ts";
import { BRIDGE_DIR, CLANG_FLAGS, cLanguage, cppLanguage, EXAMPLES_DIR, SDK_HEADER } from "./buildtools/c.ts";
import { checkConstants } from "./buildtools/constants.ts";
import { ContractBuildError } from "./buildtools/errors.ts";
import { readIfExists, tempPath, writeIfChanged } from "./buildtools/files.ts";
import type { ContractLanguage } from "./buildtools/language.ts";
import { checkModule, HOST_FUNCTIONS, MAX_MEMORY_PAGES, MAX_MODULE_BYTES } from "./buildtools/moduleCheck.ts";
import { BUILD_DIR, CONTRACTS_DIR } from "./buildtools/paths.ts";
import { RUST_DIR, rustLanguage } from "./buildtools/rust.ts";

export { parseConstants, stripCComments } from "./buildtools/c.ts";
export { checkConstants, type SourceConstants } from "./buildtools/constants.ts";
export type { ModuleInfo } from "./buildtools/moduleCheck.ts";
export {
  ARTEFACT_MAGIC,
  BRIDGE_DIR,
  BUILD_DIR,
  CLANG_FLAGS,
  CONTRACTS_DIR,
  ContractBuildError,
  checkModule,
  EXAMPLES_DIR,
  HOST_FUNCTIONS,
  MAX_MEMORY_PAGES,
  MAX_MODULE_BYTES,
  RUST_DIR,
  SDK_HEADER,
  splitDeployData,
  toArtefact,
};

/** The contract languages, in the order the build lists them. */
export const LANGUAGES: readonly ContractLanguage[] = [cLanguage, cppLanguage, rustLanguage];

/** The directories whose contracts the build compiles. */
export const SOURCE_DIRS: readonly string[] = LANGUAGES.flatMap((l) => l.sourceDirs);

export interface BuiltContract {
  abi: Abi;
  /** The deploy artefact as hex, ready for viem's `deployContract({ abi, bytecode, args })`. */
  bytecode: Hex;
  /** The raw WebAssembly module. */
  module: Uint8Array;
}

export interface BuildOptions {
  /** Recompile even when the stamps match. */
  force?: boolean;
  /** Only these contracts (names without extension). */
  only?: readonly string[];
  /**
   * The languages, each with the directories of its sources (default LANGUAGES: this repository's contracts; a
   * contract project's come from withSourceDirs).
   */
  languages?: readonly ContractLanguage[];
  /** Where the artefacts and stamps go (default contracts/build). */
  outDir?: string;
}

export interface CompileOptions {
  /** Output name (default: the source's base name). */
  name?: string;
  /** The contract's ABI: its selectors and topics are checked against the source, its constructor against `deploy`. */
  abi?: Abi;
  /** Where <name>.module.wasm and its stamp go (default contracts/build). */
  outDir?: string;
  force?: boolean;
  /** The languages to choose from by extension (default LANGUAGES). */
  languages?: readonly ContractLanguage[];
}

/** The same language reading its contracts from other directories (a contract project's sources). */
export function withSourceDirs(language: ContractLanguage, sourceDirs: readonly string[]): ContractLanguage {
  return { ...language, sourceDirs };
}

function languageOf(sourcePath: string, languages: readonly ContractLanguage[] = LANGUAGES): ContractLanguage {
  const language = languages.find((l) => sourcePath.endsWith(l.extension));
  if (!language) throw new ContractBuildError(`${sourcePath}: no contract language has this extension`);
  return language;
}

/**
 * Compiles one contract (its language chosen by its extension) to a checked WebAssembly module, cached by a stamp
 * of what the module depends on. Writes only <outDir>/<name>.module.wasm and its stamp; buildContracts adds the
 * artefacts.
 */
export async function compileContract(sourcePath: string, options: CompileOptions = {}): Promise<Uint8Array> {
  const language = languageOf(sourcePath, options.languages);
  const name = options.name ?? basename(sourcePath, language.extension);
  const outDir = options.outDir ?? BUILD_DIR;
  await mkdir(outDir, { recursive: true });
  checkConstants(`${name}${language.extension}`, await language.constants(sourcePath), options.abi);
  const stamp = createHash("sha256")
    .update(JSON.stringify([language.id, await language.stampInputs(sourcePath)]))
    .digest("hex");
  const modulePath = join(outDir, `${name}.module.wasm`);
  const stampPath = join(outDir, `${name}.stamp`);
  let module: Uint8Array | undefined;
  if (!options.force && (await readIfExists(stampPath))?.toString() === stamp) {
    const cached = await readIfExists(modulePath);
    if (cached) module = new Uint8Array(cached);
  }
  if (!module) {
    const scratch = tempPath(join(outDir, `.${name}.wasm`));
    try {
      module = await language.compile({ name, sourcePath, scratch });
    } finally {
      await rm(scratch, { force: true });
    }
    await writeIfChanged(modulePath, module);
    await writeIfChanged(stampPath, stamp);
  }
  const ctor = options.abi?.find((i) => i.type === "constructor");
  checkModule(name, module, (ctor?.inputs.length ?? 0) > 0);
  return module;
}

/** Names of the contracts of every language. */
export async function contractNames(languages: readonly ContractLanguage[] = LANGUAGES): Promise<string[]> {
  return [...(await contractSources(languages)).keys()].sort();
}

/** Each contract's name → its source file. */
async function contractSources(languages: readonly ContractLanguage[]): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const language of languages) {
    for (const dir of language.sourceDirs) {
      for (const f of (await readdir(dir)).filter((f) => f.endsWith(language.extension))) {
        const name = basename(f, language.extension);
        const other = sources.get(name);
        if (other) throw new ContractBuildError(`${name}: defined in both ${other} and ${join(dir, f)}`);
        sources.set(name, join(dir, f));
      }
    }
  }
  return sources;
}

/** `erc20_rs` → `erc20Rs`: the prefix of the names a contract's TypeScript module exports. */
export function tsIdentifier(name: string): string {
  const camel = name.replace(/[^A-Za-z0-9]+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase());
  return /^[0-9]/.test(camel) ? `_${camel}` : camel;
}

/** The TypeScript module of a contract: its ABI `as const` (so viem infers types) and its deploy bytecode. */
export function typescriptModule(name: string, abi: Abi, bytecode: Hex): string {
  const id = tsIdentifier(name);
  return [
    `// Generated by npm run contracts:build from the ${name} contract: do not edit.`,
    `export const ${id}Abi = ${JSON.stringify(abi, null, 2)} as const;`,
    "",
    `export const ${id}Bytecode: \`0x\${string}\` = "${bytecode}";`,
    "",
  ].join("\n");
}

/**
 * Compiles every contract of every language and writes its artefacts to contracts/build/ (or `outDir`).
 * Returns, by name, the ABI, the deploy artefact as hex (`bytecode`) and the raw module.
 */
export async function buildContracts(options: BuildOptions = {}): Promise<Record<string, BuiltContract>> {
  const languages = options.languages ?? LANGUAGES;
  const outDir = options.outDir ?? BUILD_DIR;
  const sources = await contractSources(languages);
  const names = [...sources.keys()].sort().filter((n) => !options.only || options.only.includes(n));
  const built = await Promise.all(
    names.map(async (name): Promise<[string, BuiltContract]> => {
      const sourcePath = sources.get(name)!;
      const abiPath = join(resolve(sourcePath, ".."), `${name}.abi.json`);
      const abiText = await readIfExists(abiPath);
      if (!abiText) throw new ContractBuildError(`${name}: missing ${relative(process.cwd(), abiPath)}`);
      let abi: Abi;
      try {
        abi = JSON.parse(abiText.toString()) as Abi;
      } catch (e) {
        throw new ContractBuildError(`${name}.abi.json: ${(e as Error).message}`);
      }
      const module = await compileContract(sourcePath, { abi, force: options.force, languages, outDir });
      const artefact = toArtefact(module);
      const bytecode = bytesToHex(artefact);
      await Promise.all([
        writeIfChanged(join(outDir, `${name}.wasm`), artefact),
        writeIfChanged(join(outDir, `${name}.abi.json`), `${JSON.stringify(abi, null, 2)}\n`),
        writeIfChanged(join(outDir, `${name}.json`), `${JSON.stringify({ abi, bytecode }, null, 2)}\n`),
        writeIfChanged(join(outDir, `${name}.ts`), typescriptModule(name, abi, bytecode)),
      ]);
      return [name, { abi, bytecode, module }];
    }),
  );
  return Object.fromEntries(built);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const start = performance.now();
  try {
    const built = await buildContracts({ force: process.argv.includes("--force") });
    const sources = await contractSources(LANGUAGES);
    const rows = [["contract", "language", "module bytes", "artefact bytes", "deploy", "imports"]];
    for (const [name, c] of Object.entries(built)) {
      const info = checkModule(name, c.module, false);
      rows.push([
        name,
        languageOf(sources.get(name)!).id,
        String(c.module.length),
        String(c.module.length + 8),
        info.exports.includes("deploy") ? "yes" : "no",
        String(info.imports.length),
      ]);
    }
    process.stdout.write(`${table(rows)}\n`);
    process.stdout.write(
      `built ${rows.length - 1} contracts into ${BUILD_DIR} in ${Math.round(performance.now() - start)} ms\n`,
    );
  } catch (e) {
    console.error(e instanceof ContractBuildError ? `contracts:build: ${e.message}` : e);
    process.exitCode = 1;
  }
}
