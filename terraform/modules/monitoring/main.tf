# Prometheus and Grafana on one instance, with their data on a gp3 volume that outlives the instance. The
# configuration is the repository's infra/prometheus and infra/grafana: Terraform uploads them to the config bucket,
# with prometheus.yml's scrape targets replaced by the real ones (the job names and everything else stay), and the
# instance syncs them at boot. Scraping happens inside the VPC; the UIs are reachable from admin_allowed_cidrs only.

locals {
  tags          = module.host.tags
  private_ip    = module.host.private_ip
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
# The host (modules/host): the UIs from admin CIDRs only, no SSH (Session Manager instead); an instance role that
# reads its config prefix and the Grafana password secret. This module runs the instance itself (below), not an
# autoscaling group: one fixed host whose configuration changes are synced, not replaced.

data "aws_iam_policy_document" "monitoring" {
  statement {
    sid       = "ListConfig"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${module.host.partition}:s3:::${var.config_bucket_name}"]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.config_prefix}/*"]
    }
  }

  statement {
    sid       = "ReadConfig"
    actions   = ["s3:GetObject"]
    resources = ["arn:${module.host.partition}:s3:::${var.config_bucket_name}/${local.config_prefix}/*"]
  }
}

module "host" {
  source = "../host"

  name                   = var.name
  purpose                = "monitoring"
  tags                   = var.tags
  component_tags         = { Component = "monitoring" }
  vpc_id                 = var.vpc_id
  subnet_id              = var.subnet_id
  private_ip_host_number = var.private_ip_host_number
  instance_type          = var.instance_type
  architecture           = var.architecture
  ami_id                 = var.ami_id
  root_volume_size_gib   = var.root_volume_size_gib
  ebs_kms_key_arn        = var.ebs_kms_key_arn
  secrets_kms_key_arn    = var.secrets_kms_key_arn
  password_ref           = var.grafana_admin_password_ref
  password_label         = "GrafanaPassword"

  security_group_description = "Prometheus and Grafana ${var.name}: UIs from admin CIDRs only"
  egress_description         = "scrape targets, S3, Secrets Manager, package mirrors"
  ingress = {
    prometheus = { description = "Prometheus UI and API", port = 9090, cidrs = var.admin_allowed_cidrs }
    grafana    = { description = "Grafana", port = 3000, cidrs = var.admin_allowed_cidrs }
  }
  policy_json = data.aws_iam_policy_document.monitoring.json

  autoscaling = false
}

# ---------------------------------------------------------------------------------------------------------------------
# The instance and its data volume.

resource "aws_instance" "monitoring" {
  ami                    = module.host.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  private_ip             = local.private_ip
  vpc_security_group_ids = [module.host.security_group_id]
  iam_instance_profile   = module.host.instance_profile_name
  tags                   = local.tags
  volume_tags            = local.tags

  user_data_replace_on_change = false
  # Configuration changes reach a running host with the sync commands in docs/operators.md, not by replacing it.
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    name               = var.name
    region             = module.host.region
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
  availability_zone = module.host.availability_zone
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
