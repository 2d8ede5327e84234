// Builds the finality certificate of a checkpoint this node just finalized (format and trust argument:
// shared/src/consensus/finalityCertificate.ts, docs/consensus.md "Finality certificates"). The signatures come from
// the pools (gossiped votes folded into aggregates) and from the aggregates blocks carried; the weights are those
// the tracker used, the previous finalized block's, proven by the registry's trie nodes at that block's state.
// A certificate is built only when the chosen aggregates carry >= 2/3 of that weight, exactly as the verifier checks.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import {
  type CertificateKind,
  encodeFinalityCertificate,
  MAX_CERTIFICATE_AGGREGATES,
} from "@rustchain/shared/consensus/finalityCertificate";
import { REGISTRY_ADDRESS, RegistryField, registrySlot } from "../../chain/validatorRegistry.ts";
import type { StateDb } from "../../state/stateDb.ts";
import type { ChainView } from "../chainView.ts";
import {
  type Checkpoint,
  checkpointEquals,
  type Finalization,
  isSupermajority,
  type WeightTable,
} from "../forkChoice/index.ts";
import {
  type AggregateAttestation,
  aggregateParticipants,
  encodeAggregateAttestation,
  encodeFinalizeAggregate,
} from "../messages/attestation.ts";
import type { AttestationPool } from "../pools/attestationPool.ts";
import type { FinalizeVotePool } from "../pools/finalizeVotePool.ts";

export interface BuiltCertificate {
  readonly number: bigint;
  readonly encoded: Uint8Array;
  readonly kind: CertificateKind;
  readonly signers: number;
}

export class CertificateBuilder {
  /** Aggregates stored blocks carried, by their target slot (a link's votes may only ever reach us in blocks). */
  private readonly blockAggregates = new Map<number, AggregateAttestation[]>();
  /**
   * Registry proofs by state root, read on a checkpoint's first build attempt: the previous finalized block's state
   * is kept then (the pruning window cannot pass it before the new checkpoint is on disk, chain/statePruner.ts), but
   * a retry once late signatures arrive may come after a full node pruned it.
   */
  private readonly registryProofs = new Map<string, Uint8Array[]>();

  constructor(
    private readonly opts: { maxSlotsKept: number },
    private readonly modules: {
      validatorCount: number;
      view: ChainView;
      state: StateDb;
      attestations: AttestationPool;
      finalizeVotes: FinalizeVotePool;
    },
  ) {}

  recordBlockAggregates(aggregates: readonly AggregateAttestation[]): void {
    for (const agg of aggregates) {
      const slot = agg.data.target.slot;
      const list = this.blockAggregates.get(slot);
      if (list === undefined) this.blockAggregates.set(slot, [agg]);
      else if (list.length < 4 * MAX_CERTIFICATE_AGGREGATES) list.push(agg);
    }
    if (this.blockAggregates.size > this.opts.maxSlotsKept) {
      const slots = [...this.blockAggregates.keys()].sort((a, b) => a - b);
      for (const s of slots.slice(0, slots.length - this.opts.maxSlotsKept)) this.blockAggregates.delete(s);
    }
  }

  prune(minSlot: number): void {
    for (const s of this.blockAggregates.keys()) if (s < minSlot) this.blockAggregates.delete(s);
  }

  /**
   * The certificate of `cp`, finalized as `how` says, under `weights` (the previous finalized block's); undefined
   * when the signatures at hand do not reach 2/3 (they may arrive later in blocks: call again).
   */
  async build(cp: Checkpoint, how: Finalization, weights: WeightTable): Promise<BuiltCertificate | undefined> {
    const { view } = this.modules;
    const header = await view.header(hexToBytes(cp.root));
    const parentHeader = await view.header(hexToBytes(how.parent.root));
    if (!header || !parentHeader) return undefined;
    const registryProof = await this.registryProofAt(parentHeader.stateRoot);
    // The way it was finalized first; the other way when its signatures happen to be at hand instead.
    const tries: CertificateKind[] = how.kind === "link" ? ["link", "fast"] : ["fast", "link"];
    for (const kind of tries) {
      const chosen = kind === "fast" ? this.fastAggregates(cp, weights) : this.linkAggregates(cp, how, weights);
      if (chosen === undefined) continue;
      const encoded = encodeFinalityCertificate({
        parent: how.parent,
        parentHeader,
        checkpoint: cp,
        header,
        kind,
        aggregates: chosen.aggregates,
        registryProof,
      });
      return { number: header.number, encoded, kind, signers: chosen.signers };
    }
    return undefined;
  }

