// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the samples are HCL and Terraform templates, which use ${…}.
// The offline checkers themselves, on good and bad samples: each rule must pass what it should and catch what it
// should (a checker that passes everything would make terraform/terraform.test.ts worthless). Where a terraform
// binary is installed, the format checker is also compared with `terraform fmt` on the same samples.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkHclFormat } from "./hclFormat.ts";
import {
  checkModuleCalls,
  checkOutputs,
  checkReferences,
  checkSecretsInState,
  checkTags,
  checkTemplates,
  checkVariables,
  findLiteralSecrets,
  loadModule,
  type TfModule,
  templateRoots,
} from "./moduleCheck.ts";

const hasBinary = (name: string) => spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
const HAS_TERRAFORM = hasBinary("terraform");

/** `terraform fmt -check` on one text: true when fmt would leave it unchanged. */
function terraformFmtAccepts(dir: string, text: string): boolean {
  const file = join(dir, `sample-${Math.random().toString(36).slice(2)}.tf`);
  writeFileSync(file, text);
  const r = spawnSync("terraform", ["fmt", "-check", file], { encoding: "utf8" });
  return r.status === 0;
}

const GOOD = `# A comment
variable "x" {
  type        = string
  description = "the x"

  validation {
    condition     = can(regex("^a=b", var.x)) && var.x != "{"
    error_message = "x must start with a=b"
  }
}

locals {
  tags = merge(var.tags, {
    Name = "n-\${var.x}"
    Role = "r"
  })
  s     = var.x == "a" ? "b" : "c"
  t     = "a-\${var.x}"
  short = 1
}

resource "aws_instance" "this" {
  count = 1

  ami       = data.aws_ami.this.id
  user_data = <<-EOT
  not formatted   =   here
	tabs too
  EOT
  tags      = local.tags

  ebs_block_device {
    device_name = "/dev/sdf"
  }
}
`;

const BAD: [string, string, RegExp][] = [
  ["misaligned =", 'resource "a" "b" {\n  x = 1\n  yyy = 2\n}\n', /"=" at column/],
  ["over-aligned =", 'resource "a" "b" {\n  x    = 1\n  yy   = 2\n}\n', /"=" at column/],
  ["indent of 4", 'resource "a" "b" {\n    x = 1\n}\n', /indent 4, expected 2/],
  ["tab indent", 'resource "a" "b" {\n\tx = 1\n}\n', /tab character/],
  ["trailing whitespace", 'resource "a" "b" {\n  x = 1 \n}\n', /trailing whitespace/],
  ["no final newline", 'resource "a" "b" {\n  x = 1\n}', /no newline at end of file/],
  ["two blank lines", 'resource "a" "b" {\n  x = 1\n\n\n  y = 2\n}\n', /two blank lines/],
  ["blocks not separated", 'resource "a" "b" {\n  x = 1\n}\nresource "a" "c" {\n  x = 1\n}\n', /blank line between/],
  ["closing bracket indented", "locals {\n  a = [\n    1,\n    ]\n}\n", /indent 4, expected 2/],
  ["interpolation-only string", 'resource "a" "b" {\n  x = "${var.y}"\n}\n', /interpolation-only/],
  ["heredoc not aligned", 'resource "a" "b" {\n  x = 1\n  body = <<EOT\nz\nEOT\n}\n', /"=" at column/],
  ["two spaces after =", 'resource "a" "b" {\n  x =  1\n}\n', /one space after/],
];

describe("checkHclFormat", () => {
  const dir = mkdtempSync(join(tmpdir(), "tf-fmt-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("accepts fmt-formatted HCL: aligned runs, multi-line values, heredocs, = and brackets inside strings", () => {
    expect(checkHclFormat(GOOD)).toEqual([]);
  });

  test.each(BAD)("reports %s", (_name, text, message) => {
    const problems = checkHclFormat(text);
    expect(problems.map((p) => p.message).join("\n")).toMatch(message);
  });

  test.runIf(HAS_TERRAFORM)("agrees with terraform fmt -check on every sample", () => {
    expect(terraformFmtAccepts(dir, GOOD)).toBe(true);
    for (const [name, text] of BAD) {
      // fmt does not judge trailing newlines or blank-line runs the same way; the rest must agree.
      if (name === "no final newline" || name === "two blank lines" || name === "blocks not separated") continue;
      expect(terraformFmtAccepts(dir, text), name).toBe(false);
    }
  });
});

