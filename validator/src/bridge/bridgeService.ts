// The bridge on a node (docs/bridge.md, "The committee"). Every node collects the committee's signatures from the
// `bridge_signatures` topic and serves them (rustchain_getBridgeSignatures / rustchain_getBridgeMessage), so any node
// can hand a relayer or a user a VAA. A committee member also watches both gateways and signs each message once it
// is final on its source chain, storing its own signature before it gossips it.
import { bytesToHex, equalBytes, type Genesis } from "@rustchain/shared";
import { genesisGuardianSet } from "@rustchain/shared/bridge/committee";
import {
  encodeVaa,
  encodeVaaBody,
  type GuardianSet,
  quorum,
  signDigest,
  type VaaBody,
  vaaDigest,
  WORMHOLE_CHAIN,
} from "@rustchain/shared/bridge/vaa";
import type { BridgeMessageJson } from "@rustchain/shared/rpc/results";
import type { Logger } from "pino";
import type { Database } from "../db/database.ts";
import type { BridgeKey } from "../keys/bridgeKeystore.ts";
import { BridgeStore, type StoredMessage } from "./bridgeStore.ts";
import { ChainWatcher, type RpcCall } from "./chainWatcher.ts";
import { encodeBridgeSignature, validateGossipBridgeSignature } from "./signatureGossip.ts";

export interface BridgeOptions {
  /** This validator's bridge key; without one the node only collects and serves signatures. */
  key?: BridgeKey;
  /** Ethereum: its JSON-RPC, the gateway, its Wormhole chain id, and where to start reading. */
  ethereum?: { rpcUrl: string; gateway: Uint8Array; chain: number; fromBlock: bigint };
  /** The RustChain gateway. */
  rustchain?: { gateway: Uint8Array; fromBlock: bigint };
  pollMs: number;
  maxLogRange: bigint;
}

export const defaultBridgeOptions: BridgeOptions = { pollMs: 1_000, maxLogRange: 1_000n };

export interface BridgeModules {
  db: Database;
  genesis: Genesis;
  /** This node's own RPC handlers, called in process (the RustChain watcher reads its chain through them). */
  rustchainRpc: RpcCall;
  /** Gossip one of our signatures on `bridge_signatures` (absent: a node without a network). */
  publish?(data: Uint8Array): Promise<unknown>;
  logger: Logger;
}

/** A message with its signatures, as the RPC serves it; `vaa` once a quorum of the current set signed. */
export type BridgeMessageView = BridgeMessageJson;

export class BridgeService {
  readonly store: BridgeStore;
  private readonly sets: GuardianSet[];
  private readonly watchers: ChainWatcher[] = [];
  /** This node's index in the current guardian set, if it is a member with its key loaded. */
  readonly guardianIndex: number | undefined;

  constructor(
    private readonly opts: BridgeOptions,
    private readonly modules: BridgeModules,
  ) {
    this.store = new BridgeStore(modules.db);
    this.sets = [genesisGuardianSet(modules.genesis)];
    const key = opts.key;
    const index = key ? this.currentSet.keys.findIndex((k) => equalBytes(k, key.address)) : -1;
    this.guardianIndex = index >= 0 ? index : undefined;
    if (key && this.guardianIndex === undefined)
      modules.logger.warn(
        { address: bytesToHex(key.address) },
        "The bridge key is not in the committee (genesis); this node will not sign bridge messages",
      );
    if (this.guardianIndex === undefined) return;
    const log = modules.logger;
    if (opts.ethereum) {
      const eth = opts.ethereum;
      this.watchers.push(
        new ChainWatcher(
          {
            name: "ethereum",
            emitterChain: eth.chain,
            gateway: eth.gateway,
            fromBlock: eth.fromBlock,
            pollMs: opts.pollMs,
            maxRange: opts.maxLogRange,
          },
          { rpc: jsonRpc(eth.rpcUrl), store: this.store, logger: log, onMessage: (b) => this.sign(b) },
        ),
      );
    }
    if (opts.rustchain) {
      this.watchers.push(
        new ChainWatcher(
          {
            name: "rustchain",
            emitterChain: WORMHOLE_CHAIN.rustchain,
            gateway: opts.rustchain.gateway,
            fromBlock: opts.rustchain.fromBlock,
            pollMs: opts.pollMs,
            maxRange: opts.maxLogRange,
          },
          { rpc: modules.rustchainRpc, store: this.store, logger: log, onMessage: (b) => this.sign(b) },
        ),
      );
    }
  }

