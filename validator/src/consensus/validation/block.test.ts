// Gossip validation of blocks (the cheap checks before import): a block by a proposer elected for its slot (VRF-eligible,
// or the flagged fallback pick) is accepted; each rule's failure comes out with its action and code. The context is a
// stub around a real ChainView, whose headers live in a map and whose state answers registry reads for 4 validators
// of a devnet genesis (32 RTC each, no AI score), so the election check runs the real seed and weight code.
import {
  type Block,
  type BlockHeader,
  blake3,
  blockExtrasRoot,
  blockHash,
  blsKeypairFromSeed,
  blsSign,
  bytesToHex,
  concatBytes,
  EMPTY_EXTRAS,
  encodeBlock,
  equalBytes,
  parseGenesis,
} from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { blockSigningRoot } from "../../chain/chain.ts";
import type { HeaderStore } from "../../chain/headerStore.ts";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, u256 } from "../../chain/validatorRegistry.ts";
import { devnetFeeRecipient, devnetGenesis } from "../../cli/devnetGenesis.ts";
import { GossipValidationError } from "../../network/errors.ts";
import type { StateDb } from "../../state/stateDb.ts";
import { ChainView, encodeVrfClaim } from "../chainView.ts";
import { computeVrf, fallbackProposer, isEligible, totalWeight } from "../election/vrfElection.ts";
import { validateGossipBlock } from "./block.ts";
import type { BlockGossipContext } from "./context.ts";

const N = 4;
const keys = Array.from({ length: N }, (_, i) => blsKeypairFromSeed(new Uint8Array(32).fill(0x71 + i)));
const genesis = parseGenesis(
  devnetGenesis(
    keys.map((k, i) => ({ secretKey: k.secretKey, feeRecipient: devnetFeeRecipient(i) })),
    1000,
  ),
);
const CHAIN_ID = genesis.params.chainId;
const F = genesis.params.expectedLeadersPerSlot;
const NOW = 12n;
const TOLERANCE = 1;

// ---------------------------------------------------------------- a tiny stored chain: genesis and one child

/** State roots: everyone staked at genesis; validator SLASHED slashed in the child's state. */
const GENESIS_STATE = new Uint8Array(32).fill(0xe0);
const SLASHED_STATE = new Uint8Array(32).fill(0xe1);

function header(o: Partial<BlockHeader>): BlockHeader {
  return {
    parentHash: new Uint8Array(32),
    slot: 0n,
    number: 0n,
    proposerIndex: 0n,
    coinbase: new Uint8Array(20),
    vrfProof: new Uint8Array(0),
    stateRoot: GENESIS_STATE,
    transactionsRoot: new Uint8Array(32).fill(4),
    receiptsRoot: new Uint8Array(32).fill(5),
    logsBloom: new Uint8Array(256),
    gasLimit: genesis.gasLimit,
    gasUsed: 0n,
    baseFeePerGas: genesis.baseFeePerGas,
    timestamp: genesis.timestamp,
    extraData: new Uint8Array(0),
    extrasRoot: blockExtrasRoot(EMPTY_EXTRAS),
    signature: new Uint8Array(0),
    ...o,
  };
}

const genesisHeader = header({});
const GENESIS_HASH = blockHash(genesisHeader);

const stored = new Map<string, BlockHeader>([[bytesToHex(GENESIS_HASH), genesisHeader]]);
function store(h: BlockHeader): BlockHeader {
  stored.set(bytesToHex(blockHash(h)), h);
  return h;
}

const stakeWeights = genesis.validators.map((v) => v.stake * 10_000n);

function registryWords(slashed: number | undefined): Map<string, Uint8Array> {
  const words = new Map<string, Uint8Array>();
  for (const [i, v] of genesis.validators.entries()) {
    words.set(bytesToHex(registrySlot(i, RegistryField.stake)), u256(v.stake));
    words.set(bytesToHex(registrySlot(i, RegistryField.aiScoreBps)), u256(0n));
    words.set(bytesToHex(registrySlot(i, RegistryField.slashed)), u256(i === slashed ? 1n : 0n));
  }
  return words;
}