  private fastAggregates(cp: Checkpoint, weights: WeightTable) {
    const agg = this.modules.finalizeVotes.aggregateFor(cp);
    if (agg === undefined) return undefined;
    const signers = aggregateParticipants(agg);
    if (!isSupermajority(sum(weights, signers), total(weights))) return undefined;
    return { aggregates: [encodeFinalizeAggregate(agg)], signers: signers.length };
  }

  /** Aggregates of one link from the checkpoint to the next slot, most participants first, until >= 2/3. */
  private linkAggregates(cp: Checkpoint, how: Finalization, weights: WeightTable) {
    const targetSlot = cp.slot + 1;
    const target = how.kind === "link" ? how.target : undefined;
    const candidates = [
      ...this.modules.attestations.aggregatesFor(targetSlot, (d) => checkpointEquals(d.source, cp)),
      ...(this.blockAggregates.get(targetSlot) ?? []).filter((a) => checkpointEquals(a.data.source, cp)),
    ];
    // One target only (the verifier requires it): the finalizing link's, or the heaviest one.
    const byTarget = new Map<string, AggregateAttestation[]>();
    for (const a of candidates) {
      if (target && !checkpointEquals(a.data.target, target)) continue;
      const k = a.data.target.root;
      byTarget.set(k, [...(byTarget.get(k) ?? []), a]);
    }
    for (const group of byTarget.values()) {
      group.sort((a, b) => aggregateParticipants(b).length - aggregateParticipants(a).length);
      const covered = new Set<number>();
      const chosen: Uint8Array[] = [];
      for (const a of group) {
        const fresh = aggregateParticipants(a).filter((v) => !covered.has(v));
        if (fresh.length === 0) continue;
        for (const v of fresh) covered.add(v);
        chosen.push(encodeAggregateAttestation(a));
        if (isSupermajority(sum(weights, covered), total(weights)))
          return { aggregates: chosen, signers: covered.size };
        if (chosen.length >= MAX_CERTIFICATE_AGGREGATES) break;
      }
    }
    return undefined;
  }

  private async registryProofAt(stateRoot: Uint8Array): Promise<Uint8Array[]> {
    const key = bytesToHex(stateRoot);
    const cached = this.registryProofs.get(key);
    if (cached) return cached;
    const proof = await this.registryProof(stateRoot);
    this.registryProofs.set(key, proof);
    if (this.registryProofs.size > 16) this.registryProofs.delete(this.registryProofs.keys().next().value as string);
    return proof;
  }

  /** Trie nodes proving the registry account and every validator's three words at `stateRoot`. */
  private async registryProof(stateRoot: Uint8Array): Promise<Uint8Array[]> {
    const slots: Uint8Array[] = [];
    for (let i = 0; i < this.modules.validatorCount; i++) {
      for (const f of [RegistryField.stake, RegistryField.aiScoreBps, RegistryField.slashed]) {
        slots.push(registrySlot(i, f));
      }
    }
    const proof = await this.modules.state.proof(stateRoot, REGISTRY_ADDRESS, slots);
    const nodes = new Map<string, Uint8Array>();
    for (const n of [...proof.accountProof, ...proof.storageProof.flatMap((p) => p.proof)]) nodes.set(bytesToHex(n), n);
    return [...nodes.values()];
  }
}

function sum(weights: WeightTable, voters: Iterable<number>): bigint {
  let s = 0n;
  for (const v of voters) s += weights.get(v) ?? 0n;
  return s;
}

function total(weights: WeightTable): bigint {
  let s = 0n;
  for (const w of weights.values()) s += w;
  return s;
}
