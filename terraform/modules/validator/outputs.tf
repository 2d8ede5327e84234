output "p2p_endpoint" {
  description = "Announced libp2p address of the node (Elastic IP:port); add /p2p/<peer id> for --bootstrap."
  value       = "${aws_eip.p2p.public_ip}:${var.p2p_port}"
}

output "public_ip" {
  description = "The node's Elastic IP."
  value       = aws_eip.p2p.public_ip
}

output "rpc_endpoint" {
  description = "JSON-RPC URL inside the VPC (fullnodes with rpc_allowed_cidrs), or null when RPC is on loopback."
  value       = local.rpc_listen_public ? "http://${local.private_ip}:${var.rpc_port}" : null
}

output "metrics_endpoint" {
  description = "Prometheus scrape target inside the VPC (private IP:port)."
  value       = "${local.private_ip}:${var.metrics_port}"
}

output "private_ip" {
  description = "Fixed private IP of the node inside its subnet."
  value       = local.private_ip
}

output "security_group_id" {
  description = "Security group of the node."
  value       = module.host.security_group_id
}

output "role_arn" {
  description = "IAM role of the node (for the snapshot bucket's policies)."
  value       = module.host.role_arn
}

output "data_volume_id" {
  description = "The gp3 data volume (chain, slashing protection, keystores)."
  value       = aws_ebs_volume.data.id
}

output "autoscaling_group_name" {
  description = "Autoscaling group of one running the node (cycle its instance to apply a new launch template)."
  value       = module.host.autoscaling_group_name
}
