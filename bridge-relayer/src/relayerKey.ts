// The relayer's account (it pays destination gas on both chains), encrypted at rest in a Web3 Secret Storage v3
// keystore (ethers' implementation) with its password in a file; the same account is used on both chains.
import { readFile, stat } from "node:fs/promises";
import { decryptKeystoreJson, isKeystoreJson } from "ethers";
import { type Account, privateKeyToAccount } from "viem/accounts";

const MAX_BYTES = 64 * 1024;

async function bounded(path: string): Promise<string> {
  const st = await stat(path);
  if (!st.isFile() || st.size > MAX_BYTES) throw new Error(`${path}: not a file of at most ${MAX_BYTES} bytes`);
  return readFile(path, "utf8");
}

export async function loadRelayerAccount(keystorePath: string, passwordFile: string): Promise<Account> {
  const json = await bounded(keystorePath);
  if (!isKeystoreJson(json)) throw new Error(`${keystorePath}: not a Web3 Secret Storage v3 keystore`);
  const password = (await bounded(passwordFile)).replace(/\r?\n$/, "");
  const { privateKey } = await decryptKeystoreJson(json, password).catch(() => {
    throw new Error(`${keystorePath}: wrong password`);
  });
  return privateKeyToAccount(privateKey as `0x${string}`);
}
