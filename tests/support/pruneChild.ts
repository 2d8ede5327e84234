// A state pruning run in its own process, for tests/statePruning.e2e.test.ts to SIGKILL at chosen points. Opens the
// chain of tests/support/pruningChain.ts in <dir>, runs the pruner once with the finalized block and history given,
// and prints one line per step: "ready", "marked", "batch <deleted so far>" (then waits a little, so a kill lands
// mid-sweep), "done <deleted>".
//   node --import tsx tests/support/pruneChild.ts <dir> <finalized> <history> <chunkNodes>
import { pino } from "pino";
import { openPruningChain } from "./pruningChain.ts";

const [dir, finalized, history, chunkNodes] = process.argv.slice(2);
const pc = await openPruningChain(dir as string, {
  pruner: { history: Number(history), chunkNodes: Number(chunkNodes) },
  finalized: BigInt(finalized as string),
  logger: pino({ level: "silent" }),
});
const say = (line: string) => process.stdout.write(`${line}\n`);
say("ready");
const run = await pc.pruner.runOnce({
  afterMark: async () => {
    say("marked");
  },
  afterSweepBatch: async (deleted) => {
    say(`batch ${deleted}`);
    await new Promise((r) => setTimeout(r, 5));
  },
});
say(`done ${run?.deletedNodes}`);
await pc.close();
