// `rustchain content add|get|pin|unpin|pins`: the node's content store (docs/content.md) from the command line, over
// the node's public interfaces only. Writes (add, pin, unpin) go to the admin API with its bearer token, as kubo keeps
// `ipfs add` on its RPC port and off its gateway; `get` reads the trustless gateway on the RPC port and verifies every
// block of the CAR against its CID here, so the node need not be trusted.
import { createReadStream } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { unixfs } from "@helia/unixfs";
import { CarBlockIterator } from "@ipld/car/iterator";
import { describeError } from "@rustchain/shared";
import type { Command } from "commander";
import { CID } from "multiformats/cid";
import { cidToString, parseCid, verifyBlock } from "../content/blockVerifier.ts";
import { ContentError } from "../content/errors.ts";
import { CAR_TYPE } from "../content/gateway.ts";
import { defaultContentOptions } from "../content/options.ts";

export class ContentCliError extends Error {}

interface AdminTarget {
  adminUrl: string;
  tokenFile: string;
}

async function adminHeaders(t: AdminTarget): Promise<Record<string, string>> {
  return { authorization: `Bearer ${(await readFile(t.tokenFile, "utf8")).trim()}` };
}

async function adminCall(t: AdminTarget, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(t.adminUrl, {
    method: "POST",
    headers: { ...(await adminHeaders(t)), "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new ContentCliError(`${method}: ${body.error.message}`);
  return body.result;
}

/** Uploads a file to the node's store; returns its CIDv1. */
export async function contentAdd(t: AdminTarget, file: string): Promise<{ cid: string; size: number }> {
  const { size } = await stat(file);
  const res = await fetch(new URL("/content/add", t.adminUrl), {
    method: "POST",
    headers: { ...(await adminHeaders(t)), "content-type": "application/octet-stream", "content-length": String(size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
    duplex: "half",
  } as RequestInit);
  const body = (await res.json()) as { cid?: string; size?: number; error?: { message: string } };
  if (!res.ok || body.cid === undefined)
    throw new ContentCliError(`add: ${body.error?.message ?? `HTTP ${res.status}`}`);
  return { cid: body.cid, size: body.size ?? size };
}

/**
 * Fetches `cid` as a CAR from the gateway at `rpcUrl`, verifies every block against its CID and rebuilds the file
 * from the verified blocks alone. Bytes that do not hash to their CID, a wrong root or a missing block are refused.
 */
export async function contentGet(rpcUrl: string, cidText: string, maxBytes = defaultContentOptions.maxGetBytes) {
  const root = parseCid(cidText);
  const res = await fetch(new URL(`/ipfs/${cidToString(root)}`, rpcUrl), { headers: { accept: CAR_TYPE } });
  if (!res.ok || !res.body) throw new ContentCliError(`get: HTTP ${res.status} ${(await res.text()).trim()}`);
  const car = await CarBlockIterator.fromIterable(Readable.fromWeb(res.body as never));
  const roots = await car.getRoots();
  const got = roots.length === 1 ? CID.asCID(roots[0]) : null;
  if (!got || cidToString(got as CID) !== cidToString(root)) {
    throw new ContentCliError(`get: the CAR's root is not ${cidText}`);
  }
  const blocks = new Map<string, Uint8Array>();
  let total = 0;
  for await (const { cid, bytes } of car) {
    total += bytes.length;
    if (total > maxBytes) throw new ContentError({ code: "CONTENT_TOO_LARGE", size: total, limit: maxBytes });
    verifyBlock(CID.asCID(cid) as CID, bytes, defaultContentOptions.maxBlockBytes);
    blocks.set(cid.toString(), bytes);
  }
  const fs = unixfs({
    blockstore: {
      has: async (cid) => blocks.has(cid.toString()),
      put: async (cid) => cid,
      get: async function* (cid) {
        const block = blocks.get(cid.toString());
        if (!block) throw new ContentError({ code: "CONTENT_NOT_FOUND", cid: cid.toString() });
        yield block;
      },
    },
  });
  const parts: Uint8Array[] = [];
  for await (const part of fs.cat(root)) parts.push(part);
  return Buffer.concat(parts);
}

export function registerContentCommand(program: Command): void {
  const content = program
    .command("content")
    .description("add, fetch and pin UnixFS content (CIDv1) in a running node's content store (docs/content.md)");
  const admin = (c: Command) =>
    c
      .requiredOption("--admin-url <url>", "the node's admin API (rustchain node --admin-addr)")
      .requiredOption("--token-file <file>", "the admin token (<datadir>/admin-token)");
  const run = (f: () => Promise<void>) =>
    f().catch((e: unknown) => {
      console.error(`error: ${describeError(e)}`);
      process.exit(1);
    });

  admin(content.command("add <file>").description("add a file; prints its CIDv1")).action((file: string, o) =>
    run(async () => {
      const { cid, size } = await contentAdd(o, file);
      console.log(cid);
      console.error(`added ${size} bytes`);
    }),
  );
  content
    .command("get <cid>")
    .description("fetch a file through the node's trustless gateway, verifying every block against its CID")
    .option("--rpc-url <url>", "the node's RPC URL (the gateway is served there)", "http://127.0.0.1:8545")
    .option("--out <file>", "write the file here instead of stdout")
    .action((cid: string, o) =>
      run(async () => {
        const bytes = await contentGet(o.rpcUrl, cid);
        if (o.out) await writeFile(o.out, bytes);
        else process.stdout.write(bytes);
      }),
    );
  admin(content.command("pin <cid>").description("fetch a DAG over bitswap if needed and pin it")).action(
    (cid: string, o) => run(async () => console.log(JSON.stringify(await adminCall(o, "admin_contentPin", [cid])))),
  );
  admin(content.command("unpin <cid>").description("remove a pin")).action((cid: string, o) =>
    run(async () => console.log((await adminCall(o, "admin_contentUnpin", [cid])) ? "unpinned" : "was not pinned")),
  );
  admin(content.command("pins").description("list pins")).action((o) =>
    run(async () => console.log(JSON.stringify(await adminCall(o, "admin_contentPins", []), null, 2))),
  );
}
