// Offline checks of a Terraform module (a directory of .tf files), for machines without a terraform binary: the
// parts of `terraform validate` that need no provider schema, plus this repository's rules (docs/operators.md,
// "What was not run here"). Each check returns problems as strings naming the file and block; none throws on bad
// input except a parse error, which is itself the answer.
//
//   references     var.x, local.x, module.x, data.t.n and t.n name something declared in the same module;
//                  module.x.y names an output y of module x (when x has no count/for_each); templatefile() paths
//                  exist and every `${name}` root a template uses is passed to it.
//   module calls   a local `source` exists; every argument is a variable of the child; every required variable
//                  (no default) of the child is passed.
//   variables      a type and a description; a validation when the name says the value is constrained
//                  (CONSTRAINED_VARIABLES), or the variable passed unchanged to a child module variable that
//                  validates it; every validation's condition reads the variable itself.
//   outputs        a description; the endpoint outputs each module promises.
//   tags           every taggable AWS resource sets `tags` from local.tags / var.tags; an autoscaling group
//                  propagates them with a dynamic "tag" block; a launch template tags its instances and volumes.
//   secrets        no resource or data source that would put a secret value in state; no literal secret in text.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { getReferencesInExpression, parse } from "./hcl.ts";

type Json = Record<string, unknown>;
type BlockMap = Record<string, Json[]>;

export type TfModule = {
  dir: string;
  files: Map<string, string>;
  variables: Map<string, Json>;
  locals: Map<string, unknown>;
  outputs: Map<string, Json>;
  /** "type.name" -> body */
  resources: Map<string, Json>;
  /** "type.name" -> body (without the data. prefix) */
  data: Map<string, Json>;
  modules: Map<string, Json>;
  /** `terraform {}` blocks. */
  terraform: Json[];
  providers: Map<string, Json[]>;
  /** Labels of every dynamic block and of their iterators (their names are references inside the block). */
  dynamicNames: Set<string>;
};

/** Parses every .tf file of `dir` into one module. */
export async function loadModule(dir: string): Promise<TfModule> {
  const mod: TfModule = {
    dir,
    files: new Map(),
    variables: new Map(),
    locals: new Map(),
    outputs: new Map(),
    resources: new Map(),
    data: new Map(),
    modules: new Map(),
    terraform: [],
    providers: new Map(),
    dynamicNames: new Set(),
  };
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    mod.files.set(file, text);
    const json = (await parse(file, text)) as Record<string, unknown>;
    for (const [name, bodies] of Object.entries((json.variable ?? {}) as BlockMap)) mod.variables.set(name, bodies[0]!);
    for (const [name, bodies] of Object.entries((json.output ?? {}) as BlockMap)) mod.outputs.set(name, bodies[0]!);
    for (const [name, bodies] of Object.entries((json.module ?? {}) as BlockMap)) mod.modules.set(name, bodies[0]!);
    for (const [name, bodies] of Object.entries((json.provider ?? {}) as BlockMap)) mod.providers.set(name, bodies);
    for (const locals of (json.locals ?? []) as Json[]) {
      for (const [k, v] of Object.entries(locals)) mod.locals.set(k, v);
    }
    for (const [type, byName] of Object.entries((json.resource ?? {}) as Record<string, BlockMap>)) {
      for (const [name, bodies] of Object.entries(byName)) mod.resources.set(`${type}.${name}`, bodies[0]!);
    }
    for (const [type, byName] of Object.entries((json.data ?? {}) as Record<string, BlockMap>)) {
      for (const [name, bodies] of Object.entries(byName)) mod.data.set(`${type}.${name}`, bodies[0]!);
    }
    mod.terraform.push(...((json.terraform ?? []) as Json[]));
  }
  collectDynamicNames(mod);
  return mod;
}

function collectDynamicNames(mod: TfModule) {
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== "object") return;
    for (const [k, v] of Object.entries(value as Json)) {
      if (k === "dynamic") {
        for (const [label, bodies] of Object.entries(v as BlockMap)) {
          mod.dynamicNames.add(label);
          for (const body of bodies) {
            if (typeof body.iterator === "string") mod.dynamicNames.add(body.iterator.replace(/^\$\{|\}$/g, ""));
          }
        }
      }
      visit(v);
    }
  };
  for (const body of [...mod.resources.values(), ...mod.data.values()]) visit(body);
}

