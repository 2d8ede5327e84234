// C contracts (contracts/examples/*.c, contracts/bridge/*.c) and C++ ones (contracts/cpp/examples/*.cpp, over the
// header-only contracts/cpp/rustchain.hpp): clang + wasm-ld (LLVM 14 or later) for wasm32 MVP with the one-header SDK
// contracts/sdk/rustchain.h. Selectors and topics are RC_SEL("sig", 0x…) / RC_TOPIC("sig", "\x…")
// constants, checked against keccak256; a contract's are those of its source and the local headers it includes
// (sdk/erc20_core.h…).
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { checkConstants, type SourceConstants, stripComments } from "./constants.ts";
import { ContractBuildError } from "./errors.ts";
import { readIfExists } from "./files.ts";
import type { ContractLanguage } from "./language.ts";
import { MAX_MEMORY_PAGES } from "./moduleCheck.ts";
import { CONTRACTS_DIR } from "./paths.ts";
import { memoizedProbe, programOutput, run } from "./toolchain.ts";

export const EXAMPLES_DIR = join(CONTRACTS_DIR, "examples");
export const BRIDGE_DIR = join(CONTRACTS_DIR, "bridge");
export const SDK_DIR = join(CONTRACTS_DIR, "sdk");
export const SDK_HEADER = join(SDK_DIR, "rustchain.h");
export const CPP_DIR = join(CONTRACTS_DIR, "cpp");
/** The stack every contract gets (C and Rust alike): placed first, so an overflow traps below address 0. */
export const STACK_BYTES = 16 * 1024;
/** One page: stack + data + a small heap; the allocators grow the memory on demand. */
export const INITIAL_MEMORY_BYTES = 64 * 1024;

// -Oz rather than -O2: deploying costs 280 gas per byte of module (stored and compiled), and -Oz halves the module (the
// ERC-20 is 6 KiB instead of 14 KiB, 2.2 M gas less to deploy) for a few per-cent more executed instructions, which
// cost a fraction of a gas each.
/** What C and C++ contracts share: wasm32 MVP, no libc, -Oz, warnings as errors, the linker's memory layout. */
const CLANG_COMMON_FLAGS: readonly string[] = [
  "--target=wasm32",
  "-mcpu=mvp", // no sign-ext, bulk-memory, SIMD…: the runtime accepts the MVP only
  "-nostdlib",
  "-ffreestanding",
  "-Oz",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-fvisibility=hidden",
  "-Wl,--no-entry",
  "-Wl,--strip-all",
  "-Wl,--stack-first", // a stack overflow runs below address 0 and traps instead of corrupting the data
  `-Wl,-z,stack-size=${STACK_BYTES}`,
  `-Wl,--initial-memory=${INITIAL_MEMORY_BYTES}`,
  `-Wl,--max-memory=${MAX_MEMORY_PAGES * 65536}`,
];

export const CLANG_FLAGS: readonly string[] = ["-std=c11", ...CLANG_COMMON_FLAGS];

/**
 * C++ (contracts/cpp/rustchain.hpp over the C SDK): C++17 without exceptions, RTTI or thread-safe statics (none of
 * which a contract can use: no unwinder, no libc++abi, one thread), compiled by the same clang driver as C.
 */
export const CLANGXX_FLAGS: readonly string[] = [
  "-x",
  "c++",
  "-std=c++17",
  "-fno-exceptions",
  "-fno-rtti",
  "-fno-threadsafe-statics",
  ...CLANG_COMMON_FLAGS,
];

const INSTALL_HINT = "install the Debian packages `clang` and `lld` (apt-get install clang lld), or set CLANG";

const findToolchain = memoizedProbe(async () => {
  const clang = process.env.CLANG ?? "clang";
  let version = await programOutput(clang, ["--version"], INSTALL_HINT);
  // clang looks for wasm-ld next to itself, then on the PATH; -print-prog-name shows where it would find it.
  const ld = (await run(clang, ["--target=wasm32", "-print-prog-name=wasm-ld"])).stdout.trim() || "wasm-ld";
  version += await programOutput(ld, ["--version"], `wasm-ld (the WebAssembly linker) is missing: ${INSTALL_HINT}`);
  return { clang, version };
});

/** C source without comments (strings and character literals kept), line continuations joined. */
export function stripCComments(src: string): string {
  return stripComments(src, "c").replace(/\\\r?\n/g, " ");
}

/** The RC_SEL / RC_TOPIC constants of a C source. */
export function parseConstants(source: string): SourceConstants {
  const src = stripCComments(source);
  const selectors: SourceConstants["selectors"] = [];
  const topics: SourceConstants["topics"] = [];
  for (const m of src.matchAll(/\bRC_SEL\s*\(((?:[^)"]|"(?:[^"\\]|\\.)*")*)\)/g)) {
    const args = /^\s*"([^"]+)"\s*,\s*0x([0-9a-fA-F]{8})\s*$/.exec(m[1]!);
    if (!args) {
      if (/^\s*signature\s*,\s*value\s*$/.test(m[1]!)) continue; // the macro definition itself
      throw new ContractBuildError(`RC_SEL(${m[1]}): expected RC_SEL("signature", 0x12345678)`);
    }
    selectors.push({ signature: args[1]!, value: `0x${args[2]!.toLowerCase()}` });
  }
  for (const m of src.matchAll(/\bRC_TOPIC\s*\(((?:[^)"]|"(?:[^"\\]|\\.)*")*)\)/g)) {
    const args = /^\s*"([^"]+)"\s*,((?:\s*"[^"]*")+)\s*$/.exec(m[1]!);
    if (!args) {
      if (/^\s*signature\s*,\s*bytes\s*$/.test(m[1]!)) continue;
      throw new ContractBuildError(`RC_TOPIC(${m[1]}): expected RC_TOPIC("signature", "\\xdd\\xf2…")`);
    }
    const body = [...args[2]!.matchAll(/"([^"]*)"/g)].map((s) => s[1]).join("");
    if (!/^(\\x[0-9a-fA-F]{2}){32}$/.test(body)) {
      throw new ContractBuildError(`RC_TOPIC("${args[1]}"): the topic must be 32 bytes written as \\xHH escapes`);
    }
    topics.push({ signature: args[1]!, value: `0x${body.replace(/\\x/g, "").toLowerCase()}` });
  }
  return { selectors, topics };
}

