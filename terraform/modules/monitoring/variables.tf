# A variable handed unchanged to modules/host (name, tags, network, instance, volumes' KMS key, password ref) is
# validated there, once for the three modules that run a host.

variable "name" {
  type        = string
  description = "Name of the monitoring host (e.g. testnet-monitoring); prefixes every resource name."
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
  description = "Subnet of the monitoring instance (its data volume lives in the same availability zone)."
}

variable "private_ip_host_number" {
  type        = number
  description = "Host number of the monitoring host's fixed private IP inside the subnet (cidrhost(subnet, n)); unique per subnet."
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
  description = "Size of the root volume in GiB (OS, release, logs)."
  default     = 30
}

variable "data_volume_size_gib" {
  type        = number
  description = "Size of the gp3 volume holding the Prometheus TSDB and Grafana's database, in GiB."
  default     = 50

  validation {
    condition     = var.data_volume_size_gib >= 20 && var.data_volume_size_gib <= 16384
    error_message = "data_volume_size_gib must be between 20 and 16384."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the volumes; null uses the account's aws/ebs key."
  default     = null
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key of the Grafana admin password secret, if any (the role gets kms:Decrypt through Secrets Manager/SSM only)."
  default     = null
}

variable "infra_dir" {
  type        = string
  description = "Path of the repository's infra/ directory (prometheus/ and grafana/ are uploaded from it)."

  validation {
    condition     = fileexists("${var.infra_dir}/prometheus/prometheus.yml") && fileexists("${var.infra_dir}/prometheus/alerts.yml")
    error_message = "infra_dir must hold prometheus/prometheus.yml and prometheus/alerts.yml."
  }
}

variable "config_bucket_name" {
  type        = string
  description = "Bucket the Prometheus and Grafana files are uploaded to for the instance (the artifacts bucket)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.config_bucket_name))
    error_message = "config_bucket_name must be a valid S3 bucket name."
  }
}

variable "validator_targets" {
  type        = list(string)
  description = "host:port of every node's /metrics (the validator module's metrics_endpoint outputs)."
  default     = []

  validation {
    condition     = alltrue([for t in var.validator_targets : can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", t))])
    error_message = "validator_targets must be host:port strings."
  }
}

variable "relayer_targets" {
  type        = list(string)
  description = "host:port of every relayer's status API (/metrics)."
  default     = []

  validation {
    condition     = alltrue([for t in var.relayer_targets : can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", t))])
    error_message = "relayer_targets must be host:port strings."
  }
}

variable "edge_targets" {
  type        = list(string)
  description = "host:port of Node-hosted edges' /metrics (the Cloudflare edge is not scraped from here)."
  default     = []

  validation {
    condition     = alltrue([for t in var.edge_targets : can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", t))])
    error_message = "edge_targets must be host:port strings."
  }
}

variable "prometheus_retention_days" {
  type        = number
  description = "Days Prometheus keeps samples."
  default     = 30

  validation {
    condition     = var.prometheus_retention_days >= 1 && var.prometheus_retention_days <= 365
    error_message = "prometheus_retention_days must be between 1 and 365."
  }
}

variable "admin_allowed_cidrs" {
  type        = list(string)
  description = "Sources allowed to reach Prometheus (9090) and Grafana (3000): the VPC or a VPN, never the internet."

  validation {
    condition     = length(var.admin_allowed_cidrs) > 0 && alltrue([for c in var.admin_allowed_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "admin_allowed_cidrs must be a non-empty list of CIDRs, none of them /0."
  }
}

variable "grafana_admin_password_ref" {
  type        = string
  description = "ARN of the Secrets Manager secret or SSM SecureString parameter holding Grafana's admin password; read at boot into /run (tmpfs)."
  nullable    = false
}