/** Every string in `value` with the JSON path it sits at. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === "string") yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Json)) yield* strings(v, `${path}.${k}`);
  }
}

/** Roots that are not declarations: meta-arguments' objects and Terraform's own. */
const BUILTIN_ROOTS = new Set(["count", "each", "self", "path", "terraform"]);
/** Resource types are recognized by their provider prefix. */
const RESOURCE_TYPE =
  /^(aws|cloudflare|random|tls|null|archive|http|cloudinit|local|time)_[a-z0-9_]+$|^terraform_data$/;

type Ref = { where: string; value: string };

/** Every reference in the module, where it was found ("resource aws_instance.this .user_data"). */
async function references(mod: TfModule): Promise<Ref[]> {
  const sources: [string, unknown][] = [];
  for (const [name, body] of mod.variables) {
    // `type` is a type expression, not a value; validations may read the variable itself.
    const { type: _type, ...rest } = body;
    sources.push([`variable ${name}`, rest]);
  }
  for (const [name, value] of mod.locals) sources.push([`local ${name}`, value]);
  for (const [name, body] of mod.outputs) sources.push([`output ${name}`, body]);
  for (const [name, body] of mod.modules) sources.push([`module ${name}`, body]);
  for (const [name, body] of mod.resources) {
    // lifecycle.ignore_changes lists attribute names, not references; preconditions are checked like the rest.
    const lifecycle = ((body.lifecycle ?? []) as Json[]).map(({ ignore_changes: _ignored, ...l }) => l);
    sources.push([`resource ${name}`, { ...body, lifecycle }]);
  }
  for (const [name, body] of mod.data) sources.push([`data ${name}`, body]);
  for (const [name, bodies] of mod.providers) sources.push([`provider ${name}`, bodies]);
  const out: Ref[] = [];
  for (const [where, value] of sources) {
    for (const [path, s] of strings(value, "")) {
      if (!s.includes("${") && !s.includes("%{")) continue;
      for (const value of await referencesIn(`${mod.dir}:${where}`, s)) out.push({ where: `${where} ${path}`, value });
    }
  }
  return out;
}

/**
 * The references in one expression string. hcl2json turns a conditional inside a string template into a `%{if}`
 * directive that its own expression parser then rejects; those strings fall back to a scan for reference shapes.
 */
async function referencesIn(filename: string, expression: string): Promise<string[]> {
  try {
    return (await getReferencesInExpression(filename, expression)).map((r) => r.value);
  } catch {
    const shapes =
      /(?<![\w.])((?:var|local|module)\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?|data\.[a-z]\w*\.[A-Za-z_][\w-]*|[a-z]+_[a-z0-9_]+\.[A-Za-z_][\w-]*)/g;
    return [...expression.replace(/\\"/g, "").matchAll(shapes)]
      .map((m) => m[1]!)
      .filter((r) => /^(var|local|module|data)\./.test(r) || RESOURCE_TYPE.test(r.split(".")[0]!));
  }
}

/** Problems with the module's references (var, local, module, data, resources, module outputs). */
export async function checkReferences(mod: TfModule, loadChild: (source: string) => Promise<TfModule>) {
  const problems: string[] = [];
  for (const { where, value } of await references(mod)) {
    const parts = value.split(".");
    const [root, a, b] = parts;
    if (BUILTIN_ROOTS.has(root!) || mod.dynamicNames.has(root!)) continue;
    if (root === "var") {
      if (!mod.variables.has(a!)) problems.push(`${where}: var.${a} is not declared`);
    } else if (root === "local") {
      if (!mod.locals.has(a!)) problems.push(`${where}: local.${a} is not declared`);
    } else if (root === "module") {
      const call = mod.modules.get(a!);
      if (!call) {
        problems.push(`${where}: module.${a} is not declared`);
      } else if (b !== undefined && call.count === undefined && call.for_each === undefined) {
        const child = await loadChild(String(call.source));
        if (!child.outputs.has(b)) problems.push(`${where}: module.${a} has no output "${b}"`);
      }
    } else if (root === "data") {
      if (!mod.data.has(`${a}.${b}`)) problems.push(`${where}: data.${a}.${b} is not declared`);
    } else if (RESOURCE_TYPE.test(root!)) {
      if (!mod.resources.has(`${root}.${a}`)) problems.push(`${where}: ${root}.${a} is not declared`);
    } else {
      problems.push(`${where}: unknown reference ${value}`);
    }
  }
  return problems;
}

/** Problems with templatefile() calls: the template exists and gets every name it interpolates. */
export async function checkTemplates(mod: TfModule) {
  const problems: string[] = [];
  const call = /templatefile\("\$\{path\.module\}\/([^"]+)",\s*\{([\s\S]*)\}\)/;
  const all = [...mod.resources.entries(), ...mod.data.entries(), ...[...mod.locals.entries()].map(([k, v]) => [k, v])];
  for (const [name, body] of all) {
    for (const [path, s] of strings(body, "")) {
      const m = call.exec(s);
      if (!m) continue;
      const file = join(mod.dir, m[1]!);
      if (!existsSync(file)) {
        problems.push(`${name}${path}: template ${m[1]} does not exist`);
        continue;
      }
      const passed = new Set([...m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=[^=>]/g)].map((x) => x[1]!));
      for (const root of templateRoots(readFileSync(file, "utf8"))) {
        if (!passed.has(root)) problems.push(`${name}${path}: template ${m[1]} uses "${root}", which is not passed`);
      }
    }
  }
  return problems;
}

