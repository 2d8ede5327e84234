// Diagnostics of a node under load, printed after the measured part: its Prometheus metrics and its output.

export interface NodeMetrics {
  /** Blocks produced over the node's life, and the seconds spent producing them. */
  blocks: number;
  producingS: number;
  /** eth_sendRawTransaction calls served, and the seconds spent serving them. */
  sendCalls: number;
  sendS: number;
}

/** Block production and eth_sendRawTransaction latency from a RustChain node's Prometheus endpoint. */
export async function readNodeMetrics(url: string): Promise<NodeMetrics> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const metric = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : Number.NaN;
  };
  const label = '{method="eth_sendRawTransaction"}';
  return {
    blocks: metric("rustchain_block_production_seconds_count"),
    producingS: metric("rustchain_block_production_seconds_sum"),
    sendCalls: metric(`rustchain_rpc_request_seconds_count${label}`),
    sendS: metric(`rustchain_rpc_request_seconds_sum${label}`),
  };
}

/** The last 40 lines of a node's output (each cut at 400 characters), under a `[name] node output` heading. */
export function printNodeLog(name: string, out: string): void {
  const lines = out.trim().split("\n").filter(Boolean);
  if (lines.length === 0) return;
  console.log(`[${name}] node output (last ${Math.min(lines.length, 40)} of ${lines.length} lines):`);
  for (const l of lines.slice(-40)) console.log(`  ${l.slice(0, 400)}`);
}
