# The edge RPC on Cloudflare Workers (docs/edge.md): the Worker script with its two Durable Object classes
# (ChainReplica, SQLite-backed; RateLimiter), the FINALIZED KV namespace, the plain variables of wrangler.toml, and a
# route on the public hostname.
#
# Secrets are not in Terraform at all, so never in its state: CORE_RPC_URL, CORE_REPLICATION_URL, REPLICATION_KEY
# and METRICS_TOKEN are set with `wrangler secret put <NAME> --name <script_name>` (docs/operators.md), and
# keep_bindings = ["secret_text"] keeps them across applies instead of deleting what Terraform does not manage.

locals {
  # The [vars] of wrangler.toml.
  plain_vars = {
    CHAIN_ID              = tostring(var.chain_id)
    CLIENT_VERSION        = var.client_version
    RATE_LIMIT_PER_SECOND = tostring(var.rate_limit_per_second)
    RATE_LIMIT_BURST      = tostring(var.rate_limit_burst)
    MAX_BATCH             = tostring(var.max_batch)
    MAX_BODY_BYTES        = tostring(var.max_body_bytes)
    PULL_INTERVAL_SECONDS = tostring(var.pull_interval_seconds)
  }
}

resource "cloudflare_workers_kv_namespace" "finalized" {
  account_id = var.account_id
  title      = "${var.script_name}-finalized"
}

resource "cloudflare_workers_script" "edge" {
  account_id          = var.account_id
  script_name         = var.script_name
  content_file        = var.script_path
  content_sha256      = filesha256(var.script_path)
  main_module         = basename(var.script_path)
  compatibility_date  = var.compatibility_date
  compatibility_flags = ["nodejs_compat"]

  bindings = concat(
    [
      {
        name       = "CHAIN_REPLICA"
        type       = "durable_object_namespace"
        class_name = "ChainReplica"
      },
      {
        name       = "RATE_LIMITER"
        type       = "durable_object_namespace"
        class_name = "RateLimiter"
      },
      {
        name         = "FINALIZED"
        type         = "kv_namespace"
        namespace_id = cloudflare_workers_kv_namespace.finalized.id
      },
    ],
    [for k, v in local.plain_vars : { name = k, type = "plain_text", text = v }],
  )

  # Secrets set with `wrangler secret put` survive applies.
  keep_bindings = ["secret_text"]

  # wrangler.toml's [[migrations]]: both classes are SQLite-backed from the first deployment.
  migrations = {
    new_tag            = "v1"
    new_sqlite_classes = ["ChainReplica", "RateLimiter"]
  }

  observability = {
    enabled = true
  }
}

resource "cloudflare_workers_route" "edge" {
  zone_id = var.zone_id
  pattern = "${var.hostname}/*"
  script  = cloudflare_workers_script.edge.script_name
}
