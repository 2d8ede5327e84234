// eth_feeHistory's reward column, shared by the node (validator/src/rpc/ethApi.ts) and the edge's replica
// (edge/src/replica/reads.ts) so both answer byte for byte alike. Pure arithmetic: no I/O, runs in Workers.
import { type Hex, toQuantity } from "../hex.ts";

/** The tip a transaction pays per gas at `baseFee`: min(maxFee - baseFee, maxPriorityFee). */
export function effectiveTip(maxFeePerGas: bigint, maxPriorityFeePerGas: bigint, baseFee: bigint): bigint {
  return maxFeePerGas - baseFee < maxPriorityFeePerGas ? maxFeePerGas - baseFee : maxPriorityFeePerGas;
}

/**
 * Effective tips at gas-weighted percentiles of one block, as geth's eth_feeHistory computes them: transactions sorted
 * by tip, each percentile answered by the first whose cumulative gas reaches that share of the block's gas used.
 */
export function rewardPercentiles(
  txs: readonly { tip: bigint; gasUsed: bigint }[],
  blockGasUsed: bigint,
  percentiles: readonly number[],
): Hex[] {
  if (txs.length === 0) return percentiles.map(() => "0x0");
  const items = [...txs].sort((x, y) => (x.tip < y.tip ? -1 : x.tip > y.tip ? 1 : 0));
  const total = Number(blockGasUsed);
  return percentiles.map((p) => {
    const threshold = (total * p) / 100;
    let sum = 0;
    for (const it of items) {
      sum += Number(it.gasUsed);
      if (sum >= threshold) return toQuantity(it.tip);
    }
    return toQuantity((items[items.length - 1] as { tip: bigint }).tip);
  });
}
