# One RustChain node on a plain VM under systemd: an autoscaling group of one (EC2 replaces a dead instance), a gp3
# data volume that outlives instances, an Elastic IP that is the node's announced p2p address, and an instance role
# that reaches only what the node needs. The instance attaches the volume and the address itself at boot.
#
# Why the volume is separate from the instance: it carries the RocksDB state, the slashing-protection database and
# the keystores. A replacement instance cannot attach it until the old one has let go of it, and the node starts only
# once it is mounted, so two instances never sign with the same key and the slashing history moves with the key.
#
# Secrets: Terraform holds references only. The keystore password is read at every boot from Secrets Manager or SSM
# (keystore_password_ref) into /run/rustchain (tmpfs); the encrypted keystores come from S3 or are put on the volume
# out of band.

locals {
  tags      = module.host.tags
  validator = var.role == "validator"
  partition = module.host.partition
  region    = module.host.region

  datadir           = "/var/lib/rustchain"
  keystore_path     = "${local.datadir}/keys/validator.json"
  bridge_path       = "${local.datadir}/keys/bridge.json"
  password_path     = "/run/rustchain/keystore-password"
  snapshot_url      = "s3://${var.snapshot_bucket_name}/${var.snapshot_prefix}"
  private_ip        = module.host.private_ip
  rpc_listen_public = length(var.rpc_allowed_cidrs) > 0

  # /etc/rustchain/node.json: the `rustchain node` flags in camelCase (read with --config).
  node_config = merge(
    {
      datadir         = "${local.datadir}/chain"
      genesis         = "/etc/rustchain/genesis.json"
      p2pAddr         = "0.0.0.0:${var.p2p_port}"
      announceAddr    = "${aws_eip.p2p.public_ip}:${var.p2p_port}"
      maxPeers        = var.max_peers
      dhtPrivateAddrs = var.dht_private_addrs
      rpcAddr         = "${local.rpc_listen_public ? "0.0.0.0" : "127.0.0.1"}:${var.rpc_port}"
      metricsAddr     = "0.0.0.0:${var.metrics_port}"
    },
    length(var.bootstrap_peers) > 0 ? { bootstrap = var.bootstrap_peers } : {},
    local.validator ? { key = local.keystore_path, passwordFile = local.password_path } : {},
    local.validator && var.bridge_keystore_s3_uri != null ? { bridgeKeystore = local.bridge_path } : {},
    var.snapshot_every > 0 ? { snapshotEvery = var.snapshot_every, snapshotTo = local.snapshot_url } : {},
    var.warp_sync ? { warpSync = local.snapshot_url } : {},
  )
}

# ---------------------------------------------------------------------------------------------------------------------
# Identity that survives instance replacement: the p2p address and the data volume.

resource "aws_eip" "p2p" {
  domain = "vpc"
  tags   = local.tags
}

