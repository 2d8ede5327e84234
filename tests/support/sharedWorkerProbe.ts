// A Worker that only imports @rustchain/shared's index and crypto module: tests/workerBundle.e2e.test.ts bundles it
// with wrangler to see which crypto the Workers conditions pick.
import { blake3, bytesToHex } from "@rustchain/shared";
import { cryptoProvider } from "@rustchain/shared/crypto";

export default {
  fetch: () => new Response(`${cryptoProvider.implementation} ${bytesToHex(blake3(new Uint8Array(0)))}`),
};
