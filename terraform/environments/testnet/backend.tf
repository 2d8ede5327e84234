# State lives in S3, encrypted, versioned by the bucket, locked in DynamoDB. Both are created once per account before
# the first `terraform init` (docs/operators.md, "Bootstrap the state bucket"); another account overrides the names
# with `terraform init -backend-config=backend.hcl`.
terraform {
  backend "s3" {
    bucket         = "rustchain-terraform-state"
    key            = "testnet/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "rustchain-terraform-locks"
    encrypt        = true
  }
}
