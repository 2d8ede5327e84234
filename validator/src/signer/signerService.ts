// The remote signer as one unit: its slashing-protection database (`<datadir>/slashing-protection`, bound to the
// chain's genesis root) and its HTTP server (token in `<datadir>/signer-token`). Closing stops the server first, then
// waits for in-flight records and closes the database.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { openSlashingProtection } from "../consensus/validatorDuties/slashingProtection.ts";
import { SIGNER_TOKEN_FILE, SignerServer } from "./signerServer.ts";

export interface SignerServiceOptions {
  datadir: string;
  secretKeys: readonly Uint8Array[];
  /** The chain's genesis block hash (genesisRoot.ts). */
  genesisValidatorsRoot: Uint8Array;
  host: string;
  port: number;
}

export interface SignerService {
  server: SignerServer;
  tokenFile: string;
  close(): Promise<void>;
}

export async function startSignerService(opts: SignerServiceOptions, logger: Logger): Promise<SignerService> {
  await mkdir(opts.datadir, { recursive: true, mode: 0o700 });
  const protection = await openSlashingProtection(opts.datadir, { genesisValidatorsRoot: opts.genesisValidatorsRoot });
  const tokenFile = join(opts.datadir, SIGNER_TOKEN_FILE);
  let server: SignerServer;
  try {
    server = new SignerServer(
      { host: opts.host, port: opts.port, tokenFile },
      { secretKeys: opts.secretKeys, protection, logger },
    );
    await server.listen();
  } catch (e) {
    await protection.close();
    throw e;
  }
  return {
    server,
    tokenFile,
    close: async () => {
      await server.close();
      await protection.close();
    },
  };
}
