// Replication bundles for the workerd tests: the shared builder (edge/src/replica/testBundles.ts) with these tests'
// defaults, and bundles and head requests signed with the workers project's REPLICATION_KEY exactly as the core's
// pusher and pullers sign them.
import { replicationAuthHeaders } from "@rustchain/shared/replication";
import {
  type BlockSpec,
  blockBundle as buildBlockBundle,
  reorgBundle as buildReorgBundle,
} from "../../src/replica/testBundles.ts";

export {
  addr,
  type BlockSpec,
  blockHash,
  CHAIN,
  EMPTY_CODE_HASH,
  type Finality,
  fin,
  q,
  type TxSpec,
  topic,
  txHash,
  word,
} from "../../src/replica/testBundles.ts";

/** The same key the workers project gives the Worker as REPLICATION_KEY (edge/vitest.workers.config.ts). */
export const KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
export const KEY = new Uint8Array(KEY_HEX.match(/../g)!.map((b) => Number.parseInt(b, 16)));

export type Bundle = Record<string, unknown> & { seq: number; kind: string };
export type BlockBundleJson = Bundle & {
  block: Record<string, unknown> & { hash: string; number: string; transactions: Record<string, unknown>[] };
  receipts: (Record<string, unknown> & { logs: Record<string, unknown>[] })[];
};

/** The shared builder with these tests' defaults: the parent is block n - 1 of the same branch, a flat 1 gwei gasPrice. */
export function blockBundle(seq: number, n: number, spec: BlockSpec = {}): BlockBundleJson {
  return buildBlockBundle(seq, n, { parentBranch: spec.branch, type2GasPrice: 1_000_000_000n, ...spec });
}

export const reorgBundle = (seq: number, from: [number, string], to: [number, string], depth: number): Bundle =>
  buildReorgBundle(seq, from, to, depth);

/** Headers and body of a POST of `bundle` to the ingest endpoint, signed at `nowMs` with `key`. */
export async function signedIngest(
  bundle: unknown,
  opts: { key?: Uint8Array; nowMs?: number } = {},
): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify(bundle);
  const headers = await replicationAuthHeaders(opts.key ?? KEY, body, opts.nowMs ?? Date.now());
  return { body, headers: { ...headers, "content-type": "application/json" } };
}

/** GET /replication/head signed like the core's pullers (the path stands in for the body). */
export async function signedHeadRequest(origin: string): Promise<Request> {
  const headers = await replicationAuthHeaders(KEY, "/replication/head", Date.now());
  return new Request(`${origin}/replication/head`, { headers });
}
