variable "account_id" {
  type        = string
  description = "Cloudflare account id that owns the Worker and the KV namespace."

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.account_id))
    error_message = "account_id must be 32 lowercase hex digits."
  }
}

variable "zone_id" {
  type        = string
  description = "Cloudflare zone id of hostname (the route lives in it)."

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.zone_id))
    error_message = "zone_id must be 32 lowercase hex digits."
  }
}

variable "script_name" {
  type        = string
  description = "Name of the Worker script (wrangler.toml's name for the same environment)."
  default     = "rustchain-edge"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,62}$", var.script_name))
    error_message = "script_name must be 1-63 lowercase letters, digits, '-' and '_'."
  }
}

variable "hostname" {
  type        = string
  description = "Public hostname of the edge RPC (e.g. rpc.testnet.example.org); the route is hostname/*."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.hostname))
    error_message = "hostname must be a lowercase DNS name."
  }
}

variable "script_path" {
  type        = string
  description = "The bundled Worker module: `npx wrangler deploy --dry-run --outdir dist/edge` writes dist/edge/index.js."

  validation {
    condition     = fileexists(var.script_path) && endswith(var.script_path, ".js")
    error_message = "script_path must be an existing .js bundle (build it with wrangler deploy --dry-run --outdir)."
  }
}

variable "compatibility_date" {
  type        = string
  description = "Workers compatibility date (wrangler.toml's compatibility_date)."
  default     = "2026-11-01"

  validation {
    condition     = can(regex("^20[0-9]{2}-[01][0-9]-[0-3][0-9]$", var.compatibility_date))
    error_message = "compatibility_date must be YYYY-MM-DD."
  }
}

variable "chain_id" {
  type        = number
  description = "Decimal chain id answered by eth_chainId (CHAIN_ID)."

  validation {
    condition     = var.chain_id >= 1 && var.chain_id <= 4294967295 && floor(var.chain_id) == var.chain_id
    error_message = "chain_id must be a whole number between 1 and 2^32 - 1."
  }
}

variable "client_version" {
  type        = string
  description = "web3_clientVersion answer (CLIENT_VERSION)."
  default     = "rustchain-edge/0.1.0"

  validation {
    condition     = length(var.client_version) > 0 && length(var.client_version) <= 64
    error_message = "client_version must be 1-64 characters."
  }
}

variable "rate_limit_per_second" {
  type        = number
  description = "Calls per second refilled per client IP (RATE_LIMIT_PER_SECOND)."
  default     = 50

  validation {
    condition     = var.rate_limit_per_second >= 1 && var.rate_limit_per_second <= 100000
    error_message = "rate_limit_per_second must be between 1 and 100000."
  }
}

variable "rate_limit_burst" {
  type        = number
  description = "Calls a client IP may make at once (RATE_LIMIT_BURST)."
  default     = 200

  validation {
    condition     = var.rate_limit_burst >= 1 && var.rate_limit_burst <= 100000
    error_message = "rate_limit_burst must be between 1 and 100000."
  }
}

variable "max_batch" {
  type        = number
  description = "Calls per JSON-RPC batch (MAX_BATCH; the core's own limit)."
  default     = 1000

  validation {
    condition     = var.max_batch >= 1 && var.max_batch <= 1000
    error_message = "max_batch must be between 1 and 1000."
  }
}

variable "max_body_bytes" {
  type        = number
  description = "Bytes per HTTP body or WebSocket message (MAX_BODY_BYTES; the core's own limit)."
  default     = 5242880

  validation {
    condition     = var.max_body_bytes >= 1024 && var.max_body_bytes <= 104857600
    error_message = "max_body_bytes must be between 1 KiB and 100 MiB."
  }
}

variable "pull_interval_seconds" {
  type        = number
  description = "How often the replica pulls missed bundles from the core when CORE_REPLICATION_URL is set (PULL_INTERVAL_SECONDS)."
  default     = 5

  validation {
    condition     = var.pull_interval_seconds >= 1 && var.pull_interval_seconds <= 3600
    error_message = "pull_interval_seconds must be between 1 and 3600."
  }
}
