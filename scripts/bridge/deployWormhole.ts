// Deploys RustChain's Wormhole gateway (docs/bridge.md, "Wormhole"): the second deployment of contracts/bridge/gateway.c
// with the guardian set the genesis names (`genesis.wormhole`) and Wormhole's governance emitter (1, 0x…04), then
// submits what only Wormhole's guardians can sign: the TokenBridge RegisterChain VAAs of the foreign token bridges,
// and the AssetMeta VAAs of the tokens to wrap (a `wrapped_token` is deployed for each: the runtime has no CREATE).
// Returns the deployment file's `wormhole` section. Used by the tests (tests/support/wormhole.ts).
//
//   tsx scripts/bridge/deployWormhole.ts --rpc-url <url> --chain-id <id> --genesis <file> --private-key-file <file>
//        --guardian-api <url> [--emitter <chain>/<0x emitter>/<start sequence>]… [--vaa <hex>]… (governance first,
//        then attestations, in the order given)  → prints {"wormhole": {…}, "wrapped": […]}
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes, keccak256, parseGenesis } from "@rustchain/shared";
import { decodeTokenBridgePayload } from "@rustchain/shared/bridge/payloads";
import { decodeVaa, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { WORMHOLE_GOVERNANCE_EMITTER } from "@rustchain/shared/bridge/wormhole";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { WormholeDeployment } from "../../bridge-relayer/src/deployment.ts";
import { buildContracts } from "../../contracts/build.ts";
import { type ChainAccess, clients, deploy, send } from "./deployBridge.ts";

export interface DeployWormholeOptions {
  rustchain: ChainAccess;
  /** genesis.wormhole: the guardian set the gateway starts with. */
  guardians: { guardianSetIndex: number; guardians: Uint8Array[] };
  /** Seconds a replaced guardian set stays valid (Wormhole: one day). */
  guardianSetExpiry?: bigint;
  /** Signed VAAs, in order: governance (RegisterChain …) to submitGovernance, AssetMeta to createWrapped. */
  vaas?: Hex[];
  guardianApiUrl: string;
  emitters: { chain: number; address: Hex; startSequence?: number; signingSeconds?: number }[];
}

export async function deployWormholeGateway(
  o: DeployWormholeOptions,
): Promise<{ wormhole: WormholeDeployment; wrapped: Hex[] }> {
  const rc = clients(o.rustchain);
  const c = await buildContracts({ only: ["gateway", "wrapped_token"] });
  const gateway = await deploy(rc, c.gateway!, [
    WORMHOLE_CHAIN.rustchain,
    o.guardians.guardians.map((k) => bytesToHex(k)),
    o.guardianSetExpiry ?? 86_400n,
    0, // no remote gateway: token bridges come by RegisterChain governance
    bytesToHex(new Uint8Array(32)),
    bytesToHex(keccak256(c.wrapped_token!.module)),
    o.guardians.guardianSetIndex,
    WORMHOLE_GOVERNANCE_EMITTER.chain,
    bytesToHex(WORMHOLE_GOVERNANCE_EMITTER.address),
  ]);
  const fromBlock = Number(await rc.public.getBlockNumber());
  const wrapped: Hex[] = [];
  for (const vaa of o.vaas ?? []) {
    const v = decodeVaa(hexToBytes(vaa));
    const isGovernance =
      v.emitterChain === WORMHOLE_GOVERNANCE_EMITTER.chain &&
      bytesToHex(v.emitterAddress) === bytesToHex(WORMHOLE_GOVERNANCE_EMITTER.address);
    if (isGovernance) await send(rc, gateway, c.gateway!.abi, "submitGovernance", [vaa]);
    else if (decodeTokenBridgePayload(v.payload).payloadId === 2) {
      const token = await deploy(rc, c.wrapped_token!, [gateway]);
      await send(rc, gateway, c.gateway!.abi, "createWrapped", [vaa, token]);
      wrapped.push(token);
    } else throw new Error(`VAA ${bytesToHex(v.digest)}: neither governance nor an attestation`);
  }
  return {
    wormhole: {
      gateway,
      fromBlock,
      guardianApiUrl: o.guardianApiUrl,
      lookahead: 4,
      emitters: o.emitters.map((e) => ({
        chain: e.chain,
        address: e.address.toLowerCase(),
        startSequence: e.startSequence ?? 0,
        signingSeconds: e.signingSeconds ?? 60,
      })),
    },
    wrapped,
  };
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      "rpc-url": { type: "string" },
      "chain-id": { type: "string" },
      genesis: { type: "string" },
      "private-key-file": { type: "string" },
      "guardian-api": { type: "string" },
      emitter: { type: "string", multiple: true, default: [] },
      vaa: { type: "string", multiple: true, default: [] },
    },
  });
  const need = (k: keyof typeof a) => a[k] ?? fail(`--${k} is required`);
  const genesis = parseGenesis(JSON.parse(await readFile(need("genesis") as string, "utf8")));
  if (!genesis.wormhole) fail("the genesis has no wormhole section (the initial guardian set)");
  const key = (await readFile(need("private-key-file") as string, "utf8")).trim() as Hex;
  const emitters = (a.emitter ?? []).map((e) => {
    const m = /^(\d{1,5})\/(0x[0-9a-fA-F]{64})\/(\d+)$/.exec(e) ?? fail(`--emitter ${e}: <chain>/<0x emitter>/<start>`);
    return { chain: Number(m[1]), address: m[2] as Hex, startSequence: Number(m[3]) };
  });
  const out = await deployWormholeGateway({
    rustchain: {
      rpcUrl: need("rpc-url") as string,
      chainId: Number(need("chain-id")),
      deployer: privateKeyToAccount(key),
      blockTimeMs: genesis.params.slotMs,
    },
    guardians: genesis.wormhole!,
    vaas: (a.vaa ?? []) as Hex[],
    guardianApiUrl: need("guardian-api") as string,
    emitters,
  });
  console.log(JSON.stringify(out, null, 2));
}

function fail(msg: string): never {
  console.error(`deployWormhole: ${msg}`);
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
