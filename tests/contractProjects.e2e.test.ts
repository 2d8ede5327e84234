// `rustchain contracts new|test` as a user runs them, in subprocesses: for each language a template project made in a
// temporary directory builds and passes its own tests on an in-process chain (issue 17's acceptance); a template
// whose test is broken makes `contracts test` fail; `new` refuses what it must. The projects have no node_modules,
// so this also proves a project needs nothing but this repository.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOURCE_DIRS } from "../contracts/build.ts";
import { readProject } from "../contracts/project/projectFile.ts";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "validator/src/cli/main.ts");
/** tsx's loader by path: the subprocesses run in a temporary directory, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

let parent: string;

interface Run {
  code: number;
  output: string;
}

/** `rustchain contracts <args>` in a subprocess, outside the repository, without this vitest's own variables. */
async function rustchainContracts(...args: string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")));
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", TSX, CLI, "contracts", ...args],
      { cwd: parent, env: { ...env, NO_COLOR: "1" }, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "rustchain-projects-"));
});

afterAll(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
});

describe("rustchain contracts new + test", () => {
  for (const lang of ["c", "cpp", "rust"]) {
    it(`a ${lang} template builds and passes its own tests`, async () => {
      const name = `counter_${lang}`;
      const created = await rustchainContracts("new", name, "--lang", lang, "--dir", parent);
      expect(created.output).toContain(`created ${name} (${lang})`);
      expect(created.code).toBe(0);
      const tested = await rustchainContracts("test", "--dir", join(parent, name));
      expect(tested.output).toMatch(/Tests\s+3 passed \(3\)/);
      expect(tested.code).toBe(0);
      const artefact = JSON.parse(await readFile(join(parent, name, "build", `${name}.json`), "utf8"));
      expect(artefact.bytecode).toMatch(/^0xef525700/);
    });
  }

  it("fails when a test of the project fails", async () => {
    const name = "broken";
    expect((await rustchainContracts("new", name, "--lang", "c", "--dir", parent)).code).toBe(0);
    const testFile = join(parent, name, "test", `${name}.test.ts`);
    const test = await readFile(testFile, "utf8");
    expect(test).toContain(".toBe(42n)");
    await writeFile(testFile, test.replace(".toBe(42n)", ".toBe(43n)"));
    const tested = await rustchainContracts("test", "--dir", join(parent, name));
    expect(tested.output).toMatch(/Tests\s+1 failed \| 2 passed \(3\)/);
    expect(tested.output).toContain("expected 42n to be 43n");
    expect(tested.code).toBe(1);
  });
});

describe("rustchain contracts new refuses", () => {
  it("a name that is not [a-z][a-z0-9_]*", async () => {
    for (const name of ["Counter", "1counter", "my-counter"]) {
      const run = await rustchainContracts("new", name, "--lang", "c", "--dir", parent);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`invalid contract name "${name}"`);
    }
  });

  it("an unknown language", async () => {
    const run = await rustchainContracts("new", "token", "--lang", "go", "--dir", parent);
    expect(run.code).toBe(1);
    expect(run.output).toContain('unknown contract language "go": use one of c, cpp, rust');
  });

  it("an existing directory that is not empty, and leaves it as it was", async () => {
    await mkdir(join(parent, "taken"));
    await writeFile(join(parent, "taken", "notes.txt"), "mine");
    const run = await rustchainContracts("new", "taken", "--lang", "rust", "--dir", parent);
    expect(run.code).toBe(1);
    expect(run.output).toContain("exists and is not empty");
    expect(await readFile(join(parent, "taken", "notes.txt"), "utf8")).toBe("mine");
  });

  it("a directory without rustchain.json, for build and test", async () => {
    const run = await rustchainContracts("build", "--dir", parent);
    expect(run.code).toBe(1);
    expect(run.output).toContain("not a contract project");
  });
});

describe("the repository's contracts as a project (npm run contracts:test)", () => {
  it("contracts/rustchain.json lists exactly the directories npm run contracts:build compiles", async () => {
    const project = await readProject(join(ROOT, "contracts"));
    expect([...project.sourceDirs].sort()).toEqual([...SOURCE_DIRS].sort());
    expect(project.language).toBeUndefined();
  });
});