const headers = { get: async (hash: Uint8Array) => stored.get(bytesToHex(hash)) } as unknown as HeaderStore;
const states = new Map<string, Map<string, Uint8Array>>([[bytesToHex(GENESIS_STATE), registryWords(undefined)]]);
const state = {
  storageAt: async (root: Uint8Array, address: Uint8Array, slot: Uint8Array) => {
    if (!equalBytes(address, REGISTRY_ADDRESS)) throw new Error("only the registry is read");
    const words = states.get(bytesToHex(root));
    if (words === undefined) throw new Error(`unknown state root ${bytesToHex(root)}`);
    return words.get(bytesToHex(slot)) ?? new Uint8Array(32);
  },
} as unknown as StateDb;

const view = new ChainView(genesis, { headers, state });
view.init(GENESIS_HASH);
const SEED = view.genesisSeed;

// ---------------------------------------------------------------- elections of slots 2..13 (epochs 0 and 1)

interface SlotElection {
  slot: bigint;
  eligible: number[];
  fallback: number;
}
const elections: SlotElection[] = [];
for (let s = 2n; s <= NOW + BigInt(TOLERANCE); s++) {
  const W = totalWeight(stakeWeights);
  const eligible = keys.flatMap((k, i) =>
    isEligible(computeVrf(k.secretKey, CHAIN_ID, SEED, s).output, stakeWeights[i]!, W, F) ? [i] : [],
  );
  elections.push({ slot: s, eligible, fallback: fallbackProposer(CHAIN_ID, SEED, s, stakeWeights) });
}
const elected = elections.find((e) => e.eligible.length > 0)!;
/** A slot and validator that is neither eligible nor the fallback pick. */
const loser = elections.flatMap((e) =>
  keys.flatMap((_, v) => (!e.eligible.includes(v) && v !== e.fallback ? [{ slot: e.slot, v }] : [])),
)[0]!;

/** A child of genesis at slot 1 whose state has the elected validator slashed (weight 0). */
const SLASHED = elected.eligible[0]!;
states.set(bytesToHex(SLASHED_STATE), registryWords(SLASHED));
const slashedParent = store(
  header({ parentHash: GENESIS_HASH, slot: 1n, number: 1n, stateRoot: SLASHED_STATE, proposerIndex: 3n }),
);

function vrf(v: number, slot: bigint, fallback = false, seed = SEED): Uint8Array {
  return encodeVrfClaim(computeVrf(keys[v]!.secretKey, CHAIN_ID, seed, slot).proof, fallback);
}

interface BlockOptions {
  slot: bigint;
  proposer: number;
  vrfProof?: Uint8Array;
  parent?: BlockHeader;
  parentHash?: Uint8Array;
  signer?: number;
  coinbase?: Uint8Array;
  chainId?: bigint;
}

function block(o: BlockOptions): Block {
  const parent = o.parent ?? genesisHeader;
  const h = header({
    parentHash: o.parentHash ?? blockHash(parent),
    slot: o.slot,
    number: parent.number + 1n,
    proposerIndex: BigInt(o.proposer),
    coinbase: o.coinbase ?? genesis.validators[o.proposer]?.feeRecipient ?? new Uint8Array(20).fill(9),
    vrfProof: o.vrfProof ?? vrf(o.proposer, o.slot),
    stateRoot: new Uint8Array(32).fill(0xaa),
    timestamp: genesis.timestamp + o.slot,
  });
  const signer = keys[o.signer ?? o.proposer]!;
  h.signature = blsSign(signer.secretKey, blockSigningRoot(o.chainId ?? CHAIN_ID, blockHash(h)));
  return { header: h, transactions: [], ...EMPTY_EXTRAS };
}

const encoded = (o: BlockOptions) => encodeBlock(block(o));

