// The relayer's Redis state on a real redis-server: a stream entry read but never acknowledged (a crash) is read
// again by the next process; a message seen twice makes one record; state changes are kept in order; search by
// transaction hash and address.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRedis, startLocalRedis } from "../../edge/src/node/redisServer.ts";
import { freePort } from "../../validator/src/cli/devnetCluster.ts";
import { connectRedis, type RedisClient, type TransferRecord, TransferStore } from "../src/transferStore.ts";

let redis: LocalRedis;
const clients: RedisClient[] = [];
beforeAll(async () => {
  redis = await startLocalRedis({ port: await freePort() });
});
afterAll(async () => {
  for (const c of clients) await c.quit().catch(() => undefined);
  await redis?.stop();
});

async function store(consumer = "relayer-1"): Promise<TransferStore> {
  const client = await connectRedis(redis.url, () => {});
  clients.push(client);
  const s = new TransferStore(client, consumer);
  await s.init();
  return s;
}

const record = (digest: string): TransferRecord => ({
  digest,
  kind: "transfer",
  sourceChain: "ethereum",
  destinationChain: "rustchain",
  emitterChain: 2,
  emitterAddress: `0x${"00".repeat(31)}01`,
  sequence: "7",
  sourceTx: `0x${"ab".repeat(32)}`,
  sourceBlock: "12",
  sender: `0x${"11".repeat(20)}`,
  recipient: `0x${"22".repeat(20)}`,
  amount: "100",
  fee: "1",
  tokenChain: 2,
  tokenAddress: `0x${"00".repeat(32)}`,
  state: "observed",
  eta: 0,
  observedAt: Date.now(),
  updatedAt: Date.now(),
  attempts: 0,
  history: [{ state: "observed", at: Date.now() }],
});

describe("relayer state in Redis", () => {
  it("re-reads a message a crashed process read but never acknowledged, and acknowledges once", async () => {
    const first = await store();
    await first.append({ chain: "ethereum", digest: "0x01" });
    const [entry] = await first.read(10, 1, false);
    expect(entry?.message.digest).toBe("0x01");
    // The process dies here: nothing acknowledged. The next one (same consumer name) reads it first.
    const second = await store();
    const pending = await second.read(10, 0, true);
    expect(pending.map((e) => e.message.digest)).toEqual(["0x01"]);
    await second.ack(pending[0]!.id);
    expect(await second.read(10, 0, true)).toEqual([]);
    expect(await second.read(10, 1, false)).toEqual([]);
  });

  it("makes one record of a message seen twice, keeps the state history, and finds it by tx hash or address", async () => {
    const s = await store();
    const digest = `0x${"cd".repeat(32)}`;
    expect(await s.create(record(digest))).toBe(true);
    expect(await s.create({ ...record(digest), amount: "999" })).toBe(false);
    await s.update(digest, { state: "signing" });
    await s.update(digest, { state: "signing", signatures: 2 });
    await s.update(digest, { state: "completed", destinationTx: "0xfeed" });
    const t = await s.get(digest);
    expect(t?.amount).toBe("100");
    expect(t?.signatures).toBe(2);
    expect(t?.history.map((h) => h.state)).toEqual(["observed", "signing", "completed"]);
    expect((await s.search(`0x${"AB".repeat(32)}`)).map((x) => x.digest)).toEqual([digest]);
    expect((await s.search(`0x${"22".repeat(20)}`)).map((x) => x.digest)).toEqual([digest]);
    expect(await s.search(`0x${"33".repeat(20)}`)).toEqual([]);
    expect(await s.due(Date.now() + 1, 10)).toContain(digest);
    await s.done(digest);
    expect(await s.due(Date.now() + 1, 10)).not.toContain(digest);
  });
});
