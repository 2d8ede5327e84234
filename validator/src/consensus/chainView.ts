// What consensus reads from the stored chain: headers by hash (cached), ancestors by slot, epoch seeds, and the
// validator registry at a block's state. Everything here is a pure function of the stored blocks, so every node
// derives the same seed and weights for the same chain.
import { type BlockHeader, blake3, bytesToHex, concatBytes, type Genesis } from "@rustchain/shared";
import type { HeaderStore } from "../chain/headerStore.ts";
import { REGISTRY_ADDRESS, readValidators, type ValidatorRecord, validatorWeight } from "../chain/validatorRegistry.ts";
import type { StateDb } from "../state/stateDb.ts";
import { nextEpochSeed, VRF_PROOF_LENGTH, vrfOutput } from "./election/vrfElection.ts";
import { ConsensusError } from "./errors.ts";

const GENESIS_SEED_DOMAIN = new TextEncoder().encode("RUSTCHAIN_GENESIS_SEED_V1");
const HEADER_CACHE = 4096;
const SEED_CACHE = 1024;
const REGISTRY_CACHE = 256;

/** A header's VRF claim: 96-byte proof, or the proof followed by 0x01 for a fallback proposal. */
export function parseVrfClaim(vrfProof: Uint8Array): { proof: Uint8Array; fallback: boolean } | undefined {
  if (vrfProof.length === VRF_PROOF_LENGTH) return { proof: vrfProof, fallback: false };
  if (vrfProof.length === VRF_PROOF_LENGTH + 1 && vrfProof[VRF_PROOF_LENGTH] === 1) {
    return { proof: vrfProof.subarray(0, VRF_PROOF_LENGTH), fallback: true };
  }
  return undefined;
}

export function encodeVrfClaim(proof: Uint8Array, fallback: boolean): Uint8Array {
  return fallback ? concatBytes(proof, Uint8Array.of(1)) : proof;
}

function remember<V>(map: Map<string, V>, key: string, value: V, limit: number): V {
  if (map.size >= limit) map.delete(map.keys().next().value as string);
  map.set(key, value);
  return value;
}

export interface ElectionValidator {
  pubkey: Uint8Array;
  /**
   * Weight: stake × (10_000 + AI score), 0 once slashed (shared/src/consensus/registry.ts). It elects proposers (at
   * the parent's state) and weighs votes (at the last finalized block's state).
   */
  weight: bigint;
  record: ValidatorRecord;
}

export class ChainView {
  private readonly headerCache = new Map<string, BlockHeader>();
  private readonly seeds = new Map<string, Uint8Array>();
  private readonly registries = new Map<string, ElectionValidator[]>();
  private seedOfGenesis: Uint8Array | undefined;

  constructor(
    readonly genesis: Genesis,
    private readonly modules: { headers: HeaderStore; state: StateDb },
  ) {}

  /** Part of start-up, once the chain knows its genesis hash (before any block is imported). */
  init(genesisHash: Uint8Array): void {
    this.seedOfGenesis = blake3(concatBytes(GENESIS_SEED_DOMAIN, genesisHash));
  }

  get genesisSeed(): Uint8Array {
    if (this.seedOfGenesis === undefined) throw new ConsensusError({ code: "CONSENSUS_NOT_INITIALIZED" });
    return this.seedOfGenesis;
  }

  get slotsPerEpoch(): bigint {
    return this.genesis.params.slotsPerEpoch;
  }

  epochOf(slot: bigint): bigint {
    return slot / this.slotsPerEpoch;
  }

  async header(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const k = bytesToHex(hash);
    const cached = this.headerCache.get(k);
    if (cached) return cached;
    const h = await this.modules.headers.get(hash);
    if (h) remember(this.headerCache, k, h, HEADER_CACHE);
    return h;
  }

  /** Hash of the last block at or before `slot` on the chain ending at `tip`. */
  async ancestorAtSlot(tip: Uint8Array, slot: bigint): Promise<Uint8Array> {
    let hash = tip;
    let h = await this.header(hash);
    while (h && h.slot > slot && h.number > 0n) {
      hash = h.parentHash;
      h = await this.header(hash);
    }
    return hash;
  }

  /**
   * The election seed of `epoch` on the chain ending at `tip`. Epochs 0 and 1 use the genesis seed; epoch e ≥ 2 mixes
   * the VRF outputs of epoch e − 2's blocks into the seed of e − 1, so a seed is fixed a whole epoch before it is used.
   */
  async seed(epoch: bigint, tip: Uint8Array): Promise<Uint8Array> {
    if (epoch < 2n) return this.genesisSeed;
    const spe = this.slotsPerEpoch;
    const boundary = await this.ancestorAtSlot(tip, (epoch - 1n) * spe - 1n);
    const key = `${epoch}:${bytesToHex(boundary)}`;
    const cached = this.seeds.get(key);
    if (cached) return cached;
    const prev = await this.seed(epoch - 1n, boundary);
    const outputs: bigint[] = [];
    let hash = boundary;
    let h = await this.header(hash);
    const first = (epoch - 2n) * spe;
    while (h && h.number > 0n && h.slot >= first) {
      const claim = parseVrfClaim(h.vrfProof);
      if (claim) outputs.push(vrfOutput(claim.proof));
      hash = h.parentHash;
      h = await this.header(hash);
    }
    return remember(this.seeds, key, nextEpochSeed(prev, ...outputs.reverse()), SEED_CACHE);
  }

  /** The validator set with weights as of the state of block `header` (registry stakes, AI scores, slashings). */
  async validatorsAt(header: BlockHeader): Promise<ElectionValidator[]> {
    const k = bytesToHex(header.stateRoot);
    const cached = this.registries.get(k);
    if (cached) return cached;
    const records = await readValidators(
      (slot) => this.modules.state.storageAt(header.stateRoot, REGISTRY_ADDRESS, slot),
      this.genesis.validators.length,
    );
    const set = records.map((record, i) => ({
      pubkey: this.genesis.validators[i]!.blsPublicKey,
      weight: validatorWeight(record),
      record,
    }));
    return remember(this.registries, k, set, REGISTRY_CACHE);
  }
}
