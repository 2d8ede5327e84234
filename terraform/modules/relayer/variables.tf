# A variable handed unchanged to modules/host (name, tags, network, instance, volumes' KMS key, password ref) is
# validated there, once for the three modules that run a host.

variable "name" {
  type        = string
  description = "Name of the relayer (e.g. testnet-relayer); prefixes every resource name."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include Project, Environment and ManagedBy."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the node."
}

variable "subnet_id" {
  type        = string
  description = "Public subnet of the relayer instance (it calls both chains' RPC endpoints)."
}

variable "private_ip_host_number" {
  type        = number
  description = "Host number of the relayer's fixed private IP inside the subnet (cidrhost(subnet, n)); unique per subnet."
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; its architecture must match architecture (the release carries native modules)."
  default     = "t3.medium"
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the AMI and of the release tarball: x86_64 or arm64."
  default     = "x86_64"
}

variable "ami_id" {
  type        = string
  description = "AMI to boot; null picks the newest Ubuntu 24.04 LTS from Canonical for the architecture."
  default     = null
}

variable "root_volume_size_gib" {
  type        = number
  description = "Size of the root volume in GiB (OS, release, logs; the relayer keeps its state in Redis)."
  default     = 30
}

variable "release_s3_uri" {
  type        = string
  description = "The release tarball built by npm run release, uploaded to S3: s3://bucket/path/rustchain-<version>.tar.gz."

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+/rustchain-[0-9A-Za-z.+-]+\\.tar\\.gz$", var.release_s3_uri))
    error_message = "release_s3_uri must be s3://bucket/path/rustchain-<version>.tar.gz."
  }
}

variable "release_sha256" {
  type        = string
  description = "SHA-256 of the release tarball (sha256sum dist/rustchain-<version>.tar.gz); the instance refuses any other file."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.release_sha256))
    error_message = "release_sha256 must be 64 lowercase hex digits."
  }
}

variable "node_version" {
  type        = string
  description = "Node.js version installed from nodejs.org (checked against its SHASUMS256.txt) to run the release."
  default     = "24.11.1"

  validation {
    condition     = can(regex("^2[4-9]\\.[0-9]+\\.[0-9]+$", var.node_version))
    error_message = "node_version must be a full Node.js version, 24.x.y or later."
  }
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key of the password secret, if any (the role gets kms:Decrypt through Secrets Manager/SSM only)."
  default     = null
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the root volume and Redis at rest; null uses the AWS managed keys."
  default     = null
}

variable "redis_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the ElastiCache subnet group (two or more availability zones for failover)."

  validation {
    condition     = length(var.redis_subnet_ids) >= 1 && alltrue([for s in var.redis_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "redis_subnet_ids must be one or more subnet ids."
  }
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type of the relayer's Redis."
  default     = "cache.t4g.small"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.redis_node_type))
    error_message = "redis_node_type must look like cache.family.size, e.g. cache.t4g.small."
  }
}

variable "redis_engine_version" {
  type        = string
  description = "Redis engine version (7.0 or later: transit_encryption_mode needs it)."
  default     = "7.1"

  validation {
    condition     = can(regex("^[7-9]\\.[0-9]+$", var.redis_engine_version))
    error_message = "redis_engine_version must be major.minor, 7.0 or later."
  }
}

variable "redis_num_cache_clusters" {
  type        = number
  description = "Redis nodes: 1 (no failover) or 2-3 (a primary and replicas, automatic Multi-AZ failover)."
  default     = 2

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 3
    error_message = "redis_num_cache_clusters must be 1, 2 or 3."
  }
}

variable "redis_snapshot_retention_days" {
  type        = number
  description = "Days ElastiCache keeps daily Redis backups (the transfer history); 0 turns them off."
  default     = 7

  validation {
    condition     = var.redis_snapshot_retention_days >= 0 && var.redis_snapshot_retention_days <= 35
    error_message = "redis_snapshot_retention_days must be between 0 and 35."
  }
}

variable "status_port" {
  type        = number
  description = "Port of the relayer's status API and /metrics (--listen)."
  default     = 8790

  validation {
    condition     = var.status_port >= 1024 && var.status_port <= 65535
    error_message = "status_port must be between 1024 and 65535."
  }
}

variable "status_allowed_cidrs" {
  type        = list(string)
  description = "Sources allowed to reach the status API and /metrics: the VPC, never the internet."

  validation {
    condition     = length(var.status_allowed_cidrs) > 0 && alltrue([for c in var.status_allowed_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "status_allowed_cidrs must be a non-empty list of CIDRs, none of them /0."
  }
}

variable "deployment_s3_uri" {
  type        = string
  description = "The bridge deployment file (docs/bridge.md) in S3, fetched at boot to /etc/rustchain/bridge-deployment.json."

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.json$", var.deployment_s3_uri))
    error_message = "deployment_s3_uri must be s3://bucket/key.json."
  }
}

variable "keystore_s3_uri" {
  type        = string
  description = "The relayer account's encrypted keystore (Web3 Secret Storage v3) in S3, fetched at boot to /etc/rustchain/relayer-keystore.json."

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.json$", var.keystore_s3_uri))
    error_message = "keystore_s3_uri must be s3://bucket/key.json."
  }
}

variable "keystore_password_ref" {
  type        = string
  description = "ARN of the Secrets Manager secret or SSM SecureString parameter holding the relayer keystore's password; read at every boot into /run (tmpfs)."
  nullable    = false
}
