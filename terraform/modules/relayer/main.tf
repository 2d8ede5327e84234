# The bridge relayer (docs/bridge.md, "The relayer") on a plain VM under systemd, in an autoscaling group of one, with
# its state in ElastiCache Redis: encrypted in transit and at rest, in private subnets, reachable only from the
# relayer's security group. The instance is stateless: a replacement picks up the Redis stream where the old one left
# it (an unacknowledged entry is read again; every step is idempotent).
#
# Secrets: Terraform holds references only. The keystore password is read at every boot from Secrets Manager or SSM
# (keystore_password_ref) into /run/rustchain (tmpfs); the encrypted keystore comes from S3.

locals {
  tags          = module.host.tags
  private_ip    = module.host.private_ip
  password_path = "/run/rustchain/relayer-password"
  redis_url     = "rediss://${aws_elasticache_replication_group.redis.primary_endpoint_address}:${aws_elasticache_replication_group.redis.port}"
}

# ---------------------------------------------------------------------------------------------------------------------
# Redis only from the relayer (the relayer's own group is the host's).

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis of the bridge relayer ${var.name}: from the relayer only"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_relayer" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis (TLS) from the relayer"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = module.host.security_group_id
  tags                         = local.tags
}

# ---------------------------------------------------------------------------------------------------------------------
# Redis.

resource "aws_elasticache_subnet_group" "redis" {
  name        = "${var.name}-redis"
  description = "Private subnets of ${var.name}'s Redis"
  subnet_ids  = var.redis_subnet_ids
  tags        = local.tags
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = "${var.name}-redis"
  description                = "State of the RustChain bridge relayer ${var.name}"
  engine                     = "redis"
  engine_version             = var.redis_engine_version
  node_type                  = var.redis_node_type
  num_cache_clusters         = var.redis_num_cache_clusters
  automatic_failover_enabled = var.redis_num_cache_clusters > 1
  multi_az_enabled           = var.redis_num_cache_clusters > 1
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.redis.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = var.ebs_kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  snapshot_retention_limit   = var.redis_snapshot_retention_days
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:05:00-sun:06:00"
  apply_immediately          = false
  tags                       = local.tags
}

# ---------------------------------------------------------------------------------------------------------------------
# The host (modules/host): the status API and metrics from the VPC, no SSH (Session Manager instead); an instance
# role that reaches the release, the deployment file and its own keystore, and its password secret. Nothing else.

data "aws_iam_policy_document" "relayer" {
  statement {
    sid     = "ReadBootObjects"
    actions = ["s3:GetObject"]
    resources = [
      "arn:${module.host.partition}:s3:::${trimprefix(var.release_s3_uri, "s3://")}",
      "arn:${module.host.partition}:s3:::${trimprefix(var.deployment_s3_uri, "s3://")}",
      "arn:${module.host.partition}:s3:::${trimprefix(var.keystore_s3_uri, "s3://")}",
    ]
  }
}

module "host" {
  source = "../host"

  name                   = var.name
  purpose                = "relayer"
  tags                   = var.tags
  component_tags         = { Component = "relayer" }
  vpc_id                 = var.vpc_id
  subnet_id              = var.subnet_id
  private_ip_host_number = var.private_ip_host_number
  instance_type          = var.instance_type
  architecture           = var.architecture
  ami_id                 = var.ami_id
  root_volume_size_gib   = var.root_volume_size_gib
  ebs_kms_key_arn        = var.ebs_kms_key_arn
  secrets_kms_key_arn    = var.secrets_kms_key_arn
  password_ref           = var.keystore_password_ref
  password_label         = "KeystorePassword"

  security_group_description = "RustChain bridge relayer ${var.name}: status API and metrics from the VPC"
  egress_description         = "both chains' RPC, Redis, S3, Secrets Manager, package mirrors"
  ingress = {
    status = { description = "status API and /metrics", port = var.status_port, cidrs = var.status_allowed_cidrs }
  }
  policy_json = data.aws_iam_policy_document.relayer.json

  autoscaling = true

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    stable_ip         = local.private_ip
    name              = var.name
    region            = module.host.region
    release_s3_uri    = var.release_s3_uri
    release_sha256    = var.release_sha256
    node_version      = var.node_version
    deployment_s3_uri = var.deployment_s3_uri
    keystore_s3_uri   = var.keystore_s3_uri
    password_ref      = var.keystore_password_ref
    password_path     = local.password_path
    relayer_args      = "--listen 0.0.0.0:${var.status_port} --redis-url ${local.redis_url}"
  })
}
