terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = ">= 5.8, < 6.0"
    }
  }
}

# Credentials come from the environment (AWS_PROFILE or an SSO session; CLOUDFLARE_API_TOKEN), never from variables.
provider "aws" {
  region = var.region
}

provider "cloudflare" {}
