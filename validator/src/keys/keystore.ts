// Encrypted-at-rest validator BLS keys in the EIP-2335 keystore format (the JSON Lighthouse, Prysm, Teku and Lodestar
// share), through ChainSafe's @chainsafe/bls-keystore. A secret key only ever reaches disk encrypted; files are read
// with a size bound and written 0600, atomically, never over an existing keystore.
import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  create,
  decrypt,
  defaultPbkdfModule,
  defaultScryptModule,
  type IKeystore,
  schemaValidationErrors,
} from "@chainsafe/bls-keystore";
import { blsPublicKey } from "@rustchain/shared/bls";
import { RustChainError } from "@rustchain/shared/errors";

/** Upper bound for every key-related file we read (keystores are ~1 KiB; password and secret key files smaller). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

export const BLS_SECRET_KEY_LENGTH = 32;

/** Which file an I/O error is about, so the message names it. */
export type KeyFileKind = "keystore" | "password file" | "secret key file";

export type KeystoreErrorType =
  | { code: "KEYSTORE_WRONG_PASSWORD"; path?: string }
  | { code: "KEYSTORE_INVALID"; reason: string; path?: string }
  | { code: "KEYSTORE_PUBKEY_MISMATCH"; path?: string }
  | { code: "KEYSTORE_NOT_FOUND"; kind: KeyFileKind; path: string }
  | { code: "KEYSTORE_EXISTS"; path: string }
  | { code: "KEYSTORE_FILE_TOO_LARGE"; kind: KeyFileKind; path: string; size: number; limit: number }
  | { code: "KEYSTORE_INVALID_SECRET_KEY"; reason: string; path?: string }
  | { code: "KEYSTORE_INVALID_PASSWORD"; reason: string; path?: string }
  | { code: "KEYSTORE_IO"; kind: KeyFileKind; path: string; reason: string };

/** A keystore, password file or secret key file that could not be created, read or decrypted. */
export class KeystoreError extends RustChainError<KeystoreErrorType> {
  constructor(type: KeystoreErrorType) {
    super(type, keystoreErrorMessage(type));
  }
}

export function keystoreErrorMessage(t: KeystoreErrorType): string {
  const at = (path: string | undefined) => (path === undefined ? "" : `${path}: `);
  switch (t.code) {
    case "KEYSTORE_WRONG_PASSWORD":
      return `${at(t.path)}wrong keystore password (or the keystore checksum is corrupted)`;
    case "KEYSTORE_INVALID":
      return `${at(t.path)}invalid EIP-2335 keystore: ${t.reason}`;
    case "KEYSTORE_PUBKEY_MISMATCH":
      return `${at(t.path)}keystore pubkey does not match the decrypted secret key`;
    case "KEYSTORE_NOT_FOUND":
      return `${t.kind} not found: ${t.path}`;
    case "KEYSTORE_EXISTS":
      return `keystore already exists, refusing to overwrite it: ${t.path}`;
    case "KEYSTORE_FILE_TOO_LARGE":
      return `${t.kind} is too large (${t.size} bytes, limit ${t.limit}): ${t.path}`;
    case "KEYSTORE_INVALID_SECRET_KEY":
      return `${at(t.path)}invalid BLS secret key: ${t.reason}`;
    case "KEYSTORE_INVALID_PASSWORD":
      return `${at(t.path)}invalid password: ${t.reason}`;
    case "KEYSTORE_IO":
      return `cannot access ${t.kind} ${t.path}: ${t.reason}`;
  }
}

/** An EIP-2335 keystore as JSON (pubkey and hex fields without a 0x prefix, as the EIP has them). */
export type KeystoreJson = IKeystore;

export interface EncryptBlsKeyOptions {
  /** scrypt (EIP-2335's recommendation, the default) or pbkdf2 (cheaper; tests). */
  kdf?: "scrypt" | "pbkdf2";
  /** EIP-2334 derivation path; empty for keys that were not derived from a mnemonic. */
  path?: string;
  description?: string;
}

