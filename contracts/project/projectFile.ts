// A contract project: a directory holding rustchain.json, its contract sources (with their <name>.abi.json) and
// test/**/*.test.ts. `rustchain contracts new` makes one (template.ts), `rustchain contracts build` builds it into
// <project>/build with this repository's build and SDKs (the project vendors nothing), `rustchain contracts test`
// builds it and runs its tests on an in-process chain (projectTests.ts).
//
// rustchain.json:
//   name       the project's name
//   language   "c", "cpp" or "rust": only that language's sources are built (absent: every language, by extension)
//   sources    a directory, or a list of them, relative to the project: where <name>.<ext> and <name>.abi.json are
//
// This repository's contracts/ is itself such a project (contracts/rustchain.json), so `npm run contracts:test`
// builds and tests it the same way.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { RustChainError } from "@rustchain/shared";
import { type BuildOptions, type BuiltContract, buildContracts, LANGUAGES, withSourceDirs } from "../build.ts";
import type { ContractLanguage } from "../buildtools/language.ts";

export const PROJECT_FILE = "rustchain.json";
/** Where a project's artefacts go, relative to it. */
export const PROJECT_BUILD_DIR = "build";
/** The project's tests, relative to it. */
export const PROJECT_TESTS = "test/**/*.test.ts";
/** A project's name, also its first contract's: a C, C++ and Rust identifier and a file name on every system. */
export const PROJECT_NAME = /^[a-z][a-z0-9_]*$/;
export const LANGUAGE_IDS: readonly string[] = LANGUAGES.map((l) => l.id);
/** rustchain.json is a few lines; anything this large is not one. */
export const MAX_PROJECT_FILE_BYTES = 64 * 1024;

export type ContractProjectErrorType =
  | { code: "PROJECT_FILE_MISSING"; path: string }
  | { code: "PROJECT_FILE_INVALID"; path: string; reason: string }
  | { code: "PROJECT_NAME_INVALID"; name: string }
  | { code: "PROJECT_LANGUAGE_UNKNOWN"; language: string }
  | { code: "PROJECT_DIR_NOT_EMPTY"; path: string };

export class ContractProjectError extends RustChainError<ContractProjectErrorType> {}

export interface ContractProject {
  /** The project directory (absolute). */
  dir: string;
  name: string;
  /** The language id, when the project has one. */
  language?: string;
  /** Source directories (absolute). */
  sourceDirs: string[];
  /** Where the build writes (absolute). */
  buildDir: string;
}

export function checkProjectName(name: string): void {
  if (!PROJECT_NAME.test(name)) {
    throw new ContractProjectError(
      { code: "PROJECT_NAME_INVALID", name },
      `invalid contract name "${name}": use a lower-case letter, then lower-case letters, digits or _ ([a-z][a-z0-9_]*)`,
    );
  }
}

export function languageById(id: string): ContractLanguage {
  const language = LANGUAGES.find((l) => l.id === id);
  if (!language) {
    throw new ContractProjectError(
      { code: "PROJECT_LANGUAGE_UNKNOWN", language: id },
      `unknown contract language "${id}": use one of ${LANGUAGE_IDS.join(", ")}`,
    );
  }
  return language;
}

/** Reads and checks <dir>/rustchain.json. */
export async function readProject(dir: string): Promise<ContractProject> {
  const root = resolve(dir);
  const path = join(root, PROJECT_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new ContractProjectError(
      { code: "PROJECT_FILE_MISSING", path },
      `${path} not found: not a contract project (make one with \`rustchain contracts new <name> --lang rust|c|cpp\`)`,
    );
  }
  const invalid = (reason: string) =>
    new ContractProjectError({ code: "PROJECT_FILE_INVALID", path, reason }, `${path}: ${reason}`);
  if (text.length > MAX_PROJECT_FILE_BYTES) throw invalid(`over ${MAX_PROJECT_FILE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid((e as Error).message);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalid("expected a JSON object");
  const { name, language, sources } = json as Record<string, unknown>;
  if (typeof name !== "string" || name.length === 0) throw invalid('"name" must be a non-empty string');
  if (language !== undefined && typeof language !== "string") throw invalid('"language" must be a string');
  if (language !== undefined) languageById(language);
  const dirs = typeof sources === "string" ? [sources] : sources;
  if (!Array.isArray(dirs) || dirs.length === 0 || !dirs.every((d) => typeof d === "string" && d.length > 0)) {
    throw invalid('"sources" must be a directory or a non-empty list of directories');
  }
  return {
    dir: root,
    name,
    language,
    sourceDirs: dirs.map((d: string) => resolve(root, d)),
    buildDir: join(root, PROJECT_BUILD_DIR),
  };
}

/** The languages of a project, each reading the project's source directories. */
export function projectLanguages(project: ContractProject): ContractLanguage[] {
  const languages = project.language ? [languageById(project.language)] : LANGUAGES;
  return languages.map((l) => withSourceDirs(l, project.sourceDirs));
}

/** Builds a project's contracts into <project>/build: <name>.json ({ abi, bytecode }), <name>.ts and the rest. */
export function buildProject(
  project: ContractProject,
  options: Pick<BuildOptions, "force" | "only"> = {},
): Promise<Record<string, BuiltContract>> {
  return buildContracts({ ...options, languages: projectLanguages(project), outDir: project.buildDir });
}
