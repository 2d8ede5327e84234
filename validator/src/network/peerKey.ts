// The node's libp2p identity key, kept in `<datadir>/p2p-key` (protobuf-encoded private key, mode 0600) so the peer id
// survives restarts and other nodes' bootstrap lists stay valid.
import { chmod, mkdir, open, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import type { Logger } from "pino";
import { NetworkError } from "./errors.ts";

export const PEER_KEY_FILE = "p2p-key";
/** An RSA-4096 key is ~2.4 KiB in protobuf; anything much larger is not a key. */
const MAX_PEER_KEY_BYTES = 8 * 1024;

export async function loadOrCreatePeerKey(datadir: string, logger: Logger): Promise<PrivateKey> {
  const path = join(datadir, PEER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing !== undefined) {
    let key: PrivateKey;
    try {
      key = privateKeyFromProtobuf(existing.bytes);
    } catch (e) {
      throw new NetworkError({ code: "PEER_KEY_INVALID", path, reason: (e as Error).message.slice(0, 120) });
    }
    if ((existing.mode & 0o077) !== 0) {
      logger.warn(
        { path, mode: (existing.mode & 0o777).toString(8) },
        "Peer key readable by others; setting mode 0600",
      );
      await chmod(path, 0o600);
    }
    return key;
  }
  const key = await generateKeyPair("Ed25519");
  await mkdir(datadir, { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves a truncated key that would change the peer id on the next start.
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(privateKeyToProtobuf(key));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  logger.info({ path }, "Created peer key");
  return key;
}

async function readKeyFile(path: string): Promise<{ bytes: Uint8Array; mode: number } | undefined> {
  let size: number;
  let mode: number;
  try {
    const st = await stat(path);
    size = st.size;
    mode = st.mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if (size > MAX_PEER_KEY_BYTES) {
    throw new NetworkError({ code: "PEER_KEY_INVALID", path, reason: `file larger than ${MAX_PEER_KEY_BYTES} bytes` });
  }
  const fh = await open(path, "r");
  try {
    return { bytes: new Uint8Array(await fh.readFile()), mode };
  } finally {
    await fh.close();
  }
}
