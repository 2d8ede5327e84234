output "rpc_url" {
  description = "Public JSON-RPC endpoint (HTTP POST)."
  value       = "https://${var.hostname}/"
}

output "websocket_url" {
  description = "Public JSON-RPC endpoint over WebSocket (eth_subscribe)."
  value       = "wss://${var.hostname}/"
}

output "ingest_url" {
  description = "Replication ingest URL for the core's --replicate-to (HMAC-signed with REPLICATION_KEY)."
  value       = "https://${var.hostname}/replication/ingest"
}

output "metrics_url" {
  description = "The Worker's metrics snapshot (Authorization: Bearer METRICS_TOKEN; 404 until the secret is set)."
  value       = "https://${var.hostname}/metrics"
}

output "kv_namespace_id" {
  description = "Id of the FINALIZED KV namespace (for wrangler.toml when deploying with wrangler instead)."
  value       = cloudflare_workers_kv_namespace.finalized.id
}

output "script_name" {
  description = "Name of the Worker script (for wrangler secret put --name)."
  value       = cloudflare_workers_script.edge.script_name
}
