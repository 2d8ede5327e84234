// Runs a contract project's tests (test/**/*.test.ts) with vitest's Node API and its usual reporter, as
// `rustchain contracts test` does after the build. The project needs no node_modules: vitest comes from this
// repository, `rustchain/testing` is validator/src/testing/contractTesting.ts, and any other bare import (viem,
// vitest) that the project cannot resolve itself is resolved from this repository's root.
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { BUILD_DIR_ENV } from "../../validator/src/testing/testChainEnv.ts";
import { ContractBuildError } from "../buildtools/errors.ts";
import { CONTRACTS_DIR } from "../buildtools/paths.ts";
import type { ContractProject } from "./projectFile.ts";
import { PROJECT_TESTS } from "./projectFile.ts";

const REPO_ROOT = resolve(CONTRACTS_DIR, "..");
/** What a project's tests import as `rustchain/testing`. */
export const TESTING_MODULE = fileURLToPath(new URL("../../validator/src/testing/contractTesting.ts", import.meta.url));

const isBareImport = (id: string) => !/^[./\\\0]/.test(id) && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(id);

/** Bare imports the project cannot resolve are resolved as if imported from this repository's root. */
function resolveFromRepository(): Plugin {
  const anchor = join(REPO_ROOT, "package.json");
  return {
    name: "rustchain:resolve-from-repository",
    enforce: "pre",
    async resolveId(id, importer, options) {
      if (!importer || importer === anchor || !isBareImport(id)) return null;
      const own = await this.resolve(id, importer, { ...options, skipSelf: true });
      return own ?? this.resolve(id, anchor, { ...options, skipSelf: true });
    },
  };
}

export interface ProjectTestOptions {
  /** Only test files whose path contains one of these (vitest's filters). */
  filters?: string[];
}

/** Runs the project's tests; resolves to whether they all passed (no test files counts as a failure). */
export async function runProjectTests(project: ContractProject, options: ProjectTestOptions = {}): Promise<boolean> {
  let startVitest: typeof import("vitest/node").startVitest;
  try {
    ({ startVitest } = await import("vitest/node"));
  } catch (e) {
    throw new ContractBuildError(
      `\`rustchain contracts test\` runs from a RustChain source checkout, which has vitest (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  const vitest = await startVitest(
    "test",
    options.filters ?? [],
    {
      root: project.dir,
      config: false,
      run: true,
      watch: false,
      include: [PROJECT_TESTS],
      // A chain per file starts in a second or two; a test's transactions wait for blocks.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      env: { [BUILD_DIR_ENV]: project.buildDir },
    },
    {
      // vite and vitest's caches live with the build output, not in a node_modules the project does not have.
      cacheDir: join(project.buildDir, ".vite"),
      resolve: { alias: { "rustchain/testing": TESTING_MODULE } },
      plugins: [resolveFromRepository()],
    },
  );
  const failed =
    (process.exitCode ?? 0) !== 0 ||
    vitest.state.getCountOfFailedTests() > 0 ||
    vitest.state.getFiles().length === 0 ||
    vitest.state.getUnhandledErrors().length > 0;
  process.exitCode = exitCodeBefore;
  return !failed;
}
