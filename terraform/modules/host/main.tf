# The single-host pattern shared by the validator, relayer and monitoring modules (internal; environments call those,
# never this): the Ubuntu AMI, the host's fixed private address in its subnet, a security group that lets everything
# out and lets in the caller's ports from the caller's CIDRs, and an instance role reachable through Session Manager (no SSH) that
# may read its one password secret and whatever the caller's policy adds.
#
# With autoscaling = true it also runs the host: a launch template (IMDSv2 only) in an autoscaling group of one, so
# EC2 replaces a dead instance; the replacement claims the fixed private address at boot. With autoscaling = false
# the caller runs its own aws_instance with this module's AMI, security group and instance profile.

locals {
  tags       = merge(var.tags, var.component_tags, { Name = var.name })
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  private_ip = cidrhost(data.aws_subnet.this.cidr_block, var.private_ip_host_number)
  ami_id     = coalesce(var.ami_id, data.aws_ami.ubuntu.id)
}

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_subnet" "this" {
  id = var.subnet_id
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${var.architecture == "arm64" ? "arm64" : "amd64"}-server-*"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Network: the caller's ports from the caller's CIDRs in, everything out.

resource "aws_security_group" "this" {
  name        = "${var.name}-${var.purpose}"
  description = var.security_group_description
  vpc_id      = var.vpc_id
  tags        = local.tags
}

# One rule per (port, CIDR): adding a CIDR to one port leaves the other rules alone.
resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = merge([
    for key, rule in var.ingress : { for cidr in toset(rule.cidrs) : "${key} ${cidr}" => merge(rule, { cidr = cidr }) }
  ]...)

  security_group_id = aws_security_group.this.id
  description       = each.value.description
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = var.egress_description
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

# ---------------------------------------------------------------------------------------------------------------------
# Instance role: Session Manager, the password secret, claiming the fixed address, and the caller's statements.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-${var.purpose}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-${var.purpose}"
  role = aws_iam_role.this.name
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = [var.policy_json]

  # An instance in an autoscaling group gets a new primary address each time; it claims the fixed one at boot.
  dynamic "statement" {
    for_each = var.autoscaling ? [data.aws_subnet.this.arn] : []

    content {
      sid       = "ClaimStableAddress"
      actions   = ["ec2:AssignPrivateIpAddresses"]
      resources = ["arn:${local.partition}:ec2:${local.region}:*:network-interface/*"]

      condition {
        test     = "ArnEquals"
        variable = "ec2:Subnet"
        values   = [statement.value]
      }
    }
  }

  dynamic "statement" {
    for_each = var.password_ref == null ? [] : [var.password_ref]

    content {
      sid       = "Read${var.password_label}"
      actions   = strcontains(statement.value, ":ssm:") ? ["ssm:GetParameter"] : ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]

    content {
      sid       = "Decrypt${var.password_label}"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com", "ssm.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-${var.purpose}"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ---------------------------------------------------------------------------------------------------------------------
# The instance, when this module runs it.

resource "aws_launch_template" "this" {
  count = var.autoscaling ? 1 : 0

  name_prefix            = "${var.name}-"
  image_id               = local.ami_id
  instance_type          = var.instance_type
  update_default_version = true
  tags                   = local.tags
  user_data              = base64encode(var.user_data)

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # The subnet comes from the autoscaling group. The fixed private address (private_ip) is a secondary address the
  # instance claims at boot, so scrape targets and URLs survive replacement.
  network_interfaces {
    device_index                = 0
    associate_public_ip_address = true
    security_groups             = [aws_security_group.this.id]
    delete_on_termination       = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = var.instance_metadata_tags ? "enabled" : null
  }

  block_device_mappings {
    device_name = "/dev/sda1"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gib
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = local.tags
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-root" })
  }

  lifecycle {
    precondition {
      condition     = var.user_data != null
      error_message = "autoscaling = true needs user_data (the host's boot script)."
    }
  }
}

resource "aws_autoscaling_group" "this" {
  count = var.autoscaling ? 1 : 0

  name                      = var.name
  min_size                  = 1
  max_size                  = 1
  desired_capacity          = 1
  vpc_zone_identifier       = [var.subnet_id]
  health_check_type         = "EC2"
  health_check_grace_period = 300
  termination_policies      = var.termination_policies

  launch_template {
    id      = aws_launch_template.this[0].id
    version = aws_launch_template.this[0].latest_version
  }

  dynamic "tag" {
    for_each = local.tags

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}
