// Applying a bundle and learning what subscribers must be told about it. The events are built only for a bundle the
// replica actually applied, and returned after its batch committed, so a host that publishes them afterwards never
// announces a block that is not readable yet (docs/edge.md, "Replica": ordering with notifications).
import {
  type BlockBundle,
  parseReplicationBundle,
  type ReorgBundle,
  type ReplicationBundle,
} from "@rustchain/shared/replication";
import type { SubscriptionEvent } from "../app/contract.ts";
import { type ApplyResult, type Replica, replicaKeys } from "./replica.ts";
import type { ReplicaStore } from "./store.ts";

type LogJson = Record<string, unknown>;

/** One applier per replica: a reorg's dropped logs must be read in the state the reorg is applied to. */
const queues = new WeakMap<Replica, Promise<unknown>>();

/**
 * Apply one bundle (JSON text or parsed value) with `replica` and return the subscription events it causes:
 * - an applied block bundle: `[{ kind: "block", header, logs }]`, `header` the block JSON without `transactions`
 *   (exactly the core's newHeads object) and `logs` every log of its receipts (the core's log JSON);
 * - an applied reorg bundle: `[{ kind: "removedLogs", logs }]`, the logs of every dropped block (oldest block first),
 *   each with `removed: true`, read from `store` before the reorg is applied;
 * - anything else (finality, duplicate, stale, gap, backfill): no events.
 * Throws what `Replica.apply` throws (ReplicationError, ReplicaError), having written nothing.
 */
export function applyWithEvents(
  replica: Replica,
  store: ReplicaStore,
  input: unknown,
): Promise<{ result: ApplyResult; events: SubscriptionEvent[] }> {
  const previous = queues.get(replica) ?? Promise.resolve();
  const run = previous.then(() => applyOnce(replica, store, input));
  queues.set(
    replica,
    run.catch(() => undefined),
  );
  return run;
}

async function applyOnce(
  replica: Replica,
  store: ReplicaStore,
  input: unknown,
): Promise<{ result: ApplyResult; events: SubscriptionEvent[] }> {
  // The replica validates the bundle itself; parse here only what must be known before applying (text once, so the
  // replica gets the validated object, and a reorg's small bundle), not a block bundle's transactions a third time.
  const value = typeof input === "string" ? parseReplicationBundle(input) : input;
  const kind = (value as { kind?: unknown } | null)?.kind;
  const dropped =
    kind === "reorg" ? await droppedLogs(replica, store, parseReplicationBundle(value) as ReorgBundle) : [];
  const result = await replica.apply(value);
  if (result.status !== "applied") return { result, events: [] };
  // Applied, so `value` passed the replica's strict parse.
  const bundle = value as ReplicationBundle;
  if (bundle.kind === "block") return { result, events: [blockEvent(bundle)] };
  if (bundle.kind === "reorg") return { result, events: [{ kind: "removedLogs", logs: dropped }] };
  return { result, events: [] };
}

/** The newHeads header and the logs of a block bundle, keys in the core's order. */
export function blockEvent(bundle: BlockBundle): SubscriptionEvent {
  const { transactions: _txs, ...header } = bundle.block;
  const logs = bundle.receipts.flatMap((r) => r.logs as LogJson[]);
  return { kind: "block", header, logs };
}

/**
 * Logs of the blocks a reorg bundle drops, as the replica holds them now. Only meaningful when the replica is right
 * before the bundle (lastSeq = seq - 1, head = `from`); otherwise the bundle will not apply here and nothing is read.
 */
async function droppedLogs(replica: Replica, store: ReplicaStore, r: ReorgBundle): Promise<LogJson[]> {
  const meta = await replica.meta();
  if (meta.lastSeq !== r.seq - 1 || !meta.head || meta.head.hash !== r.from.hash) return [];
  const from = meta.head.number;
  const ancestor = from - r.depth;
  const numbers: number[] = [];
  for (let n = Math.max(ancestor + 1, meta.base ?? from + 1); n <= from; n++) numbers.push(n);
  if (!numbers.length) return [];
  const hashes = await store.getMany(numbers.map(replicaKeys.canonical));
  const logKeys: string[] = [];
  for (const n of numbers) {
    const hash = hashes.get(replicaKeys.canonical(n)) as string | undefined;
    if (hash) logKeys.push(replicaKeys.logs(hash));
  }
  const logs = await store.getMany(logKeys);
  const out: LogJson[] = [];
  for (const k of logKeys) {
    for (const log of (logs.get(k) as LogJson[] | undefined) ?? []) out.push({ ...log, removed: true });
  }
  return out;
}
