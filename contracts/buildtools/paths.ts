// Where contract sources live and where the build writes (contracts/build/, gitignored).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CONTRACTS_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUILD_DIR = join(CONTRACTS_DIR, "build");