// Bounds on KDF parameters accepted when decrypting, so a hostile keystore cannot demand gigabytes of memory or
// hours of CPU. The defaults we write (scrypt n=2^18 r=8 p=1, pbkdf2 c=2^18) sit well inside them.
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024; // 128 * n * r bytes
const MAX_SCRYPT_P = 16;
const MAX_PBKDF2_ITERATIONS = 1 << 23;
const KDF_DKLEN = 32;

/** Encrypt a BLS secret key into an EIP-2335 keystore. The password must not be empty after EIP-2335 normalization. */
export async function encryptBlsKey(
  secretKey: Uint8Array,
  password: string,
  opts: EncryptBlsKeyOptions = {},
): Promise<KeystoreJson> {
  const publicKey = checkedPublicKey(secretKey);
  if (isEmptyAfterNormalization(password)) {
    throw new KeystoreError({ code: "KEYSTORE_INVALID_PASSWORD", reason: "password is empty" });
  }
  const kdf = opts.kdf ?? "scrypt";
  if (kdf !== "scrypt" && kdf !== "pbkdf2") {
    throw new KeystoreError({ code: "KEYSTORE_INVALID", reason: `unsupported kdf ${String(kdf)}` });
  }
  const kdfModule = kdf === "scrypt" ? defaultScryptModule() : defaultPbkdfModule();
  const keystore = await create(password, secretKey, publicKey, opts.path ?? "", opts.description ?? null, kdfModule);
  // A plain JSON object: drops the `description: undefined` the library leaves behind.
  return JSON.parse(JSON.stringify(keystore)) as KeystoreJson;
}

/** Decrypt an EIP-2335 keystore and check that its pubkey belongs to the decrypted secret key. */
export async function decryptBlsKey(json: unknown, password: string): Promise<Uint8Array> {
  const keystore = parseKeystore(json);
  const expected = keystorePublicKey(keystore);
  let secretKey: Uint8Array;
  try {
    secretKey = new Uint8Array(await decrypt(keystore, password));
  } catch (err) {
    // The library's only signal for a checksum mismatch; everything else was ruled out by parseKeystore.
    if (err instanceof Error && err.message === "Invalid password") {
      throw new KeystoreError({ code: "KEYSTORE_WRONG_PASSWORD" });
    }
    throw new KeystoreError({ code: "KEYSTORE_INVALID", reason: `decryption failed: ${errorReason(err)}` });
  }
  let actual: Uint8Array;
  try {
    actual = checkedPublicKey(secretKey);
  } catch {
    throw new KeystoreError({ code: "KEYSTORE_INVALID", reason: "decrypted secret is not a valid BLS secret key" });
  }
  if (!equalBytes(actual, expected)) throw new KeystoreError({ code: "KEYSTORE_PUBKEY_MISMATCH" });
  return secretKey;
}

/** The BLS public key a keystore declares, read without its password. */
export function keystorePublicKey(json: unknown): Uint8Array {
  const keystore = parseKeystore(json);
  return new Uint8Array(Buffer.from(keystore.pubkey.replace(/^0x/, ""), "hex"));
}

