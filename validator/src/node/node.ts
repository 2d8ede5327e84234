// Wires one validator node together: RocksDB, state, chain, mempool, consensus (fork choice, finality, proposer
// election, attestations, slashing, Proof of AI), the libp2p network with range sync, JSON-RPC, the admin API and
// metrics.
import { EventEmitter } from "node:events";
import { mkdir, readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import {
  blsPublicKey,
  bytesToHex,
  checkProofsOfPossession,
  type Genesis,
  hexToBytes,
  parseGenesis,
  RustChainError,
  type SignedTransaction,
} from "@rustchain/shared";
import { checkBridgeKeyProofs } from "@rustchain/shared/bridge/committee";
import { isRpcMethod, parseParams, type RpcMethodName } from "@rustchain/shared/rpc/methods";
import type { Logger } from "pino";
import { type BridgeOptions, BridgeService, defaultBridgeOptions } from "../bridge/bridgeService.ts";
import { BlockProducer } from "../chain/blockProducer.ts";
import { Chain } from "../chain/chain.ts";
import { HeaderStore } from "../chain/headerStore.ts";
import { defaultStatePrunerOptions, StatePruner, type StatePrunerOptions } from "../chain/statePruner.ts";
import type { ConsensusState } from "../consensus/consensusState.ts";
import { createConsensus } from "../consensus/createConsensus.ts";
import { Doppelganger, GuardedSigner } from "../consensus/duties/doppelganger.ts";
import { LocalSigner, type ValidatorSigner } from "../consensus/duties/signer.ts";
import type { GossipPublisher, LocalValidator } from "../consensus/duties/types.ts";
import { ConsensusEngine } from "../consensus/engine.ts";
import { type ConsensusOptions, defaultConsensusOptions } from "../consensus/options.ts";
import { createReqRespHandlers, RangeSync } from "../consensus/sync.ts";
import { type ByzantineKind, byzantinePublisher } from "../consensus/testing/byzantinePublisher.ts";
import { openSlashingProtection, type SlashingProtection } from "../consensus/validatorDuties/slashingProtection.ts";
import { ContentStore } from "../content/contentStore.ts";
import { createGateway } from "../content/gateway.ts";
import { type ContentOptions, defaultContentOptions } from "../content/options.ts";
import { Database } from "../db/database.ts";
import { createRecoveryPool, type SenderRecovery, withKnownSenders } from "../execution/senderRecovery.ts";
import type { GrpcServer, GrpcServerOptions } from "../grpc/grpcServer.ts";
import { defaultMempoolOptions, Mempool, type MempoolOptions } from "../mempool/mempool.ts";
import { defaultTxJournalOptions, TX_JOURNAL_FILE, TxJournal } from "../mempool/txJournal.ts";
import { Metrics } from "../metrics/metrics.ts";
import { AiModelSource } from "../models/aiModelSource.ts";
import { createNetwork, type Network } from "../network/network.ts";
import { type NetworkOptionsInput, networkOptions } from "../network/options.ts";
import { chainFinality } from "../replication/bundles.ts";
import { defaultReplicationFeedOptions, ReplicationFeed } from "../replication/feed.ts";
import { defaultReplicationPusherOptions, ReplicationPusher } from "../replication/pusher.ts";
import { AdminServer } from "../rpc/adminServer.ts";
import { createConsensusRpc } from "../rpc/consensusApi.ts";
import { DebugApi, type DebugApiOptions, defaultDebugApiOptions } from "../rpc/debugApi.ts";
import { defaultEthApiOptions, EthApi } from "../rpc/ethApi.ts";
import { defaultFilterOptions, FilterManager } from "../rpc/filters.ts";
import { defaultRpcServerOptions, RpcServer, type RpcServerOptions } from "../rpc/rpcServer.ts";
import { ContractRuntime, checkDeployData } from "../runtime/contractRuntime.ts";
import { RemoteSigner } from "../signer/remoteSigner.ts";
import { defaultSnapshotExportOptions, type SnapshotExportOptions } from "../snapshot/exporter.ts";
import { createDirStore, type ObjectStore } from "../snapshot/objectStore.ts";
import { type RestoreOptions, restoreSnapshot } from "../snapshot/restoreSnapshot.ts";
import { snapshotHandlers } from "../snapshot/snapSync.ts";
import { SnapshotService } from "../snapshot/snapshotService.ts";
import { defaultStateDbOptions, StateDb } from "../state/stateDb.ts";
import { createGossipValidators, type GossipEvents, wireGossip } from "./gossip.ts";
import { NodeHealth } from "./nodeHealth.ts";

export interface NodeOptions {
  datadir: string;
  genesis: Genesis;
  /** BLS secret key of this validator; without it the node only follows. */
  secretKey?: Uint8Array;
  /** Instead of `secretKey`: the key and its slashing protection live in a remote signer (signer/signerServer.ts). */
  remoteSigner?: { url: string; tokenFile: string; publicKey: Uint8Array };
  rpc: Partial<RpcServerOptions>;
  /**
   * debug_traceTransaction and debug_traceCall on the RPC port (`--rpc-debug`; docs/node.md, "Traces"), bounded by
   * these options. Off when undefined: a trace re-executes up to a whole block.
   */
  debug?: Partial<DebugApiOptions>;
  /** Metrics listen address; port 0 picks a free port, undefined disables. */
  metrics?: { host: string; port: number };
  /**
   * gRPC (docs/grpc.md): NodeService, ReplicationService (needs `replication`), health and reflection; port 0 picks a
   * free port, undefined disables.
   */
  grpc?: Partial<GrpcServerOptions> & { host: string; port: number };
  /** Admin JSON-RPC (peers, partitions) on its own address with a bearer token; undefined disables. */
  admin?: { host: string; port: number };
  /** libp2p; undefined runs the node alone (a one-validator devnet). */
  network?: NetworkOptionsInput;
  consensus?: Partial<ConsensusOptions>;
  /** Pool caps and load shedding (mempool/mempool.ts `defaultMempoolOptions`). */
  mempool?: Partial<MempoolOptions>;
  /** TEST ONLY: publish a conflicting twin of these messages (testing/byzantinePublisher.ts). */
  byzantine?: ReadonlySet<ByzantineKind>;
  /** Weak-subjectivity checkpoint: refuse any chain without this block. */
  checkpoint?: { number: bigint; hash: Uint8Array };
  /**
   * The replication feed for the edge (docs/edge.md): with `pushTo`, bundles are POSTed there; the pull endpoints are
   * served on the admin address when `admin` is set. Both authenticate with the HMAC `key`.
   */
  replication?: { key: Uint8Array; pushTo?: string };
  /**
   * Snapshots of finalized state (docs/sync.md): exported every `every` finalized blocks to <datadir>/snapshots
   * (served to peers for snap sync) and to each of `stores` (S3), keeping the newest `keep` in each.
   */
  snapshots?: { every: number; keep: number; stores: ObjectStore[]; export?: Partial<SnapshotExportOptions> };
  /**
   * Before the chain opens, restore state from a snapshot (docs/sync.md) if the datadir holds no chain yet (or an
   * interrupted sync): from `stores` (warp sync), from peers (snap sync, needs `network`), or both.
   */
  warpSync?: Pick<RestoreOptions, "stores" | "fromPeers" | "options" | "peerWaitMs">;
  /**
   * The bridge (docs/bridge.md): every node collects and serves the committee's signatures; with a bridge key in the
   * committee and the gateways set, the node also watches both chains and signs final messages.
   */
  bridge?: Partial<BridgeOptions>;
  /**
   * State pruning (docs/node.md, "State pruning"): by default a full node keeps the state of the last 128 finalized
   * blocks and of every block above them; `archive` keeps every state.
   */
  pruning?: Partial<StatePrunerOptions>;
  /**
   * Doppelganger protection: slots to watch gossip for this validator's key live elsewhere before signing anything
   * once synced with peers (0, the default, turns it off: like Lighthouse's, it costs a few slots of duties at every
   * start). Only with a network (alone, nobody else could be signing).
   */
  doppelgangerSlots?: number;
  /**
   * The transaction journal (<datadir>/txpool.journal, mempool/txJournal.ts): accepted transactions survive a restart
   * or a crash. On unless false (the pool is then in memory only).
   */
  txJournal?: boolean;
  /**
   * The content store (docs/content.md): UnixFS blocks under <datadir>/content, bitswap on this node's libp2p, the
   * trustless gateway (GET /ipfs/<cid>) on the RPC port and content methods on the admin API. Off when undefined.
   */
  content?: Partial<Omit<ContentOptions, "dir">>;
  /**
   * A local copy of the genesis Proof-of-AI model (`--ai-model`): used by the miner and added to the content store for
   * peers, but only when its bytes hash to genesis `ai.modelCid` (refused and logged otherwise). Without it a miner
   * fetches the model by CID from its peers.
   */
  aiModelFile?: string;
}

export type NodeErrorType =
  | { code: "NODE_KEY_NOT_IN_VALIDATOR_SET"; publicKey: string }
  | { code: "NODE_SIGNER_CONFLICT"; reason: string };
export class NodeError extends RustChainError<NodeErrorType> {}

export async function loadGenesisFile(path: string): Promise<Genesis> {
  return parseGenesis(JSON.parse(await readFile(path, "utf8")));
}

export class RustChainNode {
  private constructor(
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly rpc: RpcServer,
    readonly engine: ConsensusEngine,
    readonly consensus: ConsensusState,
    readonly network: Network | undefined,
    readonly admin: AdminServer | undefined,
    readonly replication: { feed: ReplicationFeed; pusher: ReplicationPusher | undefined } | undefined,
    readonly snapshots: SnapshotService | undefined,
    readonly pruner: StatePruner,
    private readonly parts: {
      health: NodeHealth;
      bridge: BridgeService;
      db: Database;
      recovery: SenderRecovery;
      filters: FilterManager;
      txJournal: TxJournal | undefined;
      /** The gossip wiring's own timers (the transaction batcher). */
      gossip: { stop(): void } | undefined;
      metricsServer: Server | undefined;
      grpc: GrpcServer | undefined;
      protection: SlashingProtection | undefined;
      sync: RangeSync | undefined;
      content: ContentStore | undefined;
      logger: Logger;
    },
  ) {}

  static async start(opts: NodeOptions, logger: Logger): Promise<RustChainNode> {
    checkProofsOfPossession(opts.genesis.validators);
    checkBridgeKeyProofs(opts.genesis);
    await mkdir(opts.datadir, { recursive: true, mode: 0o700 });
    const db = await Database.open(`${opts.datadir}/chaindata`);
    const metrics = new Metrics();
    const state = new StateDb(defaultStateDbOptions, { db });
    if (opts.warpSync) {
      await restoreSnapshot(
        {
          ...opts.warpSync,
          genesis: opts.genesis,
          datadir: opts.datadir,
          network: opts.network,
          checkpoint: opts.checkpoint,
        },
        { db, state },
        logger,
      );
    }
    const localSnapshots = opts.snapshots ? createDirStore(`${opts.datadir}/snapshots`) : undefined;
    const recovery = createRecoveryPool();
    const runtime = new ContractRuntime();
    const consensusOptions = { ...defaultConsensusOptions(opts.genesis.params.slotMs), ...opts.consensus };
    const headers = new HeaderStore(db);
    const consensus = createConsensus(consensusOptions, {
      genesis: opts.genesis,
      db,
      stateDb: state,
      headers,
      logger: logger.child({ module: "consensus" }),
      metrics: {
        onFinalized: (slot, lag) => {
          metrics.finalizedSlot.set(slot);
          metrics.finalityLagSlots.observe(lag);
        },
        onJustified: (slot) => metrics.justifiedSlot.set(slot),
        onCertificate: (kind) => metrics.finalityCertificatesTotal.inc({ kind }),
      },
    });
    // The pool reads the head through the chain only when a transaction arrives (after init).
    const mempool: Mempool = new Mempool(
      { ...defaultMempoolOptions, ...opts.mempool },
      {
        head: () => chain.mempoolHead(),
        checkCreation: checkDeployData,
      },
    );
    const chain: Chain = new Chain(
      opts.genesis,
      {
        db,
        state,
        // A block's transactions that reached the pool first are not recovered again.
        recovery: withKnownSenders(recovery, (hash) => mempool.get(hash)),
        runtime,
        headers,
        consensus: consensus.rules,
        logger: logger.child({ module: "chain" }),
      },
      { checkpoint: opts.checkpoint },
    );
    await chain.init();
    const pruner = new StatePruner(
      { ...defaultStatePrunerOptions, ...opts.pruning },
      {
        db,
        chain,
        // The finalized checkpoint on disk (what a restart anchors consensus to), not the one in memory.
        finalized: async () => {
          const cp = await consensus.checkpoints.finalized();
          return cp && (await headers.get(hexToBytes(cp.root)))?.number;
        },
        logger: logger.child({ module: "pruner" }),
        metrics: {
          onRun: (r) => {
            metrics.statePruneRunsTotal.inc({ result: "done" });
            metrics.statePrunedNodesTotal.inc(r.deletedNodes);
            metrics.statePrunedDiffsTotal.inc(r.deletedDiffs);
            metrics.stateLiveNodes.set(r.liveNodes);
            metrics.statePruneSeconds.observe(r.seconds);
            metrics.statePruneHorizonBlock.set(Number(r.horizon));
          },
          onFailure: () => metrics.statePruneRunsTotal.inc({ result: "failed" }),
          firstAvailableBlock: (n) => metrics.stateFirstAvailableBlock.set(Number(n)),
        },
      },
    );
    await pruner.init();
    const preimages = await state.ensurePreimages();
    if (preimages > 0) logger.info({ keys: preimages }, "Recorded trie key preimages of an older datadir");
    metrics.headNumber.set(Number(chain.head.number));

    mempool.on("added", () => metrics.mempoolSize.set(mempool.size));
    const headNonce = async (a: Uint8Array) => (await state.headAccount(a)).nonce;
    chain.on("block", (b) => {
      metrics.headNumber.set(Number(b.block.header.number));
      void mempool.onBlock(b.txs, headNonce).then(() => metrics.mempoolSize.set(mempool.size));
    });

    // Transactions of blocks a reorg dropped go back to the pool (those already mined on the new branch fail nonce checks).
    chain.on("reorg", (r) => {
      void recovery.recover(r.orphanedTxs).then(async (txs) => {
        for (const t of txs) if ("tx" in t) await mempool.add(t).catch(() => undefined);
      });
    });
    // Before anything else can add to the pool (RPC, gossip): the journal replays into it, then records every addition.
    const txJournal =
      opts.txJournal === false
        ? undefined
        : new TxJournal(
            { ...defaultTxJournalOptions, file: join(opts.datadir, TX_JOURNAL_FILE) },
            {
              pool: mempool,
              recovery,
              logger: logger.child({ module: "txJournal" }),
              metrics: {
                onWriteError: () => metrics.txJournalWriteErrorsTotal.inc(),
                onCompacted: (_records, seconds) => metrics.txJournalCompactionSeconds.observe(seconds),
              },
            },
          );
    await txJournal?.start();
    metrics.mempoolSize.set(mempool.size);

    let validator: LocalValidator | undefined;
    let doppelganger: Doppelganger | undefined;
    let protection: SlashingProtection | undefined;
    const remote = opts.remoteSigner;
    if (remote && (opts.secretKey || opts.byzantine)) {
      throw new NodeError({
        code: "NODE_SIGNER_CONFLICT",
        reason: "a remote signer excludes a local key and byzantine mode",
      });
    }
    if (opts.secretKey || remote) {
      const publicKey = remote ? remote.publicKey : blsPublicKey(opts.secretKey as Uint8Array);
      const pub = Buffer.from(publicKey);
      const index = opts.genesis.validators.findIndex((v) => pub.equals(v.blsPublicKey));
      if (index < 0) throw new NodeError({ code: "NODE_KEY_NOT_IN_VALIDATOR_SET", publicKey: bytesToHex(pub) });
      // With a remote signer the key and its slashing protection live there: no protection database here.
      let signer: ValidatorSigner;
      if (remote) {
        signer = await RemoteSigner.connect(remote.url, remote.tokenFile, publicKey);
        logger.info({ url: remote.url }, "Validator signs through a remote signer");
      } else {
        protection = await openSlashingProtection(opts.datadir, { genesisValidatorsRoot: chain.genesisHash });
        signer = new LocalSigner(opts.secretKey as Uint8Array, publicKey, protection);
      }
      const producer = new BlockProducer(
        { validatorIndex: index, extraData: new Uint8Array(0) },
        { chain, mempool, logger: logger.child({ module: "producer" }), metrics },
      );
      doppelganger =
        opts.network && (opts.doppelgangerSlots ?? 0) > 0
          ? new Doppelganger(
              { windowSlots: opts.doppelgangerSlots ?? 0, slotsPerEpoch: opts.genesis.params.slotsPerEpoch },
              {
                index,
                startSlot: consensus.clock.currentSlot(),
                currentSlot: () => consensus.clock.currentSlot(),
                // Synced (within 2 slots) and connected: another instance's votes would reach us by gossip.
                canHear: () =>
                  (network?.peers().length ?? 0) > 0 && consensus.clock.currentSlot() - chain.head.slot <= 2n,
                logger: logger.child({ module: "doppelganger" }),
              },
            )
          : undefined;
      // Every duty series exists from the start, so the first miss shows as an increase (alerts use increase()).
      for (const duty of ["propose", "attest"])
        for (const result of ["done", "missed"]) metrics.validatorDutiesTotal.inc({ duty, result }, 0);
      validator = {
        index,
        publicKey,
        signer: doppelganger ? new GuardedSigner(signer, doppelganger) : signer,
        producer,
        onDuty: (duty, result) => metrics.validatorDutiesTotal.inc({ duty, result }),
      };
    }

    // Consensus state restored from the database, before anything can import a block.
    await consensus.restore(chain);
    const consensusLogger = logger.child({ module: "consensus" });
    consensusLogger.info(
      {
        finalized: consensus.state.finality.finalized,
        justified: consensus.state.finality.justified,
        head: Number(chain.head.number),
      },
      "Consensus state restored",
    );

    let network: Network | undefined;
    // The RustChain watcher reads this node's chain through its own RPC handlers, made below.
    let rpcHandlers: EthApi["handlers"] | undefined;
    const bridge = new BridgeService(
      { ...defaultBridgeOptions, pollMs: Math.max(250, opts.genesis.params.slotMs), ...opts.bridge },
      {
        db,
        genesis: opts.genesis,
        rustchainRpc: async (method, params) => {
          const name = method as RpcMethodName;
          if (!rpcHandlers || !isRpcMethod(name)) throw new Error(`${method}: not available`);
          const handler = rpcHandlers[name] as (p: unknown, ctx: object) => unknown;
          return handler(parseParams(name, params), {});
        },
        publish: (data) => network?.publish("bridge_signatures", data) ?? Promise.resolve(),
        logger: logger.child({ module: "bridge" }),
      },
    );
    const gossipEvents = new EventEmitter<GossipEvents>();
    const txsFromGossip = new WeakSet<SignedTransaction>();
    if (opts.network) {
      network = createNetwork(networkOptions({ datadir: opts.datadir, ...opts.network }), {
        logger: logger.child({ module: "network" }),
        chainId: chain.chainId,
        handlers: {
          ...createReqRespHandlers({ chain, state: consensus.state, checkpoints: consensus.checkpoints }),
          ...snapshotHandlers(localSnapshots),
        },
        metrics: {
          gossip: (topic, result) => metrics.gossipMessagesTotal.inc({ topic, result }),
          reqResp: (protocol, direction, result) => metrics.reqRespRequestsTotal.inc({ protocol, direction, result }),
        },
        validators: createGossipValidators(
          consensusOptions,
          {
            chain,
            view: consensus.view,
            state: consensus.state,
            votes: consensus.votes,
            pools: consensus.pools,
            mempool,
            recovery,
            clock: consensus.clock,
            txsFromGossip,
            bridge,
            doppelganger,
            logger: logger.child({ module: "gossip" }),
          },
          gossipEvents,
        ),
      });
    }
    let publisher: GossipPublisher | undefined = network;
    if (network && validator && opts.byzantine) {
      publisher = byzantinePublisher(
        network,
        { secretKey: opts.secretKey as Uint8Array, index: validator.index, chainId: chain.chainId },
        opts.byzantine,
        consensusLogger,
      );
    }
    const ai = opts.genesis.ai;
    const aiModel =
      ai && (opts.consensus?.miner || opts.aiModelFile)
        ? new AiModelSource(ai, { logger: logger.child({ module: "ai" }) })
        : undefined;
    const engine = new ConsensusEngine(consensusOptions, {
      aiModel,
      chain,
      clock: consensus.clock,
      stateDb: state,
      view: consensus.view,
      state: consensus.state,
      votes: consensus.votes,
      pools: consensus.pools,
      recorder: consensus.recorder,
      publisher,
      validator,
      logger: consensusLogger,
      peerCount: () => network?.peers().length ?? 0,
      metrics: { onEvidence: () => metrics.slashingEvidenceTotal.inc() },
    });

    // Before sync and block production start, so the feed sees every block from here on.
    let replication: { feed: ReplicationFeed; pusher: ReplicationPusher | undefined } | undefined;
    if (opts.replication) {
      const replicationLogger = logger.child({ module: "replication" });
      const feed = new ReplicationFeed(
        {
          ...defaultReplicationFeedOptions,
          finalityPollMs: Math.max(100, Math.min(1000, opts.genesis.params.slotMs / 2)),
          logFile: `${opts.datadir}/replication-feed.log`,
        },
        {
          chain,
          state,
          finality: chainFinality(chain, () => ({
            safe: consensus.state.justifiedNumber,
            finalized: consensus.state.finalizedNumber,
          })),
          logger: replicationLogger,
          key: opts.replication.key,
        },
      );
      await feed.start();
      let pusher: ReplicationPusher | undefined;
      if (opts.replication.pushTo) {
        pusher = new ReplicationPusher(
          { ...defaultReplicationPusherOptions, url: opts.replication.pushTo, key: opts.replication.key },
          { feed, logger: replicationLogger },
        );
        pusher.start();
        // Bundles older than the feed's in-memory ring are rebuilt from blocks' flat diffs: keep those the receiver
        // has yet to acknowledge.
        const p = pusher;
        pruner.holdFlatDiffs(async () =>
          p.pendingSeq === undefined ? undefined : feed.firstRebuiltBlock(p.pendingSeq),
        );
        replicationLogger.info({ url: opts.replication.pushTo, seq: feed.headSeq }, "Replication push started");
      }
      replication = { feed, pusher };
    }

    let sync: RangeSync | undefined;
    let gossip: { stop(): void } | undefined;
    if (network) {
      gossip = wireGossip(network, { chain, engine, mempool, txsFromGossip, logger });
      await network.start();
      const s = new RangeSync(
        { pollMs: Math.max(1000, opts.genesis.params.slotMs * 2), maxBatchesPerRound: 32 },
        {
          chain,
          state: consensus.state,
          network,
          logger: logger.child({ module: "sync" }),
          updateHead: () => engine.updateHead(),
        },
      );
      gossipEvents.on("unknownParent", (peer) => s.onUnknownParent(peer));
      s.start();
      sync = s;
    }
    const content = opts.content
      ? await ContentStore.open(
          { ...defaultContentOptions, ...opts.content, dir: join(opts.datadir, "content") },
          { logger: logger.child({ module: "content" }), libp2p: network?.libp2p },
        )
      : undefined;
    // The engine (hence the miner) starts below, after the model source has its content store and local file.
    await aiModel?.open({ content, file: opts.aiModelFile });

    const filters = new FilterManager(defaultFilterOptions);
    const api = new EthApi(defaultEthApiOptions, {
      chain,
      runtime,
      state,
      mempool,
      recovery,
      filters,
      txJournal,
      retention: pruner,
      consensus: createConsensusRpc({
        chain,
        view: consensus.view,
        state: consensus.state,
        engine,
        checkpoints: consensus.checkpoints,
        peerCount: () => network?.peers().length ?? 0,
      }),
      bridge,
      debug: opts.debug
        ? new DebugApi({ ...defaultDebugApiOptions, ...opts.debug }, { chain, state, runtime, retention: pruner })
        : undefined,
    });
    rpcHandlers = api.handlers;
    const health = new NodeHealth({
      chain,
      currentSlot: () => consensus.clock.currentSlot(),
      finalizedSlot: () => consensus.state.finality.finalized.slot,
      peers: () => (network ? network.peers().length : undefined),
      datadir: opts.datadir,
    });
    metrics.sample(health);
    const rpc = new RpcServer(
      { ...defaultRpcServerOptions, ...opts.rpc },
      {
        api,
        chain,
        mempool,
        filters,
        logger: logger.child({ module: "rpc" }),
        metrics,
        health: (path) => health.respond(path),
        routes: content ? createGateway(content) : undefined,
      },
    );
    await rpc.listen();
    logger.info({ url: rpc.url, chainId: Number(chain.chainId) }, "RPC listening");
    const metricsServer = opts.metrics
      ? await metrics.listen(opts.metrics.host, opts.metrics.port, (path) => health.respond(path))
      : undefined;
    if (metricsServer) {
      const a = metricsServer.address();
      if (a && typeof a !== "string")
        logger.info({ url: `http://${a.address}:${a.port}/metrics` }, "Metrics listening");
    }
    let grpc: GrpcServer | undefined;
    if (opts.grpc) {
      // Loaded only when on: the gRPC packages read their .proto files as they load.
      const { GrpcServer, defaultGrpcServerOptions } = await import("../grpc/grpcServer.ts");
      grpc = new GrpcServer(
        { ...defaultGrpcServerOptions, ...opts.grpc },
        {
          chain,
          api,
          readiness: health,
          replication:
            replication && opts.replication ? { feed: replication.feed, key: opts.replication.key } : undefined,
          logger: logger.child({ module: "grpc" }),
        },
      );
      await grpc.listen();
      logger.info({ address: grpc.address }, "gRPC listening");
    }
    let admin: AdminServer | undefined;
    if (opts.admin) {
      admin = new AdminServer(
        { ...opts.admin, tokenFile: `${opts.datadir}/admin-token` },
        { network, logger: logger.child({ module: "admin" }), routes: replication?.feed.routes(), content },
      );
      await admin.listen();
    }
    let snapshots: SnapshotService | undefined;
    if (opts.snapshots) {
      snapshots = new SnapshotService(
        {
          every: opts.snapshots.every,
          keep: opts.snapshots.keep,
          pollMs: Math.max(250, opts.genesis.params.slotMs),
          export: { ...defaultSnapshotExportOptions, ...opts.snapshots.export },
        },
        {
          source: {
            db,
            headers,
            checkpoints: consensus.checkpoints,
            genesisHash: chain.genesisHash,
            chainId: chain.chainId,
            canonicalHash: (n) => chain.canonicalHash(n),
            retention: pruner,
          },
          stores: [localSnapshots as ObjectStore, ...opts.snapshots.stores],
          finalizedNumber: () => consensus.state.finalizedNumber,
          retention: pruner,
          logger: logger.child({ module: "snapshot" }),
        },
      );
      snapshots.start();
    }
    bridge.start();
    pruner.start();
    engine.start();
    return new RustChainNode(
      chain,
      mempool,
      rpc,
      engine,
      consensus.state,
      network,
      admin,
      replication,
      snapshots,
      pruner,
      {
        health,
        bridge,
        db,
        recovery,
        filters,
        txJournal,
        metricsServer,
        grpc,
        protection,
        sync,
        gossip,
        content,
        logger,
      },
    );
  }

  /** The node's store, for tools that read it in process (bench/storage.ts measures it while the node runs). */
  get database(): Database {
    return this.parts.db;
  }

  /** The content store (docs/content.md) when it is on. */
  get content(): ContentStore | undefined {
    return this.parts.content;
  }

  /** http://host:port/metrics when metrics are served. */
  get metricsUrl(): string | undefined {
    const a = this.parts.metricsServer?.address();
    return a && typeof a !== "string" ? `http://${a.address}:${a.port}/metrics` : undefined;
  }

  /** host:port of the gRPC server when it runs. */
  get grpcAddress(): string | undefined {
    return this.parts.grpc?.address;
  }

  async stop(): Promise<void> {
    const p = this.parts;
    p.health.markStopping();
    await p.grpc?.close();
    await this.engine.stop();
    await this.pruner.stop();
    await p.bridge.stop();
    p.sync?.stop();
    await this.snapshots?.stop();
    await this.replication?.pusher?.stop();
    await this.replication?.feed.stop();
    await this.admin?.close();
    await this.rpc.close();
    p.gossip?.stop();
    await p.content?.close();
    await this.network?.stop();
    p.filters.close();
    // Nothing adds to the pool any more: the journal is left compacted and synced.
    await p.txJournal?.stop();
    await new Promise<void>((r) => (p.metricsServer ? p.metricsServer.close(() => r()) : r()));
    await p.recovery.close();
    await p.protection?.close();
    await this.engine.flush();
    await p.db.close();
    p.logger.info("Stopped");
  }
}
