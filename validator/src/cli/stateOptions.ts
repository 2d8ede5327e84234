// The state pruning flags of `rustchain node` and `rustchain devnet` (docs/node.md, "State pruning").
import { type Command, InvalidArgumentError, Option } from "commander";
import { defaultStatePrunerOptions, type StatePrunerOptions } from "../chain/statePruner.ts";

function blocks(value: string): number {
  const n = Number(value);
  if (!/^\d{1,9}$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a block count");
  return n;
}

export function addStateOptions(cmd: Command): Command {
  return cmd
    .option(
      "--state-history <blocks>",
      "finalized blocks whose state a full node keeps below the finalized one, for queries at an old block " +
        "(eth_call, eth_getBalance, eth_getProof...); older state is pruned",
      blocks,
      defaultStatePrunerOptions.history,
    )
    .addOption(
      new Option("--archive", "keep the state of every block: no pruning (much more disk)")
        .default(false)
        // Both at once say two different things: refuse rather than silently pick one.
        .conflicts("stateHistory"),
    );
}

export type StateFlags = { stateHistory: number; archive: boolean };

/** The pruning options of the node the flags ask for. */
export function pruningNodeOptions(o: StateFlags): Partial<StatePrunerOptions> {
  return { archive: o.archive, history: o.stateHistory };
}

/** The flags as `rustchain node` arguments (the devnet hands them on to its validators). */
export function stateArgs(o: StateFlags): string[] {
  return o.archive ? ["--archive"] : ["--state-history", String(o.stateHistory)];
}