/** Validate an unknown value as an EIP-2335 keystore we are willing to decrypt. */
export function parseKeystore(json: unknown): KeystoreJson {
  const errors = schemaValidationErrors(json);
  if (errors !== null) {
    const first = errors[0];
    const reason = first === undefined ? "schema validation failed" : `${first.instancePath || "/"} ${first.message}`;
    throw new KeystoreError({ code: "KEYSTORE_INVALID", reason });
  }
  const keystore = json as KeystoreJson;
  const invalid = (reason: string) => new KeystoreError({ code: "KEYSTORE_INVALID", reason });
  if (typeof keystore.pubkey !== "string" || !/^(0x)?[0-9a-fA-F]{96}$/.test(keystore.pubkey)) {
    throw invalid("pubkey must be a 48-byte hex BLS public key");
  }
  const { kdf, cipher } = keystore.crypto;
  if (!isHex(kdf.params.salt)) throw invalid("kdf salt must be hex");
  if (kdf.params.dklen !== KDF_DKLEN) throw invalid(`kdf dklen must be ${KDF_DKLEN}`);
  if (kdf.function === "scrypt") {
    const { n, r, p } = kdf.params;
    if (!isPositiveInt(n) || n < 2 || (n & (n - 1)) !== 0) throw invalid("scrypt n must be a power of two");
    if (!isPositiveInt(r) || !isPositiveInt(p) || p > MAX_SCRYPT_P) throw invalid("scrypt r or p out of range");
    if (128 * n * r > MAX_SCRYPT_MEMORY) throw invalid(`scrypt parameters need more than ${MAX_SCRYPT_MEMORY} bytes`);
  } else if (!isPositiveInt(kdf.params.c) || kdf.params.c > MAX_PBKDF2_ITERATIONS) {
    throw invalid(`pbkdf2 iteration count must be between 1 and ${MAX_PBKDF2_ITERATIONS}`);
  }
  if (!isHex(cipher.message) || cipher.message.length !== 2 * BLS_SECRET_KEY_LENGTH) {
    throw invalid(`cipher message must be ${BLS_SECRET_KEY_LENGTH} bytes of hex`);
  }
  return keystore;
}

/** Write a keystore as a new 0600 file: temp file, fsync, then a no-clobber atomic publish. */
export async function writeKeystoreFile(path: string, json: unknown): Promise<void> {
  const keystore = parseKeystore(json);
  await writeKeyFile(path, `${JSON.stringify(keystore, null, 2)}\n`);
}

/** Write a key file 0600, atomically (temp file, fsync, no-clobber link), never over an existing file. */
export async function writeKeyFile(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const io = (err: unknown) => ioError(err, "keystore", path);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw io(err);
  }
  if (await pathExists(path)) throw new KeystoreError({ code: "KEYSTORE_EXISTS", path });

  const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.chmod(0o600); // whatever the umask
      await fh.writeFile(data, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await publishNoClobber(tmp, path);
  } catch (err) {
    throw err instanceof KeystoreError ? err : io(err);
  } finally {
    await unlink(tmp).catch(() => {}); // gone already after a rename
  }
  await syncDir(dir);
}

/** Read and parse a keystore file (at most MAX_KEY_FILE_BYTES); validation is left to decryptBlsKey/parseKeystore. */
export async function readKeystoreFile(path: string): Promise<unknown> {
  const text = await readKeystoreText(path);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KeystoreError({ code: "KEYSTORE_INVALID", reason: "not valid JSON", path });
  }
}

/** A password file's contents, less one trailing newline (LF or CRLF). Empty passwords are refused. */
export async function readPasswordFile(path: string): Promise<string> {
  const password = (await readKeyFileText(path, "password file")).replace(/\r?\n$/, "");
  if (password.length === 0) {
    throw new KeystoreError({ code: "KEYSTORE_INVALID_PASSWORD", reason: "password file is empty", path });
  }
  return password;
}

/** A file holding one 0x-prefixed hex BLS secret key (surrounding whitespace ignored). */
export async function readSecretKeyFile(path: string): Promise<Uint8Array> {
  const text = (await readKeyFileText(path, "secret key file")).trim();
  if (!/^0x[0-9a-fA-F]*$/.test(text) || text.length !== 2 + 2 * BLS_SECRET_KEY_LENGTH) {
    throw new KeystoreError({
      code: "KEYSTORE_INVALID_SECRET_KEY",
      reason: `expected 0x followed by ${2 * BLS_SECRET_KEY_LENGTH} hex digits`,
      path,
    });
  }
  const secretKey = new Uint8Array(Buffer.from(text.slice(2), "hex"));
  try {
    checkedPublicKey(secretKey);
  } catch {
    throw new KeystoreError({ code: "KEYSTORE_INVALID_SECRET_KEY", reason: "not a valid BLS12-381 secret key", path });
  }
  return secretKey;
}

