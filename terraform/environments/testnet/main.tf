# The RustChain testnet: a validator tier and a fullnode tier (plain VMs under systemd), the state snapshot bucket,
# the bridge relayer with its Redis, Prometheus and Grafana, and the edge RPC on Cloudflare.
#
# Secrets are references only: each keystore password, the relayer's and Grafana's admin password are Secrets
# Manager ARNs read by the instances at boot; the edge's secrets are set with `wrangler secret put`. Nothing here
# creates or reads a secret value, so the state holds none.

locals {
  name = "rustchain-${var.environment}"

  # Required on every AWS resource (the modules validate them).
  tags = {
    Project     = "rustchain"
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  artifacts        = "s3://${var.artifacts_bucket_name}"
  release_s3_uri   = "${local.artifacts}/releases/rustchain-${var.release_version}.tar.gz"
  genesis_s3_uri   = "${local.artifacts}/${var.environment}/genesis.json"
  keystores_prefix = "${local.artifacts}/${var.environment}/keystores"
  public_subnets   = aws_subnet.public[*].id
}

module "snapshots" {
  source = "../../modules/snapshots"

  bucket_name = var.snapshot_bucket_name
  prefix      = var.environment
  tags        = local.tags
}

module "validator" {
  source   = "../../modules/validator"
  for_each = var.validators

  name                   = "${local.name}-${each.key}"
  role                   = "validator"
  tags                   = local.tags
  vpc_id                 = aws_vpc.this.id
  subnet_id              = local.public_subnets[each.value.subnet_index]
  private_ip_host_number = each.value.host_number
  instance_type          = each.value.instance_type
  data_volume_size_gib   = each.value.data_volume_size_gib
  metrics_allowed_cidrs  = [var.vpc_cidr]
  bootstrap_peers        = var.bootstrap_peers
  snapshot_bucket_name   = module.snapshots.bucket_name
  snapshot_prefix        = var.environment
  warp_sync              = true
  release_s3_uri         = local.release_s3_uri
  release_sha256         = var.release_sha256
  genesis_s3_uri         = local.genesis_s3_uri
  keystore_s3_uri        = each.value.keystore_in_s3 ? "${local.keystores_prefix}/${each.key}/validator.json" : null
  bridge_keystore_s3_uri = each.value.bridge_keystore_in_s3 ? "${local.keystores_prefix}/${each.key}/bridge.json" : null
  keystore_password_ref  = each.value.keystore_password_ref
}

module "fullnode" {
  source   = "../../modules/validator"
  for_each = var.fullnodes

  name                   = "${local.name}-${each.key}"
  role                   = "fullnode"
  tags                   = local.tags
  vpc_id                 = aws_vpc.this.id
  subnet_id              = local.public_subnets[each.value.subnet_index]
  private_ip_host_number = each.value.host_number
  instance_type          = each.value.instance_type
  data_volume_size_gib   = each.value.data_volume_size_gib
  metrics_allowed_cidrs  = [var.vpc_cidr]
  rpc_allowed_cidrs      = each.value.serve_rpc ? [var.vpc_cidr] : []
  bootstrap_peers        = var.bootstrap_peers
  snapshot_bucket_name   = module.snapshots.bucket_name
  snapshot_prefix        = var.environment
  snapshot_every         = each.value.snapshot_every
  warp_sync              = true
  release_s3_uri         = local.release_s3_uri
  release_sha256         = var.release_sha256
  genesis_s3_uri         = local.genesis_s3_uri
}

module "relayer" {
  source = "../../modules/relayer"

  name                   = "${local.name}-relayer"
  tags                   = local.tags
  vpc_id                 = aws_vpc.this.id
  subnet_id              = local.public_subnets[0]
  private_ip_host_number = 200
  redis_subnet_ids       = aws_subnet.private[*].id
  status_allowed_cidrs   = [var.vpc_cidr]
  release_s3_uri         = local.release_s3_uri
  release_sha256         = var.release_sha256
  deployment_s3_uri      = "${local.artifacts}/${var.environment}/bridge-deployment.json"
  keystore_s3_uri        = "${local.keystores_prefix}/relayer/relayer.json"
  keystore_password_ref  = var.relayer_keystore_password_ref
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                       = "${local.name}-monitoring"
  tags                       = local.tags
  vpc_id                     = aws_vpc.this.id
  subnet_id                  = local.public_subnets[1]
  private_ip_host_number     = 250
  infra_dir                  = "${path.root}/../../../infra"
  config_bucket_name         = var.artifacts_bucket_name
  validator_targets          = concat([for m in module.validator : m.metrics_endpoint], [for m in module.fullnode : m.metrics_endpoint])
  relayer_targets            = [module.relayer.metrics_endpoint]
  admin_allowed_cidrs        = concat([var.vpc_cidr], var.admin_cidrs)
  grafana_admin_password_ref = var.grafana_admin_password_ref
}

module "edge" {
  source = "../../modules/edge"

  account_id  = var.cloudflare_account_id
  zone_id     = var.cloudflare_zone_id
  script_name = "${local.name}-edge"
  hostname    = var.edge_hostname
  script_path = "${path.root}/${var.edge_script_path}"
  chain_id    = var.chain_id
}
