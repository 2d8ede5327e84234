// The measured part of the benches: submit pre-signed transactions in JSON-RPC batches and wait until every accepted
// one is in a block, judged by the senders' nonces.
import { type Account, devAccounts, type Signed, sign, TRANSFER_GAS } from "./accounts.ts";
import { batch, batchedResults, hexNum, inChunks, type RpcReply, rpc, sleep } from "./jsonRpc.ts";

export interface LoadOptions {
  /** eth_sendRawTransaction calls per batch (also the batch size of nonce reads). */
  batch: number;
  /** Batches in flight. */
  concurrency: number;
  /** Give up when nothing was included for this long after the last submit. */
  stallMs: number;
  /** Minimum gap between two nonce polls. */
  noncePollMs: number;
  /** Offered load (transactions per second): batch k is sent no earlier than k * batch / rate s after the start. */
  rate?: number;
}

/** Latest nonces of `accounts`, `load.batch` per request, `load.concurrency` requests in flight. */
export async function nonces(url: string, accounts: readonly Account[], load: LoadOptions): Promise<bigint[]> {
  const r = await batchedResults(
    url,
    accounts.map((a) => ({ method: "eth_getTransactionCount", params: [a.hex, "latest"] })),
    { size: load.batch, concurrency: load.concurrency },
  );
  return r.map((v) => BigInt(v as string));
}

export interface RunResult {
  submitted: number;
  accepted: number;
  rejected: number;
  /** Rejection message → count. */
  errors: Map<string, number>;
  /** Transactions included, from the senders' nonces (what decides the end of the timed part). */
  included: number;
  /** Head block number before the first submit. */
  startBlock: number;
  /** Block number → ms after the first submit when the poller first saw it. */
  seenAt: Map<number, number>;
  /** Per transaction (same order as submitted): ms after the first submit when its batch was sent; NaN if rejected. */
  sentAt: Float64Array;
  submitMs: number;
  totalMs: number;
  /** Set when the run gave up (timeout, stall, poll failure). */
  incomplete?: string;
  /** Transactions a busy node refused and the client sent again (each refusal counted). */
  busyRetries: number;
}

/** The JSON-RPC code of a busy node's refusal ("txpool is busy ... retry later"). */
const BUSY_CODE = -32005;
const BUSY_RETRY_MS = 100;
const BUSY_RETRY_MAX_MS = 1000;

/**
 * Submit `txs` (each `txs[i].sender` indexes `accounts`) in batches of eth_sendRawTransaction with `load.concurrency`
 * batches in flight. Meanwhile a poller watches eth_blockNumber every 25 ms and, whenever the head moved (at most
 * every `load.noncePollMs`), reads the senders' nonces; done when every accepted transaction is reflected in them.
 * The senders must send nothing else meanwhile.
 */
