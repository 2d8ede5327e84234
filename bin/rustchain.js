#!/usr/bin/env node
// The `rustchain` command: `rustchain bridge …` runs the bridge CLI (bridge-relayer), `rustchain edge …` the edge's,
// everything else the validator's CLI. The packages stay apart (none imports another's CLI); this file only picks one,
// through tsx's loader.
import { register } from "tsx/esm/api";

register();
if (process.argv[2] === "edge") {
  // the edge CLI is the program "rustchain edge"
  process.argv.splice(2, 1);
  await import("../edge/src/node/cli.ts");
} else if (process.argv[2] === "bridge") {
  // the bridge CLI is the program "rustchain bridge": its subcommand comes first
  process.argv.splice(2, 1);
  await import("../bridge-relayer/src/cli/main.ts");
} else {
  await import("../validator/src/cli/main.ts");
}
