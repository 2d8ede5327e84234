// `rustchain contracts new|build|test`: contract projects (contracts/README.md, "Projects"). The work is in
// contracts/project/ (the template, rustchain.json, the vitest run) and contracts/build.ts (the build every language
// shares); this file only parses flags and prints.
import { relative } from "node:path";
import { describeError } from "@rustchain/shared";
import type { Command } from "commander";

/** The build, loaded on use: `rustchain node` should not load the compilers' tooling. */
const loadProject = () => import("../../../contracts/project/projectFile.ts");

/** A path as the user would type it from here: relative below the current directory, absolute elsewhere. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}

async function buildAndReport(dir: string, force: boolean) {
  const { buildProject, readProject } = await loadProject();
  const project = await readProject(dir);
  const start = performance.now();
  const built = await buildProject(project, { force });
  const names = Object.keys(built);
  for (const name of names) {
    const c = built[name]!;
    console.log(`  ${name}: module ${c.module.length} bytes → ${shown(project.buildDir)}/${name}.json, ${name}.ts`);
  }
  console.log(`built ${names.length} contract(s) of ${project.name} in ${Math.round(performance.now() - start)} ms`);
  return project;
}

/** An action whose errors (a bad name, a build that fails) print as `error: …` and exit with 1. */
function guarded<A extends unknown[]>(run: (...args: A) => Promise<void>) {
  return async function (this: Command, ...args: A): Promise<void> {
    try {
      await run(...args);
    } catch (e) {
      this.error(`error: ${describeError(e)}`);
    }
  };
}

export function registerContractsCommand(program: Command): void {
  const contracts = program
    .command("contracts")
    .description("contract projects: create one from a template, build it, test it on an in-process chain");

  contracts
    .command("new <name>")
    .description("create <dir>/<name>/: a counter contract in the language, its ABI, a viem test, rustchain.json")
    .requiredOption("--lang <language>", "rust, c or cpp")
    .option("--dir <parent>", "where to create the project directory", ".")
    .action(
      guarded(async (name: string, o: { lang: string; dir: string }) => {
        const { createProject } = await import("../../../contracts/project/template.ts");
        const dir = await createProject(o.dir, name, o.lang);
        console.log(`created ${shown(dir)} (${o.lang}); then:\n  cd ${shown(dir)}\n  rustchain contracts test`);
      }),
    );

  contracts
    .command("build")
    .description("compile a project's contracts into <dir>/build/<name>.json ({ abi, bytecode }) and <name>.ts")
    .option("--dir <project>", "the project directory (holding rustchain.json)", ".")
    .option("--force", "recompile even when nothing changed", false)
    .action(
      guarded(async (o: { dir: string; force: boolean }) => {
        await buildAndReport(o.dir, o.force);
      }),
    );

  contracts
    .command("test [filters...]")
    .description("build a project, then run its test/**/*.test.ts with vitest against an in-process chain")
    .option("--dir <project>", "the project directory (holding rustchain.json)", ".")
    .action(
      guarded(async (filters: string[], o: { dir: string }) => {
        const project = await buildAndReport(o.dir, false);
        const { runProjectTests } = await import("../../../contracts/project/projectTests.ts");
        const passed = await runProjectTests(project, { filters });
        // vitest may leave handles open (a test that forgot to stop its chain): the result decides the exit.
        process.exit(passed ? 0 : 1);
      }),
    );
}
