// eth_subscribe at the edge: parsing the subscription request and turning SubscriptionEvents into the notifications
// the core would send (validator/src/rpc/rpcServer.ts, ethApi.ts). Host-agnostic and plain JSON, so a Durable Object
// can keep a socket's subscriptions in its hibernation attachment and the Node host in memory.
import { bytesToHex } from "@rustchain/shared/hex";
import { type LogFilterJson, LogMatcher, logFilterJson } from "@rustchain/shared/rpc/chainQueries";
import { parseParams } from "@rustchain/shared/rpc/methods";
import { filterRequest } from "@rustchain/shared/rpc/params";
import type { SubscriptionEvent } from "../app/contract.ts";

/** Subscriptions one WebSocket may hold, on both hosts. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;

export type SubscriptionSpec =
  | { kind: "newHeads" }
  | { kind: "newPendingTransactions" }
  | { kind: "logs"; filter: LogFilterJson };

/**
 * The eth_subscribe params as the core validates them: `[kind, filter?]`; an unknown kind, a missing kind, a bad
 * filter or too many arguments throw the core's -32602 RpcError with the same message.
 */
export function parseSubscribeParams(params: unknown): SubscriptionSpec {
  const [kind, arg] = parseParams("eth_subscribe", params);
  if (kind !== "logs") return { kind };
  if (arg === undefined || arg === null) return { kind: "logs", filter: {} };
  // fromBlock / toBlock / blockHash are validated as the core does and, as there, ignored for a subscription.
  return { kind: "logs", filter: logFilterJson(filterRequest(arg, 1)) };
}

/** The `result`s to push to one subscription for one event, in order (one notification each). */
export function notificationsFor(spec: SubscriptionSpec, event: SubscriptionEvent): unknown[] {
  switch (spec.kind) {
    case "newHeads":
      return event.kind === "block" ? [event.header] : [];
    case "newPendingTransactions":
      return event.kind === "pendingTransaction" ? [event.hash] : [];
    case "logs": {
      if (event.kind === "pendingTransaction") return [];
      const matcher = new LogMatcher(spec.filter);
      return event.logs.filter((log) => matcher.matchesJson(log));
    }
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
  return bytesToHex(bytes);
}
