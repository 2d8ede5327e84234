// Wires one validator node together: RocksDB, state, chain, mempool, block producer, JSON-RPC and metrics.
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { blsPublicKey, type Genesis, parseGenesis, RustChainError } from "@rustchain/shared";
import type { Logger } from "pino";
import { BlockProducer } from "../chain/blockProducer.ts";
import { Chain } from "../chain/chain.ts";
import { Database } from "../db/database.ts";
import { createRecoveryPool, type SenderRecovery } from "../execution/senderRecovery.ts";
import { defaultMempoolOptions, Mempool } from "../mempool/mempool.ts";
import { Metrics } from "../metrics/metrics.ts";
import { defaultEthApiOptions, EthApi } from "../rpc/ethApi.ts";
import { defaultFilterOptions, FilterManager } from "../rpc/filters.ts";
import { defaultRpcServerOptions, RpcServer, type RpcServerOptions } from "../rpc/rpcServer.ts";
import { ContractRuntime, checkDeployData } from "../runtime/contractRuntime.ts";
import { defaultStateDbOptions, StateDb } from "../state/stateDb.ts";

export interface NodeOptions {
  datadir: string;
  genesis: Genesis;
  /** BLS secret key of this validator; without it the node only follows. */
  secretKey?: Uint8Array;
  rpc: Partial<RpcServerOptions>;
  /** Metrics listen address; port 0 picks a free port, undefined disables. */
  metrics?: { host: string; port: number };
}

export type NodeErrorType = { code: "NODE_KEY_NOT_IN_VALIDATOR_SET"; publicKey: string };
export class NodeError extends RustChainError<NodeErrorType> {}

export async function loadGenesisFile(path: string): Promise<Genesis> {
  return parseGenesis(JSON.parse(await readFile(path, "utf8")));
}

export class RustChainNode {
  private constructor(
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly rpc: RpcServer,
    private readonly producer: BlockProducer | undefined,
    private readonly db: Database,
    private readonly recovery: SenderRecovery,
    private readonly filters: FilterManager,
    private readonly metricsServer: Server | undefined,
    private readonly logger: Logger,
  ) {}

  static async start(opts: NodeOptions, logger: Logger): Promise<RustChainNode> {
    const db = await Database.open(`${opts.datadir}/chaindata`);
    const metrics = new Metrics();
    const state = new StateDb(defaultStateDbOptions, { db });
    const recovery = createRecoveryPool();
    const runtime = new ContractRuntime();
    const chain = new Chain(opts.genesis, { db, state, recovery, runtime, logger: logger.child({ module: "chain" }) });
    await chain.init();
    metrics.headNumber.set(Number(chain.head.number));
    chain.on("block", (b) => metrics.headNumber.set(Number(b.block.header.number)));

    const mempool = new Mempool(defaultMempoolOptions, {
      head: () => ({
        chainId: chain.chainId,
        baseFeePerGas: chain.childEnv(0n, new Uint8Array(20)).baseFeePerGas,
        gasLimit: chain.head.gasLimit,
        getAccount: (a) => state.headAccount(a),
      }),
      checkCreation: checkDeployData,
    });
    mempool.on("added", () => metrics.mempoolSize.set(mempool.size));
    chain.on("block", () => metrics.mempoolSize.set(mempool.size));

    let producer: BlockProducer | undefined;
    if (opts.secretKey) {
      const pub = Buffer.from(blsPublicKey(opts.secretKey));
      const index = opts.genesis.validators.findIndex((v) => pub.equals(v.blsPublicKey));
      if (index < 0)
        throw new NodeError({ code: "NODE_KEY_NOT_IN_VALIDATOR_SET", publicKey: `0x${pub.toString("hex")}` });
      producer = new BlockProducer(
        { validatorIndex: index, extraData: new Uint8Array(0) },
        { chain, mempool, secretKey: opts.secretKey, logger: logger.child({ module: "producer" }), metrics },
      );
    }

    const filters = new FilterManager(defaultFilterOptions);
    const api = new EthApi(defaultEthApiOptions, { chain, runtime, state, mempool, recovery, filters });
    const rpc = new RpcServer(
      { ...defaultRpcServerOptions, ...opts.rpc },
      { api, chain, mempool, filters, logger: logger.child({ module: "rpc" }), metrics },
    );
    await rpc.listen();
    logger.info({ url: rpc.url, chainId: Number(chain.chainId) }, "RPC listening");
    const metricsServer = opts.metrics ? await metrics.listen(opts.metrics.host, opts.metrics.port) : undefined;
    if (metricsServer) {
      const a = metricsServer.address();
      if (a && typeof a !== "string")
        logger.info({ url: `http://${a.address}:${a.port}/metrics` }, "Metrics listening");
    }
    producer?.start();
    return new RustChainNode(chain, mempool, rpc, producer, db, recovery, filters, metricsServer, logger);
  }

  async stop(): Promise<void> {
    await this.producer?.stop();
    await this.rpc.close();
    this.filters.close();
    await new Promise<void>((r) => (this.metricsServer ? this.metricsServer.close(() => r()) : r()));
    await this.recovery.close();
    await this.db.close();
    this.logger.info("Stopped");
  }
}
