import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, blsProofOfPossession, blsVerifyProofOfPossession } from "@rustchain/shared/bls";
import { bytesToHex, hexToBytes } from "@rustchain/shared/hex";
import { Command, CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerKeysCommand } from "../cli/keysCommand.ts";
import {
  decryptBlsKey,
  encryptBlsKey,
  KeystoreError,
  type KeystoreErrorType,
  type KeystoreJson,
  keystorePublicKey,
  loadValidatorKey,
  MAX_KEY_FILE_BYTES,
  readKeystoreFile,
  readPasswordFile,
  writeKeystoreFile,
} from "./keystore.ts";

const PASSWORD = "correct horse battery staple";
const alice = blsKeypairFromSeed(new Uint8Array(32).fill(1));
const bob = blsKeypairFromSeed(new Uint8Array(32).fill(2));

let dir: string;
let aliceKeystore: KeystoreJson; // pbkdf2, shared by the tests that only read it

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rustchain-keystore-"));
  aliceKeystore = await encryptBlsKey(alice.secretKey, PASSWORD, { kdf: "pbkdf2" });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectKeystoreError(promise: Promise<unknown>, code: KeystoreErrorType["code"]): Promise<KeystoreError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeystoreError);
  expect((err as KeystoreError).type.code).toBe(code);
  return err as KeystoreError;
}

const clone = (ks: KeystoreJson): KeystoreJson => JSON.parse(JSON.stringify(ks)) as KeystoreJson;

describe("encryptBlsKey / decryptBlsKey", () => {
  it("round-trips with pbkdf2 and records the pubkey", async () => {
    expect(aliceKeystore.version).toBe(4);
    expect(aliceKeystore.crypto.kdf.function).toBe("pbkdf2");
    expect(aliceKeystore.pubkey).toBe(bytesToHex(alice.publicKey).slice(2));
    expect(JSON.stringify(aliceKeystore)).not.toContain(bytesToHex(alice.secretKey).slice(2));
    expect(await decryptBlsKey(aliceKeystore, PASSWORD)).toEqual(alice.secretKey);
    expect(keystorePublicKey(aliceKeystore)).toEqual(alice.publicKey);
  });

  it("round-trips with the default scrypt KDF", async () => {
    const ks = await encryptBlsKey(bob.secretKey, PASSWORD, { path: "m/12381/3600/0/0/0" });
    expect(ks.crypto.kdf.function).toBe("scrypt");
    expect(ks.path).toBe("m/12381/3600/0/0/0");
    expect(await decryptBlsKey(ks, PASSWORD)).toEqual(bob.secretKey);
  });

  it("rejects a wrong password", async () => {
    await expectKeystoreError(decryptBlsKey(aliceKeystore, "wrong password"), "KEYSTORE_WRONG_PASSWORD");
  });

  it("rejects tampered keystores", async () => {
    const otherPubkey = clone(aliceKeystore);
    otherPubkey.pubkey = bytesToHex(bob.publicKey).slice(2);
    await expectKeystoreError(decryptBlsKey(otherPubkey, PASSWORD), "KEYSTORE_PUBKEY_MISMATCH");

    const flipped = clone(aliceKeystore);
    const msg = flipped.crypto.cipher.message;
    flipped.crypto.cipher.message = (msg[0] === "0" ? "1" : "0") + msg.slice(1);
    await expectKeystoreError(decryptBlsKey(flipped, PASSWORD), "KEYSTORE_WRONG_PASSWORD"); // checksum catches it

    const noPubkey = clone(aliceKeystore) as Partial<KeystoreJson>;
    delete noPubkey.pubkey;
    await expectKeystoreError(decryptBlsKey(noPubkey, PASSWORD), "KEYSTORE_INVALID");

    const noCrypto = clone(aliceKeystore) as Partial<KeystoreJson>;
    delete noCrypto.crypto;
    await expectKeystoreError(decryptBlsKey(noCrypto, PASSWORD), "KEYSTORE_INVALID");

    const hugeKdf = clone(aliceKeystore);
    if (hugeKdf.crypto.kdf.function !== "pbkdf2") throw new Error("expected pbkdf2");
    hugeKdf.crypto.kdf.params.c = 2 ** 40;
    await expectKeystoreError(decryptBlsKey(hugeKdf, PASSWORD), "KEYSTORE_INVALID");

    await expectKeystoreError(decryptBlsKey("not a keystore", PASSWORD), "KEYSTORE_INVALID");
    await expectKeystoreError(decryptBlsKey(null, PASSWORD), "KEYSTORE_INVALID");
  });

  it("rejects invalid secret keys and empty passwords", async () => {
    await expectKeystoreError(encryptBlsKey(new Uint8Array(31), PASSWORD), "KEYSTORE_INVALID_SECRET_KEY");
    await expectKeystoreError(encryptBlsKey(new Uint8Array(32), PASSWORD), "KEYSTORE_INVALID_SECRET_KEY");
    await expectKeystoreError(encryptBlsKey(alice.secretKey, ""), "KEYSTORE_INVALID_PASSWORD");
  });
});