const TEMPLATE_FUNCTIONS_AND_KEYWORDS = new Set([
  "if",
  "else",
  "endif",
  "for",
  "endfor",
  "in",
  "true",
  "false",
  "null",
]);

/** The root names a Terraform template reads (`${a.b}`, `%{ if c }`, `%{ for x in xs }`), minus its loop variables. */
export function templateRoots(template: string): Set<string> {
  const roots = new Set<string>();
  const loopVars = new Set<string>();
  for (const m of template.matchAll(/(?<!\$)[$%]\{~?([^}]*)~?\}/g)) {
    let expr = m[1]!.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const form = /^\s*for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s+(.*)$/.exec(expr);
    if (form) {
      loopVars.add(form[1]!);
      if (form[2]) loopVars.add(form[2]);
      expr = form[3]!;
    }
    for (const id of expr.matchAll(/(?<![.\w])([A-Za-z_]\w*)(\s*\()?/g)) {
      if (id[2] || TEMPLATE_FUNCTIONS_AND_KEYWORDS.has(id[1]!)) continue;
      roots.add(id[1]!);
    }
  }
  for (const v of loopVars) roots.delete(v);
  return roots;
}

/** Problems with module calls: the source exists, arguments are the child's variables, required ones are passed. */
export async function checkModuleCalls(mod: TfModule, loadChild: (source: string) => Promise<TfModule>) {
  const problems: string[] = [];
  const META = new Set(["source", "version", "count", "for_each", "providers", "depends_on"]);
  for (const [name, call] of mod.modules) {
    const source = String(call.source);
    if (!source.startsWith("./") && !source.startsWith("../")) {
      problems.push(`module ${name}: source ${source} is not a local path`);
      continue;
    }
    const dir = resolve(mod.dir, source);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      problems.push(`module ${name}: source ${source} does not exist`);
      continue;
    }
    const child = await loadChild(source);
    const args = Object.keys(call).filter((k) => !META.has(k));
    for (const arg of args) {
      if (!child.variables.has(arg)) problems.push(`module ${name}: argument ${arg} is not a variable of ${source}`);
    }
    for (const [v, body] of child.variables) {
      if (!("default" in body) && !args.includes(v)) problems.push(`module ${name}: required variable ${v} not passed`);
    }
  }
  return problems;
}

/**
 * Variables whose values are constrained, by name: each needs a validation block. The reason is the message.
 * Names are matched on the whole variable name.
 */
