// Accounts for the bridge's transactions: the relayer's (it pays destination gas on both chains) and a user's in
// `rustchain bridge …`. Either a Web3 Secret Storage v3 keystore (ethers' implementation) with its password in a file,
// or (CLI only) a file holding the hex private key, which must be readable by its owner alone. The same account is
// used on both chains.
import { readFile, stat } from "node:fs/promises";
import { RustChainError } from "@rustchain/shared";
import { decryptKeystoreJson, isKeystoreJson } from "ethers";
import { type Account, privateKeyToAccount } from "viem/accounts";

export type AccountKeyErrorType =
  | { code: "KEY_FILE_UNREADABLE"; path: string; reason: string }
  | { code: "KEY_FILE_UNSAFE"; path: string; mode: string }
  | { code: "KEY_INVALID"; path: string; reason: string }
  | { code: "KEYSTORE_WRONG_PASSWORD"; path: string };

export class AccountKeyError extends RustChainError<AccountKeyErrorType> {}

/** Where an account's key comes from. */
export type AccountKeySource = { keystore: string; passwordFile: string } | { privateKeyFile: string };

const MAX_BYTES = 64 * 1024;

async function bounded(path: string): Promise<{ text: string; mode: number }> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new AccountKeyError(
      { code: "KEY_FILE_UNREADABLE", path, reason: e.code ?? e.message },
      `${path}: ${e.code === "ENOENT" ? "no such file" : (e.code ?? e.message)}`,
    );
  });
  if (!st.isFile() || st.size > MAX_BYTES)
    throw new AccountKeyError(
      { code: "KEY_FILE_UNREADABLE", path, reason: "not a small file" },
      `${path}: not a file of at most ${MAX_BYTES} bytes`,
    );
  return { text: await readFile(path, "utf8"), mode: st.mode };
}

export async function loadKeystoreAccount(keystorePath: string, passwordFile: string): Promise<Account> {
  const { text: json } = await bounded(keystorePath);
  if (!isKeystoreJson(json))
    throw new AccountKeyError(
      { code: "KEY_INVALID", path: keystorePath, reason: "not a Web3 Secret Storage v3 keystore" },
      `${keystorePath}: not a Web3 Secret Storage v3 keystore`,
    );
  const password = (await bounded(passwordFile)).text.replace(/\r?\n$/, "");
  const { privateKey } = await decryptKeystoreJson(json, password).catch(() => {
    throw new AccountKeyError(
      { code: "KEYSTORE_WRONG_PASSWORD", path: keystorePath },
      `${keystorePath}: wrong password`,
    );
  });
  return privateKeyToAccount(privateKey as `0x${string}`);
}

/** The relayer's account: always from a keystore. */
export const loadRelayerAccount = loadKeystoreAccount;

/**
 * An account from a file holding its 32-byte private key in hex (0x optional, surrounding whitespace ignored). A key
 * file that its group or anyone else may read is refused before its contents are read: on a shared machine the key
 * would already be exposed.
 */
export async function loadPrivateKeyFileAccount(path: string): Promise<Account> {
  const { text, mode } = await bounded(path);
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    throw new AccountKeyError(
      { code: "KEY_FILE_UNSAFE", path, mode: octal },
      `${path}: private key file is accessible by group or others (mode ${octal}); run \`chmod 600 ${path}\``,
    );
  }
  const hex = text.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new AccountKeyError(
      { code: "KEY_INVALID", path, reason: "expected a 32-byte hex private key" },
      `${path}: expected a 32-byte hex private key`,
    );
  try {
    return privateKeyToAccount(`0x${hex.toLowerCase()}`);
  } catch {
    throw new AccountKeyError(
      { code: "KEY_INVALID", path, reason: "not a valid secp256k1 private key" },
      `${path}: not a valid secp256k1 private key`,
    );
  }
}

export function loadAccount(source: AccountKeySource): Promise<Account> {
  return "privateKeyFile" in source
    ? loadPrivateKeyFileAccount(source.privateKeyFile)
    : loadKeystoreAccount(source.keystore, source.passwordFile);
}