describe("keystore files", () => {
  it("writes 0600, atomically and without leftovers, and reads back", async () => {
    const sub = join(dir, "write");
    const path = join(sub, "alice.json");
    await writeKeystoreFile(path, aliceKeystore);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(sub)).toEqual(["alice.json"]);
    expect(await readKeystoreFile(path)).toEqual(aliceKeystore);
  });

  it("refuses to overwrite an existing keystore", async () => {
    const path = join(dir, "exists.json");
    await writeKeystoreFile(path, aliceKeystore);
    const before = await readFile(path, "utf8");
    const other = await encryptBlsKey(bob.secretKey, PASSWORD, { kdf: "pbkdf2" });
    await expectKeystoreError(writeKeystoreFile(path, other), "KEYSTORE_EXISTS");
    expect(await readFile(path, "utf8")).toBe(before);
  });

  it("refuses to write something that is not a keystore", async () => {
    await expectKeystoreError(writeKeystoreFile(join(dir, "junk.json"), { hello: 1 }), "KEYSTORE_INVALID");
  });

  it("rejects oversized, missing and non-JSON files", async () => {
    const big = join(dir, "big.json");
    await writeFile(big, " ".repeat(MAX_KEY_FILE_BYTES + 1));
    const err = await expectKeystoreError(readKeystoreFile(big), "KEYSTORE_FILE_TOO_LARGE");
    expect(err.message).toContain("too large");
    await expectKeystoreError(readPasswordFile(big), "KEYSTORE_FILE_TOO_LARGE");
    await expectKeystoreError(readKeystoreFile(join(dir, "missing.json")), "KEYSTORE_NOT_FOUND");
    const notJson = join(dir, "not.json");
    await writeFile(notJson, "{");
    await expectKeystoreError(readKeystoreFile(notJson), "KEYSTORE_INVALID");
  });

  it("loads a validator key with a password file, ignoring one trailing newline", async () => {
    const path = join(dir, "load.json");
    await writeKeystoreFile(path, aliceKeystore);
    const pw = join(dir, "password.txt");
    await writeFile(pw, `${PASSWORD}\n`);
    const key = await loadValidatorKey(path, pw);
    expect(key.secretKey).toEqual(alice.secretKey);
    expect(key.publicKey).toEqual(alice.publicKey);

    const wrong = join(dir, "wrong.txt");
    await writeFile(wrong, `${PASSWORD}!\n`);
    const err = await expectKeystoreError(loadValidatorKey(path, wrong), "KEYSTORE_WRONG_PASSWORD");
    expect(err.message).toContain(path);

    const empty = join(dir, "empty.txt");
    await writeFile(empty, "\n");
    await expectKeystoreError(loadValidatorKey(path, empty), "KEYSTORE_INVALID_PASSWORD");
  });
});

