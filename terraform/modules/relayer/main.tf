# The bridge relayer (docs/bridge.md, "The relayer") on a plain VM under systemd, in an autoscaling group of one, with
# its state in ElastiCache Redis: encrypted in transit and at rest, in private subnets, reachable only from the
# relayer's security group. The instance is stateless: a replacement picks up the Redis stream where the old one left
# it (an unacknowledged entry is read again; every step is idempotent).
#
# Secrets: Terraform holds references only. The keystore password is read at every boot from Secrets Manager or SSM
# (keystore_password_ref) into /run/rustchain (tmpfs); the encrypted keystore comes from S3.

locals {
  tags          = merge(var.tags, { Component = "relayer", Name = var.name })
  private_ip    = cidrhost(data.aws_subnet.this.cidr_block, var.private_ip_host_number)
  password_path = "/run/rustchain/relayer-password"
  redis_url     = "rediss://${aws_elasticache_replication_group.redis.primary_endpoint_address}:${aws_elasticache_replication_group.redis.port}"
}

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_subnet" "this" {
  id = var.subnet_id
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${var.architecture == "arm64" ? "arm64" : "amd64"}-server-*"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Security groups: the status API from the VPC; Redis only from the relayer.

resource "aws_security_group" "relayer" {
  name        = "${var.name}-relayer"
  description = "RustChain bridge relayer ${var.name}: status API and metrics from the VPC"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "status" {
  for_each = toset(var.status_allowed_cidrs)

  security_group_id = aws_security_group.relayer.id
  description       = "status API and /metrics"
  ip_protocol       = "tcp"
  from_port         = var.status_port
  to_port           = var.status_port
  cidr_ipv4         = each.value
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "relayer_all" {
  security_group_id = aws_security_group.relayer.id
  description       = "both chains' RPC, Redis, S3, Secrets Manager, package mirrors"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

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
  referenced_security_group_id = aws_security_group.relayer.id
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
# Instance role: the release, the deployment file and its own keystore; its password secret. Nothing else.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "relayer" {
  name               = "${var.name}-relayer"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "relayer" {
  name = "${var.name}-relayer"
  role = aws_iam_role.relayer.name
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.relayer.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "relayer" {
  statement {
    sid     = "ReadBootObjects"
    actions = ["s3:GetObject"]
    resources = [
      "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(var.release_s3_uri, "s3://")}",
      "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(var.deployment_s3_uri, "s3://")}",
      "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(var.keystore_s3_uri, "s3://")}",
    ]
  }

  statement {
    sid       = "ClaimStableAddress"
    actions   = ["ec2:AssignPrivateIpAddresses"]
    resources = ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:*:network-interface/*"]

    condition {
      test     = "ArnEquals"
      variable = "ec2:Subnet"
      values   = [data.aws_subnet.this.arn]
    }
  }

  statement {
    sid       = "ReadKeystorePassword"
    actions   = strcontains(var.keystore_password_ref, ":ssm:") ? ["ssm:GetParameter"] : ["secretsmanager:GetSecretValue"]
    resources = [var.keystore_password_ref]
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]

    content {
      sid       = "DecryptKeystorePassword"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com", "ssm.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "relayer" {
  name   = "${var.name}-relayer"
  role   = aws_iam_role.relayer.id
  policy = data.aws_iam_policy_document.relayer.json
}

# ---------------------------------------------------------------------------------------------------------------------
# The instance.

resource "aws_launch_template" "relayer" {
  name_prefix            = "${var.name}-"
  image_id               = coalesce(var.ami_id, data.aws_ami.ubuntu.id)
  instance_type          = var.instance_type
  update_default_version = true
  tags                   = local.tags

  user_data = base64encode(templatefile("${path.module}/user_data.sh.tftpl", {
    stable_ip         = local.private_ip
    name              = var.name
    region            = data.aws_region.current.name
    release_s3_uri    = var.release_s3_uri
    release_sha256    = var.release_sha256
    node_version      = var.node_version
    deployment_s3_uri = var.deployment_s3_uri
    keystore_s3_uri   = var.keystore_s3_uri
    password_ref      = var.keystore_password_ref
    password_path     = local.password_path
    relayer_args      = "--listen 0.0.0.0:${var.status_port} --redis-url ${local.redis_url}"
  }))

  iam_instance_profile {
    arn = aws_iam_instance_profile.relayer.arn
  }

  # The subnet comes from the autoscaling group. The stable private address (local.private_ip) is a secondary
  # address the instance claims at boot, so scrape targets and URLs survive replacement.
  network_interfaces {
    device_index                = 0
    associate_public_ip_address = true
    security_groups             = [aws_security_group.relayer.id]
    delete_on_termination       = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/sda1"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gib
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = local.tags
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-root" })
  }
}

resource "aws_autoscaling_group" "relayer" {
  name                      = var.name
  min_size                  = 1
  max_size                  = 1
  desired_capacity          = 1
  vpc_zone_identifier       = [var.subnet_id]
  health_check_type         = "EC2"
  health_check_grace_period = 300

  launch_template {
    id      = aws_launch_template.relayer.id
    version = aws_launch_template.relayer.latest_version
  }

  dynamic "tag" {
    for_each = local.tags

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}
