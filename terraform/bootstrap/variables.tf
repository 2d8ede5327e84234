variable "region" {
  type        = string
  description = "AWS region of the state bucket, the lock table and the artifacts bucket."
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name, e.g. eu-west-1."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "Bucket of the Terraform state of every environment (the backend's bucket)."
  default     = "rustchain-terraform-state"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "lock_table_name" {
  type        = string
  description = "DynamoDB table of the state locks (the backend's dynamodb_table)."
  default     = "rustchain-terraform-locks"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.lock_table_name))
    error_message = "lock_table_name must be 3-255 letters, digits, '_', '-' or '.'."
  }
}

variable "artifacts_bucket_name" {
  type        = string
  description = "Bucket of releases, genesis files, encrypted keystores and monitoring config (the environments' artifacts_bucket_name)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_name))
    error_message = "artifacts_bucket_name must be a valid S3 bucket name."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include Project, Environment and ManagedBy."
  default = {
    Project     = "rustchain"
    Environment = "shared"
    ManagedBy   = "terraform"
  }

  validation {
    condition     = alltrue([for k in ["Project", "Environment", "ManagedBy"] : contains(keys(var.tags), k)])
    error_message = "tags must include Project, Environment and ManagedBy."
  }
}
