import type { DiscoveryOptions } from "./discovery.ts";
import type { GossipTopicName } from "./topics.ts";

/** Our own per-peer score (see peerScore.ts): penalties for protocol violations, lazily decayed, with bans. */
export interface PeerScoreOptions {
  /** Subtracted when a peer sends a gossip message our validators REJECT (including oversized ones). */
  gossipRejectPenalty: number;
  /** Subtracted when a peer sends a malformed req/resp request or response. */
  reqRespInvalidPenalty: number;
  /** A peer whose score falls below this is disconnected and banned. */
  banThreshold: number;
  banDurationMs: number;
  /** Scores halve toward 0 every halfLifeMs (applied lazily on read, so no timer). */
  halfLifeMs: number;
  /** Bound on tracked peers; the oldest unbanned entries are evicted first. */
  maxTrackedPeers: number;
}

/** Parameters handed to gossipsub's built-in peer scoring for each of our topics. */
export interface GossipScoreOptions {
  /** P4 weight: gossipsub penalises invalidMessageDeliveries^2 * weight on each REJECT. Must be <= 0. */
  invalidMessageDeliveriesWeight: number;
  /** Per-second decay of the invalid delivery counter, in (0, 1). */
  invalidMessageDeliveriesDecay: number;
  /** Weight of our own peer score (peerScore.ts) inside gossipsub's score (appSpecificScore). */
  appSpecificWeight: number;
}

export interface ReqRespOptions {
  /** Whole-request deadline (dial, request, every response chunk), both as client and as server. */
  timeoutMs: number;
  /** Largest request frame accepted by the server (a blocks_by_root request of 64 hashes is ~2.1 KiB). */
  maxRequestBytes: number;
  /** Largest block (one response chunk payload) accepted by the client. */
  maxBlockBytes: number;
  /** Concurrent inbound streams per protocol per connection. */
  maxInboundStreams: number;
  /** Deadline of one snapshot request (a chunk of a few MiB to a slow peer; docs/sync.md), client and server. */
  snapshotTimeoutMs: number;
  /** Largest snapshot chunk or manifest (one response payload) accepted by the client. */
  maxSnapshotBytes: number;
}

export interface NetworkOptions {
  /** Listen multiaddrs. Every node binds 127.0.0.1 on a free port unless told otherwise. */
  listenAddrs: string[];
  /**
   * The addresses peers should dial, when they differ from the listen addresses (a host behind NAT, or one listening
   * on 0.0.0.0): announced instead of the listen addresses. Empty: announce what we listen on.
   */
  announceAddrs: string[];
  /** Bootstrap multiaddrs, each ending in /p2p/<peer id>; dialled bootstrapDelayMs after start. */
  bootstrap: string[];
  bootstrapDelayMs: number;
  /** How often bootstrap peers we are not connected to are dialled again. */
  bootstrapRedialMs: number;
  /** Directory holding the node's libp2p key (`<datadir>/p2p-key`, mode 0600); unset means an ephemeral key. */
  datadir?: string;
  /** Upper bound on open connections (libp2p connection manager maxConnections) and on connected peers. */
  maxPeers: number;
  /** Eclipse resistance: open inbound connections allowed from one IPv4 /ipv4PrefixBits (or IPv6 /ipv6PrefixBits). */
  maxInboundPerPrefix: number;
  ipv4PrefixBits: number;
  ipv6PrefixBits: number;
  /** libp2p's per-host inbound connection rate limit (connections per second). */
  inboundConnectionThreshold: number;
  dialTimeoutMs: number;
  /** Per-topic message size limits; larger messages are REJECTed before any validator runs. */
  gossipMaxBytes: Record<GossipTopicName, number>;
  gossipScore: GossipScoreOptions;
  peerScore: PeerScoreOptions;
  reqResp: ReqRespOptions;
  /** Dialling peers the DHT and the bootstrap list announce, while below a target peer count (discovery.ts). */
  discovery: DiscoveryOptions;
  /** Kademlia DHT (peer discovery/routing) under `/rustchain/<chainId>/kad/1.0.0`. */
  dht: {
    enabled: boolean;
    clientMode: boolean;
    /** Keep private/loopback addresses in DHT peer records (needed for 127.0.0.1 devnets). */
    allowPrivateAddresses: boolean;
  };
}

const MiB = 1024 * 1024;
const KiB = 1024;

export const defaultNetworkOptions: NetworkOptions = {
  listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
  announceAddrs: [],
  bootstrap: [],
  bootstrapDelayMs: 1000,
  bootstrapRedialMs: 5000,
  maxPeers: 50,
  maxInboundPerPrefix: 8,
  ipv4PrefixBits: 24,
  ipv6PrefixBits: 48,
  inboundConnectionThreshold: 5,
  dialTimeoutMs: 5_000,
  gossipMaxBytes: {
    blocks: 4 * MiB,
    txs: 1 * MiB,
    attestations: 4 * KiB,
    finalize_votes: 4 * KiB,
    slashings: 16 * KiB,
    ai_proofs: 4 * KiB,
    bridge_signatures: 72 * KiB, // a 64 KiB payload (the VAA bound) plus the body's fixed part and the signature
  },
  gossipScore: { invalidMessageDeliveriesWeight: -10, invalidMessageDeliveriesDecay: 0.9, appSpecificWeight: 1 },
  peerScore: {
    gossipRejectPenalty: 10,
    reqRespInvalidPenalty: 10,
    banThreshold: -50,
    banDurationMs: 30 * 60_000,
    halfLifeMs: 10 * 60_000,
    maxTrackedPeers: 4096,
  },
  reqResp: {
    timeoutMs: 10_000,
    maxRequestBytes: 4 * KiB,
    maxBlockBytes: 4 * MiB,
    maxInboundStreams: 4,
    snapshotTimeoutMs: 30_000,
    maxSnapshotBytes: 16 * MiB,
  },
  discovery: { targetPeers: 16, intervalMs: 10_000, maxConcurrentDials: 4 },
  dht: { enabled: true, clientMode: false, allowPrivateAddresses: true },
};

/** Deep-enough merge of partial options over the defaults (one level of nesting, as the option groups are flat). */
export function networkOptions(overrides: NetworkOptionsInput = {}): NetworkOptions {
  const d = defaultNetworkOptions;
  return {
    ...d,
    ...overrides,
    gossipMaxBytes: { ...d.gossipMaxBytes, ...overrides.gossipMaxBytes },
    gossipScore: { ...d.gossipScore, ...overrides.gossipScore },
    peerScore: { ...d.peerScore, ...overrides.peerScore },
    reqResp: { ...d.reqResp, ...overrides.reqResp },
    discovery: { ...d.discovery, ...overrides.discovery },
    dht: { ...d.dht, ...overrides.dht },
  };
}

export type NetworkOptionsInput = Partial<
  Omit<NetworkOptions, "gossipMaxBytes" | "gossipScore" | "peerScore" | "reqResp" | "discovery" | "dht">
> & {
  discovery?: Partial<DiscoveryOptions>;
  gossipMaxBytes?: Partial<NetworkOptions["gossipMaxBytes"]>;
  gossipScore?: Partial<GossipScoreOptions>;
  peerScore?: Partial<PeerScoreOptions>;
  reqResp?: Partial<ReqRespOptions>;
  dht?: Partial<NetworkOptions["dht"]>;
};
