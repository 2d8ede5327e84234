// `rustchain-relayer`: the bridge relayer service (docs/bridge.md, "The relayer").
import { Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { loadDeployment } from "./deployment.ts";
import { defaultRelayerOptions, startRelayer } from "./relayer.ts";
import { loadRelayerAccount } from "./relayerKey.ts";
import { createStatusApp, listenStatus } from "./statusApi.ts";

function hostPort(value: string): { host: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError("expected host:port");
  return { host: m[1] as string, port: Number(m[2]) };
}

const program = new Command()
  .name("rustchain-relayer")
  .description(
    "relay RustChain ⇄ Ethereum bridge transfers and Wormhole transfers to RustChain (deployment.wormhole), and serve their status",
  )
  .requiredOption("--deployment <file>", "bridge deployment file (npm run devnet:bridge writes one)")
  .requiredOption("--keystore <file>", "the relayer account's Web3 Secret Storage v3 keystore (pays destination gas)")
  .requiredOption("--password-file <file>", "file holding the keystore password")
  .option("--redis-url <url>", "Redis holding the relayer's state", "redis://127.0.0.1:6379")
  .option("--listen <host:port>", "status API and page", hostPort, { host: "127.0.0.1", port: 8790 })
  .option("--consumer <name>", "this process's name in the Redis consumer group", defaultRelayerOptions.consumer)
  .option("--poll-ms <ms>", "how often to look at both chains", (v) => Number(v), defaultRelayerOptions.pollMs)
  .option("--log-level <level>", "trace, debug, info, warn, error", "info")
  .action(async (o) => {
    const logger = pino({ level: o.logLevel, base: { name: "relayer" } });
    const deployment = await loadDeployment(o.deployment);
    const account = await loadRelayerAccount(o.keystore, o.passwordFile);
    const relayer = await startRelayer(
      { ...defaultRelayerOptions, redisUrl: o.redisUrl, consumer: o.consumer, pollMs: o.pollMs },
      { deployment, accounts: { ethereum: account, rustchain: account }, logger },
    );
    const status = await listenStatus(createStatusApp(relayer), o.listen.host, o.listen.port);
    logger.info({ url: status.url, account: account.address }, "Relayer status API listening");
    const stop = async () => {
      logger.info("Stopping");
      await status.close();
      await relayer.stop();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

await program.parseAsync().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
