# A variable handed unchanged to modules/host (name, tags, network, instance, volumes' KMS key, password ref) is
# validated there, once for the three modules that run a host.

variable "name" {
  type        = string
  description = "Name of this node (e.g. testnet-validator-0); prefixes every resource name."
}

variable "role" {
  type        = string
  description = "validator (holds a BLS key, attests and proposes; RPC on loopback) or fullnode (no key; serves RPC and snapshots)."

  validation {
    condition     = contains(["validator", "fullnode"], var.role)
    error_message = "role must be validator or fullnode."
  }
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
  description = "Public subnet of the node. One subnet: the data volume lives in its availability zone, so the replacement instance can attach it."
}

variable "private_ip_host_number" {
  type        = number
  description = "Host number of the node's fixed private IP inside the subnet (cidrhost(subnet, n)); unique per subnet."
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; its architecture must match architecture (the release carries native modules)."
  default     = "m7i.xlarge"
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
  description = "Size of the root volume in GiB (OS, release, logs)."
  default     = 30
}

variable "data_volume_size_gib" {
  type        = number
  description = "Size of the gp3 data volume in GiB (RocksDB, slashing protection, keystores, local snapshots)."
  default     = 200

  validation {
    condition     = var.data_volume_size_gib >= 20 && var.data_volume_size_gib <= 16384
    error_message = "data_volume_size_gib must be between 20 and 16384."
  }
}

variable "data_volume_iops" {
  type        = number
  description = "Provisioned IOPS of the gp3 data volume."
  default     = 3000

  validation {
    condition     = var.data_volume_iops >= 3000 && var.data_volume_iops <= 16000
    error_message = "data_volume_iops must be between 3000 and 16000 (gp3)."
  }
}

