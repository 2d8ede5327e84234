// Gossip topic names. Every topic carries the chain id so nodes of different chains never share a mesh, and a version
// suffix so the message encoding can change without a flag day: `/rustchain/<chainId>/<name>/1`.

export const GOSSIP_TOPIC_NAMES = [
  "blocks",
  "txs",
  "attestations",
  "finalize_votes",
  "slashings",
  "ai_proofs",
  "bridge_signatures",
] as const;
export type GossipTopicName = (typeof GOSSIP_TOPIC_NAMES)[number];

export function gossipTopic(chainId: bigint, name: GossipTopicName): string {
  return `/rustchain/${chainId}/${name}/1`;
}

/** The topic name of a full topic string of this chain, or undefined for anything else. */
export function parseGossipTopic(chainId: bigint, topic: string): GossipTopicName | undefined {
  for (const name of GOSSIP_TOPIC_NAMES) {
    if (gossipTopic(chainId, name) === topic) return name;
  }
  return undefined;
}
