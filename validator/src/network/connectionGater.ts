// Eclipse resistance at the connection level: an attacker who controls one address block must not fill our peer
// slots. Inbound connections are counted per IPv4 /24 (IPv6 /48) prefix, both limits configurable, and refused past
// maxInboundPerPrefix before any handshake work is done. Banned peers are refused in both directions, and inbound
// peers are refused once maxPeers distinct peers are connected.
import type { ConnectionGater, MultiaddrConnection, PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "pino";

export interface PrefixGaterOptions {
  maxInboundPerPrefix: number;
  ipv4PrefixBits: number;
  ipv6PrefixBits: number;
  maxPeers: number;
}

export interface PrefixGaterModules {
  logger: Logger;
  isBanned(peer: PeerId): boolean;
  /** Distinct connected peers and whether `peer` is one of them (from libp2p, once started). */
  connectedPeers(): { count: number; has(peer: PeerId): boolean };
}

export class PrefixConnectionGater {
  /** Open inbound connections per address prefix; entries leave when the connection closes. */
  private readonly inbound = new Map<string, Set<MultiaddrConnection>>();
  /** Inbound connections refused because their prefix was full (for tests and metrics). */
  refusedByPrefix = 0;

  constructor(
    private readonly opts: PrefixGaterOptions,
    private readonly modules: PrefixGaterModules,
  ) {}

  gater(): ConnectionGater {
    return {
      denyDialPeer: (peer) => this.modules.isBanned(peer),
      denyInboundConnection: (maConn) => this.denyInbound(maConn),
      denyInboundEncryptedConnection: (peer) => this.modules.isBanned(peer) || this.peerSlotsFull(peer),
      denyOutboundEncryptedConnection: (peer) => this.modules.isBanned(peer),
    };
  }

  inboundCount(prefix: string): number {
    return this.inbound.get(prefix)?.size ?? 0;
  }

  private denyInbound(maConn: MultiaddrConnection): boolean {
    const prefix = addressPrefix(maConn.remoteAddr, this.opts.ipv4PrefixBits, this.opts.ipv6PrefixBits);
    if (prefix === undefined) return false;
    let open = this.inbound.get(prefix);
    if (open === undefined) {
      open = new Set();
      this.inbound.set(prefix, open);
    }
    if (open.size >= this.opts.maxInboundPerPrefix) {
      this.refusedByPrefix++;
      this.modules.logger.debug({ prefix, open: open.size }, "Inbound connection refused: address prefix full");
      return true;
    }
    const set = open;
    set.add(maConn);
    maConn.addEventListener(
      "close",
      () => {
        set.delete(maConn);
        if (set.size === 0 && this.inbound.get(prefix) === set) this.inbound.delete(prefix);
      },
      { once: true },
    );
    return false;
  }

  private peerSlotsFull(peer: PeerId): boolean {
    const connected = this.modules.connectedPeers();
    return connected.count >= this.opts.maxPeers && !connected.has(peer);
  }
}

/**
 * The address block a multiaddr's IP belongs to, e.g. "ip4/10.1.2.0/24"; undefined for non-IP addresses.
 * IPv4-mapped IPv6 addresses count as IPv4.
 */
export function addressPrefix(addr: Multiaddr, ipv4Bits: number, ipv6Bits: number): string | undefined {
  const first = addr.getComponents()[0];
  if (first === undefined || first.value === undefined) return undefined;
  if (first.name === "ip4") {
    const bytes = parseIpv4(first.value);
    return bytes === undefined ? undefined : `ip4/${maskBytes(bytes, ipv4Bits).join(".")}/${ipv4Bits}`;
  }
  if (first.name === "ip6") {
    const bytes = parseIpv6(first.value);
    if (bytes === undefined) return undefined;
    if (isIpv4Mapped(bytes)) return `ip4/${maskBytes(bytes.slice(12), ipv4Bits).join(".")}/${ipv4Bits}`;
    const masked = maskBytes(bytes, ipv6Bits);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((masked[i] << 8) | masked[i + 1]).toString(16));
    return `ip6/${groups.join(":")}/${ipv6Bits}`;
  }
  return undefined;
}

function maskBytes(bytes: number[], bits: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

function parseIpv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIpv6(s: string): number[] | undefined {
  const zone = s.indexOf("%");
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  const halves = addr.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        out.push(...v4);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        const n = Number.parseInt(g, 16);
        out.push(n >> 8, n & 0xff);
      }
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 16 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

function isIpv4Mapped(b: number[]): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
