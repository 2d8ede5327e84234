// Small fakes of the pipeline's seams for the unit tests (not shipped code: only *.test.ts import this file).
import type {
  BlockRef,
  ChainTips,
  EdgeConfig,
  JsonRpcErrorObject,
  ReadOutcome,
  ReplicaAccess,
  SubscriptionEvent,
  Upstream,
} from "../app/contract.ts";
import { defaultEdgeConfig, UpstreamUnavailableError } from "../app/contract.ts";

export const testConfig = (over: Partial<EdgeConfig> = {}): EdgeConfig => ({
  ...defaultEdgeConfig,
  chainId: 7n,
  clientVersion: "rustchain-edge/test",
  ...over,
});

export const ref = (number: number, tag = "a"): BlockRef => ({
  number,
  hash: `0x${tag.repeat(2).slice(0, 2)}${number.toString(16).padStart(62, "0")}` as BlockRef["hash"],
});

/** A replica whose tips and answers the test sets; counts every call. */
export class FakeReplica implements ReplicaAccess {
  tipsCalls = 0;
  reads: { method: string; params: unknown }[] = [];
  current: ChainTips = { head: ref(10), safe: ref(8), finalized: ref(5), seq: 10 };
  answer: (method: string, params: unknown) => ReadOutcome = () => ({ kind: "forward" });

  async tips(): Promise<ChainTips> {
    this.tipsCalls++;
    return this.current;
  }

  async read(method: string, params: unknown): Promise<ReadOutcome> {
    this.reads.push({ method, params });
    return this.answer(method, params);
  }
}

/** A core whose answers the test sets; `down` makes every call a transport failure. */
export class FakeUpstream implements Upstream {
  calls: { method: string; params: unknown[] }[] = [];
  down = false;
  answer: (method: string, params: unknown[]) => { result: unknown } | { error: JsonRpcErrorObject } = (m) => ({
    result: `core:${m}`,
  });

  async call(method: string, params: unknown[]) {
    this.calls.push({ method, params });
    if (this.down) throw new UpstreamUnavailableError("connection refused");
    return this.answer(method, params);
  }
}

export class FakeEvents {
  published: SubscriptionEvent[] = [];
  async publish(e: SubscriptionEvent): Promise<void> {
    this.published.push(e);
  }
}

export class AllowAll {
  taken = 0;
  async take(_key: string, cost: number) {
    this.taken += cost;
    return { allowed: true as const };
  }
}
