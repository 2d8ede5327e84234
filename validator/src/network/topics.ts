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

/** Message encoding version per topic: `txs` 2 carries a batch of transactions (node/txGossip.ts). */
const TOPIC_VERSIONS: Record<GossipTopicName, number> = {
  blocks: 1,
  txs: 2,
  attestations: 1,
  finalize_votes: 1,
  slashings: 1,
  ai_proofs: 1,
  bridge_signatures: 1,
};

export function gossipTopic(chainId: bigint, name: GossipTopicName): string {
  return `/rustchain/${chainId}/${name}/${TOPIC_VERSIONS[name]}`;
}

/** The topic name of a full topic string of this chain, or undefined for anything else. */
export function parseGossipTopic(chainId: bigint, topic: string): GossipTopicName | undefined {
  for (const name of GOSSIP_TOPIC_NAMES) {
    if (gossipTopic(chainId, name) === topic) return name;
  }
  return undefined;
}
