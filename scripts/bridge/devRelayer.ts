// The relayer as `npm run devnet:bridge` and the bridge tests run it: a dev-only keystore for a "test … junk" account
// (its password file next to it: never do that with real keys) and the command line of bridge-relayer's bin.
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { encryptKeystoreJson } from "ethers";
import { bytesToHex } from "viem";
import type { HDAccount } from "viem/accounts";

const ROOT = resolve(import.meta.dirname, "../..");
const DEV_PASSWORD = "devnet relayer (dev only)";

/** Writes <dir>/relayer-keystore.json and <dir>/relayer-dev-password.txt (0600) for `account`. */
export async function writeDevRelayerKey(dir: string, account: HDAccount) {
  const keystore = join(dir, "relayer-keystore.json");
  const passwordFile = join(dir, "relayer-dev-password.txt");
  const privateKey = bytesToHex(account.getHdKey().privateKey as Uint8Array);
  const json = await encryptKeystoreJson({ address: account.address, privateKey }, DEV_PASSWORD, {
    scrypt: { N: 1 << 12 },
  });
  await writeFile(keystore, json, { mode: 0o600 });
  await writeFile(passwordFile, `${DEV_PASSWORD}\n`, { mode: 0o600 });
  return { keystore, passwordFile };
}

/** `node` arguments that run the relayer. */
export function relayerArgs(o: {
  deployment: string;
  key: { keystore: string; passwordFile: string };
  redisUrl: string;
  listenPort: number;
  pollMs?: number;
  logLevel?: string;
}): string[] {
  return [
    join(ROOT, "bridge-relayer/bin/rustchain-relayer.js"),
    "--deployment",
    o.deployment,
    "--keystore",
    o.key.keystore,
    "--password-file",
    o.key.passwordFile,
    "--redis-url",
    o.redisUrl,
    "--listen",
    `127.0.0.1:${o.listenPort}`,
    ...(o.pollMs ? ["--poll-ms", String(o.pollMs)] : []),
    ...(o.logLevel ? ["--log-level", o.logLevel] : []),
  ];
}