/**
 * The local headers a source includes with `#include "…"`, transitively, except the SDK header (stamped on its own):
 * their text is part of the stamp and their RC_SEL / RC_TOPIC constants part of the contract's. As clang does, a
 * quoted include is looked for beside the including file first, then in the include directories (-I).
 */
async function localHeaders(
  sourcePath: string,
  source: string,
  includeDirs: readonly string[],
): Promise<{ path: string; text: string }[]> {
  const found: { path: string; text: string }[] = [];
  const seen = new Set([resolve(sourcePath), resolve(SDK_HEADER)]);
  const visit = async (from: string, text: string): Promise<void> => {
    for (const m of stripCComments(text).matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) {
      let path: string | undefined;
      let included: Buffer | undefined;
      for (const candidate of [dirname(from), ...includeDirs].map((d) => resolve(d, m[1]!))) {
        included = seen.has(candidate) ? undefined : await readIfExists(candidate);
        if (seen.has(candidate) || included) {
          path = candidate;
          break;
        }
      }
      if (!path) throw new ContractBuildError(`${basename(from)}: #include "${m[1]}" not found`);
      if (!included) continue; // already stamped, or the SDK header
      seen.add(path);
      found.push({ path: relative(CONTRACTS_DIR, path), text: included.toString() });
      await visit(path, included.toString());
    }
  };
  await visit(sourcePath, source);
  return found;
}

/**
 * A language compiled by clang with the C SDK: C itself, and C++ over contracts/cpp/rustchain.hpp. `includeDirs`
 * (-I) let a contract outside this repository (a `rustchain contracts new` project) write `#include "rustchain.h"`.
 */
export function clangLanguage(spec: {
  id: string;
  extension: string;
  sourceDirs: readonly string[];
  flags: readonly string[];
  includeDirs: readonly string[];
}): ContractLanguage {
  const { id, extension, sourceDirs, includeDirs } = spec;
  const flags = [...spec.flags, ...includeDirs.map((d) => `-I${d}`)];
  return {
    id,
    extension,
    sourceDirs,
    async stampInputs(sourcePath) {
      const [header, source, { version }] = await Promise.all([
        readFile(SDK_HEADER, "utf8"),
        readFile(sourcePath, "utf8"),
        findToolchain(),
      ]);
      // The include directories by their place in the repository, so a stamp does not depend on the checkout's path.
      const stampedFlags = [...spec.flags, ...includeDirs.map((d) => `-I${relative(CONTRACTS_DIR, d)}`)];
      return [stampedFlags, version, header, source, await localHeaders(sourcePath, source, includeDirs)];
    },
    async constants(sourcePath) {
      const source = await readFile(sourcePath, "utf8");
      checkConstants("sdk/rustchain.h", parseConstants(await readFile(SDK_HEADER, "utf8")));
      const headers = await localHeaders(sourcePath, source, includeDirs);
      const constants = [source, ...headers.map((h) => h.text)].map(parseConstants);
      return { selectors: constants.flatMap((c) => c.selectors), topics: constants.flatMap((c) => c.topics) };
    },
    async compile({ name, sourcePath, scratch }) {
      const { clang } = await findToolchain();
      try {
        await run(clang, [...flags, "-o", scratch, sourcePath], { cwd: CONTRACTS_DIR });
        return new Uint8Array(await readFile(scratch));
      } catch (e) {
        const err = e as Error & { stderr?: string };
        const stderr = err.stderr?.trim() || err.message;
        if (/wasm-ld/.test(stderr) && /(not found|doesn't exist|No such file)/i.test(stderr)) {
          throw new ContractBuildError(`${name}: wasm-ld not found: ${INSTALL_HINT}\n${stderr}`);
        }
        throw new ContractBuildError(`${name}: clang failed\n${stderr}`);
      }
    },
  };
}

/** C contracts. */
export const cLanguage = clangLanguage({
  id: "c",
  extension: ".c",
  sourceDirs: [EXAMPLES_DIR, BRIDGE_DIR],
  flags: CLANG_FLAGS,
  includeDirs: [SDK_DIR],
});

export const CPP_EXAMPLES_DIR = join(CPP_DIR, "examples");

/** C++ contracts: contracts/cpp/examples/*.cpp. */
export const cppLanguage = clangLanguage({
  id: "cpp",
  extension: ".cpp",
  sourceDirs: [CPP_EXAMPLES_DIR],
  flags: CLANGXX_FLAGS,
  includeDirs: [CPP_DIR, SDK_DIR],
});
