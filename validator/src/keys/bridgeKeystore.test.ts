import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBridgeKey, loadBridgeKey, writeBridgeKeystore } from "./bridgeKeystore.ts";
import { KeystoreError } from "./keystore.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bridge-keystore-"));
  await writeFile(join(dir, "password"), "correct horse\n");
  await writeFile(join(dir, "wrong"), "battery staple\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const code = (p: Promise<unknown>) =>
  p.then(
    () => "loaded",
    (e) => (e instanceof KeystoreError ? e.type.code : String(e)),
  );

describe("bridge keystore (Web3 Secret Storage v3)", () => {
  it("keeps the key encrypted at rest, 0600, and loads it back with the password", async () => {
    const key = createBridgeKey();
    const path = join(dir, "bridge.json");
    await writeBridgeKeystore(path, key, "correct horse", true);
    const text = await readFile(path, "utf8");
    expect(text).not.toContain(Buffer.from(key.privateKey).toString("hex"));
    const json = JSON.parse(text);
    expect((json.crypto ?? json.Crypto).kdf).toBe("scrypt");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadBridgeKey(path, join(dir, "password"))).toEqual(key);
  });

  it("refuses a wrong password, an overwrite, and a file that is not a v3 keystore, by code", async () => {
    const path = join(dir, "bridge2.json");
    await writeBridgeKeystore(path, createBridgeKey(), "correct horse", true);
    expect(await code(loadBridgeKey(path, join(dir, "wrong")))).toBe("KEYSTORE_WRONG_PASSWORD");
    expect(await code(writeBridgeKeystore(path, createBridgeKey(), "x", true))).toBe("KEYSTORE_EXISTS");
    await writeFile(join(dir, "junk.json"), "{}");
    expect(await code(loadBridgeKey(join(dir, "junk.json"), join(dir, "password")))).toBe("KEYSTORE_INVALID");
    expect(await code(loadBridgeKey(join(dir, "missing.json"), join(dir, "password")))).toBe("KEYSTORE_NOT_FOUND");
  });
});
