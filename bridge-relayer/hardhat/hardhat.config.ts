// Minimal Hardhat 3 config for the bridge tests' `hardhat node`: the default in-process EDR network (chain id 31337,
// the well-known "test test ... junk" accounts funded). Hardhat compiles nothing here (the contracts are built with
// solc-js by src/contracts/compile.ts); its artifacts and cache go to the temp dir the test passes in
// BRIDGE_HARDHAT_DIR, so nothing is written under bridge-relayer/.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "hardhat/config";

const dir = process.env.BRIDGE_HARDHAT_DIR ?? join(tmpdir(), "rustchain-bridge-hardhat");

export default defineConfig({
  paths: { artifacts: join(dir, "artifacts"), cache: join(dir, "cache") },
});
