// The validator's p2p network: libp2p 3 with TCP + Noise + Yamux, Identify, Ping, GossipSub, Kademlia DHT and a
// bootstrap list. Gossip validation goes through one adapter (gossipValidatorFn.ts), req/resp through reqResp.ts,
// eclipse resistance through connectionGater.ts; this class wires them together and owns the lifecycle.

import { randomBytes } from "node:crypto";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { bootstrap } from "@libp2p/bootstrap";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { type GossipSub, type GossipsubMessage, gossipsub, StrictSign } from "@libp2p/gossipsub";
import { createPeerScoreParams, createTopicScoreParams, type TopicScoreParams } from "@libp2p/gossipsub/score";
import { type Identify, identify } from "@libp2p/identify";
import type { PeerId, PrivateKey } from "@libp2p/interface";
import { type KadDHT, kadDHT, passthroughMapper, removePrivateAddressesMapper } from "@libp2p/kad-dht";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { blake3 } from "@rustchain/shared";
import { createLibp2p, type Libp2p } from "libp2p";
import type { Logger } from "pino";
import { PrefixConnectionGater } from "./connectionGater.ts";
import { DiscoveryDialer } from "./discovery.ts";
import { NetworkError } from "./errors.ts";
import { createGossipValidatorFn, type GossipValidator } from "./gossipValidatorFn.ts";
import type { NetworkOptions } from "./options.ts";
import { loadOrCreatePeerKey } from "./peerKey.ts";
import { PeerScoreTracker } from "./peerScore.ts";
import { plainBytes } from "./plainBytes.ts";
import { ReqResp } from "./reqResp.ts";
import type { ReqRespHandlers, Status } from "./reqRespCodec.ts";
import { GOSSIP_TOPIC_NAMES, type GossipTopicName, gossipTopic, parseGossipTopic } from "./topics.ts";

export type NetworkServices = { identify: Identify; ping: Ping; pubsub: GossipSub; dht?: KadDHT };

export interface NetworkModules {
  logger: Logger;
  handlers: ReqRespHandlers;
  chainId: bigint;
  /** Gossip validation per topic (node/gossip.ts); a topic without one accepts anything within its size. */
  validators?: Partial<Record<GossipTopicName, GossipValidator>>;
  /** Traffic counters (the node's Prometheus metrics). */
  metrics?: NetworkMetrics;
}

export interface NetworkMetrics {
  gossip(topic: GossipTopicName, result: "accept" | "ignore" | "reject"): void;
  reqResp(protocol: string, direction: "in" | "out", result: string): void;
}

/** Receives every gossip message that passed validation on a subscribed topic; `from` is the propagating peer. */
export type GossipHandler = (topic: GossipTopicName, data: Uint8Array, from: PeerId) => void | Promise<void>;

/** gossipsub's score is on the implementation, not on its public interface. */
interface GossipSubScore {
  getScore(peerId: string): number;
}

/** Room for the RPC envelope (signature, key, seqno, topic, control messages) around the largest message. */
const RPC_OVERHEAD_BYTES = 64 * 1024;

export class Network {
  private node: Libp2p<NetworkServices> | undefined;
  private reqResp: ReqResp | undefined;
  private readonly scores: PeerScoreTracker;
  private readonly gater: PrefixConnectionGater;
  private readonly validators = new Map<GossipTopicName, GossipValidator>();
  private readonly subscriptions = new Set<GossipTopicName>();
  private readonly handlers = new Set<GossipHandler>();
  private readonly log: Logger;
  private privateKey: PrivateKey | undefined;
  private redialTimer: NodeJS.Timeout | undefined;
  private discovery: DiscoveryDialer | undefined;
  /** Peers an operator cut off (admin API): no connection in either direction until removed. */
  private readonly denied = new Set<string>();

