output "validator_p2p_endpoints" {
  description = "Announced p2p address of each validator (Elastic IP:port)."
  value       = { for k, m in module.validator : k => m.p2p_endpoint }
}

output "validator_metrics_endpoints" {
  description = "Metrics scrape target of each validator and fullnode, inside the VPC."
  value       = merge({ for k, m in module.validator : k => m.metrics_endpoint }, { for k, m in module.fullnode : k => m.metrics_endpoint })
}

output "fullnode_p2p_endpoints" {
  description = "Announced p2p address of each fullnode."
  value       = { for k, m in module.fullnode : k => m.p2p_endpoint }
}

output "fullnode_rpc_endpoints" {
  description = "JSON-RPC URL of each fullnode inside the VPC (null where RPC stays on loopback)."
  value       = { for k, m in module.fullnode : k => m.rpc_endpoint }
}

output "snapshot_url" {
  description = "State snapshot location (--snapshot-to / --warp-sync)."
  value       = module.snapshots.snapshot_url
}

output "edge_rpc_url" {
  description = "Public JSON-RPC endpoint of the testnet."
  value       = module.edge.rpc_url
}

output "edge_websocket_url" {
  description = "Public WebSocket endpoint of the testnet."
  value       = module.edge.websocket_url
}

output "edge_ingest_url" {
  description = "Replication ingest URL for the core's --replicate-to."
  value       = module.edge.ingest_url
}

output "relayer_status_url" {
  description = "The bridge relayer's status API inside the VPC."
  value       = module.relayer.status_url
}

output "redis_endpoint" {
  description = "The relayer's Redis (TLS) inside the VPC."
  value       = module.relayer.redis_endpoint
}

output "prometheus_url" {
  description = "Prometheus inside the VPC."
  value       = module.monitoring.prometheus_url
}

output "grafana_url" {
  description = "Grafana inside the VPC."
  value       = module.monitoring.grafana_url
}
