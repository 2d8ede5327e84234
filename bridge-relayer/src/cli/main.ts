// `rustchain bridge`: the bridge CLI as a program of its own (bin/rustchain.js runs it for `rustchain bridge …`, so the
// validator's CLI never imports the relayer package): the user's commands and the committee operators' governance.
import { Command } from "commander";
import { registerBridgeCommand } from "./bridgeCommand.ts";
import { registerGovernanceCommand } from "./governanceCommand.ts";

const program = registerBridgeCommand(new Command("rustchain bridge"));
registerGovernanceCommand(program);
program.showHelpAfterError();
await program.parseAsync(process.argv);
