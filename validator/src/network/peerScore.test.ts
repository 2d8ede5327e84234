import { multiaddr } from "@multiformats/multiaddr";
import { describe, expect, it } from "vitest";
import { addressPrefix } from "./connectionGater.ts";
import { PeerScoreTracker } from "./peerScore.ts";

const opts = {
  gossipRejectPenalty: 10,
  reqRespInvalidPenalty: 10,
  banThreshold: -50,
  banDurationMs: 1000,
  halfLifeMs: 100,
  maxTrackedPeers: 3,
};

describe("PeerScoreTracker", () => {
  it("penalties accumulate, decay with the half-life, and ban below the threshold until the ban expires", () => {
    let now = 0;
    const s = new PeerScoreTracker(opts, () => now);
    expect(s.penalize("p", 30)).toEqual({ banned: false, score: -30 });
    now = 100;
    expect(s.score("p")).toBeCloseTo(-15);
    expect(s.penalize("p", 40)).toEqual({ banned: true, score: -55 });
    expect(s.isBanned("p")).toBe(true);
    now = 1101;
    expect(s.isBanned("p")).toBe(false);
    expect(s.score("unknown")).toBe(0);
  });

  it("tracks a bounded number of peers, evicting the oldest unbanned first", () => {
    const s = new PeerScoreTracker(opts, () => 0);
    s.penalize("banned", 100);
    for (const p of ["a", "b", "c"]) s.penalize(p, 1);
    expect(s.isBanned("banned")).toBe(true);
    expect(s.score("a")).toBe(0);
    expect(s.score("c")).toBe(-1);
  });
});

describe("addressPrefix", () => {
  it("groups IPv4 by /24 and IPv6 by /48; IPv4-mapped IPv6 counts as IPv4", () => {
    expect(addressPrefix(multiaddr("/ip4/127.0.0.1/tcp/1"), 24, 48)).toBe("ip4/127.0.0.0/24");
    expect(addressPrefix(multiaddr("/ip4/10.1.2.200/tcp/1"), 16, 48)).toBe("ip4/10.1.0.0/16");
    expect(addressPrefix(multiaddr("/ip6/2001:db8:aa:bb::1/tcp/1"), 24, 48)).toBe("ip6/2001:db8:aa:0:0:0:0:0/48");
    expect(addressPrefix(multiaddr("/ip6/::ffff:192.168.7.9/tcp/1"), 24, 48)).toBe("ip4/192.168.7.0/24");
    expect(addressPrefix(multiaddr("/dns4/example.com/tcp/1"), 24, 48)).toBeUndefined();
  });
});