/** Decrypt a validator's keystore with the password in passwordFile. */
export async function loadValidatorKey(
  keystorePath: string,
  passwordFile: string,
): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }> {
  const json = await readKeystoreFile(keystorePath);
  const password = await readPasswordFile(passwordFile);
  let secretKey: Uint8Array;
  try {
    secretKey = await decryptBlsKey(json, password);
  } catch (err) {
    // Name the keystore in the message.
    if (err instanceof KeystoreError && !("path" in err.type)) {
      throw new KeystoreError({ ...err.type, path: keystorePath } as KeystoreErrorType);
    }
    throw err;
  }
  return { secretKey, publicKey: blsPublicKey(secretKey) };
}

/** EIP-2335 passwords are NFKD-normalized and stripped of C0, C1 and DEL control codes before the KDF. */
function isEmptyAfterNormalization(password: string): boolean {
  if (typeof password !== "string") return true;
  for (const ch of password.normalize("NFKD")) {
    const c = ch.codePointAt(0) ?? 0;
    if (!(c <= 0x1f || (c >= 0x7f && c <= 0x9f))) return false;
  }
  return true;
}

function checkedPublicKey(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== BLS_SECRET_KEY_LENGTH) {
    throw new KeystoreError({ code: "KEYSTORE_INVALID_SECRET_KEY", reason: `must be ${BLS_SECRET_KEY_LENGTH} bytes` });
  }
  try {
    return blsPublicKey(secretKey);
  } catch {
    throw new KeystoreError({ code: "KEYSTORE_INVALID_SECRET_KEY", reason: "not a valid BLS12-381 secret key" });
  }
}

/** A keystore file's text (bounded, UTF-8), for formats other than EIP-2335 (the bridge key's v3 keystore). */
export function readKeystoreText(path: string): Promise<string> {
  return readKeyFileText(path, "keystore");
}

async function readKeyFileText(path: string, kind: KeyFileKind): Promise<string> {
  const bytes = await readBoundedFile(path, kind, MAX_KEY_FILE_BYTES);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new KeystoreError({ code: "KEYSTORE_IO", kind, path, reason: "not valid UTF-8 text" });
  }
}

/** Read a regular file of at most `limit` bytes; bigger files are rejected without being read whole. */
async function readBoundedFile(path: string, kind: KeyFileKind, limit: number): Promise<Uint8Array> {
  const tooLarge = (size: number) => new KeystoreError({ code: "KEYSTORE_FILE_TOO_LARGE", kind, path, size, limit });
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new KeystoreError({ code: "KEYSTORE_IO", kind, path, reason: "not a regular file" });
    if (st.size > limit) throw tooLarge(st.size);
    const fh = await open(path, "r");
    try {
      const buf = Buffer.alloc(limit + 1); // one extra byte detects a file that grew since stat
      let total = 0;
      while (total < buf.length) {
        const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
      if (total > limit) throw tooLarge(total);
      return new Uint8Array(buf.subarray(0, total));
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw err instanceof KeystoreError ? err : ioError(err, kind, path);
  }
}

/** Atomically make `tmp` visible as `path`, failing if `path` exists. link(2) never replaces its target; where the
 * filesystem has no hard links, fall back to check-then-rename. */
async function publishNoClobber(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EEXIST") throw new KeystoreError({ code: "KEYSTORE_EXISTS", path });
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
  }
  if (await pathExists(path)) throw new KeystoreError({ code: "KEYSTORE_EXISTS", path });
  await rename(tmp, path);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Best effort: some platforms cannot fsync a directory.
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}

function ioError(err: unknown, kind: KeyFileKind, path: string): KeystoreError {
  if (errnoCode(err) === "ENOENT") return new KeystoreError({ code: "KEYSTORE_NOT_FOUND", kind, path });
  return new KeystoreError({ code: "KEYSTORE_IO", kind, path, reason: errorReason(err) });
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}

function errorReason(err: unknown): string {
  const code = errnoCode(err);
  if (code !== undefined) return code;
  return err instanceof Error ? err.message : String(err);
}

function isHex(s: unknown): s is string {
  return typeof s === "string" && /^([0-9a-fA-F]{2})*$/.test(s);
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n > 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
