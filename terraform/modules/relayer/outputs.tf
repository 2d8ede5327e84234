output "status_url" {
  description = "The relayer's status API and page inside the VPC (GET /health, /transfers, /)."
  value       = "http://${local.private_ip}:${var.status_port}"
}

output "metrics_endpoint" {
  description = "Prometheus scrape target of the relayer inside the VPC (private IP:port, path /metrics)."
  value       = "${local.private_ip}:${var.status_port}"
}

output "redis_endpoint" {
  description = "Primary endpoint of the relayer's Redis (TLS), as the relayer's --redis-url."
  value       = local.redis_url
}

output "private_ip" {
  description = "Fixed private IP of the relayer."
  value       = local.private_ip
}

output "security_group_id" {
  description = "Security group of the relayer instance."
  value       = module.host.security_group_id
}

output "role_arn" {
  description = "IAM role of the relayer instance."
  value       = module.host.role_arn
}