describe("templateRoots", () => {
  test("finds interpolated names and directive conditions, not loop variables, escapes or functions", () => {
    const t =
      'a ${name} b $${NOT} %{ if role == "validator" ~}x%{ endif ~} %{ for p in peers }${p}${upper(zone)}%{ endfor }';
    expect([...templateRoots(t)].sort()).toEqual(["name", "peers", "role", "zone"]);
  });
});

/** Writes a module (file name -> text) under `root/name` and returns its directory. */
function writeModule(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

describe("module checks on a bad module", () => {
  const root = mkdtempSync(join(tmpdir(), "tf-mod-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeModule(root, "child", {
    "main.tf": `variable "required_one" {
  type        = string
  description = "needed by the child"
}

variable "optional_one" {
  type        = string
  description = "has a default"
  default     = "x"
}

variable "checked_cidr" {
  type        = string
  description = "validated here, for callers that pass theirs through"
  default     = "10.0.0.0/8"

  validation {
    condition     = can(cidrhost(var.checked_cidr, 0))
    error_message = "checked_cidr must be a CIDR."
  }
}

variable "loose_cidr" {
  type        = string
  description = "not validated here either"
  default     = "10.0.0.0/8"
}

output "known" {
  description = "an output"
  value       = var.required_one
}
`,
    "tpl.sh.tftpl": "echo ${passed} ${not_passed}\n",
  });
  const parent = writeModule(root, "parent", {
    "main.tf": `variable "tags" {
  type        = map(string)
  description = "tags for everything"
}

variable "subnet_cidr" {
  type        = string
  description = "a CIDR without validation"
}

variable "role" {
  type        = string
  description = "a role whose validation reads another variable"

  validation {
    condition     = contains(["a"], var.subnet_cidr)
    error_message = "bad"
  }
}

variable "delegated_cidr" {
  type        = string
  description = "passed unchanged to a child variable that validates it"
}

variable "undelegated_cidr" {
  type        = string
  description = "passed to a child variable that does not validate it"
}

variable "untyped" {
  description = "no type here"
}

variable "token" {
  type        = string
  description = "a sensitive value with a default"
  sensitive   = true
  default     = "abc"
}

locals {
  tags = merge(var.tags, { A = "b" })
}

resource "aws_instance" "untagged" {
  ami       = var.missing_var
  subnet_id = local.missing_local
  user_data = templatefile("\${path.module}/../child/tpl.sh.tftpl", { passed = 1 })
}

resource "aws_instance" "wrong_tags" {
  ami  = data.aws_ami.missing.id
  tags = { Name = "x" }
}

resource "aws_autoscaling_group" "no_tag_blocks" {
  name = aws_launch_template.missing.id
}

resource "random_password" "p" {
  length = 16
}

data "aws_secretsmanager_secret_version" "s" {
  secret_id = "x"
}

resource "cloudflare_workers_script" "w" {
  bindings = [{ name = "K", type = "secret_text", text = var.token }]
}

module "child" {
  source     = "../child"
  unknown      = 1
  irrelevant   = module.nothing.x
  checked_cidr = var.delegated_cidr
  loose_cidr   = var.undelegated_cidr
}

module "gone" {
  source = "../does-not-exist"
}

output "bad" {
  value = module.child.not_an_output
}
`,
  });

  let mod: TfModule;
  const loadChild = async (source: string) => loadModule(resolve(mod.dir, source));
  const load = async () => {
    mod ??= await loadModule(parent);
    return mod;
  };

  test("references: undeclared var, local, data, resource, module and module output", async () => {
    const problems = (await checkReferences(await load(), loadChild)).join("\n");
    expect(problems).toMatch(/var\.missing_var is not declared/);
    expect(problems).toMatch(/local\.missing_local is not declared/);
    expect(problems).toMatch(/data\.aws_ami\.missing is not declared/);
    expect(problems).toMatch(/aws_launch_template\.missing is not declared/);
    expect(problems).toMatch(/module\.nothing is not declared/);
    expect(problems).toMatch(/module\.child has no output "not_an_output"/);
  });

  test("module calls: unknown argument, required variable not passed, missing source", async () => {
    const problems = (await checkModuleCalls(await load(), loadChild)).join("\n");
    expect(problems).toMatch(/argument unknown is not a variable/);
    expect(problems).toMatch(/required variable required_one not passed/);
    expect(problems).not.toMatch(/optional_one/);
    expect(problems).toMatch(/source \.\.\/does-not-exist does not exist/);
  });

  test("templates: a name the template uses but the call does not pass", async () => {
    const problems = (await checkTemplates(await load())).join("\n");
    expect(problems).toMatch(/uses "not_passed"/);
    expect(problems).not.toMatch(/"passed"/);
  });

  test("variables: no type, constrained without validation, validation not reading it, sensitive default", async () => {
    const problems = (await checkVariables(await load(), loadChild)).join("\n");
    expect(problems).toMatch(/variable untyped: no type/);
    expect(problems).toMatch(/variable subnet_cidr: needs a validation/);
    expect(problems).toMatch(/variable undelegated_cidr: needs a validation/);
    expect(problems).not.toMatch(/variable delegated_cidr/);
    expect(problems).toMatch(/variable tags: needs a validation/);
    expect(problems).toMatch(/variable role: validation does not read it/);
    expect(problems).toMatch(/variable token: a sensitive variable must not have a default/);
  });

  test("outputs: no description, a missing endpoint", async () => {
    const problems = checkOutputs(await load(), ["rpc_url"]).join("\n");
    expect(problems).toMatch(/output bad: no description/);
    expect(problems).toMatch(/missing output rpc_url/);
  });

  test("tags: none, not from local.tags, an autoscaling group without propagated tag blocks", async () => {
    const problems = checkTags(await load()).join("\n");
    expect(problems).toMatch(/aws_instance\.untagged: no tags/);
    expect(problems).toMatch(/aws_instance\.wrong_tags: tags not from/);
    expect(problems).toMatch(/aws_autoscaling_group\.no_tag_blocks: needs dynamic "tag"/);
  });

  test("secrets in state: random_password, a secret read by a data source, a secret_text binding", async () => {
    const problems = checkSecretsInState(await load()).join("\n");
    expect(problems).toMatch(/random_password\.p/);
    expect(problems).toMatch(/data aws_secretsmanager_secret_version\.s/);
    expect(problems).toMatch(/cloudflare_workers_script\.w: a secret_text binding/);
  });
});

describe("findLiteralSecrets", () => {
  test.each([
    ["an AWS key id", `access = "AKIA${"ABCDEFGHIJKLMNOP"}"`],
    ["a private key", "-----BEGIN RSA PRIVATE KEY-----"],
    ["a password literal", 'password = "hunter2"'],
    ["a token literal", 'auth_token = "abc"'],
    ["a 32-byte hex key", `key = "0x${"ab".repeat(32)}"`],
    ["an AWS secret access key", `aws_secret_access_key = "${"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE"}Y"`],
  ])("finds %s", (_name, line) => {
    expect(findLiteralSecrets(`x\n${line}\n`)).not.toEqual([]);
  });

  test("leaves references, ARNs, ids and validation patterns alone", () => {
    const text = [
      "password_ref = var.keystore_password_ref",
      'password = "${var.password_ref}"',
      'condition = can(regex("^[0-9a-f]{64}$", var.release_sha256))',
      'account_id = "0123456789abcdef0123456789abcdef"',
      'arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rustchain/testnet/v0-keystore-password"',
    ].join("\n");
    expect(findLiteralSecrets(text)).toEqual([]);
  });
});

test.runIf(HAS_TERRAFORM)("terraform fmt -check passes on terraform/ (the real formatter, where installed)", () => {
  const dir = resolve(import.meta.dirname, "..");
  expect(() => execFileSync("terraform", ["fmt", "-check", "-recursive", dir], { stdio: "pipe" })).not.toThrow();
});