function context(
  o: { finalized?: number; known?: Uint8Array[]; now?: bigint; offFinalizedChain?: Uint8Array[] } = {},
): BlockGossipContext {
  const known = new Set((o.known ?? []).map(bytesToHex));
  return {
    chainId: CHAIN_ID,
    currentSlot: () => o.now ?? NOW,
    finalizedSlot: () => o.finalized ?? 0,
    futureSlotTolerance: TOLERANCE,
    voteWindowSlots: 8,
    pubkeyOf: (i) => genesis.validators[i]?.blsPublicKey,
    view,
    hasBlock: async (hash) => known.has(bytesToHex(hash)),
    header: async (hash) => stored.get(bytesToHex(hash)),
    feeRecipientOf: (i) => genesis.validators[i]?.feeRecipient,
    onFinalizedChain: (hash) => !(o.offFinalizedChain ?? []).some((h) => bytesToHex(h) === bytesToHex(hash)),
  };
}

async function verdict(bytes: Uint8Array, ctx = context()): Promise<string> {
  try {
    await validateGossipBlock(ctx, bytes);
    return "accept";
  } catch (e) {
    expect(e).toBeInstanceOf(GossipValidationError);
    const err = e as GossipValidationError;
    return `${err.action} ${err.type.code}`;
  }
}

