output "prometheus_url" {
  description = "Prometheus inside the VPC."
  value       = "http://${local.private_ip}:9090"
}

output "grafana_url" {
  description = "Grafana inside the VPC (admin password in the grafana_admin_password_ref secret)."
  value       = "http://${local.private_ip}:3000"
}

output "private_ip" {
  description = "Fixed private IP of the monitoring host."
  value       = local.private_ip
}

output "instance_id" {
  description = "The monitoring instance (reach it with aws ssm start-session)."
  value       = aws_instance.monitoring.id
}

output "security_group_id" {
  description = "Security group of the monitoring host."
  value       = module.host.security_group_id
}
