// rustchain.json and project names: what readProject accepts, and the typed error each bad input gets.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractProjectError, checkProjectName, projectLanguages, readProject } from "./projectFile.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rustchain-project-file-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function projectWith(text: string) {
  await writeFile(join(dir, "rustchain.json"), text);
  return readProject(dir);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ContractProjectError);
    return (e as ContractProjectError).type.code;
  }
}

describe("readProject", () => {
  it("resolves the source directories and the build directory against the project", async () => {
    const project = await projectWith(JSON.stringify({ name: "counter", language: "rust", sources: "src" }));
    expect(project).toEqual({
      dir,
      name: "counter",
      language: "rust",
      sourceDirs: [join(dir, "src")],
      buildDir: join(dir, "build"),
    });
    expect(projectLanguages(project).map((l) => [l.id, l.sourceDirs])).toEqual([["rust", [join(dir, "src")]]]);
  });

  it("builds every language from a list of directories when no language is named", async () => {
    const project = await projectWith(JSON.stringify({ name: "mixed", sources: ["a", "b"] }));
    expect(projectLanguages(project).map((l) => l.id)).toEqual(["c", "cpp", "rust"]);
    for (const l of projectLanguages(project)) expect(l.sourceDirs).toEqual([join(dir, "a"), join(dir, "b")]);
  });

  it("PROJECT_FILE_MISSING without rustchain.json", async () => {
    expect(await codeOf(readProject(join(dir, "nowhere")))).toBe("PROJECT_FILE_MISSING");
  });

  it.each([
    ["not JSON", "{"],
    ["over 64 KiB", JSON.stringify({ name: "x", sources: "src", padding: "x".repeat(65536) })],
    ["not an object", "[]"],
    ["no name", JSON.stringify({ sources: "src" })],
    ["no sources", JSON.stringify({ name: "x" })],
    ["empty sources", JSON.stringify({ name: "x", sources: [] })],
    ["a source that is not a string", JSON.stringify({ name: "x", sources: ["src", 3] })],
    ["a language that is not a string", JSON.stringify({ name: "x", language: 1, sources: "src" })],
  ])("PROJECT_FILE_INVALID for %s", async (_, text) => {
    expect(await codeOf(projectWith(text))).toBe("PROJECT_FILE_INVALID");
  });

  it("PROJECT_LANGUAGE_UNKNOWN for a language the build does not have", async () => {
    expect(await codeOf(projectWith(JSON.stringify({ name: "x", language: "go", sources: "src" })))).toBe(
      "PROJECT_LANGUAGE_UNKNOWN",
    );
  });
});

describe("checkProjectName", () => {
  it("accepts [a-z][a-z0-9_]* and refuses anything else", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (name) => {
        const valid = /^[a-z][a-z0-9_]*$/.test(name);
        let refused = false;
        try {
          checkProjectName(name);
        } catch (e) {
          refused = e instanceof ContractProjectError && e.type.code === "PROJECT_NAME_INVALID";
        }
        return refused === !valid;
      }),
    );
    for (const name of ["a", "counter", "my_token2"]) expect(() => checkProjectName(name)).not.toThrow();
    for (const name of ["", "Counter", "1x", "_x", "my-token", "a b", "../x"]) {
      expect(() => checkProjectName(name)).toThrow(ContractProjectError);
    }
  });
});
