// The offline acceptance of terraform/ (no terraform binary on CI machines; docs/operators.md, "What was not run
// here"): every module parses, its references resolve, module calls match their children's variables, variables are
// typed, described and validated where constrained, endpoints are outputs, AWS resources carry the required tags, no
// secret reaches state or text, the environment keeps its state in an encrypted, locked S3 backend, and every file
// is laid out as `terraform fmt` would.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { parse } from "./checks/hcl.ts";
import { checkHclFormat } from "./checks/hclFormat.ts";
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
} from "./checks/moduleCheck.ts";

const ROOT = dirname(fileURLToPath(import.meta.url));
const HAS_SHELLCHECK = spawnSync("sh", ["-c", "command -v shellcheck"]).status === 0;

/**
 * A user-data template as the shell will see it, for shellcheck: directives dropped (both branches kept), every
 * `${name}` replaced by a placeholder word, `$${` and `%%{` unescaped.
 */
function renderForShellcheck(template: string): string {
  return template
    .replace(/^%\{[^}]*\}\n?/gm, "")
    .replace(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, "placeholder_$1")
    .replaceAll("$${", "${")
    .replaceAll("%%{", "%{");
}

/** The endpoints each module promises as outputs. */
const REQUIRED_OUTPUTS: Record<string, readonly string[]> = {
  bootstrap: ["state_bucket", "lock_table", "artifacts_url"],
  "modules/validator": ["p2p_endpoint", "rpc_endpoint", "metrics_endpoint", "public_ip", "private_ip"],
  "modules/snapshots": ["snapshot_url", "bucket_arn", "https_endpoint"],
  "modules/edge": ["rpc_url", "websocket_url", "ingest_url"],
  "modules/relayer": ["status_url", "metrics_endpoint", "redis_endpoint"],
  "modules/monitoring": ["prometheus_url", "grafana_url", "private_ip"],
  // Internal: the single-host pattern the three modules above share (environments never call it).
  "modules/host": ["private_ip", "security_group_id", "role_arn"],
  "environments/testnet": [
    "validator_p2p_endpoints",
    "validator_metrics_endpoints",
    "fullnode_rpc_endpoints",
    "snapshot_url",
    "edge_rpc_url",
    "edge_ingest_url",
    "relayer_status_url",
    "redis_endpoint",
    "prometheus_url",
    "grafana_url",
  ],
};

const MODULE_DIRS = Object.keys(REQUIRED_OUTPUTS);

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === ".terraform") continue;
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, pattern));
    else if (pattern.test(entry)) out.push(path);
  }
  return out.sort();
}

const cache = new Map<string, Promise<TfModule>>();
function load(dir: string): Promise<TfModule> {
  const abs = resolve(dir);
  if (!cache.has(abs)) cache.set(abs, loadModule(abs));
  return cache.get(abs)!;
}
const childLoader = (mod: TfModule) => (source: string) => load(resolve(mod.dir, source));

const modules = new Map<string, TfModule>();
beforeAll(async () => {
  for (const dir of MODULE_DIRS) modules.set(dir, await load(join(ROOT, dir)));
});

test("every directory with .tf files is a known module (so none escapes these checks)", () => {
  const dirs = new Set(filesUnder(ROOT, /\.tf$/).map((f) => relative(ROOT, dirname(f))));
  expect([...dirs].sort()).toEqual([...MODULE_DIRS].sort());
});

describe.each(MODULE_DIRS)("%s", (dir) => {
  const mod = () => modules.get(dir)!;

  test("parses, and every var/local/module/data/resource reference resolves", async () => {
    expect(mod().files.size).toBeGreaterThan(0);
    expect(await checkReferences(mod(), childLoader(mod()))).toEqual([]);
  });

  test("module calls: sources exist, arguments are declared variables, required variables are passed", async () => {
    expect(await checkModuleCalls(mod(), childLoader(mod()))).toEqual([]);
  });

  test("templatefile(): the template exists and receives every name it uses", async () => {
    expect(await checkTemplates(mod())).toEqual([]);
  });

  test("variables have a type, a description, and a validation when constrained (here or in the child they go to)", async () => {
    expect(await checkVariables(mod(), childLoader(mod()))).toEqual([]);
  });

  test("outputs are described and include the module's endpoints", () => {
    expect(checkOutputs(mod(), REQUIRED_OUTPUTS[dir]!)).toEqual([]);
  });

  test("taggable AWS resources carry local.tags / var.tags", () => {
    expect(checkTags(mod())).toEqual([]);
  });

  test("no resource or data source puts a secret value in state", () => {
    expect(checkSecretsInState(mod())).toEqual([]);
  });

  test("declares required_version and pinned providers", () => {
    const tf = mod().terraform;
    expect(tf.some((b) => typeof b.required_version === "string")).toBe(true);
    const providers = tf.flatMap((b) => (b.required_providers ?? []) as Record<string, { version?: string }>[]);
    expect(providers.length).toBeGreaterThan(0);
    for (const block of providers) for (const p of Object.values(block)) expect(p.version).toMatch(/\d/);
  });

  test("AWS modules require tags with Project, Environment and ManagedBy", () => {
    const usesAws = [...mod().resources.keys()].some((r) => r.startsWith("aws_"));
    if (!usesAws) return;
    const tags = mod().variables.get("tags") ?? mod().locals.get("tags");
    expect(tags, "a tags variable or local").toBeDefined();
    const text = JSON.stringify(tags);
    for (const key of ["Project", "Environment", "ManagedBy"]) expect(text).toContain(key);
  });
});

