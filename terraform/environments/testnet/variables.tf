variable "region" {
  type        = string
  description = "AWS region of the testnet."
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name, e.g. eu-west-1."
  }
}

variable "environment" {
  type        = string
  description = "Name of the environment, in resource names and the Environment tag."
  default     = "testnet"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits and hyphens."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the testnet VPC (a /16: subnets are /24s carved from it)."
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a CIDR of size /16 or larger."
  }
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Extra sources (a VPN) allowed to reach Prometheus and Grafana, besides the VPC."
  default     = []

  validation {
    condition     = alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "admin_cidrs must be CIDRs, none of them /0."
  }
}

variable "artifacts_bucket_name" {
  type        = string
  description = "Bucket holding releases, genesis, keystores (encrypted) and monitoring config; created at bootstrap, outside this state."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_name))
    error_message = "artifacts_bucket_name must be a valid S3 bucket name."
  }
}

variable "snapshot_bucket_name" {
  type        = string
  description = "Name of the state snapshot bucket this environment creates (globally unique)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.snapshot_bucket_name))
    error_message = "snapshot_bucket_name must be a valid S3 bucket name."
  }
}

variable "release_version" {
  type        = string
  description = "Version of the release to run (package.json's version); the tarball is s3://<artifacts>/releases/rustchain-<version>.tar.gz."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$", var.release_version))
    error_message = "release_version must be a semantic version, e.g. 0.1.0."
  }
}

variable "release_sha256" {
  type        = string
  description = "SHA-256 of the release tarball (sha256sum dist/rustchain-<version>.tar.gz)."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.release_sha256))
    error_message = "release_sha256 must be 64 lowercase hex digits."
  }
}

variable "bootstrap_peers" {
  type        = list(string)
  description = "Multiaddrs every node dials first (/ip4/<eip>/tcp/9000/p2p/<peer id>); empty on the very first apply."
  default     = []

  validation {
    condition     = alltrue([for p in var.bootstrap_peers : can(regex("^/(ip4|ip6|dns4|dns6|dns)/[^/]+/tcp/[0-9]+/p2p/[A-Za-z0-9]+$", p))])
    error_message = "bootstrap_peers must be /ip4|ip6|dns4|dns6/<host>/tcp/<port>/p2p/<peer id> multiaddrs."
  }
}

variable "validators" {
  type = map(object({
    subnet_index          = number
    host_number           = number
    keystore_password_ref = string
    keystore_in_s3        = optional(bool, true)
    bridge_keystore_in_s3 = optional(bool, false)
    instance_type         = optional(string, "m7i.xlarge")
    data_volume_size_gib  = optional(number, 200)
  }))
  description = "Validator tier, by short name (v0, v1...): keystores at s3://<artifacts>/<environment>/keystores/<name>/{validator,bridge}.json unless put on the volume by hand."

  validation {
    condition     = alltrue([for k, v in var.validators : can(regex("^[a-z0-9]{1,8}$", k)) && contains([0, 1], v.subnet_index) && v.host_number >= 10 && v.host_number <= 99])
    error_message = "validators: names of 1-8 lowercase letters or digits, subnet_index 0 or 1, host_number 10-99."
  }

  validation {
    condition     = length(distinct([for v in values(var.validators) : "${v.subnet_index}/${v.host_number}"])) == length(var.validators)
    error_message = "validators: two validators share a subnet_index and host_number."
  }
}

variable "fullnodes" {
  type = map(object({
    subnet_index         = number
    host_number          = number
    snapshot_every       = optional(number, 0)
    serve_rpc            = optional(bool, true)
    instance_type        = optional(string, "m7i.xlarge")
    data_volume_size_gib = optional(number, 200)
  }))
  description = "Fullnode tier, by short name (f0...): no keys; serves RPC inside the VPC and exports state snapshots."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.fullnodes : can(regex("^[a-z0-9]{1,8}$", k)) && contains([0, 1], v.subnet_index) && v.host_number >= 100 && v.host_number <= 199])
    error_message = "fullnodes: names of 1-8 lowercase letters or digits, subnet_index 0 or 1, host_number 100-199."
  }
}

variable "relayer_keystore_password_ref" {
  type        = string
  description = "ARN of the Secrets Manager secret holding the relayer keystore's password."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+)$", var.relayer_keystore_password_ref))
    error_message = "relayer_keystore_password_ref must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}

variable "grafana_admin_password_ref" {
  type        = string
  description = "ARN of the Secrets Manager secret holding Grafana's admin password."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+)$", var.grafana_admin_password_ref))
    error_message = "grafana_admin_password_ref must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}

variable "cloudflare_account_id" {
  type        = string
  description = "Cloudflare account of the edge Worker."

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_account_id))
    error_message = "cloudflare_account_id must be 32 lowercase hex digits."
  }
}

variable "cloudflare_zone_id" {
  type        = string
  description = "Cloudflare zone of edge_hostname."

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_zone_id))
    error_message = "cloudflare_zone_id must be 32 lowercase hex digits."
  }
}

variable "edge_hostname" {
  type        = string
  description = "Public hostname of the testnet's edge RPC."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.edge_hostname))
    error_message = "edge_hostname must be a lowercase DNS name."
  }
}

variable "edge_script_path" {
  type        = string
  description = "The bundled Worker (npx wrangler deploy --dry-run --outdir dist/edge), relative to this directory."
  default     = "../../../dist/edge/index.js"

  validation {
    condition     = endswith(var.edge_script_path, ".js")
    error_message = "edge_script_path must be a .js bundle."
  }
}

variable "chain_id" {
  type        = number
  description = "The testnet's chain id (the genesis file's)."
  default     = 21076

  validation {
    condition     = var.chain_id >= 1 && var.chain_id <= 4294967295 && floor(var.chain_id) == var.chain_id
    error_message = "chain_id must be a whole number between 1 and 2^32 - 1."
  }
}