describe("rustchain keys", () => {
  async function run(...args: string[]): Promise<{ out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: string) => void out.push(line));
    const program = new Command("rustchain")
      .exitOverride()
      .configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void err.push(s) });
    registerKeysCommand(program);
    try {
      await program.parseAsync(["node", "rustchain", "keys", ...args]);
    } finally {
      log.mockRestore();
    }
    return { out, err };
  }

  it("creates, shows and imports keystores", async () => {
    const pw = join(dir, "cli-password.txt");
    await writeFile(pw, `${PASSWORD}\n`);
    const created = join(dir, "cli", "created.json");
    const { out } = await run("create", "--keystore", created, "--password-file", pw, "--kdf", "pbkdf2");
    expect(out).toHaveLength(1);
    const { publicKey, proofOfPossession } = JSON.parse(out[0]) as { publicKey: string; proofOfPossession: string };
    expect(publicKey).toMatch(/^0x[0-9a-f]{96}$/);
    expect(blsVerifyProofOfPossession(hexToBytes(publicKey), hexToBytes(proofOfPossession))).toBe(true);
    expect((await stat(created)).mode & 0o777).toBe(0o600);
    const key = await loadValidatorKey(created, pw);
    expect(bytesToHex(key.publicKey)).toBe(publicKey);

    const shown = await run("show", "--keystore", created);
    expect(JSON.parse(shown.out[0])).toMatchObject({ publicKey, keystore: created });

    const skFile = join(dir, "sk.hex");
    await writeFile(skFile, `${bytesToHex(bob.secretKey)}\n`);
    const imported = join(dir, "cli", "imported.json");
    const imp = await run(
      ...["import", "--secret-key-file", skFile, "--keystore", imported, "--password-file", pw, "--kdf", "pbkdf2"],
    );
    expect(JSON.parse(imp.out[0])).toMatchObject({
      publicKey: bytesToHex(bob.publicKey),
      proofOfPossession: bytesToHex(blsProofOfPossession(bob.secretKey)),
    });
    expect(await decryptBlsKey(await readKeystoreFile(imported), PASSWORD)).toEqual(bob.secretKey);
  });

  it("reports errors as one stderr line with exit code 1", async () => {
    const pw = join(dir, "cli-password2.txt");
    await writeFile(pw, PASSWORD);
    const path = join(dir, "cli-exists.json");
    await writeKeystoreFile(path, aliceKeystore);
    const err: string[] = [];
    const program = new Command("rustchain").exitOverride().configureOutput({ writeErr: (s) => void err.push(s) });
    registerKeysCommand(program);
    const thrown = await program
      .parseAsync(["node", "rustchain", "keys", "create", "--keystore", path, "--password-file", pw])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(thrown).toBeInstanceOf(CommanderError);
    expect((thrown as CommanderError).exitCode).toBe(1);
    expect((thrown as CommanderError).code).toBe("KEYSTORE_EXISTS");
    expect(err).toEqual([`error: keystore already exists, refusing to overwrite it: ${path}\n`]);

    const bad = join(dir, "bad-sk.hex");
    await writeFile(bad, "0x1234");
    await expect(
      run("import", "--secret-key-file", bad, "--keystore", join(dir, "never.json"), "--password-file", pw),
    ).rejects.toMatchObject({ exitCode: 1, code: "KEYSTORE_INVALID_SECRET_KEY" });
  });

  it("has help text for every subcommand", () => {
    const program = new Command("rustchain");
    registerKeysCommand(program);
    const keys = program.commands.find((c) => c.name() === "keys");
    expect(keys?.commands.map((c) => c.name())).toEqual(["create", "import", "show"]);
    for (const sub of keys?.commands ?? []) {
      expect(sub.description()).not.toBe("");
      expect(sub.helpInformation()).toContain("--keystore <file>");
    }
  });
});