resource "aws_ebs_volume" "data" {
  availability_zone = module.host.availability_zone
  type              = "gp3"
  size              = var.data_volume_size_gib
  iops              = var.data_volume_iops
  throughput        = var.data_volume_throughput
  encrypted         = true
  kms_key_id        = var.ebs_kms_key_arn
  tags              = merge(local.tags, { Name = "${var.name}-data", SnapshotPolicy = "${var.name}-data" })

  lifecycle {
    prevent_destroy = true
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Snapshots of the data volume (crash-consistent; RocksDB recovers from its WAL, and the slashing-protection database
# is a RocksDB column family too). These are for disaster recovery of one node; syncing new nodes uses the state
# snapshots in the S3 bucket.

data "aws_iam_policy_document" "dlm_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["dlm.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "dlm" {
  name               = "${var.name}-dlm"
  assume_role_policy = data.aws_iam_policy_document.dlm_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "dlm" {
  role       = aws_iam_role.dlm.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"
}

resource "aws_dlm_lifecycle_policy" "data" {
  description        = "${var.name} data volume snapshots"
  execution_role_arn = aws_iam_role.dlm.arn
  state              = "ENABLED"
  tags               = local.tags

  policy_details {
    resource_types = ["VOLUME"]
    target_tags    = { SnapshotPolicy = "${var.name}-data" }

    schedule {
      name      = "every-${var.volume_snapshot_interval_hours}h"
      copy_tags = true

      create_rule {
        interval      = var.volume_snapshot_interval_hours
        interval_unit = "HOURS"
      }

      retain_rule {
        count = var.volume_snapshot_retain_count
      }
    }
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# The host (modules/host): p2p from peers, metrics from the VPC, RPC only where asked, no SSH (Session Manager
# instead); an instance role that reaches the release and genesis objects, its own keystores, the snapshot prefix, its
# password secret, and attaching its own volume and address. Nothing else.

data "aws_iam_policy_document" "node" {
  statement {
    sid     = "ReadBootObjects"
    actions = ["s3:GetObject"]
    resources = compact([
      "arn:${local.partition}:s3:::${trimprefix(var.release_s3_uri, "s3://")}",
      "arn:${local.partition}:s3:::${trimprefix(var.genesis_s3_uri, "s3://")}",
      var.keystore_s3_uri == null ? "" : "arn:${local.partition}:s3:::${trimprefix(var.keystore_s3_uri, "s3://")}",
      var.bridge_keystore_s3_uri == null ? "" : "arn:${local.partition}:s3:::${trimprefix(var.bridge_keystore_s3_uri, "s3://")}",
    ])
  }

  statement {
    sid       = "ListSnapshots"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.snapshot_bucket_name}"]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.snapshot_prefix}/*"]
    }
  }

  statement {
    sid       = "UseSnapshots"
    actions   = var.snapshot_every > 0 ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"] : ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.snapshot_bucket_name}/${var.snapshot_prefix}/*"]
  }

  statement {
    sid       = "AttachOwnVolume"
    actions   = ["ec2:AttachVolume"]
    resources = [aws_ebs_volume.data.arn, "arn:${local.partition}:ec2:${local.region}:*:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Name"
      values   = [var.name, "${var.name}-data"]
    }
  }

  statement {
    sid       = "AssociateOwnAddress"
    actions   = ["ec2:AssociateAddress"]
    resources = [aws_eip.p2p.arn, "arn:${local.partition}:ec2:${local.region}:*:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Name"
      values   = [var.name]
    }
  }

  statement {
    sid       = "DescribeForBoot"
    actions   = ["ec2:DescribeVolumes", "ec2:DescribeAddresses"]
    resources = ["*"]
  }

  # What a role may hold, checked here: the host's role and launch template both wait for this document.
  lifecycle {
    precondition {
      condition     = !local.validator || var.keystore_password_ref != null
      error_message = "role = validator needs keystore_password_ref (the keystore password's Secrets Manager or SSM ARN)."
    }

    precondition {
      condition     = local.validator || (var.keystore_s3_uri == null && var.bridge_keystore_s3_uri == null)
      error_message = "A fullnode holds no keys: leave keystore_s3_uri and bridge_keystore_s3_uri null."
    }

    precondition {
      condition     = !local.validator || length(var.rpc_allowed_cidrs) == 0
      error_message = "A validator keeps JSON-RPC on loopback: serve RPC from fullnodes (rpc_allowed_cidrs on role = fullnode)."
    }
  }
}

module "host" {
  source = "../host"

  name                   = var.name
  purpose                = "node"
  tags                   = var.tags
  component_tags         = { Component = "node", Role = var.role }
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

  security_group_description = "RustChain ${var.role} ${var.name}: p2p, private metrics"
  egress_description         = "peers, S3, Secrets Manager, package mirrors"
  ingress = {
    p2p     = { description = "libp2p", port = var.p2p_port, cidrs = var.p2p_allowed_cidrs }
    metrics = { description = "Prometheus scrape from inside the VPC", port = var.metrics_port, cidrs = var.metrics_allowed_cidrs }
    rpc     = { description = "JSON-RPC", port = var.rpc_port, cidrs = var.rpc_allowed_cidrs }
  }
  policy_json = data.aws_iam_policy_document.node.json

  autoscaling            = true
  instance_metadata_tags = true
  # Replace, never add: with max_size = 1 the old instance is terminated (and lets go of the data volume) before
  # the new one boots. No instance refresh: a new launch template takes effect when an operator cycles the instance.
  termination_policies = ["OldestInstance"]

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    stable_ip              = local.private_ip
    name                   = var.name
    role                   = var.role
    region                 = local.region
    volume_id              = aws_ebs_volume.data.id
    eip_allocation_id      = aws_eip.p2p.allocation_id
    datadir                = local.datadir
    node_config            = jsonencode(local.node_config)
    release_s3_uri         = var.release_s3_uri
    release_sha256         = var.release_sha256
    node_version           = var.node_version
    genesis_s3_uri         = var.genesis_s3_uri
    keystore_s3_uri        = var.keystore_s3_uri == null ? "" : var.keystore_s3_uri
    keystore_path          = local.keystore_path
    bridge_keystore_s3_uri = var.bridge_keystore_s3_uri == null ? "" : var.bridge_keystore_s3_uri
    bridge_path            = local.bridge_path
    password_ref           = var.keystore_password_ref == null ? "" : var.keystore_password_ref
    password_path          = local.password_path
  })
}
