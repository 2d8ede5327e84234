// The one adapter between our pure gossip validators and libp2p (Lodestar's network/processor/gossipValidatorFn.ts):
// size limit first, then the topic's validator; a GossipValidationError's action becomes gossipsub's
// TopicValidatorResult, and REJECT also costs the propagating peer score (ours directly; gossipsub's through its
// invalidMessageDeliveries counter, which it bumps itself on Reject).
import { type Message, type TopicValidatorFn, TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import type { Logger } from "pino";
import { GossipValidationError } from "./errors.ts";
import { plainBytes } from "./plainBytes.ts";
import type { GossipTopicName } from "./topics.ts";

/** Pure validation of one gossip message: resolve to accept, throw GossipValidationError to IGNORE or REJECT. */
export type GossipValidator = (topic: GossipTopicName, data: Uint8Array, from: PeerId) => Promise<void>;

export interface GossipValidatorFnModules {
  logger: Logger;
  maxBytes: number;
  /** The validator currently set for the topic; looked up per message so setValidator takes effect at once. */
  getValidator(): GossipValidator | undefined;
  /** Penalise the peer that sent us a REJECTed message. */
  onReject(from: PeerId, code: string): void;
  /** Every verdict, for the node's metrics. */
  onVerdict?(result: "accept" | "ignore" | "reject"): void;
}

export function createGossipValidatorFn(topic: GossipTopicName, modules: GossipValidatorFnModules): TopicValidatorFn {
  const validate = validatorFn(topic, modules);
  const verdicts = {
    [TopicValidatorResult.Accept]: "accept",
    [TopicValidatorResult.Ignore]: "ignore",
    [TopicValidatorResult.Reject]: "reject",
  } as const;
  return async (from: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    const result = await validate(from, msg);
    modules.onVerdict?.(verdicts[result]);
    return result;
  };
}

function validatorFn(topic: GossipTopicName, modules: GossipValidatorFnModules): TopicValidatorFn {
  const { logger, maxBytes } = modules;
  return async (from: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    // Rule: a message over the topic's size limit is invalid whatever it contains; reject before decoding anything.
    if (msg.data.length > maxBytes) {
      modules.onReject(from, "GOSSIP_MESSAGE_TOO_LARGE");
      logger.debug(
        { topic, size: msg.data.length, limit: maxBytes, peer: from.toString() },
        "Gossip message too large",
      );
      return TopicValidatorResult.Reject;
    }
    const validator = modules.getValidator();
    if (validator === undefined) return TopicValidatorResult.Accept;
    try {
      await validator(topic, plainBytes(msg.data), from);
      return TopicValidatorResult.Accept;
    } catch (e) {
      if (e instanceof GossipValidationError) {
        logger.debug({ topic, action: e.action, code: e.type.code, peer: from.toString() }, "Gossip message dropped");
        if (e.action === "REJECT") {
          modules.onReject(from, e.type.code);
          return TopicValidatorResult.Reject;
        }
        return TopicValidatorResult.Ignore;
      }
      // Not a verdict on the message but a fault of ours: never blame the peer for it.
      logger.warn({ topic, err: (e as Error).message }, "Gossip validator failed");
      return TopicValidatorResult.Ignore;
    }
  };
}
