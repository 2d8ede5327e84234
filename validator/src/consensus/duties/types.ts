// What the validator duties share: this node's validator key and its guards, and where its messages go.
import type { BlockProducer } from "../../chain/blockProducer.ts";
import type { GossipTopicName } from "../../network/topics.ts";
import type { ValidatorSigner } from "./signer.ts";

export interface LocalValidator {
  index: number;
  publicKey: Uint8Array;
  /** Signs blocks, votes and VRF proofs behind slashing protection (local key or remote signer). */
  signer: ValidatorSigner;
  producer: BlockProducer;
  /** Each duty's outcome, for the node's metrics: a proposal made or failed, an attestation sent or not. */
  onDuty?(duty: "propose" | "attest", result: "done" | "missed"): void;
}

/** Where our own consensus messages are published (the network, or a test wrapper around it). */
export interface GossipPublisher {
  publish(topic: GossipTopicName, data: Uint8Array): Promise<unknown>;
}
