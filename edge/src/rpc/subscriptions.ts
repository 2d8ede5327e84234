// eth_subscribe at the edge: parsing the subscription request and turning SubscriptionEvents into the notifications
// the core would send (validator/src/rpc/rpcServer.ts, ethApi.ts). Host-agnostic and plain JSON, so a Durable Object
// can keep a socket's subscriptions in its hibernation attachment and the Node host in memory.
import type { Hex } from "@rustchain/shared/hex";
import { parseParams } from "@rustchain/shared/rpc/methods";
import { filterRequest } from "@rustchain/shared/rpc/params";
import { RpcCode, RpcError } from "@rustchain/shared/rpcErrors";
import type { SubscriptionEvent } from "../app/contract.ts";

/** Subscriptions one WebSocket may hold, on both hosts. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;

/** The refusal of one subscription too many: the same code and message on both hosts. */
export function tooManySubscriptions(limit: number): RpcError {
  return new RpcError(RpcCode.LIMIT_EXCEEDED, `too many subscriptions (limit ${limit})`);
}

/** Addresses and topics are lowercase hex; `topics[i]` null (or absent) matches anything. */
export type SubscriptionSpec =
  | { kind: "newHeads" }
  | { kind: "newPendingTransactions" }
  | { kind: "logs"; filter: { address?: Hex[]; topics?: (Hex | Hex[] | null)[] } };

const toHex = (b: Uint8Array): Hex => `0x${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;

/**
 * The eth_subscribe params as the core validates them: `[kind, filter?]`; an unknown kind, a missing kind, a bad
 * filter or too many arguments throw the core's -32602 RpcError with the same message.
 */
export function parseSubscribeParams(params: unknown): SubscriptionSpec {
  const [kind, arg] = parseParams("eth_subscribe", params);
  if (kind !== "logs") return { kind };
  if (arg === undefined || arg === null) return { kind: "logs", filter: {} };
  // fromBlock / toBlock / blockHash are validated as the core does and, as there, ignored for a subscription.
  const f = filterRequest(arg, 1);
  const filter: { address?: Hex[]; topics?: (Hex | Hex[] | null)[] } = {};
  if (f.addresses.length) filter.address = f.addresses.map(toHex);
  if (f.topics.length) filter.topics = f.topics.map((alts) => (alts ? alts.map(toHex) : null));
  return { kind: "logs", filter };
}

/** Whether a log (the core's log JSON) matches a logs subscription: the core's logMatches. */
export function logMatchesSubscription(
  filter: { address?: Hex[]; topics?: (Hex | Hex[] | null)[] },
  log: Record<string, unknown>,
): boolean {
  const address = typeof log.address === "string" ? log.address.toLowerCase() : "";
  if (filter.address?.length && !filter.address.some((a) => a.toLowerCase() === address)) return false;
  const topics = Array.isArray(log.topics) ? (log.topics as unknown[]) : [];
  const wanted = filter.topics ?? [];
  for (let i = 0; i < wanted.length; i++) {
    const want = wanted[i];
    if (want === null || want === undefined) continue;
    const alts = Array.isArray(want) ? want : [want];
    if (alts.length === 0) continue;
    const got = topics[i];
    if (typeof got !== "string") return false;
    const g = got.toLowerCase();
    if (!alts.some((t) => t.toLowerCase() === g)) return false;
  }
  return true;
}

/** The `result`s to push to one subscription for one event, in order (one notification each). */
export function notificationsFor(spec: SubscriptionSpec, event: SubscriptionEvent): unknown[] {
  switch (spec.kind) {
    case "newHeads":
      return event.kind === "block" ? [event.header] : [];
    case "newPendingTransactions":
      return event.kind === "pendingTransaction" ? [event.hash] : [];
    case "logs":
      if (event.kind === "pendingTransaction") return [];
      return event.logs.filter((log) => logMatchesSubscription(spec.filter, log));
  }
}

/** The JSON text of one eth_subscription notification, as the core sends it. */
export function subscriptionNotification(id: string, result: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", method: "eth_subscription", params: { subscription: id, result } });
}

/** A new subscription id: 16 random bytes as 0x-prefixed hex, the shape of the core's ids. */
export function newSubscriptionId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return toHex(bytes);
}
