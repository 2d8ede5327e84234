output "state_bucket" {
  description = "The backend's bucket."
  value       = aws_s3_bucket.this["state"].id
}

output "lock_table" {
  description = "The backend's dynamodb_table."
  value       = aws_dynamodb_table.locks.name
}

output "artifacts_url" {
  description = "Where releases, genesis files and keystores are uploaded (s3://bucket)."
  value       = "s3://${aws_s3_bucket.this["artifacts"].id}"
}