export async function submitAndWait(
  url: string,
  txs: readonly Signed[],
  accounts: readonly Account[],
  timeoutMs: number,
  load: LoadOptions,
): Promise<RunResult> {
  const startBlock = hexNum(await rpc(url, "eth_blockNumber"));
  const base = await nonces(url, accounts, load);
  const want = new Array<number>(accounts.length).fill(0);
  for (const t of txs) want[t.sender]++;
  const active = accounts.flatMap((a, i) => (want[i] > 0 ? [{ a, i }] : []));
  const errors = new Map<string, number>();
  let accepted = 0;
  let rejected = 0;
  let submitDone = false;
  let included = 0;
  let busyRetries = 0;
  const reject = (msg: string, n = 1) => {
    rejected += n;
    errors.set(msg, (errors.get(msg) ?? 0) + n);
  };

  const t0 = performance.now();
  let submitMs = 0;
  const sentAt = new Float64Array(txs.length).fill(Number.NaN);
  const submit = (async () => {
    await inChunks(txs.length, load.batch, load.concurrency, async (start, end) => {
      if (load.rate !== undefined) {
        const due = (start / load.rate) * 1000 - (performance.now() - t0);
        if (due > 0) await sleep(due);
      }
      const sent = performance.now() - t0;
      // A busy node (-32005, "txpool is busy") asks for the same transactions later, as a wallet would resend.
      let todo = Array.from({ length: end - start }, (_, i) => start + i);
      for (let attempt = 0; todo.length > 0; attempt++) {
        if (attempt > 0) {
          if (performance.now() - t0 > timeoutMs) {
            reject("node busy until the timeout", todo.length);
            return;
          }
          await sleep(Math.min(BUSY_RETRY_MAX_MS, BUSY_RETRY_MS * 2 ** (attempt - 1)));
        }
        let replies: RpcReply[];
        try {
          replies = await batch(
            url,
            todo.map((k) => ({ method: "eth_sendRawTransaction", params: [txs[k].raw] })),
          );
        } catch (e) {
          reject(`batch failed: ${(e as Error).message}`, todo.length);
          return;
        }
        const again: number[] = [];
        replies.forEach((r, i) => {
          const k = todo[i];
          if (r.error?.code === BUSY_CODE) again.push(k);
          else if (r.error) reject(`${r.error.message} (${r.error.code})`);
          else if (r.result !== txs[k].hash) reject(`hash mismatch: got ${String(r.result)}`);
          else {
            accepted++;
            // Latency counts from the first attempt: a retry is part of what the sender waits.
            sentAt[k] = sent;
          }
        });
        busyRetries += again.length;
        todo = again;
      }
    });
    submitMs = performance.now() - t0;
    submitDone = true;
  })();

  const seenAt = new Map<number, number>();
  let incomplete: string | undefined;
  let seen = startBlock;
  let dirty = false;
  let lastNoncePoll = 0;
  let lastProgress = t0;
  for (;;) {
    const now = performance.now();
    if (submitDone && included >= accepted) break;
    if (now - t0 > timeoutMs) {
      incomplete = `timeout after ${(timeoutMs / 1000).toFixed(0)}s`;
      break;
    }
    if (submitDone && now - lastProgress > load.stallMs) {
      incomplete = `nothing included for ${(load.stallMs / 1000).toFixed(0)}s`;
      break;
    }
    try {
      const head = hexNum(await rpc(url, "eth_blockNumber"));
      if (head > seen) {
        const at = performance.now() - t0;
        for (let n = seen + 1; n <= head; n++) seenAt.set(n, at);
        seen = head;
        dirty = true;
      }
      if (dirty && performance.now() - lastNoncePoll >= load.noncePollMs) {
        lastNoncePoll = performance.now();
        dirty = false;
        const current = await nonces(
          url,
          active.map(({ a }) => a),
          load,
        );
        let sum = 0;
        active.forEach(({ i }, k) => {
          sum += Math.min(Number(current[k] - base[i]), want[i]);
        });
        if (sum > included) {
          included = sum;
          lastProgress = performance.now();
        }
      }
    } catch (e) {
      incomplete = `poll failed: ${(e as Error).message}`;
      break;
    }
    await sleep(25);
  }
  const totalMs = performance.now() - t0;
  await submit;
  return {
    submitted: txs.length,
    accepted,
    rejected,
    errors,
    included,
    startBlock,
    seenAt,
    sentAt,
    submitMs,
    totalMs,
    incomplete,
    busyRetries,
  };
}

/** Throw unless the run included all `expected` transactions without rejections. */
export function checkRun(what: string, r: RunResult, expected: number): void {
  if (r.rejected > 0 || r.incomplete || r.included < expected) {
    const errs = [...r.errors].map(([m, n]) => `${n}x ${m}`).join("; ");
    throw new Error(
      `${what}: ${r.included}/${expected} included, ${r.rejected} rejected${r.incomplete ? `, ${r.incomplete}` : ""}` +
        (errs ? `: ${errs}` : ""),
    );
  }
}

/** Send `amount` to each of `recipients`, round-robin from the dev accounts, and wait until all are in blocks. */
export async function fundFromDevAccounts(
  url: string,
  chainId: bigint,
  recipients: readonly Account[],
  amount: bigint,
  load: LoadOptions,
): Promise<void> {
  const devNonces = await nonces(url, devAccounts, load);
  const txs = recipients.map((s, i) => {
    const d = i % devAccounts.length;
    return sign(chainId, devAccounts[d], devNonces[d]++, { to: s.address, value: amount, gasLimit: TRANSFER_GAS }, d);
  });
  checkRun("RTC funding", await submitAndWait(url, txs, devAccounts, 120_000, load), txs.length);
}

/**
 * `n` transactions spread round-robin over `senders` (nonce k of every sender before nonce k+1), sender s sending to
 * sender s+1: `make(i, from, to, nonce)` signs transaction i, `from` and `to` being sender indexes.
 */
export function roundRobin(
  n: number,
  senders: number,
  baseNonces: readonly bigint[],
  make: (i: number, from: number, to: number, nonce: bigint) => Signed,
): Signed[] {
  const txs: Signed[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = i % senders;
    txs[i] = make(i, s, (s + 1) % senders, baseNonces[s] + BigInt(Math.floor(i / senders)));
  }
  return txs;
}

/** `[name] submitted=… accepted=… rejected=… included=…<extra> submit=…s total=…s tps=…<note>` */
export function runLine(name: string, r: RunResult, tps: number, extra = "", note = ""): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
  return (
    `[${name}] submitted=${r.submitted} accepted=${r.accepted} rejected=${r.rejected} included=${r.included}${extra}` +
    ` submit=${s(r.submitMs)} total=${s(r.totalMs)} tps=${tps.toFixed(1)}` +
    (r.busyRetries > 0 ? ` busy_retries=${r.busyRetries}` : "") +
    note
  );
}

/** One `[name]   rejected <count>x: <message>` line per distinct rejection. */
export function printRejections(name: string, r: RunResult): void {
  for (const [msg, count] of r.errors) console.log(`[${name}]   rejected ${count}x: ${msg}`);
}
