// `rustchain keys ...`: create, import and inspect encrypted validator BLS keystores (EIP-2335).
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { blsKeypairFromSeed, blsProofOfPossession, blsPublicKey } from "@rustchain/shared/bls";
import { bytesToHex } from "@rustchain/shared/hex";
import { type Command, Option } from "commander";
import {
  encryptBlsKey,
  KeystoreError,
  keystorePublicKey,
  parseKeystore,
  readKeystoreFile,
  readPasswordFile,
  readSecretKeyFile,
  writeKeystoreFile,
} from "../keys/keystore.ts";

type Kdf = "scrypt" | "pbkdf2";

interface WriteOptions {
  keystore: string;
  passwordFile: string;
  kdf: Kdf;
}

const KEYSTORE_HELP = "path of the EIP-2335 keystore file to write; must not exist (written with mode 0600)";
const PASSWORD_HELP = "file holding the keystore password (one trailing newline is ignored)";

/**
 * Encrypt and write the keystore, wipe the secret from memory, print one JSON line: the public key and its proof of
 * possession (the two fields a genesis validator entry needs besides stake and fee recipient).
 */
async function saveKeystore(opts: WriteOptions, password: string, secretKey: Uint8Array, publicKey: Uint8Array) {
  let proofOfPossession: Uint8Array;
  try {
    proofOfPossession = blsProofOfPossession(secretKey);
    await writeKeystoreFile(opts.keystore, await encryptBlsKey(secretKey, password, { kdf: opts.kdf }));
  } finally {
    secretKey.fill(0);
  }
  console.log(
    JSON.stringify({
      publicKey: bytesToHex(publicKey),
      proofOfPossession: bytesToHex(proofOfPossession),
      keystore: opts.keystore,
    }),
  );
}

export function registerKeysCommand(program: Command): void {
  const keys = program
    .command("keys")
    .description("manage encrypted validator BLS keys (EIP-2335 keystores)")
    .addHelpText(
      "after",
      "\nSecret keys are only ever written encrypted. Keep the password file readable by the validator user only.",
    );

  const kdfOption = () =>
    new Option("--kdf <function>", "key derivation function used to encrypt the keystore")
      .choices(["scrypt", "pbkdf2"])
      .default("scrypt");

  keys
    .command("create")
    .description("generate a new random BLS validator key and save it as an encrypted keystore")
    .requiredOption("--keystore <file>", KEYSTORE_HELP)
    .requiredOption("--password-file <file>", PASSWORD_HELP)
    .addOption(kdfOption())
    .addHelpText(
      "after",
      "\nPrints one JSON line with the new public key and its proof of possession (both go into the genesis\n" +
        "validator entry), e.g.\n" +
        '  {"publicKey":"0x…","proofOfPossession":"0x…","keystore":"validator.json"}\n\nExample:\n' +
        "  $ rustchain keys create --keystore validator.json --password-file password.txt",
    )
    .action(async (opts: WriteOptions, cmd: Command) => {
      await reportErrors(cmd, async () => {
        await refuseExisting(opts.keystore); // before the deliberately slow KDF
        const password = await readPasswordFile(opts.passwordFile);
        const { secretKey, publicKey } = blsKeypairFromSeed(randomBytes(32));
        await saveKeystore(opts, password, secretKey, publicKey);
      });
    });

  keys
    .command("import")
    .description("encrypt an existing BLS secret key into a keystore")
    .requiredOption("--secret-key-file <file>", "file containing the secret key as 0x-prefixed hex (32 bytes)")
    .requiredOption("--keystore <file>", KEYSTORE_HELP)
    .requiredOption("--password-file <file>", PASSWORD_HELP)
    .addOption(kdfOption())
    .addHelpText(
      "after",
      "\nPrints one JSON line with the public key and its proof of possession. Delete the plaintext secret key file once the keystore is backed up." +
        "\n\nExample:\n  $ rustchain keys import --secret-key-file sk.hex --keystore validator.json --password-file password.txt",
    )
    .action(async (opts: WriteOptions & { secretKeyFile: string }, cmd: Command) => {
      await reportErrors(cmd, async () => {
        await refuseExisting(opts.keystore);
        const secretKey = await readSecretKeyFile(opts.secretKeyFile);
        const password = await readPasswordFile(opts.passwordFile);
        await saveKeystore(opts, password, secretKey, blsPublicKey(secretKey));
      });
    });

  keys
    .command("show")
    .description("print a keystore's public key (no password needed)")
    .requiredOption("--keystore <file>", "path of the EIP-2335 keystore file")
    .addHelpText(
      "after",
      "\nPrints one JSON line, e.g.\n" +
        '  {"publicKey":"0x…","keystore":"validator.json","uuid":"…","derivationPath":""}\n\n' +
        "The public key is read from the keystore as written; decrypting (the validator does) verifies it.",
    )
    .action(async (opts: { keystore: string }, cmd: Command) => {
      await reportErrors(cmd, async () => {
        const json = await readKeystoreFile(opts.keystore);
        let publicKey: Uint8Array;
        let keystore: ReturnType<typeof parseKeystore>;
        try {
          keystore = parseKeystore(json);
          publicKey = keystorePublicKey(keystore);
        } catch (err) {
          throw err instanceof KeystoreError && err.type.code === "KEYSTORE_INVALID"
            ? new KeystoreError({ ...err.type, path: opts.keystore })
            : err;
        }
        console.log(
          JSON.stringify({
            publicKey: bytesToHex(publicKey),
            keystore: opts.keystore,
            uuid: keystore.uuid,
            derivationPath: keystore.path,
          }),
        );
      });
    });
}

async function refuseExisting(path: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    return; // missing (or unreadable; writeKeystoreFile reports that)
  }
  throw new KeystoreError({ code: "KEYSTORE_EXISTS", path });
}

/** One line on stderr and exit code 1 (a CommanderError instead when the program uses exitOverride). */
async function reportErrors(cmd: Command, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof KeystoreError ? err.type.code : "rustchain.keys";
    cmd.error(`error: ${message.split("\n")[0]}`, { exitCode: 1, code });
  }
}