  get currentSet(): GuardianSet {
    return this.sets[this.sets.length - 1] as GuardianSet;
  }

  guardianSet(index: number): GuardianSet | undefined {
    return this.sets.find((s) => s.index === index);
  }

  start(): void {
    for (const w of this.watchers) w.start();
    if (this.watchers.length > 0)
      this.modules.logger.info(
        { guardianIndex: this.guardianIndex, watching: this.watchers.length },
        "Bridge committee duty started",
      );
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop()));
  }

  /** One pass of every watcher now (what each does on its timer once started). */
  async poll(): Promise<void> {
    for (const w of this.watchers) await w.poll();
  }

  /** Gossip validator of `bridge_signatures`: check, then keep the signature. */
  async onGossip(data: Uint8Array): Promise<void> {
    const m = validateGossipBridgeSignature(this, data);
    await this.store.addSignature(m.body, m);
  }

  /** Sign a final message (once: a second call finds the signature stored) and gossip the signature. */
  async sign(body: VaaBody): Promise<void> {
    const key = this.opts.key;
    const guardianIndex = this.guardianIndex;
    if (!key || guardianIndex === undefined) return;
    const encoded = encodeVaaBody(body);
    const digest = vaaDigest(encoded);
    const sig = {
      guardianSetIndex: this.currentSet.index,
      guardianIndex,
      signature: signDigest(digest, key.privateKey),
    };
    if (!(await this.store.addSignature(encoded, sig))) return;
    this.modules.logger.info(
      { emitterChain: body.emitterChain, sequence: Number(body.sequence), digest: bytesToHex(digest) },
      "Signed bridge message",
    );
    await this.modules
      .publish?.(encodeBridgeSignature({ ...sig, body: encoded }))
      .catch((e) => this.modules.logger.debug({ err: (e as Error).message }, "Bridge signature not gossiped"));
  }

  async messageByDigest(digest: Uint8Array): Promise<BridgeMessageView | null> {
    const m = await this.store.message(digest);
    return m ? this.view(m) : null;
  }

  async messageById(chain: number, emitter: Uint8Array, sequence: bigint): Promise<BridgeMessageView | null> {
    const m = await this.store.messageById(chain, emitter, sequence);
    return m ? this.view(m) : null;
  }

  private view(m: StoredMessage): BridgeMessageView {
    const set = this.currentSet;
    const signatures = m.signatures
      .filter((s) => s.guardianSetIndex === set.index)
      .sort((a, b) => a.guardianIndex - b.guardianIndex);
    const need = quorum(set.keys.length);
    return {
      digest: bytesToHex(m.digest),
      emitterChain: m.decoded.emitterChain,
      emitterAddress: bytesToHex(m.decoded.emitterAddress),
      sequence: m.decoded.sequence.toString(),
      body: bytesToHex(m.body),
      guardianSetIndex: set.index,
      quorum: need,
      signatures: signatures.map((s) => ({ guardianIndex: s.guardianIndex, signature: bytesToHex(s.signature) })),
      vaa:
        signatures.length >= need
          ? bytesToHex(encodeVaa({ guardianSetIndex: set.index, signatures, body: m.body }))
          : null,
    };
  }
}

/** A minimal JSON-RPC caller for the source chain (Ethereum), bounded in time and in response size. */
export function jsonRpc(url: string, timeoutMs = 10_000, maxBytes = 32 * 1024 * 1024): RpcCall {
  let id = 0;
  return async (method, params) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (text.length > maxBytes) throw new Error(`${method}: response over ${maxBytes} bytes`);
    const json = JSON.parse(text) as { result?: unknown; error?: { code: number; message: string } };
    if (json.error) throw new Error(`${method}: ${json.error.code} ${json.error.message}`);
    return json.result;
  };
}
