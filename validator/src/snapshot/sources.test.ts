// Which snapshot a sync picks, and from whom: the newest that two sources hold, counting what a peer still serves
// besides the newest it announces (the clean-clone failure: validators 0 and 1 announced 32 and 48, and the sync
// took 48 from one peer alone while both held 32).
import { describe, expect, it } from "vitest";
import { pickSnapshot, type SnapshotSource } from "./sources.ts";

function source(name: string, listed: string[], serves: string[], partialListing: boolean): SnapshotSource {
  return {
    name,
    partialListing,
    list: async () => listed,
    manifest: async (id) => {
      if (!serves.includes(id)) throw new Error("not found");
      return new TextEncoder().encode(id);
    },
    chunk: async () => new Uint8Array(0),
  };
}

const ID = (n: number) => `${String(n).padStart(12, "0")}-00000000`;

describe("pickSnapshot", () => {
  it("prefers the newest snapshot two peers serve over a newer one only one has", async () => {
    const a = source("peer:a", [ID(32)], [ID(16), ID(32)], true);
    const b = source("peer:b", [ID(48)], [ID(16), ID(32), ID(48)], true);
    const picked = await pickSnapshot([a, b]);
    expect(picked.id).toBe(ID(32));
    expect(picked.sources.map((s) => s.name)).toEqual(["peer:a", "peer:b"]);
    expect(picked.offered).toEqual({ "peer:a": [ID(32)], "peer:b": [ID(48)] });
  });

  it("takes the newest when only one source has any, and refuses when nobody has one", async () => {
    const store = source("s3://b/p", [ID(16), ID(32)], [ID(16), ID(32)], false);
    const empty = source("peer:c", [], [], true);
    expect((await pickSnapshot([store, empty])).id).toBe(ID(32));
    await expect(pickSnapshot([empty])).rejects.toThrow(/SNAPSHOT_NOT_FOUND/);
  });

  it("does not ask a full listing for snapshots it does not list", async () => {
    const store = source("s3://b/p", [ID(16)], [ID(16), ID(32)], false);
    const peer = source("peer:a", [ID(32)], [ID(32)], true);
    const picked = await pickSnapshot([store, peer]);
    // Nobody holds one snapshot twice: the newest with the most holders, each with one.
    expect(picked.id).toBe(ID(32));
    expect(picked.sources.map((s) => s.name)).toEqual(["peer:a"]);
  });

  it("a wanted snapshot is taken from whoever serves it", async () => {
    const a = source("peer:a", [ID(48)], [ID(16), ID(48)], true);
    const picked = await pickSnapshot([a], ID(16));
    expect(picked.id).toBe(ID(16));
    expect(picked.sources).toHaveLength(1);
  });
});
