variable "name" {
  type        = string
  description = "Name of the monitoring host (e.g. testnet-monitoring); prefixes every resource name."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name must be 3-40 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include Project, Environment and ManagedBy."

  validation {
    condition     = alltrue([for k in ["Project", "Environment", "ManagedBy"] : contains(keys(var.tags), k)])
    error_message = "tags must include Project, Environment and ManagedBy."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the node."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_id" {
  type        = string
  description = "Subnet of the monitoring instance (its data volume lives in the same availability zone)."

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must be a subnet id (subnet-...)."
  }
}

variable "private_ip_host_number" {
  type        = number
  description = "Host number of the monitoring host's fixed private IP inside the subnet (cidrhost(subnet, n)); unique per subnet."

  validation {
    condition     = var.private_ip_host_number >= 4 && var.private_ip_host_number <= 250 && floor(var.private_ip_host_number) == var.private_ip_host_number
    error_message = "private_ip_host_number must be a whole number between 4 and 250 (AWS reserves the first four)."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; its architecture must match architecture (the release carries native modules)."
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like family.size, e.g. m7i.xlarge."
  }
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the AMI and of the release tarball: x86_64 or arm64."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI to boot; null picks the newest Ubuntu 24.04 LTS from Canonical for the architecture."
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-...) or null."
  }
}

variable "root_volume_size_gib" {
  type        = number
  description = "Size of the root volume in GiB (OS, release, logs)."
  default     = 30

  validation {
    condition     = var.root_volume_size_gib >= 16 && var.root_volume_size_gib <= 1024
    error_message = "root_volume_size_gib must be between 16 and 1024."
  }
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

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key of the Grafana admin password secret, if any (the role gets kms:Decrypt through Secrets Manager/SSM only)."
  default     = null

  validation {
    condition     = var.secrets_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN or null."
  }
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

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+)$", var.grafana_admin_password_ref))
    error_message = "grafana_admin_password_ref must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}
