// Minimal Hardhat 3 config for `npm run bench:tps`: the default in-process EDR network served by `hardhat node`
// (chain id 31337, the well-known "test test ... junk" accounts funded). Artifacts and cache go to a temp dir the
// bench passes in BENCH_HARDHAT_DIR, so nothing is written under bench/.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "hardhat/config";

const dir = process.env.BENCH_HARDHAT_DIR ?? join(tmpdir(), "rustchain-bench-hardhat");

export default defineConfig({
  paths: { artifacts: join(dir, "artifacts"), cache: join(dir, "cache") },
});
