// The bridge deployment file (`.rustchain/bridge/deployment.json`, written by `npm run devnet:bridge` or by an
// operator): both chains' RPC URLs and ids, the gateways, the bridged tokens and the relayer's status API. The relayer,
// the CLI (`rustchain bridge …`) and the tests read it; it is validated and bounded like any input.
import { readFile, stat } from "node:fs/promises";
import { z } from "zod";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "20-byte hex address");
const url = z.string().url();

const chainSchema = z.object({
  /** JSON-RPC URL for reads and writes. */
  rpcUrl: url,
  /** EVM chain id. */
  chainId: z.number().int().positive(),
  /** Wormhole chain id (docs/bridge.md, "Chain ids"). */
  wormholeChain: z.number().int().min(1).max(0xffff),
  gateway: address,
  /** First block to read the gateway's messages from (its deployment). */
  fromBlock: z.number().int().nonnegative().default(0),
  /** Typical block time, for ETAs. */
  blockTimeMs: z.number().int().positive(),
});

export const deploymentSchema = z.object({
  ethereum: chainSchema,
  rustchain: chainSchema.extend({
    /** Validators' RPC URLs: the relayer and `redeem` gather committee signatures from all of them. */
    signatureRpcUrls: z.array(url).min(1).max(64),
  }),
  /** Tokens by home identity, with their address on each chain (the wrapped side once created). */
  tokens: z
    .array(
      z.object({
        symbol: z.string().min(1).max(32),
        decimals: z.number().int().min(0).max(36),
        homeChain: z.number().int().min(1).max(0xffff),
        /** Home address (zero for a chain's native coin). */
        homeAddress: address,
        ethereum: address.optional(),
        rustchain: address.optional(),
      }),
    )
    .max(256),
  relayer: z.object({ statusUrl: url }).optional(),
  /** The Wormhole deployment of the gateway on RustChain and what the relayer watches (docs/bridge.md, "Wormhole"). */
  wormhole: z
    .object({
      /** The second gateway.c deployment (Wormhole's guardian set and governance) on RustChain. */
      gateway: address,
      /** Its deployment block: event scans start there. */
      fromBlock: z.number().int().nonnegative().default(0),
      /** A guardian's public REST API (GET /v1/signed_vaa/…, /v1/governor/enqueued_vaas). */
      guardianApiUrl: url,
      /** Sequences asked ahead of the first unresolved one, so one VAA not signed yet does not stall the rest. */
      lookahead: z.number().int().min(1).max(32).default(4),
      /** The registered foreign token bridges whose messages the relayer reads, each from its start sequence. */
      emitters: z
        .array(
          z.object({
            chain: z.number().int().min(1).max(0xffff),
            /** 32-byte emitter address (0x + 64 hex digits). */
            address: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "32-byte hex emitter address"),
            startSequence: z.number().int().nonnegative().default(0),
            /** Typical seconds from publication to a signed VAA (source finality plus guardian gossip), for ETAs. */
            signingSeconds: z.number().int().positive().max(86_400).default(60),
          }),
        )
        .max(64),
    })
    .optional(),
});

export type Deployment = z.infer<typeof deploymentSchema>;
export type ChainName = "ethereum" | "rustchain";
export type WormholeDeployment = NonNullable<Deployment["wormhole"]>;
export type WatchedEmitter = WormholeDeployment["emitters"][number];

const MAX_DEPLOYMENT_BYTES = 1024 * 1024;

export async function loadDeployment(path: string): Promise<Deployment> {
  const st = await stat(path);
  if (st.size > MAX_DEPLOYMENT_BYTES) throw new Error(`${path}: over ${MAX_DEPLOYMENT_BYTES} bytes`);
  const parsed = deploymentSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

/** The chain a Wormhole chain id names in this deployment. */
export function chainOf(d: Deployment, wormholeChain: number): ChainName | undefined {
  if (wormholeChain === d.ethereum.wormholeChain) return "ethereum";
  if (wormholeChain === d.rustchain.wormholeChain) return "rustchain";
  return undefined;
}