describe("environments/testnet", () => {
  const env = () => modules.get("environments/testnet")!;

  test("keeps state in S3, encrypted, with DynamoDB locking", () => {
    const backends = env().terraform.flatMap((b) => (b.backend ?? []) as Record<string, Record<string, unknown>[]>[]);
    const s3 = backends.flatMap((b) => b.s3 ?? [])[0];
    expect(s3, 'backend "s3"').toBeDefined();
    expect(s3!.encrypt).toBe(true);
    expect(s3!.dynamodb_table).toMatch(/\S/);
    expect(s3!.bucket).toMatch(/\S/);
    expect(s3!.key).toMatch(/testnet/);
  });

  test("composes every module", () => {
    const sources = [...env().modules.values()].map((m) => String(m.source));
    for (const m of ["validator", "snapshots", "edge", "relayer", "monitoring"]) {
      expect(sources).toContain(`../../modules/${m}`);
    }
  });

  test("its tags hold Project, Environment and ManagedBy, and every module gets them", () => {
    const tags = JSON.stringify(env().locals.get("tags"));
    for (const key of ["Project", "Environment", "ManagedBy"]) expect(tags).toContain(key);
    for (const [name, call] of env().modules) {
      if (String(call.source).endsWith("/edge")) continue; // Cloudflare: no AWS tags
      expect(String(call.tags), `module ${name}`).toMatch(/local\.tags/);
    }
  });

  test("terraform.tfvars.example sets only declared variables, and every required one", async () => {
    const file = join(ROOT, "environments/testnet/terraform.tfvars.example");
    const values = (await parse("terraform.tfvars", readFileSync(file, "utf8"))) as Record<string, unknown>;
    for (const key of Object.keys(values)) expect(env().variables.has(key), key).toBe(true);
    for (const [name, body] of env().variables) if (!("default" in body)) expect(values, name).toHaveProperty(name);
    // Validations of the form can(regex("…", var.x)) hold for the example's strings (RE2 patterns read as JS ones).
    let checked = 0;
    for (const [name, body] of env().variables) {
      const value = values[name];
      if (typeof value !== "string" || value.startsWith("replace-with")) continue;
      for (const v of (body.validation ?? []) as { condition: string }[]) {
        const m = /^\$\{can\(regex\("((?:[^"\\]|\\.)*)", var\.(\w+)\)\)\}$/.exec(v.condition);
        if (!m || m[2] !== name) continue;
        expect(value, name).toMatch(new RegExp(JSON.parse(`"${m[1]}"`)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  test("runs validators and fullnodes as separate tiers", () => {
    const calls = [...env().modules.values()].filter((m) => String(m.source).endsWith("/validator"));
    const roles = calls.map((c) => String(c.role));
    expect(roles.some((r) => r.includes('"validator"') || r === "validator")).toBe(true);
    expect(roles.some((r) => r.includes('"fullnode"') || r === "fullnode")).toBe(true);
  });
});

/** The long flags of `rustchain node`, camelCased as --config keys (validator/src/cli/configFile.ts). */
function nodeConfigKeys(): Set<string> {
  const cli = join(ROOT, "../validator/src/cli");
  const main = readFileSync(join(cli, "main.ts"), "utf8");
  const start = main.indexOf('.command("node")');
  const end = main.indexOf(".command(", start + 1);
  const text = [
    main.slice(start, end < 0 ? undefined : end),
    readFileSync(join(cli, "snapshotCommand.ts"), "utf8"),
    readFileSync(join(cli, "bridgeOptions.ts"), "utf8"),
  ].join("\n");
  const keys = new Set<string>();
  for (const m of text.matchAll(/"--(?:no-)?([a-z][a-z0-9-]*)[ "]/g)) {
    keys.add(m[1]!.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
  }
  return keys;
}

test("validator module: every /etc/rustchain/node.json key is a flag of rustchain node", () => {
  const config = String(modules.get("modules/validator")!.locals.get("node_config"));
  const keys = [...config.matchAll(/\b([a-z][A-Za-z0-9]*)\s*=(?!=)/g)].map((m) => m[1]!);
  expect(keys.length).toBeGreaterThan(10);
  const flags = nodeConfigKeys();
  expect(flags.has("p2pAddr")).toBe(true);
  expect(keys.filter((k) => !flags.has(k))).toEqual([]);
});

describe("text of every file under terraform/", () => {
  const tfFiles = filesUnder(ROOT, /\.(tf|tfvars|tfvars\.example)$/);
  const allFiles = filesUnder(ROOT, /\.(tf|tfvars|tfvars\.example|tftpl|hcl)$/);

  test.each(tfFiles.map((f) => relative(ROOT, f)))("%s is formatted as terraform fmt would", (file) => {
    expect(checkHclFormat(readFileSync(join(ROOT, file), "utf8"))).toEqual([]);
  });

  test.each(allFiles.map((f) => relative(ROOT, f)))("%s holds no literal secret", (file) => {
    expect(findLiteralSecrets(readFileSync(join(ROOT, file), "utf8"))).toEqual([]);
  });

  const templates = filesUnder(ROOT, /\.sh\.tftpl$/).map((f) => relative(ROOT, f));
  // shellcheck is a CI prerequisite (.ci/run installs it): missing, this fails rather than skips.
  test.each(templates)("%s passes shellcheck once rendered", (file) => {
    expect(HAS_SHELLCHECK, "shellcheck is not installed (apt-get install shellcheck)").toBe(true);
    const script = renderForShellcheck(readFileSync(join(ROOT, file), "utf8"));
    const r = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", "-"], { input: script, encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });
});
