output "bucket_name" {
  description = "Name of the snapshot bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the snapshot bucket (for IAM policies)."
  value       = aws_s3_bucket.this.arn
}

output "snapshot_url" {
  description = "The snapshot location for --snapshot-to and --warp-sync (s3://bucket/prefix)."
  value       = "s3://${aws_s3_bucket.this.id}/${var.prefix}"
}

output "https_endpoint" {
  description = "Regional HTTPS endpoint of the bucket (for S3-compatible clients)."
  value       = "https://${aws_s3_bucket.this.bucket_regional_domain_name}"
}
