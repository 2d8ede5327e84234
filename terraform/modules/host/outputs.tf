output "tags" {
  description = "The host's tags (tags, component_tags and Name): the caller tags its own resources with them."
  value       = local.tags
}

output "private_ip" {
  description = "Fixed private IP of the host inside its subnet."
  value       = local.private_ip
}

output "region" {
  description = "AWS region of the host (for user data and the caller's policy ARNs)."
  value       = local.region
}

output "partition" {
  description = "AWS partition of the host (for the caller's policy ARNs)."
  value       = local.partition
}

output "availability_zone" {
  description = "Availability zone of the subnet (where the caller's data volume must live)."
  value       = data.aws_subnet.this.availability_zone
}

output "ami_id" {
  description = "The AMI the host boots (ami_id, or the newest Ubuntu 24.04 LTS for the architecture)."
  value       = local.ami_id
}

output "security_group_id" {
  description = "Security group of the host; the caller adds its ingress rules to it."
  value       = aws_security_group.this.id
}

output "role_arn" {
  description = "IAM role of the host."
  value       = aws_iam_role.this.arn
}

output "instance_profile_name" {
  description = "Instance profile of the host's role (for a caller-run aws_instance)."
  value       = aws_iam_instance_profile.this.name
}

output "autoscaling_group_name" {
  description = "Autoscaling group of one running the host, or null when autoscaling = false."
  value       = var.autoscaling ? aws_autoscaling_group.this[0].name : null
}
