import type { BitswapOptions } from "@helia/bitswap";

export interface ContentOptions {
  /** Where blocks and pins live: `<datadir>/content` on a node. */
  dir: string;
  /** Largest single add (bytes of the file before chunking). */
  maxAddBytes: number;
  /** Largest content a get returns whole (the gateway and the CLI stream nothing larger). */
  maxGetBytes: number;
  /**
   * Largest block stored, served or accepted. Our adds cut 256 KiB chunks (kubo's default); other importers go up to
   * 1 MiB. Bitswap's messages are at most 2 MiB (its default `maxIncomingMessageSize`).
   */
  maxBlockBytes: number;
  /** How long a get waits for peers to deliver a block we do not hold. */
  fetchTimeoutMs: number;
  /** Largest DAG (blocks) a pin or a CAR walks. */
  maxDagBlocks: number;
  /** Passed to @helia/bitswap; its protocol id stays `/ipfs/bitswap/1.2.0` so ordinary IPFS peers interoperate. */
  bitswap: BitswapOptions;
}

export const defaultContentOptions: Omit<ContentOptions, "dir"> = {
  maxAddBytes: 256 * 1024 * 1024,
  maxGetBytes: 256 * 1024 * 1024,
  maxBlockBytes: 1024 * 1024 + 64 * 1024,
  fetchTimeoutMs: 30_000,
  maxDagBlocks: 65_536,
  bitswap: {},
};
