// `rustchain bridge`: the user's bridge CLI as a program of its own (bin/rustchain.js runs it for `rustchain bridge …`,
// so the validator's CLI never imports the relayer package).
import { Command } from "commander";
import { registerBridgeCommand } from "./bridgeCommand.ts";

const program = registerBridgeCommand(new Command("rustchain bridge"));
program.showHelpAfterError();
await program.parseAsync(process.argv);
