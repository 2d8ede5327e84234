variable "bucket_name" {
  type        = string
  description = "Name of the S3 bucket holding state snapshots (globally unique)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !strcontains(var.bucket_name, "..")
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "prefix" {
  type        = string
  description = "Key prefix of the snapshots inside the bucket, without leading or trailing slash (e.g. testnet)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9/_-]*[a-z0-9]$", var.prefix))
    error_message = "prefix must be lowercase letters, digits, '-', '_' and '/', without leading or trailing slash."
  }
}

variable "reader_principal_arns" {
  type        = list(string)
  description = "IAM principals (roles or accounts) allowed to read snapshots for --warp-sync, besides this account."
  default     = []

  validation {
    condition     = alltrue([for a in var.reader_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+)$", a))])
    error_message = "reader_principal_arns must be IAM role or account root ARNs."
  }
}

variable "public_read" {
  type        = bool
  description = "Let anyone read the snapshots (a public network's warp sync); writes stay limited to the writers."
  default     = false
}

variable "noncurrent_retention_days" {
  type        = number
  description = "Days an overwritten or deleted snapshot object is kept as a noncurrent version before expiry."
  default     = 14

  validation {
    condition     = var.noncurrent_retention_days >= 1 && var.noncurrent_retention_days <= 365
    error_message = "noncurrent_retention_days must be between 1 and 365."
  }
}

variable "archive_after_days" {
  type        = number
  description = "Days after which current snapshot objects move to S3 Standard-IA (the node deletes old ones itself)."
  default     = 30

  validation {
    condition     = var.archive_after_days >= 30 && var.archive_after_days <= 3650
    error_message = "archive_after_days must be between 30 (the Standard-IA minimum) and 3650."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete a bucket that still holds snapshots (testnets only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include Project, Environment and ManagedBy."

  validation {
    condition     = alltrue([for k in ["Project", "Environment", "ManagedBy"] : contains(keys(var.tags), k)])
    error_message = "tags must include Project, Environment and ManagedBy."
  }
}