describe("validateGossipBlock", () => {
  it("the fixture has an eligible slot, a fallback pick and a loser in slots 2..13", () => {
    expect(elected.eligible.length).toBeGreaterThan(0);
    expect(loser.v).not.toBe(elections.find((e) => e.slot === loser.slot)!.fallback);
    expect(CHAIN_ID).toBe(21076n);
  });

  it("accepts a block by a VRF-eligible proposer and returns it decoded", async () => {
    const b = block({ slot: elected.slot, proposer: elected.eligible[0]! });
    const out = await validateGossipBlock(context(), encodeBlock(b));
    expect(out).toEqual(b);
    expect(blockHash(out.header)).toEqual(blockHash(b.header));
  });

  it("accepts a block by the slot's fallback pick when it says so", async () => {
    for (const e of elections.slice(0, 3)) {
      expect(
        await verdict(encoded({ slot: e.slot, proposer: e.fallback, vrfProof: vrf(e.fallback, e.slot, true) })),
      ).toBe("accept");
    }
  });

  it("REJECT BLOCK_MALFORMED: random bytes, truncated, extended, a short parent hash", async () => {
    const valid = encoded({ slot: elected.slot, proposer: elected.eligible[0]! });
    expect(await verdict(Uint8Array.from({ length: 300 }, (_, i) => (i * 29 + 1) & 0xff))).toBe(
      "REJECT BLOCK_MALFORMED",
    );
    expect(await verdict(new Uint8Array(0))).toBe("REJECT BLOCK_MALFORMED");
    expect(await verdict(valid.subarray(0, valid.length - 1))).toBe("REJECT BLOCK_MALFORMED");
    expect(await verdict(concatBytes(valid, Uint8Array.of(0)))).toBe("REJECT BLOCK_MALFORMED");
    const b = block({ slot: elected.slot, proposer: elected.eligible[0]! });
    const short = encodeBlock({ ...b, header: { ...b.header, parentHash: b.header.parentHash.subarray(1) } });
    expect(await verdict(short)).toBe("REJECT BLOCK_MALFORMED");
  });

  it("REJECT BLOCK_FUTURE_SLOT beyond now + tolerance", async () => {
    const slot = NOW + BigInt(TOLERANCE) + 1n;
    expect(await verdict(encoded({ slot, proposer: 0 }))).toBe("REJECT BLOCK_FUTURE_SLOT");
    expect(await verdict(encoded({ slot: 1n << 40n, proposer: 0 }))).toBe("REJECT BLOCK_FUTURE_SLOT");
  });

  it("IGNORE BLOCK_FINALIZED_SLOT at or before the finalized slot; one slot after is accepted", async () => {
    const bytes = encoded({ slot: elected.slot, proposer: elected.eligible[0]! });
    const fin = Number(elected.slot);
    expect(await verdict(bytes, context({ finalized: fin }))).toBe("IGNORE BLOCK_FINALIZED_SLOT");
    expect(await verdict(bytes, context({ finalized: fin + 3 }))).toBe("IGNORE BLOCK_FINALIZED_SLOT");
    expect(await verdict(bytes, context({ finalized: fin - 1 }))).toBe("accept");
  });

  it("IGNORE BLOCK_ALREADY_KNOWN for a stored block", async () => {
    const b = block({ slot: elected.slot, proposer: elected.eligible[0]! });
    expect(await verdict(encodeBlock(b), context({ known: [blockHash(b.header)] }))).toBe("IGNORE BLOCK_ALREADY_KNOWN");
    expect(await verdict(encodeBlock(b), context({ known: [GENESIS_HASH] }))).toBe("accept");
  });

  it("REJECT BLOCK_INVALID_PROPOSER: an index outside the set, or a coinbase that is not its fee recipient", async () => {
    expect(await verdict(encoded({ slot: elected.slot, proposer: N, signer: 0, vrfProof: vrf(0, elected.slot) }))).toBe(
      "REJECT BLOCK_INVALID_PROPOSER",
    );
    const p = elected.eligible[0]!;
    const other = genesis.validators[(p + 1) % N]!.feeRecipient;
    expect(await verdict(encoded({ slot: elected.slot, proposer: p, coinbase: other }))).toBe(
      "REJECT BLOCK_INVALID_PROPOSER",
    );
  });

  it("REJECT BLOCK_INVALID_SIGNATURE: signed by another validator's key, for another chain, or not a signature", async () => {
    const p = elected.eligible[0]!;
    const o = { slot: elected.slot, proposer: p };
    expect(await verdict(encoded({ ...o, signer: (p + 1) % N }))).toBe("REJECT BLOCK_INVALID_SIGNATURE");
    expect(await verdict(encoded({ ...o, chainId: CHAIN_ID + 1n }))).toBe("REJECT BLOCK_INVALID_SIGNATURE");
    const b = block(o);
    const garbage = Uint8Array.from({ length: 96 }, (_, i) => (i * 7 + 1) & 0xff);
    expect(await verdict(encodeBlock({ ...b, header: { ...b.header, signature: garbage } }))).toBe(
      "REJECT BLOCK_INVALID_SIGNATURE",
    );
    expect(await verdict(encodeBlock({ ...b, header: { ...b.header, signature: new Uint8Array(0) } }))).toBe(
      "REJECT BLOCK_INVALID_SIGNATURE",
    );
  });

  it("IGNORE BLOCK_UNKNOWN_PARENT when the parent is not stored", async () => {
    const p = elected.eligible[0]!;
    const orphan = encoded({ slot: elected.slot, proposer: p, parentHash: new Uint8Array(32).fill(0x77) });
    expect(await verdict(orphan)).toBe("IGNORE BLOCK_UNKNOWN_PARENT");
  });

  it("IGNORE BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN: a block on a branch our finality excludes is not its sender's fault", async () => {
    const o = { slot: elected.slot, proposer: elected.eligible[0]! };
    // The same block is accepted while its parent (genesis here) is on the finalized chain.
    expect(await verdict(encoded(o))).toBe("accept");
    const ctx = context({ offFinalizedChain: [GENESIS_HASH] });
    expect(await verdict(encoded(o), ctx)).toBe("IGNORE BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN");
  });

  it("REJECT BLOCK_INVALID_SLOT for a slot not after the parent's", async () => {
    const parent = store(header({ parentHash: GENESIS_HASH, slot: 9n, number: 1n, proposerIndex: 1n }));
    expect(await verdict(encoded({ slot: 9n, proposer: 0, parent }))).toBe("REJECT BLOCK_INVALID_SLOT");
    expect(await verdict(encoded({ slot: 8n, proposer: 0, parent }))).toBe("REJECT BLOCK_INVALID_SLOT");
  });

  it("REJECT BLOCK_PROPOSER_NOT_ELECTED: neither eligible nor the fallback pick", async () => {
    expect(await verdict(encoded({ slot: loser.slot, proposer: loser.v }))).toBe("REJECT BLOCK_PROPOSER_NOT_ELECTED");
    // Claiming to be the fallback does not help a validator that is not the pick.
    expect(
      await verdict(encoded({ slot: loser.slot, proposer: loser.v, vrfProof: vrf(loser.v, loser.slot, true) })),
    ).toBe("REJECT BLOCK_PROPOSER_NOT_ELECTED");
  });

  it("REJECT BLOCK_PROPOSER_NOT_ELECTED: a VRF proof over another seed, another slot, or not a signature", async () => {
    const p = elected.eligible[0]!;
    const s = elected.slot;
    const otherSeed = new Uint8Array(32).fill(0x42);
    expect(await verdict(encoded({ slot: s, proposer: p, vrfProof: vrf(p, s, false, otherSeed) }))).toBe(
      "REJECT BLOCK_PROPOSER_NOT_ELECTED",
    );
    expect(await verdict(encoded({ slot: s, proposer: p, vrfProof: vrf(p, s + 1n) }))).toBe(
      "REJECT BLOCK_PROPOSER_NOT_ELECTED",
    );
    // Another validator's proof for the slot.
    expect(await verdict(encoded({ slot: s, proposer: p, vrfProof: vrf((p + 1) % N, s) }))).toBe(
      "REJECT BLOCK_PROPOSER_NOT_ELECTED",
    );
    const garbage = Uint8Array.from({ length: 96 }, (_, i) => (i * 11 + 3) & 0xff);
    expect(await verdict(encoded({ slot: s, proposer: p, vrfProof: garbage }))).toBe(
      "REJECT BLOCK_PROPOSER_NOT_ELECTED",
    );
  });

  it("REJECT BLOCK_PROPOSER_NOT_ELECTED when the proposer has no weight at the parent's state (slashed)", async () => {
    const o = { slot: elected.slot, proposer: SLASHED };
    expect(await verdict(encoded(o))).toBe("accept");
    expect(await verdict(encoded({ ...o, parent: slashedParent }))).toBe("REJECT BLOCK_PROPOSER_NOT_ELECTED");
  });

  it("from epoch 2 the VRF runs under the chain's next seed, not the genesis seed", async () => {
    // Epoch 2 (slots 16..23) on a chain with no block since genesis: seed = blake3(genesis seed) (nextEpochSeed).
    const seed2 = blake3(SEED);
    const W = totalWeight(stakeWeights);
    const found = Array.from({ length: 8 }, (_, i) => 16n + BigInt(i))
      .flatMap((slot) =>
        keys.flatMap((k, v) =>
          isEligible(computeVrf(k.secretKey, CHAIN_ID, seed2, slot).output, stakeWeights[v]!, W, F)
            ? [{ slot, v }]
            : [],
        ),
      )
      .at(0)!;
    const ctx = context({ now: 23n });
    const o = { slot: found.slot, proposer: found.v };
    expect(await verdict(encoded({ ...o, vrfProof: vrf(found.v, found.slot, false, seed2) }), ctx)).toBe("accept");
    expect(await verdict(encoded({ ...o, vrfProof: vrf(found.v, found.slot, false, SEED) }), ctx)).toBe(
      "REJECT BLOCK_PROPOSER_NOT_ELECTED",
    );
  });

  it("REJECT BLOCK_VRF_MALFORMED for a VRF claim of the wrong length or flag", async () => {
    const p = elected.eligible[0]!;
    const s = elected.slot;
    const proof = vrf(p, s);
    for (const bad of [
      new Uint8Array(0),
      proof.subarray(0, 95),
      concatBytes(proof, Uint8Array.of(2)), // 97 bytes, but the flag is not 1
      concatBytes(proof, Uint8Array.of(1, 1)),
      new Uint8Array(192),
    ]) {
      expect(await verdict(encoded({ slot: s, proposer: p, vrfProof: bad }))).toBe("REJECT BLOCK_VRF_MALFORMED");
    }
  });
});
