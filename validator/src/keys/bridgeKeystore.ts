// A validator's secp256k1 bridge key (docs/bridge.md, "The committee"), encrypted at rest in the Web3 Secret Storage
// v3 format geth, Clef and ethers read (scrypt + AES-128-CTR, through ethers' maintained implementation). Written
// 0600, atomically and never over an existing file, like the BLS keystore; its password is the validator's.
import { randomBytes } from "node:crypto";
import { bytesToHex, hexToBytes, privateKeyToAddress } from "@rustchain/shared";
import { decryptKeystoreJson, encryptKeystoreJson, isKeystoreJson } from "ethers";
import { KeystoreError, readKeystoreText, readPasswordFile, writeKeyFile } from "./keystore.ts";

export interface BridgeKey {
  privateKey: Uint8Array;
  address: Uint8Array;
}

export function createBridgeKey(): BridgeKey {
  const privateKey = new Uint8Array(randomBytes(32));
  return { privateKey, address: privateKeyToAddress(privateKey) };
}

/**
 * Encrypt and write a new bridge keystore. `devOnly` lowers scrypt's cost (N = 2^12 instead of 2^18) for the devnet's
 * throwaway keys, as the devnet's BLS keystores use pbkdf2.
 */
export async function writeBridgeKeystore(path: string, key: BridgeKey, password: string, devOnly = false) {
  const json = await encryptKeystoreJson(
    { address: bytesToHex(key.address), privateKey: bytesToHex(key.privateKey) },
    password,
    devOnly ? { scrypt: { N: 1 << 12 } } : {},
  );
  await writeKeyFile(path, `${json}\n`);
}

export async function loadBridgeKey(path: string, passwordFile: string): Promise<BridgeKey> {
  const text = await readKeystoreText(path);
  if (!isKeystoreJson(text))
    throw new KeystoreError({ code: "KEYSTORE_INVALID", reason: "not a Web3 Secret Storage v3 keystore", path });
  const password = await readPasswordFile(passwordFile);
  let privateKey: Uint8Array;
  try {
    privateKey = hexToBytes((await decryptKeystoreJson(text, password)).privateKey);
  } catch {
    throw new KeystoreError({ code: "KEYSTORE_WRONG_PASSWORD", path });
  }
  return { privateKey, address: privateKeyToAddress(privateKey) };
}
