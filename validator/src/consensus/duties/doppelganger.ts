// Doppelganger protection (docs/operators.md, "Moving a validator"): a validator whose key is also live elsewhere (a
// second machine, a restored backup) must not sign, or the two will sign conflicting messages and be slashed.
//
//   - The node signs nothing until it is synced and has peers, then for `windowSlots` more slots, and meanwhile
//     watches gossip for valid attestations and finalize votes carrying its own validator index, for slots after it
//     started (its own messages from before a restart may still be gossiped; they are for earlier slots). Counting
//     the window only once it can hear the network is what makes it mean something.
//   - Seeing one, during the window or later for a slot it did not sign itself, it stops signing for good (until an
//     operator restarts it) and says so at error level, once per epoch.
// The guard wraps the signer, so every duty goes through it and a refused duty is reported as missed.

import { RustChainError } from "@rustchain/shared";
import type { Logger } from "pino";
import type { ValidatorSigner } from "./signer.ts";

export type DoppelgangerErrorType =
  | { code: "DOPPELGANGER_WATCHING"; untilSlot: number }
  | { code: "DOPPELGANGER_DETECTED"; slot: number; kind: string };

export class DoppelgangerError extends RustChainError<DoppelgangerErrorType> {}

type Kind = "attestation" | "finalize_vote" | "block";

export class Doppelganger {
  private detected: { slot: bigint; kind: Kind } | undefined;
  /** What we signed ourselves (kind:slot), so our own messages coming back are not mistaken for another's. */
  private readonly signed = new Set<string>();
  private lastWarnedEpoch = -1n;
  /** First slot at which the node could hear the network (synced, with peers); the window counts from there. */
  private hearingFrom: bigint | undefined;

  constructor(
    private readonly opts: { windowSlots: number; slotsPerEpoch: bigint },
    private readonly m: {
      index: number;
      startSlot: bigint;
      currentSlot(): bigint;
      /** Synced and connected: gossip about this validator would reach us. */
      canHear(): boolean;
      logger: Logger;
    },
  ) {
    m.logger.info(
      { windowSlots: opts.windowSlots, validatorIndex: m.index },
      "Doppelganger protection: this validator signs nothing until it has watched the network for another instance of itself",
    );
  }

  private watchUntil(): bigint | undefined {
    if (this.hearingFrom === undefined && this.m.canHear()) this.hearingFrom = this.m.currentSlot();
    return this.hearingFrom === undefined ? undefined : this.hearingFrom + BigInt(this.opts.windowSlots);
  }

  get isDetected(): boolean {
    return this.detected !== undefined;
  }

  /** A valid gossip message signed by validator `index` for `slot`. */
  observe(kind: Kind, index: number, slot: bigint): void {
    if (index !== this.m.index || slot <= this.m.startSlot || this.signed.has(`${kind}:${slot}`)) return;
    if (!this.detected) {
      this.detected = { slot, kind };
      this.warn();
    }
  }

  /** Throws unless this validator may sign a `kind` message for `slot` now; records it when it may. */
  check(kind: Kind, slot: bigint): void {
    if (this.detected) {
      this.warn();
      throw new DoppelgangerError({
        code: "DOPPELGANGER_DETECTED",
        slot: Number(this.detected.slot),
        kind: this.detected.kind,
      });
    }
    const until = this.watchUntil();
    if (until === undefined || this.m.currentSlot() < until)
      throw new DoppelgangerError({
        code: "DOPPELGANGER_WATCHING",
        untilSlot: until === undefined ? -1 : Number(until),
      });
    this.signed.add(`${kind}:${slot}`);
    if (this.signed.size > 4096) this.signed.delete(this.signed.values().next().value as string);
  }

  private warn(): void {
    const epoch = this.m.currentSlot() / this.opts.slotsPerEpoch;
    if (epoch === this.lastWarnedEpoch || !this.detected) return;
    this.lastWarnedEpoch = epoch;
    this.m.logger.error(
      { validatorIndex: this.m.index, slot: Number(this.detected.slot), kind: this.detected.kind },
      "Doppelganger detected: another process is signing with this validator's key; this node signs nothing until restarted",
    );
  }
}

/** The signer behind the doppelganger guard. VRF proofs are not slashable and not published alone: not guarded. */
export class GuardedSigner implements ValidatorSigner {
  constructor(
    private readonly inner: ValidatorSigner,
    private readonly guard: Doppelganger,
  ) {}

  get publicKey(): Uint8Array {
    return this.inner.publicKey;
  }

  vrf(input: Uint8Array): Promise<Uint8Array> {
    return this.inner.vrf(input);
  }

  async block(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array> {
    this.guard.check("block", slot);
    return this.inner.block(slot, signingRoot);
  }

  async attestation(vote: { sourceSlot: bigint; targetSlot: bigint; signingRoot: Uint8Array }): Promise<Uint8Array> {
    this.guard.check("attestation", vote.targetSlot);
    return this.inner.attestation(vote);
  }

  async finalizeVote(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array> {
    this.guard.check("finalize_vote", slot);
    return this.inner.finalizeVote(slot, signingRoot);
  }
}
