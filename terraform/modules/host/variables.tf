variable "name" {
  type        = string
  description = "Name of the host (e.g. testnet-validator-0); prefixes every resource name."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name must be 3-40 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "purpose" {
  type        = string
  description = "What the host is (node, relayer, monitoring): the suffix of its security group, role and profile names."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.purpose))
    error_message = "purpose must be 2-20 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource, as the caller merged them; must include Project, Environment and ManagedBy."

  validation {
    condition     = alltrue([for k in ["Project", "Environment", "ManagedBy"] : contains(keys(var.tags), k)])
    error_message = "tags must include Project, Environment and ManagedBy."
  }
}

variable "component_tags" {
  type        = map(string)
  description = "Tags that say what the host is (Component, Role), merged over tags; Name is the host's name."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the host."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_id" {
  type        = string
  description = "Subnet of the host (its fixed private address is in it)."

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must be a subnet id (subnet-...)."
  }
}

variable "private_ip_host_number" {
  type        = number
  description = "Host number of the fixed private IP inside the subnet (cidrhost(subnet, n)); unique per subnet."

  validation {
    condition     = var.private_ip_host_number >= 4 && var.private_ip_host_number <= 250 && floor(var.private_ip_host_number) == var.private_ip_host_number
    error_message = "private_ip_host_number must be a whole number between 4 and 250 (AWS reserves the first four)."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; its architecture must match architecture."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like family.size, e.g. m7i.xlarge."
  }
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the AMI and of the release tarball: x86_64 or arm64."

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

  validation {
    condition     = var.root_volume_size_gib >= 16 && var.root_volume_size_gib <= 1024
    error_message = "root_volume_size_gib must be between 16 and 1024."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the root volume; null uses the account's aws/ebs key."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key of the password secret, if any (the role gets kms:Decrypt through Secrets Manager/SSM only)."
  default     = null

  validation {
    condition     = var.secrets_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "password_ref" {
  type        = string
  description = "ARN of the Secrets Manager secret or SSM SecureString parameter the host reads at boot (null: none); the role may read it and nothing else secret."
  default     = null

  validation {
    condition     = var.password_ref == null || can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+)$", var.password_ref))
    error_message = "password_ref must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}

variable "password_label" {
  type        = string
  description = "What the password is, in the policy's statement ids (ReadKeystorePassword, DecryptKeystorePassword)."

  validation {
    condition     = can(regex("^[A-Z][A-Za-z]{1,40}$", var.password_label))
    error_message = "password_label must be a CamelCase word (it becomes part of IAM statement ids)."
  }
}

variable "security_group_description" {
  type        = string
  description = "Description of the host's security group (what reaches it)."
}

variable "ingress" {
  type = map(object({
    description = string
    port        = number
    cidrs       = list(string)
  }))
  description = "TCP ports the host serves, by name: each port is open to its CIDRs (validated by the caller's *_port and *_cidrs variables)."
}

variable "egress_description" {
  type        = string
  description = "Description of the egress rule (what the host reaches)."
}

variable "policy_json" {
  type        = string
  description = "The host's own IAM statements (an aws_iam_policy_document's json), merged into the role's inline policy."
}

variable "autoscaling" {
  type        = bool
  description = "Run the host here (launch template, autoscaling group of one); false: the caller runs an aws_instance."
}

variable "user_data" {
  type        = string
  description = "Rendered boot script of the launch template (autoscaling = true)."
  default     = null
}

variable "instance_metadata_tags" {
  type        = bool
  description = "Expose the instance's tags through IMDS (the validator reads its Name and Role there)."
  default     = false
}

variable "termination_policies" {
  type        = list(string)
  description = "Termination policies of the autoscaling group."
  default     = []
}