export const CONSTRAINED_VARIABLES: [RegExp, string][] = [
  [/cidrs?$|cidr_block$/, "a CIDR (or list of CIDRs) must parse"],
  [/_port$/, "a TCP port is 1-65535"],
  [/instance_type$|node_type$/, "an instance type must look like family.size"],
  [/^role$/, "the node role is one of validator, fullnode"],
  [/_days$/, "a retention in days is bounded"],
  [/_arn$|_ref$/, "an ARN must parse (and name the expected service)"],
  [/_s3_uri$|_s3_prefix$/, "an S3 location must be s3://bucket/key"],
  [/^environment$/, "the environment is a short lowercase name"],
  [/^name$|_name$/, "names are used in resource names and must be short and lowercase"],
  [/^tags$/, "tags must include Project, Environment and ManagedBy"],
  [/_gib$|_iops$|_throughput$/, "volume sizes and rates have AWS bounds"],
  [/^max_peers$|_every$|_count$|_number$|_seconds$/, "counts are positive and bounded"],
  [/^region$/, "an AWS region name"],
  [/_url$/, "a URL must be https:// (or s3:// where stated)"],
  [/^compatibility_date$/, "a date YYYY-MM-DD"],
  [/_id$/, "Cloudflare and AWS ids have fixed shapes"],
  [/^hostname$|_hostname$/, "a DNS name"],
  [/_version$/, "a version string"],
];

/** How hcl2json writes the type `bool`. */
const BOOL_TYPE = ["$", "{bool}"].join("");

/**
 * Variables of `mod` handed unchanged (`x = var.name`) to a child module variable that has its own validation: the
 * child's rule applies to the value, so the rule lives once (in the child) rather than being copied into each caller.
 */
async function delegatedValidations(mod: TfModule, loadChild: (source: string) => Promise<TfModule>) {
  const delegated = new Set<string>();
  for (const call of mod.modules.values()) {
    const source = String(call.source);
    if (!source.startsWith("./") && !source.startsWith("../")) continue;
    const dir = resolve(mod.dir, source);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    const child = await loadChild(source);
    for (const [arg, value] of Object.entries(call)) {
      const m = /^\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}$/.exec(String(value));
      const childVar = child.variables.get(arg);
      if (!m || !childVar) continue;
      const validations = (childVar.validation ?? []) as Json[];
      if (validations.some((v) => String(v.condition).includes(`var.${arg}`))) delegated.add(m[1]!);
    }
  }
  return delegated;
}

export async function checkVariables(mod: TfModule, loadChild?: (source: string) => Promise<TfModule>) {
  const problems: string[] = [];
  const delegated = loadChild ? await delegatedValidations(mod, loadChild) : new Set<string>();
  for (const [name, body] of mod.variables) {
    if (typeof body.type !== "string") problems.push(`variable ${name}: no type`);
    if (typeof body.description !== "string" || body.description.trim().length < 10) {
      problems.push(`variable ${name}: no description`);
    }
    const rule = CONSTRAINED_VARIABLES.find(([re]) => re.test(name));
    const validations = (body.validation ?? []) as Json[];
    if (rule && validations.length === 0 && body.type !== BOOL_TYPE && !delegated.has(name)) {
      problems.push(`variable ${name}: needs a validation (${rule[1]})`);
    }
    for (const v of validations) {
      if (!String(v.condition).includes(`var.${name}`)) problems.push(`variable ${name}: validation does not read it`);
      if (typeof v.error_message !== "string" || v.error_message.length === 0) {
        problems.push(`variable ${name}: validation without error_message`);
      }
    }
    if (body.sensitive === true && "default" in body && body.default !== null) {
      problems.push(`variable ${name}: a sensitive variable must not have a default`);
    }
  }
  return problems;
}

export function checkOutputs(mod: TfModule, required: readonly string[]) {
  const problems: string[] = [];
  if (mod.outputs.size === 0) problems.push("no outputs");
  for (const [name, body] of mod.outputs) {
    if (typeof body.description !== "string" || body.description.length === 0) {
      problems.push(`output ${name}: no description`);
    }
  }
  for (const name of required) if (!mod.outputs.has(name)) problems.push(`missing output ${name}`);
  return problems;
}

/** AWS resource types that take no `tags` argument. */
export const UNTAGGABLE_AWS = new Set([
  "aws_autoscaling_group", // tagged with `tag` blocks, checked separately
  "aws_iam_role_policy",
  "aws_iam_role_policy_attachment",
  "aws_s3_bucket_versioning",
  "aws_s3_bucket_lifecycle_configuration",
  "aws_s3_bucket_server_side_encryption_configuration",
  "aws_s3_bucket_public_access_block",
  "aws_s3_bucket_ownership_controls",
  "aws_s3_bucket_policy",
  "aws_s3_object",
  "aws_route",
  "aws_route_table_association",
  "aws_volume_attachment",
  "aws_eip_association",
  "aws_kms_alias",
]);