  constructor(
    private readonly opts: NetworkOptions,
    private readonly modules: NetworkModules,
  ) {
    this.log = modules.logger;
    for (const [topic, validator] of Object.entries(modules.validators ?? {})) {
      if (validator) this.validators.set(topic as GossipTopicName, validator);
    }
    this.scores = new PeerScoreTracker(opts.peerScore);
    this.gater = new PrefixConnectionGater(opts, {
      logger: this.log,
      isBanned: (peer) => this.denied.has(peer.toString()) || this.scores.isBanned(peer.toString()),
      connectedPeers: () => {
        const peers = this.node?.getPeers() ?? [];
        return { count: peers.length, has: (p) => peers.some((q) => q.equals(p)) };
      },
    });
  }

  get peerId(): PeerId {
    return this.started().peerId;
  }

  /** The underlying libp2p node, for diagnostics and tests; protocol code goes through this class. */
  get libp2p(): Libp2p<NetworkServices> {
    return this.started();
  }

  /** Inbound connections refused by the per-prefix limit since this Network was created. */
  get refusedByPrefix(): number {
    return this.gater.refusedByPrefix;
  }

  async start(): Promise<void> {
    if (this.node !== undefined) throw new NetworkError({ code: "NETWORK_ALREADY_STARTED" });
    const { opts } = this;
    const { chainId } = this.modules;
    // Without a datadir the key lives as long as this object, so a stop/start keeps the peer id anyway.
    this.privateKey ??=
      opts.datadir !== undefined ? await loadOrCreatePeerKey(opts.datadir, this.log) : await generateKeyPair("Ed25519");
    for (const addr of opts.bootstrap) {
      // The bootstrap module would silently drop a bad entry; an operator typo should fail loudly instead.
      if (!isPeerMultiaddr(addr)) throw new NetworkError({ code: "INVALID_MULTIADDR", addr: addr.slice(0, 200) });
    }
    const topics = GOSSIP_TOPIC_NAMES.map((name) => gossipTopic(chainId, name));
    const maxGossipBytes = Math.max(...Object.values(opts.gossipMaxBytes));
    const topicScores: Record<string, TopicScoreParams> = {};
    for (const topic of topics) topicScores[topic] = this.topicScoreParams();

    const node = await createLibp2p<NetworkServices>({
      start: false,
      privateKey: this.privateKey,
      addresses: { listen: opts.listenAddrs, announce: opts.announceAddrs },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: this.gater.gater(),
      connectionManager: {
        maxConnections: opts.maxPeers,
        inboundConnectionThreshold: opts.inboundConnectionThreshold,
        dialTimeout: opts.dialTimeoutMs,
      },
      peerDiscovery:
        opts.bootstrap.length > 0 ? [bootstrap({ list: opts.bootstrap, timeout: opts.bootstrapDelayMs })] : [],
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          globalSignaturePolicy: StrictSign,
          // Content-addressed ids: the same block published by two peers is one message.
          msgIdFn: (msg) => blake3(msg.data),
          allowedTopics: topics,
          allowPublishToZeroTopicPeers: true,
          fallbackToFloodsub: false,
          maxInboundDataLength: maxGossipBytes + RPC_OVERHEAD_BYTES,
          scoreParams: createPeerScoreParams({
            topics: topicScores,
            appSpecificScore: (peer) => this.scores.score(peer),
            appSpecificWeight: opts.gossipScore.appSpecificWeight,
          }),
        }),
        ...(opts.dht.enabled
          ? {
              dht: kadDHT({
                protocol: `/rustchain/${chainId}/kad/1.0.0`,
                clientMode: opts.dht.clientMode,
                peerInfoMapper: opts.dht.allowPrivateAddresses ? passthroughMapper : removePrivateAddressesMapper,
              }),
            }
          : {}),
      },
    });
    const pubsub = node.services.pubsub;
    for (const name of GOSSIP_TOPIC_NAMES) {
      pubsub.topicValidators.set(
        gossipTopic(chainId, name),
        createGossipValidatorFn(name, {
          logger: this.log,
          maxBytes: opts.gossipMaxBytes[name],
          getValidator: () => this.validators.get(name),
          onReject: (from, code) => this.penalize(from, opts.peerScore.gossipRejectPenalty, code),
          onVerdict: (result) => this.modules.metrics?.gossip(name, result),
        }),
      );
    }
    pubsub.addEventListener("gossipsub:message", this.onGossipMessage);
    const reqResp = new ReqResp(opts.reqResp, {
      libp2p: node,
      handlers: this.modules.handlers,
      chainId,
      logger: this.log,
      onInvalid: (peer, code) => this.penalize(peer, opts.peerScore.reqRespInvalidPenalty, code),
      onOutcome: (protocol, direction, result) => this.modules.metrics?.reqResp(protocol, direction, result),
    });
    try {
      await reqResp.register();
      await node.start();
    } catch (e) {
      await Promise.resolve(node.stop()).catch(() => {});
      throw e;
    }
    this.node = node;
    this.reqResp = reqResp;
    for (const name of this.subscriptions) pubsub.subscribe(gossipTopic(chainId, name));
    // The bootstrap module dials its list once; keep redialling bootstrap peers we are not connected to, so a peer
    // that was down, refused us (rate limits) or was cut off by a partition is reconnected when it can be.
    if (opts.bootstrap.length > 0) {
      this.redialTimer = setInterval(() => this.redialBootstrap(), opts.bootstrapRedialMs);
      this.redialTimer.unref();
    }
    const dht = node.services.dht;
    const discovery = new DiscoveryDialer(opts.discovery, {
      self: node.peerId.toString(),
      logger: this.log,
      connected: () => node.getPeers(),
      allowed: (peer) => !this.denied.has(peer) && !this.scores.isBanned(peer),
      dial: async (peer) => {
        await node.dial(peer, { signal: AbortSignal.timeout(opts.dialTimeoutMs) });
      },
      walk: dht
        ? async (signal) => {
            for await (const _ of dht.getClosestPeers(randomBytes(32), { signal })) {
              // the query's answers are announced as peer:discovery events; nothing to collect here
            }
          }
        : undefined,
    });
    node.addEventListener("peer:discovery", this.onPeerDiscovery);
    discovery.start();
    this.discovery = discovery;
    this.log.info({ peerId: node.peerId.toString(), addrs: this.multiaddrs() }, "Network started");
  }

  private redialBootstrap(): void {
    const node = this.node;
    if (!node) return;
    const connected = new Set(node.getPeers().map((p) => p.toString()));
    for (const addr of this.opts.bootstrap) {
      const id = multiaddr(addr)
        .getComponents()
        .find((c) => c.name === "p2p")?.value;
      if (!id || connected.has(id) || this.denied.has(id) || this.scores.isBanned(id)) continue;
      node
        .dial(multiaddr(addr), { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) })
        .catch((e: unknown) => this.log.debug({ addr, err: (e as Error).message }, "Bootstrap redial failed"));
    }
  }

  private readonly onPeerDiscovery = (evt: CustomEvent<{ id: PeerId }>): void => {
    // Bootstrap peers are dialled by the bootstrap module and redialled by redialBootstrap.
    if (this.opts.bootstrap.some((addr) => addr.endsWith(`/p2p/${evt.detail.id.toString()}`))) return;
    this.discovery?.onDiscovered(evt.detail.id);
  };

  /** Peers connected because the DHT or a discovery module announced them (not counting bootstrap redials). */
  get discoveredDials(): number {
    return this.discovery?.dialled ?? 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.redialTimer);
    this.discovery?.stop();
    this.discovery = undefined;
    const node = this.node;
    if (node === undefined) return;
    node.removeEventListener("peer:discovery", this.onPeerDiscovery);
    this.node = undefined;
    this.reqResp = undefined;
    node.services.pubsub.removeEventListener("gossipsub:message", this.onGossipMessage);
    await node.stop();
    this.log.info("Network stopped");
  }

  /** Listen addresses, each ending in /p2p/<peer id>, ready for another node's bootstrap list or dial(). */
  multiaddrs(): string[] {
    return this.started()
      .getMultiaddrs()
      .map((ma) => ma.toString());
  }

  peers(): PeerId[] {
    return this.started().getPeers();
  }

  async dial(addr: string | Multiaddr): Promise<PeerId> {
    const text = addr.toString();
    let ma: Multiaddr;
    try {
      ma = typeof addr === "string" ? multiaddr(addr) : addr;
    } catch {
      throw new NetworkError({ code: "INVALID_MULTIADDR", addr: text.slice(0, 200) });
    }
    try {
      const conn = await this.started().dial(ma, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) });
      return conn.remotePeer;
    } catch (e) {
      throw new NetworkError({ code: "DIAL_FAILED", addr: text.slice(0, 200), reason: (e as Error).name });
    }
  }

  /** Replace the operator's deny list (peer ids) and drop open connections to denied peers. */
  async setDeniedPeers(peerIds: string[]): Promise<void> {
    this.denied.clear();
    for (const id of peerIds) this.denied.add(id);
    const node = this.started();
    await Promise.all(
      node
        .getPeers()
        .filter((p) => this.denied.has(p.toString()))
        .map((p) => node.hangUp(p).catch(() => {})),
    );
  }

  deniedPeers(): string[] {
    return [...this.denied];
  }

  async hangUp(peer: PeerId): Promise<void> {
    await this.started().hangUp(peer);
  }

  // --- gossip ---

  topic(name: GossipTopicName): string {
    return gossipTopic(this.modules.chainId, name);
  }

  /** Subscribe to a topic; remembered across stop/start. */
  subscribe(name: GossipTopicName): void {
    this.subscriptions.add(name);
    this.node?.services.pubsub.subscribe(this.topic(name));
  }

  unsubscribe(name: GossipTopicName): void {
    this.subscriptions.delete(name);
    this.node?.services.pubsub.unsubscribe(this.topic(name));
  }

  /** Set (or with undefined, clear) the validator of a topic; a topic without one accepts anything within its size. */
  setValidator(name: GossipTopicName, validator: GossipValidator | undefined): void {
    if (validator === undefined) this.validators.delete(name);
    else this.validators.set(name, validator);
  }

  /** Register a handler for accepted gossip; returns a function that removes it. */
  onGossip(handler: GossipHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Publish on a topic; returns how many peers it was sent to. Our own messages are not validated or delivered. */
  async publish(name: GossipTopicName, data: Uint8Array): Promise<number> {
    const topic = this.topic(name);
    const limit = this.opts.gossipMaxBytes[name];
    if (data.length > limit) throw new NetworkError({ code: "PUBLISH_TOO_LARGE", topic, size: data.length, limit });
    try {
      const result = await this.started().services.pubsub.publish(topic, data);
      return result.recipients.length;
    } catch (e) {
      throw new NetworkError({ code: "PUBLISH_FAILED", topic, reason: (e as Error).message.slice(0, 120) });
    }
  }

  /** Peers known to be subscribed to a topic. */
  topicPeers(name: GossipTopicName): PeerId[] {
    return this.started().services.pubsub.getSubscribers(this.topic(name));
  }

  private readonly onGossipMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    const { msg, propagationSource } = evt.detail;
    const name = parseGossipTopic(this.modules.chainId, msg.topic);
    if (name === undefined) return;
    const data = plainBytes(msg.data);
    for (const handler of this.handlers) {
      try {
        const r = handler(name, data, propagationSource);
        if (r instanceof Promise) r.catch((e: unknown) => this.handlerFailed(name, e));
      } catch (e) {
        this.handlerFailed(name, e);
      }
    }
  };

  private handlerFailed(topic: GossipTopicName, e: unknown): void {
    this.log.warn({ topic, err: (e as Error)?.message }, "Gossip handler failed");
  }

  // --- scores ---

  /** Our own score of a peer: 0 when unknown, lower after each violation, decaying back toward 0. */
  peerScore(peer: PeerId): number {
    return this.scores.score(peer.toString());
  }

  /** gossipsub's score of a peer (includes invalid deliveries and, weighted, peerScore()). */
  gossipScore(peer: PeerId): number {
    const pubsub = this.started().services.pubsub as unknown as Partial<GossipSubScore>;
    return typeof pubsub.getScore === "function" ? pubsub.getScore(peer.toString()) : 0;
  }

  isBanned(peer: PeerId): boolean {
    return this.scores.isBanned(peer.toString());
  }

  /**
   * A peer served something wrong outside gossip and the req/resp codec, e.g. sync blocks that fail to import.
   * "invalid" costs the req/resp penalty; "irrelevant" (another genesis, a chain that conflicts with our
   * weak-subjectivity checkpoint: nothing it serves can ever be used here) bans it at once.
   */
  reportPeer(peer: PeerId, code: string, kind: "invalid" | "irrelevant"): void {
    const { peerScore } = this.opts;
    const penalty =
      kind === "invalid"
        ? peerScore.reqRespInvalidPenalty
        : Math.max(0, this.scores.score(peer.toString()) - peerScore.banThreshold) + 1;
    this.penalize(peer, penalty, code);
  }

  private penalize(peer: PeerId, penalty: number, code: string): void {
    const wasBanned = this.scores.isBanned(peer.toString());
    const { banned, score } = this.scores.penalize(peer.toString(), penalty);
    this.log.debug({ peer: peer.toString(), code, score }, "Peer penalised");
    if (banned && !wasBanned) {
      this.log.info({ peer: peer.toString(), code, score }, "Peer banned");
      this.node?.hangUp(peer).catch((e: unknown) => this.log.debug({ err: (e as Error).message }, "Hang up failed"));
    }
  }

  // --- req/resp ---

  async requestStatus(peer: PeerId): Promise<Status> {
    return this.startedReqResp().status(peer);
  }

  async requestBlocksByRange(peer: PeerId, start: bigint, count: number): Promise<Uint8Array[]> {
    return this.startedReqResp().blocksByRange(peer, start, count);
  }

  async requestBlocksByRoot(peer: PeerId, hashes: Uint8Array[]): Promise<Uint8Array[]> {
    return this.startedReqResp().blocksByRoot(peer, hashes);
  }

  async requestFinalityCertificates(peer: PeerId, fromSlot: bigint, count: number): Promise<Uint8Array[]> {
    return this.startedReqResp().finalityCertificates(peer, fromSlot, count);
  }

  async requestSnapshotManifest(peer: PeerId, id: string | undefined): Promise<Uint8Array | undefined> {
    return this.startedReqResp().snapshotManifest(peer, id);
  }

  async requestSnapshotChunk(peer: PeerId, id: string, index: number): Promise<Uint8Array | undefined> {
    return this.startedReqResp().snapshotChunk(peer, id, index);
  }

  private topicScoreParams(): TopicScoreParams {
    const g = this.opts.gossipScore;
    return createTopicScoreParams({
      topicWeight: 1,
      // Time in mesh earns at most +3 per topic (0.01 per second, capped at 300 s), so it cannot hide a REJECT.
      timeInMeshWeight: 0.01,
      timeInMeshQuantum: 1000,
      timeInMeshCap: 300,
      // Mesh delivery quotas and failure penalties punish quiet topics, and a young chain's topics are quiet.
      meshMessageDeliveriesWeight: 0,
      meshFailurePenaltyWeight: 0,
      invalidMessageDeliveriesWeight: g.invalidMessageDeliveriesWeight,
      invalidMessageDeliveriesDecay: g.invalidMessageDeliveriesDecay,
    });
  }

  private started(): Libp2p<NetworkServices> {
    if (this.node === undefined) throw new NetworkError({ code: "NETWORK_NOT_STARTED" });
    return this.node;
  }

  private startedReqResp(): ReqResp {
    if (this.reqResp === undefined) throw new NetworkError({ code: "NETWORK_NOT_STARTED" });
    return this.reqResp;
  }
}

function isPeerMultiaddr(addr: string): boolean {
  try {
    return multiaddr(addr)
      .getComponents()
      .some((c) => c.name === "p2p");
  } catch {
    return false;
  }
}

export function createNetwork(opts: NetworkOptions, modules: NetworkModules): Network {
  return new Network(opts, modules);
}
