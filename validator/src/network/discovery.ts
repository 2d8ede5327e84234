// Peer discovery beyond the bootstrap list. libp2p 3 has no auto-dialer: discovery modules and the Kademlia DHT only
// announce peers (`peer:discovery`). This dials announced peers while the node has fewer than `targetPeers`
// connections, and, while it is short, runs a DHT random walk (a closest-peers query for a random key) every
// `intervalMs`, whose answers announce more peers. A node that knows one bootstrap peer thus meets the rest of the
// network, which is what keeps it from being eclipsed by the few peers it was told about.
//
// Every dial goes through the connection gater (bans, deny list, per-prefix limits) like any other; dials are
// bounded (`maxConcurrentDials` in flight, each with the dial timeout) and the walk is aborted at the next round.
import type { PeerId } from "@libp2p/interface";
import type { Logger } from "pino";

export interface DiscoveryOptions {
  /** Dial announced peers while connected to fewer than this many. */
  targetPeers: number;
  /** How often a node below targetPeers runs a DHT random walk (ms); the first round runs one interval after start. */
  intervalMs: number;
  maxConcurrentDials: number;
}

export interface DiscoveryDeps {
  self: string;
  logger: Logger;
  connected(): PeerId[];
  /** False for banned or denied peers: never dialled from here. */
  allowed(peer: string): boolean;
  dial(peer: PeerId): Promise<void>;
  /** A DHT random walk; undefined when the DHT is off. Announcements arrive through onDiscovered. */
  walk?(signal: AbortSignal): Promise<void>;
}

export class DiscoveryDialer {
  private readonly inflight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private walking: AbortController | undefined;
  /** Peers dialled because they were announced (for diagnostics and tests). */
  dialled = 0;

  constructor(
    private readonly opts: DiscoveryOptions,
    private readonly deps: DiscoveryDeps,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.round(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.walking?.abort();
    this.walking = undefined;
  }

  /** A discovery module or the DHT announced a peer. */
  onDiscovered(peer: PeerId): void {
    if (this.timer === undefined) return;
    const id = peer.toString();
    if (id === this.deps.self || this.inflight.has(id) || !this.deps.allowed(id)) return;
    const connected = this.deps.connected();
    if (connected.some((p) => p.equals(peer))) return;
    if (connected.length + this.inflight.size >= this.opts.targetPeers) return;
    if (this.inflight.size >= this.opts.maxConcurrentDials) return;
    this.inflight.add(id);
    this.deps
      .dial(peer)
      .then(() => {
        this.dialled++;
        this.deps.logger.debug({ peer: id }, "Connected to a discovered peer");
      })
      .catch((e: unknown) => this.deps.logger.debug({ peer: id, err: (e as Error).message }, "Discovery dial failed"))
      .finally(() => this.inflight.delete(id));
  }

  private round(): void {
    const { walk } = this.deps;
    if (walk === undefined || this.deps.connected().length >= this.opts.targetPeers) return;
    // One walk at a time: a walk still running when the next round comes is aborted and a new one starts.
    this.walking?.abort();
    const controller = new AbortController();
    this.walking = controller;
    walk(controller.signal)
      .catch((e: unknown) => {
        if (!controller.signal.aborted) this.deps.logger.debug({ err: (e as Error).message }, "DHT walk failed");
      })
      .finally(() => {
        if (this.walking === controller) this.walking = undefined;
      });
  }
}