variable "data_volume_throughput" {
  type        = number
  description = "Throughput of the gp3 data volume in MiB/s."
  default     = 250

  validation {
    condition     = var.data_volume_throughput >= 125 && var.data_volume_throughput <= 1000
    error_message = "data_volume_throughput must be between 125 and 1000 MiB/s (gp3)."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the volumes; null uses the account's aws/ebs key."
  default     = null
}

variable "volume_snapshot_interval_hours" {
  type        = number
  description = "Hours between EBS snapshots of the data volume (Data Lifecycle Manager)."
  default     = 12

  validation {
    condition     = contains([1, 2, 3, 4, 6, 8, 12, 24], var.volume_snapshot_interval_hours)
    error_message = "volume_snapshot_interval_hours must be one of 1, 2, 3, 4, 6, 8, 12, 24 (DLM intervals)."
  }
}

variable "volume_snapshot_retain_count" {
  type        = number
  description = "EBS snapshots of the data volume kept (older ones are deleted by DLM)."
  default     = 14

  validation {
    condition     = var.volume_snapshot_retain_count >= 1 && var.volume_snapshot_retain_count <= 1000
    error_message = "volume_snapshot_retain_count must be between 1 and 1000."
  }
}

variable "p2p_port" {
  type        = number
  description = "libp2p TCP port (--p2p-addr), open to p2p_allowed_cidrs."
  default     = 9000

  validation {
    condition     = var.p2p_port >= 1024 && var.p2p_port <= 65535
    error_message = "p2p_port must be between 1024 and 65535."
  }
}

variable "rpc_port" {
  type        = number
  description = "JSON-RPC HTTP and WebSocket port (--rpc-addr)."
  default     = 8545

  validation {
    condition     = var.rpc_port >= 1024 && var.rpc_port <= 65535
    error_message = "rpc_port must be between 1024 and 65535."
  }
}

variable "metrics_port" {
  type        = number
  description = "Prometheus /metrics port (--metrics-addr), open only to metrics_allowed_cidrs."
  default     = 6060

  validation {
    condition     = var.metrics_port >= 1024 && var.metrics_port <= 65535
    error_message = "metrics_port must be between 1024 and 65535."
  }
}

variable "p2p_allowed_cidrs" {
  type        = list(string)
  description = "Sources allowed to reach the p2p port (peers); the internet for a public network."
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.p2p_allowed_cidrs) > 0 && alltrue([for c in var.p2p_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "p2p_allowed_cidrs must be a non-empty list of CIDRs."
  }
}

variable "metrics_allowed_cidrs" {
  type        = list(string)
  description = "Sources allowed to scrape /metrics: the VPC (or the monitoring subnet), never the internet."

  validation {
    condition     = length(var.metrics_allowed_cidrs) > 0 && alltrue([for c in var.metrics_allowed_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "metrics_allowed_cidrs must be a non-empty list of CIDRs, none of them /0."
  }
}

variable "rpc_allowed_cidrs" {
  type        = list(string)
  description = "Sources allowed to reach JSON-RPC. Empty: RPC listens on loopback only (the default for validators)."
  default     = []

  validation {
    condition     = alltrue([for c in var.rpc_allowed_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "rpc_allowed_cidrs must be CIDRs, none of them /0 (put the edge in front of public RPC)."
  }
}

variable "bootstrap_peers" {
  type        = list(string)
  description = "Peers to dial first (--bootstrap), as /ip4/.../tcp/.../p2p/... multiaddrs."
  default     = []

  validation {
    condition     = alltrue([for p in var.bootstrap_peers : can(regex("^/(ip4|ip6|dns4|dns6|dns)/[^/]+/tcp/[0-9]+/p2p/[A-Za-z0-9]+$", p))])
    error_message = "bootstrap_peers must be /ip4|ip6|dns4|dns6/<host>/tcp/<port>/p2p/<peer id> multiaddrs."
  }
}

variable "max_peers" {
  type        = number
  description = "Most peers the node keeps (--max-peers)."
  default     = 50

  validation {
    condition     = var.max_peers >= 1 && var.max_peers <= 1000
    error_message = "max_peers must be between 1 and 1000."
  }
}

variable "dht_private_addrs" {
  type        = bool
  description = "Advertise and dial private addresses through the DHT (false in the cloud: --no-dht-private-addrs)."
  default     = false
}

variable "snapshot_every" {
  type        = number
  description = "Export a state snapshot every this many finalized blocks and upload it to the snapshot bucket (--snapshot-every, --snapshot-to); 0 turns exports off."
  default     = 0

  validation {
    condition     = var.snapshot_every >= 0 && var.snapshot_every <= 10000000 && floor(var.snapshot_every) == var.snapshot_every
    error_message = "snapshot_every must be a whole number between 0 and 10000000."
  }
}

variable "warp_sync" {
  type        = bool
  description = "On an empty data volume, restore state from the newest snapshot in the snapshot bucket (--warp-sync)."
  default     = true
}

variable "snapshot_bucket_name" {
  type        = string
  description = "Bucket of the state snapshots (the snapshots module's bucket_name); the node's role may only use its prefix."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.snapshot_bucket_name))
    error_message = "snapshot_bucket_name must be a valid S3 bucket name."
  }
}

variable "snapshot_prefix" {
  type        = string
  description = "Key prefix of the snapshots in the bucket (the snapshots module's prefix)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9/_-]*[a-z0-9]$", var.snapshot_prefix))
    error_message = "snapshot_prefix must be lowercase letters, digits, '-', '_' and '/', without leading or trailing slash."
  }
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

variable "genesis_s3_uri" {
  type        = string
  description = "The network's genesis JSON in S3 (s3://bucket/key), fetched at boot to /etc/rustchain/genesis.json."

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.genesis_s3_uri))
    error_message = "genesis_s3_uri must be s3://bucket/key."
  }
}

variable "keystore_s3_uri" {
  type        = string
  description = "Validators: the encrypted EIP-2335 BLS keystore in S3, fetched at boot when the data volume has none. Null: the keystore is put on the data volume out of band (keys/validator.json)."
  default     = null

  validation {
    condition     = var.keystore_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.json$", var.keystore_s3_uri))
    error_message = "keystore_s3_uri must be s3://bucket/key.json or null."
  }
}

variable "bridge_keystore_s3_uri" {
  type        = string
  description = "Validators on the bridge committee: the encrypted bridge keystore (Web3 Secret Storage v3) in S3, same password as the BLS keystore. Null: no bridge key."
  default     = null

  validation {
    condition     = var.bridge_keystore_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.json$", var.bridge_keystore_s3_uri))
    error_message = "bridge_keystore_s3_uri must be s3://bucket/key.json or null."
  }
}

variable "keystore_password_ref" {
  type        = string
  description = "Validators: ARN of the Secrets Manager secret or SSM SecureString parameter holding the keystore password. Only the reference is in Terraform; the instance reads the value at every boot into /run (tmpfs)."
  default     = null
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key of the password secret, if any (the role gets kms:Decrypt through Secrets Manager/SSM only)."
  default     = null
}