const TAGS_FROM = /\blocal\.tags\b|\bvar\.tags\b/;

export function checkTags(mod: TfModule) {
  const problems: string[] = [];
  for (const [name, body] of mod.resources) {
    const type = name.split(".")[0]!;
    if (!type.startsWith("aws_")) continue;
    if (type === "aws_autoscaling_group") {
      const dyn = ((body.dynamic ?? {}) as BlockMap).tag?.[0];
      const content = (dyn?.content as Json[] | undefined)?.[0];
      if (!dyn || !TAGS_FROM.test(String(dyn.for_each)) || content?.propagate_at_launch !== true) {
        problems.push(`resource ${name}: needs dynamic "tag" over local.tags with propagate_at_launch = true`);
      }
      continue;
    }
    if (type === "aws_s3_object" && body.tags !== undefined && !TAGS_FROM.test(String(body.tags))) {
      problems.push(`resource ${name}: tags not from local.tags`);
    }
    if (UNTAGGABLE_AWS.has(type)) continue;
    if (body.tags === undefined) problems.push(`resource ${name}: no tags`);
    else if (!TAGS_FROM.test(String(body.tags))) problems.push(`resource ${name}: tags not from local.tags/var.tags`);
    if (type === "aws_launch_template") {
      const specs = (body.tag_specifications ?? []) as Json[];
      for (const kind of ["instance", "volume"]) {
        const spec = specs.find((s) => s.resource_type === kind);
        if (!spec || !TAGS_FROM.test(String(spec.tags))) problems.push(`resource ${name}: no tagged ${kind} spec`);
      }
    }
  }
  return problems;
}

/** Types that would put a secret value into state (or a plan), whatever their arguments. */
export const FORBIDDEN_RESOURCES = new Set([
  "random_password",
  "random_string",
  "tls_private_key",
  "aws_secretsmanager_secret_version",
  "aws_ssm_parameter",
  "aws_iam_access_key",
  "aws_key_pair",
]);
export const FORBIDDEN_DATA = new Set(["aws_secretsmanager_secret_version", "aws_ssm_parameter", "aws_kms_secrets"]);

export function checkSecretsInState(mod: TfModule) {
  const problems: string[] = [];
  for (const name of mod.resources.keys()) {
    if (FORBIDDEN_RESOURCES.has(name.split(".")[0]!)) problems.push(`resource ${name}: keeps a secret in state`);
  }
  for (const name of mod.data.keys()) {
    if (FORBIDDEN_DATA.has(name.split(".")[0]!)) problems.push(`data ${name}: reads a secret value into state`);
  }
  for (const [name, body] of mod.resources) {
    // Cloudflare: a secret_text binding's text is kept in state; secrets are set with `wrangler secret put`.
    for (const [path, text] of strings(body.bindings, "")) {
      if (/type\s*=\s*"secret_text"/.test(text) || (path.endsWith(".type") && text === "secret_text")) {
        problems.push(`resource ${name}: a secret_text binding would keep the secret in state`);
      }
    }
  }
  return problems;
}

/** Literal secrets: cloud keys, private keys, passwords and tokens written as strings, 32-byte hex values. */
export const SECRET_PATTERNS: [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [
    /\b(password|passwd|secret|token|api_key|auth_token|access_key|secret_key)\s*=\s*"(?!\$\{)[^"]+"/i,
    "a literal secret",
  ],
  [/(?<![0-9a-fA-F])(0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])/, "a 64-hex string (a key?)"],
  [/(secret|key)\w*\s*=\s*"[A-Za-z0-9+/]{40}"/i, "an AWS secret access key"],
];

export function findLiteralSecrets(text: string): string[] {
  const problems: string[] = [];
  for (const [n, line] of text.split("\n").entries()) {
    for (const [re, what] of SECRET_PATTERNS) if (re.test(line)) problems.push(`line ${n + 1}: ${what}`);
  }
  return problems;
}
