// `rustchain signer`: the remote signer service (validator/src/signer/, docs/operators.md "Remote signer"), and the
// `rustchain node` flags that make a validator sign through it instead of a local keystore.
import { resolve } from "node:path";
import { blsPublicKey, bytesToHex, describeError, hexToBytes } from "@rustchain/shared";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { loadValidatorKey } from "../keys/keystore.ts";
import { loadGenesisFile } from "../node/node.ts";
import { genesisValidatorsRoot } from "../signer/genesisRoot.ts";
import { defaultSignerListen } from "../signer/signerServer.ts";
import { startSignerService } from "../signer/signerService.ts";
import { checkUrl } from "./argParsers.ts";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError("expected host:port, e.g. 127.0.0.1:9100");
  return { host: m[1] || "127.0.0.1", port: Number(m[2]) };
}

/** Validates a host:port value and keeps it as written (parsed in the action). */
function checkListen(value: string): string {
  parseListen(value);
  return value;
}

function checkRoot(value: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError("expected 0x and 64 hex digits");
  return value.toLowerCase();
}

function checkPubkey(value: string): string {
  if (!/^0x[0-9a-fA-F]{96}$/.test(value)) throw new InvalidArgumentError("expected a 48-byte BLS public key, 0x-hex");
  return value.toLowerCase();
}

/** The flags of `rustchain node` for signing through a remote signer. */
export function addRemoteSignerOptions(cmd: Command): Command {
  return cmd
    .option("--remote-signer <url>", "sign through this remote signer (rustchain signer) instead of --key", checkUrl)
    .option("--remote-signer-token-file <file>", "the remote signer's bearer token (its <datadir>/signer-token)")
    .option("--validator-pubkey <0x…>", "this validator's BLS public key, held by the remote signer", checkPubkey);
}

/**
 * The node's `remoteSigner` option from those flags, or undefined without --remote-signer. Throws an Error with a
 * message for the CLI when the flags are incomplete or conflict with --key or --byzantine.
 */
export function remoteSignerNodeOptions(o: {
  remoteSigner?: string;
  remoteSignerTokenFile?: string;
  validatorPubkey?: string;
  key?: string;
  byzantine?: unknown;
}): { url: string; tokenFile: string; publicKey: Uint8Array } | undefined {
  if (!o.remoteSigner) {
    if (o.remoteSignerTokenFile || o.validatorPubkey) {
      throw new Error("--remote-signer-token-file and --validator-pubkey need --remote-signer");
    }
    return undefined;
  }
  if (o.key) throw new Error("--remote-signer and --key exclude each other (the key lives in the signer)");
  if (o.byzantine) throw new Error("--byzantine needs a local --key, not a remote signer");
  if (!o.remoteSignerTokenFile || !o.validatorPubkey) {
    throw new Error("--remote-signer needs --remote-signer-token-file and --validator-pubkey");
  }
  return { url: o.remoteSigner, tokenFile: resolve(o.remoteSignerTokenFile), publicKey: hexToBytes(o.validatorPubkey) };
}

export function registerSignerCommand(program: Command): void {
  program
    .command("signer")
    .description(
      "run a remote signer (EIP-3030 style): holds BLS keys and their slashing protection, signs for nodes started " +
        "with --remote-signer, refuses slashable requests (HTTP 412)",
    )
    .requiredOption("--datadir <dir>", "signer data directory (slashing-protection database, signer-token)")
    .requiredOption("--key <keystore>", "EIP-2335 keystore of a validator key (repeat for several keys)", collect)
    .requiredOption("--password-file <file>", "file holding the keystores' password")
    .option("--genesis <file>", "the chain's genesis JSON (binds the slashing protection to the chain)")
    .option(
      "--genesis-validators-root <0x…>",
      'the chain\'s genesis block hash, instead of --genesis (the node logs it: "Wrote genesis")',
      checkRoot,
    )
    .option(
      "--listen <host:port>",
      "listen address (keep it on loopback or a private network)",
      checkListen,
      `${defaultSignerListen.host}:${defaultSignerListen.port}`,
    )
    .option("--log-level <level>", "trace, debug, info, warn, error", "info")
    .addHelpText(
      "after",
      "\nThe bearer token is written to <datadir>/signer-token (mode 0600) on first start; give it to the node with\n" +
        "--remote-signer-token-file. Never run two signers (or a signer and a node with --key) for one key.",
    )
    .action(async (o) => {
      if (Boolean(o.genesis) === Boolean(o.genesisValidatorsRoot)) {
        program.error("error: give exactly one of --genesis and --genesis-validators-root");
      }
      const listen = parseListen(o.listen);
      const logger = pino({ level: o.logLevel, timestamp: pino.stdTimeFunctions.isoTime });
      try {
        const root: Uint8Array = o.genesis
          ? await genesisValidatorsRoot(await loadGenesisFile(o.genesis))
          : hexToBytes(o.genesisValidatorsRoot);
        const secretKeys: Uint8Array[] = [];
        for (const path of o.key as string[]) secretKeys.push((await loadValidatorKey(path, o.passwordFile)).secretKey);
        const service = await startSignerService(
          {
            datadir: resolve(o.datadir),
            secretKeys,
            genesisValidatorsRoot: root,
            host: listen.host,
            port: listen.port,
          },
          logger,
        );
        logger.info(
          {
            genesisValidatorsRoot: bytesToHex(root),
            publicKeys: secretKeys.map((sk) => bytesToHex(blsPublicKey(sk))),
          },
          "Remote signer ready",
        );
        await new Promise<void>((done) => {
          let stopping = false;
          const stop = () => {
            if (stopping) return;
            stopping = true;
            void service.close().then(done);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
        logger.info("Remote signer stopped");
      } catch (e) {
        program.error(`error: ${describeError(e)}`);
      }
    });
}
