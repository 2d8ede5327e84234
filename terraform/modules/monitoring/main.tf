# Prometheus and Grafana on one instance, with their data on a gp3 volume that outlives the instance. The
# configuration is the repository's infra/prometheus and infra/grafana: Terraform uploads them to the config bucket,
# with prometheus.yml's scrape targets replaced by the real ones (the job names and everything else stay), and the
# instance syncs them at boot. Scraping happens inside the VPC; the UIs are reachable from admin_allowed_cidrs only.

locals {
  tags          = merge(var.tags, { Component = "monitoring", Name = var.name })
  private_ip    = cidrhost(data.aws_subnet.this.cidr_block, var.private_ip_host_number)
  config_prefix = "monitoring/${var.name}"
  password_path = "/run/grafana/admin-password"

  # infra/prometheus/prometheus.yml with each job's targets replaced; jobs without targets are dropped.
  prometheus_base = yamldecode(file("${var.infra_dir}/prometheus/prometheus.yml"))
  targets_by_job = {
    "rustchain-validator" = var.validator_targets
    "rustchain-relayer"   = var.relayer_targets
    "rustchain-edge"      = var.edge_targets
    "node"                = [for t in concat(var.validator_targets, var.relayer_targets) : "${split(":", t)[0]}:9100"]
  }
  prometheus_config = merge(local.prometheus_base, {
    scrape_configs = [
      for job in local.prometheus_base.scrape_configs : merge(job, { static_configs = [{ targets = lookup(local.targets_by_job, job.job_name, []) }] })
      if length(lookup(local.targets_by_job, job.job_name, [])) > 0
    ]
  })

  # Every file the instance needs, by its key under the config prefix.
  grafana_files = fileset("${var.infra_dir}/grafana", "{provisioning/**/*.yaml,dashboards/*.json}")
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
# Configuration, uploaded from infra/.

resource "aws_s3_object" "prometheus_yml" {
  bucket                 = var.config_bucket_name
  key                    = "${local.config_prefix}/prometheus/prometheus.yml"
  content                = yamlencode(local.prometheus_config)
  content_type           = "application/yaml"
  server_side_encryption = "AES256"
  tags                   = local.tags
}

resource "aws_s3_object" "alerts_yml" {
  bucket                 = var.config_bucket_name
  key                    = "${local.config_prefix}/prometheus/alerts.yml"
  source                 = "${var.infra_dir}/prometheus/alerts.yml"
  etag                   = filemd5("${var.infra_dir}/prometheus/alerts.yml")
  content_type           = "application/yaml"
  server_side_encryption = "AES256"
  tags                   = local.tags
}

resource "aws_s3_object" "grafana" {
  for_each = local.grafana_files

  bucket                 = var.config_bucket_name
  key                    = "${local.config_prefix}/grafana/${each.value}"
  source                 = "${var.infra_dir}/grafana/${each.value}"
  etag                   = filemd5("${var.infra_dir}/grafana/${each.value}")
  server_side_encryption = "AES256"
  tags                   = local.tags
}

# ---------------------------------------------------------------------------------------------------------------------
# Network.

resource "aws_security_group" "monitoring" {
  name        = "${var.name}-monitoring"
  description = "Prometheus and Grafana ${var.name}: UIs from admin CIDRs only"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "prometheus" {
  for_each = toset(var.admin_allowed_cidrs)

  security_group_id = aws_security_group.monitoring.id
  description       = "Prometheus UI and API"
  ip_protocol       = "tcp"
  from_port         = 9090
  to_port           = 9090
  cidr_ipv4         = each.value
  tags              = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "grafana" {
  for_each = toset(var.admin_allowed_cidrs)

  security_group_id = aws_security_group.monitoring.id
  description       = "Grafana"
  ip_protocol       = "tcp"
  from_port         = 3000
  to_port           = 3000
  cidr_ipv4         = each.value
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.monitoring.id
  description       = "scrape targets, S3, Secrets Manager, package mirrors"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

# ---------------------------------------------------------------------------------------------------------------------
# Instance role: its config prefix and the Grafana password secret.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "monitoring" {
  name = "${var.name}-monitoring"
  role = aws_iam_role.monitoring.name
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "monitoring" {
  statement {
    sid       = "ListConfig"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.config_bucket_name}"]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.config_prefix}/*"]
    }
  }

  statement {
    sid       = "ReadConfig"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.config_bucket_name}/${local.config_prefix}/*"]
  }

  statement {
    sid       = "ReadGrafanaPassword"
    actions   = strcontains(var.grafana_admin_password_ref, ":ssm:") ? ["ssm:GetParameter"] : ["secretsmanager:GetSecretValue"]
    resources = [var.grafana_admin_password_ref]
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]

    content {
      sid       = "DecryptGrafanaPassword"
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

resource "aws_iam_role_policy" "monitoring" {
  name   = "${var.name}-monitoring"
  role   = aws_iam_role.monitoring.id
  policy = data.aws_iam_policy_document.monitoring.json
}

# ---------------------------------------------------------------------------------------------------------------------
# The instance and its data volume.

resource "aws_instance" "monitoring" {
  ami                    = coalesce(var.ami_id, data.aws_ami.ubuntu.id)
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  private_ip             = local.private_ip
  vpc_security_group_ids = [aws_security_group.monitoring.id]
  iam_instance_profile   = aws_iam_instance_profile.monitoring.name
  tags                   = local.tags
  volume_tags            = local.tags

  user_data_replace_on_change = false
  # Configuration changes reach a running host with the sync commands in docs/operators.md, not by replacing it.
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    name               = var.name
    region             = data.aws_region.current.name
    config_uri         = "s3://${var.config_bucket_name}/${local.config_prefix}"
    retention_days     = var.prometheus_retention_days
    password_ref       = var.grafana_admin_password_ref
    password_path      = local.password_path
    data_device_serial = replace(aws_ebs_volume.data.id, "-", "")
  })

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_size_gib
    encrypted   = true
    kms_key_id  = var.ebs_kms_key_arn
  }

  # A newer Ubuntu AMI must not replace the host (and its config) on the next apply.
  lifecycle {
    ignore_changes = [ami]
  }

  depends_on = [aws_s3_object.prometheus_yml, aws_s3_object.alerts_yml, aws_s3_object.grafana]
}

resource "aws_ebs_volume" "data" {
  availability_zone = data.aws_subnet.this.availability_zone
  type              = "gp3"
  size              = var.data_volume_size_gib
  encrypted         = true
  kms_key_id        = var.ebs_kms_key_arn
  tags              = merge(local.tags, { Name = "${var.name}-data" })
}

resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.monitoring.id
}
