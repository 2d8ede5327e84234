// proto/ follows buf's layout and STANDARD lint rules (proto/buf.yaml): `buf lint` (the binary @bufbuild/buf ships in
// its npm package, offline) passes on the tree and fails on a copy that breaks a rule.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const BUF = join(ROOT, "node_modules/.bin/buf");
const scratch = mkdtempSync(join(tmpdir(), "rustchain-buf-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("proto/ under buf lint", () => {
  it("passes", () => {
    const out = execFileSync(BUF, ["lint"], { cwd: join(ROOT, "proto"), encoding: "utf8" });
    expect(out).toBe("");
  });

  it("fails a copy whose enum has no _UNSPECIFIED zero value", () => {
    cpSync(join(ROOT, "proto"), scratch, { recursive: true });
    const file = join(scratch, "rustchain/v1/chain.proto");
    writeFileSync(file, readFileSync(file, "utf8").replace("BLOCK_TAG_UNSPECIFIED = 0", "BLOCK_TAG_NONE = 0"));
    const r = spawnSync(BUF, ["lint"], { cwd: scratch, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('should be suffixed with "_UNSPECIFIED"');
  });
});
