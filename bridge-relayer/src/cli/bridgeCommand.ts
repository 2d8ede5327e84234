// `rustchain bridge …`: the user's side of the bridge (docs/bridge.md). deposit and withdraw send a transfer; status
// says where one stands; redeem completes one without the relayer; refund returns one that cannot complete. Every
// subcommand reads the deployment file, prints for people or (--json) one JSON document, and exits 0 on success or 1
// with `error: …`.
import { describeError } from "@rustchain/shared";
import { type Command, InvalidArgumentError } from "commander";
import { BridgeCliError, cliError } from "./bridgeCliError.ts";
import { addCommonOptions, CliContext, type CommonOptions } from "./cliContext.ts";
import { runRedeem } from "./redeemCommand.ts";
import { type RedeemVaaOptions, runRedeemVaa } from "./redeemVaaCommand.ts";
import { runRefund } from "./refundCommand.ts";
import { runStatus } from "./statusCommand.ts";
import { type Direction, runTransfer, type TransferOptions } from "./transferCommand.ts";

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 7 * 24 * 3600)
    throw new InvalidArgumentError("expected whole seconds, 1..604800");
  return n;
}

/** Runs a subcommand: its context, then the work; a refusal is printed as `error: …` and exits 1. */
function action<A extends unknown[]>(
  run: (ctx: CliContext, ...args: A) => Promise<unknown>,
): (...args: [...A, CommonOptions & Record<string, unknown>, Command]) => Promise<void> {
  return async (...all) => {
    const cmd = all.at(-1) as Command;
    const opts = cmd.opts() as CommonOptions;
    try {
      const ctx = await CliContext.open(opts);
      await run(ctx, ...(all.slice(0, -2) as A));
    } catch (e) {
      const message = describeError(e);
      if (opts.json) {
        const code =
          e instanceof BridgeCliError ? e.type.code : ((e as { type?: { code?: string } }).type?.code ?? null);
        const bridgeCode =
          e instanceof BridgeCliError && (e.type.code === "REVERTED" || e.type.code === "INVALID_VAA")
            ? (e.type.bridgeCode ?? null)
            : null;
        process.stdout.write(`${JSON.stringify({ error: message, code, bridgeCode })}\n`);
      }
      process.stderr.write(`error: ${message}\n`);
      process.exitCode = 1;
    }
  };
}

function transferCommand(program: Command, direction: Direction): void {
  const deposit = direction === "deposit";
  addCommonOptions(
    program
      .command(direction)
      .description(
        deposit
          ? "send ETH or an Ethereum token from Ethereum to RustChain"
          : "send RTC or a bridged token from RustChain to Ethereum",
      )
      .requiredOption(
        "--token <token>",
        deposit ? "ETH, a symbol from the deployment, or a 0x token address" : "RTC, a symbol, or a 0x token address",
      )
      .requiredOption("--amount <decimal>", "how much, in the token's units (e.g. 1.5)")
      .option("--to <address>", "recipient on the other chain (default: your own address)")
      .option("--fee <decimal>", "fee for whoever completes it (the relayer), in the token's units", undefined)
      .option("--wait", "follow the transfer until it is completed or refunded")
      .option("--timeout <seconds>", "how long --wait waits", seconds, 900),
  ).action(action((ctx) => runTransfer(ctx, direction, ctx.options as CommonOptions & TransferOptions)));
}

export function registerBridgeCommand(program: Command): Command {
  program.description("move ETH, ERC-20s and RTC between Ethereum and RustChain (docs/bridge.md)");
  transferCommand(program, "deposit");
  transferCommand(program, "withdraw");
  addCommonOptions(
    program
      .command("status")
      .description("where a transfer stands: from the relayer's status API, else from the chains")
      .argument(
        "<query>",
        "source tx hash, message digest, Wormhole <chain>/<emitter>/<sequence>, or (with a relayer) an address",
      ),
  ).action(action((ctx, query: string) => runStatus(ctx, query)));
  addCommonOptions(
    program
      .command("redeem")
      .description("complete a transfer yourself, without the relayer (you pay the destination gas, get the fee)")
      .argument("[hash]", "the source transaction hash or the message digest (committee bridge)")
      .option("--vaa <hex|base64>", "a Wormhole VAA of a transfer to RustChain: redeem it on the Wormhole gateway")
      .option("--wormhole <chain/emitter/sequence>", "fetch that Wormhole VAA from a guardian API and redeem it")
      .option("--guardian-api <url>", "guardian API for --wormhole (default: deployment.wormhole.guardianApiUrl)")
      .option("--wait", "if the governor queues it, wait for its release time and release it")
      .option("--timeout <seconds>", "how long to wait for the committee's signatures", seconds, 300),
  ).action(
    action((ctx, hash: string | undefined) => {
      const o = ctx.options as CommonOptions & RedeemVaaOptions & { timeout: number };
      const given = [hash, o.vaa, o.wormhole].filter((x) => x !== undefined).length;
      if (given !== 1)
        throw cliError(
          { code: "BAD_ARGUMENT", reason: "redeem" },
          "give exactly one of <hash> (committee bridge), --vaa <hex|base64> or --wormhole <chain/emitter/sequence>",
        );
      return hash !== undefined ? runRedeem(ctx, hash, o) : runRedeemVaa(ctx, o);
    }),
  );
  addCommonOptions(
    program
      .command("refund")
      .description("return a transfer that cannot complete (its asset is paused on the destination) to its sender")
      .argument("<hash>", "the source transaction hash or the message digest")
      .option("--timeout <seconds>", "how long to wait for each committee signature quorum", seconds, 300),
  ).action(action((ctx, hash: string) => runRefund(ctx, hash, ctx.options as CommonOptions & { timeout: number })));
  return program;
}
